"""Torch-free registries of the graph family (read by the library and by the UI when it builds).

The option lists the dropdowns show, the notes' example (seed 003 §dl_7_3) as text, and the size
limits every public entry point enforces. Nothing here imports torch.
"""

from __future__ import annotations

from typing import Literal

__all__ = ["Aggregation", "AGGREGATIONS", "Features", "FEATURES", "FEATURE_LABELS", "SEED_EDGE_INDEX",
           "SEED_LABELS", "RING_EDGES", "KARATE", "MAX_NODES", "MAX_EDGES", "MAX_FEATURES", "MAX_LAYERS",
           "MAX_DEPTH", "MAX_EPOCHS", "MAX_LABELLED", "MAX_HIDDEN"]

#: How a node gathers its neighbours' vectors (§dl_7_1 信息聚合: "求和、求平均、取最大值").
Aggregation = Literal["sum", "mean", "max"]
AGGREGATIONS: tuple[str, ...] = ("sum", "mean", "max")

#: Node features for the karate club, which has none of its own: one-hot ids (Kipf & Welling's
#: featureless setting, X = I) or seeded Gaussian noise (features that carry no information).
Features = Literal["identity", "random"]
FEATURES: tuple[str, ...] = ("identity", "random")
FEATURE_LABELS: dict[str, str] = {"identity": "identity X = I (one-hot node ids, Kipf & Welling)",
                                  "random": "random noise, 8 per node (no information at all)"}

#: The notes' graph (§dl_7_3): a 5-node ring 0↔1↔2↔3↔4↔0 in COO form (source row, target row).
SEED_EDGE_INDEX = "[[0, 1, 2, 3, 4, 1, 2, 3, 4, 0], [1, 2, 3, 4, 0, 0, 1, 2, 3, 4]]"
SEED_LABELS = (0, 1, 0, 1, 0)
#: The same ring typed as an edge list.
RING_EDGES = "0-1, 1-2, 2-3, 3-4, 4-0"
#: Typed in a graph box, this word loads Zachary's karate club (networkx, offline).
KARATE = "karate"

# ----------------------------------------------------------------------------- limits
MAX_NODES = 64        # nodes of a typed graph (the karate club has 34)
MAX_EDGES = 1024      # directed edges of a typed graph
MAX_FEATURES = 16     # columns of typed node features / layer widths in the calculator
MAX_HIDDEN = 64       # hidden width of the karate-club models
MAX_LAYERS = 8        # k of the receptive field
MAX_DEPTH = 64        # depth of the over-smoothing sweep
MAX_EPOCHS = 500       # the Trainer's own limit
MAX_LABELLED = 8      # labelled nodes per faction
