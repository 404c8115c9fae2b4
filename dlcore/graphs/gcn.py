"""The graph convolution of Kipf & Welling 2017 (https://arxiv.org/abs/1609.02907), dense and small.

One GCN layer (seed 003 §dl_7_2 "GCN以节点为研究单位，根据连接关系从邻居节点处聚合特征")::

    H' = Â H Wᵀ + b,    Â = D̃^{-1/2} (A + I) D̃^{-1/2}

so node v's new vector is h'_v = Σ_{u ∈ N(v) ∪ {v}} Â_vu (W h_u) + b with Â_vu = 1/√(d̃_v d̃_u): a
weighted sum over its neighbours and itself (the notes' 信息聚合), then a shared linear map. Stacking k
layers lets v see every node within k hops (§dl_7_1 "堆叠层数越多…"), which
:func:`receptive_field` checks by autograd.

The weights are stored as PyG's ``GCNConv`` stores them (``lin.weight`` of shape (out, in), bias
zero) and drawn with the same Glorot-uniform rule, so :func:`seed_example` reproduces the notes'
``GCN(3, 4, 2)`` (§dl_7_3) number for number (tested against ``torch_geometric`` when installed).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from dlcore.graphs.graph import Graph, aggregate, hop_distances, normalized_adjacency
from dlcore.graphs.names import AGGREGATIONS, MAX_FEATURES, MAX_LAYERS

__all__ = ["glorot", "GCNLayer", "GCN", "seed_example", "SeedExample", "Receptive", "receptive_field",
           "layer_outputs"]


def glorot(out_features: int, in_features: int, generator: torch.Generator, draws: int = 1,
           dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Glorot/Xavier-uniform weights U(−a, a), a = √(6 / (in + out)) (Glorot & Bengio 2010), shape
    (out, in). ``draws = 2`` consumes the generator as PyG's ``GCNConv(in, out)`` does: its ``Linear``
    draws once when built and ``GCNConv.reset_parameters`` draws again (the second draw is kept)."""
    a = math.sqrt(6.0 / (in_features + out_features))
    w = torch.empty(out_features, in_features, dtype=dtype)
    for _ in range(draws):
        w.uniform_(-a, a, generator=generator)
    return w


class GCNLayer(nn.Module):
    """H' = Â H Wᵀ + b (Kipf & Welling 2017, eq. 2), the dense form of PyG's ``GCNConv``.

    Args:
        in_features, out_features: widths of H and H'.
        generator: draws the Glorot weights (default: a generator seeded 0).
        draws: 2 reproduces PyG's ``GCNConv`` init from the same random stream.

    Shape: x (n, in), a_hat (n, n) → (n, out).
    """

    def __init__(self, in_features: int, out_features: int, generator: torch.Generator | None = None,
                 draws: int = 1, dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        g = generator if generator is not None else torch.Generator().manual_seed(0)
        self.weight = nn.Parameter(glorot(out_features, in_features, g, draws, dtype))  # (out, in)
        self.bias = nn.Parameter(torch.zeros(out_features, dtype=dtype))              # (out,)

    def forward(self, x: torch.Tensor, a_hat: torch.Tensor) -> torch.Tensor:
        return a_hat @ (x @ self.weight.T) + self.bias   # 1. transform (n, out)  2. aggregate over Â


class GCN(nn.Module):
    """A stack of :class:`GCNLayer` with an activation between layers (none after the last), as the
    notes' ``GCN`` (§dl_7_3: conv1 → ReLU → conv2).

    Args:
        dims: widths, e.g. (3, 4, 2) for the notes' GCN(3 → 4 → 2).
        activation: "relu" (the notes) or "tanh" (Kipf & Welling's karate-club demo).

    Shape: x (n, dims[0]), a_hat (n, n) → (n, dims[-1]); ``hidden`` keeps every layer's output.
    """

    def __init__(self, dims: tuple[int, ...], activation: str = "relu", generator: torch.Generator | None = None,
                 draws: int = 1, dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        if len(dims) < 2:
            raise ValueError(f"a GCN needs at least an input and an output width, got {dims}")
        g = generator if generator is not None else torch.Generator().manual_seed(0)
        self.layers = nn.ModuleList(GCNLayer(i, o, g, draws, dtype) for i, o in zip(dims[:-1], dims[1:]))
        self.act = {"relu": torch.relu, "tanh": torch.tanh}[activation]
        self.hidden: list[torch.Tensor] = []

    def forward(self, x: torch.Tensor, a_hat: torch.Tensor) -> torch.Tensor:
        self.hidden = []
        for i, layer in enumerate(self.layers):
            x = layer(x, a_hat)                          # (n, dims[i + 1])
            if i < len(self.layers) - 1:
                x = self.act(x)
            self.hidden.append(x)
        return x


@dataclass(frozen=True)
class SeedExample:
    """The notes' §dl_7_3 run: features, the model, every layer's output and the argmax classes."""

    graph: Graph
    x: torch.Tensor              # (n, d_in)
    model: GCN
    outputs: list[torch.Tensor]  # per layer (after ReLU except the last), (n, d_l)
    pred: torch.Tensor           # (n,) argmax of the last layer


def layer_outputs(graph: Graph, x: torch.Tensor, model: GCN) -> list[torch.Tensor]:
    """Every layer's output of ``model`` on ``graph`` (no gradients)."""
    a_hat, _ = normalized_adjacency(graph, x.dtype)
    with torch.no_grad():
        model(x, a_hat)
    return list(model.hidden)


def seed_example(graph: Graph, x: torch.Tensor | None = None, widths: tuple[int, ...] = (4, 2),
                 seed: int = 0, in_features: int = 3) -> SeedExample:
    """Run the notes' GCN (§dl_7_3) with PyG's initialisation drawn from ``torch.Generator(seed)``.

    With ``x`` None, x = torch.randn(n, in_features) is drawn first from the same stream, so
    ``torch.manual_seed(seed); x = torch.randn(5, 3); GCN(3, 4, 2)`` in the notes' PyG code gives the
    same x, weights and output.

    Raises:
        ValueError: a width outside 1 … MAX_FEATURES, or x with a row count other than n.
    """
    if not 1 <= len(widths) <= MAX_LAYERS:
        raise ValueError(f"layer widths {list(widths)}: give 1 … {MAX_LAYERS} widths")
    for w in widths:
        if not 1 <= int(w) <= MAX_FEATURES:
            raise ValueError(f"layer width {w} is outside 1 … {MAX_FEATURES}")
    g = torch.Generator().manual_seed(int(seed))
    if x is None:
        x = torch.randn(graph.n, in_features, generator=g)          # (n, d_in) as torch.randn((5, 3))
    elif x.shape[0] != graph.n:
        raise ValueError(f"node features have {x.shape[0]} rows but the graph has {graph.n} nodes")
    model = GCN((x.shape[1], *map(int, widths)), "relu", g, draws=2, dtype=x.dtype)
    outs = layer_outputs(graph, x, model)
    return SeedExample(graph, x, model, outs, outs[-1].argmax(1))


@dataclass(frozen=True)
class Receptive:
    """Which inputs x_u move node v's k-th layer output, measured by autograd."""

    node: int
    k: int
    hops: list[int | None]        # hop distance from v to every u
    influence: torch.Tensor       # (n,) Σ |∂h_v^{(k)} / ∂x_u|
    within: list[int]             # nodes with hop ≤ k

    @property
    def nonzero(self) -> list[int]:
        return [u for u, s in enumerate(self.influence.tolist()) if s > 0]


def receptive_field(graph: Graph, node: int, k: int, seed: int = 0, width: int = 4) -> Receptive:
    """∂h_v^{(k)}/∂x_u for a random k-layer GCN (tanh, float64): nonzero exactly for u within k
    hops of v, because (Â^k)_vu ≠ 0 iff a walk of ≤ k steps joins u and v (Ã has self-loops).

    Raises:
        ValueError: node outside the graph, k outside 1 … MAX_LAYERS.
    """
    if not 1 <= int(k) <= MAX_LAYERS:
        raise ValueError(f"layers k = {k} is outside 1 … {MAX_LAYERS}")
    hops = hop_distances(graph, int(node))
    g = torch.Generator().manual_seed(int(seed))
    x = torch.randn(graph.n, width, generator=g, dtype=torch.float64).requires_grad_(True)  # (n, w)
    model = GCN((width,) * (int(k) + 1), "tanh", g, dtype=torch.float64)
    with torch.no_grad():
        for layer in model.layers:  # a nonzero bias keeps tanh away from exact cancellations
            layer.bias.uniform_(-0.5, 0.5, generator=g)
    a_hat, _ = normalized_adjacency(graph)
    h = model(x, a_hat)                                   # (n, w)
    (grad,) = torch.autograd.grad(h[int(node)].sum(), x)  # (n, w)
    infl = grad.abs().sum(1).detach()                     # (n,)
    within = [u for u, d in enumerate(hops) if d is not None and d <= int(k)]
    return Receptive(int(node), int(k), hops, infl, within)


def aggregations(x: torch.Tensor, graph: Graph) -> dict[str, torch.Tensor]:
    """The notes' three aggregations side by side: {"sum": …, "mean": …, "max": …}, each (n, d)."""
    return {how: aggregate(x, graph, how) for how in AGGREGATIONS}


__all__.append("aggregations")
