"""Figures for every tab, built with matplotlib's object-oriented API.

No ``pyplot`` anywhere: pyplot keeps global state (a current figure, a figure registry)
that is unsafe when several requests draw at once. A :class:`~matplotlib.figure.Figure`
made directly is owned by the caller, is never registered globally and is freed when the
last reference goes, so there is nothing to "close".

One house style is applied to every figure made by :func:`new_figure`, **without touching
matplotlib's global rcParams**: the axes are :class:`HouseAxes`, which style themselves
(spines, grid, colour cycle, font sizes) when created or cleared, and default the title size
and legend frame. ``matplotlib.rc_context`` edits process-wide state, so two requests drawing
at once used to swap each other's style (and leak it into later plots); here concurrent
renders are byte-for-byte equal to sequential ones (tested). Topic-specific figures live in
``dlcore/plotting/<topic>.py`` as plain functions that take tensors/dataclasses and return a
``Figure``.
"""

from __future__ import annotations

import io
import math
from typing import Sequence

import matplotlib

matplotlib.use("Agg")  # headless; harmless if already set

import numpy as np  # noqa: E402
import torch  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

__all__ = ["STYLE", "PALETTE", "HouseAxes", "new_figure", "image_grid", "line_plot", "heatmap", "figure_to_png"]

PALETTE = ["#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#4b5563"]

#: The house style, as the values :class:`HouseAxes` applies (documentation; never set globally).
STYLE: dict[str, object] = {
    "font.size": 10, "axes.titlesize": 11, "axes.labelsize": 10, "tick.labelsize": 9,
    "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True, "grid.alpha": 0.25,
    "axes.prop_cycle": PALETTE, "figure.dpi": 100, "legend.frameon": False, "legend.fontsize": 9,
}


class HouseAxes(Axes):
    """Axes that carry the house style themselves (thread-safe: no global rcParams).

    Applied on creation and after every ``clear()``: no top/right spines, a light grid, the
    :data:`PALETTE` colour cycle, 10 pt labels and 9 pt tick labels; ``set_title`` defaults
    to 11 pt and ``legend`` to no frame and 9 pt text. Explicit arguments still win.
    """

    name = "dl_lab_house"

    def clear(self) -> None:
        super().clear()
        self.spines[["top", "right"]].set_visible(False)
        self.grid(True, alpha=0.25)
        self.set_axisbelow(True)
        self.set_prop_cycle(color=PALETTE)
        self.tick_params(labelsize=9)
        self.xaxis.label.set_fontsize(10)
        self.yaxis.label.set_fontsize(10)

    def set_title(self, label: str, fontdict: dict | None = None, loc: str | None = None,  # type: ignore[override]
                  pad: float | None = None, **kwargs: object) -> object:
        if fontdict is None or "fontsize" not in fontdict:
            kwargs.setdefault("fontsize", 11)
        return super().set_title(label, fontdict, loc, pad, **kwargs)

    def legend(self, *args: object, **kwargs: object) -> object:  # type: ignore[override]
        kwargs.setdefault("frameon", False)
        kwargs.setdefault("fontsize", 9)
        return super().legend(*args, **kwargs)


def new_figure(nrows: int = 1, ncols: int = 1, *, figsize: tuple[float, float] | None = None,
               squeeze: bool = True, gridspec_kw: dict | None = None, sharex: bool | str = False,
               sharey: bool | str = False, **subplot_kw: object) -> tuple[Figure, object]:
    """Create a Figure in the house style and its axes (``fig, ax``, as pyplot.subplots would).

    The axes are :class:`HouseAxes` (unless ``projection=`` or ``axes_class=`` is given);
    nothing global is changed, so this is safe to call from several threads at once.

    Args:
        gridspec_kw, sharex, sharey: as for ``Figure.subplots``; other keywords go to each subplot.

    Shape: ``ax`` is a single Axes when ``squeeze`` and ``nrows == ncols == 1``, else an
    ``(nrows, ncols)`` object array.
    """
    if figsize is None:
        figsize = (4.2 * ncols + 0.6, 3.2 * nrows + 0.4)
    kw = dict(subplot_kw)
    if "projection" not in kw and "polar" not in kw:
        kw.setdefault("axes_class", HouseAxes)
    fig = Figure(figsize=figsize, dpi=100, layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=squeeze, subplot_kw=kw, gridspec_kw=gridspec_kw,
                        sharex=sharex, sharey=sharey)
    return fig, axes


def _to_hwc(img: torch.Tensor) -> np.ndarray:
    """(C, H, W) or (H, W) tensor -> (H, W[, 3]) numpy array for imshow."""
    x = img.detach().float().cpu()
    if x.ndim == 3 and x.shape[0] in (1, 3):
        x = x.permute(1, 2, 0)  # (H, W, C)
        if x.shape[-1] == 1:
            x = x[..., 0]
    elif x.ndim != 2:
        raise ValueError(f"image must have shape (C, H, W) or (H, W), got {tuple(img.shape)}")
    return x.numpy()


def image_grid(images: torch.Tensor | Sequence[torch.Tensor], titles: Sequence[str] | None = None,
               *, ncols: int | None = None, cmap: str = "gray", vmin: float | None = None,
               vmax: float | None = None, cell: float = 1.6, suptitle: str | None = None) -> Figure:
    """Show a batch of images in a grid.

    Args:
        images: tensor of shape (N, C, H, W) / (N, H, W), or a sequence of (C, H, W)/(H, W).
        titles: optional title per image.
        ncols: columns (default: up to 8).
    """
    imgs = list(images)
    n = len(imgs)
    if n == 0:
        raise ValueError("image_grid needs at least one image")
    ncols = ncols or min(n, 8)
    nrows = math.ceil(n / ncols)
    fig, axes = new_figure(nrows, ncols, figsize=(cell * ncols, cell * nrows + (0.4 if suptitle else 0)),
                           squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            ax.imshow(_to_hwc(imgs[i]), cmap=cmap, vmin=vmin, vmax=vmax)
            if titles is not None and i < len(titles):
                ax.set_title(titles[i], fontsize=9)
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def line_plot(series: dict[str, tuple[Sequence[float], Sequence[float]]], *, title: str = "",
              xlabel: str = "", ylabel: str = "", logy: bool = False,
              figsize: tuple[float, float] = (5.5, 3.4)) -> Figure:
    """Plot named (x, y) series on one axes."""
    fig, ax = new_figure(figsize=figsize)
    for label, (x, y) in series.items():
        ax.plot(list(x), list(y), label=label)
    if logy:
        ax.set_yscale("log")
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    if len(series) > 1:
        ax.legend()
    return fig


def heatmap(matrix: torch.Tensor | np.ndarray, *, xlabels: Sequence[str] | None = None,
            ylabels: Sequence[str] | None = None, title: str = "", cmap: str = "viridis",
            annotate: bool | None = None, fmt: str = "{:.2f}", figsize: tuple[float, float] | None = None,
            vmin: float | None = None, vmax: float | None = None, colorbar: bool = True) -> Figure:
    """A labelled heatmap of a 2-D matrix (annotated with values when small)."""
    m = matrix.detach().float().cpu().numpy() if isinstance(matrix, torch.Tensor) else np.asarray(matrix)
    if m.ndim != 2:
        raise ValueError(f"heatmap needs a 2-D matrix, got shape {m.shape}")
    h, w = m.shape
    if figsize is None:
        figsize = (min(2 + 0.5 * w, 10), min(1.6 + 0.45 * h, 9))
    fig, ax = new_figure(figsize=figsize)
    ax.grid(False)
    im = ax.imshow(m, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto")
    if colorbar:
        fig.colorbar(im, ax=ax, shrink=0.8)
    if xlabels is not None:
        ax.set_xticks(range(w), labels=list(xlabels), rotation=60 if w > 6 else 0, ha="right" if w > 6 else "center")
    if ylabels is not None:
        ax.set_yticks(range(h), labels=list(ylabels))
    if annotate is None:
        annotate = h * w <= 100
    if annotate:
        mid = (np.nanmax(m) + np.nanmin(m)) / 2 if m.size else 0
        for i in range(h):
            for j in range(w):
                ax.text(j, i, fmt.format(m[i, j]), ha="center", va="center", fontsize=8,
                        color="white" if m[i, j] < mid else "black")
    ax.set_title(title)
    return fig


def figure_to_png(fig: Figure) -> bytes:
    """Render a Figure to PNG bytes (for tests, benchmarks and the README screenshots)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})
    return buf.getvalue()
