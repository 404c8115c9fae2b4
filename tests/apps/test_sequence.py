"""The sequence tab through its handlers: the seeds' numbers on the page, checks against torch shown,
bad input as one gr.Error naming the value and its rule, Stop, per-session sampling."""

from __future__ import annotations

import re
import types

import gradio as gr
import pytest

import apps.sequence as tab
import apps.sequence_inside as inside
import apps.sequence_text as text
from apps.common import STOPS
from dlcore.sequence.names import SEED_FIGURES
from tests.streams import last as _last

HANDLERS = {"sequence_sine_zoo": tab.sine_zoo, "sequence_sine_train": tab.sine_train,
            "sequence_sine_stop": tab.stop_sine, "sequence_inside": inside.inside,
            "sequence_gradients": inside.gradients, "sequence_clip": inside.clipping,
            "sequence_clip_stop": inside.stop_clipping, "sequence_char": text.char_train,
            "sequence_char_sample": text.char_sample, "sequence_char_stop": text.stop_char,
            "sequence_s2s": text.s2s_train, "sequence_s2s_stop": text.stop_s2s}


def _request(name: str):
    return types.SimpleNamespace(session_hash=f"test-sequence-{name}")


def test_contract_and_build() -> None:
    assert tab.TITLE.startswith("RNN, LSTM and GRU")
    assert {s.section for s in tab.SEEDS} >= {"dl_3", "dl_4", "dl_5", "dl_9", "8.3", "8.4.8"}
    with gr.Blocks() as demo:
        tab.build()
    ids = {c["props"].get("elem_id") for c in demo.get_config_file()["components"]}
    assert {tab.RUN_BUTTON, inside.INSIDE_BUTTON, inside.GRAD_BUTTON, inside.CLIP_BUTTON, text.CHAR_BUTTON,
            text.S2S_BUTTON} <= ids
    assert set(HANDLERS) == {e.api_name for e in tab.ENDPOINTS}


@pytest.mark.parametrize("ep", [e for e in tab.ENDPOINTS if e.bad], ids=lambda e: e.api_name)
def test_bad_inputs_raise_one_message_naming_the_value(ep) -> None:
    for args, fragment in ep.bad:
        kw = {"request": _request("bad")} if "request" in HANDLERS[ep.api_name].__code__.co_varnames else {}
        with pytest.raises(gr.Error) as err:
            _last(HANDLERS[ep.api_name](*args, **kw))
        assert fragment in str(err.value.message), (args, err.value.message)


def test_zoo_view_shows_the_seeds_figures() -> None:
    md, fig = tab.sine_zoo("sine")
    assert f"{SEED_FIGURES[('sine', 'lstm')][0]:.5f}" in md and "LSTM" in md and fig is not None
    assert "rolling forecast" in md
    md4, _ = tab.sine_zoo("noisy_sines")
    assert "0.00323" in md4 and "✅" in md4 and "copy its last input" in md4   # the notes' leak is named


def test_the_seeds_lstm_run_reproduces_on_the_page() -> None:
    md, fig = _last(tab.sine_train(*tab.SINE_EXAMPLES[0], request=_request("dl3")))
    assert "finished 50 epochs" in md and fig is not None
    row = next(line for line in md.splitlines() if line.startswith("| LSTM"))
    assert "**0.01106**" in row and "✅" in row


def test_sine_stop_keeps_the_models_and_says_so() -> None:
    req = _request("stop")
    gen = tab.sine_train(*tab.SINE_EXAMPLES[1], request=req)
    first = next(gen)
    assert first[0].startswith("⏳") or "finished" in first[0]
    assert "Stopping" in tab.stop_sine(request=req)
    md, _ = _last(gen)
    assert md.startswith("⏹") and "stopped during epoch" in md
    assert "Nothing is training" in tab.stop_sine(request=req)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_inside_shows_the_worked_step_and_the_torch_checks(cell) -> None:
    md, fig = inside.inside(cell, "trained", 3, 10, 4, "after")
    diffs = [float(x) for x in re.findall(r"\| ([0-9.]+e-?\d+) \| ✅", md)]
    assert diffs and max(diffs) <= 1e-6 and "✗" not in md
    assert "step t = 10, unit j = 4" in md and fig is not None


def test_inside_gru_notes_form_names_the_difference() -> None:
    md, _ = inside.inside("gru", "trained", 1, 20, 1, "before")
    assert "reset gate *before*" in md and "Checked against torch" not in md


def test_gradients_agree_with_autograd_on_the_page() -> None:
    md, fig = inside.gradients("trained", 30, "spectral", ["rnn", "lstm", "gru"])
    rows = [line for line in md.splitlines() if line.startswith(("| RNN", "| LSTM", "| GRU"))]
    assert len(rows) == 3 and fig is not None
    for row in rows:
        cols = [c.strip() for c in row.strip("|").split("|")]
        assert cols[1] == cols[2]                                  # hand and autograd print the same
        assert float(cols[3]) < 1e-6
    assert "cell line alone" in md


def test_clipping_panel_runs_both_and_counts_clipped_steps() -> None:
    md, fig = _last(inside.clipping("rnn", 2.0, 1.0, 0.05, 1, request=_request("clip")))
    assert "no clipping" in md and "clipped at τ = 1" in md and fig is not None
    clipped = re.search(r"clipped at τ = 1 \| [^|]+ \| (\d+) / (\d+)", md)
    assert clipped and int(clipped.group(1)) > 0


def test_char_model_trains_samples_and_samples_again_per_session() -> None:
    req = _request("char")
    md, fig = _last(text.char_train("hamlet", "gru", 30, 0.8, 32, "HAMLET.", 0, request=req))
    assert "finished 30 steps" in md and "```text\nHAMLET." in md and "chars/s" in md
    assert "The next character after" in md and fig is not None
    again = text.char_sample(0.5, "KING.", 1, request=req)
    assert "T = 0.5" in again and "```text\nKING." in again
    assert again == text.char_sample(0.5, "KING.", 1, request=req)            # same seed, same text
    with pytest.raises(gr.Error, match="no model has been trained in this session"):
        text.char_sample(0.5, "KING.", 1, request=_request("someone-else"))


def test_seq2seq_compares_with_and_without_attention() -> None:
    md, fig, amap = _last(text.s2s_train("reverse", ["none", "dot"], 1.0, 1, 0, request=_request("s2s")))
    assert "2 of 2 runs" in md and fig is not None and amap is not None
    assert "none (context = last encoder state)" in md and "dot" in md and "exposure bias" in md
    _, _, nomap = _last(text.s2s_train("sort", ["none"], 0.5, 1, 0, request=_request("s2s")))
    assert nomap is None


def test_stops_are_per_session() -> None:
    assert "Nothing is training" in text.stop_char(request=_request("idle"))
    assert "Nothing is training" in text.stop_s2s(request=_request("idle"))
    assert "Nothing is training" in inside.stop_clipping(request=_request("idle"))
    assert not STOPS.stop(_request("idle"), "sequence_char")
