"""One graph-attention layer (GAT, Veličković et al. 2018, https://arxiv.org/abs/1710.10903; seed 003
§dl_7_2 "引入注意力机制，使得GCN能够根据注意力得分对邻居特征进行加权").

Where GCN weighs neighbour u of v by the fixed Â_vu = 1/√(d̃_v d̃_u), GAT learns the weight::

    e_vu = LeakyReLU_0.2(a_dstᵀ W h_v + a_srcᵀ W h_u),   α_vu = softmax_{u ∈ N(v) ∪ {v}} e_vu
    h'_v = Σ_u α_vu W h_u + b

Single head, dense, small; parameters stored as PyG's ``GATConv(in, out, heads=1)`` stores them, so
its output and α equal PyG's (tested when ``torch_geometric`` is installed).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from dlcore.graphs.gcn import glorot
from dlcore.graphs.graph import Graph, adjacency

__all__ = ["GATWeights", "gat_weights", "GATResult", "gat_layer"]


@dataclass(frozen=True)
class GATWeights:
    weight: torch.Tensor    # (out, in)  W
    att_src: torch.Tensor   # (out,)     a_src
    att_dst: torch.Tensor   # (out,)     a_dst
    bias: torch.Tensor      # (out,)


def gat_weights(in_features: int, out_features: int, seed: int = 0) -> GATWeights:
    """Glorot W, a_src, a_dst (in that order, from one seeded generator), zero bias."""
    g = torch.Generator().manual_seed(int(seed))
    w = glorot(out_features, in_features, g)
    a_src = glorot(1, out_features, g)[0]
    a_dst = glorot(1, out_features, g)[0]
    return GATWeights(w, a_src, a_dst, torch.zeros(out_features))


@dataclass(frozen=True)
class GATResult:
    out: torch.Tensor     # (n, out)
    alpha: torch.Tensor   # (n, n) α[v, u], zero off the edges (rows sum to 1)
    scores: torch.Tensor  # (n, n) e[v, u], −inf off the edges


def gat_layer(x: torch.Tensor, graph: Graph, w: GATWeights, negative_slope: float = 0.2) -> GATResult:
    """The GAT layer above with self-loops added (PyG's default).

    Shape: x (n, in) → out (n, out), alpha (n, n).
    """
    wh = x @ w.weight.T.to(x.dtype)                                          # (n, out) 1. W h
    keep = (adjacency(graph, x.dtype) + torch.eye(graph.n, dtype=x.dtype)) > 0  # (n, n) N(v) ∪ {v}
    e = (wh @ w.att_dst.to(x.dtype))[:, None] + (wh @ w.att_src.to(x.dtype))[None, :]  # (n, n) 2. scores
    e = F.leaky_relu(e, negative_slope).masked_fill(~keep, float("-inf"))
    alpha = torch.softmax(e, dim=1)                                          # 3. softmax over neighbours
    return GATResult(alpha @ wh + w.bias.to(x.dtype), alpha, e)              # 4. weighted sum
