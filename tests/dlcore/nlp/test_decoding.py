"""Decoding, next-token tables, scoring and prompts checked against transformers itself."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dlcore.nlp import decoding as D
from dlcore.nlp.prompts import TEMPLATES, build_prompt, few_shot_prompt
from dlcore.nlp.scoring import score_text
from tests.dlcore.nlp.tiny_causal import tiny_llama


@pytest.fixture(scope="module")
def lm():
    return tiny_llama()


def _ids(tok, text="the cat sat on"):
    return torch.tensor([tok(text).input_ids])


def _hf(model, ids, **kw):
    out = model.generate(ids, attention_mask=torch.ones_like(ids), pad_token_id=2, **kw)
    return out


@pytest.mark.parametrize("text, rp", [("the cat sat on", 1.0), ("a big red dog", 1.3), ("sea otter =>", 0.8)])
def test_greedy_equals_generate(lm, text, rp):
    model, tok = lm
    ids = _ids(tok, text)
    mine = [s.token_id for s in D.stream_generate(model, tok, ids, D.DecodeConfig(max_new_tokens=12,
                                                                                  repetition_penalty=rp))]
    ref = _hf(model, ids, do_sample=False, max_new_tokens=12, repetition_penalty=rp)[0, ids.shape[1]:]
    assert mine == ref.tolist()


@pytest.mark.parametrize("T, k, p, rp", [(0.7, 0, 1.0, 1.0), (1.3, 5, 1.0, 1.0), (1.0, 0, 0.8, 1.3),
                                         (0.9, 10, 0.9, 1.2)])
def test_seeded_sampling_equals_generate_and_is_reproducible(lm, T, k, p, rp):
    model, tok = lm
    ids = _ids(tok)
    cfg = D.DecodeConfig(strategy="sample", max_new_tokens=15, temperature=T, top_k=k, top_p=p,
                         repetition_penalty=rp, seed=7)
    a = [s.token_id for s in D.stream_generate(model, tok, ids, cfg)]
    b = [s.token_id for s in D.stream_generate(model, tok, ids, cfg)]
    torch.manual_seed(7)
    ref = _hf(model, ids, do_sample=True, temperature=T, top_k=k, top_p=p, repetition_penalty=rp,
              max_new_tokens=15)[0, ids.shape[1]:]
    assert a == b == ref.tolist()


def test_different_seeds_give_different_samples(lm):
    model, tok = lm
    runs = {tuple(s.token_id for s in D.stream_generate(
        model, tok, _ids(tok), D.DecodeConfig(strategy="sample", max_new_tokens=10, seed=s))) for s in range(4)}
    assert len(runs) > 1


@pytest.mark.parametrize("k, n", [(2, 6), (3, 12), (4, 20)])
def test_beam_search_equals_generate(lm, k, n):
    model, tok = lm
    ids = _ids(tok)
    res = D.beam_search(model, tok, ids, D.DecodeConfig(strategy="beam", num_beams=k, max_new_tokens=n))
    ref = _hf(model, ids, num_beams=k, num_return_sequences=k, do_sample=False, max_new_tokens=n,
              output_scores=True, return_dict_in_generate=True)
    assert res.sequences == [s[ids.shape[1]:].tolist() for s in ref.sequences]
    torch.testing.assert_close(torch.tensor(res.scores), ref.sequences_scores, atol=1e-4, rtol=1e-4)
    assert len(res.history) == n and all(len(h) == k for h in res.history)


def test_beam_search_with_eos_equals_generate(lm):
    """Beams that end early (EOS) are finished with a length-normalised score, as in transformers."""
    model, tok = lm
    ids = _ids(tok)
    greedy = [s.token_id for s in D.stream_generate(model, tok, ids, D.DecodeConfig(max_new_tokens=8))]
    old = model.generation_config.eos_token_id
    model.generation_config.eos_token_id = greedy[2]  # a token the beams will meet early
    try:
        res = D.beam_search(model, tok, ids, D.DecodeConfig(strategy="beam", num_beams=3, max_new_tokens=15))
        ref = _hf(model, ids, num_beams=3, num_return_sequences=3, do_sample=False, max_new_tokens=15,
                  output_scores=True, return_dict_in_generate=True)
    finally:
        model.generation_config.eos_token_id = old
    refs = [s[ids.shape[1]:].tolist() for s in ref.sequences]
    assert any(greedy[2] in s for s in res.sequences)
    for mine, theirs in zip(res.sequences, refs):
        assert theirs[:len(mine)] == mine and all(t == 2 for t in theirs[len(mine):])  # rest is padding
    torch.testing.assert_close(torch.tensor(res.scores), ref.sequences_scores, atol=1e-4, rtol=1e-4)


def test_greedy_is_beam_width_one(lm):
    model, tok = lm
    ids = _ids(tok, "a dog ran")
    greedy = [s.token_id for s in D.stream_generate(model, tok, ids, D.DecodeConfig(max_new_tokens=8))]
    beam = D.beam_search(model, tok, ids, D.DecodeConfig(strategy="beam", num_beams=1, max_new_tokens=8))
    assert beam.sequences[0] == greedy


def _hf_filtered(logits, T, k, p):
    from transformers.generation.logits_process import (LogitsProcessorList, TemperatureLogitsWarper,
                                                        TopKLogitsWarper, TopPLogitsWarper)
    procs = LogitsProcessorList([TemperatureLogitsWarper(T)] + ([TopKLogitsWarper(k)] if k else [])
                                + ([TopPLogitsWarper(p)] if p < 1 else []))
    return procs(torch.zeros(1, 1, dtype=torch.long), logits.clone())


@settings(max_examples=40, deadline=None)
@given(T=st.floats(0.1, 5.0), k=st.integers(0, 40), p=st.floats(0.05, 1.0), seed=st.integers(0, 1000))
def test_filter_logits_equals_transformers_warpers(T, k, p, seed):
    logits = torch.randn(2, 50, generator=torch.Generator().manual_seed(seed)) * 3
    mine = D.filter_logits(logits, T, k, p)
    ref = _hf_filtered(logits, T, k, p)
    torch.testing.assert_close(mine.softmax(-1), ref.softmax(-1))


@pytest.mark.parametrize("T, k, p", [(1.0, 0, 1.0), (0.5, 0, 1.0), (2.0, 5, 1.0), (1.0, 0, 0.7), (0.8, 8, 0.9)])
def test_next_token_table_probabilities(lm, T, k, p):
    model, tok = lm
    ids = _ids(tok)
    cfg = D.DecodeConfig(strategy="sample", temperature=T, top_k=k, top_p=p)
    table = D.next_token_table(model, tok, ids, cfg, top=len(tok))
    with torch.no_grad():
        z = model(input_ids=ids).logits[0, -1]
    torch.testing.assert_close(table.p_before, z.softmax(-1)[table.ids])
    z_t = z / T  # softmax(z / T), then the top-k / top-p filters, renormalised
    if k:
        z_t = torch.where(z_t >= torch.topk(z_t, k).values[-1], z_t, torch.tensor(float("-inf")))
    if p < 1:
        probs = z_t.softmax(-1)
        order = probs.argsort(descending=True)
        before = probs[order].cumsum(0) - probs[order]  # mass of strictly more likely tokens
        keep = torch.zeros_like(probs, dtype=torch.bool)
        keep[order] = before < p
        z_t = torch.where(keep, z_t, torch.tensor(float("-inf")))
    expected = z_t.softmax(-1)
    torch.testing.assert_close(table.p_after, expected[table.ids])
    assert table.kept == int((expected > 0).sum())
    assert math.isclose(float(table.p_after.sum()), 1.0, rel_tol=1e-5)


@pytest.mark.parametrize("field, value, fragment", [
    ("temperature", 0.0, "temperature 0.0"), ("temperature", 1e6, "temperature"), ("top_p", 0.0, "top_p"),
    ("top_p", 1.5, "top_p"), ("top_k", -1, "top_k"), ("max_new_tokens", 0, "max_new_tokens"),
    ("max_new_tokens", 100000, "max_new_tokens"), ("num_beams", 50, "num_beams"),
    ("repetition_penalty", 100.0, "repetition_penalty"), ("seed", -3, "seed"), ("strategy", "magic", "strategy")])
def test_absurd_settings_are_rejected(field, value, fragment):
    with pytest.raises(ValueError, match=fragment):
        D.DecodeConfig(**{field: value}).validate()


def test_stream_stops_at_eos(lm):
    model, tok = lm
    ids = _ids(tok)
    first = next(iter(D.stream_generate(model, tok, ids, D.DecodeConfig(max_new_tokens=5)))).token_id
    old = model.generation_config.eos_token_id
    model.generation_config.eos_token_id = first
    try:
        steps = list(D.stream_generate(model, tok, ids, D.DecodeConfig(max_new_tokens=5)))
    finally:
        model.generation_config.eos_token_id = old
    assert len(steps) == 1 and steps[0].finished


def test_score_text_matches_model_loss(lm):
    model, tok = lm
    text = "the cat sat on the mat"
    s = score_text(model, tok, text)
    full = torch.tensor([[0] + tok(text).input_ids])  # <|endoftext|> first, as score_text does
    with torch.no_grad():
        loss = model(input_ids=full, labels=full).loss  # mean NLL, transformers' own shift
    assert len(s.tokens) == 6 and not torch.isnan(s.logprobs).any()
    torch.testing.assert_close(torch.tensor(s.mean_nll), loss)
    assert math.isclose(s.perplexity, math.exp(float(loss)), rel_tol=1e-5)
    torch.testing.assert_close(s.surprise_bits, -s.logprobs / math.log(2))


@pytest.mark.parametrize("text, fragment", [("", "empty"), ("   ", "empty"), ("cat " * 600, "limit")])
def test_score_text_bad_input(lm, text, fragment):
    model, tok = lm
    with pytest.raises(ValueError, match=fragment):
        score_text(model, tok, text)


def test_shot_templates_and_chat_template(lm):
    _, tok = lm
    t = TEMPLATES["translate"]
    zero, one, few = (few_shot_prompt(t, k) for k in (0, 1, 3))
    assert "sea otter" not in zero and zero.endswith("cheese =>")
    assert one.count("=>") == 2 and few.count("=>") == 4
    with pytest.raises(ValueError, match="shots 9"):
        few_shot_prompt(t, 9)
    chat = build_prompt(tok, "hello", "chat")
    assert chat.startswith("<|im_start|>user\nhello<|im_end|>") and chat.endswith("<|im_start|>assistant\n")
    assert build_prompt(tok, "hello", "plain") == "hello"
    old = tok.chat_template
    tok.chat_template = None
    try:
        with pytest.raises(ValueError, match="no chat template"):
            build_prompt(tok, "hello", "chat")
    finally:
        tok.chat_template = old


def test_table_always_lists_the_chosen_token_with_its_true_rank(lm):
    model, tok = lm
    cfg = D.DecodeConfig(strategy="sample", temperature=5.0, max_new_tokens=12, seed=1)
    ids = _ids(tok)
    appended = 0
    for st in D.stream_generate(model, tok, ids, cfg, top=3):
        rows = st.table.rows(st.token_id)
        marked = [r for r in rows if r[5] == "◀"]
        assert len(marked) == 1 and marked[0][1] == st.token
        assert [r[0] for r in rows[:3]] == [1, 2, 3]
        if len(rows) == 4:  # the pick was not among the top 3: its true rank under softmax(z)
            appended += 1
            with torch.no_grad():
                p = model(input_ids=ids).logits[0, -1].softmax(-1)
            assert marked[0][0] == int((p > p[st.token_id]).sum()) + 1 > 3
        ids = torch.cat([ids, torch.tensor([[st.token_id]])], dim=1)
    assert appended > 0
