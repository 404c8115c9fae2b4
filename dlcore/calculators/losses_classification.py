"""Multi-class losses worked out by hand: CrossEntropyLoss and NLLLoss (seed notes §1.3.4, §3.1).

With logits ``x`` of shape (N, C), softmax ``p_{n,c} = e^{x_{n,c}} / Σ_{c'} e^{x_{n,c'}}``:

* class-index target ``y_n``: ``ℓ_n = -w_{y_n} log p_{n,y_n} · 1{y_n ≠ ignore_index}``;
  with label smoothing ε: ``ℓ_n = (1-ε)·that + (ε/C)·(-Σ_c w_c log p_{n,c})``;
  ``mean`` divides by ``Σ_n w_{y_n}`` over the rows that are not ignored.
* class-probability target ``q_{n,c}`` (same shape as x): ``q ← (1-ε) q + ε/C``,
  ``ℓ_n = -Σ_c w_c q_{n,c} log p_{n,c}``; ``mean`` divides by N.
* NLLLoss takes log-probabilities directly: ``ℓ_n = -w_{y_n} x_{n,y_n}``.

Unbatched input of shape (C,) with a scalar target (or a (C,) probability target) is
allowed, as in torch. Docs: https://pytorch.org/docs/stable/generated/torch.nn.CrossEntropyLoss.html
"""

from __future__ import annotations

import torch

from dlcore.calculators.losses_base import (
    LossOptions, LossResult, Step, latex_grid, latex_tensor, num, reduce_elements, sum_terms,
)

__all__ = ["cross_entropy_loss", "nll_loss", "split_target", "check_indices"]

MAX_ROWS_SUBSTITUTED = 4  # rows whose softmax is written out in full


def split_target(x: torch.Tensor, y: torch.Tensor, loss: str) -> tuple[torch.Tensor, torch.Tensor, bool, bool]:
    """Bring x to (N, C) and decide, from the shapes, whether y holds indices or probabilities.

    Returns:
        ``(x2d, y2d, is_index, unbatched)``: x2d (N, C); y2d (N,) indices or (N, C) probabilities.
    """
    if x.ndim not in (1, 2):
        raise ValueError(f"{loss} prediction must have shape (C,) or (N, C), got {tuple(x.shape)}")
    unbatched = x.ndim == 1
    x2 = x.unsqueeze(0) if unbatched else x  # (N, C)
    n, c = x2.shape
    idx_shape = () if unbatched else (n,)
    if tuple(y.shape) == idx_shape:
        return x2, y.reshape(n), True, unbatched
    if y.shape == x.shape:
        if loss == "NLLLoss":
            raise ValueError(f"NLLLoss target has shape {tuple(y.shape)}; it needs class indices of shape "
                             f"{idx_shape}, not one-hot rows (use argmax, or CrossEntropyLoss with probabilities)")
        return x2, y.reshape(n, c), False, unbatched
    raise ValueError(
        f"{loss} target has shape {tuple(y.shape)} but prediction has shape {tuple(x.shape)}; the target "
        f"must be class indices of shape {idx_shape} or class probabilities of shape {tuple(x.shape)}")


def check_indices(y: torch.Tensor, c: int, ignore_index: int) -> torch.Tensor:
    """Check class indices are whole numbers in [0, C) (or ``ignore_index``); return them as int64."""
    if y.is_floating_point():
        frac = y != torch.round(y)
        if bool(frac.any()):
            i = int(torch.nonzero(frac)[0][0])
            raise ValueError(f"class index {float(y[i]):g} in target[{i}] is not a whole number; "
                             "class indices are 0, 1, ..., C-1")
    yl = y.to(torch.int64)
    bad = ((yl < 0) | (yl >= c)) & (yl != ignore_index)
    if bool(bad.any()):
        i = int(torch.nonzero(bad)[0][0])
        raise ValueError(f"class index {int(yl[i])} in target[{i}] is out of range for C = {c} classes "
                         f"(allowed 0..{c - 1}, or ignore_index {ignore_index})")
    return yl


def _weights(options: LossOptions, c: int) -> torch.Tensor | None:
    w = options.weight
    if w is None:
        return None
    if tuple(w.shape) != (c,):
        raise ValueError(f"weight has shape {tuple(w.shape)} but there are C = {c} classes; give one weight per class")
    return w.to(torch.float64)


def _softmax_steps(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, list[Step]]:
    lse = torch.logsumexp(x, dim=1)  # (N,)
    # log-softmax written out (the same numbers as torch.log_softmax; on a busy 2-core CPU it also
    # avoids log_softmax's occasional multi-millisecond thread-pool wake-up on tiny inputs)
    logp = x - lse[:, None]  # (N, C)
    p = logp.exp()  # (N, C)
    lines = []
    for n, row in enumerate(x[:MAX_ROWS_SUBSTITUTED].tolist()):
        den = " + ".join(f"e^{{{num(v)}}}" for v in row[:6]) + (r" + \cdots" if len(row) > 6 else "")
        lines.append(rf"p_{{{n + 1},1}} = \frac{{e^{{{num(row[0])}}}}}{{{den}}} = {num(p[n, 0])}")
    more = rf"\quad(\text{{{x.shape[0] - MAX_ROWS_SUBSTITUTED} more rows}})" if x.shape[0] > MAX_ROWS_SUBSTITUTED else ""
    s1 = Step("Softmax per row", r"p_{n,c} = \frac{e^{x_{n,c}}}{\sum_{c'} e^{x_{n,c'}}}",
              r" \\ ".join(lines) + more + rf" \\ p = {latex_tensor(p)}", p)
    s2 = Step("Log-softmax per row (computed stably as x - logsumexp x)",
              r"\log p_{n,c} = x_{n,c} - \log\sum_{c'} e^{x_{n,c'}}",
              rf"\log\sum_{{c'}} e^{{x_{{n,c'}}}} = {latex_tensor(lse)} \\ \log p = {latex_tensor(logp)}", logp)
    return logp, p, [s1, s2]


def _index_loss(name: str, logp: torch.Tensor, y: torch.Tensor, options: LossOptions,
                w: torch.Tensor | None, steps: list[Step]) -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    """Per-row loss and mean denominator for class-index targets (shared by CE and NLL)."""
    n, c = logp.shape
    ii = options.ignore_index
    keep = y != ii  # (N,)
    safe = torch.where(keep, y, torch.zeros_like(y))  # (N,) valid gather indices
    picked = logp.gather(1, safe[:, None])[:, 0]  # (N,) log p_{n, y_n}
    wy = w[safe] if w is not None else torch.ones(n, dtype=torch.float64)  # (N,)
    wy = torch.where(keep, wy, torch.zeros_like(wy))
    nll = -wy * picked  # (N,)
    sym = r"\log p" if name == "CrossEntropyLoss" else "x"
    cells = []
    for i in range(n):
        if not bool(keep[i]):
            cells.append([rf"0\ (y_{{{i + 1}}} = {ii}\ \text{{ignored}})"])
            continue
        wtxt = f"{num(wy[i])} \\cdot " if w is not None else ""
        val = num(picked[i].exp()) if name == "CrossEntropyLoss" else ""
        arg = rf"\ln {val}" if val else num(picked[i], paren=True)
        cells.append([rf"-{wtxt}{arg} = {num(nll[i])}"])
    steps.append(Step("Pick the true class's log-probability",
                      rf"\ell_n = -w_{{y_n}}\, {sym}_{{n,y_n}} \cdot 1\{{y_n \ne \text{{ignore\_index}}\}}",
                      rf"y = {latex_tensor(y)},\quad \ell = {latex_grid(cells)}", nll))
    per, notes = nll, []
    eps = float(options.label_smoothing)
    if eps > 0:
        wc = w if w is not None else torch.ones(c, dtype=torch.float64)
        smooth = -(logp * wc).sum(1)  # (N,)
        smooth = torch.where(keep, smooth, torch.zeros_like(smooth))
        per = (1 - eps) * nll + (eps / c) * smooth
        steps.append(Step(f"Label smoothing ε = {num(eps)}",
                          r"\ell_n = (1-\varepsilon)\,\ell_n^{\text{nll}} + \frac{\varepsilon}{C}"
                          r"\Big(-\sum_c w_c \log p_{n,c}\Big)",
                          rf"-\sum_c w_c \log p_{{n,c}} = {latex_tensor(smooth)} \\ \ell = {num(1 - eps)}"
                          rf"\cdot {latex_tensor(nll)} + \frac{{{num(eps)}}}{{{c}}}\cdot {latex_tensor(smooth)}"
                          rf" = {latex_tensor(per)}", per))
    n_ign = int((~keep).sum())
    if n_ign:
        notes.append(f"{n_ign} of {n} targets equal ignore_index {ii}: their loss is 0 and they are "
                     "left out of the mean's denominator.")
    den = wy.sum()
    if options.reduction == "mean" and float(den) == 0:
        notes.append("Every target is ignored (or has weight 0): the mean is 0/0 = nan, as in torch.")
    return per, den, notes


def cross_entropy_loss(x: torch.Tensor, y: torch.Tensor, options: LossOptions = LossOptions()) -> LossResult:
    """Cross entropy on logits, ``torch.nn.CrossEntropyLoss(weight, ignore_index, label_smoothing)``.

    Args:
        x: logits, shape (N, C) or (C,).
        y: class indices (N,) / scalar, or class probabilities with the shape of x.
        options: reduction (mean), weight (None), ignore_index (-100), label_smoothing (0.0).

    Shape: ``per_element`` is (N,) (a scalar for unbatched input).
    """
    x2, y2, is_index, unbatched = split_target(x, y, "CrossEntropyLoss")
    n, c = x2.shape
    eps = float(options.label_smoothing)
    if not 0.0 <= eps <= 1.0:
        raise ValueError(f"label_smoothing {eps:g} must be in [0, 1]")
    w = _weights(options, c)
    logp, p, steps = _softmax_steps(x2)
    notes: list[str] = []
    if is_index:
        yl = check_indices(y2, c, options.ignore_index)
        per, den, notes = _index_loss("CrossEntropyLoss", logp, yl, options, w, steps)
        den_text = r"\sum_n w_{y_n}" if w is not None or bool((yl == options.ignore_index).any()) else "N"
    else:
        q = y2.to(torch.float64)
        if bool((q < 0).any()) or bool((q > 1).any()):
            raise ValueError(f"probability target {latex_free(q)} has entries outside [0, 1]; class "
                             "probabilities must be in [0, 1] (or give class indices)")
        if eps > 0:
            q = (1 - eps) * q + eps / c
            steps.append(Step(f"Label smoothing ε = {num(eps)} on the target",
                              r"q_{n,c} \leftarrow (1-\varepsilon)\,q_{n,c} + \varepsilon / C",
                              rf"q = {latex_tensor(q)}", q))
        wc = w if w is not None else torch.ones(c, dtype=torch.float64)
        per = -(logp * q * wc).sum(1)  # (N,)
        rows = [[rf"-({sum_terms(q[i] * wc * logp[i])}) = {num(per[i])}"] for i in range(min(n, 8))]
        steps.append(Step("Cross entropy with the target distribution",
                          r"\ell_n = -\sum_c w_c\, q_{n,c} \log p_{n,c}", rf"\ell = {latex_grid(rows)}", per))
        den = torch.tensor(float(n), dtype=torch.float64)
        den_text = "N"
        if bool((y2.sum(1) - 1).abs().max() > 1e-6):
            notes.append("A target row does not sum to 1, so it is not a probability distribution; "
                         "torch still computes the formula.")
    per_out = per[0] if unbatched else per
    value, red = reduce_elements(per_out, options.reduction, denominator=den, denominator_text=den_text)
    steps.append(red)
    return LossResult("CrossEntropyLoss", value, per_out, steps, options,
                      {"logits": x2, "softmax": p, "log_softmax": logp}, notes)


def nll_loss(x: torch.Tensor, y: torch.Tensor, options: LossOptions = LossOptions()) -> LossResult:
    """Negative log-likelihood, ``torch.nn.NLLLoss(weight, ignore_index)``: ``ℓ_n = -w_{y_n} x_{n,y_n}``.

    Args:
        x: log-probabilities (e.g. ``log_softmax`` output), shape (N, C) or (C,).
        y: class indices, shape (N,) or scalar.

    Shape: ``per_element`` is (N,) (a scalar for unbatched input).
    CrossEntropyLoss(x, y) == NLLLoss(log_softmax(x), y).
    """
    x2, y2, _, unbatched = split_target(x, y, "NLLLoss")
    n, c = x2.shape
    w = _weights(options, c)
    yl = check_indices(y2, c, options.ignore_index)
    steps = [Step("Input: log-probabilities", r"x_{n,c} = \log p_{n,c}\ (\text{from log\_softmax})",
                  rf"x = {latex_tensor(x2)}", x2)]
    per, den, notes = _index_loss("NLLLoss", x2, yl, options, w, steps)
    sums = x2.exp().sum(1)
    if bool(((sums - 1).abs() > 1e-3).any()):
        notes.append(f"exp(x) rows sum to {latex_free(sums)}, not 1: x is not log-probabilities. "
                     "NLLLoss expects log_softmax output (or use CrossEntropyLoss on logits).")
    per_out = per[0] if unbatched else per
    den_text = r"\sum_n w_{y_n}" if w is not None or bool((yl == options.ignore_index).any()) else "N"
    value, red = reduce_elements(per_out, options.reduction, denominator=den, denominator_text=den_text)
    steps.append(red)
    return LossResult("NLLLoss", value, per_out, steps, options, {"log_softmax": x2}, notes)


def latex_free(t: torch.Tensor) -> str:
    """Short plain-text rendering of a tensor for messages."""
    v = [round(float(a), 4) for a in t.reshape(-1)[:8]]
    return str(v) + (" …" if t.numel() > 8 else "")
