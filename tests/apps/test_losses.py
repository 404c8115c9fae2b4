"""The loss calculator tab: contract, seed examples through the handlers, bad input as gr.Error."""

from __future__ import annotations

import re
import subprocess
import sys

import gradio as gr
import pytest

import apps.losses as tab
from dlcore.calculators.losses_registry import PITFALLS
from tests.conftest import ROOT

ENDPOINTS = {e.api_name: e for e in tab.ENDPOINTS}
HANDLERS = {"loss_compute": tab.compute, "loss_plot": tab.plot_loss, "loss_chance": tab.chance,
            "loss_curves": tab.regression_curves, "loss_bce_stability": tab.bce_stability,
            "loss_pitfall": tab.run_named_pitfall, "loss_pitfall_custom": tab.run_custom_pitfall}


def _text(out) -> str:
    return " ".join(str(o) for o in (out if isinstance(out, tuple) else (out,)))


def test_contract_and_build_without_torch():
    assert tab.TITLE == "Loss calculator"
    assert {s.section for s in tab.SEEDS} == {"1.3", "2.1.1", "3.1"}
    assert tab.ENDPOINTS[0].api_name == "loss_compute"
    assert tab.ENDPOINTS[0].examples[0] == tab.SEED_EXAMPLES[0].args()  # default = initial values
    assert set(HANDLERS) == set(ENDPOINTS)
    code = ("import sys, gradio as gr, apps.losses as t\nwith gr.Blocks() as d:\n    t.build()\n"
            "print(sorted(m for m in ('torch', 'sklearn', 'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.stdout.strip() == "[]", out.stderr[-2000:]
    assert len(open(tab.__file__, encoding="utf-8").read().splitlines()) <= 350


def test_build_wires_every_event_with_a_failure_follow_up():
    with gr.Blocks() as demo:
        tab.build()
    cfg = demo.get_config_file()
    deps = cfg["dependencies"]
    named = {d["api_name"]: i for i, d in enumerate(deps) if d.get("api_name")}
    followed = {d.get("trigger_after") for d in deps if d.get("trigger_only_on_failure")}
    for name in set(ENDPOINTS) - {"loss_plot"}:  # loss_plot runs only after loss_compute succeeded
        assert named[name] in followed, f"{name}: an error would show as a bare badge"
    textboxes = [c["props"]["value"] for c in cfg["components"] if c["type"] == "textbox"]
    assert tab.X in textboxes and tab.Y in textboxes
    labels = {c["props"].get("label") for c in cfg["components"]}
    assert set(tab.CALC_LABELS) <= labels


@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_every_example_holds_its_fact(name):
    ep = ENDPOINTS[name]
    assert len(ep.facts) == len(ep.examples)
    for args, fact in zip(ep.examples, ep.facts):
        out = HANDLERS[name](*args)
        if name == "loss_plot":
            from matplotlib.figure import Figure
            assert isinstance(out, Figure) and fact == "data:image"
        else:
            assert fact in _text(out), (args, fact, _text(out)[:300])
        if name == "loss_compute":
            assert "matches" in out[0] and "DIFFERS" not in out[0] and out[1].count("$$") >= 4


@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_bad_input_is_a_gr_error_naming_the_rule(name):
    for args, fragment in ENDPOINTS[name].bad:
        with pytest.raises(gr.Error) as err:
            HANDLERS[name](*args)
        assert fragment in err.value.message and "Internal error" not in err.value.message


JUNK = [None, [1, 2], {"a": 1}, "x" * 100_000, float("nan"), "🙂", 2.5, -1, True]


@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_junk_of_any_type_in_any_parameter_is_a_clear_message(name):
    ep = ENDPOINTS[name]
    for i in range(len(ep.examples[0])):
        for junk in JUNK:
            args = list(ep.examples[0])
            args[i] = junk
            try:
                HANDLERS[name](*args)
            except gr.Error as exc:
                assert "Internal error" not in exc.message, (name, i, junk, exc.message)


def test_the_notes_numbers_and_the_chance_panel():
    md, fig = tab.chance(tab.CE_X, "[0, 1, 3]", "7, 21843")
    assert "ln 4 = 1.3863" in md and fig is not None
    rows = [r for r in md.splitlines() if r.startswith("| ") and "ln C" not in r and r[2:3].isdigit() or "**" in r]
    table = md.split("#### ln C")[1]
    assert table.count("\n| ") <= 16  # a readable selection, not 999 rows
    assert "| **4** | **1.3863** |" in table and "| 7 | 1.9459 | yours" not in table and "21,843" in table
    assert rows
    fig, md = tab.bce_stability(100, 0)
    assert re.search(r"\| 20 \| 1 \| 100\.0000 \| 20\.0000 \| 20\.0000 \|", md)
    out = tab.run_named_pitfall("bce_float32")
    assert "WORKS" in out and "notes differ" in out
    out = tab.run_custom_pitfall("BCEWithLogitsLoss", "float32", "int64", "none", "indices", "none")
    assert "can't be cast to the desired output type Long" in out and "y = y.float()" in out
    assert len(ENDPOINTS["loss_pitfall"].examples) == len(PITFALLS)


def test_chance_level_with_a_bad_class_index_says_so():
    with pytest.raises(gr.Error) as err:
        tab.chance(tab.CE_X, "[0, 1, 9]", "")
    assert "class index 9" in err.value.message and "out of range" in err.value.message


def test_live_edits_show_the_message_in_place_and_clear_the_stale_result():
    from apps.common import live

    args = tab.SEED_EXAMPLES[0].args()
    good = live(tab.compute, 4)(*args)
    assert good[0].startswith("### MSELoss = 0.0925")
    args[0], args[1], args[2] = "BCELoss", tab.BIN_X, tab.BIN_Y  # logits where BCE wants probabilities
    summary, steps, chance, fig = live(tab.compute, 4)(*args)
    assert summary.startswith("⚠") and "outside [0, 1]" in summary
    assert steps is None and chance is None and fig is None  # the previous loss's steps do not stay
    assert tab.plot_quiet(*args) is None
    with pytest.raises(gr.Error):  # the button path raises; `on` shows it in place
        tab.compute(*args)


def test_a_non_text_weight_is_named():
    with pytest.raises(gr.Error, match="weight must be text"):
        tab.compute(*tab._ex("MSELoss", tab.X, tab.Y, weight=[1, 2]))


def test_whole_number_fields_refuse_fractions():
    args = tab.SEED_EXAMPLES[6].args()
    args[7] = 2.5
    with pytest.raises(gr.Error, match="ignore_index must be a whole number, got 2.5"):
        tab.compute(*args)
