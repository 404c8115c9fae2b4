"""The limits and GAT panels of the Graphs tab: over-smoothing with depth, GAT's learned weights.

Thin glue over :func:`dlcore.graphs.smoothing.oversmoothing`, :func:`dlcore.graphs.gat.gat_layer` and
:mod:`dlcore.plotting.graphs`.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from apps.common import HEAVY, LATEX, Endpoint, Number, guard, on, on_first_open
from dlcore.graphs.names import MAX_DEPTH, RING_EDGES

DEPTH_BUTTON = "graphs-depth-run"
GAT_BUTTON = "graphs-gat-run"
DEPTH_DEFAULTS = [32, 0]
GAT_DEFAULTS = ["0-1, 0-2, 0-3, 1-2, 3-4", "[[1, 0], [0, 1], [1, 1], [3, 0], [0, 2]]", 0, 0]


@guard
def depth(layers: Any, seed: Any) -> tuple[str, Any]:
    """Mean pairwise distance of unit-length node vectors after L propagations by Â, L = 0 … layers."""
    from dlcore.graphs.graph import karate_club, parse_graph
    from dlcore.graphs.smoothing import oversmoothing
    from dlcore.plotting.graphs import smoothing_figure
    from dlcore.textinput import parse_int

    d = parse_int(layers, "layers L", lo=1, hi=MAX_DEPTH)
    s = parse_int(seed, "seed", lo=0, hi=2 ** 31 - 1)
    runs = {"karate club (34 nodes)": oversmoothing(karate_club(), d, s),
            "the notes' 5-node ring": oversmoothing(parse_graph(RING_EDGES), d, s),
            "path of 12 nodes": oversmoothing(parse_graph(", ".join(f"{i}-{i + 1}" for i in range(11))), d, s)}
    k = runs["karate club (34 nodes)"]
    marks = [m for m in (1, 2, 4, 8, 16, 32, 64) if m <= d]
    rows = "\n".join(f"| {name} | {r.distance[0]:.3f} | " + " | ".join(f"{r.at(m):.3g}" for m in marks) + " |"
                     for name, r in runs.items())
    md = (f"### Over-smoothing: after {d} layers the karate club's nodes are {k.distance[0] / k.distance[-1]:.0f}× "
          f"closer together ({k.distance[0]:.3f} → {k.distance[-1]:.4f})\n\n"
          "Mean distance between the unit-length vectors of two nodes, X random (8 per node), H = Â^L X "
          "(each GCN layer multiplies by Â once; the weights are left out):\n\n"
          f"| graph | L = 0 | " + " | ".join(f"L = {m}" for m in marks) + " |\n|---|" + "---:|" * (len(marks) + 1) +
          "\n" + rows + "\n\n"
          "Â's top eigenvector is √d̃, so Â^L X tends to √d̃ cᵀ: every node's vector points the same way. "
          "Stacking layers widens the receptive field (§dl_7_1) but washes out *who is who*; this is why "
          "GCNs use 2–3 layers (Kipf & Welling report deeper plain GCNs train worse) and why deeper ones add "
          "residual connections. A ring of 5 (odd, short) smooths within a few layers; the long path "
          "slowly.")
    return md, smoothing_figure({n: (r.depths, r.distance) for n, r in runs.items()})


@guard
def gat(edges: Any, features: Any, node: Any, seed: Any) -> tuple[str, Any]:
    """One GAT layer (single head): α_vu for node v's neighbours beside GCN's fixed Â_vu."""
    from dlcore.graphs.gat import gat_layer, gat_weights
    from dlcore.graphs.graph import normalized_adjacency, parse_graph
    from dlcore.plotting.graphs import attention_figure
    from dlcore.textinput import parse_int, parse_tensor
    import torch

    x = parse_tensor(features, "node features X", ndim=2, dtype=torch.float32)
    if x.shape[1] > 16:
        raise ValueError(f"node features X have {x.shape[1]} columns; the limit is 16")
    g = parse_graph(edges, x.shape[0], name="edges")
    v = parse_int(node, "node v", lo=0)
    if v >= g.n:
        raise ValueError(f"node v = {v} is outside 0 … {g.n - 1}")
    w = gat_weights(x.shape[1], 4, parse_int(seed, "seed", lo=0, hi=2 ** 31 - 1))
    r = gat_layer(x, g, w)
    a_hat, _ = normalized_adjacency(g, torch.float32)
    us = [u for u in range(g.n) if a_hat[v, u] > 0]
    rows = "\n".join(f"| {u} | {float(r.scores[v, u]):.4f} | **{float(r.alpha[v, u]):.4f}** | {float(a_hat[v, u]):.4f} |"
                     for u in us)
    md = (f"### GAT at node {v}: α = softmax(e) over {len(us)} nodes (its neighbours and itself), Σα = "
          f"{float(r.alpha[v].sum()):.4f}\n\n"
          r"$e_{vu} = \mathrm{LeakyReLU}_{0.2}(a_{dst}^\top W h_v + a_{src}^\top W h_u)$, "
          r"$\alpha_{vu} = \mathrm{softmax}_u(e_{vu})$, $h'_v = \sum_u \alpha_{vu} W h_u$ "
          "(Veličković et al. 2018; §dl_7_2 GAT 引入注意力机制). Random Glorot W (4 outputs), a_src, a_dst.\n\n"
          "| u | score e_vu | GAT α_vu | GCN Â_vu |\n|---:|---:|---:|---:|\n" + rows +
          "\n\nGCN's weights depend only on the degrees; GAT's on the features, so two neighbours of equal "
          "degree can weigh differently (and training can learn which ones matter). The library's layer equals "
          "PyG's `GATConv(heads=1)` on the same weights (tested).")
    return md, attention_figure(g, r.alpha, a_hat, v)


def depth_panel() -> None:
    with gr.Row():
        layers = Number(32, precision=0, label="layers L (up to 64)", minimum=1, maximum=MAX_DEPTH)
        seed = Number(0, precision=0, label="feature seed", minimum=0)
        btn = gr.Button("Measure over-smoothing", variant="primary", elem_id=DEPTH_BUTTON)
    md = gr.Markdown(latex_delimiters=LATEX)
    fig = gr.Plot(label="over-smoothing", format="png", show_label=False)
    on_first_open(depth, [layers, seed], [md, fig], **HEAVY)
    on(btn.click, depth, [layers, seed], [md, fig], api_name="graphs_depth", **HEAVY)


def gat_panel() -> None:
    with gr.Row():
        edges = gr.Textbox(GAT_DEFAULTS[0], label="GAT graph (edge list or COO)", scale=2)
        feats = gr.Textbox(GAT_DEFAULTS[1], label="GAT node features X (n × d)", scale=2)
        node = Number(0, precision=0, label="node v", minimum=0)
        seed = Number(0, precision=0, label="weight seed", minimum=0)
        btn = gr.Button("Attention weights", variant="primary", elem_id=GAT_BUTTON)
    md = gr.Markdown(latex_delimiters=LATEX)
    fig = gr.Plot(label="GAT vs GCN weights", format="png", show_label=False)
    ins = [edges, feats, node, seed]
    on_first_open(gat, ins, [md, fig], **HEAVY)
    on(btn.click, gat, ins, [md, fig], api_name="graphs_gat", **HEAVY)


ENDPOINTS = [
    Endpoint("graphs_depth", heavy=True, examples=[DEPTH_DEFAULTS, [4, 1]], facts=["0.0491", "L = 4"],
             bad=[([0, 0], "layers L = 0 is below the minimum 1"), ([65, 0], "layers L = 65 is above the maximum 64"),
                  (["many", 0], "layers L could not be read"), ([4, -1], "seed = -1 is below the minimum 0")]),
    Endpoint("graphs_gat", heavy=True, examples=[GAT_DEFAULTS], facts=["over 4 nodes"],
             bad=[([GAT_DEFAULTS[0], "[[1, 0]]", 0, 0], "node 1 in the edges list is outside 0 … 0"),
                  ([GAT_DEFAULTS[0], GAT_DEFAULTS[1], 9, 0], "node v = 9 is outside 0 … 4"),
                  ([GAT_DEFAULTS[0], "[[1, 0], [0]]", 0, 0], "node features X is ragged"),
                  (["0-1 1-2", GAT_DEFAULTS[1], 0, 0], "is not an edge")]),
]
