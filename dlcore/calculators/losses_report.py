"""What each panel of the Loss calculator shows, computed here (the tab only formats it).

* :func:`loss_report`: a loss worked out step by step, its check against the real
  ``torch.nn`` module in float64 (:class:`TorchCheck`, tolerance :data:`MATCH_TOL`) and its
  guessing baseline (seed notes §1.3, §3.1).
* :func:`chance_report`: cross entropy of the learner's logits next to a uniform guess
  (ln C), with each row's true-class probability and logit margin (§3.1).
* :func:`ln_c_rows`: ln C for a readable selection of class counts (binary, digits, CIFAR-100,
  ImageNet, the BERT and GPT-2 vocabularies) plus any C the learner asks for.
* :func:`curve_summary`: each regression loss and its gradient at the largest error shown.
* :func:`bce_stability_rows`: BCE on sigmoid(z) vs BCEWithLogits(z) at a few logits, float32.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Iterable

import torch

from dlcore.calculators import losses_curves as curves
from dlcore.calculators.losses import calculate, torch_reference
from dlcore.calculators.losses_base import LossOptions, LossResult
from dlcore.textinput import format_tensor, parse_int, parse_literal, parse_tensor, parse_text

__all__ = ["MATCH_TOL", "TorchCheck", "check_against_torch", "LossReport", "loss_report", "ChanceRow",
           "ChanceReport", "chance_report", "LnCRow", "LN_C_EXAMPLES", "ln_c_rows", "CurveRow", "curve_summary",
           "StabilityRow", "bce_stability_rows", "MAX_ROWS", "parse_class_counts", "value_text", "CURVES_NOTE",
           "STABILITY_NOTE"]

#: Largest |ours − torch| (float64) that counts as the same loss.
MATCH_TOL = 1e-6
#: Rows of a per-sample table shown before "… n more".
MAX_ROWS = 20


@dataclass(frozen=True)
class TorchCheck:
    """The same loss from ``torch.nn`` in float64, and whether ours matches it."""

    value: torch.Tensor
    call: str             # e.g. "torch.nn.MSELoss(reduction='mean')(x, y)"
    max_diff: float       # largest absolute difference (NaN-safe)
    tol: float = MATCH_TOL

    @property
    def matches(self) -> bool:
        return self.max_diff <= self.tol


def check_against_torch(result: LossResult, x: torch.Tensor, y: torch.Tensor,
                        tol: float = MATCH_TOL) -> TorchCheck:
    """Run the real ``torch.nn.<loss>`` on ``x``, ``y`` with ``result.options`` and compare."""
    ref, call = torch_reference(result.name, x, y, result.options)
    diff = float((ref - result.value).abs().nan_to_num(0.0).max()) if ref.numel() else 0.0
    return TorchCheck(ref, call, diff, tol)


@dataclass(frozen=True)
class LossReport:
    """A loss worked out, checked against torch, next to its guessing baseline."""

    result: LossResult
    check: TorchCheck
    chance: curves.ChanceResult | None
    chance_error: str = ""     # why there is no baseline (e.g. every target ignored)


def loss_report(loss: str, prediction: str | torch.Tensor, target: str | torch.Tensor,
                options: LossOptions | None = None) -> LossReport:
    """:func:`~dlcore.calculators.losses.calculate` + :func:`check_against_torch` + the baseline of
    :func:`~dlcore.calculators.losses_curves.chance_level`.

    Raises:
        ValueError: as :func:`~dlcore.calculators.losses.calculate` (the message names the value).
    """
    options = options or LossOptions()
    res = calculate(loss, prediction, target, options)
    x = prediction.to(torch.float64) if isinstance(prediction, torch.Tensor) else parse_tensor(prediction, "prediction")
    y = target if isinstance(target, torch.Tensor) else parse_tensor(target, "target")
    check = check_against_torch(res, x, y)
    try:
        ch, err = curves.chance_level(loss, x, y, options), ""
    except ValueError as exc:  # e.g. every target ignored
        ch, err = None, str(exc)
    return LossReport(res, check, ch, err)


@dataclass(frozen=True)
class ChanceRow:
    """One sample: its true class, p(true class), logit margin m and cross entropy."""

    row: int
    true_class: int
    p_true: float
    margin: float
    ce: float


@dataclass
class ChanceReport:
    """The learner's cross entropy against a uniform guess over C classes.

    ``uniform_margin`` = −ln(C − 1) is the margin of the uniform guess. ``rows`` is empty for
    probability targets (the per-row statistics need class indices); at most :data:`MAX_ROWS`.
    """

    ce: float
    num_classes: int
    ln_c: float
    uniform_margin: float
    verdict: str
    rows: list[ChanceRow] = field(default_factory=list)
    n_rows: int = 0
    p_true: torch.Tensor | None = None   # (N,) for the figure
    margins: torch.Tensor | None = None  # (N,)


def chance_report(logits: str | torch.Tensor, target: str | torch.Tensor) -> ChanceReport:
    """Cross entropy of ``logits`` (N, C) or (C,) with ``target`` (class indices or probabilities),
    the uniform-guess level ln C, and each row's p(true class) and margin (§3.1)."""
    x = logits.to(torch.float64) if isinstance(logits, torch.Tensor) else parse_tensor(logits, "logits", ndim=(1, 2))
    y = target if isinstance(target, torch.Tensor) else parse_tensor(target, "target")
    res = calculate("CrossEntropyLoss", x, y)  # validates shapes and class indices
    x2 = res.intermediates["logits"]  # (N, C)
    c = int(x2.shape[1])
    ch = curves.chance_level("CrossEntropyLoss", x, y)
    rep = ChanceReport(res.item(), c, math.log(c), -math.log(c - 1) if c > 1 else 0.0, ch.verdict)
    if y.shape != x.shape:  # class indices
        yi = y.reshape(-1).to(torch.int64)
        p, m = curves.true_class_stats(x2, yi)  # (N,), (N,)
        ce = res.per_element.reshape(-1)
        rep.rows = [ChanceRow(i + 1, int(yi[i]), float(p[i]), float(m[i]), float(ce[i]))
                    for i in range(min(len(yi), MAX_ROWS))]
        rep.n_rows, rep.p_true, rep.margins = len(yi), p, m
    return rep


@dataclass(frozen=True)
class LnCRow:
    """ln C of a uniform guess over C classes, and where such a C occurs."""

    c: int
    ln_c: float
    example: str


#: A readable selection of class counts with where they occur.
LN_C_EXAMPLES: dict[int, str] = {
    2: "binary (BCE: ln 2 per label)", 3: "the notes' §3.1 example", 4: "the notes' §1.3.4 example",
    5: "seed §dl_2_3",
    10: "digits, Fashion-MNIST, CIFAR-10", 100: "CIFAR-100", 1000: "ImageNet",
    30522: "BERT's vocabulary (masked-LM head)", 49152: "SmolLM2's vocabulary", 50257: "GPT-2's vocabulary",
}


def ln_c_rows(extra: Iterable[int] = (), extra_label: str = "yours") -> list[LnCRow]:
    """:data:`LN_C_EXAMPLES` plus the class counts in ``extra`` (2 ≤ C ≤ 10⁶), sorted by C."""
    rows = dict(LN_C_EXAMPLES)
    for c in extra:
        c = parse_int(c, "number of classes C", lo=2, hi=1_000_000)
        rows[c] = f"{extra_label}" + (f"; {rows[c]}" if rows.get(c) else "")
    return [LnCRow(c, math.log(c), rows[c]) for c in sorted(rows)]


@dataclass(frozen=True)
class CurveRow:
    """A regression loss and its gradient ∂ℓ/∂x at one error."""

    name: str
    loss: float
    grad: float


def curve_summary(errors: torch.Tensor, delta: float, beta: float) -> tuple[dict, list[CurveRow]]:
    """The curves of :func:`~dlcore.calculators.losses_curves.regression_curves` and, per loss,
    its value and gradient at the last (largest) error."""
    cur = curves.regression_curves(errors, delta, beta)
    return cur, [CurveRow(name, float(lo[-1]), float(g[-1])) for name, (lo, g) in cur.items()]


@dataclass(frozen=True)
class StabilityRow:
    """BCE at one logit z in float32: on sigmoid(z), with logits, and exactly (float64)."""

    z: float
    sigmoid: float
    bce_on_sigmoid: float
    bce_with_logits: float
    exact: float


PROBE_LOGITS = (-100.0, -20.0, -5.0, 0.0, 5.0, 20.0, 100.0)


def bce_stability_rows(target: float, logits: Iterable[float] = PROBE_LOGITS) -> list[StabilityRow]:
    """:func:`~dlcore.calculators.losses_curves.bce_stability` at a few logits, as rows."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sp = curves.bce_stability(torch.tensor(list(logits)), target)
    return [StabilityRow(*map(float, r)) for r in zip(sp["logit"], sp["sigmoid"], sp["bce_on_sigmoid"],
                                                      sp["bce_with_logits"], sp["exact"])]




def parse_class_counts(text: object, name: str = "more class counts C", limit: int = 20) -> list[int]:
    """Class counts typed as ``7, 21843`` (or ``[7, 21843]``); empty text = none.

    Raises:
        ValueError: naming ``name``: not text, more than ``limit`` numbers, or a C outside 2..10⁶.
    """
    text = parse_text(text, name, max_chars=200, allow_empty=True)
    if not text.strip():
        return []
    v = parse_literal(text, name)
    items = list(v) if isinstance(v, (list, tuple)) else [v]
    if len(items) > limit:
        raise ValueError(f"{name}: {len(items)} numbers; the limit is {limit}")
    return [parse_int(c, name, lo=2, hi=1_000_000) for c in items]


def value_text(v: torch.Tensor) -> str:
    """A loss value as the tab prints it: a scalar with up to 6 decimals, else a nested list."""
    return f"{float(v):.6f}".rstrip("0").rstrip(".") if v.ndim == 0 else format_tensor(v, 4)


CURVES_NOTE = ("MSE's gradient grows with the error, so one outlier dominates the update; L1, Huber and SmoothL1 "
               "cap the gradient (at 1 for L1/SmoothL1, at δ for Huber): robust to outliers.")
STABILITY_NOTE = ("In float32 sigmoid(z) rounds to exactly 1 for z ≳ 17, so log(1 - σ) = log 0 = -∞; BCELoss clamps "
                  "the log at -100 and reports 100 whatever z is. BCEWithLogitsLoss uses (1-y)·z + log(1 + e^{-z}) "
                  "computed with the log-sum-exp trick and stays exact.")
