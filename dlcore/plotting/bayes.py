"""Figures for Bayesian neural networks (seed 003 §dl_6): the predictive band over [-5, 5] with the
no-data region shaded, the two terms of the loss, and the two methods side by side.

Each function takes what :mod:`dlcore.bayes` returns and gives a ``Figure`` (object-oriented
matplotlib, no pyplot).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import numpy as np
import torch
from matplotlib.figure import Figure

from dlcore.bayes.names import X_RANGE
from dlcore.plotting import PALETTE, new_figure
from dlcore.plotting.train import legible

if TYPE_CHECKING:
    from dlcore.bayes.training import Run
    from dlcore.bayes.uncertainty import Summary

__all__ = ["data_figure", "band_axes", "predictive_figure", "loss_figure", "compare_figure"]


_NAMES = {"variational": "variational BNN", "mc_dropout": "MC Dropout"}


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().double().cpu().numpy()


def data_figure(x: torch.Tensor, y: torch.Tensor, noise: float) -> Figure:
    """The training data before any training: the points, sin x and the no-data region of [-5, 5]."""
    fig, ax = new_figure(figsize=(6.6, 4.2))
    grid = np.linspace(-5, 5, 301)
    for a, b in ((-5, X_RANGE[0]), (X_RANGE[1], 5)):
        ax.axvspan(a, b, color="#f3f4f6", zorder=0)
    ax.text(0.02, 0.97, "no data", transform=ax.transAxes, va="top", fontsize=8, color="#6b7280")
    ax.plot(_np(x.reshape(-1)), _np(y.reshape(-1)), "o", color="#6b7280", ms=3, label=f"training data, σ_y = {noise:g}")
    ax.plot(grid, np.sin(grid), "--", color="#f59e0b", lw=1.5, label="true sin x")
    ax.set(xlabel="x", ylabel="y", title="the notes' data: y = sin x + σ_y ε (press Train)", xlim=(-5, 5))
    fig.legend(loc="outside lower center", ncol=2, fontsize=9, frameon=False)
    return legible(fig)


def band_axes(ax: object, run: "Run", s: "Summary", with_noise: bool, title: str) -> None:
    """Draw on ``ax``: the no-data region (grey), training points, sin x, the mean and its ±2σ band(s)."""
    from dlcore.bayes.uncertainty import total_std

    x, mean, std = _np(s.wide.x), _np(s.wide.mean), _np(s.wide.std)
    lo, hi = float(x[0]), float(x[-1])
    for a, b in ((lo, X_RANGE[0]), (X_RANGE[1], hi)):
        ax.axvspan(a, b, color="#f3f4f6", zorder=0)
    ax.text(0.02, 0.97, "no data", transform=ax.transAxes, va="top", fontsize=8, color="#6b7280")
    if with_noise:
        tot = _np(total_std(s.wide.std, s.noise))
        ax.fill_between(x, mean - 2 * tot, mean + 2 * tot, color=PALETTE[0], alpha=0.12, lw=0,
                        label=f"±2 total std (σ_y = {s.noise:g} added)")
    ax.fill_between(x, mean - 2 * std, mean + 2 * std, color=PALETTE[0], alpha=0.35, lw=0,
                    label="±2 std, epistemic (the notes' band)")
    ax.plot(_np(run.x.squeeze(1)), _np(run.y.squeeze(1)), "o", color="#6b7280", ms=3, label="training data")
    ax.plot(x, np.sin(x), "--", color="#f59e0b", lw=1.5, label="true sin x")
    ax.plot(x, mean, color=PALETTE[0], lw=2, label="predictive mean")
    ax.set(xlabel="x", ylabel="y", title=title, xlim=(lo, hi))


def predictive_figure(run: "Run", s: "Summary", with_noise: bool = False, title: str = "") -> Figure:
    """One method's predictive mean and band over the wide grid (the notes' figure, extended to ±5)."""
    fig, ax = new_figure(figsize=(6.6, 4.2))
    m = run.config.samples
    band_axes(ax, run, s, with_noise, title or f"{_NAMES.get(run.method, run.method)}: mean ± 2 std over M = {m} samples")
    fig.legend(loc="outside lower center", ncol=3, fontsize=9, frameon=False)
    return legible(fig)


def loss_figure(run: "Run") -> Figure:
    """The loss per epoch, split into its terms: the likelihood term and (variational) λ·KL, log scale."""
    fig, ax = new_figure(figsize=(6.6, 3.6))
    ep = np.arange(1, run.epochs_run + 1)
    if run.method == "variational":
        lam = run.config.kl_weight  # type: ignore[union-attr]
        ax.plot(ep, _np(run.likelihood), color=PALETTE[0], lw=1, label="likelihood term Σ (f − y)²")
        ax.plot(ep, _np(run.kl) * lam, color=PALETTE[1], lw=1.5, label=f"weighted KL  λ·KL, λ = {lam:g}")
        ax.plot(ep, _np(run.losses), color="#111827", lw=0.6, alpha=0.5, label="total loss")
    else:
        ax.plot(ep, _np(run.losses), color=PALETTE[0], lw=1, label="mean squared error (dropout on)")
    if run.epochs_run and bool((run.losses > 0).all()):
        ax.set_yscale("log")
    ax.set(xlabel="epoch", ylabel="loss", title="training loss and its terms")
    ax.legend(loc="upper right")
    return legible(fig)


def compare_figure(items: Sequence[tuple[str, "Run", "Summary"]], with_noise: bool = False) -> Figure:
    """The methods side by side on the same data, one panel each (shared y)."""
    k = len(items)
    fig, axes = new_figure(1, k, figsize=(4.4 * k + 0.6, 4.0), squeeze=False, sharey=True)
    for ax, (label, run, s) in zip(axes[0], items):
        band_axes(ax, run, s, with_noise, label)
    axes[0][0].set_ylim(-3, 3)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=3, fontsize=9, frameon=False)
    return legible(fig)
