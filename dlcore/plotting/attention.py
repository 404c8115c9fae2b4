"""Figures for attention: kernel regression, attention-weight heat maps, positional encodings,
RoPE and the CNN / RNN / self-attention sweep.

Each function takes what :mod:`dlcore.attention` returns and gives a ``Figure`` (object-oriented
matplotlib, no pyplot). Widths suit a column of about 440–640 px; text is raised to
:data:`dlcore.plotting.train.MIN_PT` by :func:`~dlcore.plotting.train.legible` so it stays ≥ 8 pt
on a phone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import numpy as np
import torch
from matplotlib.figure import Figure

from dlcore.plotting import PALETTE, new_figure
from dlcore.plotting.train import legible

if TYPE_CHECKING:
    from dlcore.attention.calculator import AttentionReport
    from dlcore.attention.complexity import ComplexitySweep
    from dlcore.attention.pooling import NWData, ParametricFrame
    from dlcore.attention.positional import RopeScores, ShiftProof

__all__ = ["regression_figure", "pooling_weights_figure", "training_figure", "calculator_figure", "pe_figure",
           "rotation_figure", "rope_figure", "complexity_figure"]


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().double().cpu().numpy()


def regression_figure(data: "NWData", predictions: dict[str, torch.Tensor], title: str = "") -> Figure:
    """Training pairs (dots), the noise-free truth (dashed) and each named prediction over the queries."""
    fig, ax = new_figure(figsize=(6.4, 4.2))
    ax.plot(_np(data.x_train), _np(data.y_train), "o", color="#9ca3af", ms=4, label="training pairs (x_i, y_i)")
    ax.plot(_np(data.x_test), _np(data.y_truth), "--", color="#111827", lw=1.4, label="truth 2 sin x + x^0.8")
    for i, (label, pred) in enumerate(predictions.items()):
        ax.plot(_np(data.x_test), _np(pred), color=PALETTE[i % len(PALETTE)], lw=2, label=label)
    ax.set(xlabel="x (query)", ylabel="y", title=title or "Nadaraya–Watson kernel regression")
    fig.legend(loc="outside lower center", ncol=2, fontsize=9, frameon=False)
    return legible(fig)


def pooling_weights_figure(data: "NWData", weights: dict[str, torch.Tensor]) -> Figure:
    """Attention weights α(x_query, x_i) ``(n_test, n_train)`` as heat maps, one panel per name."""
    k = len(weights)
    fig, axes = new_figure(1, k, figsize=(3.3 * k + 0.6, 3.5), squeeze=False)
    x0, x1 = float(data.x_train.min()), float(data.x_train.max())
    for ax, (label, w) in zip(axes[0], weights.items()):
        ax.grid(False)
        im = ax.imshow(_np(w.nan_to_num(0.0)), cmap="Reds", aspect="auto", vmin=0,
                       extent=(-0.5, w.shape[1] - 0.5, float(data.x_test[-1]), float(data.x_test[0])))
        ax.set(title=label, xlabel=f"key i (sorted x_i, {x0:.1f} … {x1:.1f})", ylabel="query x")
        fig.colorbar(im, ax=ax, shrink=0.85)
    return legible(fig)


def training_figure(frames: Sequence["ParametricFrame"], w0: float) -> Figure:
    """Training loss and w per epoch (w₀ at epoch 0)."""
    fig, axes = new_figure(1, 2, figsize=(6.4, 2.9))
    ep = [f.epoch for f in frames]
    axes[0].plot(ep, [f.loss for f in frames], "o-", color=PALETTE[0], ms=3)
    axes[0].set(xlabel="epoch", ylabel="Σ (f(x_i) − y_i)²", title="training loss")
    axes[1].plot([0, *ep], [w0, *[f.w for f in frames]], "o-", color=PALETTE[1], ms=3)
    axes[1].set(xlabel="epoch", ylabel="w", title="learned w (= 1/σ)")
    return legible(fig)


def _annotated(ax: object, m: np.ndarray, title: str, diverging: bool, fmt: str = "{:.2f}") -> None:
    """A small matrix as a heat map with its values written in (−∞ for masked scores)."""
    ax.grid(False)  # type: ignore[attr-defined]
    finite = np.where(np.isfinite(m), m, np.nan)
    top = float(np.nanmax(np.abs(finite))) or 1.0
    lo, hi = (-top, top) if diverging else (0.0, max(top, 1e-12))
    ax.imshow(finite, cmap="coolwarm" if diverging else "Reds", aspect="auto", vmin=lo, vmax=hi)  # type: ignore
    h, w = m.shape
    if h * w <= 100:
        for i in range(h):
            for j in range(w):
                v = m[i, j]
                strong = np.isfinite(v) and (abs(v) if diverging else v) > 0.6 * top
                ax.text(j, i, "−∞" if np.isneginf(v) else fmt.format(v), ha="center", va="center",  # type: ignore
                        fontsize=8, color="white" if strong else "black")
    ax.set_xticks(range(w))  # type: ignore[attr-defined]
    ax.set_yticks(range(h))  # type: ignore[attr-defined]
    ax.set(title=title, xlabel="key j", ylabel="query i")  # type: ignore[attr-defined]


def calculator_figure(report: "AttentionReport") -> Figure:
    """Scaled (masked) scores and the weights A; one row of panels per head for the multi-head split."""
    if report.multi is not None:
        r = report.multi.heads
        panels = [(_np(r.masked[h]), _np(r.weights[h]), f" head {h + 1}") for h in range(report.multi.num_heads)]
    else:
        r = report.single  # type: ignore[assignment]
        panels = [(_np(r.masked), _np(r.weights), "")]
    rows = len(panels)
    n, m = panels[0][1].shape
    cell = 0.42 if max(n, m) <= 8 else 0.3
    fig, axes = new_figure(rows, 2, figsize=(max(6.0, 2 * m * cell + 2.4), rows * max(2.2, n * cell + 1.3)),
                           squeeze=False)
    what = ("scaled scores S'" if report.config.scoring == "scaled_dot" else "scores S") + (
        ", masked" if report.config.mask != "none" else "")
    for (s, a, tag), ax in zip(panels, axes):
        _annotated(ax[0], s, (tag.strip() + ": " if tag else "") + what, diverging=True)
        _annotated(ax[1], a, (tag.strip() + ": " if tag else "") + "weights A = softmax(S')", diverging=False)
    return legible(fig, min_pt=9.0, title_pt=11.0)


def pe_figure(pe: torch.Tensor, marks: Sequence[int] = ()) -> Figure:
    """The sinusoidal table ``(n, d)``: positions down, dimensions across (columns 2j: sin, 2j+1: cos)."""
    fig, ax = new_figure(figsize=(6.4, 3.8))
    ax.grid(False)
    im = ax.imshow(_np(pe), cmap="RdBu_r", aspect="auto", vmin=-1, vmax=1, interpolation="nearest")
    for p in marks:
        ax.axhline(p, color="#111827", lw=1, ls="--")
    fig.colorbar(im, ax=ax, shrink=0.85)
    ax.set(xlabel="dimension (2j: sin, 2j+1: cos)", ylabel="position i",
           title=f"sinusoidal positional encoding P ({pe.shape[0]}×{pe.shape[1]})")
    return legible(fig)


def rotation_figure(proof: "ShiftProof", pairs: int = 4) -> Figure:
    """For the first pairs j: (p_{i,2j}, p_{i,2j+1}) of every position on the unit circle, with PE(p)
    (circle), PE(p + δ) (square) and M_δ PE(p) (cross): the block turns the pair by δ ω_j."""
    k = min(pairs, proof.blocks.shape[0])
    fig, axes = new_figure(1, k, figsize=(2.2 * k + 0.5, 2.7), squeeze=False)
    t = np.linspace(0, 2 * np.pi, 200)
    for j, ax in enumerate(axes[0]):
        pts = _np(proof.pe[:, 2 * j:2 * j + 2])
        ax.plot(np.cos(t), np.sin(t), color="#e5e7eb", lw=1)
        ax.plot(pts[:, 0], pts[:, 1], ".", color="#9ca3af", ms=3)
        a, b, c = (_np(v[2 * j:2 * j + 2]) for v in (proof.pe_p, proof.pe_shifted, proof.mapped))
        ax.plot(*a, "o", color=PALETTE[0], ms=7, label=f"PE({proof.position})")
        ax.plot(*b, "s", color=PALETTE[1], ms=9, mfc="none", mew=2, label=f"PE({proof.position + proof.delta})")
        ax.plot(*c, "x", color="#111827", ms=8, mew=2, label="M_δ PE(p)")
        ax.set_aspect("equal")
        ax.set(xlim=(-1.2, 1.2), ylim=(-1.2, 1.2), title=f"pair j = {j}", xlabel="sin", ylabel="cos" if j == 0 else "")
    axes[0, 0].legend(loc="lower left", fontsize=8, bbox_to_anchor=(0, -0.02))
    return legible(fig, min_pt=9.0, title_pt=11.0)


def rope_figure(r: "RopeScores") -> Figure:
    """RoPE scores ⟨R_m q, R_n k⟩ over (m, n): constant along each diagonal (offset n − m), and the
    score against the offset."""
    fig, axes = new_figure(1, 2, figsize=(6.6, 3.2))
    axes[0].grid(False)
    im = axes[0].imshow(_np(r.scores), cmap="coolwarm", aspect="auto")
    fig.colorbar(im, ax=axes[0], shrink=0.85)
    axes[0].set(xlabel="key position n", ylabel="query position m", title="RoPE score q_m · k_n")
    axes[1].plot(_np(r.offsets), _np(r.by_offset), "o-", color=PALETTE[0], ms=3)
    axes[1].set(xlabel="offset n − m", ylabel="score", title=f"score by offset (spread {r.spread:.0e})")
    return legible(fig, min_pt=9.0, title_pt=11.0)


def complexity_figure(sweep: "ComplexitySweep") -> Figure:
    """Measured ms per forward pass and counted MACs against n (log–log), and the path lengths."""
    fig, axes = new_figure(1, 3, figsize=(9.6, 3.3))
    for i, kind in enumerate(sweep.times):
        c = PALETTE[i]
        n = sweep.lengths[: len(sweep.times[kind])]
        axes[0].plot(n, sweep.times[kind], "o-", color=c, ms=4, label=kind)
        axes[1].plot(sweep.lengths, sweep.macs[kind], "o-", color=c, ms=4, label=kind)
        if sweep.paths:
            axes[2].plot(sweep.path_lengths, sweep.paths[kind], "o-", color=c, ms=4, label=kind)
    axes[1].axvline(sweep.d, color="#6b7280", ls=":", lw=1)
    axes[1].text(sweep.d, max(max(v) for v in sweep.macs.values()),
                 f" n = d = {sweep.d}", fontsize=9, va="top", color="#374151")
    for ax, title, ylabel in ((axes[0], "measured time (1 thread)", "ms per forward pass"),
                              (axes[1], "counted work", "multiply-accumulates"),
                              (axes[2], "maximum path length", "layers (steps) from $x_0$ to $y_{n-1}$")):
        ax.set_xscale("log", base=2)
        if ax is not axes[2]:
            ax.set_yscale("log")
        ax.set(xlabel="sequence length n", ylabel=ylabel, title=title)
    axes[0].legend(fontsize=9)
    return legible(fig, min_pt=9.0, title_pt=11.0)
