"""Graph neural networks (seed 003 §dl_7): graphs, message passing, GCN, training, over-smoothing.

::

    from dlcore.graphs import parse_graph, seed_example, receptive_field, train_karate
    g = parse_graph("[[0, 1, 2, 3, 4, 1, 2, 3, 4, 0], [1, 2, 3, 4, 0, 0, 1, 2, 3, 4]]")  # the notes' ring
    ex = seed_example(g, seed=0)          # GCN(3 → 4 → 2) as PyG's GCNConv initialises it; ex.pred
    r = receptive_field(parse_graph("karate"), node=0, k=2)   # ∂h_v/∂x_u ≠ 0 ⇔ u within 2 hops
    run = list(train_karate())[-1]        # Kipf & Welling's karate club, one label per faction

* :mod:`~dlcore.graphs.graph`: G = {V, E} from text, the karate club, A, Â, sum/mean/max aggregation;
* :mod:`~dlcore.graphs.gcn`: the GCN layer (Kipf & Welling 2017), the notes' example, receptive field;
* :mod:`~dlcore.graphs.gat`: one graph-attention layer (Veličković et al. 2018);
* :mod:`~dlcore.graphs.train`: semi-supervised karate club, GCN vs an MLP that ignores the edges;
* :mod:`~dlcore.graphs.smoothing`: over-smoothing with depth.

Figures: :mod:`dlcore.plotting.graphs`. ``dlcore.graphs.names`` is torch-free (the UI's option lists).
"""

from __future__ import annotations

from dlcore.lazy import lazy_exports

#: public name -> submodule that defines it
_EXPORTS: dict[str, str] = {
    **{n: "names" for n in ("AGGREGATIONS", "FEATURES", "SEED_EDGE_INDEX", "RING_EDGES")},
    **{n: "graph" for n in ("Graph", "parse_graph", "karate_club", "adjacency", "normalized_adjacency", "aggregate",
                            "hop_distances")},
    **{n: "gcn" for n in ("glorot", "GCNLayer", "GCN", "seed_example", "SeedExample", "Receptive",
                          "receptive_field", "layer_outputs", "aggregations")},
    **{n: "train" for n in ("KarateConfig", "karate_config", "NodeClassifier", "Frame", "KarateRun",
                            "labelled_nodes", "node_features", "train_karate")},
    **{n: "smoothing" for n in ("Smoothing", "oversmoothing")},
    **{n: "calculator" for n in ("Term", "GraphReport", "graph_report", "latex_matrix", "parse_widths", "vec")},
    **{n: "gat" for n in ("GATWeights", "gat_weights", "GATResult", "gat_layer")},
}

__all__ = list(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
