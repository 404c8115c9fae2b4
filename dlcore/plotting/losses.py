"""Figures for the loss calculator tab (object-oriented matplotlib, house style, no pyplot).

* :func:`per_element_figure`: the per-element loss matrix (and, for cross entropy, the
  softmax probabilities with the true class marked).
* :func:`regression_curves_figure`: MSE / L1 / Huber / SmoothL1 and their gradients vs the error.
* :func:`chance_figure`: cross entropy vs the true class's probability and vs the logit margin,
  with the uniform-guess level ln C and the user's rows as points.
* :func:`bce_stability_figure`: BCE on sigmoid(z) vs BCEWithLogits(z) in float32 for large |z|.

Like the training figures (:mod:`dlcore.plotting.train`), each is at most ``FIG_WIDTH`` inches
wide with panels stacked, and no text is smaller than ``MIN_PT``: legible on a phone.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from matplotlib.figure import Figure

from dlcore.calculators.losses_base import LossResult
from dlcore.plotting import PALETTE, new_figure
from dlcore.plotting.train import FIG_WIDTH, MIN_PT, legible

__all__ = ["per_element_figure", "regression_curves_figure", "chance_figure", "bce_stability_figure"]


def _matrix(t: torch.Tensor) -> np.ndarray:
    t = t.detach().to(torch.float64).cpu()
    if t.ndim == 0:
        return t.reshape(1, 1).numpy()
    if t.ndim == 1:
        return t.reshape(1, -1).numpy() if t.numel() > 1 else t.reshape(1, 1).numpy()
    return t.reshape(-1, t.shape[-1]).numpy()


def _annotated(ax, m: np.ndarray, title: str, cmap: str = "viridis", fmt: str = "{:.4f}",
               dark_low: bool = True) -> None:
    ax.grid(False)
    im = ax.imshow(m, cmap=cmap, aspect="auto")
    h, w = m.shape
    if h * w <= 64 and w <= 8:
        if w > 4:  # fewer decimals so a number fits its cell at a legible size
            fmt = "{:.3f}" if w <= 6 else "{:.2f}"
        lo, hi = np.nanmin(m), np.nanmax(m)
        mid = (lo + hi) / 2
        for i in range(h):
            for j in range(w):
                ax.text(j, i, fmt.format(m[i, j]), ha="center", va="center", fontsize=MIN_PT,
                        color="white" if (m[i, j] < mid) == dark_low else "black")
    ax.set_xticks(range(w)) if w <= 12 else None
    ax.set_yticks(range(h)) if h <= 12 else None
    ax.set_title(title)
    if h * w > 64 or w > 8:  # no numbers written: a colour scale instead
        ax.figure.colorbar(im, ax=ax, shrink=0.8)


def per_element_figure(result: LossResult) -> Figure:
    """Heatmap of ``result.per_element``; for CrossEntropyLoss also the softmax rows."""
    per = _matrix(result.per_element)
    sm = result.intermediates.get("softmax")
    nrows = 2 if sm is not None else 1
    h = max(per.shape[0], sm.shape[0] if sm is not None else 0)
    fig, axes = new_figure(nrows, 1, figsize=(FIG_WIDTH, nrows * min(1.6 + 0.5 * h, 4.5) + 0.5), squeeze=False)
    _annotated(axes[0, 0], per.T if per.shape[0] == 1 and result.per_element.ndim == 1 and sm is not None else per,
               "loss per element ℓ", cmap="magma")
    fig.suptitle(f"{result.name} (reduction='none')")
    if sm is not None:
        ax = axes[1, 0]
        _annotated(ax, _matrix(sm), "softmax p (rows: samples)", cmap="Blues", fmt="{:.3f}",
                   dark_low=False)
        ax.set_xlabel("class c")
        ax.set_ylabel("sample n")
    return legible(fig)


def regression_curves_figure(errors: torch.Tensor, curves: dict[str, tuple[torch.Tensor, torch.Tensor]],
                             user_errors: torch.Tensor | None = None) -> Figure:
    """Loss (left) and gradient ∂ℓ/∂x (right) of each regression loss against the error x - y."""
    fig, (a1, a2) = new_figure(2, 1, figsize=(FIG_WIDTH, 6.4))
    e = errors.detach().cpu().numpy()
    for i, (name, (loss, grad)) in enumerate(curves.items()):
        a1.plot(e, loss.cpu().numpy(), label=name, color=PALETTE[i % len(PALETTE)])
        a2.plot(e, grad.cpu().numpy(), label=name, color=PALETTE[i % len(PALETTE)])
    if user_errors is not None and user_errors.numel():
        ue = user_errors.detach().reshape(-1).cpu().numpy()
        a1.scatter(ue, np.zeros_like(ue), marker="|", s=200, color="black", zorder=5, label="your errors")
    a1.set(title="loss vs error", xlabel="error d = x - y", ylabel="ℓ(d)")
    a2.set(title="gradient (bounded = robust to outliers)", xlabel="error d = x - y", ylabel="∂ℓ/∂x")
    a1.legend(fontsize=MIN_PT, loc="upper center")
    return legible(fig)


def chance_figure(num_classes: int, p_true: torch.Tensor | None = None, margins: torch.Tensor | None = None,
                  title: str = "") -> Figure:
    """CE = -ln p against the true class's probability, and CE = ln(1+e^{-m}) against the margin m."""
    c = int(num_classes)
    fig, (a1, a2) = new_figure(2, 1, figsize=(FIG_WIDTH, 7.0))
    p = np.linspace(1e-3, 1, 400)
    a1.plot(p, -np.log(p), color=PALETTE[0], label="CE = -ln p")
    a1.axhline(math.log(c), color=PALETTE[1], ls="--", label=f"uniform guess: ln {c} = {math.log(c):.4f}")
    a1.axvline(1 / c, color=PALETTE[1], ls=":", lw=1)
    m = np.linspace(-8, 8, 400)
    a2.plot(m, np.logaddexp(0, -m), color=PALETTE[0], label="CE = ln(1 + e⁻ᵐ)")
    a2.axhline(math.log(c), color=PALETTE[1], ls="--", label=f"ln {c}")
    if c > 1:
        a2.axvline(-math.log(c - 1), color=PALETTE[1], ls=":", lw=1)
    if p_true is not None and p_true.numel():
        pv = p_true.detach().reshape(-1).cpu().numpy()
        a1.scatter(pv, -np.log(pv), color="black", zorder=5, label="your rows")
    if margins is not None and margins.numel():
        mv = margins.detach().reshape(-1).cpu().numpy()
        a2.scatter(mv, np.logaddexp(0, -mv), color="black", zorder=5, label="your rows")
    a1.set(title="CE vs p(true class)", xlabel="p(true class)", ylabel="loss", ylim=(0, max(7, math.log(c) + 1)))
    a2.set(title="CE vs margin m = x_y − logsumexp(others)", xlabel="m", ylabel="loss")
    a1.legend(fontsize=MIN_PT)
    a2.legend(fontsize=MIN_PT)
    if title:
        fig.suptitle(title)
    return legible(fig)


def bce_stability_figure(stab: dict[str, torch.Tensor], target: float) -> Figure:
    """BCE(sigmoid(z)) and BCEWithLogits(z) in float32 against the exact loss, for logits z."""
    z = stab["logit"].cpu().numpy()
    fig, ax = new_figure(figsize=(FIG_WIDTH, 4.4))
    ax.plot(z, stab["exact"].cpu().numpy(), color="black", lw=3, alpha=0.3, label="exact (float64)")
    ax.plot(z, stab["bce_on_sigmoid"].cpu().numpy(), color=PALETTE[1], label="BCELoss(σ(z)), float32")
    ax.plot(z, stab["bce_with_logits"].cpu().numpy(), color=PALETTE[0], ls="--",
            label="BCEWithLogitsLoss(z), float32")
    ax.set(title=f"y = {target:g}: sigmoid saturates, log-sum-exp does not", xlabel="logit z", ylabel="loss")
    ax.legend(fontsize=MIN_PT)
    return legible(fig)
