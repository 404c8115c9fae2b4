"""The BERT tab's handlers, driven with a tiny BERT and a tiny Llama (fast, no big files, no network)."""

from __future__ import annotations

import math

import gradio as gr
import pytest
import torch

import apps.bert as B
from apps.common import InternalError
from dlcore import hub
from dlcore.nlp.bert_inside import inside_bert
from dlcore.nlp.finetune import SHOTS
from tests.dlcore.nlp.tiny_bert import tiny_bert
from tests.dlcore.nlp.tiny_causal import tiny_llama
from tests.streams import last

JUNK = [None, "", "x" * 100_000, "[" * 5000, 0, -1, 2**70, 1e308, math.nan, math.inf, True, [], [1, "a"], {"a": 1},
        "🙂" * 500, "\x00", "/root/.ssh"]


@pytest.fixture(scope="module")
def models():
    return {"encoder": tiny_bert(seed=0), "causal": tiny_llama(seed=0), "mlm": tiny_bert(seed=1, mlm=True)}


@pytest.fixture(autouse=True)
def _tiny(models, monkeypatch):
    monkeypatch.setattr(B, "_load", lambda ref: models[ref.role])
    monkeypatch.setattr(B, "loading_note", lambda ref: "")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    hub.reset_cache()


def test_loading_note_is_shown_first_and_only_until_loaded(monkeypatch):
    notes = iter(["⏳ Loading x…", ""])
    monkeypatch.setattr(B, "loading_note", lambda ref: next(notes))
    first = list(B.fill("the cat sat on the [MASK] .", B.OFFLINE_FILL, 3))
    assert len(first) == 2 and first[0][0] == "⏳ Loading x…"
    assert len(list(B.fill("the cat sat on the [MASK] .", B.OFFLINE_FILL, 3))) == 1


def test_declarations():
    d = B.D
    eps = {e.api_name: e for e in B.ENDPOINTS}
    assert eps["bert_inside"].examples[0] == [d["a"], d["b"], d["encoder"], d["layer"], d["head"], d["token"]]
    assert eps["bert_fill"].examples[0] == [d["fill"], B.OFFLINE_FILL, d["top_k"]]
    assert eps["bert_finetune"].examples[0][:2] == [B.DEFAULT_TRAIN, B.DEFAULT_TEST]
    assert all(len(e.facts) == len(e.examples) for e in B.ENDPOINTS)
    assert eps["bert_inside"].stateful and eps["bert_finetune"].stateful
    assert B.ERROR_DEMO.click == B.RUN_BUTTON and sum(1 for _ in open(B.__file__, encoding="utf-8")) <= 350


def test_build_opens_on_the_default_result():
    """(That building the app imports no torch or transformers: tests/test_layering.py.)"""
    with gr.Blocks() as demo, gr.Tab("BERT"):
        B.build()
    fns = list(demo.fns.values())
    firsts = [f for f in fns if getattr(f.fn, "__name__", "") == "first" and len(f.outputs) == 10]
    assert len(firsts) == 1  # on_first_open: info, table, four plots, three sliders (+ its own state)
    named = {f.api_name: f for f in fns if f.api_name}
    assert named["bert_fetch"].concurrency_id == "hub" and named["bert_inside"].concurrency_id == "heavy"


def test_inside_shows_the_tables_and_figures_and_the_sliders_follow(models):
    enc, tok = models["encoder"]
    md, rows, emb_fig, att_fig, from_fig, grid_fig, layer, head, token = last(
        B.inside("the cat sat", "the dog ran", "minilm", 2, 3, 1))
    r = inside_bert(enc, tok, "the cat sat", "the dog ran")
    assert [row[1] for row in rows] == r.tokens and [row[3] for row in rows] == r.segment_ids.tolist()
    assert rows[1][5] == round(float(r.token_emb[1].norm()), 3)
    assert "2 layers × 4 heads" in md and f"{len(r.tokens)} tokens" in md and "e-0" in md
    assert all(f is not None for f in (emb_fig, att_fig, from_fig))
    assert len([ax for ax in grid_fig.axes if ax.images]) == 4  # one small map per head
    assert (layer["maximum"], head["maximum"], token["maximum"]) == (2, 4, len(r.tokens) - 1)
    for args, frag in [(("the cat", "", "minilm", 3, 0, 0), "layer 3 is out of range"),
                       (("the cat", "", "minilm", 1, 5, 0), "head 5 is out of range"),
                       (("the cat", "", "minilm", 1, 0, 9), "token index 9"),
                       (("", "", "minilm", 1, 0, 0), "sentence A is empty"),
                       (("the cat", "", ["minilm"], 1, 0, 0), "encoder must be text"),
                       (("the cat", "", "/root/.ssh", 1, 0, 0), "not one of the offered models"),
                       (("the cat", None, "minilm", "1", 0, 0), "")]:
        if frag:
            with pytest.raises(gr.Error, match=frag):
                last(B.inside(*args))
        else:
            last(B.inside(*args))  # None for the optional sentence B and "1" typed as text are fine


def test_fill_offline_is_labelled_as_a_substitute():
    md, rows, fig = last(B.fill("the cat sat on the [MASK] .", B.OFFLINE_FILL, 5))
    assert "not BERT" in md and "SmolLM2" in md and 1 <= len(rows) <= 5 and fig is not None
    probs = [r[2] for r in rows]
    assert probs == sorted(probs, reverse=True)


def test_fill_with_a_masked_lm_uses_its_head(models):
    mlm, tok = models["mlm"]
    md, rows, _ = last(B.fill("the cat sat on the [MASK] .", "bert-base-uncased", 3))
    assert "Real BERT masked-LM head" in md and len(rows) == 3
    enc = tok("the cat sat on the [MASK] .", return_tensors="pt")
    pos = int((enc["input_ids"][0] == tok.mask_token_id).nonzero())
    with torch.no_grad():
        p = mlm(**enc).logits[0, pos].softmax(-1)
    assert rows[0][1] == tok.convert_ids_to_tokens(int(p.argmax())) and abs(rows[0][2] - float(p.max())) < 1e-4


@pytest.mark.parametrize("text, method, fragment", [
    ("", B.OFFLINE_FILL, "empty"), ("no blank", B.OFFLINE_FILL, "no \\[MASK\\]"), ("[MASK] [MASK]", B.OFFLINE_FILL,
                                                                                  "2 \\[MASK\\]s"),
    ("[MASK] " + "a" * 500, B.OFFLINE_FILL, "limit"), ("a [MASK]", "minilm", "no masked-LM head"),
    ("a [MASK]", ["x"], "model must be text"), (["a [MASK]"], B.OFFLINE_FILL, "sentence must be text")])
def test_fill_bad_input(text, method, fragment):
    with pytest.raises(gr.Error, match=fragment):
        last(B.fill(text, method, 5))


def test_a_hub_model_not_on_disk_is_a_message_naming_the_fetch_endpoint(monkeypatch):
    from apps.hubstep import from_disk
    from dlcore.nlp.encoder import load_encoder

    monkeypatch.setattr(B, "_load", lambda ref: from_disk(load_encoder, ref, "/bert_fetch"))
    with pytest.raises(gr.Error, match="cannot be loaded.*HF_HUB_OFFLINE"):  # offline: said at once
        last(B.fill("a [MASK]", "bert-base-uncased", 5))
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setattr(hub, "_Job", type("NoNet", (hub._Job,), {"_run": lambda self: None}))  # never downloads
    with pytest.raises(gr.Error, match=r"not on this machine yet.*call /bert_fetch"):
        last(B.fill("a [MASK]", "bert-base-uncased", 5))


def test_mask_rule_table():
    md, rows = B.mask_rule("the cat sat on the mat and the dog ran home", "minilm", 0.5, 3)
    assert rows[0][1] == "[CLS]" and rows[-1][1] == "[SEP]" and rows[0][2] == ""
    chosen = [r for r in rows if r[2] == "yes"]
    assert chosen and f"**{len(chosen)}**" in md
    assert all(r[5] == r[1] for r in chosen) and all(r[3] == "[MASK]" for r in rows if r[4] == "[MASK]")
    with pytest.raises(gr.Error, match="empty"):
        B.mask_rule(" ", "minilm", 0.15, 0)


def test_finetune_streams_loss_then_every_in_context_setting():
    train = "positive: the movie was great\nnegative: the film was awful\npositive: she loved it\nnegative: he hated it"
    test = "positive: the movie was great\nnegative: he hated it"
    outs = list(B.finetune(train, test, "minilm", "mean", 60, 0.05, 0))
    statuses = [o[0] for o in outs]
    assert sum("epoch" in s for s in statuses) >= 10  # the loss curve is streamed
    md, fig, table, prompt = outs[-1]
    assert "Test accuracy" in md and "head on mean" in md and fig is not None
    assert table["headers"] == ["test sentence", "true label", "head on mean", *SHOTS]
    assert [row[2] for row in table["value"]] == ["positive", "negative"]  # training sentences: head fits them
    assert "few-shot" in prompt and prompt.count("Label:") == 5


@pytest.mark.parametrize("train, test, fragment", [
    ("", "positive: ok", "empty"), ("positive: a\npositive: b", "positive: ok", "at least two"),
    ("positive: a\nnegative: b", "neutral: c", "'neutral'"), (["positive: a"], "positive: ok", "must be text"),
])
def test_finetune_bad_input(train, test, fragment):
    with pytest.raises(gr.Error, match=fragment):
        list(B.finetune(train, test, "minilm", "cls", 50, 0.05, 0))


FUZZ_BASE = {"bert_inside": ["the cat sat", "", "minilm", 1, 0, 0], "bert_fill": ["the [MASK] sat", B.OFFLINE_FILL, 2],
             "bert_mask_rule": ["the cat sat on the mat", "minilm", 0.5, 1],
             "bert_finetune": ["positive: good\nnegative: bad", "positive: good", "minilm", "cls", 10, 0.05, 0],
             "bert_fetch": ["minilm"], "bert_inside_sliders": ["the cat sat", "", "minilm", 1, 0, 0]}


def test_fuzz_every_parameter_of_every_endpoint_with_junk(monkeypatch):
    """Any type and size in any parameter: a clear message or a result, never an internal error."""
    import dlcore.plotting.nlp_bert as P

    for fig in P.__all__:  # the figures are tested above; here only the validation matters (and speed)
        monkeypatch.setattr(P, fig, lambda *a, **k: None)
    with gr.Blocks() as demo:
        B.build()
    fns = {f.api_name: f for f in demo.fns.values() if f.api_name and f.api_visibility != "private"}
    assert set(FUZZ_BASE) == {n for n in fns if not n.startswith("load_example")}
    failures = []
    for name, base in FUZZ_BASE.items():
        f = fns[name]
        for i, comp in enumerate(f.inputs):
            for junk in JUNK:
                args = list(base)
                args[i] = comp.preprocess(junk) if isinstance(comp, gr.Textbox) and junk is not None else junk
                try:
                    out = f.fn(*args)
                    if hasattr(out, "__next__"):
                        list(out)
                except InternalError as exc:
                    failures.append((name, i, repr(junk)[:30], exc.message))
                except gr.Error as exc:
                    if "Internal error" in str(exc.message) or len(str(exc.message)) > 800:
                        failures.append((name, i, repr(junk)[:30], exc.message))
                except Exception as exc:  # noqa: BLE001 - anything else escaped the guard
                    failures.append((name, i, repr(junk)[:30], repr(exc)))
    assert failures == []
