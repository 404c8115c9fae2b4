"""Torch-free registries and limits of the Bayesian-neural-network family (seed 003 §dl_6).

The UI builds its controls from these; every public entry point of :mod:`dlcore.bayes` enforces the
limits. Nothing here imports torch.
"""

from __future__ import annotations

from typing import Literal

__all__ = ["Method", "METHODS", "METHOD_LABELS", "LAYERS", "N_POINTS", "X_RANGE", "WIDE_RANGE", "N_GRID",
           "MAX_EPOCHS", "MAX_SAMPLES", "MAX_NOISE", "MAX_LR", "MAX_KL_WEIGHT", "MAX_DROPOUT", "MAX_SEED"]

#: The two approximate-inference methods of the notes (§dl_6_1): variational inference and MC Dropout.
Method = Literal["variational", "mc_dropout"]
METHODS: tuple[str, ...] = ("variational", "mc_dropout")
METHOD_LABELS: dict[str, str] = {
    "variational": "variational inference (变分推断), Bayes by Backprop",
    "mc_dropout": "MC Dropout",
}

#: Layers of the notes' variational net 1-20-20-1 (a weight to write out lives in one of them).
LAYERS: tuple[str, ...] = ("fc1", "fc2", "fc3")

N_POINTS = 100                      # the notes' N = 100 training points
X_RANGE: tuple[float, float] = (-3.0, 3.0)     # where the training data lie (torch.linspace(-3, 3, N))
WIDE_RANGE: tuple[float, float] = (-5.0, 5.0)  # where the tab evaluates the band (no data beyond ±3)
N_GRID = 200                        # the notes' x_test = torch.linspace(-3, 3, 200)

# ----------------------------------------------------------------------------- limits
MAX_EPOCHS = 20_000
MAX_SAMPLES = 2_000                 # predictive samples M
MAX_NOISE = 2.0                     # observation noise σ_y of the toy data
MAX_LR = 1.0
MAX_KL_WEIGHT = 100.0
MAX_DROPOUT = 0.9
MAX_SEED = 2**31 - 1
