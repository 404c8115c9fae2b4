"""The graph calculator: a typed graph and features through the notes' GCN, every step with numbers.

For the typed graph it returns A, Ã = A + I, the degrees d̃, Â = D̃^{-1/2} Ã D̃^{-1/2}, each layer's
output (the notes' GCN: GCNConv → ReLU → GCNConv, §dl_7_3), the argmax classes, node v's first-layer
update written out term by term, and the notes' three aggregations (sum / mean / max, §dl_7_1) of
v's neighbours side by side. LaTeX helpers format it for the page.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from dlcore.graphs.gcn import SeedExample, aggregations, seed_example
from dlcore.graphs.graph import Graph, adjacency, normalized_adjacency, parse_graph
from dlcore.graphs.names import MAX_FEATURES
from dlcore.textinput import format_tensor, parse_int, parse_literal, parse_tensor, parse_text

__all__ = ["Term", "GraphReport", "graph_report", "latex_matrix", "parse_widths"]


@dataclass(frozen=True)
class Term:
    """One neighbour's share of h'_v: Â_vu · (x_u Wᵀ)."""

    u: int
    weight: float        # Â_vu = 1 / √(d̃_v d̃_u)
    deg_u: float         # d̃_u
    xw: torch.Tensor     # (d_1,) x_u Wᵀ


@dataclass(frozen=True)
class GraphReport:
    graph: Graph
    node: int
    run: SeedExample
    a: torch.Tensor            # (n, n) A
    a_tilde: torch.Tensor      # (n, n) Ã = A + I
    deg: torch.Tensor          # (n,) d̃
    a_hat: torch.Tensor        # (n, n) Â
    terms: list[Term]          # node v's first-layer terms, u ∈ N(v) ∪ {v}
    pre: torch.Tensor          # (d_1,) Σ terms + b, before the ReLU
    neighbours: list[int]
    agg: dict[str, torch.Tensor]   # "sum"/"mean"/"max" → (d_in,) over N(v), raw features


def parse_widths(text: object) -> tuple[int, ...]:
    """``"4, 2"`` or ``[4, 2]`` → (4, 2): the widths of the GCN layers after the input."""
    s = parse_text(text, "layer widths").strip() if isinstance(text, str) else text
    v = parse_literal(s if not isinstance(s, str) or s.startswith("[") else f"[{s}]", "layer widths")
    v = [v] if isinstance(v, int) and not isinstance(v, bool) else v
    if not isinstance(v, (list, tuple)) or not v:
        raise ValueError("layer widths must be whole numbers such as 4, 2")
    return tuple(parse_int(w, "layer width", lo=1, hi=MAX_FEATURES) for w in v)


def graph_report(edges: object, features: object = "", widths: object = "4, 2", seed: object = 0,
                 node: object = 0, in_features: int = 3) -> GraphReport:
    """Everything the calculator shows. Blank ``features`` = x ~ torch.randn(n, 3) from ``seed``
    (the notes' ``torch.randn((5, 3))``); weights as PyG's GCNConv draws them from the same stream.

    Raises:
        ValueError: naming the field (graph, features, widths, seed, node) and the rule.
    """
    x = None
    if features is not None and not (isinstance(features, str) and not features.strip()):
        x = parse_tensor(features, "node features X", ndim=2, dtype=torch.float32)  # type: ignore[arg-type]
        if x.shape[1] > MAX_FEATURES:
            raise ValueError(f"node features X have {x.shape[1]} columns; the limit is {MAX_FEATURES}")
    # typed X fixes n (one row per node), so an edge to a node without a row is named
    g = parse_graph(edges, None if x is None else x.shape[0], name="edges")  # type: ignore[arg-type]
    if x is not None and x.shape[0] != g.n:
        raise ValueError(f"node features X have {x.shape[0]} rows but the graph has {g.n} nodes")
    v = parse_int(node, "node v", lo=0)
    if v >= g.n:
        raise ValueError(f"node v = {v} is outside 0 … {g.n - 1}")
    s = parse_int(seed, "seed", lo=0, hi=2 ** 31 - 1)
    run = seed_example(g, x, parse_widths(widths), s, in_features)
    a = adjacency(g, torch.float32)
    a_hat, deg = normalized_adjacency(g, torch.float32)
    layer = run.model.layers[0]
    with torch.no_grad():
        xw = run.x @ layer.weight.T                                     # (n, d_1)
    nb = sorted(set(g.edge_index[0][g.edge_index[1] == v].tolist()))
    us = sorted([v, *nb])
    terms = [Term(u, float(a_hat[v, u]), float(deg[u]), xw[u]) for u in us]
    pre = (a_hat[v] @ xw + layer.bias).detach()                          # (d_1,)
    agg = {k: t[v] for k, t in aggregations(run.x, g).items()}
    return GraphReport(g, v, run, a, a + torch.eye(g.n), deg, a_hat, terms, pre, nb, agg)


def latex_matrix(m: torch.Tensor, decimals: int = 2, max_size: int = 12) -> str:
    """A (small) matrix or vector as LaTeX ``\\begin{bmatrix}``; larger ones as a shape note."""
    t = m.detach()
    if t.dim() == 1:
        t = t[None]
    if max(t.shape) > max_size:
        return rf"\text{{({t.shape[0]}×{t.shape[1]} matrix)}}"

    def f(x: float) -> str:
        r = round(x, decimals)
        return "0" if r == 0 else (f"{r:.{decimals}f}".rstrip("0").rstrip(".") if r != int(r) else str(int(r)))
    rows = [" & ".join(f(x) for x in row) for row in t.tolist()]
    return r"\begin{bmatrix}" + r" \\ ".join(rows) + r"\end{bmatrix}"


def vec(t: torch.Tensor, decimals: int = 3) -> str:
    """A vector as text with ``decimals`` places."""
    return format_tensor(t, decimals)


__all__.append("vec")
