"""Over-smoothing: the limit of "stacking layers widens the receptive field" (seed 003 §dl_7_1).

Every GCN layer multiplies by Â = D̃^{-1/2} Ã D̃^{-1/2}. Its largest eigenvalue is 1 with eigenvector
√d̃ (Li, Han & Wu 2018, https://arxiv.org/abs/1801.07606), so on a connected graph Â^L X → √d̃ cᵀ:
after many layers every node's vector points the same way and the nodes can no longer be told apart.
:func:`oversmoothing` measures it: the mean pairwise distance between the unit-length rows of Â^L X
for L = 0 … depth (propagation only, no weights, which is what a deep linear GCN reduces to).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from dlcore.graphs.graph import Graph, normalized_adjacency
from dlcore.graphs.names import MAX_DEPTH

__all__ = ["Smoothing", "oversmoothing"]


@dataclass(frozen=True)
class Smoothing:
    """Mean pairwise distance of the normalised node vectors after L propagations, L = 0 … depth."""

    depths: list[int]
    distance: list[float]
    graph_name: str

    def at(self, depth: int) -> float:
        return self.distance[self.depths.index(depth)]


def oversmoothing(graph: Graph, depth: int = 32, seed: int = 0, width: int = 8) -> Smoothing:
    """Mean ‖ĥ_u − ĥ_v‖ over node pairs, ĥ = row-normalised Â^L X, X ~ N(0, 1) seeded (n, width).

    Raises:
        ValueError: depth outside 1 … MAX_DEPTH.
    """
    if not 1 <= int(depth) <= MAX_DEPTH:
        raise ValueError(f"depth {depth} is outside 1 … {MAX_DEPTH}")
    a_hat, _ = normalized_adjacency(graph)                                         # (n, n)
    h = torch.randn(graph.n, width, generator=torch.Generator().manual_seed(int(seed)), dtype=torch.float64)
    iu = torch.triu_indices(graph.n, graph.n, 1)
    out: list[float] = []
    for layer in range(int(depth) + 1):
        if layer:
            h = a_hat @ h                                                          # (n, width) one more layer
        u = h / h.norm(dim=1, keepdim=True).clamp(min=1e-300)                      # unit rows
        d = torch.cdist(u, u)[iu[0], iu[1]]                                        # (n(n−1)/2,)
        out.append(float(d.mean()))
    return Smoothing(list(range(int(depth) + 1)), out, graph.name)
