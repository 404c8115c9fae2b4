"""Figures for the BERT tab: embeddings, attention maps, fill-the-blank, fine-tune vs in-context."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from matplotlib.figure import Figure

from dlcore.plotting import PALETTE, heatmap, new_figure

__all__ = ["embedding_components_figure", "attention_figure", "heads_grid_figure", "attention_from_figure",
           "fill_mask_figure", "finetune_figure"]


def _short(tokens: Sequence[str], n: int = 12) -> list[str]:
    return [t if len(t) <= n else t[: n - 1] + "…" for t in tokens]


def embedding_components_figure(tokens: Sequence[str], token_emb: torch.Tensor, position_emb: torch.Tensor,
                                segment_emb: torch.Tensor, emb_sum: torch.Tensor, *, dims: int = 32) -> Figure:
    """Four heatmaps (tokens x first ``dims`` dimensions): E_token, E_position, E_segment, their sum.

    Shape: every tensor (L, H); only the first ``dims`` of the H dimensions are drawn.
    """
    parts = [("E_token", token_emb), ("E_position", position_emb), ("E_segment", segment_emb),
             ("E = sum of the three", emb_sum)]
    d = min(dims, token_emb.shape[1])
    L = len(tokens)
    fig, axes = new_figure(1, 4, figsize=(15, 1.6 + 0.28 * L), squeeze=False)
    vmax = float(max(p[:, :d].abs().max() for _, p in parts)) or 1.0
    for ax, (name, m) in zip(axes[0], parts):
        ax.grid(False)
        im = ax.imshow(m[:, :d].detach().float().numpy(), cmap="RdBu_r", vmin=-vmax, vmax=vmax, aspect="auto")
        ax.set_title(name)
        ax.set_xlabel(f"dimension (first {d} of {token_emb.shape[1]})")
        ax.set_yticks(range(L), labels=_short(tokens) if ax is axes[0][0] else [""] * L)
    fig.colorbar(im, ax=axes[0].tolist(), shrink=0.8)
    return fig


def attention_figure(attn: torch.Tensor, tokens: Sequence[str], *, title: str = "",
                     highlight: int | None = None) -> Figure:
    """Heatmap of one (L, L) attention map: row i = query token i, column j = key token j."""
    L = len(tokens)
    fig = heatmap(attn, xlabels=_short(tokens), ylabels=_short(tokens), title=title, cmap="Blues",
                  vmin=0.0, vmax=float(attn.max()), annotate=False,
                  figsize=(min(2.5 + 0.38 * L, 11), min(2.0 + 0.34 * L, 10)))
    ax = fig.axes[0]
    if L <= 12:  # values on the cells; dark text on light cells (the Blues map is light for small values)
        m = attn.detach().float().cpu()
        mid = float(m.max()) / 2
        for i in range(L):
            for j in range(L):
                ax.text(j, i, f"{float(m[i, j]):.2f}", ha="center", va="center", fontsize=7,
                        color="white" if float(m[i, j]) > mid else "black")
    ax.set_xlabel("attends to (key)")
    ax.set_ylabel("token (query)")
    if highlight is not None and 0 <= highlight < L:
        ax.axhline(highlight - 0.5, color=PALETTE[1], lw=1.5)
        ax.axhline(highlight + 0.5, color=PALETTE[1], lw=1.5)
    return fig


def heads_grid_figure(attn_layer: torch.Tensor, tokens: Sequence[str], *, layer: int, selected: int = 0) -> Figure:
    """Small multiples: every head's (L, L) attention map in one layer (bertviz's "model view" for one row).

    Shape: attn_layer (K, L, L). ``selected`` (1-based, 0 = none) gets a red frame.
    """
    k = attn_layer.shape[0]
    ncols = min(k, 6)
    nrows = -(-k // ncols)
    fig, axes = new_figure(nrows, ncols, figsize=(2.0 * ncols, 2.0 * nrows + 0.4), squeeze=False)
    for h, ax in enumerate(axes.flat):
        ax.grid(False)
        ax.set_xticks([])
        ax.set_yticks([])
        if h >= k:
            ax.axis("off")
            continue
        ax.imshow(attn_layer[h].detach().float().numpy(), cmap="Blues", vmin=0.0, vmax=1.0)
        ax.set_title(f"head {h + 1}", fontsize=9, color=PALETTE[1] if h + 1 == selected else "black")
        if h + 1 == selected:
            for side in ax.spines.values():
                side.set_visible(True)
                side.set_color(PALETTE[1])
                side.set_linewidth(2)
    fig.suptitle(f"layer {layer}: all {k} heads ({len(tokens)} tokens; row = query, column = key)")
    return fig


def attention_from_figure(row: torch.Tensor, tokens: Sequence[str], source: int, *, title: str = "") -> Figure:
    """Bar chart: how much token ``source`` attends to every token (one attention row, sums to 1)."""
    L = len(tokens)
    fig, ax = new_figure(figsize=(min(3 + 0.38 * L, 11), 3.2))
    colors = [PALETTE[1] if i == source else PALETTE[0] for i in range(L)]
    ax.bar(range(L), row.detach().float().numpy(), color=colors)
    ax.set_xticks(range(L), labels=_short(tokens), rotation=60 if L > 6 else 0, ha="right" if L > 6 else "center")
    ax.set_ylabel("attention weight")
    ax.set_title(title or f"attention from token {source} ({tokens[source]!r})")
    return fig


def fill_mask_figure(words: Sequence[str], probs: Sequence[float], *, title: str = "") -> Figure:
    """Horizontal bars of the top candidates for [MASK], best on top."""
    n = len(words)
    fig, ax = new_figure(figsize=(6, 1.0 + 0.32 * n))
    y = np.arange(n)[::-1]
    ax.barh(y, list(probs), color=PALETTE[0])
    ax.set_yticks(y, labels=list(words))
    for yi, p in zip(y, probs):
        ax.text(p, yi, f" {p:.1%}", va="center", fontsize=8)
    ax.set_xlabel("probability")
    ax.set_xlim(0, max(max(probs, default=0) * 1.25, 0.05))
    ax.set_title(title)
    return fig


def finetune_figure(losses: Sequence[float], accuracies: dict[str, float] | None = None) -> Figure:
    """Left: training loss of the linear head per epoch; right: test accuracy of every method."""
    fig, axes = new_figure(1, 2, figsize=(10, 3.4), squeeze=False)
    ax = axes[0][0]
    ax.plot(range(1, len(losses) + 1), list(losses), color=PALETTE[0])
    ax.set(title="linear head on frozen encoder: training loss", xlabel="epoch (full batch)",
           ylabel="cross-entropy")
    ax = axes[0][1]
    if accuracies:
        names = list(accuracies)
        vals = [accuracies[k] for k in names]
        colors = [PALETTE[0] if n.startswith("head") else PALETTE[2] for n in names]
        ax.bar(range(len(names)), vals, color=colors)
        ax.set_xticks(range(len(names)), labels=names, rotation=20, ha="right")
        for i, v in enumerate(vals):
            ax.text(i, v, f"{v:.0%}", ha="center", va="bottom", fontsize=9)
    ax.set_ylim(0, 1.1)
    ax.set(title="test accuracy (blue: head, green: in-context)", ylabel="accuracy")
    return fig
