"""Figures for training: curves (and overlays of several runs), the learning-rate schedule,
per-layer gradient norms, decision boundaries, regression fits and confusion matrices.

Every function takes tensors/lists (from :mod:`dlcore.train`) and returns a ``Figure``.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch
from matplotlib import colormaps
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from dlcore.plotting import PALETTE, heatmap, new_figure

__all__ = ["RunCurves", "training_curves", "lr_schedule_plot", "grad_norm_plot", "decision_boundary_plot",
           "regression_plot", "confusion_plot"]

#: (label, epochs, train_loss, val_loss, train_acc, val_acc) of one run, lists of floats.
RunCurves = tuple[str, Sequence[float], Sequence[float], Sequence[float], Sequence[float], Sequence[float]]


def _finite(v: Sequence[float]) -> bool:
    return any(isinstance(a, (int, float)) and math.isfinite(a) for a in v)


def training_curves(runs: Sequence[RunCurves], *, title: str = "") -> Figure:
    """Loss (left) and accuracy (right) per epoch; train solid, validation dashed.

    Several runs are overlaid, one colour each, so "Adam vs SGD" reads at a glance.
    Regression runs (accuracy all NaN) get a loss panel only.
    """
    from matplotlib.lines import Line2D

    has_acc = any(_finite(r[4]) or _finite(r[5]) for r in runs)
    n = len(runs)
    height = 3.4 + 0.22 * ((n + 1) // 2)
    fig, axes = new_figure(1, 2 if has_acc else 1, figsize=(10, height) if has_acc else (5.6, height), squeeze=False)
    ax_loss = axes[0, 0]
    for i, (label, ep, tl, vl, ta, va) in enumerate(runs):
        c = PALETTE[i % len(PALETTE)]
        ax_loss.plot(ep, tl, color=c)
        if _finite(vl):
            ax_loss.plot(ep, vl, color=c, ls="--")
        if has_acc:
            axes[0, 1].plot(ep, ta, color=c)
            if _finite(va):
                axes[0, 1].plot(ep, va, color=c, ls="--")
    ax_loss.set(title="loss", xlabel="epoch")
    for ax in axes.flat:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    losses = [a for r in runs for a in list(r[2]) + list(r[3]) if math.isfinite(a)]
    if losses and min(losses) > 0 and max(losses) / min(losses) > 100:  # log scale only when it spans decades
        ax_loss.set_yscale("log")
    if has_acc:
        axes[0, 1].set(title="accuracy", xlabel="epoch", ylim=(0, 1.02))
    if not runs or not any(len(r[1]) for r in runs):
        ax_loss.text(0.5, 0.5, "waiting for the first epoch…", ha="center", va="center",
                     transform=ax_loss.transAxes, color="gray")
    # one legend under the axes: a colour per run, then the line-style key
    handles = [Line2D([], [], color=PALETTE[i % len(PALETTE)], label=r[0]) for i, r in enumerate(runs)]
    handles += [Line2D([], [], color="gray", label="train"), Line2D([], [], color="gray", ls="--", label="validation")]
    fig.legend(handles=handles, loc="outside lower center", ncols=2 if n > 1 else 3, fontsize=7)
    if title:
        fig.suptitle(title)
    return fig


def lr_schedule_plot(planned: Sequence[float], used: Sequence[float] = (), *, steps_per_epoch: int = 0,
                     title: str = "learning-rate schedule") -> Figure:
    """The planned learning rate per optimizer step (grey) and the part already used (colour)."""
    fig, ax = new_figure(figsize=(5.2, 3.0))
    ax.plot(range(1, len(planned) + 1), list(planned), color="#9ca3af", label="planned")
    if len(used):
        ax.plot(range(1, len(used) + 1), list(used), color=PALETTE[0], lw=2, label="used so far")
    top = max([*planned, *used], default=0.0)
    ax.set(title=title, xlabel="optimizer step", ylabel="η", ylim=(0, top * 1.1 if top > 0 else 1))
    if steps_per_epoch and len(planned) > steps_per_epoch:
        sec = ax.secondary_xaxis("top", functions=(lambda s: s / steps_per_epoch, lambda e: e * steps_per_epoch))
        sec.set_xlabel("epoch", fontsize=8)
    ax.legend(fontsize=8)
    return fig


def grad_norm_plot(layer_names: Sequence[str], per_epoch: torch.Tensor | np.ndarray) -> Figure:
    """Per-layer weight-gradient L2 norms: the latest epoch as bars (left, input layer first)
    and every layer over the epochs (right). Log scale: vanishing gradients show as bars that
    fall by orders of magnitude towards the input.

    Shape: per_epoch ``(n_epochs, n_layers)`` (epoch means of ‖∂L/∂W_ℓ‖).
    """
    g = np.asarray(per_epoch, dtype=float).reshape(-1, len(layer_names)) if len(layer_names) else np.zeros((0, 0))
    fig, (ax_bar, ax_line) = new_figure(1, 2, figsize=(10, 3.4))
    if g.shape[0] == 0:
        ax_bar.text(0.5, 0.5, "waiting for the first epoch…", ha="center", va="center",
                    transform=ax_bar.transAxes, color="gray")
        return fig
    last = np.maximum(g[-1], 1e-30)
    cmap = colormaps["viridis"]
    colors = [cmap(i / max(1, len(layer_names) - 1)) for i in range(len(layer_names))]
    short = [n.split(":")[0] for n in layer_names]
    pos = np.arange(len(short))
    ax_bar.bar(pos, last, color=colors)
    ax_bar.set_xticks(pos, labels=short)
    ax_bar.set_yscale("log")
    ratio = last[0] / last[-1] if last[-1] > 0 else float("nan")
    ax_bar.set(title=f"epoch {g.shape[0]}: first/last layer = {ratio:.1e}", xlabel="layer (input → output)",
               ylabel="‖∂L/∂W‖")
    ep = np.arange(1, g.shape[0] + 1)
    for i, name in enumerate(layer_names):
        ax_line.plot(ep, np.maximum(g[:, i], 1e-30), color=colors[i], label=name, marker="." if len(ep) < 3 else None)
    ax_line.set_yscale("log")
    ax_line.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax_line.set(title="per-layer gradient norm over training", xlabel="epoch")
    if len(layer_names) <= 12:
        ax_line.legend(fontsize=6, loc="best")
    return fig


def decision_boundary_plot(xs: torch.Tensor, ys: torch.Tensor, probs: torch.Tensor, x: torch.Tensor,
                           y: torch.Tensor, *, title: str = "decision boundary") -> Figure:
    """Filled class regions of a 2-D classifier with the data on top.

    Two classes: shading = P(class 1) with the 0.5 contour; more: colour = argmax class,
    paler where the model is unsure.

    Shape: xs ``(S,)``, ys ``(S,)``, probs ``(S, S, C)``, x ``(N, 2)``, y ``(N,)`` or ``(N, 1)``.
    """
    fig, ax = new_figure(figsize=(4.6, 4.0))
    ax.grid(False)
    p = probs.numpy()
    labels = y.reshape(-1).long().numpy()
    c = p.shape[-1]
    extent = (float(xs[0]), float(xs[-1]), float(ys[0]), float(ys[-1]))
    if c == 2:
        ax.imshow(p[..., 1], origin="lower", extent=extent, cmap="RdBu_r", vmin=-0.6, vmax=1.6,
                  aspect="auto")  # widened range keeps the shading light so the points stay visible
        ax.contour(xs.numpy(), ys.numpy(), p[..., 1], levels=[0.5], colors="k", linewidths=1)
    else:
        base = np.array([[int(h[i:i + 2], 16) / 255 for i in (1, 3, 5)] for h in PALETTE[:c]])  # (C, 3)
        rgb = base[p.argmax(-1)]  # (S, S, 3)
        conf = p.max(-1, keepdims=True)  # (S, S, 1)
        rgb = 1 - (1 - rgb) * (0.25 + 0.5 * (conf - 1 / c) / (1 - 1 / c))  # paler where unsure
        ax.imshow(np.clip(rgb, 0, 1), origin="lower", extent=extent, aspect="auto")
    pts = x.numpy()
    cmap = ListedColormap(["#2563eb", "#dc2626"] if c == 2 else PALETTE[:c])
    ax.scatter(pts[:, 0], pts[:, 1], c=labels, cmap=cmap, vmin=0, vmax=max(1, c - 1), s=16,
               edgecolors="black", linewidths=0.4)
    ax.set(title=title, xlim=extent[:2], ylim=extent[2:], xlabel="x₁", ylabel="x₂")
    return fig


def regression_plot(x: torch.Tensor, y_true: torch.Tensor, y_pred: torch.Tensor,
                    curve: tuple[torch.Tensor, torch.Tensor] | None = None, *,
                    title: str = "predictions vs truth") -> Figure:
    """1-D input: data points and the model's curve. More inputs: predicted vs true scatter
    with the identity line (points on the line = perfect predictions).

    Shape: x ``(N, D)``, y_true/y_pred ``(N, 1)``; curve = (x_grid ``(M, 1)``, y_grid ``(M, 1)``).
    """
    fig, ax = new_figure(figsize=(4.8, 3.6))
    yt, yp = y_true.reshape(-1).numpy(), y_pred.reshape(-1).numpy()
    mse = float(np.mean((yt - yp) ** 2))
    if x.ndim == 2 and x.shape[1] == 1:
        ax.scatter(x[:, 0].numpy(), yt, s=10, color="#6b7280", label="truth (validation)")
        if curve is not None:
            ax.plot(curve[0].reshape(-1).numpy(), curve[1].reshape(-1).numpy(), color=PALETTE[1], lw=2,
                    label="model")
        ax.set(xlabel="x", ylabel="y")
        ax.legend(fontsize=8)
    else:
        lo, hi = float(min(yt.min(), yp.min())), float(max(yt.max(), yp.max()))
        ax.plot([lo, hi], [lo, hi], color="#9ca3af", lw=1, label="perfect")
        ax.scatter(yt, yp, s=12, color=PALETTE[0], label="validation samples")
        ax.set(xlabel="true y", ylabel="predicted y")
        ax.legend(fontsize=8)
    ax.set_title(f"{title} (val MSE {mse:.4g})")
    return fig


def confusion_plot(cm: torch.Tensor, classes: Sequence[str] | None = None, *,
                   title: str = "confusion (validation)") -> Figure:
    """Counts of true class (rows) vs predicted class (columns); the diagonal is correct.

    Shape: cm ``(C, C)``.
    """
    c = cm.shape[0]
    names = list(classes) if classes and len(classes) == c else [str(i) for i in range(c)]
    acc = cm.diag().sum().item() / max(1, cm.sum().item())
    fig = heatmap(cm.float(), xlabels=names, ylabels=names, title=f"{title}, acc {acc:.1%}", cmap="Blues",
                  fmt="{:.0f}", annotate=c <= 12, figsize=(min(3.4 + 0.5 * c, 8), min(2.6 + 0.45 * c, 7)))
    ax = fig.axes[0]
    mid = cm.max().item() / 2
    for t in ax.texts:  # Blues is dark for large counts: white text there
        t.set_color("white" if float(t.get_text()) > mid else "black")
    ax.set(xlabel="predicted", ylabel="true")
    return fig
