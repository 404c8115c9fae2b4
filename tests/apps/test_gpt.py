"""The GPT tab's handlers, driven with a tiny Llama instead of SmolLM2 (fast, no files)."""

from __future__ import annotations

import gradio as gr
import pytest
import torch

import apps.gpt as G
from dlcore.nlp.decoding import DecodeConfig, beam_search, stream_generate
from tests.dlcore.nlp.tiny_causal import tiny_llama


@pytest.fixture(scope="module")
def lm():
    return tiny_llama()


@pytest.fixture(autouse=True)
def _tiny(lm, monkeypatch):
    monkeypatch.setattr(G, "_lm", lambda name: lm)
    monkeypatch.setattr(G, "_loading_note", lambda name: "")


def _args(**kw):
    d = dict(model="tiny", prompt="the cat sat on", mode="plain", strategy="greedy", max_new=6, T=0.8, top_k=50,
             top_p=0.95, rep=1.0, beams=3, seed=0)
    d.update(kw)
    return list(d.values())


def test_default_example_equals_initial_values():
    d = G.DEFAULTS
    assert G.ENDPOINTS[0].api_name == "gpt_generate"
    assert G.ENDPOINTS[0].examples[0] == [d["model"], d["prompt"], d["mode"], d["strategy"], d["max_new"],
                                          d["temperature"], d["top_k"], d["top_p"], d["rep"], d["beams"], d["seed"]]


def test_generate_streams_one_update_per_token_and_matches_library(lm):
    model, tok = lm
    outs = list(G.generate(*_args()))
    assert len(outs) == 6 + 1  # one per token, then the final update with the figure
    text, rows, beams, status, fig, steps, _, seen, picked = outs[-1]
    ids = torch.tensor([tok("the cat sat on", add_special_tokens=False).input_ids])
    ref = list(stream_generate(model, tok, ids, DecodeConfig(max_new_tokens=6)))
    assert text == ref[-1].text and len(steps) == 6
    assert [s["rows"][s["chosen"]][5] for s in steps] == ["◀"] * 6  # greedy picks a listed top candidate
    assert all(len(r) == len(G.TABLE_HEADERS) for r in rows) and beams == []
    assert fig is not None and "done" in status and seen == "the cat sat on"
    assert [t for t, _ in picked] == [s["token"] for s in steps] and all(0 <= v <= 1 for _, v in picked)
    # inspecting step 1 shows the first table
    rows1, fig1 = G.inspect_step(steps, 1)
    assert rows1 == steps[0]["rows"] and fig1 is not None
    with pytest.raises(gr.Error, match="outside"):
        G.inspect_step(steps, 99)


def test_generate_beam_shows_k_beams(lm):
    model, tok = lm
    outs = list(G.generate(*_args(strategy="beam", beams=3, max_new=5)))
    text, rows, beams, status, fig, _, _, _, _ = outs[-1]
    ids = torch.tensor([tok("the cat sat on", add_special_tokens=False).input_ids])
    ref = beam_search(model, tok, ids, DecodeConfig(strategy="beam", num_beams=3, max_new_tokens=5))
    assert [b[1] for b in beams] == ref.texts and text == ref.texts[0]
    assert [b[2] for b in beams] == [round(s, 3) for s in ref.scores]
    assert len(outs) >= 2 and "width 3" in status


def test_sampling_is_reproducible_through_the_tab():
    a = list(G.generate(*_args(strategy="sample", seed=3, max_new=8)))[-1][0]
    b = list(G.generate(*_args(strategy="sample", seed=3, max_new=8)))[-1][0]
    assert a == b


@pytest.mark.parametrize("kw, fragment", [
    (dict(prompt=""), "empty"), (dict(prompt="cat " * 1200), "limit"), (dict(strategy="sample", T=0.0), "temperature"),
    (dict(top_p=0.0, strategy="sample"), "top_p"), (dict(max_new=0), "max_new_tokens"), (dict(beams=40), "num_beams")])
def test_generate_bad_input(kw, fragment):
    with pytest.raises(gr.Error, match=fragment):
        list(G.generate(*_args(**kw)))


def test_chat_mode_uses_the_template_and_fails_clearly_without_one(lm):
    _, tok = lm
    seen = list(G.generate(*_args(mode="chat")))[-1][-2]
    assert seen.startswith("<|im_start|>") and "the cat sat on <|im_end|>" in seen  # tiny vocab: roles are <unk>
    old = tok.chat_template
    tok.chat_template = None
    try:
        with pytest.raises(gr.Error, match="no chat template"):
            list(G.generate(*_args(mode="chat")))
    finally:
        tok.chat_template = old


def test_step_through_appends_the_learners_choice(lm):
    _, tok = lm
    state, text, rows, choices, fig = G.step_start("tiny", "the cat", "plain", 0.8, 50, 0.95, 1.0)
    assert text == "" and len(rows) == 10 and fig is not None
    second = choices["choices"][1]
    chosen_id = int(second.rsplit("id ", 1)[1])
    state2, text2, *_ = G.step_add("tiny", state, second, 0.8, 50, 0.95, 1.0)
    assert state2 == state + f",{chosen_id}" and text2 == tok.decode([chosen_id])
    with pytest.raises(gr.Error, match="Start from this prompt"):
        G.step_add("tiny", "", second, 0.8, 50, 0.95, 1.0)
    with pytest.raises(gr.Error, match="not one of the listed"):
        G.step_add("tiny", state, "anything", 0.8, 50, 0.95, 1.0)
    with pytest.raises(gr.Error, match="does not belong"):
        G.step_add("tiny", "2|1,99999", second, 0.8, 50, 0.95, 1.0)


def test_score_colours_every_token_and_reports_perplexity():
    spans, md, rows, fig = G.score("tiny", "the cat sat on the mat")
    assert [t for t, _ in spans] == [r[1] for r in rows] == ["the", "cat", "sat", "on", "the", "mat"]
    assert all(0 <= s <= 1 for _, s in spans) and "Perplexity" in md and fig is not None
    with pytest.raises(gr.Error, match="empty"):
        G.score("tiny", "  ")


def test_templates_fill_the_prompt():
    text, mode = G.fill_template("capitals", 3)
    assert text.endswith("Italy =>") and text.count("=>") == 4 and mode == "plain"
    with pytest.raises(gr.Error, match="not one of"):
        G.fill_template("nope", 1)


def test_examples_have_one_value_per_input():
    assert all(len(e) == 10 for e in G._examples())
