"""Multi-head attention written out, and the same weights in ``torch.nn.MultiheadAttention``.

Seed 000 §8.4.3 (多头注意力) and 003 §dl_10_1_2, with the notes' row convention ``Q = X W``:

    o_i = softmax( (Q W_i^Q)(K W_i^K)ᵀ / √p ) (V W_i^V)   ∈ ℝ^{n × p},   p = E / h
    O   = Concat(o_1, …, o_h) W^O                        ∈ ℝ^{n × E}

``W^Q (d_q, E)``, ``W^K (d_k, E)``, ``W^V (d_v, E)`` hold the h heads side by side (head i is
columns ``i·p … (i+1)·p − 1``), ``W^O (E, E)``; E = d_q. With identity projections this is the
pure *split*: head i attends with columns ``i·p … (i+1)·p − 1`` of Q, K and V and the outputs are
concatenated. :func:`torch_multihead` builds ``nn.MultiheadAttention(E, h, kdim=d_k, vdim=d_v)``
carrying the same numbers (torch stores ``Wᵀ``: ``y = x Wᵀ + b``); the outputs and the per-head
weights agree to 1e-12 in float64 (tested). Vaswani et al. 2017, https://arxiv.org/abs/1706.03762.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from dlcore.attention.names import PROJECTIONS, Projection
from dlcore.attention.scoring import AttentionResult, dot_product_attention

__all__ = ["MultiHeadWeights", "MultiHeadResult", "projection_weights", "multi_head_attention", "torch_multihead"]


@dataclass
class MultiHeadWeights:
    """Projections in the notes' convention (``X W``); biases are optional ``(E,)`` vectors."""

    w_q: torch.Tensor  # (d_q, E)
    w_k: torch.Tensor  # (d_k, E)
    w_v: torch.Tensor  # (d_v, E)
    w_o: torch.Tensor  # (E, E)
    b_q: torch.Tensor | None = None
    b_k: torch.Tensor | None = None
    b_v: torch.Tensor | None = None
    b_o: torch.Tensor | None = None

    @property
    def embed_dim(self) -> int:
        return int(self.w_q.shape[1])


@dataclass
class MultiHeadResult:
    """Intermediates of :func:`multi_head_attention`.

    Attributes:
        q, k, v: the projections ``X W`` (+ b), ``(..., n, E)``, ``(..., m, E)``, ``(..., m, E)``.
        heads: one :class:`AttentionResult` with a head dimension: weights ``(..., h, n, m)``,
            output ``(..., h, n, p)``.
        concat: ``Concat(o_1, …, o_h)``, ``(..., n, E)``.
        output: ``concat W^O`` (+ b), ``(..., n, E)``.
        num_heads, head_dim: h and p = E / h.
    """

    q: torch.Tensor
    k: torch.Tensor
    v: torch.Tensor
    heads: AttentionResult
    concat: torch.Tensor
    output: torch.Tensor
    num_heads: int
    head_dim: int


def projection_weights(kind: Projection, d_q: int, d_k: int, d_v: int, seed: int = 0,
                       dtype: torch.dtype = torch.float64) -> MultiHeadWeights:
    """Identity projections (the pure split; needs d_q = d_k = d_v) or seeded random ones, drawn
    as ``nn.MultiheadAttention`` initialises them (Xavier-uniform; W^O uniform in ±1/√E) from a
    private generator. No biases (the notes' formula has none).

    Raises:
        ValueError: unknown kind, or identity with different sizes.
    """
    if kind not in PROJECTIONS:
        raise ValueError(f"projection {kind!r} is unknown; choose from {', '.join(PROJECTIONS)}")
    e = d_q
    if kind == "identity":
        if not d_q == d_k == d_v:
            raise ValueError(f"identity projections need d_q = d_k = d_v, got {d_q}, {d_k}, {d_v}; "
                             "choose random projections for different sizes")
        eye = torch.eye(e, dtype=dtype)
        return MultiHeadWeights(eye, eye.clone(), eye.clone(), eye.clone())
    g = torch.Generator().manual_seed(int(seed))

    def uniform(rows: int, cols: int, bound: float) -> torch.Tensor:
        return ((torch.rand(rows, cols, generator=g, dtype=torch.float64) * 2 - 1) * bound).to(dtype)

    xavier = math.sqrt(6.0 / (e + e))  # torch's xavier_uniform_ on the (E, E) blocks
    return MultiHeadWeights(uniform(d_q, e, xavier), uniform(d_k, e, math.sqrt(6.0 / (d_k + e))),
                            uniform(d_v, e, math.sqrt(6.0 / (d_v + e))), uniform(e, e, 1.0 / math.sqrt(e)))


def _affine(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None) -> torch.Tensor:
    return x @ w if b is None else x @ w + b


def multi_head_attention(xq: torch.Tensor, xk: torch.Tensor, xv: torch.Tensor, weights: MultiHeadWeights,
                         num_heads: int, mask: torch.Tensor | None = None) -> MultiHeadResult:
    """Multi-head scaled dot-product attention (see the module docstring).

    Args:
        xq ``(..., n, d_q)``, xk ``(..., m, d_k)``, xv ``(..., m, d_v)``: queries, keys, values.
        weights: the projections (:func:`projection_weights`).
        num_heads: h; must divide E.
        mask: boolean ``(n, m)``, True = may attend. Default None.

    Raises:
        ValueError: h not dividing E, or inputs that do not fit the weights.
    """
    e = weights.embed_dim
    if not isinstance(num_heads, int) or num_heads < 1 or e % num_heads:
        raise ValueError(f"heads h = {num_heads} must divide the model width E = {e} (each head gets E/h columns)")
    for name, x, w in (("Q", xq, weights.w_q), ("K", xk, weights.w_k), ("V", xv, weights.w_v)):
        if x.shape[-1] != w.shape[0]:
            raise ValueError(f"{name} has {x.shape[-1]} columns but W^{name} has {w.shape[0]} rows")
    p = e // num_heads
    q = _affine(xq, weights.w_q, weights.b_q)              # 1. (..., n, E) projections
    k = _affine(xk, weights.w_k, weights.b_k)              #    (..., m, E)
    v = _affine(xv, weights.w_v, weights.b_v)              #    (..., m, E)

    def split(t: torch.Tensor) -> torch.Tensor:            # 2. (..., L, E) -> (..., h, L, p)
        return t.unflatten(-1, (num_heads, p)).transpose(-3, -2)

    heads = dot_product_attention(split(q), split(k), split(v), mask)  # 3. every head at once, scale 1/√p
    concat = heads.output.transpose(-3, -2).flatten(-2)    # 4. (..., n, E) Concat(o_1, …, o_h)
    out = _affine(concat, weights.w_o, weights.b_o)        # 5. (..., n, E) · W^O
    return MultiHeadResult(q, k, v, heads, concat, out, num_heads, p)


def torch_multihead(weights: MultiHeadWeights, num_heads: int) -> nn.MultiheadAttention:
    """``nn.MultiheadAttention(E, h, kdim=d_k, vdim=d_v, batch_first=True)`` with these weights.

    Call it with ``need_weights=True, average_attn_weights=False`` to get the per-head weights, and
    pass a mask as ``attn_mask=~mask`` (torch's MHA masks where True).
    """
    e, d_k, d_v = weights.embed_dim, weights.w_k.shape[0], weights.w_v.shape[0]
    has_bias = weights.b_q is not None
    mha = nn.MultiheadAttention(e, num_heads, bias=has_bias, kdim=d_k, vdim=d_v, batch_first=True,
                                dtype=weights.w_q.dtype)
    with torch.no_grad():
        if mha._qkv_same_embed_dim:
            mha.in_proj_weight.copy_(torch.cat([weights.w_q.T, weights.w_k.T, weights.w_v.T]))  # (3E, E)
        else:
            mha.q_proj_weight.copy_(weights.w_q.T)
            mha.k_proj_weight.copy_(weights.w_k.T)
            mha.v_proj_weight.copy_(weights.w_v.T)
        mha.out_proj.weight.copy_(weights.w_o.T)
        if has_bias:
            mha.in_proj_bias.copy_(torch.cat([weights.b_q, weights.b_k, weights.b_v]))  # type: ignore[list-item]
            mha.out_proj.bias.copy_(weights.b_o)  # type: ignore[arg-type]
    return mha.eval()
