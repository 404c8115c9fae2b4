"""The graph calculator and the receptive-field panel of the Graphs tab.

Thin glue over :func:`dlcore.graphs.calculator.graph_report` (A, Ã, d̃, Â, one node's update written
out, sum/mean/max aggregation, the notes' GCN(3 → 4 → 2)), :func:`dlcore.graphs.gcn.receptive_field`
(autograd) and :mod:`dlcore.plotting.graphs`.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from apps.common import HEAVY, LATEX, LIGHT, Endpoint, Number, guard, md_escape, on, on_first_open
from dlcore.graphs.names import MAX_LAYERS, RING_EDGES, SEED_EDGE_INDEX, SEED_LABELS

RUN_BUTTON = "graphs-calc-run"
RF_BUTTON = "graphs-rf-run"
#: Inputs in API order: edges, features (blank = torch.randn(n, 3) from the seed), widths, seed, node v.
DEFAULTS = [SEED_EDGE_INDEX, "", "4, 2", 0, 0]
RF_DEFAULTS = ["karate", 0, 2, 0]


def _adjacency_list(report: Any) -> str:
    g = report.graph
    rows = [f"{v}: {sorted(set(g.edge_index[0][g.edge_index[1] == v].tolist()))}" for v in range(g.n)]
    return "; ".join(rows)


@guard
def calculate(edges: Any, features: Any, widths: Any, seed: Any, node: Any) -> tuple[str, Any]:
    """A, Ã, d̃, Â, node v's first-layer update with the numbers, aggregations, shapes and predictions."""
    from dlcore.graphs.calculator import graph_report, latex_matrix as lm, vec
    from dlcore.plotting.graphs import calculator_figure

    r = graph_report(edges, features, widths, seed, node)
    g, v, run = r.graph, r.node, r.run
    shapes = " → ".join([f"X {tuple(run.x.shape)}"] + [f"H{i + 1} {tuple(h.shape)}" for i, h in enumerate(run.outputs)])
    src = "x = torch.randn(n, 3) with torch.manual_seed" if not (isinstance(features, str) and features.strip()) \
        else "typed X"
    lines = [f"### {g.n} nodes, {g.edge_index.shape[1] // 2} undirected edges ({g.edge_index.shape[1]} directed "
             f"in COO) · shapes {shapes}",
             f"**Predictions** (argmax of the last layer, untrained weights as in the notes): "
             f"`{run.pred.tolist()}`" + (f" — the notes' labels y = `{list(SEED_LABELS)}`"
                                        if g.n == len(SEED_LABELS) else ""),
             f"Features: {src} = {int(seed)}; weights drawn like PyG's `GCNConv` (Glorot-uniform, bias 0) from "
             f"the same stream, so the notes' code with `torch.manual_seed({int(seed)})` prints these numbers.",
             f"**Adjacency list** (邻接列表): {md_escape(_adjacency_list(r))}"]
    if g.n <= 12:
        lines.append(f"$$A = {lm(r.a, 0)},\\quad \\tilde A = A + I = {lm(r.a_tilde, 0)},\\quad "
                     f"\\tilde d = {lm(r.deg, 0)}$$")
        lines.append(f"$$\\hat A = \\tilde D^{{-1/2}} \\tilde A \\tilde D^{{-1/2}} = {lm(r.a_hat, 3)}$$")
        lines.append(f"$$H^{{(1)}} = \\mathrm{{ReLU}}(\\hat A X W_1^\\top + b_1) = {lm(run.outputs[0], 3)},\\quad "
                     f"H^{{({len(run.outputs)})}} = {lm(run.outputs[-1], 3)}$$")
    terms = r" \\ &+ ".join(f"\\tfrac{{1}}{{\\sqrt{{{r.deg[v]:.0f}\\cdot{t.deg_u:.0f}}}}}\\,{lm(t.xw, 2)}"
                       for t in r.terms)
    lines.append(f"**Node {v}, layer 1** (neighbours {r.neighbours} and itself): "
                 f"$h'_{{{v}}} = \\sum_{{u \\in N({v}) \\cup \\{{{v}\\}}}} \\hat A_{{{v}u}}\\,(x_u W_1^\\top) + b_1$")
    lines.append(f"$$\\begin{{aligned}} h'_{{{v}}} &= {terms} \\\\ &= {lm(r.pre, 3)} \\xrightarrow{{\\mathrm{{ReLU}}}} "
                 f"{lm(run.outputs[0][v] if len(run.outputs) > 1 else r.pre, 3)} \\end{{aligned}}$$")
    lines.append("| u | Â_vu = 1/√(d̃_v d̃_u) | x_u W₁ᵀ |\n|---:|---:|---|\n" +
                 "\n".join(f"| {t.u} | {t.weight:.4f} | {vec(t.xw)} |" for t in r.terms))
    lines.append(f"**Message passing (信息聚合)** of node {v}'s neighbours' raw features x_u, the notes' three ways:\n\n"
                 "| aggregation | m_v |\n|---|---|\n" +
                 "\n".join(f"| {k} | {vec(t)} |" for k, t in r.agg.items()) +
                 "\n\nGCN's Â is a *degree-weighted mean* that includes v itself; sum grows with the degree, "
                 "max keeps the largest coordinate.")
    return "\n\n".join(lines), calculator_figure(g, r.a_hat, v, run.pred)


@guard
def receptive(edges: Any, node: Any, k: Any, seed: Any) -> tuple[str, Any]:
    """Nodes within k hops of v, and ∂h_v^{(k)}/∂x_u by autograd for a random k-layer GCN."""
    from dlcore.graphs.gcn import receptive_field
    from dlcore.graphs.graph import parse_graph
    from dlcore.plotting.graphs import receptive_figure
    from dlcore.textinput import parse_int

    g = parse_graph(edges, name="edges")
    v = parse_int(node, "node v", lo=0)
    if v >= g.n:
        raise ValueError(f"node v = {v} is outside 0 … {g.n - 1}")
    kk = parse_int(k, "layers k", lo=1, hi=MAX_LAYERS)
    rf = receptive_field(g, v, kk, parse_int(seed, "seed", lo=0, hi=2 ** 31 - 1))
    agree = sorted(rf.nonzero) == sorted(rf.within)
    reach = sum(d is not None for d in rf.hops)
    far = max(d for d in rf.hops if d is not None)
    by_hop: dict[int, list[int]] = {}
    for u, d in enumerate(rf.hops):
        if d is not None and d <= kk:
            by_hop.setdefault(d, []).append(u)
    md = (f"### A {kk}-layer GCN's output at node {v} depends on {len(rf.within)} of {g.n} nodes\n\n" +
          "\n".join(f"- {d} hop{'s' if d != 1 else ''}: {us}" for d, us in sorted(by_hop.items())) +
          f"\n\n**Autograd check**: ∂h_{v}/∂x_u ≠ 0 for {len(rf.nonzero)} nodes — "
          f"{'✔ exactly the nodes within ' + str(kk) + ' hops' if agree else '✘ differs from the hop count'}. "
          "Each layer is one round of message passing, so k layers reach k hops (§dl_7_1 堆叠层数越多…). "
          f"Add a layer and watch the ring grow: node {v}'s farthest reachable node is {far} hops away, so "
          f"{far} layers see {'the whole graph' if reach == g.n else 'all it can reach'}.")
    return md, receptive_figure(g, v, kk, rf.hops, rf.influence)


def build() -> None:
    gr.Markdown(r"Type a graph — an edge list `0-1, 1-2, …`, the notes' COO `edge_index` (two rows: sources, "
                r"targets), or `karate` — and node features (blank = `torch.randn(n, 3)` from the seed, as the "
                r"notes do). One GCN layer (Kipf & Welling 2017) is $H' = \hat A H W^\top + b$ with "
                r"$\hat A = \tilde D^{-1/2}(A + I)\tilde D^{-1/2}$; the page writes it out for node v.",
                latex_delimiters=LATEX)
    with gr.Row():
        edges = gr.Textbox(SEED_EDGE_INDEX, label="edges (edge list or COO edge_index)", lines=2, scale=3)
        feats = gr.Textbox("", label="node features X (n × d; blank = random)", lines=2, scale=2)
    with gr.Row():
        widths = gr.Textbox("4, 2", label="layer widths (the notes: 4, 2)", max_lines=1)
        seed = Number(0, precision=0, label="seed (torch.manual_seed)", minimum=0)
        node = Number(0, precision=0, label="node v written out", minimum=0)
        btn = gr.Button("Calculate", variant="primary", elem_id=RUN_BUTTON)
    with gr.Row():
        with gr.Column(scale=3):
            md = gr.Markdown(latex_delimiters=LATEX)
        with gr.Column(scale=2, min_width=320):
            fig = gr.Plot(label="graph and Â", format="png", show_label=False)
    ins = [edges, feats, widths, seed, node]
    on_first_open(calculate, ins, [md, fig], **HEAVY)
    on(btn.click, calculate, ins, [md, fig], api_name="graphs_layer", **LIGHT)
    gr.Examples([DEFAULTS, [RING_EDGES, "[[1, 0], [0, 1], [1, 1], [0, 0], [2, 1]]", "4, 2", 0, 2],
                 ["0-1, 0-2, 0-3, 0-4", "", "4, 2", 1, 0], ["karate", "", "4, 2", 0, 33]], ins, [md, fig],
                fn=calculate, run_on_click=True, cache_examples=False, label="Examples", example_labels=[
                    "the notes' 5-node ring, GCN(3 → 4 → 2)", "the ring as an edge list, typed X",
                    "a star: the hub averages four leaves", "karate club, the officer (node 33)"])


def receptive_panel() -> None:
    gr.Markdown("Pick a node and a number of layers k: the highlighted nodes are those whose features reach "
                "it through k rounds of message passing. The bars are measured by autograd on a random k-layer "
                "GCN (tanh, float64): Σ|∂h_v/∂x_u| over the feature dimensions.")
    with gr.Row():
        edges = gr.Textbox("karate", label="graph (edge list, COO or karate)", scale=3)
        node = Number(0, precision=0, label="node v", minimum=0)
        k = Number(2, precision=0, label="layers k", minimum=1, maximum=MAX_LAYERS)
        seed = Number(0, precision=0, label="weight seed", minimum=0)
        btn = gr.Button("Show receptive field", variant="primary", elem_id=RF_BUTTON)
    md = gr.Markdown()
    fig = gr.Plot(label="receptive field", format="png", show_label=False)
    ins = [edges, node, k, seed]
    on_first_open(receptive, ins, [md, fig], **HEAVY)
    on([btn.click, k.submit, node.submit], receptive, ins, [md, fig], api_name="graphs_receptive", **HEAVY)


ENDPOINTS = [
    Endpoint("graphs_layer", examples=[DEFAULTS, [RING_EDGES, "[[1, 0], [0, 1], [1, 1], [0, 0], [2, 1]]", "4, 2", 0, 2]],
             facts=["X (5, 3) → H1 (5, 4) → H2 (5, 2)", "| 2 | 0.3333 |"],
             bad=[([RING_EDGES + ", 3-7", "[[1, 0], [0, 1], [1, 1], [0, 0], [2, 1]]", "4, 2", 0, 0],
                   "node 7 in the edges list is outside 0 … 4"),
                  (["[[0, 1], [1, 0]]", "", "4, 2", 0, 2], "node v = 2 is outside 0 … 1"),
                  (["0-1, 1-1", "", "4, 2", 0, 0], "self-loop 1-1"),
                  (["[[0, 1], [1, 2]]", "", "4, 2", 0, 0], "has no reverse"),
                  ([RING_EDGES, "[[1, 2], [3, 4]]", "4, 2", 0, 0], "node 2 in the edges list is outside 0 … 1"),
                  ([RING_EDGES, "", "4, 99", 0, 0], "above the maximum 16"),
                  (["__import__('os')", "", "4, 2", 0, 0], "is not an edge")]),
    Endpoint("graphs_receptive", heavy=True, examples=[RF_DEFAULTS, ["karate", 0, 5, 0]],
             facts=["depends on 26 of 34 nodes", "depends on 34 of 34 nodes"],
             bad=[(["karate", 34, 2, 0], "node v = 34 is outside 0 … 33"),
                  (["karate", 0, 0, 0], "layers k = 0 is below the minimum 1"),
                  (["karate", 0, 99, 0], "layers k = 99 is above the maximum 8"),
                  (["", 0, 2, 0], "edges is empty")]),
]
