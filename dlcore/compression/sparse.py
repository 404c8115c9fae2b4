"""The honest latency of unstructured pruning (notes §9.2.1: zeros "cannot really speed up").

A 90 %-zero weight matrix stored densely costs exactly what the full one costs: the GEMM
multiplies the zeros too. Three ways to run the same pruned LeNet, measured side by side:

* ``"dense"``: the unpruned model (the reference);
* ``"masked"``: ``torch.nn.utils.prune``'s hook recomputes ``weight_orig ⊙ weight_mask`` before
  every forward (a little *slower*);
* ``"baked"``: ``prune.remove`` → a dense tensor with zeros (same speed as dense);
* ``"csr"``: the weights as ``torch.sparse_csr`` matrices and ``torch.sparse.mm``: skips the zeros,
  but irregular memory access makes it no faster here at 90 % (dense BLAS is very good at
  small dense matrices; sparse kernels pay off at ≥ 95–99 % sparsity or on special hardware).
"""

from __future__ import annotations

import warnings

import torch
from torch import nn

from dlcore.compression.measure import Latency, measure_latency
from dlcore.compression.packing import replace_layers
from dlcore.compression.pruning import copy_pruned, finalize

__all__ = ["CSRLinear", "to_csr", "unstructured_latency", "SPARSE_RUNS"]

#: The ways :func:`unstructured_latency` runs a pruned model.
SPARSE_RUNS: tuple[str, ...] = ("dense", "masked", "baked", "csr")


class CSRLinear(nn.Module):
    """``y = x Wᵀ + b`` with ``W`` stored as a CSR sparse matrix (only the nonzeros)."""

    def __init__(self, layer: nn.Linear) -> None:
        super().__init__()
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
            self.weight_csr = layer.weight.detach().to_sparse_csr()  # (M, N), nnz values
        self.bias = None if layer.bias is None else layer.bias.detach().clone()
        self.out_features = layer.out_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.sparse.mm(self.weight_csr, x.reshape(-1, x.shape[-1]).T).T  # (B, M)
        return y + self.bias if self.bias is not None else y


def to_csr(model: nn.Module) -> nn.Module:
    """A copy of a (pruned) model whose Linear layers are :class:`CSRLinear`; Conv2d unchanged."""
    m = finalize(copy_pruned(model))
    return replace_layers(m, lambda _, layer: CSRLinear(layer) if isinstance(layer, nn.Linear) else None).eval()


def unstructured_latency(dense: nn.Module, pruned: nn.Module, example_shape: tuple[int, ...],
                         batch_sizes: tuple[int, ...] = (1, 1024), repeats: int = 15,
                         threads: int = 1) -> dict[str, dict[int, Latency]]:
    """Latency of the dense model and of the pruned one run three ways (see module doc),
    measured interleaved. Returns ``{run: {batch: Latency}}`` with runs :data:`SPARSE_RUNS`."""
    masked = copy_pruned(pruned).eval()
    baked = finalize(copy_pruned(pruned)).eval()
    models = {"dense": dense.eval(), "masked": masked, "baked": baked, "csr": to_csr(pruned)}
    return measure_latency(models, example_shape, batch_sizes, repeats, threads)
