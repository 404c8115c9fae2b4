"""Model builders: shapes over the registry, the seed's nets, residuals, bad input."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from dlcore import models
from dlcore.models import MLPConfig, build_mlp, build_model, count_parameters

CASES = {
    "mlp": [((10,), 5), ((2,), 1), ((1, 8, 8), 10)],
    "lenet_300_100": [((1, 28, 28), 10), ((1, 8, 8), 10)],
    "lenet5": [((1, 28, 28), 10), ((3, 32, 32), 4)],
    "small_cnn": [((1, 28, 28), 10), ((1, 8, 8), 10)],
}


def test_every_registered_model_has_cases() -> None:
    assert set(CASES) == set(models.MODELS)


@pytest.mark.parametrize("name", sorted(models.MODELS))
def test_forward_shapes_and_backward(name: str) -> None:
    torch.manual_seed(0)
    for shape, out in CASES[name]:
        model = build_model(name, shape, out)
        x = torch.rand(3, *shape)
        y = model(x)
        assert y.shape == (3, out) and y.dtype == torch.float32
        y.sum().backward()
        assert all(p.grad is not None for p in model.parameters() if p.requires_grad)


def test_classic_parameter_counts() -> None:
    assert count_parameters(models.LeNet300100()) == 266_610  # 784*300+300+300*100+100+100*10+10
    assert count_parameters(models.LeNet5()) == 61_706  # the 1998 paper's LeNet-5 with 10 classes


def _seed_sequential_2_3() -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(10, 128), nn.ReLU(), nn.BatchNorm1d(128), nn.Dropout(0.2),
        nn.Linear(128, 64), nn.ReLU(), nn.BatchNorm1d(64), nn.Dropout(0.2),
        nn.Linear(64, 32), nn.ReLU(), nn.BatchNorm1d(32), nn.Dropout(0.2),
        nn.Linear(32, 5))


def test_seed_mlp_matches_the_seeds_sequential() -> None:
    torch.manual_seed(0)
    ref = _seed_sequential_2_3()
    ours = models.seed_mlp(5)
    # map the seed's flat indices onto our blocks: (linear, bn) per block, then the head
    mapping = {0: "blocks.0.linear", 2: "blocks.0.bn", 4: "blocks.1.linear", 6: "blocks.1.bn",
               8: "blocks.2.linear", 10: "blocks.2.bn", 12: "head"}
    state = {}
    for k, v in ref.state_dict().items():
        idx, rest = k.split(".", 1)
        state[f"{mapping[int(idx)]}.{rest}"] = v
    ours.load_state_dict(state)
    x = torch.randn(16, 10)
    ref.eval(), ours.eval()
    torch.testing.assert_close(ours(x), ref(x))
    assert isinstance(models.seed_mlp(2).out_act, nn.Sigmoid)


def test_dropout_train_outputs_match_with_same_rng() -> None:
    torch.manual_seed(1)
    ref = _seed_sequential_2_3()
    ours = models.seed_mlp(5)
    sd = ref.state_dict()
    names = ["blocks.0.linear", "", "blocks.0.bn", "", "blocks.1.linear", "", "blocks.1.bn", "",
             "blocks.2.linear", "", "blocks.2.bn", "", "head"]
    ours.load_state_dict({f"{names[int(k.split('.')[0])]}.{k.split('.', 1)[1]}": v
                          for k, v in sd.items()})
    x = torch.randn(8, 10)
    with torch.random.fork_rng():
        torch.manual_seed(5)
        a = ref.train()(x)
    with torch.random.fork_rng():
        torch.manual_seed(5)
        b = ours.train()(x)
    torch.testing.assert_close(a, b)


def test_residual_block_adds_its_input() -> None:
    torch.manual_seed(0)
    block = models.MLPBlock(4, 4, "tanh", residual=True)
    x = torch.randn(5, 4)
    torch.testing.assert_close(block(x), x + torch.tanh(block.linear(x)))
    net = build_mlp(in_features=3, out_features=2, depth=4, width=8, residual=True)
    assert [b.residual for b in net.blocks] == [False, True, True, True]


def test_residual_keeps_gradient_alive_in_deep_sigmoid_net() -> None:
    """Seed 000 §2.2.1/§2.2.3: a 20-layer sigmoid net starves its first layer; residuals fix it."""
    x = torch.randn(64, 2, generator=torch.Generator().manual_seed(0))
    norms = {}
    for residual in (False, True):
        torch.manual_seed(0)
        net = build_mlp(in_features=2, out_features=1, depth=20, width=16,
                        activation="sigmoid", residual=residual)
        net(x).pow(2).mean().backward()
        norms[residual] = float(net.blocks[0].linear.weight.grad.norm())
    assert norms[True] > 100 * norms[False]


def test_forward_with_activations_and_linear_layers() -> None:
    net = build_mlp(in_features=2, out_features=3, hidden=(5, 6))
    out, acts = net.forward_with_activations(torch.randn(4, 2))
    assert out.shape == (4, 3) and [a.shape[1] for a in acts] == [5, 6]
    assert [n for n, _ in net.linear_layers()] == ["blocks.0.linear", "blocks.1.linear", "head"]


@pytest.mark.parametrize("kwargs, match", [
    (dict(width=0), "width 0"),
    (dict(depth=-1), "depth -1"),
    (dict(depth=1000), "depth 1000"),
    (dict(dropout=1.0), r"dropout 1.0 must be in \[0, 1\)"),
    (dict(activation="swish!"), "activation 'swish!'"),
    (dict(in_features=0), "in_features 0"),
    (dict(bogus=1), "unknown MLP option"),
])
def test_mlp_bad_input(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        build_mlp(**kwargs)


def test_other_bad_input() -> None:
    with pytest.raises(ValueError, match="residual block needs equal widths"):
        models.MLPBlock(3, 4, residual=True)
    with pytest.raises(ValueError, match="image_size 10 must be a positive multiple of 4"):
        build_model("small_cnn", (1, 10, 10), 10)
    with pytest.raises(ValueError, match="image_size 8 is too small for LeNet-5"):
        build_model("lenet5", (1, 8, 8), 10)
    with pytest.raises(ValueError, match="needs square images"):
        build_model("small_cnn", (10,), 10)
    with pytest.raises(ValueError, match="model 'resnet' is not one of"):
        build_model("resnet", (10,), 2)
    with pytest.raises(ValueError, match="bad option for model 'lenet5'"):
        build_model("lenet5", (1, 28, 28), 10, depth=3)
    with pytest.raises(ValueError, match="std 0.0 must be positive"):
        models.Standardize(0.5, 0.0)


def test_standardize_is_inside_the_state_dict() -> None:
    m = models.SmallCNN(mean=0.286, std=0.353)
    sd = m.state_dict()
    assert float(sd["scale.mean"]) == pytest.approx(0.286)
    m2 = models.SmallCNN()
    m2.load_state_dict(sd)
    assert float(m2.scale.std) == pytest.approx(0.353)


def test_mlp_config_widths() -> None:
    assert MLPConfig(depth=3, width=7).widths() == (7, 7, 7)
    assert MLPConfig(hidden=(4, 2), depth=9).widths() == (4, 2)
