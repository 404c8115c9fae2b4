"""The Graphs tab through its handlers: the contract, the notes' example on the page, every example
and bad input, Stop, and build() importing no torch."""

from __future__ import annotations

from pathlib import Path

import gradio as gr
import pytest

import apps.graphs as tab
import apps.graphs_calc as calc
import apps.graphs_more as more
from tests.conftest import ROOT
from tests.streams import last as _last

HANDLERS = {"graphs_layer": calc.calculate, "graphs_receptive": calc.receptive, "graphs_train": tab.train,
            "graphs_train_stop": tab.stop_train, "graphs_depth": more.depth, "graphs_gat": more.gat}


def test_contract_and_build() -> None:
    assert {s.section for s in tab.SEEDS} == {"dl_7_1", "dl_7_2", "dl_7_3"}
    with gr.Blocks() as demo:
        tab.build()
    ids = {c["props"].get("elem_id") for c in demo.get_config_file()["components"]}
    assert {tab.RUN_BUTTON, tab.TRAIN_BUTTON, calc.RF_BUTTON, more.DEPTH_BUTTON, more.GAT_BUTTON} <= ids
    assert set(HANDLERS) == {e.api_name for e in tab.ENDPOINTS}
    assert tab.ERROR_DEMO.click == tab.RUN_BUTTON


def test_every_file_is_short() -> None:
    """(That building the app imports no torch, networkx or torch_geometric: tests/test_layering.py.)"""
    for p in [*Path(ROOT, "apps").glob("graphs*.py"), *Path(ROOT, "dlcore", "graphs").glob("*.py"),
              Path(ROOT, "dlcore", "plotting", "graphs.py")]:
        assert len(p.read_text(encoding="utf-8").splitlines()) <= 350, p


def test_library_needs_no_torch_geometric() -> None:
    for p in [*Path(ROOT, "dlcore").rglob("*.py"), *Path(ROOT, "apps").glob("graphs*.py")]:
        assert "import torch_geometric" not in p.read_text(encoding="utf-8"), p


@pytest.mark.parametrize("ep", [e for e in tab.ENDPOINTS if e.bad], ids=lambda e: e.api_name)
def test_bad_inputs_raise_one_message_naming_the_value(ep) -> None:
    for args, fragment in ep.bad:
        with pytest.raises(gr.Error) as err:
            _last(HANDLERS[ep.api_name](*args))
        assert fragment in str(err.value.message), (args, err.value.message)


@pytest.mark.parametrize("ep", tab.ENDPOINTS, ids=lambda e: e.api_name)
def test_every_example_says_its_fact(ep) -> None:
    for args, fact in zip(ep.examples, ep.facts):
        out = _last(HANDLERS[ep.api_name](*args))
        text = out if isinstance(out, str) else out[0]
        assert fact in text, (args, text[:600])


def test_default_shows_the_notes_shapes_predictions_and_the_written_out_update() -> None:
    md, fig = calc.calculate(*calc.DEFAULTS)
    from dlcore.graphs.gcn import seed_example
    from dlcore.graphs.graph import parse_graph

    ex = seed_example(parse_graph(calc.DEFAULTS[0]), seed=0)
    assert "X (5, 3) → H1 (5, 4) → H2 (5, 2)" in md and f"`{ex.pred.tolist()}`" in md
    assert r"\tfrac{1}{\sqrt{3\cdot3}}" in md and "| mean |" in md and "| max |" in md and fig is not None
    assert "0: [1, 4]; 1: [0, 2]" in md  # the adjacency list (邻接列表)


def test_training_page_numbers_and_stop() -> None:
    md, fig, curves = _last(tab.train(*tab.TRAIN_DEFAULT))
    assert "GCN 96.9% vs MLP 50.0%" in md and "| GCN | yes, Â | 31 |" in md and curves is not None
    assert tab.stop_train().startswith("Nothing is training")
    gen = tab.train("identity", 1, 4, 500, 0.01, 0)
    assert next(gen)[0].startswith("⏳ GCN epoch 1/500")
    assert tab.stop_train().startswith("⏹ Stopping")
    md = _last(gen)[0]
    assert md.startswith("### ⏹ **stopped**") and "Stopped" in md
    assert tab.stop_train().startswith("Nothing is training")
