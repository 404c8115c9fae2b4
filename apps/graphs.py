"""Graphs tab: graph neural networks (seed 003 §dl_7) — message passing, GCN, GAT, their limits.

Thin glue over :mod:`dlcore.graphs` and :mod:`dlcore.plotting.graphs`. Panels: the graph calculator and
the receptive field (:mod:`apps.graphs_calc`), semi-supervised training on Zachary's karate club with a
Stop button (this module), over-smoothing and GAT (:mod:`apps.graphs_more`).
"""

from __future__ import annotations

from typing import Any, Iterator

import gradio as gr

from apps import graphs_calc, graphs_more
from apps.common import (HEAVY, LATEX, LIGHT, STOPS, STOP_EXAMPLES, Dropdown, Endpoint, ErrorDemo, Number, SeedRef,
                        guard, on, stop_button)
from apps.streaming import paced
from dlcore.graphs.names import FEATURE_LABELS, FEATURES, MAX_EPOCHS, MAX_LABELLED

TITLE = "Graph neural networks (GCN, GAT)"
RUN_BUTTON = graphs_calc.RUN_BUTTON
TRAIN_BUTTON = "graphs-train"
_B = "003_1dbce9a3816ea850.txt"
SEEDS = [SeedRef(_B, "dl_7_1", "原理 (graph structure, message passing 信息聚合, inputs and outputs are graphs)"),
         SeedRef(_B, "dl_7_2", "图神经网络的类型 (GCN, GAT, ST-GNN)"),
         SeedRef(_B, "dl_7_3", "示例 (a 2-layer GCN on a 5-node ring with torch_geometric)")]
#: features, labelled per faction, hidden width, epochs, learning rate, seed
TRAIN_DEFAULT = ["identity", 1, 4, 200, 0.01, 0]
INTRO = r"""
A **graph** $G = \{V, E\}$ (图的结构) stores vectors on its nodes and lists who is connected to whom. A
**GNN layer** takes a graph and returns a graph: every node gathers its neighbours' vectors — sum, mean or
max, **message passing** (信息聚合) — and transforms the result (§dl_7_1). The GCN of Kipf & Welling 2017
uses $H' = \sigma(\hat A H W)$, $\hat A = \tilde D^{-1/2}(A + I)\tilde D^{-1/2}$; GAT (Veličković et al. 2018)
learns the neighbour weights by attention (§dl_7_2). Everything here is pure torch; the notes'
`torch_geometric` example is reproduced number for number (checked against PyG in the tests). *ST-GNN*
(§dl_7_2) feeds such node features into an LSTM/GRU over time: see the **Sequence** tab for that half.
"""


def _summary(run: Any, mlp: Any) -> str:
    c = run.config
    lab = run.labelled.tolist()
    n_rest = run.graph.n - len(lab)
    gcn_ok, mlp_ok = round(run.accuracy * n_rest), round(mlp.accuracy * n_rest) if mlp else 0
    status = {"stopped": "⏹ **stopped** — ", "diverged": "💥 **diverged** — "}.get(run.status, "")
    lines = [f"### {status}GCN {run.accuracy:.1%} vs MLP {mlp.accuracy:.1%} on the {n_rest} unlabelled members"
             if mlp else f"### {status}GCN {run.accuracy:.1%} on the {n_rest} unlabelled members",
             f"Labelled: nodes {lab} ({c.labelled} per faction; 0 = Mr. Hi, 33 = the officer). Features: "
             f"{FEATURE_LABELS[c.features]}. {len(run.frames)} epochs of Adam η = {c.lr:g}, weight decay 5e-4, "
             f"GCN {run.graph.n if c.features == 'identity' else 8} → {c.hidden} → 2 (tanh) → linear classifier.",
             f"| model | sees the edges | right (of {n_rest}) | accuracy |\n|---|---|---:|---:|\n"
             f"| GCN | yes, Â | {gcn_ok} | **{run.accuracy:.1%}** |" +
             (f"\n| MLP (same net, Â = I) | no | {mlp_ok} | {mlp.accuracy:.1%} |" if mlp else "")]
    if mlp and c.features == "identity":
        lines.append("With one-hot ids an unlabelled node's features say nothing about its faction, so the MLP can "
                     "only guess (50% = the unlabelled split, 16 vs 16); every point the GCN gains comes from the "
                     "friendships. The 2-D embedding shows the two factions pulled apart by the edges alone.")
    elif mlp:
        lines.append("Random features carry no information either: what the GCN gets right beyond the MLP "
                     "comes from the edges, and random noise is a worse starting point than one-hot ids.")
    lines.append(f"{run.message}")
    return "\n\n".join(lines)


@guard
def train(features: Any, labelled: Any, hidden: Any, epochs: Any, lr: Any, seed: Any,
          request: gr.Request = None) -> Iterator[tuple]:  # type: ignore[assignment]
    """Train the GCN on the karate club (streaming the epoch and embedding), then the MLP baseline for
    the same number of epochs; all measured numbers on the page."""
    from dataclasses import replace

    from dlcore.graphs.train import KarateRun, karate_config, train_karate
    from dlcore.plotting.graphs import curves_figure, training_figure

    cfg = karate_config(features, labelled, hidden, epochs, lr, seed)
    run: Any = None
    with STOPS.running(request, "graphs_train") as stop:
        for item, due in paced(train_karate(cfg, stop_event=stop), 0.4):
            if isinstance(item, KarateRun):
                run = item
            elif due:
                yield (f"⏳ GCN epoch {item.epoch}/{cfg.epochs} · loss {item.loss:.4f} · accuracy on unlabelled "
                       f"{item.accuracy:.1%}",
                       training_figure(_karate(), item.embedding, item.pred, _labelled(cfg.labelled), item.epoch,
                                       item.accuracy), gr.skip())
    mlp = None
    if run.frames:
        yield "⏳ training the MLP baseline (same net, no edges)…", gr.skip(), gr.skip()
        mlp = [r for r in train_karate(replace(cfg, edges=False, epochs=len(run.frames)))][-1]
    f = run.frames[-1]
    curves = {"GCN (sees the edges)": [(fr.epoch, fr.accuracy) for fr in run.frames]}
    if mlp:
        curves["MLP (ignores them)"] = [(fr.epoch, fr.accuracy) for fr in mlp.frames]
    yield (_summary(run, mlp), training_figure(run.graph, f.embedding, f.pred, run.labelled.tolist(), f.epoch,
                                                f.accuracy), curves_figure(curves))


def _karate() -> Any:
    from dlcore.graphs.graph import karate_club

    return karate_club()


def _labelled(per_class: int) -> list[int]:
    from dlcore.graphs.train import labelled_nodes

    return labelled_nodes(_karate(), per_class).tolist()


stop_train = stop_button("graphs_train", "⏹ Stopping after the current epoch…",
                          "Nothing is training right now: press **Train on the karate club**.")


def _train_tab() -> None:
    gr.Markdown("Zachary's karate club (1977): 34 members, 78 friendships; the club split into two factions. "
                "Give the model the faction of **one member per side** (the two leaders) and let it infer the "
                "other 32 from who is friends with whom — semi-supervised node classification (Kipf & Welling "
                "2017). The same network without the edges (an MLP) is trained beside it.")
    with gr.Row():
        feats = Dropdown([(FEATURE_LABELS[f], f) for f in FEATURES], value="identity", label="node features", scale=2)
        lab = Number(1, precision=0, label="labelled per faction", minimum=1, maximum=MAX_LABELLED)
        with gr.Column(min_width=200):
            btn = gr.Button("Train on the karate club", variant="primary", elem_id=TRAIN_BUTTON)
            stop = gr.Button("Stop", variant="stop", size="sm", elem_id="graphs-train-stop")
    with gr.Accordion("Model and optimiser (Kipf & Welling: Adam η = 0.01, 200 epochs)", open=False):
        with gr.Row():
            hidden = Number(4, precision=0, label="hidden width", minimum=2)
            epochs = Number(200, precision=0, label="epochs", minimum=1, maximum=MAX_EPOCHS)
            lr = Number(0.01, label="learning rate η")
            seed = Number(0, precision=0, label="seed", minimum=0)
    md = gr.Markdown(latex_delimiters=LATEX)
    fig = gr.Plot(label="embedding and predictions", format="png", show_label=False)
    curves = gr.Plot(label="accuracy per epoch", format="png", show_label=False)
    ins = [feats, lab, hidden, epochs, lr, seed]
    on(btn.click, train, ins, [md, fig, curves], api_name="graphs_train", **HEAVY)
    on(stop.click, stop_train, md, md, api_name="graphs_train_stop", **LIGHT)
    gr.Examples([TRAIN_DEFAULT, ["identity", 3, 4, 200, 0.01, 0], ["random", 1, 4, 200, 0.01, 0]], ins,
                [md, fig, curves], fn=train, run_on_click=False, cache_examples=False, label="Examples",
                example_labels=["one label per faction (the paper's demo)", "three labels per faction",
                                "random features (no information)"])


def build() -> None:
    gr.Markdown(INTRO, latex_delimiters=LATEX)
    with gr.Tab("Graph calculator: one GCN layer (§dl_7_1, §dl_7_3)"):
        graphs_calc.build()
    with gr.Tab("Receptive field: k layers see k hops"):
        graphs_calc.receptive_panel()
    with gr.Tab("Train a GCN: karate club"):
        _train_tab()
    with gr.Tab("Limits: over-smoothing"):
        graphs_more.depth_panel()
    with gr.Tab("GAT: learned neighbour weights (§dl_7_2)"):
        graphs_more.gat_panel()


def warmup() -> None:
    """Import the family and networkx, lay out the karate club and draw once (no training)."""
    import dlcore.graphs.calculator  # noqa: F401
    import dlcore.graphs.train  # noqa: F401
    from dlcore.graphs.graph import karate_club
    from dlcore.plotting import figure_to_png, new_figure
    from dlcore.plotting.graphs import draw_graph

    fig, ax = new_figure()
    draw_graph(ax, karate_club())
    figure_to_png(fig)


#: The browser test types an edge to a node that has no feature row and reads the message in place.
ERROR_DEMO = ErrorDemo(fill={"edges (edge list": "0-1, 1-2, 2-7", "node features X": "[[1, 0], [0, 1], [1, 1]]"},
                       click=graphs_calc.RUN_BUTTON, expect="node 7 in the edges list is outside 0 … 2")
ENDPOINTS = [
    *graphs_calc.ENDPOINTS,
    Endpoint("graphs_train", heavy=True, stateful=True, examples=[TRAIN_DEFAULT, ["random", 1, 4, 200, 0.01, 0]],
             facts=["GCN 96.9% vs MLP 50.0%", "GCN 78.1% vs MLP 62.5%"],
             bad=[(["onehot", 1, 4, 200, 0.01, 0], "features 'onehot' is not one of"),
                  (["identity", 0, 4, 200, 0.01, 0], "labelled nodes per faction = 0 is below the minimum 1"),
                  (["identity", 1, 4, 10 ** 6, 0.01, 0], "epochs = 1000000 is above the maximum 500"),
                  (["identity", 1, 4, 200, 5, 0], "learning rate η = 5 is above the maximum 1"),
                  (["identity", 1, 1, 200, 0.01, 0], "hidden width = 1 is below the minimum 2")]),
    Endpoint("graphs_train_stop", examples=STOP_EXAMPLES, facts=["Nothing is training", "The last run's summary."]),
    *graphs_more.ENDPOINTS,
]

if __name__ == "__main__":
    import launch

    launch.main(["--tabs", "graphs"])
