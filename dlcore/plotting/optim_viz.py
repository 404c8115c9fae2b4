"""Figures of the optimizer lab: paths on contour plots, loss per step, the saddle inspector's
window, and warm-up.

Every function takes the dataclasses of :mod:`dlcore.optim_viz` and returns a
:class:`~matplotlib.figure.Figure` (or, for the clickable contour, an RGB picture and the
:class:`~dlcore.plotting.explain_pixels.PixelMap` from its pixels to (x, y)). Figures are about
5 inches wide so that on a 414-px phone the 9-pt text stays legible.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from typing import Any, Callable, Sequence

import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib import colormaps
from matplotlib.colors import BoundaryNorm
from matplotlib.figure import Figure

from dlcore.optim_viz.names import OPTIMIZER_NAMES, SURFACES
from dlcore.plotting import PALETTE, new_figure
from dlcore.plotting.explain_pixels import PixelMap

__all__ = ["run_colors", "surface_figure", "surface_image", "figure_pixels", "loss_figure", "loss_image", "loss_limits", "hessian_figure",
           "hessian_image", "warmup_figure", "landscape_figure"]

W = 5.2  # inches: one figure column


def run_colors(specs: Sequence[Any]) -> list[str]:
    """One colour per run: the optimizer's own colour when every run is a different optimizer."""
    names = [s.optimizer for s in specs]
    if len(set(names)) == len(names):
        return [PALETTE[OPTIMIZER_NAMES.index(n) % len(PALETTE)] for n in names]
    return [PALETTE[k % len(PALETTE)] for k in range(len(names))]


def _contours(ax: Any, xs: torch.Tensor, ys: torch.Tensor, z: torch.Tensor, n: int = 18, cmap: str = "viridis",
              colorbar: Figure | None = None, label: str = "loss") -> None:
    """Filled contours on log-spaced levels above the minimum (valleys stay visible)."""
    zz = z.detach().double().numpy()
    finite = zz[np.isfinite(zz)]
    lo, hi = float(finite.min()), float(finite.max())
    span = max(hi - lo, 1e-12)
    delta = span * 1e-3
    levels = lo + np.geomspace(delta, span + delta, n) - delta * 0.999
    cs = ax.contourf(xs.numpy(), ys.numpy(), np.where(np.isfinite(zz), zz, hi), levels=levels, cmap=cmap,
                     norm=BoundaryNorm(levels, 256, extend="both"), extend="both")  # one colour per band
    ax.contour(xs.numpy(), ys.numpy(), zz, levels=levels[::2], colors="white", linewidths=0.4, alpha=0.6)
    if colorbar is not None:
        cb = colorbar.colorbar(cs, ax=ax, shrink=0.9, pad=0.02)
        cb.set_label(label, fontsize=9)
        cb.ax.tick_params(labelsize=8)
        cb.set_ticks(levels[::3])
        cb.set_ticklabels([f"{v:.3g}" for v in levels[::3]])
    ax.grid(False)


def _bands(z: torch.Tensor, n: int = 18, cmap: str = "viridis") -> tuple[np.ndarray, np.ndarray]:
    """Log-spaced level bands of ``z`` as an RGB picture (row 0 = the lowest y) and the levels: the
    look of filled contours at the cost of one colour lookup (no contour tracing)."""
    zz = z.detach().double().numpy()
    finite = zz[np.isfinite(zz)]
    lo, hi = float(finite.min()), float(finite.max())
    span = max(hi - lo, 1e-12)
    levels = lo + np.geomspace(span * 1e-3, span * (1 + 1e-3), n) - span * 1e-3 * 0.999
    band = np.clip(np.searchsorted(levels, np.where(np.isfinite(zz), zz, hi)), 0, n - 1)  # (H, W) band index
    rgb = colormaps[cmap](band / (n - 1))[..., :3]
    return (rgb * 255).astype(np.uint8), levels


def _surface_axes(grid: Any, info: Any) -> tuple[Figure, Any]:
    """The parts of the contour picture that depend on the surface only: the level bands, the colour
    bar, the axes and their labels, at a fixed position (no layout engine)."""
    fig, ax = new_figure(figsize=(W, 5.0))
    fig.set_layout_engine(None)  # no engine at all: "none" leaves a placeholder that makes savefig draw twice
    ax.set_position((0.12, 0.30, 0.68, 0.62))
    x0, x1, y0, y1 = info.box
    rgb, levels = _bands(grid.loss)
    ax.imshow(rgb, origin="lower", extent=(float(grid.xs[0]), float(grid.xs[-1]), float(grid.ys[0]),
                                             float(grid.ys[-1])), aspect="auto", interpolation="nearest")
    ax.grid(False)
    cax = fig.add_axes((0.83, 0.30, 0.03, 0.62))
    cax.imshow(colormaps["viridis"](np.linspace(0, 1, len(levels)))[:, None, :3], origin="lower", aspect="auto",
               extent=(0, 1, 0, len(levels)))
    cax.set_xticks([])
    cax.yaxis.tick_right()
    cax.set_yticks(np.arange(0, len(levels), 3) + 0.5, [f"{v:.3g}" for v in levels[::3]], fontsize=8)
    cax.set_title("L", fontsize=9)
    ax.set(xlim=(x0, x1), ylim=(y0, y1))
    ax.set_xlabel("θ₁ (x)", labelpad=1)
    ax.set_ylabel("θ₂ (y)", labelpad=1)
    ax.set_title(" ", fontsize=9.5)  # the title's place and size (a race fills it)
    return fig, ax


def _surface_marks(fig: Figure, ax: Any, info: Any, traj: Any | None, upto: int | None, title: str | None) -> list[Any]:
    """The parts that change from run to run: the minima's stars, every path, the start, the legend
    and the title. Returns the artists added (for :func:`surface_image` to draw and remove)."""
    out = [ax.plot([mx], [my], marker="*", ms=13, color="gold", mec="black", mew=0.7, ls="none", zorder=5)[0]
           for mx, my in info.minima]
    t_end = 0
    if traj is not None:
        t_end = traj.points.shape[1] if upto is None else min(upto + 1, traj.points.shape[1])
        for k, (spec, c) in enumerate(zip(traj.specs, run_colors(traj.specs))):
            p = traj.points[k, :t_end].numpy()
            div = traj.diverged_at[k]
            gone = div is not None and div < t_end
            out += ax.plot(p[:, 0], p[:, 1], color=c, lw=1.6, label=spec.name + (f" ✗ step {div}" if gone else ""), zorder=4)
            out += ax.plot(p[-1:, 0], p[-1:, 1], marker="x" if gone else "o", ms=6, color=c, mec="black", mew=0.6, zorder=6)
        s = traj.config.start
        out += ax.plot([s[0]], [s[1]], marker="o", ms=8, color="white", mec="black", mew=1.2, zorder=7, label="start")
        out.append(fig.legend(*ax.get_legend_handles_labels(), loc="lower center", bbox_to_anchor=(0.47, 0.0), ncol=3,
                              fontsize=8, handlelength=1.4, columnspacing=0.8, frameon=False))
    steps = "" if traj is None else f" · {t_end - 1} steps"
    ax.set_title(title or f"{info.label}{steps}", fontsize=9.5)
    return out


def surface_figure(grid: Any, traj: Any | None = None, surface: str | None = None, upto: int | None = None,
                   title: str | None = None) -> Figure:
    """The surface's level bands with every run's path from the start (first ``upto`` steps).

    A fixed layout (no layout engine) so that a redraw is cheap and the axes sit at the same
    pixels every time (the click map of :func:`surface_image`).

    Args:
        grid: :class:`~dlcore.optim_viz.surfaces.SurfaceGrid`. traj: :class:`~dlcore.optim_viz.trajectories.Trajectories`
            or None (the surface only). surface: its name (box, minima) when ``traj`` is None.
    """
    info = SURFACES[str(traj.surface if traj is not None else surface)]
    fig, ax = _surface_axes(grid, info)
    _surface_marks(fig, ax, info, traj, upto, title)
    return fig


class _Backdrop:
    """A figure's static part, drawn once: each call restores its pixels and draws only its own marks
    on top (matplotlib's blitting), under a lock since requests share it."""

    def __init__(self, fig: Figure, ax: Any, tag: Any = None) -> None:
        self.fig, self.ax, self.tag = fig, ax, tag
        self.ax.set_title(" ", fontsize=ax.title.get_fontsize())  # the title's place, filled per call
        self.spines = [sp for sp in ax.spines.values() if sp.get_visible()]
        for sp in self.spines:  # kept out: a call draws them, over its lines as a whole draw would
            sp.set_visible(False)
        self.canvas = FigureCanvasAgg(self.fig)
        self.canvas.draw()
        self.pixels = self.canvas.copy_from_bbox(self.fig.bbox)
        for sp in self.spines:
            sp.set_visible(True)
        self.lock = threading.Lock()

    def render(self, marks: Callable[[], list[Any]]) -> tuple[np.ndarray, PixelMap]:
        """``marks()`` adds this call's artists (and may set the title); they are drawn over the kept
        pixels in the figure's z-order, then removed. Returns the ``(H, W, 3)`` picture and its click map."""
        with self.lock:
            size = self.ax.title.get_fontsize()
            self.canvas.restore_region(self.pixels)
            added = marks()
            try:
                renderer = self.canvas.get_renderer()
                for a in sorted([*added, *self.spines, self.ax.title], key=lambda a: a.get_zorder()):
                    a.draw(renderer)
                rgba = np.asarray(self.canvas.buffer_rgba())
                return rgba[..., :3].copy(), _pixel_map(self.fig, self.ax, rgba.shape)
            finally:
                for a in added:
                    a.remove()
                self.ax.set_title(" ", fontsize=size)


class _Backdrops:
    """Kept backdrops by key, at most ``size`` (the oldest goes first); ``build()`` makes a missing one."""

    def __init__(self, size: int) -> None:
        self.size, self.items, self.lock = size, OrderedDict[Any, _Backdrop](), threading.Lock()

    def get(self, key: Any, tag: Any, build: Callable[[], tuple[Figure, Any]]) -> _Backdrop:
        with self.lock:
            b = self.items.get(key)
            if b is None or b.tag is not tag:      # e.g. a new grid (another resolution) replaces the old picture
                b = self.items[key] = _Backdrop(*build(), tag)
            self.items.move_to_end(key)
            while len(self.items) > self.size:
                self.items.popitem(last=False)
            return b


_BACKDROPS = _Backdrops(len(SURFACES))
_LOSS_BACKDROPS = _Backdrops(16)


def surface_image(grid: Any, traj: Any | None = None, surface: str | None = None, upto: int | None = None
                  ) -> tuple[np.ndarray, PixelMap]:
    """:func:`surface_figure` as an ``(H, W, 3)`` uint8 picture and the :class:`PixelMap` of its main axes
    (a click on the picture → the start (x, y)).

    The bands, colour bar and axes of each surface are drawn once and kept; a call restores those
    pixels and draws its stars, paths, legend and title over them in the figure's z-order: about 4×
    quicker than drawing the whole figure, and pixel for pixel the same picture (a test checks)."""
    name = str(traj.surface if traj is not None else surface)
    info = SURFACES[name]
    b = _BACKDROPS.get(name, grid, lambda: _surface_axes(grid, info))
    return b.render(lambda: _surface_marks(b.fig, b.ax, info, traj, upto, None))


def loss_limits(traj: Any) -> tuple[bool, tuple[float, float], tuple[float, float]]:
    """(log scale?, x limits, y limits) of the loss picture: the steps 0 … T, and the finite losses
    widened to whole decades (log scale, when every loss is positive) or to round numbers (linear), so
    that nearby runs share one kept backdrop."""
    from matplotlib.ticker import MaxNLocator

    finite = traj.loss[torch.isfinite(traj.loss)]
    lo, hi = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 1.0)
    xlim = (0.0, float(max(traj.loss.shape[1] - 1, 1)))
    if lo > 0:
        a, b = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
        return True, xlim, (10.0 ** a, 10.0 ** max(b, a + 1))
    if hi - lo < 1e-12 * max(1.0, abs(hi)):
        lo, hi = lo - 0.5, hi + 0.5
    ticks = MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]).tick_values(lo, hi)
    return False, xlim, (float(ticks[ticks <= lo].max()), float(ticks[ticks >= hi].min()))


def _loss_axes(log: bool, xlim: tuple[float, float], ylim: tuple[float, float]) -> tuple[Figure, Any]:
    """The loss picture's static part: axes at a fixed position, limits, scale, labels and ticks."""
    fig, ax = new_figure(figsize=(W, 3.4))
    fig.set_layout_engine(None)  # no engine: the picture's parts keep their pixels
    ax.set_position((0.14, 0.15, 0.83, 0.76))
    if log:
        ax.set_yscale("log")
    ax.set(xlim=xlim, ylim=ylim, xlabel="step t", ylabel="L(θ_t)")
    ax.set_title(" ", fontsize=10)
    return fig, ax


def _loss_marks(ax: Any, traj: Any, title: str) -> list[Any]:
    out = []
    for k, (spec, c) in enumerate(zip(traj.specs, run_colors(traj.specs))):
        end = traj.diverged_at[k]
        y = traj.loss[k, : (end if end is not None else traj.loss.shape[1])].numpy()
        out += ax.plot(np.arange(len(y)), y, color=c, lw=1.4, label=spec.name + (" ✗" if end is not None else ""))
    out.append(ax.legend(fontsize=8, ncol=2, loc="upper right"))
    ax.set_title(title, fontsize=10)
    return out


def loss_figure(traj: Any, title: str = "loss per step") -> Figure:
    """Loss (noise-free) against the step, one line per run (log scale when all are positive); the
    limits of :func:`loss_limits`.

    A fixed layout, as the contour picture's: the layout engine cost more than the drawing, and
    with no engine at all ``savefig`` draws once instead of twice."""
    fig, ax = _loss_axes(*loss_limits(traj))
    _loss_marks(ax, traj, title)
    return fig


def loss_image(traj: Any, title: str = "loss per step") -> np.ndarray:
    """:func:`loss_figure` as an ``(H, W, 3)`` uint8 picture, pixel for pixel (a test checks).

    Its axes, ticks and labels depend only on :func:`loss_limits`, so they are drawn once per limits
    and kept (at most 16); a call draws its lines, legend and title over them. Matplotlib's tick
    machinery is most of a small figure's cost: on this 2-core CPU the whole figure takes about
    110-150 ms to draw, the kept one about a fifth of that."""
    key = loss_limits(traj)
    b = _LOSS_BACKDROPS.get(key, None, lambda: _loss_axes(*key))
    return b.render(lambda: _loss_marks(b.ax, traj, title))[0]


def hessian_figure(report: Any) -> Figure:
    """The real loss near θ' (filled) and its second-order model (dashed), the eigenvectors
    (red: negative curvature, the escape; blue: positive) and −g."""
    xs, ys, real, quad = report.window
    fig, ax = new_figure(figsize=(W, 4.4))
    _contours(ax, xs, ys, real, colorbar=fig, label="L (real function)")
    lv = np.linspace(float(real.min()), float(real.max()), 12)
    ax.contour(xs.numpy(), ys.numpy(), quad.numpy(), levels=lv, colors="black", linestyles="dashed", linewidths=0.8)
    p = report.point.numpy()
    r = float(xs[-1] - xs[0]) / 4
    for k in range(2):
        lam = float(report.eigenvalues[k])
        v = report.eigenvectors[:, k].numpy() * r
        col = "#dc2626" if lam < 0 else "#2563eb"
        for sgn in (1, -1):
            ax.annotate("", xy=(p[0] + sgn * v[0], p[1] + sgn * v[1]), xytext=(p[0], p[1]),
                        arrowprops={"arrowstyle": "->", "color": col, "lw": 2})
        ax.text(p[0] + v[0] * 1.15, p[1] + v[1] * 1.15, f"λ = {lam:.4g}", color=col, fontsize=9, ha="center",
                va="center", bbox={"facecolor": "white", "alpha": 0.8, "lw": 0, "pad": 1})
    g = report.grad.numpy()
    if report.grad_norm > 0:
        d = -g / np.linalg.norm(g) * r
        ax.annotate("", xy=(p[0] + d[0], p[1] + d[1]), xytext=(p[0], p[1]),
                    arrowprops={"arrowstyle": "-|>", "color": "#16a34a", "lw": 2})
    ax.plot([p[0]], [p[1]], marker="o", ms=7, color="white", mec="black", zorder=6)
    ax.set(xlim=(float(xs[0]), float(xs[-1])), ylim=(float(ys[0]), float(ys[-1])), xlabel="θ₁", ylabel="θ₂")
    ax.set_title(f"{report.verdict} at ({p[0]:.3g}, {p[1]:.3g}) · dashed: Taylor model", fontsize=10)
    return fig


def figure_pixels(fig: Figure, ax: Any | None = None) -> tuple[np.ndarray, PixelMap]:
    """Render ``fig`` to an ``(H, W, 3)`` uint8 picture and the :class:`PixelMap` of ``ax`` (default: the
    first axes) in it: a click on the picture → data (x, y)."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    rgba = np.asarray(canvas.buffer_rgba())
    return rgba[..., :3].copy(), _pixel_map(fig, ax if ax is not None else fig.axes[0], rgba.shape)


def _pixel_map(fig: Figure, ax: Any, shape: tuple[int, ...]) -> PixelMap:
    height, width = shape[:2]
    box = ax.get_window_extent()  # display pixels, origin bottom-left, after the layout ran
    return PixelMap(float(box.x0), float(height - box.y1), float(box.x1), float(height - box.y0),
                    tuple(float(v) for v in ax.get_xlim()), tuple(float(v) for v in ax.get_ylim()),  # type: ignore[arg-type]
                    int(width), int(height))


def hessian_image(report: Any) -> tuple[np.ndarray, PixelMap]:
    """:func:`hessian_figure` as a picture and its click map (a click → the next point to inspect)."""
    return figure_pixels(hessian_figure(report))


def warmup_figure(cmp: Any) -> Figure:
    """Top: each step's length ‖θ_{t+1} − θ_t‖ (the first steps are where warm-up matters);
    bottom: the learning rate η_t each variant used."""
    tr = cmp.traj
    fig, (a1, a2) = new_figure(2, 1, figsize=(W, 5.6), sharex=True)
    cols = run_colors(tr.specs)
    n = min(tr.points.shape[1] - 1, max(4 * cmp.warmup_steps, 3 * cmp.early))
    styles = ["-", "--", "-.", ":"]
    for k, spec in enumerate(tr.specs):
        div = tr.diverged_at[k]
        m = n if div is None else min(n, div)                            # a diverged run's line ends there
        ls = styles[k % len(styles)]
        a1.plot(np.arange(1, m + 1), cmp.step_length[k, :m].numpy(), color=cols[k], lw=1.4, ls=ls,
                label=spec.name + (f" ✗ step {div}" if div is not None else ""))
        a2.plot(np.arange(1, n + 1), tr.lrs[k, :n].numpy(), color=cols[k], lw=1.4, ls=ls)
    a1.axhline(cmp.adam_first_bound, color="gray", ls="--", lw=0.9)
    a1.text(n, cmp.adam_first_bound, "η·√2 (Adam's step 1)", fontsize=8, ha="right", va="bottom", color="gray")
    a1.axvline(cmp.warmup_steps, color="gray", ls=":", lw=0.9)
    a2.axvline(cmp.warmup_steps, color="gray", ls=":", lw=0.9)
    a1.set(ylabel="‖θ_{t+1} − θ_t‖")
    a1.set_yscale("symlog", linthresh=max(cmp.adam_first_bound * 1e-3, 1e-9))
    a1.set_ylim(bottom=0)                                                 # lengths are ≥ 0
    a1.set_title("step length: warm-up keeps Adam's first steps small", fontsize=10)
    a1.legend(fontsize=8)
    a2.set(xlabel="step t", ylabel="η_t")
    a2.set_title("learning rate per step (dotted: the end of warm-up W)", fontsize=10)
    return fig


def landscape_figure(land: Any, title: str | None = None) -> Figure:
    """Filled contours of a real network's 2-D slice f(α, β) = L(θ* + α·d₁ + β·d₂) (Li et al. 2018), with
    the trained weights θ* marked at the centre. A partial landscape (streamed rows) shows the rows
    computed so far inside the full axes.

    Args:
        land: :class:`~dlcore.optim_viz.landscape.Landscape`.
    """
    fig, ax = new_figure(figsize=(W, 4.6))
    xs, ys, z = land.xs, land.ys, land.loss
    rows = int(land.rows)
    span = float(land.config.span)
    if rows >= 2:
        _contours(ax, xs, ys[:rows], z[:rows], n=16, cmap="viridis", colorbar=fig, label="test loss (cross-entropy)")
    elif rows == 1:
        ax.scatter(xs.numpy(), ys[:1].numpy().repeat(len(xs)), c=z[0].numpy(), cmap="viridis", s=30, marker="s")
    if not land.complete:  # the rows still to come (or never computed, after a stop)
        ax.axhspan(float(ys[rows - 1]) if rows else -span * 1.05, span * 1.05, color="#e5e7eb", alpha=0.6, lw=0)
    ax.plot([0.0], [0.0], marker="*", ms=15, color="gold", mec="black", mew=0.8, ls="none", zorder=6,
            label=f"θ* (trained), loss {land.own_loss:.3g}")
    ax.legend(loc="lower left", fontsize=8, framealpha=0.85)
    ax.set(xlim=(-span, span), ylim=(-span, span), xlabel="α (along d₁)", ylabel="β (along d₂)")
    ax.set_aspect("equal")
    g = land.config.grid
    ax.set_title(title or f"{land.model}: L(θ* + α·d₁ + β·d₂), {g}×{g} on {land.config.n_images:,} test images",
                 fontsize=9.5)
    return fig


def minima_figure(res: Any) -> Figure:
    """SGD-momentum against Adam from one start (:func:`dlcore.optim_viz.minima.compare_minima`): the
    mini-batch loss per step (running mean of 10), and, once training is done, the test loss along the
    straight line between the two minima (t = 0 SGD's, t = 1 Adam's) and along a filter-normalised
    direction through each minimum (its sharpness).

    Args:
        res: :class:`~dlcore.optim_viz.minima.MinimaComparison` (partial while training streams).
    """
    from dlcore.optim_viz.minima import LINE_T, SHARP_A

    fig, axes = new_figure(1, 3, figsize=(3 * W * 0.62, 3.3))
    colors = [PALETTE[0], PALETTE[1]]
    ax = axes[0]
    k = min(10, res.step) or 10                                                      # a short run: mean of all
    for run, c in zip(res.runs, colors):
        z = run.train_loss[:res.step]
        if len(z):
            smooth = torch.nn.functional.avg_pool1d(z[None, None].float(), k, 1)[0, 0]   # running mean
            ax.plot(np.arange(k, len(z) + 1), smooth.numpy(), color=c, label=f"{run.label} (lr {run.lr:g})",
                    marker="o" if len(smooth) == 1 else None, clip_on=len(smooth) > 1)  # one point: a whole dot
    ax.set(xlim=(0, res.config.steps), xlabel="step", ylabel=f"mini-batch loss (mean of {k})",
           title=f"training from one start, step {res.step}/{res.config.steps}")
    ax.legend(fontsize=8)
    ax = axes[1]
    if res.line is not None:
        ax.plot(LINE_T.numpy(), res.line.numpy(), color="black")
        ax.axvspan(0, 1, color="#e5e7eb", alpha=0.6, lw=0)
        for t, run, c in ((0.0, res.runs[0], colors[0]), (1.0, res.runs[1], colors[1])):
            ax.plot([t], [run.test_loss], "o", color=c, ms=7, label=f"{run.label}'s minimum")
        ax.legend(fontsize=8)
        _plain_log_y(ax)
    ax.set(xlabel="t in (1 − t)·θ_SGD + t·θ_Adam", ylabel="test loss",
           title="the straight line between them" if res.line is not None else "(after training)")
    ax = axes[2]
    if res.line is not None:
        for run, c in zip(res.runs, colors):
            if run.sharp is not None:
                ax.plot(SHARP_A.numpy(), run.sharp.numpy(), color=c, label=f"{run.label}, rise {run.sharpness:.3f}")
        ax.legend(fontsize=8)
        _plain_log_y(ax)
    ax.set(xlabel="α along a filter-normalised direction", ylabel="test loss",
           title="sharpness: one slice through each" if res.line is not None else "(after training)")
    return fig


def _plain_log_y(ax: Any) -> None:
    """A log y axis labelled 0.5, 1, 2, 5 rather than 5×10⁻¹, 10⁰, 2×10⁰ (other minor ticks unlabelled)."""
    import math

    from matplotlib.ticker import FuncFormatter

    def minor(v: float, _: object) -> str:
        lead = round(v / 10 ** math.floor(math.log10(v))) if v > 0 else 0
        return f"{v:g}" if lead in (2, 5) else ""

    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(FuncFormatter(minor))
