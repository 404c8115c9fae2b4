"""Hand-written attention equals torch's: SDPA with every mask, MHA on the same weights, additive
attention against the formula evaluated entry by entry."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from dlcore.attention.multihead import multi_head_attention, projection_weights, torch_multihead, MultiHeadWeights
from dlcore.attention.names import MASKS
from dlcore.attention.scoring import (additive_attention, additive_weights, dot_product_attention, make_mask,
                                      masked_softmax, one_thread)


def _qkv(n=3, m=5, d=4, dv=3, batch=(2,), dtype=torch.float32, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(*batch, n, d, generator=g, dtype=dtype), torch.randn(*batch, m, d, generator=g, dtype=dtype),
            torch.randn(*batch, m, dv, generator=g, dtype=dtype))


@pytest.mark.parametrize("kind", MASKS)
@pytest.mark.parametrize("n,m", [(3, 5), (4, 4), (5, 3)])
def test_scaled_dot_product_equals_torch_sdpa_with_every_mask(kind, n, m):
    q, k, v = _qkv(n, m)
    mask = make_mask(kind, n, m, valid_keys=2)
    ours = dot_product_attention(q, k, v, mask)
    ref = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    torch.testing.assert_close(ours.output, ref, atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(ours.weights.sum(-1), torch.ones(2, n))
    if mask is not None:
        assert bool((ours.weights[..., ~mask] == 0).all())  # masked pairs get weight exactly 0


def test_causal_mask_equals_sdpa_is_causal_and_unscaled_equals_scale_one():
    q, k, v = _qkv(4, 6, dtype=torch.float64)
    ours = dot_product_attention(q, k, v, make_mask("causal", 4, 6))
    torch.testing.assert_close(ours.output, F.scaled_dot_product_attention(q, k, v, is_causal=True), atol=1e-12,
                               rtol=0)
    plain = dot_product_attention(q, k, v, scaled=False)
    torch.testing.assert_close(plain.output, F.scaled_dot_product_attention(q, k, v, scale=1.0), atol=1e-12, rtol=0)
    assert plain.scale == 1.0 and ours.scale == pytest.approx(1 / math.sqrt(4))


def test_masks_are_what_the_notes_say():
    c = make_mask("causal", 3, 3)
    assert c.tolist() == [[True, False, False], [True, True, False], [True, True, True]]
    p = make_mask("padding", 2, 4, 3)
    assert p.tolist() == [[True, True, True, False]] * 2
    assert make_mask("none", 2, 2) is None
    with pytest.raises(ValueError, match="valid keys 0 must be between 1 and the number of keys m = 4"):
        make_mask("padding", 2, 4, 0)
    with pytest.raises(ValueError, match="valid keys 5"):
        make_mask("causal+padding", 2, 4, 5)
    with pytest.raises(ValueError, match="mask 'future' is unknown"):
        make_mask("future", 2, 2)  # type: ignore[arg-type]


def test_a_query_with_no_key_is_a_clear_error():
    with pytest.raises(ValueError, match="query 1 may attend to no key"):
        masked_softmax(torch.zeros(2, 2), torch.tensor([[True, False], [False, False]]))


def test_additive_attention_equals_the_formula_entry_by_entry():
    q, k, v = _qkv(3, 4, d=5, dv=2, batch=(), dtype=torch.float64)
    q = q[:, :3]  # d_q = 3 ≠ d_k = 5: additive scoring allows it
    w = additive_weights(3, 5, hidden=6, seed=1)
    mask = make_mask("causal", 3, 4)
    ours = additive_attention(q, k, v, w, mask)
    for i in range(3):
        s = torch.tensor([float(w.w_v @ torch.tanh(w.w_q @ q[i] + w.w_k @ k[j])) if mask[i, j] else -math.inf
                          for j in range(4)], dtype=torch.float64)
        a = torch.exp(s - s.max()) / torch.exp(s - s.max()).sum()
        torch.testing.assert_close(ours.weights[i], a, atol=1e-12, rtol=0)
        torch.testing.assert_close(ours.output[i], a @ v, atol=1e-12, rtol=0)
    assert ours.hidden.shape == (3, 4, 6)


def test_additive_batched_equals_unbatched_and_weights_are_seeded():
    q, k, v = _qkv(3, 4, batch=(2,), dtype=torch.float64)
    w = additive_weights(4, 4, 5, seed=3)
    both = additive_attention(q, k, v, w)
    torch.testing.assert_close(both.output[1], additive_attention(q[1], k[1], v[1], w).output)
    torch.testing.assert_close(additive_weights(4, 4, 5, seed=3).w_q, w.w_q)
    assert not torch.equal(additive_weights(4, 4, 5, seed=4).w_q, w.w_q)
    with pytest.raises(ValueError, match="do not fit"):
        additive_attention(q, k, v, additive_weights(3, 4, 5))


def test_shape_mismatches_name_the_rule():
    q, k, v = _qkv(3, 4, d=4, batch=())
    with pytest.raises(ValueError, match="d_q = 4 columns but K has d_k = 3"):
        dot_product_attention(q, k[:, :3], v)
    with pytest.raises(ValueError, match="K has 4 rows but V has 3"):
        dot_product_attention(q, k, v[:3])
    with pytest.raises(ValueError, match="must be a matrix"):
        dot_product_attention(q[0], k, v)


@pytest.mark.parametrize("heads", [1, 2, 3, 6])
@pytest.mark.parametrize("proj", ["identity", "random"])
@pytest.mark.parametrize("kind", ["none", "causal", "padding"])
def test_multi_head_equals_nn_multiheadattention_on_the_same_weights(heads, proj, kind):
    x = _qkv(4, 4, d=6, batch=(2,), seed=heads)[0]
    w = projection_weights(proj, 6, 6, 6, seed=heads)
    w = MultiHeadWeights(*(t.float() for t in (w.w_q, w.w_k, w.w_v, w.w_o)))
    mask = make_mask(kind, 4, 4, valid_keys=3)
    ours = multi_head_attention(x, x, x, w, heads, mask)
    mha = torch_multihead(w, heads)
    with torch.no_grad():
        out, a = mha(x, x, x, attn_mask=None if mask is None else ~mask, average_attn_weights=False)
    torch.testing.assert_close(ours.output, out, atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(ours.heads.weights, a, atol=1e-6, rtol=1e-6)
    assert ours.head_dim == 6 // heads and ours.concat.shape == (2, 4, 6)


def test_multi_head_with_biases_and_cross_attention_sizes_equals_torch():
    g = torch.Generator().manual_seed(7)
    xq, xk, xv = (torch.randn(1, n, d, generator=g, dtype=torch.float64) for n, d in ((3, 8), (5, 4), (5, 2)))
    w = projection_weights("random", 8, 4, 2, seed=2)
    w.b_q, w.b_k, w.b_v, w.b_o = (torch.randn(8, generator=g, dtype=torch.float64) for _ in range(4))
    ours = multi_head_attention(xq, xk, xv, w, 4)
    with torch.no_grad():
        out, a = torch_multihead(w, 4)(xq, xk, xv, average_attn_weights=False)
    torch.testing.assert_close(ours.output, out, atol=1e-12, rtol=0)
    torch.testing.assert_close(ours.heads.weights, a, atol=1e-12, rtol=0)


def test_identity_projections_are_the_pure_split():
    x = _qkv(4, 4, d=6, batch=(), dtype=torch.float64)[0]
    r = multi_head_attention(x, x, x, projection_weights("identity", 6, 6, 6), 2)
    first = dot_product_attention(x[:, :3], x[:, :3], x[:, :3])  # head 1 = columns 0..2, scale 1/√3
    torch.testing.assert_close(r.output[:, :3], first.output)
    with pytest.raises(ValueError, match="heads h = 4 must divide the model width E = 6"):
        multi_head_attention(x, x, x, projection_weights("identity", 6, 6, 6), 4)
    with pytest.raises(ValueError, match="identity projections need d_q = d_k = d_v"):
        projection_weights("identity", 6, 4, 6)


def test_one_thread_restores_the_setting():
    before = torch.get_num_threads()
    with one_thread():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
