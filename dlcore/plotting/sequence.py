"""Figures for the sequence family: sine predictors, gates over time, ‖∂h_T/∂h_t‖, clipping,
the char model's curves and the seq2seq error curves and attention map.

Each function takes what :mod:`dlcore.sequence` returns and gives a ``Figure`` (object-oriented
matplotlib, no pyplot), text raised by :func:`~dlcore.plotting.train.legible`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Mapping, Sequence

import numpy as np
import torch
from matplotlib.figure import Figure

from dlcore.plotting import PALETTE, new_figure
from dlcore.plotting.train import legible

if TYPE_CHECKING:
    from dlcore.sequence.charlm import CharProgress
    from dlcore.sequence.gradients import ClipRun, JacobianNorms
    from dlcore.sequence.inside import InsideStep
    from dlcore.sequence.seq2seq import Seq2SeqProgress

__all__ = ["CELL_COLORS", "sine_figure", "gates_figure", "jacobian_figure", "clipping_figure", "char_figure",
           "seq2seq_figure", "seq2seq_attention_figure"]

#: One colour per cell across every figure of the tab.
CELL_COLORS: dict[str, str] = {"rnn": PALETTE[3 % len(PALETTE)], "lstm": PALETTE[0], "gru": PALETTE[2 % len(PALETTE)]}


def _np(t: torch.Tensor | Sequence[float]) -> np.ndarray:
    if isinstance(t, torch.Tensor):
        return t.detach().double().cpu().numpy()
    return np.asarray(t, dtype=float)


def sine_figure(t: np.ndarray, truth: torch.Tensor, predictions: Mapping[str, torch.Tensor],
                curves: Mapping[str, tuple[Sequence[float], Sequence[float]]] | None = None,
                rolling: Mapping[str, torch.Tensor] | None = None, xlabel: str = "time") -> Figure:
    """Prediction vs truth on the test split (left) and, when given, the per-epoch train (solid) and
    test (dashed) MSE of each cell (right, log scale). ``rolling``: multi-step forecasts (dotted)."""
    two = bool(curves)
    fig, axes = new_figure(1, 2 if two else 1, figsize=(10.4 if two else 6.4, 3.8), squeeze=False,
                           gridspec_kw={"width_ratios": [3, 2]} if two else None)
    ax = axes[0][0]
    ax.plot(t, _np(truth), color="#9ca3af", lw=3, label="truth (test split)")
    for cell, p in predictions.items():
        ax.plot(t, _np(p), color=CELL_COLORS.get(cell, "#111827"), lw=1.5, label=f"{cell.upper()} one step ahead")
    for cell, p in (rolling or {}).items():
        ax.plot(t, _np(p), ":", color=CELL_COLORS.get(cell, "#111827"), lw=1.8, label=f"{cell.upper()} rolling")
    ax.set(xlabel=xlabel, ylabel="value", title="prediction vs truth")
    ax.legend(fontsize=9, loc="lower left", frameon=False, ncol=2)
    if two:
        ax = axes[0][1]
        for cell, (train, test) in curves.items():  # type: ignore[union-attr]
            c = CELL_COLORS.get(cell, "#111827")
            e = np.arange(1, len(train) + 1)
            ax.plot(e, _np(train), color=c, lw=1.8, label=f"{cell.upper()} train")
            if len(test) and all(math.isfinite(v) for v in test):
                ax.plot(e[:len(test)], _np(test), "--", color=c, lw=1.4, label=f"{cell.upper()} test")
        ax.set_yscale("log")
        ax.set(xlabel="epoch", ylabel="MSE", title="loss per epoch")
        ax.legend(fontsize=9, frameon=False, ncol=2)
    return legible(fig)


def gates_figure(v: "InsideStep") -> Figure:
    """Every gate and state over time for one sequence, ``(H units × T steps)`` heat maps, with the
    input on top and the written-out step and unit marked."""
    from dlcore.sequence.inside import GATE_NAMES

    names = list(v.gates)
    cols = 1 if len(names) == 1 else 2
    rows = math.ceil(len(names) / cols)
    fig, axes = new_figure(rows + 1, cols, figsize=(5.2 * cols + 0.6, 1.3 + 2.3 * rows), squeeze=False,
                           gridspec_kw={"height_ratios": [0.55] + [1.0] * rows})
    T = len(v.x)
    top = fig.add_subplot(axes[0][0].get_gridspec()[0, :])
    for ax in axes[0]:
        ax.remove()
    top.plot(np.arange(1, T + 1), _np(v.x), "o-", color="#111827", ms=3, lw=1)
    top.axvline(v.t + 1, color="#dc2626", lw=1)
    top.set(title=f"input x_t (step t = {v.t + 1} marked)", xlim=(0.5, T + 0.5))
    for k, name in enumerate(names):
        ax = axes[1 + k // cols][k % cols]
        ax.grid(False)
        m = _np(v.gates[name]).T                                        # (H, T)
        signed = name in ("g", "n", "h", "c")
        lim = max(1e-9, float(np.abs(m).max())) if signed else 1.0
        im = ax.imshow(m, aspect="auto", cmap="RdBu_r" if signed else "viridis", vmin=-lim if signed else 0,
                       vmax=lim, extent=(0.5, T + 0.5, m.shape[0] - 0.5, -0.5), interpolation="nearest")
        ax.plot([v.t + 1], [v.unit], "s", mfc="none", mec="#dc2626", ms=7, mew=1.5)
        ax.set(title=GATE_NAMES.get(name, name), xlabel="step t", ylabel="unit j")
        fig.colorbar(im, ax=ax, shrink=0.85)
    for k in range(len(names), rows * cols):
        axes[1 + k // cols][k % cols].set_visible(False)
    return legible(fig)


def jacobian_figure(results: Mapping[str, "JacobianNorms"]) -> Figure:
    """``‖∂h_T/∂h_t‖`` against t for each cell (log scale): hand-derived (line), autograd (dots);
    the LSTM's cell line ``‖Π diag(f_k)‖`` dashed."""
    fig, ax = new_figure(figsize=(6.6, 4.0))
    for cell, j in results.items():
        c = CELL_COLORS.get(cell, "#111827")
        t = np.arange(len(j.hand))
        floor = 1e-300
        ax.plot(t, np.maximum(_np(j.hand), floor), color=c, lw=2, label=f"{cell.upper()} (hand-derived)")
        ax.plot(t, np.maximum(_np(j.autograd), floor), "o", color=c, ms=3.5, mfc="none", label=f"{cell.upper()} autograd")
        if j.cell_path is not None:
            ax.plot(t, np.maximum(_np(j.cell_path), floor), "--", color=c, lw=1.4, label="LSTM cell line ‖Π diag(f)‖")
    ax.set_yscale("log")
    T = len(next(iter(results.values())).hand) - 1 if results else 0
    ax.set(xlabel=f"t (h_t; T = {T})", ylabel="‖∂h_T/∂h_t‖", title="how much of h_t still reaches h_T")
    ax.legend(fontsize=9, frameon=False, ncol=2)
    return legible(fig)


def clipping_figure(runs: Sequence["ClipRun"]) -> Figure:
    """Per-step loss (left) and gradient norm before clipping (right, with the threshold τ)."""
    fig, axes = new_figure(1, 2, figsize=(10.4, 3.8))
    colors = ["#dc2626", PALETTE[0]]
    for k, r in enumerate(runs):
        c = colors[k % 2]
        steps = np.arange(1, len(r.step_loss) + 1)
        loss = np.where(np.isfinite(_np(r.step_loss)), _np(r.step_loss), np.nan)
        axes[0].plot(steps, loss, color=c, lw=1.3, label=r.label)
        axes[1].plot(np.arange(1, len(r.grad_norm) + 1), _np(r.grad_norm), color=c, lw=1.3, label=r.label)
        if r.threshold > 0:
            axes[1].axhline(r.threshold, color=c, ls="--", lw=1, label=f"τ = {r.threshold:g}")
    for ax, title, ylabel in ((axes[0], "training loss per step", "MSE"),
                              (axes[1], "‖g‖ before clipping", "gradient norm")):
        ax.set_yscale("log")
        ax.set(title=title, xlabel="step", ylabel=ylabel)
        ax.legend(fontsize=9, frameon=False)
    return legible(fig)


def char_figure(p: "CharProgress") -> Figure:
    """Training loss per step (left) and validation perplexity with the uniform and unigram
    baselines (right)."""
    fig, axes = new_figure(1, 2, figsize=(10.4, 3.6))
    if p.step_loss:
        axes[0].plot(np.arange(1, len(p.step_loss) + 1), _np(p.step_loss), color=PALETTE[0], lw=1.2)
    axes[0].set(title="cross-entropy per step", xlabel="step", ylabel="nats per character")
    if p.val_ppl:
        s, v = zip(*p.val_ppl)
        axes[1].plot(s, v, "o-", color=PALETTE[0], lw=1.8, label="validation perplexity")
    axes[1].axhline(len(p.data.vocab), color="#9ca3af", ls=":", label=f"uniform guess (V = {len(p.data.vocab)})")
    axes[1].axhline(p.data.unigram_ppl, color="#6b7280", ls="--", label=f"character frequencies ({p.data.unigram_ppl:.1f})")
    axes[1].set_yscale("log")
    axes[1].set(title="perplexity exp(H)", xlabel="step", ylabel="perplexity", xlim=(0, max(p.total, 1)))
    axes[1].legend(fontsize=9, frameon=False)
    return legible(fig)


def seq2seq_figure(runs: Mapping[str, "Seq2SeqProgress"]) -> Figure:
    """Token error over training, teacher-forced (dashed) and free-running (solid), per run (left);
    free-running error by output position at the end (right): exposure bias grows along the output."""
    fig, axes = new_figure(1, 2, figsize=(10.4, 3.8))
    for k, (label, p) in enumerate(runs.items()):
        c = PALETTE[k % len(PALETTE)]
        if p.curve:
            s, tf, fr, _ = zip(*p.curve)
            axes[0].plot(s, fr, "-", color=c, lw=2, label=f"{label}: free-running")
            axes[0].plot(s, tf, "--", color=c, lw=1.3, label=f"{label}: teacher-forced")
        if p.final is not None:
            pos = _np(p.final.fr_position)
            axes[1].plot(np.arange(1, len(pos) + 1), pos, "o-", color=c, lw=1.6, label=f"{label}: free-running")
            axes[1].plot(np.arange(1, len(pos) + 1), _np(p.final.tf_position), "o--", color=c, lw=1, ms=3,
                         label=f"{label}: teacher-forced")
    axes[0].set(title="token error on 512 held-out strings", xlabel="step", ylabel="wrong tokens", ylim=(0, 1))
    axes[1].set(title="error by output position", xlabel="output position (last = ⏎ end)", ylabel="wrong tokens",
                ylim=(0, 1))
    for ax in axes:
        ax.legend(fontsize=9, frameon=False)
    return legible(fig)


def seq2seq_attention_figure(src: str, out: str, weights: torch.Tensor) -> Figure:
    """The decoder's attention ``(T_out, S)`` over the input digits for one string."""
    w = _np(weights)
    fig, ax = new_figure(figsize=(max(3.6, 0.45 * len(src) + 1.8), max(3.0, 0.4 * len(out) + 1.4)))
    ax.grid(False)
    im = ax.imshow(w, cmap="Reds", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(src)), list(src))
    ax.set_yticks(range(len(out)), list(out))
    ax.set(xlabel="input digit (encoder state h_s)", ylabel="output step", title="attention a_t(s)")
    fig.colorbar(im, ax=ax, shrink=0.85)
    return legible(fig)
