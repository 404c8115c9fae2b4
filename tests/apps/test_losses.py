"""The loss calculator tab: contract, seed examples through the handlers, bad input as gr.Error."""

from __future__ import annotations

import re

import gradio as gr
import pytest

import apps.losses as tab
from dlcore.calculators.pitfalls import PITFALLS

# label fragment -> number that must appear in the summary (the notes' value, rounded as they print it)
SEED_VALUES = {
    "MSE = 0.0925": "0.0925", "MSE sum": "0.37", "MSE none": "[[0.01, 0.04], [0.16, 0.16]]",
    "L1 = 0.275": "0.275", "Huber = 0.04625": "0.04625", "δ=0.2": "0.03625", "CE = 0.5769": "0.5769",
    "CE none": "[0.4952, 0.5147, 0.721]", "BCEWithLogits = 0.6113": "0.6112", "multi-label": "0.1269, 1.3133, 0.9741",
    "BCE = 0.6108": "0.6107", "0.9729": "0.9729",
}


def test_contract():
    assert tab.TITLE == "Loss calculator"
    assert {s.section for s in tab.SEEDS} == {"1.3", "2.1.1", "3.1"}
    assert tab.ENDPOINTS[0].api_name == "loss_compute"
    assert tab.ENDPOINTS[0].examples[0] == tab.SEED_EXAMPLES[0][1]  # default = initial values


def test_build_creates_the_components_and_default_matches_initial_values():
    with gr.Blocks() as demo:
        tab.build()
    cfg = demo.get_config_file()  # run button and endpoints: tests/test_api.py (every tab)
    textboxes = [c["props"]["value"] for c in cfg["components"] if c["type"] == "textbox"]
    assert tab.X in textboxes and tab.Y in textboxes


@pytest.mark.parametrize("label,args", tab.SEED_EXAMPLES, ids=[lbl for lbl, _ in tab.SEED_EXAMPLES])
def test_every_example_runs_and_matches_torch(label, args):
    summary, steps, chance = tab.compute(*args)
    assert "matches" in summary and "DIFFERS" not in summary
    assert steps.count("$$") >= 4
    for frag, value in SEED_VALUES.items():
        if frag in label:
            assert value in summary.replace("0.576953", "0.5769").replace("0.611286", "0.6112").replace(
                "0.610782", "0.6107"), (label, summary[:200])


def test_seed_values_are_covered():
    labels = " ".join(lbl for lbl, _ in tab.SEED_EXAMPLES)
    assert all(frag in labels for frag in SEED_VALUES)


@pytest.mark.parametrize("args,fragment", tab.ENDPOINTS[0].bad)
def test_bad_input_is_a_gr_error_naming_the_rule(args, fragment):
    with pytest.raises(gr.Error) as err:
        tab.compute(*args)
    assert fragment in str(err.value) and "Internal error" not in str(err.value)


def test_other_panels():
    md, fig = tab.chance(tab.CE_X, "[0, 1, 3]")
    assert "ln 4 = 1.3863" in md and fig is not None
    fig, md = tab.regression_curves(0.5, 0.5, 3.0)
    assert "| MSELoss | 9.0000 | 6.0000 |" in md
    fig, md = tab.bce_stability(100, 0)
    assert re.search(r"\| 20 \| 1 \| 100\.0000 \| 20\.0000 \| 20\.0000 \|", md)
    out = tab.run_named_pitfall("bce_float32")
    assert "WORKS" in out and "notes differ" in out
    out = tab.run_custom_pitfall("BCEWithLogitsLoss", "float32", "int64", "none", "indices", "none")
    assert "can't be cast to the desired output type Long" in out and "y = y.float()" in out
    assert len(tab.ENDPOINTS[[e.api_name for e in tab.ENDPOINTS].index("loss_pitfall")].examples) == len(PITFALLS)


def test_live_edits_show_the_message_in_place_and_keep_the_last_result():
    args = list(tab.SEED_EXAMPLES[0][1])
    good = tab.compute_live(*args)
    assert good[0].startswith("### MSELoss = 0.0925")
    args[1] = "[[0.5, 0.2], [0.7"  # half-typed
    summary, steps, chance = tab.compute_live(*args)
    assert summary.startswith("⚠") and "could not be read" in summary
    assert isinstance(steps, type(gr.skip())) and isinstance(chance, type(gr.skip()))
    assert isinstance(tab.plot_live(*args), type(gr.skip()))
    with pytest.raises(gr.Error):  # the button path still raises (an error pop-up is right there)
        tab.compute(*args)


def test_the_page_opens_on_the_default_result():
    with gr.Blocks() as demo:
        tab.build()
    values = [str(c["props"].get("value")) for c in demo.get_config_file()["components"] if c["type"] == "markdown"]
    assert any(v.startswith("### MSELoss = 0.0925") for v in values)
