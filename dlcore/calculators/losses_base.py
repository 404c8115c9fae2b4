"""Shared pieces of the loss calculators: options, results, reductions and LaTeX formatting.

Every loss in :mod:`dlcore.calculators.losses` and
:mod:`dlcore.calculators.losses_classification` returns a :class:`LossResult`: the value
(equal to ``torch.nn.<Loss>(reduction=...)`` in float64), the unreduced per-element
matrix (equal to ``reduction='none'``) and the list of :class:`Step` a learner would
write out by hand, each with its formula and the user's numbers substituted.

Reference: https://pytorch.org/docs/stable/nn.html#loss-functions
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

import torch

__all__ = [
    "Reduction",
    "REDUCTIONS",
    "LossOptions",
    "Step",
    "LossResult",
    "num",
    "latex_tensor",
    "latex_grid",
    "as_rows",
    "sum_terms",
    "reduce_elements",
    "check_same_shape",
]

from dlcore.calculators.losses_registry import REDUCTIONS, Reduction  # noqa: E402 - the torch-free registry

MAX_SHOWN = 8  # rows/columns shown in a LaTeX matrix before eliding with dots
MAX_TERMS = 12  # terms shown in a substituted sum before "+ ... (k more)"


@dataclass(frozen=True)
class LossOptions:
    """Options of the loss modules; each loss reads only the ones it has.

    Attributes:
        reduction: ``none`` | ``mean`` | ``sum`` (``batchmean`` for KLDivLoss). Default ``mean``.
        delta: HuberLoss threshold δ > 0 (default 1.0, PyTorch's).
        beta: SmoothL1Loss threshold β ≥ 0 (default 1.0, PyTorch's).
        weight: CrossEntropyLoss / NLLLoss class weights, shape (C,) (default None = all 1).
        ignore_index: CrossEntropyLoss / NLLLoss target value that is skipped (default -100).
        label_smoothing: CrossEntropyLoss ε in [0, 1] (default 0.0; Szegedy et al. 2016,
            https://arxiv.org/abs/1512.00567).
        pos_weight: BCEWithLogitsLoss weight of positive examples per class, broadcast along
            the last dimension (default None = all 1).
        log_target: KLDivLoss: the target is given as log-probabilities (default False).
    """

    reduction: Reduction = "mean"
    delta: float = 1.0
    beta: float = 1.0
    weight: torch.Tensor | None = None
    ignore_index: int = -100
    label_smoothing: float = 0.0
    pos_weight: torch.Tensor | None = None
    log_target: bool = False


@dataclass
class Step:
    """One line of the worked computation.

    Attributes:
        title: what this step does ("Differences", "Softmax per row", ...).
        formula: the general formula in LaTeX.
        detail: the formula with the user's numbers substituted (LaTeX), or plain text.
        value: the tensor this step produces (None for purely explanatory steps).
    """

    title: str
    formula: str = ""
    detail: str = ""
    value: torch.Tensor | None = None


@dataclass
class LossResult:
    """What a loss calculator returns.

    Attributes:
        name: the torch module name, e.g. ``"MSELoss"``.
        value: the reduced loss (scalar) or, for ``reduction='none'``, the per-element tensor.
        per_element: the unreduced loss, equal to ``reduction='none'``.
        steps: the worked computation.
        options: the options used.
        intermediates: named tensors for plots (``softmax``, ``branch``, ...).
        notes: remarks (e.g. "2 targets ignored").
    """

    name: str
    value: torch.Tensor
    per_element: torch.Tensor
    steps: list[Step]
    options: LossOptions
    intermediates: dict[str, torch.Tensor] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def item(self) -> float:
        """The reduced loss as a float (the mean when ``reduction='none'``)."""
        v = self.value
        return float(v) if v.ndim == 0 else float(v.mean())


# ---------------------------------------------------------------- formatting helpers
def num(x: float, decimals: int = 4, paren: bool = False) -> str:
    """Format a number for a substituted formula (``-0.1`` -> ``(-0.1)`` when ``paren``)."""
    x = float(x)
    if math.isnan(x):
        return r"\text{nan}"
    if math.isinf(x):
        return r"\infty" if x > 0 else r"-\infty"
    r = round(x, decimals)
    if r == 0 and x != 0:
        s = f"{x:.{decimals}g}".replace("e", r"\text{e}")
    else:
        s = f"{r:.{decimals}f}"
        if "." in s:  # trailing zeros of the decimals only: num(10000, 0) is "10000", not "1"
            s = s.rstrip("0").rstrip(".")
        if s in ("-0", ""):
            s = "0"
    return f"({s})" if paren and s.startswith("-") else s


def as_rows(t: torch.Tensor) -> list[list[float]]:
    """Any tensor -> rows for display: scalar (1, 1), 1-D one row, k-D (prod(leading), last)."""
    t = t.detach().to(torch.float64).cpu()
    if t.ndim == 0:
        return [[float(t)]]
    if t.ndim == 1:
        return [t.tolist()]
    return t.reshape(-1, t.shape[-1]).tolist()


def latex_grid(cells: Sequence[Sequence[str]]) -> str:
    """A LaTeX ``bmatrix`` of already formatted cells, elided with dots past ``MAX_SHOWN``."""
    rows = list(cells)
    if len(rows) == 1 and len(rows[0]) == 1:
        return rows[0][0]
    cut_r = len(rows) > MAX_SHOWN
    shown = rows[: MAX_SHOWN - 1] + [rows[-1]] if cut_r else rows
    lines = []
    for i, r in enumerate(shown):
        r = list(r)
        if len(r) > MAX_SHOWN:
            r = r[: MAX_SHOWN - 1] + [r"\cdots", r[-1]]
        lines.append(" & ".join(r))
        if cut_r and i == MAX_SHOWN - 2:
            lines.append(" & ".join([r"\vdots"] * len(r)))
    return r"\begin{bmatrix}" + r" \\ ".join(lines) + r"\end{bmatrix}"


def latex_tensor(t: torch.Tensor, decimals: int = 4) -> str:
    """A tensor as a LaTeX matrix (1-D as a row, k-D flattened to rows of the last dim)."""
    return latex_grid([[num(v, decimals) for v in row] for row in as_rows(t)])


def sum_terms(t: torch.Tensor, decimals: int = 4) -> str:
    """``a + b + c`` for the elements of ``t`` (elided past ``MAX_TERMS``)."""
    vals = t.detach().reshape(-1).tolist()
    parts = [num(v, decimals, paren=True) for v in vals[:MAX_TERMS]]
    s = " + ".join(parts)
    if len(vals) > MAX_TERMS:
        s += rf" + \cdots\ (\text{{{len(vals) - MAX_TERMS} more}})"
    return s


def check_same_shape(x: torch.Tensor, y: torch.Tensor, what: str = "target") -> None:
    """Raise ``ValueError`` unless ``x`` and ``y`` have the same shape (no silent broadcasting)."""
    if x.shape != y.shape:
        raise ValueError(
            f"{what} has shape {tuple(y.shape)} but prediction has shape {tuple(x.shape)}; "
            "this loss needs both to have the same shape (PyTorch would broadcast or fail)")


def reduce_elements(loss: torch.Tensor, reduction: str, *, denominator: torch.Tensor | None = None,
                    denominator_text: str = "n", batch: int | None = None) -> tuple[torch.Tensor, Step]:
    """Apply ``reduction`` to the per-element ``loss`` and describe it as a :class:`Step`.

    Args:
        loss: per-element loss (any shape).
        reduction: ``none`` | ``mean`` | ``sum`` | ``batchmean``.
        denominator: what ``mean`` divides by (default: the number of elements).
        denominator_text: how the formula names that denominator.
        batch: batch size for ``batchmean``.
    """
    total = loss.sum()
    terms = sum_terms(loss)
    if reduction == "none":
        return loss, Step("No reduction", r"\ell = (\ell_1, \ldots, \ell_n)",
                          r"\ell = " + latex_tensor(loss), loss)
    if reduction == "sum":
        return total, Step("Sum", r"L = \sum_i \ell_i",
                           rf"L = {terms} = {num(total, 6)}", total)
    if reduction == "batchmean":
        b = batch if batch is not None else (loss.shape[0] if loss.ndim else 1)
        v = total / b
        return v, Step("Batch mean", r"L = \frac{1}{N}\sum_i \ell_i",
                       rf"L = \frac{{{terms}}}{{{b}}} = \frac{{{num(total, 6)}}}{{{b}}} = {num(v, 6)}", v)
    if reduction != "mean":
        raise ValueError(f"reduction {reduction!r} is not one of none, mean, sum")
    den = torch.tensor(float(loss.numel()), dtype=loss.dtype) if denominator is None else denominator
    v = total / den
    return v, Step("Mean", rf"L = \frac{{1}}{{{denominator_text}}}\sum_i \ell_i",
                   rf"L = \frac{{{terms}}}{{{num(den, 6)}}} = \frac{{{num(total, 6)}}}{{{num(den, 6)}}}"
                   rf" = {num(v, 6)}", v)
