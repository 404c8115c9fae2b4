"""Figures for training: curves (one run or several overlaid), the learning-rate schedule,
per-layer gradient norms, the model on the data (decision boundary, regression fit, images)
and the confusion matrix.

Every function takes what :mod:`dlcore.train` returns (:class:`~dlcore.train.views.RunCurves`,
:class:`~dlcore.train.views.DataView`, :class:`~dlcore.train.views.Confusion`, tensors) and
returns a ``Figure``. Sizes are for a column about 420 px wide (two figures side by side on a
laptop, one under the other on a phone): figures are at most :data:`FIG_WIDTH` inches wide and
no text is smaller than :data:`MIN_PT` points, so text stays ≥ 8 pt when a 414 px phone shows the
figure 348 px wide.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Sequence

import numpy as np
import torch
from matplotlib import colormaps
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.layout_engine import PlaceHolderLayoutEngine
from matplotlib.lines import Line2D
from matplotlib.text import Text
from matplotlib.ticker import MaxNLocator

from dlcore.plotting import PALETTE, heatmap, image_grid, new_figure

if TYPE_CHECKING:  # the dataclasses of dlcore.train.views (read by attribute, no import needed)
    from dlcore.train.views import Confusion, DataView, RunCurves

__all__ = ["FIG_WIDTH", "MIN_PT", "legible", "training_curves", "lr_schedule_plot", "grad_norm_plot",
           "decision_boundary_plot", "regression_plot", "images_plot", "data_view_plot", "confusion_plot"]

FIG_WIDTH = 4.4   # inches (440 px at 100 dpi)
MIN_PT = 11.0     # smallest text, points (× 348/440 on a 414 px phone = 8.7 pt)


def legible(fig: Figure, min_pt: float = MIN_PT, title_pt: float = 12.0) -> Figure:
    """Raise every text of ``fig`` to at least ``min_pt`` (axes and figure titles to ``title_pt``)."""
    titles = {id(t) for ax in fig.axes for t in (ax.title, ax._left_title, ax._right_title)}
    if fig._suptitle is not None:
        titles.add(id(fig._suptitle))
    for t in fig.findobj(Text):
        size = title_pt if id(t) in titles else min_pt
        if t.get_fontsize() < size:
            t.set_fontsize(size)
    return fig


def _finite(v: Sequence[float]) -> bool:
    return any(isinstance(a, (int, float)) and math.isfinite(a) for a in v)


def training_curves(runs: Sequence["RunCurves"], *, title: str = "", raw_steps: bool | None = None) -> Figure:
    """Loss (top) and accuracy (bottom) against the epoch.

    Per run: the loss of every optimizer step (faint, when ``raw_steps``), its EMA (solid) and
    the validation loss at the end of each epoch (dashed, with markers, so one epoch is already
    a visible point). Accuracy: train (solid) and validation (dashed) per epoch. Several runs
    are overlaid, one colour each ("Adam vs SGD" at a glance). Regression runs have no accuracy.

    Args:
        runs: from :func:`dlcore.train.views.run_curves`.
        raw_steps: draw the raw per-step loss (default: only when there is a single run).
    """
    has_acc = any(_finite(r.train_acc) or _finite(r.val_acc) for r in runs)
    raw_steps = len(runs) == 1 if raw_steps is None else raw_steps
    fig, axes = new_figure(2 if has_acc else 1, 1, figsize=(FIG_WIDTH, 5.6 if has_acc else 3.4), squeeze=False)
    ax_loss = axes[0, 0]
    right = max([r.total_epochs for r in runs] + [max(r.step_x, default=0) for r in runs] + [1])
    losses: list[float] = []
    for i, r in enumerate(runs):
        c = PALETTE[i % len(PALETTE)]
        if raw_steps and r.step_x:
            ax_loss.plot(r.step_x, r.step_loss, color=c, alpha=0.2, lw=0.8)
        if r.step_x:
            ax_loss.plot(r.step_x, r.step_loss_ema, color=c, lw=1.8)
            losses += [v for v in r.step_loss_ema if math.isfinite(v)]
        if _finite(r.val_loss):
            ax_loss.plot(r.epochs, r.val_loss, color=c, ls="--", marker="o", ms=4)
            losses += [v for v in r.val_loss if math.isfinite(v)]
        if has_acc:
            axes[1, 0].plot(r.epochs, r.train_acc, color=c, marker="o", ms=3)
            if _finite(r.val_acc):
                axes[1, 0].plot(r.epochs, r.val_acc, color=c, ls="--", marker="o", ms=4)
    ax_loss.set(title="loss", xlim=(0, right))
    if losses and min(losses) > 0 and max(losses) / min(losses) > 100:  # log scale only when it spans decades
        ax_loss.set_yscale("log")
    if has_acc:
        axes[1, 0].set(title="accuracy", xlabel="epoch", ylim=(0, 1.02), xlim=(0, right))
    else:
        ax_loss.set_xlabel("epoch")
    for ax in axes.flat:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if not any(r.step_x for r in runs):
        ax_loss.text(0.5, 0.5, "waiting for the first step…", ha="center", va="center",
                     transform=ax_loss.transAxes, color="gray")
    handles = [Line2D([], [], color=PALETTE[i % len(PALETTE)], lw=2, label=r.label[:34]) for i, r in enumerate(runs)]
    key = [Line2D([], [], color="gray", lw=1.8, label="train (EMA of steps)"),
           Line2D([], [], color="gray", ls="--", marker="o", ms=4, label="validation, per epoch")]
    ax_loss.legend(handles=key, loc="upper right", fontsize=MIN_PT)
    if len(runs) > 1:
        fig.legend(handles=handles, loc="outside lower center", ncols=1, fontsize=MIN_PT)
    if title:
        fig.suptitle(title[:44])
    legible(fig)
    if len(runs) <= 1:  # redrawn twice a second while training: a fixed layout draws ~2x faster
        fig.set_layout_engine(PlaceHolderLayoutEngine(adjust_compatible=True, colorbar_gridspec=False))
        fig.subplots_adjust(left=0.14, right=0.97, top=0.88 if title else 0.93, bottom=0.09, hspace=0.32)
    return fig


def lr_schedule_plot(planned: Sequence[float], used: Sequence[float] = (), *, steps_per_epoch: int = 0,
                     title: str = "learning-rate schedule") -> Figure:
    """The planned learning rate per optimizer step (grey) and the part already used (colour)."""
    fig, ax = new_figure(figsize=(FIG_WIDTH, 3.2))
    ax.plot(range(1, len(planned) + 1), list(planned), color="#9ca3af", label="planned")
    if len(used):
        ax.plot(range(1, len(used) + 1), list(used), color=PALETTE[0], lw=2, label="used so far")
    top = max([*planned, *used], default=0.0)
    ax.set(title=title, xlabel="optimizer step", ylabel="η", ylim=(0, top * 1.15 if top > 0 else 1))
    ax.xaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
    if steps_per_epoch and len(planned) > steps_per_epoch:
        sec = ax.secondary_xaxis("top", functions=(lambda s: s / steps_per_epoch, lambda e: e * steps_per_epoch))
        sec.set_xlabel("epoch")
    ax.legend(loc="lower left")
    return legible(fig)


def grad_norm_plot(layer_names: Sequence[str], per_epoch: torch.Tensor | np.ndarray) -> Figure:
    """Per-layer weight-gradient L2 norms: the latest epoch as bars (top, input layer first)
    and every layer over the epochs (bottom). Log scale: vanishing gradients show as bars that
    fall by orders of magnitude towards the input.

    Shape: per_epoch ``(n_epochs, n_layers)`` (epoch means of ‖∂L/∂W_ℓ‖).
    """
    g = np.asarray(per_epoch, dtype=float).reshape(-1, len(layer_names)) if len(layer_names) else np.zeros((0, 0))
    fig, (ax_bar, ax_line) = new_figure(2, 1, figsize=(FIG_WIDTH, 5.6))
    if g.shape[0] == 0:
        ax_bar.text(0.5, 0.5, "waiting for the first epoch…", ha="center", va="center",
                    transform=ax_bar.transAxes, color="gray")
        ax_bar.set_title("per-layer gradient norm")
        return legible(fig)
    last = np.maximum(g[-1], 1e-30)
    cmap = colormaps["viridis"]
    colors = [cmap(i / max(1, len(layer_names) - 1)) for i in range(len(layer_names))]
    short = [n.split(":")[0] for n in layer_names]
    pos = np.arange(len(short))
    ax_bar.bar(pos, last, color=colors)
    step = max(1, math.ceil(len(short) / 12))
    ax_bar.set_xticks(pos[::step], labels=short[::step])
    ax_bar.set_yscale("log")
    ratio = last[0] / last[-1] if last[-1] > 0 else float("nan")
    ax_bar.set(title=f"epoch {g.shape[0]}: first/last layer = {ratio:.1e}", xlabel="layer (input → output)",
               ylabel="‖∂L/∂W‖")
    ep = np.arange(1, g.shape[0] + 1)
    for i, name in enumerate(layer_names):
        ax_line.plot(ep, np.maximum(g[:, i], 1e-30), color=colors[i], label=name.split(":")[0],
                     marker="o" if len(ep) < 3 else None, ms=4)
    ax_line.set_yscale("log")
    ax_line.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax_line.set(title="each layer over training", xlabel="epoch", ylabel="‖∂L/∂W‖")
    if len(layer_names) <= 6:
        ax_line.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), title="layer")
    return legible(fig)


def decision_boundary_plot(xs: torch.Tensor, ys: torch.Tensor, probs: torch.Tensor, x: torch.Tensor,
                           y: torch.Tensor, *, title: str = "decision boundary") -> Figure:
    """Filled class regions of a 2-D classifier with the data on top.

    Two classes: shading = P(class 1) with the 0.5 contour; more: colour = argmax class,
    paler where the model is unsure.

    Shape: xs ``(S,)``, ys ``(S,)``, probs ``(S, S, C)``, x ``(N, 2)``, y ``(N,)`` or ``(N, 1)``.
    """
    fig, ax = new_figure(figsize=(FIG_WIDTH, 4.4))
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
    ax.scatter(pts[:, 0], pts[:, 1], c=labels, cmap=cmap, vmin=0, vmax=max(1, c - 1), s=18,
               edgecolors="black", linewidths=0.4)
    ax.set(title=title, xlim=extent[:2], ylim=extent[2:], xlabel="x₁", ylabel="x₂")
    return legible(fig)


def regression_plot(x: torch.Tensor, y_true: torch.Tensor, y_pred: torch.Tensor,
                    curve: tuple[torch.Tensor, torch.Tensor] | None = None, *,
                    title: str = "predictions vs truth") -> Figure:
    """1-D input: data points and the model's curve. More inputs: predicted vs true scatter
    with the identity line (points on the line = perfect predictions).

    Shape: x ``(N, D)``, y_true/y_pred ``(N, 1)``; curve = (x_grid ``(M, 1)``, y_grid ``(M, 1)``).
    """
    fig, ax = new_figure(figsize=(FIG_WIDTH, 4.0))
    yt, yp = y_true.reshape(-1).numpy(), y_pred.reshape(-1).numpy()
    mse = float(np.mean((yt - yp) ** 2))
    if x.ndim == 2 and x.shape[1] == 1:
        ax.scatter(x[:, 0].numpy(), yt, s=12, color="#6b7280", label="truth (validation)")
        if curve is not None:
            ax.plot(curve[0].reshape(-1).numpy(), curve[1].reshape(-1).numpy(), color=PALETTE[1], lw=2,
                    label="model")
        ax.set(xlabel="x", ylabel="y")
    else:
        lo, hi = float(min(yt.min(), yp.min())), float(max(yt.max(), yp.max()))
        ax.plot([lo, hi], [lo, hi], color="#9ca3af", lw=1, label="perfect")
        ax.scatter(yt, yp, s=14, color=PALETTE[0], label="validation samples")
        ax.set(xlabel="true y", ylabel="predicted y")
    ax.legend(loc="best")
    ax.set_title(f"{title} (val MSE {mse:.4g})")
    return legible(fig)


def images_plot(view: "DataView") -> Figure:
    """Validation images in 3 columns, each titled with the predicted class (✗ = wrong)."""
    assert view.x is not None and view.y is not None and view.y_pred is not None
    names = view.class_names
    titles = [f"{names[p].split('/')[0][:10]}{'' if p == t else ' ✗'}"
              for p, t in zip(view.y_pred.tolist(), view.y.tolist())]
    fig = image_grid(view.x, titles, ncols=3, cell=FIG_WIDTH / 3, suptitle="validation: predicted class (✗ = wrong)")
    for t, ax in zip(titles, fig.axes):
        ax.title.set_color(PALETTE[1] if t.endswith("✗") else "black")
    return legible(fig, title_pt=MIN_PT)


def data_view_plot(view: "DataView") -> Figure | None:
    """The figure for a :class:`DataView` (None for ``kind == "none"``)."""
    if view.kind == "boundary":
        xs, ys, probs = view.grid  # type: ignore[misc]
        return decision_boundary_plot(xs, ys, probs, view.x, view.y, title="decision boundary (validation)")
    if view.kind in ("curve", "scatter"):
        return regression_plot(view.x, view.y, view.y_pred, view.curve)
    if view.kind == "images":
        return images_plot(view)
    return None


def confusion_plot(cm: "torch.Tensor | Confusion", classes: Sequence[str] | None = None, *,
                   title: str = "confusion (validation)") -> Figure:
    """Counts of true class (rows) vs predicted class (columns); the diagonal is correct.

    Shape: cm ``(C, C)`` (or a :class:`~dlcore.train.views.Confusion`).
    """
    if not isinstance(cm, torch.Tensor):  # a Confusion
        cm, classes = cm.matrix, cm.class_names
    c = cm.shape[0]
    names = [n.split("/")[0][:10] for n in classes] if classes and len(classes) == c else [str(i) for i in range(c)]
    acc = cm.diag().sum().item() / max(1, cm.sum().item())
    fig = heatmap(cm.float(), xlabels=names, ylabels=names, title=f"{title}, acc {acc:.1%}", cmap="Blues",
                  fmt="{:.0f}", annotate=c <= 12, colorbar=False,
                  figsize=(FIG_WIDTH, min(FIG_WIDTH, 2.2 + 0.3 * c)))
    ax = fig.axes[0]
    mid = cm.max().item() / 2
    for t in ax.texts:  # Blues is dark for large counts: white text there
        t.set_color("white" if float(t.get_text()) > mid else "black")
    ax.set(xlabel="predicted", ylabel="true")
    legible(fig, min_pt=MIN_PT if c <= 6 else 10.5)
    return fig
