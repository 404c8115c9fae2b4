"""Random directions in weight space, normalised as Li et al. (2018) do for loss-landscape plots.

A plot of ``L(θ* + a·d₁ + b·d₂)`` depends on the *scale* of ``d``: a network with ReLUs and
BatchNorm computes the same function when a filter's weights are multiplied by 10, so a raw
Gaussian direction makes small-weight layers look sharp and large-weight layers look flat.
**Filter normalisation** (Li et al. 2018, "Visualizing the Loss Landscape of Neural Nets",
https://arxiv.org/abs/1712.09913, §4) rescales every filter of the direction to the norm of the
matching filter of the weights::

    d_{i,j} ← d_{i,j} / ‖d_{i,j}‖ · ‖θ_{i,j}‖        (layer i, filter j)

where a "filter" is one output unit: a ``(C_in, k, k)`` kernel of a convolution, one row of a
linear layer. Biases and BatchNorm parameters (1-D tensors) get a zero direction (the paper's
``biasbn`` default); buffers (BatchNorm running statistics) are never moved.
"""

from __future__ import annotations

import torch
from torch import nn

from dlcore.optim_viz.names import IGNORES, NORMS, IgnoreName, NormName

__all__ = ["random_direction", "normalize_direction", "filter_norms", "model_params"]


def model_params(model: nn.Module) -> dict[str, torch.Tensor]:
    """The model's parameters as a name -> detached tensor dict (the base point θ*)."""
    return {n: p.detach() for n, p in model.named_parameters()}


def filter_norms(t: torch.Tensor) -> torch.Tensor:
    """‖t_j‖ of every filter (slice along dim 0). Shape: ``(out,)``; a 1-D tensor is one filter."""
    if t.dim() <= 1:
        return t.norm().reshape(1)
    return t.reshape(t.shape[0], -1).norm(dim=1)  # (out,)


def normalize_direction(d: torch.Tensor, w: torch.Tensor, norm: NormName = "filter") -> torch.Tensor:
    """Rescale one tensor of a direction ``d`` to the scale of the weights ``w`` (same shape).

    Args:
        norm: ``"filter"`` (each slice along dim 0 gets the norm of ``w``'s slice; Li et al.'s
            choice), ``"layer"`` (the whole tensor gets ``‖w‖``) or ``"none"`` (unchanged).

    Raises:
        ValueError: an unknown norm or mismatched shapes.
    """
    if norm not in NORMS:
        raise ValueError(f"direction normalisation {norm!r} is not one of {NORMS}")
    if d.shape != w.shape:
        raise ValueError(f"direction shape {tuple(d.shape)} differs from the weights' {tuple(w.shape)}")
    if norm == "none":
        return d.clone()
    if norm == "layer" or d.dim() <= 1:
        return d * (w.norm() / (d.norm() + 1e-10))
    scale = filter_norms(w) / (filter_norms(d) + 1e-10)  # (out,)
    return d * scale.reshape(-1, *([1] * (d.dim() - 1)))  # each filter rescaled


def random_direction(params: dict[str, torch.Tensor], seed: int = 0, norm: NormName = "filter",
                     ignore: IgnoreName = "biasbn") -> dict[str, torch.Tensor]:
    """A Gaussian direction with the shapes of ``params``, normalised (Li et al. 2018).

    One draw per parameter, in ``params`` order, from ``torch.Generator().manual_seed(seed)`` (the
    same seed gives the same direction whatever ``norm``/``ignore`` say).

    Args:
        params: name -> weight tensor (:func:`model_params`).
        seed: the direction's seed. Default 0.
        norm: see :func:`normalize_direction`. Default ``"filter"`` (the paper's).
        ignore: ``"biasbn"`` gives 1-D tensors (biases, BatchNorm γ/β) a zero direction (the
            paper's default); ``"none"`` normalises them as one filter. Default ``"biasbn"``.

    Returns:
        name -> direction tensor, same shapes and dtypes as ``params``.

    Raises:
        ValueError: an unknown ``norm`` or ``ignore``, or a seed that is not a whole number.
    """
    if ignore not in IGNORES:
        raise ValueError(f"ignore {ignore!r} is not one of {IGNORES}")
    if norm not in NORMS:
        raise ValueError(f"direction normalisation {norm!r} is not one of {NORMS}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"direction seed {seed!r} must be a whole number")
    gen = torch.Generator().manual_seed(seed)
    out: dict[str, torch.Tensor] = {}
    for name, w in params.items():
        d = torch.randn(w.shape, generator=gen, dtype=torch.float64).to(w.dtype)  # 1. Gaussian draw
        if w.dim() <= 1 and ignore == "biasbn":
            out[name] = torch.zeros_like(w)                                      # 2. biases/BN stay put
        else:
            out[name] = normalize_direction(d, w, norm)                          # 3. filter-normalise
    return out
