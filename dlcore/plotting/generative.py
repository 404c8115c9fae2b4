"""Figures for the GAN panels and the image-model checks.

Every function takes a dataclass of :mod:`dlcore.generative` (or tensors) and returns a
``Figure``: the live GAN frame, its loss / modes-covered curves, JS vs W1 against the shift,
sample grids, a latent interpolation strip, the classifier's class histogram and
nearest-training-image pairs. Text is at least :data:`MIN_PT` points.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.text import Text

from dlcore.plotting import PALETTE, new_figure

__all__ = ["MIN_PT", "finish", "gan_frame_figure", "gan_curves_figure", "divergence_figure", "sample_grid_figure",
           "interpolation_figure", "class_histogram_figure", "neighbours_figure"]

MIN_PT = 9.0
REAL, FAKE = "#16a34a", "#7c3aed"


def finish(fig: Figure, min_pt: float = MIN_PT) -> Figure:
    """Raise every text of ``fig`` to at least ``min_pt`` points."""
    for t in fig.findobj(Text):
        if t.get_fontsize() < min_pt:
            t.set_fontsize(min_pt)
    return fig


def gan_frame_figure(frame, *, show_arrows: bool = True, show_surface: bool = True) -> Figure:
    """One live-GAN frame: D's decision surface as a heat map, real (green) and generated (purple)
    points, and the generator's gradient arrows ``-dL_G/dx`` at ``G(z)`` for a latent grid.

    Args:
        frame: a :class:`dlcore.generative.GANFrame`.
    """
    fig, ax = new_figure(figsize=(5.4, 4.6))
    ax.grid(False)
    x0, x1, y0, y1 = frame.extent
    if show_surface:
        s = frame.surface.numpy()
        if frame.surface_kind.startswith("P"):
            im = ax.imshow(s, origin="lower", extent=(x0, x1, y0, y1), cmap="RdBu", vmin=0, vmax=1, alpha=0.55,
                           aspect="auto")
        else:
            v = float(np.abs(s - np.median(s)).max()) or 1.0
            im = ax.imshow(s, origin="lower", extent=(x0, x1, y0, y1), cmap="RdBu", alpha=0.55, aspect="auto",
                           vmin=float(np.median(s)) - v, vmax=float(np.median(s)) + v)
        fig.colorbar(im, ax=ax, shrink=0.8, label=frame.surface_kind)
    r, g = frame.real.numpy(), frame.samples.numpy()
    ax.scatter(r[:, 0], r[:, 1], s=5, c=REAL, alpha=0.5, label="real data", linewidths=0)
    ax.scatter(g[:, 0], g[:, 1], s=5, c=FAKE, alpha=0.6, label="G(z)", linewidths=0)
    if show_arrows and len(frame.arrow_from):
        p, d = frame.arrow_from.numpy(), frame.arrow_dir.numpy()
        norm = np.linalg.norm(d, axis=1, keepdims=True)
        scale = 0.06 * (x1 - x0) / max(float(np.median(norm)), 1e-12)  # a typical arrow = 6 % of the box
        d = d * scale
        cap = 0.15 * (x1 - x0)
        long = np.linalg.norm(d, axis=1, keepdims=True)
        d = np.where(long > cap, d * cap / np.maximum(long, 1e-12), d)
        ax.quiver(p[:, 0], p[:, 1], d[:, 0], d[:, 1], angles="xy", scale_units="xy", scale=1, color="#111827",
                  width=0.004, alpha=0.8)
    ax.set(xlim=(x0, x1), ylim=(y0, y1), title=f"step {frame.step} · {frame.objective} · "
                                               f"modes {frame.modes_covered}/{frame.n_modes}")
    ax.set_aspect("equal")
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncols=2, markerscale=3, fontsize=MIN_PT)
    return finish(fig)


def gan_curves_figure(curves, *, n_modes: int | None = None, critic: bool = False) -> Figure:
    """Losses of D and G per frame (and the W1 estimate for WGANs) above the modes covered.

    Args:
        curves: a :class:`dlcore.generative.GANCurves` (e.g. ``frame.curves``).
        n_modes: the toy's mode count (the ceiling of the lower panel).
        critic: also draw ``E[D(real)] - E[D(fake)]`` (the WGAN critic's W1 estimate).
    """
    fig, (ax, bx) = new_figure(2, 1, figsize=(4.8, 5.0))
    st = list(curves.step)
    ax.plot(st, curves.d_loss, color=PALETTE[0], label="D loss")
    ax.plot(st, curves.g_loss, color=PALETTE[1], label="G loss")
    if critic:
        ax.plot(st, curves.wasserstein, color=PALETTE[2], ls="--", label="W1 estimate")
    ax.set(title="losses", xlabel="generator step")
    ax.legend(fontsize=MIN_PT)
    bx.step(st, curves.modes, where="post", color=PALETTE[4], label="modes covered")
    if n_modes:
        bx.axhline(n_modes, color="gray", ls=":", lw=1)
        bx.set_ylim(-0.3, n_modes + 0.5)
    hq = bx.twinx()
    hq.plot(st, curves.high_quality, color=PALETTE[3], alpha=0.7, label="share on a mode")
    hq.set_ylim(0, 1.02)
    hq.set_ylabel("share of samples on a mode")
    bx.set(title="mode collapse watch", xlabel="generator step", ylabel="modes covered")
    return finish(fig)


def divergence_figure(sweep, point=None) -> Figure:
    """JS saturates, W1 keeps growing: both against the shift (bottom), and the two
    distributions at the slider's shift (top, when ``point`` is given).

    Args:
        sweep: a :class:`dlcore.generative.DivergenceSweep`. point: a :class:`DivergencePoint`.
    """
    nrows = 2 if point is not None else 1
    fig, axes = new_figure(nrows, 1, figsize=(4.8, 3.3 * nrows + 0.3), squeeze=False)
    ax = axes[-1, 0]
    s = sweep.shifts.numpy()
    ax.plot(s, sweep.js.numpy(), color=PALETTE[1], lw=2, label="JS (exact)")
    every = max(1, len(s) // 20)
    ax.plot(s[::every], sweep.js_hist.numpy()[::every], "o", color=PALETTE[1], ms=4, mfc="none",
            label="JS (histogram of samples)")
    ax.axhline(sweep.log2, color=PALETTE[1], ls=":", lw=1)
    ax.text(s[-1], sweep.log2, "log 2", ha="right", va="bottom", color=PALETTE[1])
    ax.plot(s, sweep.w1.numpy(), color=PALETTE[0], lw=2, label="W1 (exact)")
    ax.plot(s[::every], sweep.w1_samples.numpy()[::every], "s", color=PALETTE[0], ms=4, mfc="none",
            label="W1 (sorted samples)")
    if point is not None:
        ax.axvline(point.shift, color="gray", lw=1)
    ax.set(title=f"JS vs Wasserstein ({sweep.pair})", xlabel="shift θ", ylabel="divergence / distance (nats, units)")
    ax.legend(fontsize=MIN_PT, loc="upper left")
    if point is not None:
        bx = axes[0, 0]
        x = point.x.numpy()
        bx.fill_between(x, point.p.numpy(), color=REAL, alpha=0.4, label="P")
        bx.fill_between(x, point.q.numpy(), color=FAKE, alpha=0.4, label="Q = P shifted")
        bx.set(title=f"θ = {point.shift:.2f}: JS {point.js:.3f}, W1 {point.w1:.2f}", xlabel="x", ylabel="density")
        bx.legend(fontsize=MIN_PT)
    return finish(fig)


def _grid(images: torch.Tensor, titles: Sequence[str] | None, ncols: int, cell: float, suptitle: str | None) -> Figure:
    n = len(images)
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    extra = 0.3 * (max(t.count("\n") for t in titles) + 1) if titles else 0.0
    fig, axes = new_figure(nrows, ncols, figsize=(cell * ncols, (cell + extra) * nrows + (0.4 if suptitle else 0)),
                           squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            ax.imshow(images[i, 0].detach().cpu().numpy(), cmap="gray", vmin=0, vmax=1)
            if titles is not None and i < len(titles):
                ax.set_title(titles[i], fontsize=MIN_PT)
    if suptitle:
        fig.suptitle(suptitle)
    return finish(fig)


def sample_grid_figure(images: torch.Tensor, score=None, *, ncols: int = 8, title: str = "") -> Figure:
    """A grid of generated images ``(N, 1, H, W)`` in [0, 1]; with a :class:`SampleScore`, each
    image is titled with the classifier's verdict and confidence."""
    titles = None
    if score is not None:
        titles = [f"{score.classes[int(p)][:9]}\n{float(c):.2f}" for p, c in zip(score.predictions, score.confidences)]
    return _grid(images, titles, ncols, 1.25, title or None)


def interpolation_figure(interp) -> Figure:
    """A latent walk (:class:`dlcore.generative.Interpolation`): each image with its fraction and verdict."""
    sc = interp.score
    titles = [f"{float(a):.2f}\n{sc.classes[int(p)][:9]}\n{float(c):.2f}"
              for a, p, c in zip(interp.fractions, sc.predictions, sc.confidences)]
    return _grid(interp.images, titles, len(interp.images), 1.1, "latent interpolation (fraction, verdict, confidence)")


def class_histogram_figure(score, reference=None) -> Figure:
    """Samples per predicted class (bars) with the mean confidence and the IS analogue in the title;
    ``reference`` (real test images' :class:`SampleScore`) is drawn as outlines for scale."""
    fig, ax = new_figure(figsize=(5.2, 3.8))
    k = np.arange(len(score.class_counts))
    share = score.class_counts.numpy() / max(score.n, 1)
    ax.bar(k, share, color=PALETTE[0], label=f"samples (n={score.n})")
    if reference is not None:
        ax.bar(k, reference.class_counts.numpy() / max(reference.n, 1), fill=False, edgecolor="black",
               label="real test images")
    ax.set_xticks(k, labels=[c[:8] for c in score.classes], rotation=60, ha="right")
    t = f"confidence {score.mean_confidence:.2f} · IS {score.inception_score:.2f}"
    if reference is not None:
        t += f" (real: {reference.mean_confidence:.2f}, {reference.inception_score:.2f})"
    ax.set(title=t, ylabel="share of samples")
    ax.legend(fontsize=MIN_PT)
    return finish(fig)


def neighbours_figure(samples: torch.Tensor, neighbours, max_rows: int = 8) -> Figure:
    """Each sample (left) beside its nearest training images with their L2 distances."""
    n = min(len(samples), max_rows)
    k = neighbours.images.shape[1]
    fig, axes = new_figure(n, k + 1, figsize=(1.5 * (k + 1), 1.65 * n + 0.5), squeeze=False)
    for i in range(n):
        ax = axes[i, 0]
        ax.imshow(samples[i, 0].cpu().numpy(), cmap="gray", vmin=0, vmax=1)
        ax.set_title("sample", fontsize=MIN_PT)
        for j in range(k):
            bx = axes[i, j + 1]
            bx.imshow(neighbours.images[i, j, 0].cpu().numpy(), cmap="gray", vmin=0, vmax=1)
            bx.set_title(f"L2 {float(neighbours.distances[i, j]):.2f}", fontsize=MIN_PT)
    for ax in axes.flat:
        ax.axis("off")
    typ = neighbours.typical
    fig.suptitle("nearest training images" + (f"\n(real test images: median {typ:.1f})" if math.isfinite(typ) else ""))
    return finish(fig)
