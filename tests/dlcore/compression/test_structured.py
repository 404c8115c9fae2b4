"""Structured pruning really removes neurons/filters; removing all-zero ones changes nothing."""

from __future__ import annotations

import pytest
import torch

from dlcore.compression import STRUCTURED_IMPORTANCES, StructuredConfig, count_macs, prune_structured
from tests.dlcore.compression.fixtures import digits, make_cnn, make_mlp


def test_removing_all_zero_neurons_keeps_outputs_identical() -> None:
    model = make_mlp(sizes=(64, 32, 16, 10))
    dead = torch.arange(0, 32, 2)  # half of the first layer's neurons
    with torch.no_grad():
        model[1].weight[dead] = 0
        model[1].bias[dead] = 0
        model[3].weight[:, dead] = 0  # the whole coupled group is zero
    x = torch.rand(9, 64)
    before = model(x)
    res = prune_structured(model, (64,), StructuredConfig(0.5, "l1"), layers=["1"])
    assert model[1].weight.shape == (16, 64) and model[3].weight.shape == (16, 16)
    torch.testing.assert_close(model(x), before)
    assert res.params_after == res.params_before - 16 * 64 - 16 - 16 * 16


def test_removing_all_zero_filters_after_batchnorm_keeps_outputs_identical() -> None:
    model = make_cnn()
    dead = torch.tensor([1, 3, 4, 6])
    with torch.no_grad():
        model[0].weight[dead] = 0
        model[0].bias[dead] = 0
        model[1].weight[dead] = 0  # γ = β = 0: the BatchNorm output of these channels is 0
        model[1].bias[dead] = 0
        model[4].weight[:, dead] = 0
    x = torch.rand(5, 1, 8, 8)
    before = model(x)
    prune_structured(model, (1, 8, 8), StructuredConfig(0.5, "l2"), layers=["0"])
    assert model[0].weight.shape[0] == 4 and model[1].num_features == 4 and model[4].weight.shape[1] == 4
    torch.testing.assert_close(model(x), before)


@pytest.mark.parametrize("importance", STRUCTURED_IMPORTANCES)
def test_half_the_channels_go_and_macs_shrink(importance) -> None:
    model, d = make_cnn(), digits()
    res = prune_structured(model, (1, 8, 8), StructuredConfig(0.5, importance), (d.x_train[:64], d.y_train[:64]))
    assert [s.shape[0] for s in res.after] == [4, 8, 10]  # the output layer keeps its 10 classes
    # conv 1→4 (36 + 4), BN 4 (8), conv 4→8 (288 + 8), BN 8 (16), Linear 32→10 (320 + 10)
    assert (res.params_before, res.params_after) == (1946, 690)
    assert res.mac_ratio < 0.35
    assert res.macs_after == count_macs(model, (1, 8, 8))[0]
    assert model(torch.rand(2, 1, 8, 8)).shape == (2, 10)


@pytest.mark.parametrize("bad, match", [(dict(ratio=1.0), "ratio 1.0"), (dict(ratio=-1), "ratio -1"),
                                        (dict(importance="hessian"), "importance 'hessian'"),
                                        (dict(global_pruning="yes"), "global_pruning 'yes'")])
def test_bad_configs_raise(bad, match) -> None:
    with pytest.raises(ValueError, match=match):
        prune_structured(make_cnn(), (1, 8, 8), StructuredConfig(**bad))


def test_output_layer_unknown_layer_and_taylor_without_data_are_refused() -> None:
    with pytest.raises(ValueError, match="output layer"):
        prune_structured(make_mlp(), (64,), layers=["5"])
    with pytest.raises(ValueError, match="layer 'conv9'"):
        prune_structured(make_mlp(), (64,), layers=["conv9"])
    with pytest.raises(ValueError, match="needs data"):
        prune_structured(make_mlp(), (64,), StructuredConfig(0.5, "taylor"))
