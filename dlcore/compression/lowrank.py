"""Low-rank layers (notes §9.2.4): replace ``W`` by ``U V`` through a K-neuron bottleneck.

A Linear layer with ``N`` inputs and ``M`` outputs has ``N·M`` weights. Inserting a linear
layer of ``K`` neurons (no activation) in the middle costs ``N·K + K·M``, fewer whenever
``K < N·M / (N + M)``. The best rank-K approximation in the Frobenius norm is the truncated
SVD (Eckart & Young 1936)::

    W = U Σ Vᵀ  (M × N),   W_K = U_K Σ_K V_Kᵀ,   ‖W − W_K‖_F² = Σ_{i>K} σ_i²

and it is two layers: ``x → (Σ_K^{1/2} V_Kᵀ) x → U_K Σ_K^{1/2} (·) + b``. The singular value
spectrum tells how small ``K`` can go: a fast-decaying spectrum means a low-rank ``W``.
(Denton et al. 2014, https://arxiv.org/abs/1404.0736, compress trained nets this way.)

The notes' other design trick, depthwise-separable convolution, is computed by
:func:`dlcore.calculators.separable.compare_separable`; :func:`separable_savings` applies it to
every convolution of a model.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from dlcore.compression._validate import check_int
from dlcore.compression.measure import accuracy
from dlcore.compression.pruning import copy_pruned, prunable_layers
from dlcore.data import DataSplit

__all__ = ["svd_factorize", "singular_values", "low_rank_model", "LowRankPoint", "rank_sweep",
           "SeparableRow", "separable_savings", "linear_layers", "MAX_SWEEP"]

MAX_SWEEP = 64


def linear_layers(model: nn.Module) -> list[str]:
    """Names of the model's Linear layers (the ones :func:`low_rank_model` can factorize)."""
    return [n for n, m in prunable_layers(model) if isinstance(m, nn.Linear)]


def _layer(model: nn.Module, name: str) -> nn.Linear:
    layers = dict(prunable_layers(model))
    if name not in layers or not isinstance(layers[name], nn.Linear):
        raise ValueError(f"layer {name!r} is not a Linear layer of the model: {linear_layers(model)}")
    return layers[name]  # type: ignore[return-value]


def singular_values(layer: nn.Linear) -> torch.Tensor:
    """``σ_1 ≥ σ_2 ≥ … ≥ σ_r`` of the weight, ``r = min(N, M)``. Shape ``(r,)``."""
    return torch.linalg.svdvals(layer.weight.detach().float())


def svd_factorize(layer: nn.Linear, rank: int) -> nn.Sequential:
    """The rank-``K`` truncated-SVD replacement of ``layer``: ``Linear(N, K, bias=False)`` then
    ``Linear(K, M)`` with the original bias.

    Raises:
        ValueError: ``rank`` not an integer in ``[1, min(N, M)]``.
    """
    w = layer.weight.detach().float()  # (M, N)
    m_out, n_in = w.shape
    k = check_int("rank K", rank, 1, min(m_out, n_in))
    u, s, vh = torch.linalg.svd(w, full_matrices=False)  # (M, r), (r,), (r, N)
    root = s[:k].sqrt()  # split Σ_K evenly between the two factors
    first = nn.Linear(n_in, k, bias=False)
    second = nn.Linear(k, m_out, bias=layer.bias is not None)
    with torch.no_grad():
        first.weight.copy_(root[:, None] * vh[:k])  # (K, N) = Σ^{1/2} V_Kᵀ
        second.weight.copy_(u[:, :k] * root[None, :])  # (M, K) = U_K Σ^{1/2}
        if layer.bias is not None:
            second.bias.copy_(layer.bias.detach())
    return nn.Sequential(first, second)


def low_rank_model(model: nn.Module, layer_name: str, rank: int) -> nn.Module:
    """A copy of ``model`` with Linear ``layer_name`` replaced by its rank-``K`` factorization."""
    new = copy_pruned(model)
    layer = _layer(new, layer_name)
    parent_name, _, child = layer_name.rpartition(".")
    parent = new.get_submodule(parent_name) if parent_name else new
    setattr(parent, child, svd_factorize(layer, rank))
    return new.eval()


@dataclass(frozen=True)
class LowRankPoint:
    """One K of a sweep: weights ``N·K + K·M`` vs ``N·M``, the relative error
    ``‖W − W_K‖_F / ‖W‖_F``, the kept energy ``Σ_{i≤K} σ_i² / Σ σ_i²`` and the test accuracy."""

    rank: int
    params: int
    dense_params: int
    rel_error: float
    energy: float
    accuracy: float

    @property
    def ratio(self) -> float:
        return self.params / self.dense_params


def rank_sweep(model: nn.Module, split: DataSplit, layer_name: str, ranks: list[int],
               eval_examples: int = 10_000) -> list[LowRankPoint]:
    """Accuracy and weight count of ``model`` with ``layer_name`` at each rank K (no retraining).

    Raises:
        ValueError: for a bad layer name, a rank outside ``[1, min(N, M)]`` or > 64 ranks.
    """
    layer = _layer(model, layer_name)
    if not isinstance(ranks, (list, tuple)) or not 1 <= len(ranks) <= MAX_SWEEP:
        raise ValueError(f"ranks {ranks!r} must be a list of 1 to {MAX_SWEEP} integers")
    m_out, n_in = layer.weight.shape
    ks = [check_int("rank K", k, 1, min(m_out, n_in)) for k in ranks]
    s2 = singular_values(layer) ** 2  # (r,)
    xt, yt = split.x_test[:eval_examples], split.y_test[:eval_examples]
    out = []
    for k in ks:
        tail, total = float(s2[k:].sum()), float(s2.sum())
        out.append(LowRankPoint(k, n_in * k + k * m_out, n_in * m_out, (tail / total) ** 0.5, 1 - tail / total,
                                accuracy(low_rank_model(model, layer_name, k), xt, yt)))
    return out


@dataclass(frozen=True)
class SeparableRow:
    """One convolution of a model: standard vs depthwise-separable weights and MACs."""

    name: str
    c_in: int
    c_out: int
    kernel: tuple[int, int]
    standard_params: int
    separable_params: int
    standard_macs: int
    separable_macs: int


def separable_savings(model: nn.Module, example_shape: tuple[int, ...]) -> list[SeparableRow]:
    """For every Conv2d of ``model`` (groups = 1), what a depthwise-separable replacement would cost
    (weights without biases, MACs on this model's input size), via
    :func:`dlcore.calculators.separable.compare_separable`."""
    from dlcore.calculators.separable import compare_separable

    shapes: dict[str, tuple[int, ...]] = {}
    hooks = [m.register_forward_hook(lambda mod, inp, out, n=n: shapes.__setitem__(n, tuple(inp[0].shape)))
             for n, m in prunable_layers(model) if isinstance(m, nn.Conv2d)]
    with torch.no_grad():
        model.eval()(torch.zeros((1, *example_shape)))
    for h in hooks:
        h.remove()
    rows = []
    for name, conv in prunable_layers(model):
        if not isinstance(conv, nn.Conv2d) or conv.groups != 1 or name not in shapes:
            continue
        _, c, h, w = shapes[name]
        kh, kw = conv.kernel_size
        cmp = compare_separable(conv.in_channels, conv.out_channels, kh, kw, h, w, conv.stride[0], conv.padding[0])
        rows.append(SeparableRow(name, conv.in_channels, conv.out_channels, (kh, kw), cmp.standard_params,
                                 cmp.separable_params, cmp.standard_macs, cmp.separable_macs))
    return rows
