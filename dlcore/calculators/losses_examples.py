"""The notes' worked loss examples (seed 000 §1.3, §3.1) as data, torch-free.

Each :class:`LossExample` is one call of the Loss calculator with the value the notes print
(``fact``: text the calculator's answer must contain), so the tab's one-click examples, its API
examples and the tests read one list. The first is the tab's default.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass

__all__ = ["X", "Y", "CE_X", "CE_Y", "ONE_HOT", "BIN_X", "BIN_Y", "BCE_P", "LossExample", "SEED_EXAMPLES"]

X = "[[0.5, 0.2], [0.7, 0.9]]"         # §1.3.1 prediction
Y = "[[0.6, 0.4], [0.3, 0.5]]"         # §1.3.1 target
CE_X = "[[2.0, 1.0, 0.5, -1.0], [1.0, 2.0, -0.5, 0.5], [-0.5, 1.0, 1.5, 2.0]]"  # §1.3.4 logits
CE_Y = "[0, 1, 3]"
ONE_HOT = "[[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1]]"
BIN_X = "[[2.0, 1.0], [1.0, 2.0], [-0.5, 1.0]]"  # §1.3.5 logits
BIN_Y = "[[1, 0], [0, 1], [0, 1]]"
BCE_P = "[[0.8808, 0.7311], [0.7311, 0.8808], [0.3755, 0.7311]]"  # §1.3.6 sigmoid(BIN_X)


@dataclass(frozen=True)
class LossExample:
    """One calculator call: the loss, its inputs and options (as the tab's widgets hold them)."""

    label: str
    loss: str
    prediction: str
    target: str
    reduction: str = "mean"
    delta: float = 1.0
    beta: float = 1.0
    weight: str = ""
    ignore_index: int = -100
    label_smoothing: float = 0.0
    pos_weight: str = ""
    log_target: bool = False
    fact: str = "matches"   # text the answer must contain (the notes' printed value)

    def args(self) -> list:
        """The widget values in order (loss, prediction, target, reduction, δ, β, weight,
        ignore_index, label_smoothing, pos_weight, log_target)."""
        return list(astuple(self)[1:-1])


E = LossExample
SEED_EXAMPLES: list[LossExample] = [
    E("§1.3.1 MSE = 0.0925", "MSELoss", X, Y, fact="0.0925"),
    E("§1.3.1 MSE sum = 0.37", "MSELoss", X, Y, "sum", fact="0.37"),
    E("§1.3.1 MSE none", "MSELoss", X, Y, "none", fact="[[0.01, 0.04], [0.16, 0.16]]"),
    E("§1.3.2 L1 = 0.275", "L1Loss", X, Y, fact="0.275"),
    E("§1.3.3 Huber = 0.04625", "HuberLoss", X, Y, fact="0.04625"),
    E("§1.3.3 Huber δ=0.2 → 0.03625", "HuberLoss", X, Y, delta=0.2, fact="0.03625"),
    E("§1.3.4 CE = 0.5769", "CrossEntropyLoss", CE_X, CE_Y, fact="0.57695"),
    E("§1.3.4 CE none", "CrossEntropyLoss", CE_X, CE_Y, "none", fact="[0.4952, 0.5147, 0.721]"),
    E("§1.3.5 BCEWithLogits = 0.6113", "BCEWithLogitsLoss", BIN_X, BIN_Y, fact="0.61128"),
    E("§1.3.5 note 1: 3×4 multi-label", "BCEWithLogitsLoss", CE_X, ONE_HOT, "none", fact="0.1269, 1.3133, 0.9741"),
    E("§1.3.6 BCE = 0.6108", "BCELoss", BCE_P, BIN_Y, fact="0.61078"),
    E("§3.1 CE([0.2, 0.1, -0.1], 0) = 0.9729", "CrossEntropyLoss", "[0.2, 0.1, -0.1]", "0", fact="0.9729"),
    E("CE with weight, ignore_index, smoothing", "CrossEntropyLoss", CE_X, "[0, -100, 3]", weight="[1, 2, 1, 0.5]",
      label_smoothing=0.1),
    E("CE with probability targets", "CrossEntropyLoss", CE_X, "[[0.7, 0.1, 0.1, 0.1], [0, 1, 0, 0], [0, 0, 0.5, 0.5]]"),
    E("NLLLoss on log-probabilities", "NLLLoss", "[[-0.4952, -1.4952, -1.9952, -3.4952]]", "[0]", fact="0.4952"),
    E("BCEWithLogits pos_weight", "BCEWithLogitsLoss", BIN_X, BIN_Y, pos_weight="[3, 1]"),
    E("KLDivLoss batchmean", "KLDivLoss", "[[-1.2040, -0.5108, -2.3026]]", "[[0.2, 0.5, 0.3]]", "batchmean"),
    E("SmoothL1 β=0.3", "SmoothL1Loss", X, Y, beta=0.3),
]
