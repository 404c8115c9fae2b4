"""Figures of the graphs tab: drawn graphs, Â, the receptive field, training, over-smoothing.

Graphs are drawn by hand on an ``Axes`` (a ``LineCollection`` for the edges, ``scatter`` for the
nodes): ``networkx.draw`` would go through pyplot's global state. Only the layout comes from
networkx (``spring_layout`` with a fixed seed, so a graph is always drawn the same way).
"""

from __future__ import annotations

import functools
from typing import Sequence

import numpy as np
import torch
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from dlcore.graphs.graph import Graph
from dlcore.plotting import PALETTE, new_figure

__all__ = ["layout", "draw_graph", "calculator_figure", "receptive_figure", "training_figure", "curves_figure",
           "smoothing_figure", "attention_figure"]

FACTION = ["#2563eb", "#dc2626"]


@functools.lru_cache(maxsize=64)
def _layout(n: int, edges: tuple[tuple[int, int], ...], seed: int) -> np.ndarray:
    import networkx as nx

    g = nx.Graph()
    g.add_nodes_from(range(n))
    g.add_edges_from(edges)
    pos = nx.spring_layout(g, seed=seed) if edges else {i: (np.cos(i), np.sin(i)) for i in range(n)}
    return np.array([pos[i] for i in range(n)], dtype=float)


def layout(graph: Graph, seed: int = 7) -> np.ndarray:
    """Node positions (n, 2): networkx's spring layout with a fixed seed (cached per graph)."""
    return _layout(graph.n, tuple(graph.undirected_edges), seed)


def draw_graph(ax: object, graph: Graph, colors: Sequence[str] | str = "#94a3b8", *, sizes: float = 260,
               edge_colors: Sequence[str] | str = "#94a3b8", edge_widths: Sequence[float] | float = 1.0,
               ring: Sequence[int] = (), ring_color: str = "#111827", labels: bool = True) -> None:
    """Draw ``graph`` on ``ax`` (edges, nodes, ids); ``ring`` nodes get a thick outline."""
    pos = layout(graph)
    segs = [[pos[a], pos[b]] for a, b in graph.undirected_edges]
    ax.add_collection(LineCollection(segs, colors=edge_colors, linewidths=edge_widths, zorder=1))  # type: ignore
    ax.scatter(pos[:, 0], pos[:, 1], s=sizes, c=colors, edgecolors="white", linewidths=1.0, zorder=2)  # type: ignore
    if len(ring):
        r = list(ring)
        ax.scatter(pos[r, 0], pos[r, 1], s=sizes * 1.5, facecolors="none", edgecolors=ring_color,  # type: ignore
                   linewidths=2.2, zorder=3)
    if labels:
        for i, (px, py) in enumerate(pos):
            ax.text(px, py, str(i), ha="center", va="center", fontsize=7 if graph.n > 20 else 9,  # type: ignore
                    color="white", zorder=4, fontweight="bold").set_in_layout(False)  # inside the nodes
    ax.set_aspect("equal")  # type: ignore
    ax.margins(0.08)  # type: ignore
    ax.axis("off")  # type: ignore


def calculator_figure(graph: Graph, a_hat: torch.Tensor, node: int, pred: torch.Tensor | None = None) -> Figure:
    """The graph (node v ringed, its neighbours darker) beside Â as an annotated heat map."""
    fig, (ax, hm) = new_figure(1, 2, figsize=(8.6, 3.8))
    nb = set(graph.edge_index[0][graph.edge_index[1] == node].tolist())
    if pred is not None:
        colors = [PALETTE[int(c) % len(PALETTE)] for c in pred.tolist()]
        ax.set_title(f"colour = predicted class; node {node} ringed")
    else:
        colors = ["#d97706" if i == node else "#2563eb" if i in nb else "#94a3b8" for i in range(graph.n)]
        ax.set_title(f"node {node} (orange), its neighbours (blue)")
    draw_graph(ax, graph, colors, ring=[node])
    m = a_hat.numpy()
    hm.imshow(m, cmap="Blues", vmin=0, vmax=max(float(m.max()), 1e-9))
    hm.grid(False)
    if graph.n <= 12:
        for i in range(graph.n):
            for j in range(graph.n):
                if m[i, j]:
                    hm.text(j, i, f"{m[i, j]:.2f}", ha="center", va="center", fontsize=8,
                            color="white" if m[i, j] > 0.6 * m.max() else "black")
    hm.set_title("Â = D̃^-1/2 (A + I) D̃^-1/2")
    hm.set_xlabel("from node u")
    hm.set_ylabel("to node v")
    return fig


def receptive_figure(graph: Graph, node: int, k: int, hops: Sequence[int | None], influence: torch.Tensor) -> Figure:
    """Nodes within k hops of ``node`` shaded by hop distance; the autograd influence as bars."""
    fig, (ax, bars) = new_figure(1, 2, figsize=(9.0, 3.9), gridspec_kw={"width_ratios": [1.25, 1]})
    shades = ["#d97706", "#1d4ed8", "#3b82f6", "#60a5fa", "#93c5fd", "#bfdbfe", "#dbeafe", "#eff6ff", "#f8fafc"]
    colors = [shades[min(d, len(shades) - 1)] if d is not None and d <= k else "#e5e7eb" for d in hops]
    inside = {u for u, d in enumerate(hops) if d is not None and d <= k}
    ecol = ["#1d4ed8" if a in inside and b in inside else "#e5e7eb" for a, b in graph.undirected_edges]
    draw_graph(ax, graph, colors, edge_colors=ecol, ring=[node])
    ax.set_title(f"{k}-layer GCN: node {node} sees {len(inside)} of {graph.n} nodes")
    infl = influence.numpy()
    bars.bar(range(graph.n), infl, color=["#1d4ed8" if u in inside else "#dc2626" for u in range(graph.n)])
    bars.set_xlabel("input node u")
    bars.set_ylabel(f"Σ |∂h_{node} / ∂x_u|")
    bars.set_title("autograd: nonzero exactly within k hops")
    return fig


def training_figure(graph: Graph, embedding: torch.Tensor, pred: torch.Tensor, labelled: Sequence[int],
                    epoch: int, accuracy: float) -> Figure:
    """Left: the 2-D embedding coloured by true faction (labelled nodes ringed). Right: the graph
    coloured by the predicted faction."""
    assert graph.labels is not None
    fig, (sc, ax) = new_figure(1, 2, figsize=(9.0, 4.0))
    z = embedding.numpy()
    true = graph.labels.tolist()
    sc.scatter(z[:, 0], z[:, 1], c=[FACTION[c] for c in true], s=55, edgecolors="white", zorder=2)
    sc.scatter(z[labelled, 0], z[labelled, 1], s=150, facecolors="none", edgecolors="#111827", linewidths=2,
               zorder=3)
    for i, (px, py) in enumerate(z):
        sc.annotate(str(i), (px, py), fontsize=6, xytext=(3, 3), textcoords="offset points").set_in_layout(False)
    # the key in the title: a legend anywhere covers points somewhere, and loc="best" searching the
    # 34 labels took 15 % of a training call's time through the server
    sc.set_title(f"2-D embedding, epoch {epoch} (colour: true faction; ringed: labelled)", fontsize=9.5)
    wrong = [i for i in range(graph.n) if int(pred[i]) != true[i]]
    draw_graph(ax, graph, [FACTION[int(c)] for c in pred.tolist()], ring=wrong, ring_color="#f59e0b")
    ax.set_title(f"predicted faction: {accuracy:.1%} right (wrong ringed)")
    return fig


def curves_figure(runs: dict[str, Sequence[tuple[int, float]]]) -> Figure:
    """Accuracy on the unlabelled nodes per epoch, one line per model."""
    fig, ax = new_figure(figsize=(6.0, 3.2))
    for i, (name, pts) in enumerate(runs.items()):
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], color=PALETTE[i % len(PALETTE)], label=name)
    ax.axhline(0.5, color="#9ca3af", ls=":", lw=1)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy on unlabelled nodes")
    ax.legend(loc="lower right", fontsize=8)
    return fig


def smoothing_figure(curves: dict[str, tuple[Sequence[int], Sequence[float]]]) -> Figure:
    """Mean pairwise distance of normalised node vectors against the number of layers."""
    fig, ax = new_figure(figsize=(6.0, 3.2))
    for i, (name, (x, y)) in enumerate(curves.items()):
        ax.plot(x, y, marker="o", ms=3, color=PALETTE[i % len(PALETTE)], label=name)
    ax.set_yscale("log")
    ax.set_xlabel("layers L (propagations Â^L X)")
    ax.set_ylabel("mean distance between nodes")
    ax.set_title("over-smoothing: nodes become indistinguishable")
    ax.legend(fontsize=8)
    return fig


def attention_figure(graph: Graph, alpha: torch.Tensor, a_hat: torch.Tensor, node: int) -> Figure:
    """GAT's learned α_vu beside GCN's fixed Â_vu on the edges into ``node`` (bars)."""
    fig, ax = new_figure(figsize=(6.0, 3.2))
    us = [u for u in range(graph.n) if a_hat[node, u] > 0]
    xs = np.arange(len(us))
    ax.bar(xs - 0.2, [float(a_hat[node, u]) for u in us], 0.4, label="GCN Â_vu (fixed by degrees)", color=PALETTE[0])
    ax.bar(xs + 0.2, [float(alpha[node, u]) for u in us], 0.4, label="GAT α_vu (from features)", color=PALETTE[3])
    ax.set_xticks(xs, [f"u = {u}" for u in us])
    ax.set_title(f"weights of the neighbours of node {node}")
    ax.legend(fontsize=8)
    return fig
