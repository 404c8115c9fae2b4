"""The BERT tab's handlers, driven with a tiny BERT and a tiny Llama (fast, no big files)."""

from __future__ import annotations

import gradio as gr
import pytest
import torch

import apps.bert as B
from dlcore.nlp.bert_inside import inside_bert
from dlcore.nlp.finetune import SHOTS
from tests.dlcore.nlp.tiny_bert import tiny_bert
from tests.dlcore.nlp.tiny_causal import tiny_llama


@pytest.fixture(scope="module")
def models():
    return tiny_bert(seed=0), tiny_llama(seed=0), tiny_bert(seed=1, mlm=True)


@pytest.fixture(autouse=True)
def _tiny(models, monkeypatch):
    enc, lm, mlm = models
    monkeypatch.setattr(B, "_encoder", lambda name: enc)
    monkeypatch.setattr(B, "_lm", lambda: lm)
    monkeypatch.setattr(B, "_lm_name", lambda: "tiny llama")
    monkeypatch.setattr(B, "_mlm", lambda name: mlm)
    monkeypatch.setattr(B, "_loading_note", lambda kind, name: None)


def last(gen):
    return list(gen)[-1]


def test_loading_note_is_shown_first_and_only_until_loaded(monkeypatch, models):
    notes = iter(["Loading x…", None])
    monkeypatch.setattr(B, "_loading_note", lambda kind, name: next(notes))
    first = list(B.fill("the cat sat on the [MASK] .", B.OFFLINE_FILL, 3))
    assert len(first) == 2 and first[0][0] == "Loading x…"
    assert len(list(B.fill("the cat sat on the [MASK] .", B.OFFLINE_FILL, 3))) == 1


def test_default_examples_equal_initial_values():
    d = B.D
    assert [e.api_name for e in B.ENDPOINTS] == ["bert_inside", "bert_fill", "bert_mask_rule", "bert_finetune"]
    assert B.ENDPOINTS[0].examples[0] == [d["a"], d["b"], d["encoder"], d["layer"], d["head"], d["token"]]
    assert B.ENDPOINTS[1].examples[0] == [d["fill"], B.OFFLINE_FILL, d["top_k"]]
    assert B.ENDPOINTS[2].examples[0] == [d["mask_text"], d["encoder"], d["mask_prob"], d["seed"]]
    assert B.ENDPOINTS[3].examples[0][:2] == [B.DEFAULT_TRAIN, B.DEFAULT_TEST]


def test_inside_shows_the_tables_and_figures(models):
    (enc, tok), _, _ = models
    md, rows, emb_fig, att_fig, from_fig, grid_fig = last(B.inside("the cat sat", "the dog ran", "tiny", 2, 3, 1))
    r = inside_bert(enc, tok, "the cat sat", "the dog ran")
    assert [row[1] for row in rows] == r.tokens and [row[3] for row in rows] == r.segment_ids.tolist()
    assert rows[1][5] == round(float(r.token_emb[1].norm()), 3)
    assert "2 layers × 4 heads" in md and "e-0" in md  # the embedding-sum check is printed
    assert all(f is not None for f in (emb_fig, att_fig, from_fig))
    assert len([ax for ax in grid_fig.axes if ax.images]) == 4  # one small map per head
    with pytest.raises(gr.Error, match="layer 3 is out of range"):
        last(B.inside("the cat", "", "tiny", 3, 0, 0))
    with pytest.raises(gr.Error, match="head 5 is out of range"):
        last(B.inside("the cat", "", "tiny", 1, 5, 0))


def test_fill_offline_is_labelled_as_a_substitute():
    md, rows, fig = last(B.fill("the cat sat on the [MASK] .", B.OFFLINE_FILL, 5))
    assert "not BERT" in md and "tiny llama" in md and 1 <= len(rows) <= 5 and fig is not None
    probs = [r[2] for r in rows]
    assert probs == sorted(probs, reverse=True)


def test_fill_with_a_masked_lm_uses_its_head(models):
    _, _, (mlm, tok) = models
    md, rows, _ = last(B.fill("the cat sat on the [MASK] .", "bert-base-uncased", 3))
    assert "Real BERT masked-LM head" in md and len(rows) == 3
    enc = tok("the cat sat on the [MASK] .", return_tensors="pt")
    pos = int((enc["input_ids"][0] == tok.mask_token_id).nonzero())
    with torch.no_grad():
        p = mlm(**enc).logits[0, pos].softmax(-1)
    assert rows[0][1] == tok.convert_ids_to_tokens(int(p.argmax())) and abs(rows[0][2] - float(p.max())) < 1e-4


@pytest.mark.parametrize("text, fragment", [("", "empty"), ("no blank", "no \\[MASK\\]"),
                                            ("[MASK] [MASK]", "2 \\[MASK\\]s"), ("[MASK] " + "a" * 500, "limit")])
def test_fill_bad_input(text, fragment):
    with pytest.raises(gr.Error, match=fragment):
        last(B.fill(text, B.OFFLINE_FILL, 5))


def test_mask_rule_table():
    md, rows = B.mask_rule("the cat sat on the mat and the dog ran home", "tiny", 0.5, 3)
    assert rows[0][1] == "[CLS]" and rows[-1][1] == "[SEP]" and rows[0][2] == ""
    chosen = [r for r in rows if r[2] == "yes"]
    assert chosen and f"**{len(chosen)}**" in md
    assert all(r[5] == r[1] for r in chosen) and all(r[3] == "[MASK]" for r in rows if r[4] == "[MASK]")
    with pytest.raises(gr.Error, match="empty"):
        B.mask_rule(" ", "tiny", 0.15, 0)


def test_finetune_streams_loss_then_every_in_context_setting():
    train = "positive: the movie was great\nnegative: the film was awful\npositive: she loved it\nnegative: he hated it"
    test = "positive: the movie was great\nnegative: he hated it"
    outs = list(B.finetune(train, test, "tiny", "mean", 60, 0.05, 0))
    statuses = [o[0] for o in outs]
    assert sum("epoch" in s for s in statuses) >= 10  # the loss curve is streamed
    md, fig, table, prompt = outs[-1]
    assert "Test accuracy" in md and "head on mean" in md and fig is not None
    assert table["headers"] == ["test sentence", "true label", "head on mean", *SHOTS]
    assert [row[2] for row in table["value"]] == ["positive", "negative"]  # training sentences: head fits them
    assert "few-shot" in prompt and prompt.count("Label:") == 5


@pytest.mark.parametrize("train, test, fragment", [
    ("", "positive: ok", "empty"), ("positive: a\npositive: b", "positive: ok", "at least two"),
    ("positive: a\nnegative: b", "neutral: c", "'neutral'"),
])
def test_finetune_bad_input(train, test, fragment):
    with pytest.raises(gr.Error, match=fragment):
        list(B.finetune(train, test, "tiny", "cls", 50, 0.05, 0))


def test_build_creates_the_tab():
    with gr.Blocks() as demo:
        B.build()
    names = {getattr(d, "api_name", None) for d in demo.fns.values()}
    assert {"bert_inside", "bert_fill", "bert_mask_rule", "bert_finetune"} <= names
