"""The calculator: typed text in, every step with the numbers, torch agreeing; bad input named."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from dlcore.attention.calculator import attention_report, calc_config, random_qkv
from dlcore.attention.names import CALC_EXAMPLES, MASKS, SCORINGS, CalcExample

Q, K, V = CALC_EXAMPLES[0].q, CALC_EXAMPLES[0].k, CALC_EXAMPLES[0].v


def _cfg(e: CalcExample, **kw):
    return calc_config(e.scoring, e.mask, e.valid_keys, e.heads, e.projection, 4, 0, e.row) if not kw else \
        calc_config(**kw)


@pytest.mark.parametrize("e", CALC_EXAMPLES, ids=[e.label for e in CALC_EXAMPLES])
def test_every_example_agrees_with_its_reference(e):
    r = attention_report(e.q, e.k, e.v, _cfg(e))
    assert r.checks and all(c.matches for c in r.checks), [(c.what, c.max_diff) for c in r.checks]
    torch.testing.assert_close(r.weights.sum(-1), torch.ones(r.weights.shape[:-1], dtype=torch.float64))
    assert all(s.title for s in r.steps)


def test_the_default_example_by_hand():
    """Q = I, K = [I; 1 1]: scores [[1, 0, 1], [0, 1, 1]] / √2, softmax, times V."""
    r = attention_report(Q, K, V)
    s = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]], dtype=torch.float64) / math.sqrt(2)
    a = torch.softmax(s, -1)
    torch.testing.assert_close(r.weights, a)
    torch.testing.assert_close(r.output, a @ torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], dtype=torch.float64))
    text = " ".join(st.detail for st in r.steps)
    assert "0.7071" in text and f"{float(a[0, 0]):.4f}" in text  # the numbers are substituted
    assert r"\sqrt{2}" in " ".join(st.formula for st in r.steps)


@pytest.mark.parametrize("scoring", SCORINGS)
@pytest.mark.parametrize("mask", MASKS)
def test_every_scoring_and_mask_of_the_registry(scoring, mask):
    r = attention_report(Q, K, V, calc_config(scoring, mask, valid_keys=2))
    assert all(c.matches for c in r.checks)
    if mask != "none":
        assert any(st.title.startswith("Mask") for st in r.steps) or scoring == "additive"
        assert (r.weights[~r.single.mask] == 0).all()


def test_padding_mask_matches_sdpa_with_the_same_mask():
    r = attention_report(Q, K, V, calc_config(mask="padding", valid_keys=2))
    q, k, v = (torch.tensor(rows, dtype=torch.float64) for rows in
               ([[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]))
    ref = F.scaled_dot_product_attention(q, k, v, attn_mask=torch.tensor([[True, True, False]] * 2))
    torch.testing.assert_close(r.output, ref)
    assert (r.weights[:, 2] == 0).all()


def test_multi_head_report_has_one_block_per_head_and_matches_mha():
    e = CALC_EXAMPLES[6]
    r = attention_report(e.q, e.k, e.v, calc_config(heads=3, projection="random", seed=5, mask="causal"))
    assert r.multi is not None and r.weights.shape == (3, 4, 4)
    assert sum("(head 3)" in s.title for s in r.steps) >= 3
    assert {c.what for c in r.checks} == {"output O", "per-head weights A_i"} and all(c.matches for c in r.checks)
    assert "nn.MultiheadAttention(6, 3" in r.checks[0].reference


def test_random_qkv_is_seeded_text_the_calculator_reads():
    a = random_qkv(2, 3, 4, 2, 7)
    assert a == random_qkv(2, 3, 4, 2, 7) and a != random_qkv(2, 3, 4, 2, 8)
    r = attention_report(*a)
    assert r.output.shape == (2, 2)
    with pytest.raises(ValueError, match="queries n = 17 is above the maximum 16"):
        random_qkv(17, 3, 4, 2, 0)


@pytest.mark.parametrize("q,k,v,kw,fragment", [
    ("[[1, 2], [3]]", K, V, {}, "Q is ragged"),
    (Q, "[[1, 0, 0], [0, 1, 0], [1, 1, 0]]", V, {}, "needs d_q = d_k"),
    (Q, K, "[[1, 2], [3, 4]]", {}, "K has 3 rows but V has 2"),
    ("", K, V, {}, "Q is empty"),
    ("[[1, 'a']]", K, V, {}, "only numbers"),
    ("[[1, nan]]", K, V, {}, "could not be read"),
    ("[1, 2]", K, V, {}, "Q must have 2 dimension(s)"),
    (str([[1.0] * 33]), K, V, {}, "the limit is 32"),
    (Q, K, V, {"row": 2}, "query row i = 2 does not exist"),
    (Q, K, V, {"mask": "padding", "valid_keys": 0}, "valid keys 0 must be between 1"),
    (Q, K, V, {"heads": 2, "scoring": "additive"}, "needs scaled dot-product scoring"),
    (Q, K, V, {"heads": 3}, "heads h = 3 must divide d_q = 2"),
    (Q, K, V, {"heads": 9}, "heads h = 9 is above the maximum 8"),
    (Q, K, V, {"scoring": "cosine"}, "scoring 'cosine' is not one of"),
    (Q, K, V, {"seed": "x"}, "seed could not be read"),
    (Q, K, V, {"seed": [1]}, "seed must be a number"),
    (Q, K, V, {"heads": 1.5}, "heads h must be a whole number"),
])
def test_bad_input_is_a_value_error_naming_the_value_and_the_rule(q, k, v, kw, fragment):
    with pytest.raises(ValueError) as err:
        attention_report(q, k, v, calc_config(**kw))
    assert fragment in str(err.value)


def test_junk_types_are_clear_errors():
    for junk in (None, 3, {"a": 1}, [[None]]):
        with pytest.raises(ValueError):
            attention_report(junk, K, V)
    with pytest.raises(ValueError, match="mask"):
        calc_config(mask=["causal"])
