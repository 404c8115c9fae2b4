"""Unstructured pruning: exact sparsity, torch's own L1 mask as oracle, copy/save of pruned models,
true sizes, the honest latency runs, and input validation."""

from __future__ import annotations

import copy
import io

import pytest
import torch
from torch import nn
from torch.nn.utils import prune

from dlcore.compression import (CRITERIA, SCOPES, PruneConfig, copy_pruned, finalize, importance_scores, is_pruned,
                                model_size, prunable_layers, prune_unstructured, pruned_state_dict, serialized_bytes,
                                sparse_state_dict, sparsity_report, to_csr)
from tests.dlcore.compression.fixtures import digits, make_cnn, make_mlp


@pytest.mark.parametrize("criterion", CRITERIA)
@pytest.mark.parametrize("scope", SCOPES)
@pytest.mark.parametrize("amount", [0.0, 0.3, 0.75, 0.9])
def test_sparsity_equals_the_amount_asked_for(criterion, scope, amount) -> None:
    model, d = make_mlp(), digits()
    rep = prune_unstructured(model, PruneConfig(amount, criterion, scope), (d.x_train[:256], d.y_train[:256]))
    total = sum(layer.total for layer in rep.layers)
    if scope == "global":
        assert sum(layer.zeros for layer in rep.layers) == round(amount * total)
    else:
        assert [layer.zeros for layer in rep.layers] == [round(amount * layer.total) for layer in rep.layers]
    assert rep.sparsity == pytest.approx(amount, abs=0.01)
    # the model's effective weights agree with the report
    assert [layer.zeros for layer in sparsity_report(model)] == [layer.zeros for layer in rep.layers]


def test_layerwise_magnitude_mask_matches_torch_l1_unstructured() -> None:
    ours, ref = make_mlp(), make_mlp()
    prune_unstructured(ours, PruneConfig(0.6, "magnitude", "layer"))
    for (_, a), (_, b) in zip(prunable_layers(ours), prunable_layers(ref)):
        prune.l1_unstructured(b, "weight", amount=0.6)
        torch.testing.assert_close(a.weight_mask, b.weight_mask)


def test_global_magnitude_prunes_the_smallest_weights_of_all_layers() -> None:
    model = make_mlp()
    ws = torch.cat([m.weight.detach().abs().flatten() for _, m in prunable_layers(model)])
    threshold = ws.sort().values[round(0.8 * len(ws)) - 1]
    prune_unstructured(model, PruneConfig(0.8, "magnitude", "global"))
    for _, m in prunable_layers(model):
        kept = m.weight_orig.detach().abs()[m.weight_mask.bool()]
        assert kept.min() >= threshold


def test_taylor_scores_are_weight_times_mean_gradient() -> None:
    model, d = make_mlp(), digits()
    x, y = d.x_train[:256], d.y_train[:256]
    scores = importance_scores(model, "taylor", (x, y), batches=2, batch_size=128)
    loss = sum(nn.functional.cross_entropy(model(x[i:i + 128]), y[i:i + 128]) for i in (0, 128)) / 2
    grads = torch.autograd.grad(loss, [m.weight for _, m in prunable_layers(model)])
    for (name, m), g in zip(prunable_layers(model), grads):
        torch.testing.assert_close(scores[name], (m.weight.detach() * g).abs())


def test_pruned_weights_never_come_back_and_the_mask_is_reused() -> None:
    model = make_mlp()
    prune_unstructured(model, PruneConfig(0.5))
    first = {n: m.weight_mask.clone() for n, m in prunable_layers(model)}
    rep = prune_unstructured(model, PruneConfig(0.2))  # lower amount: nothing revived
    assert rep.sparsity == pytest.approx(0.5, abs=1e-3)
    prune_unstructured(model, PruneConfig(0.8))
    for n, m in prunable_layers(model):
        assert not (m.weight_mask.bool() & ~first[n].bool()).any()
        assert sum(isinstance(h, prune.BasePruningMethod) for h in m._forward_pre_hooks.values()) == 1


def test_a_pruned_model_deep_copies_saves_and_loads() -> None:
    model = make_mlp()
    prune_unstructured(model, PruneConfig(0.7))
    model.train()
    model(torch.rand(4, 64)).sum().backward()  # a training forward makes `weight` a non-leaf
    with pytest.raises(RuntimeError, match="graph leaves"):
        copy.deepcopy(model)  # torch's limitation, handled by copy_pruned
    twin = copy_pruned(model).eval()
    x = torch.rand(5, 64)
    torch.testing.assert_close(twin(x), model.eval()(x))
    assert is_pruned(twin)
    buf = io.BytesIO()
    torch.save(model.state_dict(), buf)
    assert serialized_bytes(model) > 1.8 * serialized_bytes(make_mlp())  # weight_orig + weight_mask
    plain = make_mlp(seed=1)
    plain.load_state_dict(pruned_state_dict(model))  # loads into an unpruned model
    torch.testing.assert_close(plain(x), model(x))
    buf.seek(0)
    again = copy_pruned(make_mlp(seed=2))
    prune_unstructured(again, PruneConfig(0.1))
    again.load_state_dict(torch.load(buf, weights_only=True))
    torch.testing.assert_close(again(x), model(x))
    finalize(twin)
    assert not is_pruned(twin) and not any(k.endswith(("_orig", "_mask")) for k in twin.state_dict())
    torch.testing.assert_close(twin(x), model(x))


def test_true_sizes_count_nonzeros_and_a_sparse_encoding() -> None:
    model = make_mlp()
    dense = model_size(model)
    assert dense.params == sum(p.numel() for p in model.parameters()) and dense.nonzero == dense.params
    assert dense.dense_bytes == 4 * dense.params
    prune_unstructured(model, PruneConfig(0.9))
    s = model_size(model)
    weights = sum(m.weight.numel() for _, m in prunable_layers(model))
    biases = s.params - weights
    assert s.nonzero == weights - round(0.9 * weights) + biases
    assert s.sparse_bytes < dense.sparse_bytes / 3  # CSR shrinks with the zeros
    assert model_size(finalize(copy_pruned(model))).disk_bytes < s.disk_bytes  # masks gone
    sd = sparse_state_dict(model)
    assert sd["1.weight.col"].dtype == torch.int16 and sd["1.weight.crow"].dtype == torch.int32


def test_csr_model_computes_the_same_function() -> None:
    model = make_mlp()
    prune_unstructured(model, PruneConfig(0.9))
    x = torch.rand(7, 64)
    torch.testing.assert_close(to_csr(model)(x), model(x), atol=1e-5, rtol=1e-5)


def test_conv_layers_are_pruned_too() -> None:
    model = make_cnn()
    rep = prune_unstructured(model, PruneConfig(0.5, scope="layer"))
    assert [layer.name for layer in rep.layers] == ["0", "4", "9"]
    assert all(layer.sparsity == pytest.approx(0.5, abs=0.01) for layer in rep.layers)


@pytest.mark.parametrize("bad, match", [
    (dict(amount=1.0), "amount 1.0 must be in"), (dict(amount=-0.1), "amount -0.1"),
    (dict(amount="0.5"), "amount '0.5' must be a number"), (dict(amount=float("nan")), "amount nan"),
    (dict(criterion="hessian"), "criterion 'hessian' is not one of"), (dict(scope="net"), "scope 'net'"),
    (dict(taylor_batches=0), "taylor_batches 0"),
])
def test_bad_configs_raise_value_errors_naming_the_value(bad, match) -> None:
    with pytest.raises(ValueError, match=match):
        prune_unstructured(make_mlp(), PruneConfig(**bad))


def test_taylor_without_data_and_unknown_layers_are_refused() -> None:
    with pytest.raises(ValueError, match="needs data"):
        prune_unstructured(make_mlp(), PruneConfig(0.5, "taylor"))
    with pytest.raises(ValueError, match="layer 'fc9'"):
        prune_unstructured(make_mlp(), PruneConfig(0.5), layers=["fc9"])
