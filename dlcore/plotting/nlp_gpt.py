"""Figures for the GPT tab: next-token distributions, per-token surprise, beam scores over steps."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from matplotlib.figure import Figure

from dlcore.nlp.tokens import readable_token as show_token
from dlcore.plotting import PALETTE, new_figure

__all__ = ["next_token_bars", "step_bars", "surprise_bars", "beam_history_plot", "show_token"]


def next_token_bars(tokens: Sequence[str], p_before: Sequence[float], p_after: Sequence[float], *,
                    chosen: int | None = None, title: str = "Next-token distribution") -> Figure:
    """Horizontal bars: softmax(z) of the raw logits vs the distribution after T / top-k / top-p.

    Args:
        tokens: candidate tokens, most likely first.
        p_before, p_after: their probabilities before and after the filters (same length).
        chosen: index (into ``tokens``) of the token that was picked, highlighted. Default None.
    """
    n = len(tokens)
    fig, ax = new_figure(figsize=(6.4, 0.32 * n + 1.4))
    y = np.arange(n)
    ax.barh(y - 0.2, p_before, height=0.4, color=PALETTE[7], alpha=0.6, label="p = softmax(z) (raw)")
    ax.barh(y + 0.2, p_after, height=0.4, color=PALETTE[0], label="p used (after T, top-k, top-p)")
    labels = [show_token(t) for t in tokens]
    ax.set_yticks(y, labels)
    if chosen is not None and 0 <= chosen < n:
        ax.get_yticklabels()[chosen].set_color(PALETTE[1])
        ax.get_yticklabels()[chosen].set_fontweight("bold")
    ax.invert_yaxis()
    ax.set_xlabel("probability")
    ax.set_xlim(0, max(1e-3, float(max(max(p_before), max(p_after)))) * 1.15)
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=8)
    return fig


def step_bars(view: object, title: str) -> Figure:
    """:func:`next_token_bars` of one generated step (a :class:`dlcore.nlp.decoding.StepView`), its pick marked."""
    v: Any = view
    return next_token_bars(v.tokens, v.p_before, v.p_after, chosen=v.chosen, title=title)


def surprise_bars(tokens: Sequence[str], bits: Sequence[float], *, perplexity: float | None = None) -> Figure:
    """Surprise -log₂ P(x_t | x_<t) of every token of a text, one bar per token."""
    n = len(tokens)
    fig, ax = new_figure(figsize=(min(14.0, 1.2 + 0.42 * n), 3.4))
    vals = np.nan_to_num(np.asarray(bits, dtype=float), nan=0.0)
    cmap_vals = np.clip(vals / max(12.0, float(vals.max()) if n else 1.0), 0, 1)
    colors = [(0.95 * c + 0.05, 0.35 * (1 - c) + 0.25, 0.9 * (1 - c) + 0.1) for c in cmap_vals]
    ax.bar(np.arange(n), vals, color=colors)
    ax.set_xticks(np.arange(n), [show_token(t) for t in tokens], rotation=60, ha="right", fontsize=8)
    ax.set_ylabel("surprise (bits)")
    title = "Surprise −log₂ P(token | before)"
    if perplexity is not None:
        title += f"\nperplexity {perplexity:.2f}"
    ax.set_title(title)
    return fig


def beam_history_plot(history: Sequence[Sequence[tuple[str, float]]], finished: Sequence[float] = ()) -> Figure:
    """Summed log-probability of the running beams (rank 1..k) after each step.

    Args:
        history: per step, the running beams as (text, summed log p), best first.
        finished: final length-normalised scores of the finished beams (drawn as a rug).
    """
    fig, ax = new_figure(figsize=(6.4, 3.4))
    if history:
        k = len(history[0])
        steps = np.arange(1, len(history) + 1)
        for r in range(k):
            ys = [h[r][1] if r < len(h) and h[r][1] > -1e8 else np.nan for h in history]
            ax.plot(steps, ys, marker="o", ms=3, label=f"beam rank {r + 1}")
        ax.set_xlabel("step (tokens generated)")
        ax.legend(fontsize=8)
    ax.set_ylabel("Σ log p (running beams)")
    ax.set_title("Beam search: scores of the k running beams")
    for s in finished:
        ax.axhline(s, color=PALETTE[7], lw=0.6, ls=":")
    return fig
