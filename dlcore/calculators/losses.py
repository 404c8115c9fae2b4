"""Loss functions worked out by hand: regression losses and the registry of every loss.

Regression losses (seed notes §1.3.1-1.3.3), with ``d_i = x_i - y_i``:

* MSELoss:      ``ℓ_i = d_i²``
* L1Loss:       ``ℓ_i = |d_i|``
* HuberLoss(δ): ``ℓ_i = ½ d_i²`` if ``|d_i| ≤ δ`` else ``δ(|d_i| - ½δ)``
* SmoothL1Loss(β): ``ℓ_i = ½ d_i² / β`` if ``|d_i| < β`` else ``|d_i| - ½β`` (β = 0: L1)

then ``reduction`` = none | mean (÷ n) | sum. Every function returns a
:class:`~dlcore.calculators.losses_base.LossResult` whose ``value`` equals
``torch.nn.<Loss>(...)`` in float64 and whose ``per_element`` equals ``reduction='none'``.
The classification losses live in :mod:`dlcore.calculators.losses_classification`;
:data:`LOSSES` and :func:`calculate` cover both.

Docs: https://pytorch.org/docs/stable/nn.html#loss-functions
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from dlcore.calculators import losses_binary as _bin
from dlcore.calculators import losses_classification as _cls
from dlcore.calculators.losses_base import (
    LossOptions, LossResult, Step, as_rows, check_same_shape, latex_grid, latex_tensor, num, reduce_elements,
)
from dlcore.calculators.losses_registry import ALL_REDUCTIONS, LOSS_INFO, LOSS_NAMES, reductions_for
from dlcore.textinput import parse_bool, parse_choice, parse_int, parse_number, parse_tensor, parse_text

__all__ = [
    "mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss",
    "LossSpec", "LOSSES", "REGRESSION", "CLASSIFICATION", "calculate", "parse_options", "torch_reference",
]



def _differences(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, Step]:
    check_same_shape(x, y)
    d = x - y  # same shape as x
    cells = [[f"{num(a)} - {num(b, paren=True)}" for a, b in zip(ra, rb)] for ra, rb in zip(as_rows(x), as_rows(y))]
    return d, Step("Differences", r"d_i = x_i - y_i",
                   rf"d = {latex_grid(cells)} = {latex_tensor(d)}", d)


def mse_loss(x: torch.Tensor, y: torch.Tensor, options: LossOptions = LossOptions()) -> LossResult:
    """Mean squared error, ``torch.nn.MSELoss``: ``ℓ_i = (x_i - y_i)²``.

    Shape: x and y any identical shape; ``per_element`` has that shape.
    """
    d, s1 = _differences(x, y)
    sq = d * d
    cells = [[f"{num(v, paren=True)}^2" for v in r] for r in as_rows(d)]
    s2 = Step("Squares", r"\ell_i = d_i^2", rf"\ell = {latex_grid(cells)} = {latex_tensor(sq)}", sq)
    value, s3 = reduce_elements(sq, options.reduction)
    return LossResult("MSELoss", value, sq, [s1, s2, s3], options, {"difference": d})


def l1_loss(x: torch.Tensor, y: torch.Tensor, options: LossOptions = LossOptions()) -> LossResult:
    """Mean absolute error, ``torch.nn.L1Loss``: ``ℓ_i = |x_i - y_i|``.

    Shape: x and y any identical shape; ``per_element`` has that shape.
    """
    d, s1 = _differences(x, y)
    a = d.abs()
    cells = [[rf"\lvert {num(v)} \rvert" for v in r] for r in as_rows(d)]
    s2 = Step("Absolute values", r"\ell_i = \lvert d_i \rvert",
              rf"\ell = {latex_grid(cells)} = {latex_tensor(a)}", a)
    value, s3 = reduce_elements(a, options.reduction)
    return LossResult("L1Loss", value, a, [s1, s2, s3], options, {"difference": d})


def _two_branch(name: str, x: torch.Tensor, y: torch.Tensor, options: LossOptions, t: float,
                symbol: str, quad: Callable[[torch.Tensor], torch.Tensor],
                lin: Callable[[torch.Tensor], torch.Tensor], quad_tex: str, lin_tex: str,
                quad_cell: Callable[[float], str], lin_cell: Callable[[float], str],
                strict: bool) -> LossResult:
    d, s1 = _differences(x, y)
    a = d.abs()
    small = a < t if strict else a <= t  # True -> quadratic branch
    per = torch.where(small, quad(d), lin(a))
    cmp = "<" if strict else r"\le"
    branch_cells = [[(r"\text{quad}" if s else r"\text{lin}") for s in r] for r in as_rows(small.to(torch.float64))]
    plain = {r"\delta": "δ", r"\beta": "β"}.get(symbol, symbol)
    s2 = Step(f"Which branch each element takes ({plain} = {num(t)})",
              rf"\lvert d_i \rvert {cmp} {symbol} \Rightarrow \text{{quadratic}},\ \text{{else linear}}",
              rf"\lvert d \rvert = {latex_tensor(a)} \Rightarrow {latex_grid(branch_cells)}",
              small.to(torch.float64))
    cells = [[(quad_cell(dv) if s else lin_cell(abs(dv))) for dv, s in zip(rd, rs)]
             for rd, rs in zip(as_rows(d), as_rows(small.to(torch.float64)))]
    s3 = Step("Per-element loss",
              rf"\ell_i = \begin{{cases}} {quad_tex} & \lvert d_i\rvert {cmp} {symbol} \\ {lin_tex} & \text{{otherwise}}"
              r"\end{cases}",
              rf"\ell = {latex_grid(cells)} = {latex_tensor(per)}", per)
    value, s4 = reduce_elements(per, options.reduction)
    n_quad = int(small.sum())
    notes = [f"{n_quad} of {small.numel()} elements use the quadratic branch, "
             f"{small.numel() - n_quad} the linear (outlier-robust) one."]
    return LossResult(name, value, per, [s1, s2, s3, s4], options,
                      {"difference": d, "quadratic_branch": small}, notes)


def huber_loss(x: torch.Tensor, y: torch.Tensor, options: LossOptions = LossOptions()) -> LossResult:
    """Huber loss, ``torch.nn.HuberLoss(delta)``; Huber 1964, https://doi.org/10.1214/aoms/1177703732.

    ``ℓ_i = ½ d_i²`` if ``|d_i| ≤ δ`` else ``δ (|d_i| - ½ δ)``; δ > 0 (default 1.0).
    Shape: x and y any identical shape.
    """
    dl = float(options.delta)
    if not dl > 0:
        raise ValueError(f"HuberLoss delta {dl:g} must be > 0")
    return _two_branch(
        "HuberLoss", x, y, options, dl, r"\delta",
        quad=lambda d: 0.5 * d * d, lin=lambda a: dl * (a - 0.5 * dl),
        quad_tex=r"\tfrac12 d_i^2", lin_tex=r"\delta\,(\lvert d_i\rvert - \tfrac12\delta)",
        quad_cell=lambda v: rf"\tfrac12 \cdot {num(v, paren=True)}^2",
        lin_cell=lambda a: rf"{num(dl)}\,({num(a)} - \tfrac12 \cdot {num(dl)})", strict=False)


def smooth_l1_loss(x: torch.Tensor, y: torch.Tensor, options: LossOptions = LossOptions()) -> LossResult:
    """Smooth L1 loss, ``torch.nn.SmoothL1Loss(beta)``; Girshick 2015 (Fast R-CNN), https://arxiv.org/abs/1504.08083.

    ``ℓ_i = ½ d_i² / β`` if ``|d_i| < β`` else ``|d_i| - ½ β``; β ≥ 0 (default 1.0; β = 0 is L1).
    Equals HuberLoss(δ=β) / β. Shape: x and y any identical shape.
    """
    b = float(options.beta)
    if not b >= 0:
        raise ValueError(f"SmoothL1Loss beta {b:g} must be >= 0")
    return _two_branch(
        "SmoothL1Loss", x, y, options, b, r"\beta",
        quad=lambda d: 0.5 * d * d / b, lin=lambda a: a - 0.5 * b,
        quad_tex=r"\tfrac{d_i^2}{2\beta}", lin_tex=r"\lvert d_i\rvert - \tfrac12\beta",
        quad_cell=lambda v: rf"\tfrac{{{num(v, paren=True)}^2}}{{2 \cdot {num(b)}}}",
        lin_cell=lambda a: rf"{num(a)} - \tfrac12 \cdot {num(b)}", strict=True)


# ---------------------------------------------------------------- registry
@dataclass(frozen=True)
class LossSpec:
    """A loss in the registry: the function, its options, what its inputs mean."""

    name: str
    fn: Callable[[torch.Tensor, torch.Tensor, LossOptions], LossResult]
    kind: str                     # "regression" | "classification"
    options: tuple[str, ...]      # LossOptions fields this loss reads (besides reduction)
    input_meaning: str
    target_meaning: str
    target_is_index: bool = False  # target may be class indices (parsed as integers)


_FNS: dict[str, Callable[[torch.Tensor, torch.Tensor, LossOptions], LossResult]] = {
    "MSELoss": mse_loss, "L1Loss": l1_loss, "HuberLoss": huber_loss, "SmoothL1Loss": smooth_l1_loss,
    "CrossEntropyLoss": _cls.cross_entropy_loss, "NLLLoss": _cls.nll_loss,
    "BCEWithLogitsLoss": _bin.bce_with_logits_loss, "BCELoss": _bin.bce_loss, "KLDivLoss": _bin.kl_div_loss,
}
#: name -> spec; names, kinds and meanings are :data:`~dlcore.calculators.losses_registry.LOSS_INFO` (torch-free).
LOSSES: dict[str, LossSpec] = {
    n: LossSpec(n, _FNS[n], i.kind, i.options, i.input_meaning, i.target_meaning, i.target_is_index)
    for n, i in LOSS_INFO.items()}
REGRESSION = [n for n, s in LOSSES.items() if s.kind == "regression"]
CLASSIFICATION = [n for n, s in LOSSES.items() if s.kind == "classification"]


def parse_options(loss: str, *, reduction: str = "mean", delta: float | str = 1.0, beta: float | str = 1.0,
                  weight: str | None = "", ignore_index: int | str = -100, label_smoothing: float | str = 0.0,
                  pos_weight: str | None = "", log_target: bool = False) -> LossOptions:
    """Check typed option values (text or numbers, any type from the web) and build :class:`LossOptions`.

    Raises:
        ValueError: naming the option and the rule (unknown loss or reduction, a weight that is
            not a list of numbers >= 0, a whole-number field given 2.5, ...).
    """
    parse_choice(loss, "loss", LOSS_NAMES)
    parse_choice(reduction, "reduction", ALL_REDUCTIONS)
    if reduction not in reductions_for(loss):
        raise ValueError(f"reduction {reduction!r} is not allowed for {loss}; choose one of "
                         f"{', '.join(reductions_for(loss))}")
    weight = parse_text(weight, "weight", allow_empty=True)
    pos_weight = parse_text(pos_weight, "pos_weight", allow_empty=True)
    w = parse_tensor(weight, "weight", ndim=1) if weight.strip() else None
    pw = parse_tensor(pos_weight, "pos_weight", ndim=(0, 1)) if pos_weight.strip() else None
    if w is not None and bool((w < 0).any()):
        raise ValueError(f"weight {w.tolist()} has a negative entry; class weights must be >= 0")
    return LossOptions(
        reduction=reduction,  # type: ignore[arg-type]
        delta=parse_number(delta, "delta", lo=1e-12, hi=1e6),
        beta=parse_number(beta, "beta", lo=0.0, hi=1e6),
        weight=w, pos_weight=pw,
        ignore_index=parse_int(ignore_index, "ignore_index", lo=-10**9, hi=10**9),
        label_smoothing=parse_number(label_smoothing, "label_smoothing", lo=0.0, hi=1.0),
        log_target=parse_bool(log_target, "log_target"))


def calculate(loss: str, prediction: str | torch.Tensor, target: str | torch.Tensor,
              options: LossOptions | None = None) -> LossResult:
    """Parse ``prediction``/``target`` (text or tensors) and compute ``loss`` step by step, in float64.

    Raises:
        ValueError: unknown loss, unparsable/ragged/oversize/non-finite tensors, shape
            mismatch, class index out of range, probabilities outside [0, 1], ... — each
            message names the value and the rule.
    """
    parse_choice(loss, "loss", LOSS_NAMES)
    spec = LOSSES[loss]
    options = options or LossOptions()
    x = parse_tensor(prediction, "prediction") if not isinstance(prediction, torch.Tensor) \
        else prediction.detach().to(torch.float64)
    y = parse_tensor(target, "target") if not isinstance(target, torch.Tensor) \
        else target.detach().to(torch.float64) if target.is_floating_point() else target.detach()
    if options.reduction == "batchmean" and loss != "KLDivLoss":
        raise ValueError(f"reduction 'batchmean' exists only for KLDivLoss, not for {loss}; use mean")
    return spec.fn(x, y, options)


def torch_reference(loss: str, x: torch.Tensor, y: torch.Tensor, options: LossOptions) -> tuple[torch.Tensor, str]:
    """Run the real ``torch.nn.<loss>`` in float64 with the same options; return (value, call text)."""
    kwargs: dict[str, object] = {"reduction": options.reduction}
    spec = LOSSES[loss]
    for k in spec.options:
        v = getattr(options, k)
        if v is None or (k == "ignore_index" and v == -100) or (k == "label_smoothing" and v == 0.0):
            continue
        kwargs[k] = v.to(torch.float64) if isinstance(v, torch.Tensor) else v
    x = x.to(torch.float64)
    if spec.target_is_index and y.shape != x.shape:
        y = y.to(torch.int64)  # class indices must be Long
    else:
        y = y.to(torch.float64)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # KLDivLoss 'mean' warns; the tab explains it instead
        value = getattr(torch.nn, loss)(**kwargs)(x, y)
    shown = ", ".join(f"{k}={(v.tolist() if isinstance(v, torch.Tensor) else repr(v))}" for k, v in kwargs.items())
    return value.detach(), f"torch.nn.{loss}({shown})(x, y)"
