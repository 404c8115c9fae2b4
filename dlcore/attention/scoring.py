"""Attention scoring, masks and the masked softmax, written out from the notes' equations.

Seed 000 §8.4.3 (注意力评分函数): the weights are a softmax of a scoring function,

    α(q, k_i) = softmax(a(q, k_i)) = exp(a(q, k_i)) / Σ_j exp(a(q, k_j)),     o = Σ_i α(q, k_i) v_i

with the dot product ``a(q, k) = qᵀk``, the scaled dot product ``a(q, k) = qᵀk / √d``
(Vaswani et al. 2017, https://arxiv.org/abs/1706.03762) and the additive score
``a(q, k) = w_vᵀ tanh(W_q q + W_k k)`` (Bahdanau et al. 2015, https://arxiv.org/abs/1409.0473).
In matrix form (queries ``Q (n, d)``, keys ``K (m, d)``, values ``V (m, d_v)``):

    O = softmax(Q Kᵀ / √d_k) V  ∈ ℝ^{n × d_v}

A mask removes (query, key) pairs before the softmax by setting their score to −∞ (weight
exactly 0): the decoder's causal mask (§8.4.6, key j ≤ query i) and the padding mask (only the
first ``valid_keys`` keys are real, d2l's ``masked_softmax``). Every function accepts leading
batch dimensions ``(..., n, d)`` and equals ``torch.nn.functional.scaled_dot_product_attention``
(tested to 1e-6 and in float64 to 1e-12).
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from typing import Iterator

import torch

from dlcore.attention.names import MASKS, MaskKind
from dlcore.train.runtime import torch_threads

__all__ = ["one_thread", "AttentionResult", "AdditiveWeights", "make_mask", "masked_softmax", "dot_product_attention",
           "additive_attention", "additive_weights"]


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Run the enclosed torch ops of the *calling thread* on one intra-op thread.

    For the tiny tensors of a calculator: torch's softmax kernel splits even a 3×4×4 tensor across
    threads, and waking the second thread of a busy 2-core machine costs ~10 ms against ~5 µs on
    one thread (measured here). With torch's OpenMP backend ``set_num_threads`` is per thread
    (OpenMP's nthreads ICV), so other requests keep their setting; the old value is restored
    (:func:`dlcore.train.runtime.torch_threads`).
    """
    with torch_threads(1):
        yield


@dataclass
class AttentionResult:
    """Every intermediate of one attention pooling.

    Attributes:
        scores: a(q_i, k_j) before scaling, ``(..., n, m)``.
        scaled: the scores after scaling (equal to ``scores`` when unscaled), ``(..., n, m)``.
        masked: the scaled scores with masked pairs set to −∞, ``(..., n, m)``.
        weights: α = softmax of ``masked`` over the keys (rows sum to 1), ``(..., n, m)``.
        output: α V, ``(..., n, d_v)``.
        scale: the factor the scores were multiplied by (1/√d_k, or 1).
        mask: True where query i may attend to key j, ``(n, m)``, or None.
        hidden: additive scoring only: tanh(W_q q_i + W_k k_j), ``(..., n, m, h)``.
    """

    scores: torch.Tensor
    scaled: torch.Tensor
    masked: torch.Tensor
    weights: torch.Tensor
    output: torch.Tensor
    scale: float
    mask: torch.Tensor | None = None
    hidden: torch.Tensor | None = None


def make_mask(kind: MaskKind, n: int, m: int, valid_keys: int | None = None) -> torch.Tensor | None:
    """The boolean mask ``(n, m)``: True where query i may attend to key j (torch's SDPA convention;
    ``nn.MultiheadAttention`` wants the negation).

    * ``"causal"``: j ≤ i, i.e. ``tril(ones(n, m))`` (top-left aligned, as SDPA's ``is_causal``);
    * ``"padding"``: j < ``valid_keys`` (the keys after them are padding);
    * ``"causal+padding"``: both.

    Raises:
        ValueError: unknown kind, or ``valid_keys`` missing / outside 1..m for a padding mask.
    """
    if kind not in MASKS:
        raise ValueError(f"mask {kind!r} is unknown; choose from {', '.join(MASKS)}")
    if kind == "none":
        return None
    keep = torch.ones(n, m, dtype=torch.bool)
    if "causal" in kind:
        keep = torch.tril(keep)  # (n, m): query i sees keys 0..i
    if "padding" in kind:
        if valid_keys is None or not 1 <= int(valid_keys) <= m:
            raise ValueError(f"valid keys {valid_keys} must be between 1 and the number of keys m = {m} "
                             "(the padding mask keeps the first valid keys)")
        keep[:, int(valid_keys):] = False  # (n, m): padded keys are never attended to
    return keep


def masked_softmax(scores: torch.Tensor, mask: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    """``(masked scores, softmax over the last dim)``; masked pairs get −∞ and weight exactly 0.

    Raises:
        ValueError: a query row with every key masked (its softmax would be 0/0).
    """
    if mask is None:
        return scores, torch.softmax(scores, dim=-1)
    if not bool(mask.any(dim=-1).all()):
        row = int((~mask.any(dim=-1)).nonzero()[0, 0])
        raise ValueError(f"query {row} may attend to no key under this mask; every row needs at least one key")
    masked = scores.masked_fill(~mask, float("-inf"))  # (..., n, m)
    return masked, torch.softmax(masked, dim=-1)


def dot_product_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None = None,
                          scaled: bool = True) -> AttentionResult:
    """``softmax(Q Kᵀ / √d_k) V`` (or without the √d_k when ``scaled=False``), step by step.

    Args:
        q: queries ``(..., n, d_k)``; k: keys ``(..., m, d_k)``; v: values ``(..., m, d_v)``.
        mask: boolean ``(n, m)``, True = may attend (see :func:`make_mask`). Default None.
        scaled: divide by √d_k (Vaswani et al. 2017). Default True.

    Raises:
        ValueError: d_q ≠ d_k, or K and V with different numbers of rows.
    """
    _check_qkv(q, k, v, same_dim=True)
    scale = 1.0 / math.sqrt(q.shape[-1]) if scaled else 1.0
    scores = q @ k.transpose(-2, -1)                       # 1. (..., n, m) q_i · k_j
    s = scores * scale                                     # 2. scaling by 1/√d_k
    masked, weights = masked_softmax(s, mask)              # 3.+4. mask, softmax over the keys
    return AttentionResult(scores, s, masked, weights, weights @ v, scale, mask)  # 5. (..., n, d_v)


@dataclass
class AdditiveWeights:
    """The parameters of additive scoring: ``W_q (h, d_q)``, ``W_k (h, d_k)``, ``w_v (h,)``."""

    w_q: torch.Tensor
    w_k: torch.Tensor
    w_v: torch.Tensor


def additive_weights(d_q: int, d_k: int, hidden: int, seed: int = 0,
                     dtype: torch.dtype = torch.float64) -> AdditiveWeights:
    """Seeded weights for additive scoring, drawn as ``nn.Linear`` initialises its weight
    (uniform in ±1/√fan_in), from a private generator (the global RNG is not touched)."""
    g = torch.Generator().manual_seed(int(seed))

    def uniform(*shape: int) -> torch.Tensor:
        bound = 1.0 / math.sqrt(shape[-1])
        return (torch.rand(*shape, generator=g, dtype=torch.float64) * 2 - 1).mul(bound).to(dtype)

    return AdditiveWeights(uniform(hidden, d_q), uniform(hidden, d_k), uniform(1, hidden)[0])


def additive_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, weights: AdditiveWeights,
                       mask: torch.Tensor | None = None) -> AttentionResult:
    """Additive (Bahdanau) attention: ``a(q_i, k_j) = w_vᵀ tanh(W_q q_i + W_k k_j)``; d_q may differ
    from d_k. Shape: q ``(..., n, d_q)``, k ``(..., m, d_k)``, v ``(..., m, d_v)`` -> ``(..., n, d_v)``.
    """
    _check_qkv(q, k, v, same_dim=False)
    h = weights.w_q.shape[0]
    if weights.w_q.shape != (h, q.shape[-1]) or weights.w_k.shape != (h, k.shape[-1]) or weights.w_v.shape != (h,):
        raise ValueError(f"additive weights W_q {tuple(weights.w_q.shape)}, W_k {tuple(weights.w_k.shape)}, "
                         f"w_v {tuple(weights.w_v.shape)} do not fit d_q = {q.shape[-1]}, d_k = {k.shape[-1]}")
    qh = q @ weights.w_q.T                                  # 1. (..., n, h)  W_q q_i
    kh = k @ weights.w_k.T                                  #    (..., m, h)  W_k k_j
    hidden = torch.tanh(qh.unsqueeze(-2) + kh.unsqueeze(-3))  # 2. (..., n, m, h) broadcast sum, tanh
    scores = hidden @ weights.w_v                           # 3. (..., n, m)  w_vᵀ tanh(...)
    masked, alpha = masked_softmax(scores, mask)            # 4. mask, softmax over the keys
    return AttentionResult(scores, scores, masked, alpha, alpha @ v, 1.0, mask, hidden)  # 5. (..., n, d_v)


def _check_qkv(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, *, same_dim: bool) -> None:
    for name, t in (("Q", q), ("K", k), ("V", v)):
        if t.ndim < 2:
            raise ValueError(f"{name} must be a matrix (one row per token), got shape {tuple(t.shape)}")
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(f"K has {k.shape[-2]} rows but V has {v.shape[-2]}; every key needs exactly one value "
                         "(m rows in both)")
    if same_dim and q.shape[-1] != k.shape[-1]:
        raise ValueError(f"Q has d_q = {q.shape[-1]} columns but K has d_k = {k.shape[-1]}; the dot product q·k "
                         "needs d_q = d_k (additive scoring allows different sizes)")
