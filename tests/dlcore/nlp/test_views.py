"""The views the BERT and GPT tabs render, computed in dlcore (tiny models, checked against direct computation)."""

from __future__ import annotations

import math

import pytest
import torch

from dlcore.nlp.bert_inside import inside_bert, inside_view
from dlcore.nlp.decoding import (DecodeConfig, beam_search, next_token_table, step_through, step_view, stream_generate,
                                 surprise_scale)
from dlcore.nlp.fill_mask import mask_sentence
from dlcore.nlp.finetune import SHOTS, ProbeConfig, compare, iter_compare, parse_labelled
from dlcore.nlp.prompts import build_prompt, generate_examples
from dlcore.nlp.scoring import encode_prompt, score_text
from dlcore.nlp.tables import BEAM_HEADERS, FILL_HEADERS, MASK_HEADERS, SCORE_HEADERS, TABLE_HEADERS, TOKEN_HEADERS
from tests.dlcore.nlp.tiny_bert import tiny_bert
from tests.dlcore.nlp.tiny_causal import tiny_llama

TRAIN = "positive: the movie was great\nnegative: the film was awful\npositive: she loved it\nnegative: he hated it"
TEST = "positive: the movie was great\nnegative: he hated it"


@pytest.fixture(scope="module")
def bert():
    return tiny_bert(seed=0, layers=2, heads=4)


@pytest.fixture(scope="module")
def llama():
    return tiny_llama(seed=0)


def test_inside_view_selects_the_layer_head_and_token(bert):
    model, tok = bert
    r = inside_bert(model, tok, "the cat sat", "the dog ran")
    v = inside_view(r, 2, 3, 1)
    torch.testing.assert_close(v.attention, r.attentions[1, 2])
    torch.testing.assert_close(v.row, r.attentions[1, 2, 1])
    assert (v.num_layers, v.num_heads, v.num_tokens, v.head_name) == (2, 4, len(r.tokens), "head 3")
    assert len(v.rows[0]) == len(TOKEN_HEADERS) and [row[1] for row in v.rows] == r.tokens
    assert v.rows[2][5] == round(float(r.token_emb[2].norm()), 3)
    assert v.rows[2][8] == round(float(r.emb_sum[2].norm()), 3)
    mean = inside_view(r, 1, 0, 0)
    torch.testing.assert_close(mean.attention, r.attentions[0].mean(0))
    assert mean.head_name == "mean of all heads"
    for bad, frag in [((3, 0, 0), "layer 3 is out of range"), ((1, 5, 0), "head 5"), ((1, 0, 99), "token index 99")]:
        with pytest.raises(ValueError, match=frag):
            inside_view(r, *bad)


def test_step_views_match_the_stream(llama):
    model, tok = llama
    ids = torch.tensor([tok("the cat sat on", add_special_tokens=False).input_ids])
    steps = list(stream_generate(model, tok, ids, DecodeConfig(max_new_tokens=4)))
    views = [step_view(s) for s in steps]
    for s, v in zip(steps, views):
        assert v.token_id == s.token_id and v.rows[v.chosen][5] == "◀" and len(v.rows[0]) == len(TABLE_HEADERS)
        assert v.surprise == surprise_scale(s.prob) and v.p_before == s.table.p_before.tolist()
    assert surprise_scale(1.0) == 0.0 and surprise_scale(0.5) == round(1 / 12, 3) and surprise_scale(1e-9) == 1.0
    assert surprise_scale(0.0) == 1.0 and surprise_scale(float("nan")) == 1.0


def test_readable_rows_name_special_tokens(llama):
    _, tok = llama
    model, _ = llama
    ids = torch.tensor([tok("the cat", add_special_tokens=False).input_ids])
    t = next_token_table(model, tok, ids, top=len(tok))
    raw, shown = t.rows(), t.rows(readable=True)
    i = next(k for k, r in enumerate(raw) if r[1] == "<|im_end|>")
    assert shown[i][1] == "<|im_end|> (end of turn)" and [r[0] for r in raw] == [r[0] for r in shown]


def test_beam_rows(llama):
    model, tok = llama
    ids = torch.tensor([tok("the cat sat on", add_special_tokens=False).input_ids])
    r = beam_search(model, tok, ids, DecodeConfig(strategy="beam", num_beams=3, max_new_tokens=5))
    rows = r.rows(running=False)
    assert [row[1] for row in rows] == r.texts and [row[2] for row in rows] == [round(s, 3) for s in r.scores]
    assert len(r.rows()) == len(rows) + len(r.history[-1]) and len(rows[0]) == len(BEAM_HEADERS)


def test_step_through_appends_the_learners_pick(llama):
    model, tok = llama
    ids = encode_prompt(tok, "the cat", "plain")
    st = step_through(model, tok, ids, ids.shape[1], DecodeConfig(strategy="sample", temperature=0.8, top_k=50))
    assert st.appended == 0 and st.text == "" and len(st.candidates) == 10
    label, j = list(st.candidates.items())[1]
    assert label.startswith("2. ") and "p used" in label
    st2 = step_through(model, tok, torch.tensor([[*st.ids, j]]), st.prompt_len)
    assert st2.appended == 1 and st2.text == tok.decode([j]) and st2.ids[:-1] == st.ids
    with pytest.raises(ValueError, match="limit of 3 tokens"):
        step_through(model, tok, torch.tensor([[1, 2, 3, 4]]), 2, max_tokens=3)


def test_encode_prompt_is_build_prompt_then_the_checks(llama):
    _, tok = llama
    ids = encode_prompt(tok, "the cat", "chat")
    assert ids[0].tolist() == tok(build_prompt(tok, "the cat", "chat"), add_special_tokens=False).input_ids
    with pytest.raises(ValueError, match="prompt mode"):
        encode_prompt(tok, "the cat", "poem")
    with pytest.raises(ValueError, match="limit is 2 tokens"):
        encode_prompt(tok, "the cat sat", max_tokens=2)


def test_text_score_rows_spans_and_formula(llama):
    model, tok = llama
    s = score_text(model, tok, "the cat sat on the mat")
    rows, spans = s.rows(), s.spans()
    assert len(rows[0]) == len(SCORE_HEADERS) and [r[1] for r in rows] == ["the", "cat", "sat", "on", "the", "mat"]
    for r, lp, (t, v) in zip(rows, s.logprobs.tolist(), spans):
        assert r[2] == round(lp, 3) and r[3] == round(-lp / math.log(2), 2)
        assert v == round(min(-lp / math.log(2) / 12, 1.0), 3)
    assert f"={s.perplexity:.2f}$" in s.perplexity_latex() and f"\\frac{{1}}{{{len(rows)}}}" in s.perplexity_latex()


def test_iter_compare_streams_training_then_each_in_context_setting(bert, llama):
    enc, etok = bert
    train, test = parse_labelled(TRAIN), parse_labelled(TEST)
    cfg = ProbeConfig(pooling="mean", epochs=60, lr=0.05)
    loaded = []
    snaps = list(iter_compare(enc, etok, train, test, cfg, lm=lambda: loaded.append(1) or llama))
    stages = [s.stage for s in snaps]
    assert stages.count("training") >= 10 and stages[-1] == "done" and loaded == [1]
    first_prompting = stages.index("prompting")
    assert snaps[first_prompting].prompt == "" and all(s == "training" for s in stages[:first_prompting])
    last = snaps[-1]
    assert list(last.predictions) == ["head on mean", *SHOTS] and last.n_params == 32 * 2 + 2
    headers, rows = last.table()
    assert headers == ["test sentence", "true label", "head on mean", *SHOTS] and [r[2] for r in rows] == [
        "positive", "negative"]
    ref = compare(enc, etok, llama[0], llama[1], train, test, cfg)
    assert ref.accuracies == last.accuracies and ref.losses == last.losses
    assert ref.icl_prompts["few-shot"] == last.prompt
    for k, v in last.constant.items():
        assert set(last.predictions[k]) == {v}
    no_lm = list(iter_compare(enc, etok, train, test, cfg))
    assert no_lm[-1].stage == "done" and list(no_lm[-1].predictions) == ["head on mean"]


def test_masking_rows_and_counts(bert):
    _, tok = bert
    r = mask_sentence(tok, "the cat sat on the mat and the dog ran home", mask_prob=0.5, seed=3)
    rows = r.rows()
    assert len(rows[0]) == len(MASK_HEADERS) and rows[0][1] == "[CLS]" and rows[-1][1] == "[SEP]"
    assert sum(r[2] == "yes" for r in rows) == r.n_chosen == sum(r.counts.values()) > 0
    assert r.counts["[MASK]"] == sum(row[4] == "[MASK]" for row in rows)


def test_fill_rows_and_examples():
    from dlcore.nlp.examples import FILL_EXAMPLES
    from dlcore.nlp.fill_mask import FillCandidate, FillResult
    from dlcore.nlp.registry import FILL_CHOICES

    r = FillResult("a [MASK]", "m", [FillCandidate("cat", 0.61234, -1.23456), FillCandidate("dog", 0.3, -2.0)], 2)
    assert r.rows() == [[1, "cat", 0.6123, -1.235], [2, "dog", 0.3, -2.0]] and len(FILL_HEADERS) == 4
    assert all(e.method in FILL_CHOICES for e in FILL_EXAMPLES)
    assert [e.needs_hub for e in FILL_EXAMPLES] == [e.method != FILL_CHOICES[0] for e in FILL_EXAMPLES]
    assert all(e.values()[0] == e.prompt for e in generate_examples())
