"""The Bayes tab through its handlers: the notes' runs as one-click defaults (numbers from the library's
bit-identical runs), the honest-limits text, one weight written out, Stop, bad input as one gr.Error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import gradio as gr
import pytest

import apps.bayes as tab
import apps.bayes_more as more
from tests.streams import last

ROOT = Path(__file__).resolve().parents[2]
HANDLERS = {"bayes_vi_train": tab.train_vi, "bayes_vi_stop": tab.stop_vi, "bayes_mc_train": more.train_mc,
            "bayes_mc_stop": more.stop_mc, "bayes_compare": more.compare, "bayes_compare_stop": more.stop_compare}


def test_contract_and_build() -> None:
    assert {s.section for s in tab.SEEDS} == {"dl_6_1", "dl_6_2"}
    with gr.Blocks() as demo:
        tab.build()
    ids = {c["props"].get("elem_id") for c in demo.get_config_file()["components"]}
    assert {tab.RUN_BUTTON, more.MC_BUTTON, more.CMP_BUTTON, tab.ERROR_DEMO.click} <= ids
    assert set(HANDLERS) == {e.api_name for e in tab.ENDPOINTS}
    for ep in tab.ENDPOINTS:
        assert len(ep.facts) == len(ep.examples)


def test_build_imports_no_torch_and_every_file_is_short() -> None:
    code = ("import sys, gradio as gr, apps.bayes as t\nwith gr.Blocks() as d:\n    t.build()\n"
            "print(sorted(m for m in ('torch', 'dlcore.bayes.training', 'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.stdout.strip() == "[]", out.stderr[-2000:]
    for f in ("bayes.py", "bayes_more.py", "bayes_common.py"):
        assert len((ROOT / "apps" / f).read_text(encoding="utf-8").splitlines()) <= 350, f


@pytest.mark.parametrize("ep", [e for e in tab.ENDPOINTS if e.bad], ids=lambda e: e.api_name)
def test_bad_inputs_raise_one_message_naming_the_value(ep) -> None:
    for args, fragment in ep.bad:
        with pytest.raises(gr.Error) as err:
            last(HANDLERS[ep.api_name](*args))
        assert fragment in str(err.value.message), (args, err.value.message)


@pytest.mark.parametrize("ep", tab.ENDPOINTS, ids=lambda e: e.api_name)
def test_every_example_answers_its_fact(ep) -> None:
    for args, fact in zip(ep.examples, ep.facts):
        out = last(HANDLERS[ep.api_name](*args))
        text = out if isinstance(out, str) else "\n".join(str(o) for o in out if isinstance(o, str))
        assert fact in text, text[:1500]


def test_the_notes_variational_run_states_its_limits_with_numbers() -> None:
    md, band, curves, weight = last(tab.train_vi(*tab.VI_DEFAULT))
    assert "final loss 5.3628 after 2000 epochs" in md and "bit for bit" in md
    assert "**84 %** with the notes' band" in md and "gives **97 %**" in md      # coverage, epistemic vs + σ_y
    assert "2·std = 0.259 vs 0.264 inside" in md and "barely changes" in md      # no growth outside the data
    assert band is not None and curves is not None
    assert "fc1 weight w[0, 0]" in weight and "✔ equal" in weight and r"\mu + \sigma\varepsilon" in weight


def test_the_notes_dropout_run() -> None:
    md, band, curves = last(more.train_mc(*more.MC_DEFAULT))
    assert "final MSE 0.0407 after 2000 epochs" in md and "**80 %** with the notes' band" in md
    assert "gives **98 %**" in md and "grows" in md


def test_stop_ends_a_run_and_says_so() -> None:
    assert tab.stop_vi().startswith("Nothing is training")
    gen = tab.train_vi(20000, *tab.VI_DEFAULT[1:])
    first = next(gen)  # the first progress line (after ≥ 0.5 s of training)
    assert first[0].startswith("⏳ variational: epoch")
    assert tab.stop_vi().startswith("⏹ Stopping")
    md, *_ = last(gen)
    assert md.startswith("### ⏹ **stopped** after") and "final loss" in md and "bit for bit" not in md
    assert tab.stop_vi().startswith("Nothing is training")
    assert more.stop_mc().startswith("Nothing is training") and more.stop_compare().startswith("Nothing is training")


def test_first_open_shows_the_data_and_names_bad_settings() -> None:
    from matplotlib.figure import Figure

    from apps.bayes_common import preview

    fig = preview(0.2, 42)
    assert isinstance(fig, Figure) and "press Train" in fig.axes[0].get_title()
    with pytest.raises(gr.Error, match="noise σ_y = -1 is below the minimum 0"):
        preview(-1, 42)
