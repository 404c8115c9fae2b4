"""Sinusoidal positional encoding, the proof by numbers that a shift is a rotation, and RoPE.

Seed 000 §8.4.5 (位置编码) and 003 §dl_10_1_3: for position i and column pair (2j, 2j+1),

    p_{i,2j} = sin(i ω_j),  p_{i,2j+1} = cos(i ω_j),  ω_j = 1 / 10000^{2j/d}

(Vaswani et al. 2017, https://arxiv.org/abs/1706.03762). For any fixed offset δ the notes'
2×2 block ``[[cos δω_j, sin δω_j], [−sin δω_j, cos δω_j]]`` maps the pair at position i to the
pair at position i + δ, whatever i is: PE(i + δ) = M_δ PE(i) with M_δ block-diagonal and
independent of i. :func:`shift_proof` checks it on every position of a table, and also *fits* each
2×2 block by least squares from the table alone (as a linear layer could learn it) and recovers it.

RoPE (Su et al. 2021, RoFormer, https://arxiv.org/abs/2104.09864) rotates each pair of a query or
key at position m by the angle m ω_j instead of adding a vector, so that
⟨R_m q, R_n k⟩ = ⟨q, R_{n−m} k⟩ depends on the offset n − m only (:func:`rope_scores`).
``pairing="interleaved"`` rotates (2j, 2j+1) as the paper does; ``"half"`` rotates (j, j + d/2) as
Hugging Face's Llama ``rotate_half`` does (equal to ``apply_rotary_pos_emb``, tested).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from dlcore.attention.names import MAX_PE_DIM, MAX_POSITIONS, PAIRINGS, Pairing

__all__ = ["frequencies", "sinusoidal_encoding", "shift_blocks", "shift_matrix", "ShiftProof", "shift_proof",
           "rope", "rope_scores", "RopeScores"]


def _check_dims(n: int, d: int) -> None:
    if not 1 <= n <= MAX_POSITIONS:
        raise ValueError(f"positions {n} must be between 1 and {MAX_POSITIONS}")
    if not 2 <= d <= MAX_PE_DIM or d % 2:
        raise ValueError(f"dimension d = {d} must be even (sin/cos pairs) and between 2 and {MAX_PE_DIM}")


def frequencies(d: int, base: float = 10000.0, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """ω_j = 1 / base^{2j/d} for j = 0 … d/2 − 1. Shape ``(d/2,)``."""
    if not (math.isfinite(base) and base > 1):
        raise ValueError(f"base {base} must be a number above 1 (the notes use 10000)")
    return 1.0 / base ** (torch.arange(0, d, 2, dtype=dtype) / d)


def sinusoidal_encoding(n: int, d: int, base: float = 10000.0, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """The table P ``(n, d)``: P[i, 2j] = sin(i ω_j), P[i, 2j+1] = cos(i ω_j)."""
    _check_dims(n, d)
    return _table(n, d, base, dtype)


def _table(n: int, d: int, base: float, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    angles = torch.arange(n, dtype=dtype)[:, None] * frequencies(d, base, dtype)[None, :]  # (n, d/2) i·ω_j
    return torch.stack([torch.sin(angles), torch.cos(angles)], -1).flatten(-2)  # (n, d): sin, cos interleaved


def shift_blocks(delta: float, d: int, base: float = 10000.0) -> torch.Tensor:
    """The notes' 2×2 blocks [[cos δω_j, sin δω_j], [−sin δω_j, cos δω_j]], shape ``(d/2, 2, 2)``."""
    a = delta * frequencies(d, base)  # (d/2,)
    c, s = torch.cos(a), torch.sin(a)
    return torch.stack([torch.stack([c, s], -1), torch.stack([-s, c], -1)], -2)  # (d/2, 2, 2)


def shift_matrix(delta: float, d: int, base: float = 10000.0) -> torch.Tensor:
    """M_δ ``(d, d)``: the blocks on the diagonal, so that PE(i + δ) = M_δ PE(i) (column vectors)."""
    return torch.block_diag(*shift_blocks(delta, d, base))


@dataclass
class ShiftProof:
    """PE(i + δ) = M_δ PE(i) checked on every position of a table.

    Attributes:
        pe: the table ``(n + δ, d)``; blocks ``(d/2, 2, 2)`` and matrix ``(d, d)``: M_δ.
        position, pe_p, pe_shifted, mapped: the worked example: PE(p), PE(p + δ), M_δ PE(p), ``(d,)``.
        residual: max over all i of |PE(i + δ) − M_δ PE(i)|.
        fitted: for each pair j the least-squares 2×2 map W_j with (p_{i+δ,2j}, p_{i+δ,2j+1}) ≈
            W_j (p_{i,2j}, p_{i,2j+1}), fitted from the table alone ``(d/2, 2, 2)`` (None for n < 2);
        fit_error: max |W_j − block_j|: the map is recovered from the data. (A single d×d fit is
            not unique: the slow pairs barely move over a short table, so their columns are
            nearly collinear.)
    """

    pe: torch.Tensor
    delta: int
    blocks: torch.Tensor
    matrix: torch.Tensor
    position: int
    pe_p: torch.Tensor
    pe_shifted: torch.Tensor
    mapped: torch.Tensor
    residual: float
    fitted: torch.Tensor | None
    fit_error: float


def shift_proof(n: int, d: int, position: int, delta: int, base: float = 10000.0) -> ShiftProof:
    """Check PE(i + δ) = M_δ PE(i) for i = 0 … n − 1 and write out position ``position``.

    Raises:
        ValueError: sizes outside the limits, d odd, or a position / offset outside the table.
    """
    _check_dims(n, d)
    if not 0 <= position < n:
        raise ValueError(f"position p = {position} must be between 0 and {n - 1}")
    if not 0 <= delta <= MAX_POSITIONS:
        raise ValueError(f"offset δ = {delta} must be between 0 and {MAX_POSITIONS}")
    pe = _table(n + delta, d, base)                      # (n + δ, d)
    m = shift_matrix(delta, d, base)                     # (d, d)
    src, dst = pe[:n], pe[delta:delta + n]               # (n, d) rows PE(i) and PE(i + δ)
    mapped_all = src @ m.T                               # (n, d) row form of M_δ PE(i)
    residual = float((dst - mapped_all).abs().max())
    fitted, fit_error = None, float("nan")
    if n >= 2:  # fit each pair's 2×2 map from the table alone: (n, 2) -> (n, 2) least squares
        pairs_src, pairs_dst = src.unflatten(-1, (d // 2, 2)).transpose(0, 1), dst.unflatten(-1, (d // 2, 2)).transpose(0, 1)
        fitted = torch.linalg.lstsq(pairs_src, pairs_dst).solution.transpose(-2, -1)  # (d/2, 2, 2)
        fit_error = float((fitted - shift_blocks(delta, d, base)).abs().max())
    return ShiftProof(pe, delta, shift_blocks(delta, d, base), m, position, src[position], dst[position],
                      mapped_all[position], residual, fitted, fit_error)


def rope(x: torch.Tensor, positions: torch.Tensor, base: float = 10000.0,
         pairing: Pairing = "interleaved") -> torch.Tensor:
    """Rotate each pair of ``x (..., L, d)`` at position ``positions (L,)`` by ``pos · ω_j``.

    Pair j is (2j, 2j+1) (``"interleaved"``, RoFormer) or (j, j + d/2) (``"half"``, Llama):
    ``(x_a, x_b) -> (x_a cos θ − x_b sin θ, x_a sin θ + x_b cos θ)``.
    """
    if pairing not in PAIRINGS:
        raise ValueError(f"pairing {pairing!r} is unknown; choose from {', '.join(PAIRINGS)}")
    d = x.shape[-1]
    if d % 2:
        raise ValueError(f"RoPE needs an even dimension, got d = {d}")
    theta = positions.to(x.dtype)[:, None] * frequencies(d, base, x.dtype)[None, :]  # (L, d/2)
    c, s = torch.cos(theta), torch.sin(theta)
    if pairing == "interleaved":
        a, b = x[..., 0::2], x[..., 1::2]                                  # (..., L, d/2)
        return torch.stack([a * c - b * s, a * s + b * c], -1).flatten(-2)  # (..., L, d)
    a, b = x[..., : d // 2], x[..., d // 2:]
    return torch.cat([a * c - b * s, a * s + b * c], -1)


@dataclass
class RopeScores:
    """⟨RoPE(q, m), RoPE(k, n)⟩ for every (m, n) ``(L, L)``, the score by offset n − m (taken from
    the first row/column), and the largest spread of scores that share an offset (≈ 0)."""

    scores: torch.Tensor
    offsets: torch.Tensor
    by_offset: torch.Tensor
    spread: float
    absolute_spread: float  # the same with sinusoidal PE *added* instead: not ≈ 0


def rope_scores(q: torch.Tensor, k: torch.Tensor, length: int, base: float = 10000.0,
                pairing: Pairing = "interleaved") -> RopeScores:
    """Put the same q and k at every position 0 … length − 1 and score every pair (m, n).

    With RoPE the score depends only on n − m (``spread`` ≈ 1e-15); adding the sinusoidal table
    instead makes it depend on m and n themselves (``absolute_spread`` is large).
    """
    d = q.shape[-1]
    _check_dims(length, d)
    pos = torch.arange(length)
    qs = rope(q.expand(length, d), pos, base, pairing)  # (L, d) q at positions m
    ks = rope(k.expand(length, d), pos, base, pairing)  # (L, d) k at positions n
    scores = qs @ ks.T                                  # (L, L) [m, n]
    pe = sinusoidal_encoding(length, d, base, q.dtype)
    added = (q + pe) @ (k + pe).T                       # (L, L) absolute PE, for contrast
    off = pos[None, :] - pos[:, None]                   # (L, L) n − m
    offsets = torch.arange(-(length - 1), length)
    by = torch.stack([scores[off == o].mean() for o in offsets])

    def spread(s: torch.Tensor) -> float:
        return max(float(s[off == o].max() - s[off == o].min()) for o in offsets)

    return RopeScores(scores, offsets, by, spread(scores), spread(added))
