"""Element-wise probability losses worked out by hand: BCEWithLogitsLoss, BCELoss, KLDivLoss.

Seed notes §1.3.5-1.3.6. For every element (any shape, x and y the same shape):

* BCEWithLogitsLoss(pos_weight p): ``ℓ = -[p·y·log σ(x) + (1-y)·log(1-σ(x))]``, computed
  stably as ``(1-y)·x + (1+(p-1)·y)·softplus(-x)`` (the log-sum-exp trick), p broadcast
  along the last dimension (one weight per class).
* BCELoss: ``ℓ = -[y·log x + (1-y)·log(1-x)]`` with x in [0, 1]; torch clamps each log at
  -100 so that ``x = 0`` or ``1`` gives 100 instead of infinity.
* KLDivLoss: ``ℓ = y·(log y - x)`` (``0·log 0 = 0``), or ``e^y·(y - x)`` with ``log_target``;
  x must be log-probabilities; ``batchmean`` (÷ N) is the true KL divergence.

Docs: https://pytorch.org/docs/stable/generated/torch.nn.BCEWithLogitsLoss.html,
https://pytorch.org/docs/stable/generated/torch.nn.KLDivLoss.html
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from dlcore.calculators.losses_base import (
    LossOptions, LossResult, Step, as_rows, check_same_shape, latex_grid, latex_tensor, num, reduce_elements,
)

__all__ = ["bce_with_logits_loss", "bce_loss", "kl_div_loss", "LOG_CLAMP"]

#: torch's BCELoss clamps log(x) and log(1-x) to at least this value.
LOG_CLAMP = -100.0



def _check_unit(t: torch.Tensor, what: str, rule: str) -> None:
    bad = (t < 0) | (t > 1)
    if bool(bad.any()):
        idx = torch.nonzero(bad)[0].tolist()
        raise ValueError(f"{what} {float(t[tuple(idx)]):g} at index {idx} is outside [0, 1]; {rule}")


def _bce_cells(prob: list[list[float]], y: list[list[float]], pw: list[list[float]] | None) -> list[list[str]]:
    cells = []
    for i, (rp, ry) in enumerate(zip(prob, y)):
        row = []
        for j, (pv, yv) in enumerate(zip(rp, ry)):
            pos = f"{num(pw[i][j])} \\cdot " if pw is not None and pw[i][j] != 1 else ""
            if yv == 1:
                row.append(rf"-{pos}\ln {num(pv)}")
            elif yv == 0:
                row.append(rf"-\ln(1 - {num(pv)})")
            else:
                row.append(rf"-[{pos}{num(yv)}\ln {num(pv)} + {num(1 - yv)}\ln(1-{num(pv)})]")
        cells.append(row)
    return cells


def bce_with_logits_loss(x: torch.Tensor, y: torch.Tensor, options: LossOptions = LossOptions()) -> LossResult:
    """Binary cross entropy on logits, ``torch.nn.BCEWithLogitsLoss(pos_weight)``.

    Args:
        x: logits, any shape. y: targets in [0, 1], same shape (float; 0/1 labels or soft).
        options: reduction (mean), pos_weight (None = 1; scalar or one per class, last dim).

    Shape: ``per_element`` has the shape of x.
    """
    check_same_shape(x, y)
    y = y.to(torch.float64)
    _check_unit(y, "target", "BCE targets are labels 0/1 or probabilities")
    pw = options.pos_weight
    if pw is not None:
        pw = pw.to(torch.float64)
        c = x.shape[-1] if x.ndim else 1
        if pw.ndim == 1 and pw.shape[0] not in (1, c):
            raise ValueError(f"pos_weight has {pw.shape[0]} entries but the last dimension of the prediction "
                             f"has {c}; give one weight per class (or one number)")
        if bool((pw < 0).any()):
            raise ValueError(f"pos_weight {pw.tolist()} has a negative entry; it must be >= 0")
    sig = torch.sigmoid(x)
    cells = [[rf"\sigma({num(v)})" for v in r] for r in as_rows(x)]
    s1 = Step("Sigmoid of every logit", r"\sigma(x) = \frac{1}{1 + e^{-x}}",
              rf"\sigma(x) = {latex_grid(cells)} = {latex_tensor(sig)}", sig)
    log_s, log_1ms = -F.softplus(-x), -F.softplus(x)  # log σ(x), log(1-σ(x)), both stable
    s2 = Step("Log-probabilities, computed without overflow",
              r"\log\sigma(x) = -\log(1+e^{-x}),\quad \log(1-\sigma(x)) = -\log(1+e^{x})",
              rf"\log\sigma = {latex_tensor(log_s)},\quad \log(1-\sigma) = {latex_tensor(log_1ms)}", log_s)
    p = pw if pw is not None else torch.ones((), dtype=torch.float64)
    per = (1 - y) * x + (1 + (p - 1) * y) * F.softplus(-x)  # shape of x
    pw_rows = as_rows(torch.broadcast_to(p, x.shape)) if pw is not None else None
    s3 = Step("Per-element loss",
              r"\ell_i = -\big[p_c\, y_i \log\sigma(x_i) + (1-y_i)\log(1-\sigma(x_i))\big]",
              rf"\ell = {latex_grid(_bce_cells(as_rows(sig), as_rows(y), pw_rows))} = {latex_tensor(per)}", per)
    value, s4 = reduce_elements(per, options.reduction)
    return LossResult("BCEWithLogitsLoss", value, per, [s1, s2, s3, s4], options, {"sigmoid": sig})


def bce_loss(x: torch.Tensor, y: torch.Tensor, options: LossOptions = LossOptions()) -> LossResult:
    """Binary cross entropy on probabilities, ``torch.nn.BCELoss``.

    Args:
        x: probabilities in [0, 1] (sigmoid output), any shape. y: targets in [0, 1], same shape.

    Shape: ``per_element`` has the shape of x. Each log is clamped at -100 as in torch.
    """
    check_same_shape(x, y)
    y = y.to(torch.float64)
    _check_unit(x, "prediction", "BCELoss needs probabilities (apply sigmoid first, or use "
                "BCEWithLogitsLoss on the raw logits)")
    _check_unit(y, "target", "BCE targets are labels 0/1 or probabilities")
    log_x = torch.clamp(torch.log(x), min=LOG_CLAMP)
    log_1mx = torch.clamp(torch.log1p(-x), min=LOG_CLAMP)
    s1 = Step("Logs of the probabilities (clamped at -100 like torch)",
              r"\log x_i,\quad \log(1 - x_i)",
              rf"\log x = {latex_tensor(log_x)},\quad \log(1-x) = {latex_tensor(log_1mx)}", log_x)
    per = -(y * log_x + (1 - y) * log_1mx)  # shape of x
    s2 = Step("Per-element loss", r"\ell_i = -\big[y_i \log x_i + (1-y_i)\log(1-x_i)\big]",
              rf"\ell = {latex_grid(_bce_cells(as_rows(x), as_rows(y), None))} = {latex_tensor(per)}", per)
    value, s3 = reduce_elements(per, options.reduction)
    notes = []
    clamped = int(((log_x == LOG_CLAMP) & (y > 0)).sum() + ((log_1mx == LOG_CLAMP) & (y < 1)).sum())
    if clamped:
        notes.append(f"{clamped} log term(s) hit the -100 clamp: a probability of exactly 0 or 1 on the wrong "
                     "side. The true loss is infinite; BCEWithLogitsLoss on logits avoids this.")
    return LossResult("BCELoss", value, per, [s1, s2, s3], options, {"probability": x}, notes)


def kl_div_loss(x: torch.Tensor, y: torch.Tensor, options: LossOptions = LossOptions()) -> LossResult:
    """Kullback-Leibler divergence, ``torch.nn.KLDivLoss(reduction, log_target)``.

    Args:
        x: log-probabilities of the model (``log_softmax`` output), any shape.
        y: target probabilities (>= 0), or log-probabilities when ``options.log_target``.
        options: reduction mean | sum | none | batchmean (÷ x.shape[0], the true KL);
            log_target (False).

    Shape: ``per_element`` has the shape of x.
    """
    check_same_shape(x, y)
    y = y.to(torch.float64)
    if options.log_target:
        ty = y.exp()
        per = ty * (y - x)
        s1 = Step("Per-element term (target given as log-probabilities)",
                  r"\ell_i = e^{y_i}\,(y_i - x_i)", rf"e^{{y}} = {latex_tensor(ty)},\quad \ell = {latex_tensor(per)}", per)
    else:
        if bool((y < 0).any()):
            idx = torch.nonzero(y < 0)[0].tolist()
            raise ValueError(f"target {float(y[tuple(idx)]):g} at index {idx} is negative; KLDivLoss targets are "
                             "probabilities (>= 0), or set log_target for log-probabilities")
        ty = y
        per = torch.xlogy(y, y) - y * x  # 0 · log 0 = 0
        cells = [[(rf"{num(a)}\,(\ln {num(a)} - {num(b, paren=True)})" if a > 0 else "0") for a, b in zip(ra, rb)]
                 for ra, rb in zip(as_rows(y), as_rows(x))]
        s1 = Step("Per-element term", r"\ell_i = y_i\,(\log y_i - x_i),\quad 0 \cdot \log 0 = 0",
                  rf"\ell = {latex_grid(cells)} = {latex_tensor(per)}", per)
    batch = x.shape[0] if x.ndim else 1
    value, s2 = reduce_elements(per, options.reduction, batch=batch)
    notes = []
    if options.reduction == "mean":
        notes.append("reduction='mean' divides by every element (batch × classes); torch warns and recommends "
                     "'batchmean', which divides by the batch size and is the real KL divergence.")
    if x.ndim >= 1:
        sums = x.exp().sum(-1)
        if bool(((sums - 1).abs() > 1e-3).any()):
            notes.append(f"exp(prediction) sums to {[round(float(s), 4) for s in sums.reshape(-1)[:6]]} along "
                         "the last dimension, not 1: the prediction is not log-probabilities (use log_softmax).")
    return LossResult("KLDivLoss", value, per, [s1, s2], options, {"target_probability": ty}, notes)
