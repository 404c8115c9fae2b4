"""k-means weight sharing and binary weights: exactness, Han's centroid gradient, 1-bit packing, STE."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from dlcore.compression import (KMEANS_INITS, BinaryConfig, KMeansConfig, PackedLayer, binarize, binarize_weight,
                                kmeans_1d, model_size, share_weights)
from dlcore.compression.binary import BinarizeSTE
from dlcore.compression.sharing import SharedLayer
from tests.dlcore.compression.fixtures import digits, make_cnn, make_mlp


@pytest.mark.parametrize("k", [4, 5, 16])
def test_kmeans_with_k_at_least_the_distinct_values_reproduces_the_weights(k) -> None:
    model = make_mlp()
    levels = torch.tensor([-0.3, -0.1, 0.05, 0.2])
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Linear):
                m.weight.copy_(levels[torch.randint(0, 4, m.weight.shape, generator=g)])
    x = torch.rand(6, 64)
    shared = share_weights(model, KMeansConfig(k=k)).model
    for m in shared.modules():
        if isinstance(m, PackedLayer):
            assert m.table.numel() == 4 and m.bits == 2  # 4 distinct values -> 2-bit indices
    torch.testing.assert_close(shared(x), model(x))


@pytest.mark.parametrize("init", KMEANS_INITS)
def test_kmeans_error_falls_with_k_and_centroids_are_cluster_means(init) -> None:
    v = torch.randn(5000, generator=torch.Generator().manual_seed(1))
    errs = []
    for k in (2, 4, 16):
        c, a = kmeans_1d(v, k, init, iterations=1000)
        assert len(c) == k and torch.all(c[1:] > c[:-1])
        for j in range(k):  # Lloyd's fixed point: each centroid is its cluster's mean
            if (a == j).any():
                assert float(c[j]) == pytest.approx(float(v[a == j].mean()), abs=1e-3)
        errs.append(float((v - c[a]).pow(2).mean()))
    assert errs[0] > errs[1] > errs[2]


def test_shared_layer_centroid_gradient_is_the_sum_of_its_weights_gradients() -> None:
    layer = nn.Linear(8, 3)
    c, a = kmeans_1d(layer.weight, 4)
    shared = SharedLayer(layer, c, a)
    x = torch.rand(5, 8)
    shared(x).pow(2).sum().backward()
    w = c[a].reshape(3, 8).clone().requires_grad_(True)
    nn.functional.linear(x, w, layer.bias).pow(2).sum().backward()
    expected = torch.zeros(4).index_add_(0, a, w.grad.flatten())
    torch.testing.assert_close(shared.codebook.grad, expected)


def test_shared_file_size_is_codebook_plus_log2k_bit_indices() -> None:
    model = make_mlp()
    res = share_weights(model, KMeansConfig(k=16))
    n = sum(m.weight.numel() for m in model.modules() if isinstance(m, nn.Linear))
    assert [layer.bits for layer in res.layers] == [4, 4, 4]
    assert sum(layer.storage_bits for layer in res.layers) == n * 4 + 3 * 16 * 32
    packed = sum(m.codes.numel() for m in res.model.modules() if isinstance(m, PackedLayer))
    assert packed == sum(-(-m.weight.numel() * 4 // 8) for m in model.modules() if isinstance(m, nn.Linear))
    assert model_size(res.model).disk_bytes < model_size(model).disk_bytes


def test_conv_layers_share_weights_too() -> None:
    res = share_weights(make_cnn(), KMeansConfig(k=8))
    assert [layer.name for layer in res.layers] == ["0", "4", "9"]
    assert res.model(torch.rand(2, 1, 8, 8)).shape == (2, 10)


def test_binarize_weight_is_sign_times_mean_abs() -> None:
    w = torch.tensor([[0.5, -0.1], [0.0, -0.2]])
    torch.testing.assert_close(binarize_weight(w), torch.tensor([[0.2, -0.2], [0.2, -0.2]]))
    torch.testing.assert_close(binarize_weight(w, "none"), torch.tensor([[1.0, -1.0], [1.0, -1.0]]))


def test_straight_through_estimator_passes_the_gradient_unchanged() -> None:
    w = torch.randn(4, 3, requires_grad=True)
    out = BinarizeSTE()(w)
    torch.testing.assert_close(out, binarize_weight(w.detach()))
    g = torch.randn(4, 3)
    out.backward(g)
    torch.testing.assert_close(w.grad, g)


def test_binarized_model_has_two_values_per_layer_and_one_bit_each() -> None:
    d = digits()
    model = make_mlp(sizes=(64, 256, 256, 10))
    res = binarize(model, d, BinaryConfig(fine_tune_steps=5), eval_examples=100)
    for m in res.model.modules():
        if isinstance(m, PackedLayer):
            assert m.bits == 1 and torch.unique(m.weight).numel() <= 2
            assert m.codes.numel() == m.weight.numel() // 8
            assert float(m.weight.abs().unique()[0]) == pytest.approx(float(m.table[1]))
    assert model_size(res.model).disk_bytes < model_size(model).disk_bytes / 8  # fp32 biases + file overhead
    assert 0.0 <= res.acc_finetuned <= 1.0 and res.layers == ["1", "3", "5"]


@pytest.mark.parametrize("bad, match", [(dict(k=1), "k 1"), (dict(k=300), "k 300"), (dict(init="kmeans++"), "init"),
                                        (dict(k="16"), "k '16'")])
def test_bad_kmeans_configs_raise(bad, match) -> None:
    with pytest.raises(ValueError, match=match):
        share_weights(make_mlp(), KMeansConfig(**bad))


def test_bad_binary_configs_raise() -> None:
    with pytest.raises(ValueError, match="scaling 'l1'"):
        binarize(make_mlp(), digits(), BinaryConfig(scaling="l1"))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="fine_tune_steps -1"):
        binarize(make_mlp(), digits(), BinaryConfig(fine_tune_steps=-1))
