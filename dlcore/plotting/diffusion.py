"""Figures for the diffusion panels: schedules, the forward process, the reverse step-through,
the seed's 1-D histogram against N(3, 2²), 2-D samples and the training loss.

Inputs are the dataclasses of :mod:`dlcore.generative` (``ForwardTrajectory``,
``SampleResult``, ``ToySamples``, the dict of :func:`~dlcore.generative.schedule_curves`).
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch
from matplotlib.figure import Figure

from dlcore.plotting import PALETTE, new_figure
from dlcore.plotting.generative import MIN_PT, REAL, FAKE, finish

__all__ = ["schedules_figure", "forward_figure", "reverse_figure", "histogram_vs_target_figure", "points_figure",
           "loss_figure", "sampler_steps_figure"]


def schedules_figure(curves: dict[str, dict[str, torch.Tensor]]) -> Figure:
    """``alpha_bar_t`` and ``sqrt(alpha_bar_t)`` (signal kept), and ``SNR(t)`` (log scale) per schedule.

    Args:
        curves: :func:`dlcore.generative.schedule_curves` output.
    """
    fig, (ax, bx) = new_figure(2, 1, figsize=(4.8, 5.4))
    for i, (name, c) in enumerate(curves.items()):
        col = PALETTE[i % len(PALETTE)]
        t = c["t"].numpy()
        ax.plot(t, c["alpha_bar"].numpy(), color=col, lw=2, label=f"ᾱ_t {name}")
        ax.plot(t, c["sqrt_alpha_bar"].numpy(), color=col, ls="--", label=f"√ᾱ_t {name}")
        bx.plot(t, c["snr"].numpy(), color=col, lw=2, label=name)
    ax.set(title="signal kept: x_t = √ᾱ_t x₀ + √(1−ᾱ_t) ε", xlabel="t", ylim=(-0.02, 1.02))
    ax.legend(fontsize=MIN_PT, ncols=2)
    bx.set_yscale("log")
    bx.axhline(1.0, color="gray", ls=":", lw=1)
    bx.set(title="SNR(t) = ᾱ_t / (1 − ᾱ_t)", xlabel="t")
    bx.legend(fontsize=MIN_PT)
    return finish(fig)


def _points_row(axes, frames: torch.Tensor, titles: Sequence[str], extent: tuple[float, float] | None,
                color: str) -> None:
    for ax, x, title in zip(axes, frames, titles):
        x = x.detach().cpu()
        if x.shape[-1] == 1:
            lo, hi = extent or (float(x.min()), float(x.max()))
            ax.hist(x[:, 0].numpy(), bins=40, range=(lo, hi), density=True, color=color, alpha=0.8)
            ax.set_yticks([])
        else:
            ax.scatter(x[:, 0].numpy(), x[:, 1].numpy(), s=2, c=color, alpha=0.5, linewidths=0)
            if extent is not None:
                ax.set(xlim=extent, ylim=extent)
            ax.set_aspect("equal")
            ax.set_xticks([])
            ax.set_yticks([])
        ax.set_title(title, fontsize=MIN_PT)


def forward_figure(traj, *, max_frames: int = 8) -> Figure:
    """The forward process at several ``t``: images side by side, 1-D histograms or 2-D scatters.

    Args:
        traj: :class:`dlcore.generative.ForwardTrajectory` (``x_t`` ``(K, N, ...)``).
    """
    k = min(len(traj.timesteps), max_frames)
    idx = np.linspace(0, len(traj.timesteps) - 1, k).round().astype(int)
    titles = [f"t={traj.timesteps[i] + 1}\nᾱ={float(traj.alpha_bar[i]):.3f}" for i in idx]
    x = traj.x_t[idx]
    if x.ndim == 5:  # images (K, N, C, H, W): first image of the batch
        fig, axes = new_figure(1, k, figsize=(1.3 * k, 1.9), squeeze=False)
        for ax, img, title in zip(axes[0], x[:, 0], titles):
            ax.imshow(img[0].numpy(), cmap="gray", vmin=0, vmax=1)
            ax.axis("off")
            ax.set_title(title, fontsize=MIN_PT)
        return finish(fig)
    fig, axes = new_figure(1, k, figsize=(1.5 * k, 2.0), squeeze=False)
    lim = float(torch.quantile(x.abs().flatten().float(), 0.995)) * 1.05 + 1e-6
    _points_row(axes[0], x, titles, (-lim, lim) if x.shape[-1] == 2 else (min(-lim, -4.0), max(lim, 4.0)), PALETTE[0])
    return finish(fig)


def reverse_figure(result, *, frame: int | None = None, n_images: int = 8) -> Figure:
    """The reverse chain: ``x_t`` (top) and the predicted ``x0_hat`` (bottom).

    Args:
        result: :class:`dlcore.generative.SampleResult` (images as pixels, or points).
        frame: one kept frame to show large (a step-through slider's value), or None for the
            strip of all kept frames (first image only, for images).
        n_images: images per row in the single-frame view.
    """
    traj, x0 = result.trajectory, result.pred_x0
    steps = [result.timesteps[i] for i in result.kept]
    if frame is not None:
        frame = max(0, min(int(frame), len(traj) - 1))
        xt, xh = traj[frame], x0[frame]
        label = f"t = {steps[frame] + 1}"
        if xt.ndim == 4:
            m = min(n_images, len(xt))
            fig, axes = new_figure(2, m, figsize=(1.2 * m, 3.0), squeeze=False)
            for j in range(m):
                for r, src in enumerate((xt, xh)):
                    axes[r, j].imshow(src[j, 0].numpy(), cmap="gray", vmin=0, vmax=1)
                    axes[r, j].axis("off")
            axes[0, 0].set_title(f"x_t ({label})", fontsize=MIN_PT, loc="left")
            axes[1, 0].set_title("predicted x̂₀", fontsize=MIN_PT, loc="left")
            return finish(fig)
        fig, axes = new_figure(1, 2, figsize=(4.8, 2.6), squeeze=False)
        _points_row(axes[0], torch.stack([xt, xh]), [f"x_t ({label})", "predicted x̂₀"], None, PALETTE[0])
        return finish(fig)
    k = len(traj)
    titles = [f"t={t + 1}" for t in steps]
    if traj.ndim == 5:
        fig, axes = new_figure(2, k, figsize=(1.15 * k, 2.9), squeeze=False)
        for j in range(k):
            for r, src in enumerate((traj, x0)):
                axes[r, j].imshow(src[j, 0, 0].numpy(), cmap="gray", vmin=0, vmax=1)
                axes[r, j].axis("off")
            axes[0, j].set_title(titles[j], fontsize=MIN_PT)
        axes[1, 0].set_title("x̂₀", fontsize=MIN_PT, loc="left")
        return finish(fig)
    fig, axes = new_figure(2, k, figsize=(1.4 * k, 3.2), squeeze=False)
    lim = float(torch.quantile(traj[0].abs().flatten().float(), 0.995)) * 1.1 + 1e-6
    ext = (-lim, lim) if traj.shape[-1] == 2 else (min(-lim, -4.0), max(lim, 9.0))
    _points_row(axes[0], traj, titles, ext, PALETTE[0])
    _points_row(axes[1], x0, ["x̂₀"] * k, ext, PALETTE[2])
    return finish(fig)


def histogram_vs_target_figure(toy_samples, data: torch.Tensor | None = None) -> Figure:
    """The seed's final picture: samples' histogram against the N(3, 2²) density, with mean and std.

    Args:
        toy_samples: :class:`dlcore.generative.ToySamples` of the 1-D toy. data: training points.
    """
    x = toy_samples.result.samples[:, 0].numpy()
    mu, sd = toy_samples.target_mean, toy_samples.target_std
    lo, hi = (mu - 4.5 * sd, mu + 4.5 * sd) if math.isfinite(mu) else (float(x.min()), float(x.max()))
    fig, ax = new_figure(figsize=(4.8, 3.4))
    if data is not None:
        ax.hist(data[:, 0].numpy(), bins=50, range=(lo, hi), density=True, color=REAL, alpha=0.35, label="training data")
    ax.hist(x, bins=50, range=(lo, hi), density=True, color=FAKE, alpha=0.55, label="generated")
    if math.isfinite(mu):
        g = np.linspace(lo, hi, 400)
        ax.plot(g, np.exp(-0.5 * ((g - mu) / sd) ** 2) / (sd * math.sqrt(2 * math.pi)), color="black", lw=1.6,
                label=f"N({mu:g}, {sd:g}²)")
    m, s = float(toy_samples.mean[0]), float(toy_samples.std[0])
    ax.set(title=f"samples: mean {m:.2f}, std {s:.2f} (n={len(x)})", xlabel="x", ylabel="density")
    ax.legend(fontsize=MIN_PT)
    return finish(fig)


def points_figure(samples: torch.Tensor, data: torch.Tensor | None = None, *, title: str = "") -> Figure:
    """2-D generated points over the training data."""
    fig, ax = new_figure(figsize=(4.4, 4.2))
    if data is not None:
        ax.scatter(data[:, 0].numpy(), data[:, 1].numpy(), s=3, c=REAL, alpha=0.35, label="data", linewidths=0)
    ax.scatter(samples[:, 0].numpy(), samples[:, 1].numpy(), s=3, c=FAKE, alpha=0.6, label="generated", linewidths=0)
    ax.set_aspect("equal")
    ax.set_title(title or f"{len(samples)} samples")
    ax.legend(fontsize=MIN_PT, markerscale=3)
    return finish(fig)


def loss_figure(losses: Sequence[float], *, total: int | None = None, title: str = "DDPM loss ‖ε − ε_θ‖²") -> Figure:
    """Per-step training loss (faint) and its moving average (solid)."""
    fig, ax = new_figure(figsize=(4.8, 3.0))
    y = np.asarray(list(losses), dtype=float)
    if len(y):
        x = np.arange(1, len(y) + 1)
        ax.plot(x, y, color=PALETTE[0], alpha=0.3, lw=0.8)
        w = max(1, min(50, len(y) // 10))
        ax.plot(x[w - 1:], np.convolve(y, np.ones(w) / w, mode="valid"), color=PALETTE[0], lw=2,
                label=f"mean of {w} steps")
        ax.legend(fontsize=MIN_PT)
    else:
        ax.text(0.5, 0.5, "waiting for the first step…", ha="center", va="center", transform=ax.transAxes, color="gray")
    if total:
        ax.set_xlim(0, total)
    ax.set(title=title, xlabel="step")
    return finish(fig)


def sampler_steps_figure(steps: Sequence[int], seconds: Sequence[float], scores: Sequence[float] | None = None) -> Figure:
    """Quality vs sampling steps: time taken per run (and a score, e.g. mean confidence)."""
    fig, ax = new_figure(figsize=(4.8, 3.2))
    ax.plot(list(steps), list(seconds), "o-", color=PALETTE[0], label="seconds")
    ax.set(xscale="log", xlabel="sampling steps", ylabel="seconds", title="DDIM: steps vs time and quality")
    if scores is not None:
        bx = ax.twinx()
        bx.plot(list(steps), list(scores), "s--", color=PALETTE[1], label="score")
        bx.set_ylabel("classifier confidence")
        bx.set_ylim(0, 1.02)
    return finish(fig)
