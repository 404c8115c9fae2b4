"""Helpers every attack and defence shares: input and option checks (a ``ValueError`` that names
the value and the rule), L∞/L2 projection and norms, the model's device, and :func:`frozen`, which
puts models in eval mode with frozen weights and restores their state afterwards."""

from __future__ import annotations

import contextlib
import math
import numbers
from typing import Any, Callable, Iterator, Literal

import torch
from torch import nn

from dlcore.attacks.names import NORMS

__all__ = ["Norm", "NORMS", "MAX_SAMPLES", "MAX_STEPS", "Callback", "check_number", "check_choice", "check_inputs",
           "lp_norms", "project", "model_device", "frozen"]

Norm = Literal["Linf", "L2"]
#: Most images one call may attack (a UI request can never hang the server).
MAX_SAMPLES = 10_000
#: Most steps of one attack.
MAX_STEPS = 1_000
#: ``callback(step, metrics) -> None | True | "stop"`` (``True``/``"stop"`` stops the attack).
Callback = Callable[[int, dict[str, Any]], Any]


def check_number(name: str, value: Any, lo: float | None = None, hi: float | None = None, *,
                 integer: bool = False, open_lo: bool = False) -> float:
    """``value`` as a number checked against ``[lo, hi]`` (``(lo, hi]`` with ``open_lo``).

    Raises:
        ValueError: naming the value and the rule, for a non-number (strings, booleans,
            tensors with several values), NaN/inf, a fraction where a whole number belongs, or
            a value out of range.
    """
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} {value!r} must be a number")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{name} {value} must be a finite number")
    if integer and not v.is_integer():
        raise ValueError(f"{name} {value} must be a whole number")
    lo_bad = lo is not None and (v <= lo if open_lo else v < lo)
    if lo_bad or (hi is not None and v > hi):
        left = "(" if open_lo else "["
        rng = f"{left}{'-inf' if lo is None else _fmt(lo)}, {'inf' if hi is None else _fmt(hi)}]"
        raise ValueError(f"{name} {_fmt(v)} must be in {rng}")
    return int(v) if integer else v


def _fmt(v: float) -> str:
    return str(int(v)) if float(v).is_integer() and abs(v) < 1e15 else f"{v:g}"


def check_choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    """``value`` if it is one of ``choices``, else a ``ValueError`` listing them."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} {value!r} must be one of {choices}")
    return value


def lp_norms(delta: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-sample ``(‖δ‖∞, ‖δ‖₂)`` of ``delta`` ``(N, ...)``; each ``(N,)``."""
    flat = delta.detach().flatten(1)  # (N, D)
    return flat.abs().amax(1), flat.norm(p=2, dim=1)


def project(x: torch.Tensor, x0: torch.Tensor, eps: float, norm: str = "Linf") -> torch.Tensor:
    """Project ``x`` onto ``{x' : ‖x' - x0‖ ≤ ε} ∩ [0, 1]^D`` (as torchattacks does, in this order).

    L∞: ``δ = clip(x - x0, -ε, ε)``; L2: ``δ = (x - x0) · min(1, ε / ‖x - x0‖₂)``; then
    ``clip(x0 + δ, 0, 1)``. Shape: ``(N, ...)`` -> same.
    """
    delta = x - x0  # (N, ...)
    if norm == "Linf":
        delta = torch.clamp(delta, min=-eps, max=eps)
    else:
        n = delta.flatten(1).norm(p=2, dim=1)  # (N,)
        factor = torch.min(eps / n.clamp_min(1e-12), torch.ones_like(n))
        delta = delta * factor.view(-1, *([1] * (x.dim() - 1)))
    return torch.clamp(x0 + delta, min=0, max=1)


def model_device(model: nn.Module) -> torch.device:
    """The device of the model's first parameter or buffer (CPU for a parameter-free model)."""
    for t in model.parameters():
        return t.device
    for t in model.buffers():
        return t.device
    return torch.device("cpu")


@contextlib.contextmanager
def frozen(*models: nn.Module | None) -> Iterator[None]:
    """Eval mode and ``requires_grad=False`` inside; every module's ``training`` flag and every
    parameter's ``requires_grad`` restored on exit (also on error)."""
    unique = list({id(m): m for m in models if m is not None}.values())
    # save everything first (the models may share submodules, e.g. a defence wrapping a model)
    modes = {id(mod): (mod, mod.training) for m in unique for mod in m.modules()}
    flags = {id(p): (p, p.requires_grad) for m in unique for p in m.parameters()}
    for m in unique:
        m.eval()
        m.requires_grad_(False)
    try:
        yield
    finally:
        for mod, was in modes.values():
            mod.training = was
        for p, req in flags.values():
            p.requires_grad_(req)


def check_inputs(x: Any, y: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """Images ``(N, ...)`` float in [0, 1] (1 ≤ N ≤ :data:`MAX_SAMPLES`) and integer labels ``(N,)``
    (an int is broadcast); a ``ValueError`` naming what is wrong otherwise."""
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise ValueError(f"images must be a float tensor (N, C, H, W) in [0, 1], got {type(x).__name__}"
                         + (f" of dtype {x.dtype}" if isinstance(x, torch.Tensor) else ""))
    if x.dim() < 2:
        raise ValueError(f"images must have a batch dimension (N, ...), got shape {tuple(x.shape)}")
    if not 1 <= len(x) <= MAX_SAMPLES:
        raise ValueError(f"number of images {len(x)} must be in [1, {MAX_SAMPLES}]")
    if not torch.isfinite(x).all():
        raise ValueError("images contain NaN or infinity")
    lo, hi = float(x.min()), float(x.max())
    if lo < -1e-6 or hi > 1 + 1e-6:
        raise ValueError(f"pixel values [{lo:.3g}, {hi:.3g}] must lie in [0, 1]")
    if isinstance(y, int) and not isinstance(y, bool):
        y = torch.full((len(x),), y, dtype=torch.long)
    if not isinstance(y, torch.Tensor) or y.is_floating_point() or y.dim() != 1 or len(y) != len(x):
        raise ValueError(f"labels must be an integer tensor of shape ({len(x)},), got "
                         f"{tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__}")
    return x.detach().clamp(0, 1), y.long()
