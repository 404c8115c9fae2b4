"""Torch-free registries of the attention family (read by the library and by the UI when it builds).

Every option list a dropdown shows lives here once: the attention scoring functions (seed 000
§8.4.3), the masks (§8.4.6: the decoder's causal mask; d2l's ``masked_softmax`` for padding),
the Nadaraya–Watson kernels (§8.4.1), the positional encodings (§8.4.5, plus RoPE), the
projections of the multi-head split, the notes' CNN / RNN / self-attention table (§8.4.5) and
the size limits every public entry point enforces. Nothing here imports torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["Scoring", "SCORINGS", "SCORING_LABELS", "MaskKind", "MASKS", "MASK_LABELS", "Kernel", "KERNELS",
           "Projection", "PROJECTIONS", "Pairing", "PAIRINGS", "ComplexityRow", "COMPLEXITY_TABLE",
           "LAYER_KINDS", "MAX_TOKENS", "MAX_DIM", "MAX_HEADS", "MAX_HIDDEN", "MAX_POSITIONS", "MAX_PE_DIM",
           "MAX_EPOCHS", "MAX_TRAIN_POINTS", "MAX_SWEEP_LENGTH", "CALC_EXAMPLES", "CalcExample"]

#: Attention scoring functions a(q, k) (seed 000 §8.4.3).
Scoring = Literal["scaled_dot", "dot", "additive"]
SCORINGS: tuple[str, ...] = ("scaled_dot", "dot", "additive")
SCORING_LABELS: dict[str, str] = {
    "scaled_dot": "scaled dot product  qᵀk / √d  (缩放点积)",
    "dot": "dot product  qᵀk  (点积)",
    "additive": "additive  w_vᵀ tanh(W_q q + W_k k)  (加性, Bahdanau)",
}

#: Which (query i, key j) pairs may attend: causal = j ≤ i (the decoder's masked attention, §8.4.6);
#: padding = only the first ``valid_keys`` keys (d2l's ``masked_softmax`` with ``valid_lens``).
MaskKind = Literal["none", "causal", "padding", "causal+padding"]
MASKS: tuple[str, ...] = ("none", "causal", "padding", "causal+padding")
MASK_LABELS: dict[str, str] = {
    "none": "no mask",
    "causal": "causal: query i sees keys j ≤ i (解码器的掩蔽)",
    "padding": "padding: only the first valid keys",
    "causal+padding": "causal and padding",
}

#: Kernels K(u) of Nadaraya–Watson regression (§8.4.1 uses the Gaussian).
Kernel = Literal["gaussian", "boxcar", "epanechnikov"]
KERNELS: tuple[str, ...] = ("gaussian", "boxcar", "epanechnikov")

#: Projection weights W_i^Q, W_i^K, W_i^V, W^O of the multi-head split (§8.4.3): identity = the
#: pure split of the columns into heads; random = seeded Xavier-uniform weights (torch's init).
Projection = Literal["identity", "random"]
PROJECTIONS: tuple[str, ...] = ("identity", "random")

#: Which dimensions RoPE rotates together: (2j, 2j+1) as in the sinusoidal table and the RoFormer
#: paper, or (j, j + d/2) as Hugging Face's Llama ``rotate_half`` does.
Pairing = Literal["interleaved", "half"]
PAIRINGS: tuple[str, ...] = ("interleaved", "half")

#: The three layers of the comparison, in the notes' order.
LAYER_KINDS: tuple[str, ...] = ("CNN", "RNN", "self-attention")


@dataclass(frozen=True)
class ComplexityRow:
    """One row of the notes' table (seed 000 §8.4.5, "CNN、RNN、self-attention的对比"; Vaswani et al.
    2017, Table 1, https://arxiv.org/abs/1706.03762)."""

    layer: str
    complexity: str        # per-layer computational complexity
    sequential: str        # sequential operations
    path: str              # maximum path length
    assumption: str        # what the notes assume


#: n = sequence length, d = channels / hidden size, k = kernel size.
COMPLEXITY_TABLE: tuple[ComplexityRow, ...] = (
    ComplexityRow("CNN", "O(k·n·d²)", "O(1)", "O(n/k)", "kernel size k, d input and output channels"),
    ComplexityRow("RNN", "O(n·d²)", "O(n)", "O(n)", "a d×d weight matrix and a d-dimensional hidden state"),
    ComplexityRow("self-attention", "O(n²·d)", "O(1)", "O(1)", "q, k, v are all n×d matrices"),
)

# ----------------------------------------------------------------------------- limits
MAX_TOKENS = 16          # rows of Q (queries) or K / V (keys) in the calculator
MAX_DIM = 32             # columns of Q, K, V
MAX_HEADS = 8
MAX_HIDDEN = 32          # hidden size h of additive scoring
MAX_POSITIONS = 512      # rows of a positional-encoding table
MAX_PE_DIM = 512         # columns (d) of a positional-encoding table
MAX_EPOCHS = 500         # epochs of the parametric pooling
MAX_TRAIN_POINTS = 500   # training pairs of the Nadaraya–Watson toy
MAX_SWEEP_LENGTH = 4096  # longest sequence of the complexity sweep


@dataclass(frozen=True)
class CalcExample:
    """A one-click example of the attention calculator (the inputs, as the boxes show them)."""

    label: str
    q: str
    k: str
    v: str
    scoring: str = "scaled_dot"
    mask: str = "none"
    valid_keys: int = 0
    heads: int = 1
    projection: str = "identity"
    row: int = 0


_Q2 = "[[1.0, 0.0], [0.0, 1.0]]"
_K3 = "[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]"
_V3 = "[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]"
_X4 = ("[[0.2, -0.4, 0.5, 0.1, -0.3, 0.8], [0.7, 0.1, -0.2, 0.4, 0.6, -0.5], "
       "[-0.1, 0.9, 0.3, -0.6, 0.2, 0.4], [0.5, 0.3, -0.7, 0.2, -0.1, 0.6]]")

#: §8.4.4's translation I am happy -> Je suis content: the encoder states h_1, h_2, h_3 (keys and values,
#: d = 4, illustrative numbers) and the decoder state s_{t'-1} after "Je suis" (the query, d = 3 ≠ 4:
#: additive scoring allows it). With untrained (seeded) W_q, W_k, w_v the weights are near uniform.
_H3 = "[[0.1, 0.6, -0.2, 0.3], [0.4, -0.1, 0.5, 0.2], [0.9, 0.2, 0.7, -0.4]]"

#: The calculator's examples; the first is the default. The 4×6 ones are the shape of the notes'
#: §8.4.6 walk-through ("Good morning, I am": T = 4 words, d = 6); the 1×6 query is its decoder's
#: encoder–decoder attention (Q from one decoder word, K and V from the 4 encoder outputs → 1×6).
CALC_EXAMPLES: tuple[CalcExample, ...] = (
    CalcExample("2 queries, 3 keys (scaled dot product)", _Q2, _K3, _V3),
    CalcExample("causal self-attention, 4 words × d = 6 (§8.4.6)", _X4, _X4, _X4, mask="causal", row=3),
    CalcExample("padding: only the first 2 keys are real", _Q2, _K3, _V3, mask="padding", valid_keys=2),
    CalcExample("additive (Bahdanau) scoring", _Q2, _K3, _V3, scoring="additive"),
    CalcExample("unscaled dot product", _Q2, _K3, _V3, scoring="dot"),
    CalcExample("2 heads, identity projections: the pure split", _X4, _X4, _X4, heads=2),
    CalcExample("3 heads, random W_Q, W_K, W_V, W_O", _X4, _X4, _X4, heads=3, projection="random"),
    CalcExample("encoder–decoder: 1 query, 4 encoder words (§8.4.6)",
                "[[0.3, -0.2, 0.6, 0.1, 0.4, -0.5]]", _X4, _X4),
    CalcExample("Bahdanau: s after 'Je suis' → h(I), h(am), h(happy)", "[[0.5, -0.3, 0.8]]", _H3, _H3,
                scoring="additive"),
)
