"""The GPT tab's handlers, driven with a tiny Llama instead of SmolLM2 (fast, no files, no network)."""

from __future__ import annotations

import math
import os
import time
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import gradio as gr
import pytest
import torch

import apps.gpt as G
from apps.common import STOPS, InternalError
from dlcore import hub
from dlcore.nlp.decoding import DecodeConfig, beam_search, stream_generate
from dlcore.nlp.tokens import readable_token
from tests.conftest import free_port
from tests.dlcore.nlp.fakehub import black_hole
from tests.dlcore.nlp.tiny_causal import tiny_llama

JUNK = [None, "", "x" * 100_000, "[" * 5000, 0, -1, 2**70, 1e308, math.nan, math.inf, True, [], [1, "a"], {"a": 1},
        "🙂" * 500, "\x00", "/root/.ssh"]


@pytest.fixture(scope="module")
def lm():
    return tiny_llama()


@pytest.fixture(autouse=True)
def _tiny(lm, monkeypatch):
    monkeypatch.setattr(G, "_lm", lambda ref: lm)
    monkeypatch.setattr(G, "loading_note", lambda ref: "")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    hub.reset_cache()


def req(session: str = "s1"):
    return SimpleNamespace(session_hash=session)


def _args(**kw):
    d = dict(model="smollm2", prompt="the cat sat on", mode="plain", strategy="greedy", max_new=6, T=0.8, top_k=50,
             top_p=0.95, rep=1.0, beams=3, seed=0)
    d.update(kw)
    return list(d.values())


def test_declarations():
    eps = {e.api_name: e for e in G.ENDPOINTS}
    assert eps["gpt_generate"].examples[0] == ["smollm2", *G.DEFAULT.values()]
    assert all(len(e.facts) == len(e.examples) for e in G.ENDPOINTS)
    assert eps["gpt_generate"].stateful and eps["gpt_step_start"].stateful and eps["gpt_step_add"].stateful
    assert G.ERROR_DEMO.click == G.RUN_BUTTON and "Prompt" in G.ERROR_DEMO.fill
    assert sum(1 for _ in open(G.__file__, encoding="utf-8")) <= 350


def test_build_wires_fetch_before_the_heavy_event():
    """(That building the app imports no torch or transformers: tests/test_layering.py.)"""
    with gr.Blocks() as demo:
        G.build()
    fns = {f.api_name: f for f in demo.fns.values() if f.api_name}
    assert fns["gpt_fetch"].concurrency_id == "hub" and fns["gpt_generate"].concurrency_id == "heavy"
    assert fns["gpt_model_info"].concurrency_id != "heavy"


def test_generate_streams_one_update_per_token_and_matches_library(lm):
    model, tok = lm
    outs = list(G.generate(*_args(), req()))
    assert len(outs) == 6 + 1  # one per token, then the final update with the figure
    status, text, rows, beams, fig, slider, seen, picked, steps = outs[-1]
    ids = torch.tensor([tok("the cat sat on", add_special_tokens=False).input_ids])
    ref = list(stream_generate(model, tok, ids, DecodeConfig(max_new_tokens=6)))
    assert text == ref[-1].text and len(steps) == 6 and status.startswith("✅ done: 6 tokens")
    assert [s.rows[s.chosen][5] for s in steps] == ["◀"] * 6
    assert all(len(r) == 6 for r in rows) and beams == [] and fig is not None and seen == "the cat sat on"
    assert slider["maximum"] == 6 and slider["interactive"] is True
    assert [t for t, _ in picked] == [readable_token(s.token) for s in steps]
    assert [v for _, v in picked] == [s.surprise for s in steps] and all(0 <= v <= 1 for _, v in picked)
    rows1, fig1, md = G.inspect_step(steps, 1)
    assert rows1 == steps[0].rows and fig1 is not None and md.startswith("Step 1: chose")
    for bad, frag in [(99, "above the maximum 6"), ("two", "inspect step"), (None, "inspect step")]:
        with pytest.raises(gr.Error, match=frag):
            G.inspect_step(steps, bad)
    with pytest.raises(gr.Error, match="no generation to inspect"):
        G.inspect_step([], 1)


def test_stop_keeps_the_text_and_plot_and_says_where_it_stopped():
    r = req("stopper")
    gen = G.generate(*_args(max_new=40), r)
    frames = [next(gen) for _ in range(3)]
    assert STOPS.stop(r, "gpt_generate")
    rest = list(gen)
    status, text, rows, _, fig, slider, _, picked, steps = rest[-1]
    assert status.startswith("⏹ stopped at token 3/40") and len(steps) == 3 and fig is not None and rows
    assert text == frames[-1][1] and len(picked) == 3 and slider["maximum"] == 3
    assert not STOPS.is_running(r, "gpt_generate") and not STOPS.stop(r, "gpt_generate")


def test_beam_search_and_its_stop(lm):
    model, tok = lm
    outs = list(G.generate(*_args(strategy="beam", beams=3, max_new=5), req()))
    status, text, _, beams, fig, *_ = outs[-1]
    ids = torch.tensor([tok("the cat sat on", add_special_tokens=False).input_ids])
    ref = beam_search(model, tok, ids, DecodeConfig(strategy="beam", num_beams=3, max_new_tokens=5))
    assert [b[1] for b in beams] == ref.texts and text == ref.texts[0] and "width 3" in status and fig is not None
    r = req("beam-stop")
    gen = G.generate(*_args(strategy="beam", max_new=30), r)
    next(gen)
    STOPS.stop(r, "gpt_generate")
    last = list(gen)[-1]
    assert last[0].startswith("⏹ stopped at step 1/30") and last[4] is not None and last[3]


def test_sampling_is_reproducible_through_the_tab():
    a = list(G.generate(*_args(strategy="sample", seed=3, max_new=8), req()))[-1][1]
    b = list(G.generate(*_args(strategy="sample", seed=3, max_new=8), req()))[-1][1]
    assert a == b


@pytest.mark.parametrize("kw, fragment", [
    (dict(prompt=""), "prompt is empty"), (dict(prompt="cat " * 1200), "limit"), (dict(strategy="sample", T=0.0),
                                                                                  "temperature"),
    (dict(top_p=0.0, strategy="sample"), "top_p"), (dict(max_new=0), "max new tokens"), (dict(beams=40), "num_beams"),
    (dict(model=["gpt2"]), "model must be text"), (dict(model="/root/.ssh"), "not one of the offered models"),
    (dict(strategy=["greedy"]), "decoding"), (dict(mode={"a": 1}), "prompt mode"), (dict(seed=2.5), "whole number")])
def test_generate_bad_input(kw, fragment):
    with pytest.raises(gr.Error, match=fragment):
        list(G.generate(*_args(**kw), req()))


def test_chat_mode_uses_the_template_and_fails_clearly_without_one(lm):
    _, tok = lm
    seen = list(G.generate(*_args(mode="chat"), req()))[-1][6]
    assert seen.startswith("<|im_start|>") and "the cat sat on <|im_end|>" in seen
    old = tok.chat_template
    tok.chat_template = None
    try:
        with pytest.raises(gr.Error, match="no chat template"):
            list(G.generate(*_args(mode="chat"), req()))
    finally:
        tok.chat_template = old


def test_step_through_keeps_its_state_in_gr_state(lm):
    _, tok = lm
    status, text, rows, choices, fig, state = G.step_start("smollm2", "the cat", "plain", 0.8, 50, 0.95, 1.0)
    assert text == "" and len(rows) == 10 and fig is not None and "0 token(s)" in status
    second = choices["choices"][1]
    chosen_id = state["st"].candidates[second]
    status2, text2, *_, state2 = G.step_add(state, second, 0.8, 50, 0.95, 1.0)
    assert state2["st"].ids == state["st"].ids + [chosen_id] and text2 == tok.decode([chosen_id])
    for bad_state, bad_choice, frag in [(None, second, "Start from this prompt"), ("1|2,3", second, "Start from"),
                                        (state, "anything", "not one of"), (state, [second], "not one of"),
                                        (state, None, "not one of"), (state, "x" * 100_000, "not one of")]:
        with pytest.raises(gr.Error, match=frag):
            G.step_add(bad_state, bad_choice, 0.8, 50, 0.95, 1.0)


def test_special_tokens_are_shown_with_their_meaning(lm):
    model, tok = lm
    rows = G.step_start("smollm2", "the cat", "plain", 0.8, 50, 0.95, 1.0)[2]
    assert not any(r[1] == "<|im_end|>" for r in rows)  # raw specials never reach a table


def test_score_colours_every_token_and_reports_perplexity():
    md, spans, rows, fig = G.score("smollm2", "the cat sat on the mat")
    assert [t for t, _ in spans] == [r[1] for r in rows] == ["the", "cat", "sat", "on", "the", "mat"]
    assert all(0 <= s <= 1 for _, s in spans) and "Perplexity" in md and fig is not None
    with pytest.raises(gr.Error, match="text is empty"):
        G.score("smollm2", "  ")


def test_templates_fill_the_prompt():
    text, mode, md = G.fill_template("capitals", 3)
    assert text.endswith("Italy =>") and text.count("=>") == 4 and mode == "plain" and "few-shot (k = 3)" in md
    for args, frag in [(("nope", 1), "not one of"), (("capitals", 9), "above the maximum 3"), ((None, 1), "template"),
                       (("capitals", "x"), "shots k")]:
        with pytest.raises(gr.Error, match=frag):
            G.fill_template(*args)


def test_model_info_never_says_whether_a_server_path_exists(tmp_path):
    answers = []
    for path in [os.path.expanduser("~/.ssh"), "/no/such/folder/at/all"]:
        with pytest.raises(gr.Error) as info:
            G.model_info(path)
        answers.append(str(info.value.message).replace(repr(path), "NAME"))
    assert answers[0] == answers[1] and "not one of the offered models" in answers[0]
    assert "SmolLM2" in G.model_info("smollm2") and "Not on this machine yet" in G.model_info("gpt2")


def _handlers():
    with gr.Blocks() as demo:
        G.build()
    return {f.api_name: f for f in demo.fns.values() if f.api_name and f.api_visibility != "private"}


FUZZ_BASE = {"gpt_generate": ["smollm2", "the cat", "plain", "greedy", 2, 0.8, 50, 0.95, 1.0, 2, 0],
             "gpt_score": ["smollm2", "the cat sat"],
             "gpt_step_start": ["smollm2", "the cat", "plain", 0.8, 50, 0.95, 1.0],
             "gpt_step_add": ["1. x", 0.8, 50, 0.95, 1.0], "gpt_template": ["capitals", 1], "gpt_model_info": ["gpt2"],
             "gpt_fetch": ["smollm2"], "gpt_inspect_step": [1], "gpt_stop": []}


def test_fuzz_every_parameter_of_every_endpoint_with_junk():
    """Any type and size in any parameter: a clear message or a result, never an internal error."""
    fns = _handlers()
    assert set(FUZZ_BASE) == set(fns) - {"load_example", "load_example_1"}
    failures = []
    for name, base in FUZZ_BASE.items():
        f = fns[name]
        visible = [i for i, c in enumerate(f.inputs) if not isinstance(c, gr.State)]
        for pos, i in enumerate(visible):
            for junk in JUNK:
                args = [c.value if isinstance(c, gr.State) else None for c in f.inputs]
                for p, j in enumerate(visible):
                    args[j] = base[p]
                comp = f.inputs[i]
                args[i] = comp.preprocess(junk) if isinstance(comp, gr.Textbox) and junk is not None else junk
                kwargs = {"request": req("fuzz")} if "request" in f.fn.__wrapped__.__code__.co_varnames else {}
                try:
                    out = f.fn(*args, **kwargs)
                    if hasattr(out, "__next__"):
                        list(out)
                except InternalError as exc:
                    failures.append((name, pos, repr(junk)[:30], exc.message))
                except gr.Error as exc:
                    if "Internal error" in str(exc.message) or len(str(exc.message)) > 800:
                        failures.append((name, pos, repr(junk)[:30], exc.message))
                except Exception as exc:  # noqa: BLE001 - anything else escaped the guard
                    failures.append((name, pos, repr(junk)[:30], repr(exc)))
    assert failures == []


@pytest.mark.slow  # serves the tab and waits out a real 2 s deadline
def test_black_hole_hub_fails_fast_and_never_holds_a_heavy_slot(lm, monkeypatch):
    """HF_ENDPOINT at a socket that accepts and never answers. (1) Hub names wait in the "hub" group only: an
    offline generation on the same app completes while they wait (the hole holds them until the test hangs up),
    then they fail with the clear message. (2) With the real deadlines, a hub name fails within them."""
    from gradio_client import Client

    from apps.hubstep import from_disk
    from dlcore.nlp.causal import load_causal

    monkeypatch.setattr(G, "_lm", lambda ref: lm if ref.source != "hub" else from_disk(load_causal, ref, "/gpt_fetch"))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(hub, "PROBE_TIMEOUT_S", 120.0)
    monkeypatch.setattr(hub, "LIST_DEADLINE_S", 120.0)
    with gr.Blocks() as demo:
        G.build()
    port = free_port()
    demo.queue().launch(server_port=port, prevent_thread_lock=True, quiet=True)
    app = f"http://127.0.0.1:{port}/"

    def call(api, *a):
        try:
            return Client(app, verbose=False).predict(*a, api_name=api)
        except Exception as exc:  # noqa: BLE001 - AppError carries the message
            return exc

    try:
        with black_hole() as url, ThreadPoolExecutor(8) as ex:
            monkeypatch.setenv("HF_ENDPOINT", url)
            fetches = [ex.submit(call, "/gpt_fetch", n) for n in ("gpt2", "distilgpt2", "gpt2")]
            deadline = time.monotonic() + 60
            while not url.connections and time.monotonic() < deadline:
                time.sleep(0.05)  # the probe has reached the hole and waits there
            third = call("/gpt_fetch", "me/other")  # a third model while two downloads wait: refused at once
            heavy_hub = [ex.submit(call, "/gpt_generate", "gpt2", *_args()[1:]) for _ in range(2)]
            offline = ex.submit(call, "/gpt_generate", *_args())
            result = offline.result(timeout=300)
            waiting = [f.done() for f in fetches]
            url.hang_up.set()
            fetched = [f.result(timeout=60) for f in fetches]
            hub_generate = [f.result(timeout=60) for f in heavy_hub]
        assert not isinstance(result, Exception) and result[0].startswith("✅ done: 6 tokens")
        assert waiting == [False] * 3  # still waiting on the network while the offline run used a heavy slot
        assert isinstance(third, Exception) and "2 other downloads are running" in str(third)
        assert str(fetched[0]) == str(fetched[2])  # two callers of gpt2 joined one download: one message
        assert all(isinstance(e, Exception) and "cannot be loaded" in str(e) and "unreachable" in str(e)
                   for e in fetched)
        assert all(isinstance(e, Exception) and ("/gpt_fetch" in str(e) or "unreachable" in str(e))
                   for e in hub_generate)
        monkeypatch.undo()  # the real deadlines again
        monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
        hub.reset_cache()
        with black_hole() as url:
            monkeypatch.setenv("HF_ENDPOINT", url)
            t0 = time.monotonic()
            err = call("/gpt_fetch", "gpt2")
            assert time.monotonic() - t0 < hub.PROBE_TIMEOUT_S + 6  # a black hole would otherwise hang for minutes
        assert isinstance(err, Exception) and "'gpt2' cannot be loaded" in str(err)
    finally:
        demo.close()
