"""Graphs G = {V, E} (seed 003 §dl_7_1): typed edge lists, the karate club, adjacency, aggregation.

A graph is stored as the notes store it, a COO ``edge_index`` of shape (2, E): column j is the
directed edge source → target (PyG's convention; an undirected edge is two columns). Everything
else is derived from it: the adjacency matrix A, Ã = A + I, the degrees, the normalised
Â = D̃^{-1/2} Ã D̃^{-1/2} of Kipf & Welling 2017 (https://arxiv.org/abs/1609.02907), hop distances,
and the three neighbour aggregations the notes name (sum, mean, max).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import torch

from dlcore.graphs.names import AGGREGATIONS, KARATE, MAX_EDGES, MAX_NODES
from dlcore.textinput import parse_choice, parse_literal, parse_text

__all__ = ["Graph", "parse_graph", "karate_club", "adjacency", "normalized_adjacency", "aggregate", "hop_distances"]


@dataclass(frozen=True)
class Graph:
    """A graph on nodes 0 … n−1.

    Attributes:
        n: number of nodes |V|.
        edge_index: (2, E) long tensor, row 0 = source, row 1 = target (each undirected edge twice).
        name: what the graph is ("typed", "karate club", …).
        labels: (n,) long true classes, or None.
    """

    n: int
    edge_index: torch.Tensor
    name: str = "typed"
    labels: torch.Tensor | None = None

    @property
    def undirected_edges(self) -> list[tuple[int, int]]:
        """Each undirected edge once, as (smaller, larger), sorted."""
        return sorted({(min(a, b), max(a, b)) for a, b in self.edge_index.T.tolist() if a != b})


def _check_node(v: int, n: int, where: str) -> int:
    if not 0 <= v < n:
        raise ValueError(f"node {v} in {where} is outside 0 … {n - 1}")
    return v


def parse_graph(text: str, n_nodes: int | None = None, name: str = "edges") -> Graph:
    """Read a graph typed as an edge list ``"0-1, 1-2"``, as the notes' COO ``edge_index``
    ``[[0, 1], [1, 0]]`` (two rows: sources, targets), or the word ``karate``.

    An edge list is undirected (both directions are added); a COO list is taken as given (the
    notes list both directions), and a one-way edge is reported. Self-loops are refused (GCN adds
    its own, Ã = A + I), duplicates are dropped.

    Args:
        text: the typed graph.
        n_nodes: number of nodes (default: largest node id + 1).
        name: the field's name in messages.

    Raises:
        ValueError: unreadable text, a node outside 0 … n−1, a self-loop, a one-way COO edge, too big.
    """
    s = parse_text(text, name).strip()
    if s.lower() == KARATE:
        return karate_club()
    pairs: list[tuple[int, int]]
    if s.startswith("["):
        v = parse_literal(s, name)
        if (not isinstance(v, (list, tuple)) or len(v) != 2 or not all(isinstance(r, (list, tuple)) for r in v)
                or len(v[0]) != len(v[1])):
            raise ValueError(f"{name} in COO form needs two rows of equal length (sources, targets), "
                             "e.g. [[0, 1], [1, 0]]")
        if not all(isinstance(x, int) and not isinstance(x, bool) for r in v for x in r):
            raise ValueError(f"{name}: every node id must be a whole number")
        pairs = list(zip(v[0], v[1]))
        directed = True
    else:
        pairs = []
        for part in filter(None, (p.strip() for p in re.split(r"[,;\n]+", s))):
            m = re.fullmatch(r"(-?\d+)\s*(?:-|–|—|->|<->|\s)\s*(-?\d+)", part)
            if not m:
                raise ValueError(f"{name}: {part[:30]!r} is not an edge; write edges as 0-1, 1-2, …")
            pairs.append((int(m.group(1)), int(m.group(2))))
        directed = False
    if not pairs:
        raise ValueError(f"{name} has no edges")
    if len(pairs) * (1 if directed else 2) > MAX_EDGES:
        raise ValueError(f"{name} has {len(pairs)} edges; the limit is {MAX_EDGES} directed edges")
    top = max(max(a, b) for a, b in pairs)
    n = top + 1 if n_nodes is None else int(n_nodes)
    if not 1 <= n <= MAX_NODES:
        raise ValueError(f"{name}: a graph of {n} nodes is outside 1 … {MAX_NODES}")
    edges: set[tuple[int, int]] = set()
    for a, b in pairs:
        _check_node(a, n, f"the {name} list")
        _check_node(b, n, f"the {name} list")
        if a == b:
            raise ValueError(f"{name}: the self-loop {a}-{a} is not allowed (GCN adds self-loops itself, Ã = A + I)")
        edges.add((a, b))
        if not directed:
            edges.add((b, a))
    one_way = [(a, b) for a, b in sorted(edges) if (b, a) not in edges]
    if one_way:
        a, b = one_way[0]
        raise ValueError(f"{name}: the edge {a}→{b} has no reverse {b}→{a}; this lab's graphs are undirected "
                         "(list both directions, as the notes do)")
    order = list(dict.fromkeys(pairs)) if directed else sorted(edges)  # COO: the typed order, duplicates dropped
    ei = torch.tensor(order, dtype=torch.long).T                        # (2, E)
    return Graph(n, ei.contiguous(), "typed")


def karate_club() -> Graph:
    """Zachary's karate club (1977): 34 members, 78 friendships, two factions after the split
    ("Mr. Hi" = 0, "Officer" = 1), from networkx (bundled, offline)."""
    import networkx as nx

    g = nx.karate_club_graph()
    e = torch.tensor(sorted(g.edges()), dtype=torch.long).T            # (2, 78)
    ei = torch.cat([e, e.flip(0)], 1)                                  # (2, 156) both directions
    labels = torch.tensor([0 if g.nodes[i]["club"] == "Mr. Hi" else 1 for i in range(g.number_of_nodes())])
    return Graph(g.number_of_nodes(), ei, "karate club", labels)


def adjacency(graph: Graph, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Dense A with A[t, s] = 1 for every edge s → t (row = receiver), shape (n, n)."""
    a = torch.zeros(graph.n, graph.n, dtype=dtype)
    a[graph.edge_index[1], graph.edge_index[0]] = 1.0
    return a


def normalized_adjacency(graph: Graph, dtype: torch.dtype = torch.float64) -> tuple[torch.Tensor, torch.Tensor]:
    """Â = D̃^{-1/2} (A + I) D̃^{-1/2} and the degrees d̃ of Ã (Kipf & Welling 2017, eq. 2).

    Shape: returns ((n, n), (n,)).
    """
    a_tilde = adjacency(graph, dtype) + torch.eye(graph.n, dtype=dtype)   # (n, n) Ã = A + I
    deg = a_tilde.sum(1)                                                  # (n,) d̃_i = 1 + deg(i)
    d = deg.rsqrt()
    return d[:, None] * a_tilde * d[None, :], deg


def aggregate(x: torch.Tensor, graph: Graph, how: str = "sum") -> torch.Tensor:
    """Gather each node's neighbours' vectors: m_v = ⊕_{u ∈ N(v)} x_u with ⊕ = sum, mean or max
    (§dl_7_1 信息聚合). A node without neighbours gets zeros.

    Shape: x (n, d) → (n, d).
    """
    how = parse_choice(how, "aggregation", AGGREGATIONS)
    src, dst = graph.edge_index
    msg = x[src]                                                          # (E, d) one message per edge
    idx = dst[:, None].expand_as(msg)
    if how == "max":
        out = torch.full_like(x, float("-inf")).scatter_reduce(0, idx, msg, "amax")
        return torch.where(torch.isinf(out), torch.zeros_like(out), out)
    out = torch.zeros_like(x).index_add(0, dst, msg)                      # (n, d) sums
    if how == "mean":
        cnt = torch.bincount(dst, minlength=graph.n).clamp(min=1).to(x.dtype)
        out = out / cnt[:, None]
    return out


def hop_distances(graph: Graph, node: int) -> list[int | None]:
    """Breadth-first hop distance from ``node`` to every node (None if unreachable)."""
    _check_node(node, graph.n, "the graph")
    nbrs: list[list[int]] = [[] for _ in range(graph.n)]
    for s, t in graph.edge_index.T.tolist():
        nbrs[t].append(s)
    dist: list[int | None] = [None] * graph.n
    dist[node], frontier = 0, [node]
    while frontier:
        nxt = []
        for v in frontier:
            for u in nbrs[v]:
                if dist[u] is None:
                    dist[u] = dist[v] + 1  # type: ignore[operator]
                    nxt.append(u)
        frontier = nxt
    return dist
