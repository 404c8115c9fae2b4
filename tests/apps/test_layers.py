"""The layer calculator tab: contract, seed examples through the handlers, bad input as gr.Error."""

from __future__ import annotations

import gradio as gr
import pytest

import apps.layers as tab
from dlcore.calculators.layers import LAYER_NAMES
from dlcore.calculators.worked import SEED_EXAMPLES

HANDLERS = {"layers_shape": tab.shape_report, "layers_worked": tab.worked, "layers_stack": tab.stack,
            "layers_separable": tab.separable, "layers_torch_check": tab.torch_check}


def test_contract_and_default_equals_initial_values() -> None:
    assert tab.TITLE == "Layer calculator"
    assert {s.section for s in tab.SEEDS} >= {"1.1", "1.2", "8.2.2"}
    with gr.Blocks() as demo:
        tab.build()
    cfg = demo.get_config_file()  # run button and endpoints: tests/test_api.py (every tab)
    values = [c["props"].get("value") for c in cfg["components"] if c["type"] == "textbox"]
    assert tab.ENDPOINTS[0].examples[0] == [tab.DEFAULT_LAYER, tab.DEFAULT_SHAPE]
    assert tab.DEFAULT_LAYER in values and tab.DEFAULT_SHAPE in values
    assert SEED_EXAMPLES[0].x in values  # worked tab starts on the first seed example


@pytest.mark.parametrize("ep", tab.ENDPOINTS, ids=[e.api_name for e in tab.ENDPOINTS])
def test_endpoint_examples_and_bad_inputs(ep) -> None:
    fn = HANDLERS[ep.api_name]
    for args in ep.examples:
        fn(*args)
    for args, fragment in ep.bad:
        with pytest.raises(gr.Error) as err:
            fn(*args)
        assert fragment in str(err.value.message), (args, err.value.message)


@pytest.mark.parametrize("name", LAYER_NAMES)
def test_every_template_renders_and_torch_agrees(name: str) -> None:
    call, shape, sig, md = tab.pick_template(name)
    assert md.startswith("### `") and "Parameters" in md and name in sig
    assert tab.torch_check(call, shape).startswith("✔ torch"), tab.torch_check(call, shape)


def test_torch_check_is_silent_on_bad_input() -> None:
    assert tab.torch_check("Linear(3, 4)", "(2, -5)") == ""


@pytest.mark.parametrize("ex", SEED_EXAMPLES, ids=[e.label for e in SEED_EXAMPLES])
def test_seed_examples_show_the_notes_numbers(ex) -> None:
    md, fig = tab.worked(ex.kind, ex.x, ex.w, ex.b, ex.options, 0)
    for v in ex.expected[:4]:
        assert f"= {v:g}".replace("-", "−") in md or f"= {v:.4f}".rstrip("0").rstrip(".") in md, (v, md[:300])
    assert (fig is not None) == (ex.kind.startswith(("Conv", "MaxPool", "AvgPool")))


def test_rnn_example_flags_the_notes_error() -> None:
    md = tab.shape_report("LSTM(10, 20, num_layers=2)", "(5, 3, 10)")
    assert "The notes are wrong here" in md and "(2, 3, 20)" in md


def test_stack_reports_first_breaking_layer() -> None:
    spec, shape = list(tab.PRESETS.values())[2]
    md = tab.stack(spec, shape)
    assert "Layer 8 breaks" in md and "mat1 and mat2" in md


def test_separable_default_shows_72_vs_26() -> None:
    md = tab.separable(2, 4, 3, 3, 5, 5, 1, 0, False)
    assert "| 72 |" in md and "**26**" in md and "1/4 + 1/9" in md


def test_live_events_show_messages_in_place() -> None:
    from apps.common import live as make_live
    live = make_live(tab.shape_report)
    assert live("Conv2d(3, 8, 5)", "(1, 3, 4, 4)").startswith("⚠ Conv2d: kernel_size 5")
    md, fig = make_live(tab.worked, 2)("Linear", "[[1, 2", "", "", "", 0)
    assert md.startswith("⚠ input x could not be read") and fig is None


@pytest.mark.parametrize("kind", list(tab.WORKED_KINDS))
def test_picking_a_worked_layer_fills_a_working_example(kind: str) -> None:
    x, w, b, opts, el = tab.pick_worked(kind)
    md, _ = tab.worked(kind, x, w, b, opts, el)
    assert md.startswith("### ") and "`#0` y[" in md


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_junk = st.one_of(st.text(max_size=40), st.sampled_from([
    "1e999", "-1", "None", "(1, 2, 3)", "[[1, 2], [3, 4]]", "stride=0", "stride=1e999", "padding='x'",
    "kernel_size=(1, 2, 3)", "groups=-2", "ceil_mode=1", "eps=-1", "Conv2d(1e999, 2, 3)", "Linear(3, 4)",
    "LSTM(2, 3)", "(1, 1, 5, 5)", "((1, 2), (3,))", "[[[[1, 2], [3, 4]]]]", "Select(dim=9, index=0)", "stride=(1,)", "kernel_size=(2,)", "kernel_size=(2, 2)",
    "stride=(1, 1)", "dilation=(1, 2)", "start_dim=5", "normalized_dims=4"]))


@settings(max_examples=int(__import__("os").environ.get("DL_LAB_HYPOTHESIS_EXAMPLES", "150")), deadline=None)
@given(kind=st.sampled_from(list(tab.WORKED_KINDS)), a=_junk, b=_junk, c=_junk, d=_junk, e=st.integers(-3, 5))
def test_junk_input_never_gives_an_internal_error(kind, a, b, c, d, e) -> None:
    calls = [lambda: tab.shape_report(a, b), lambda: tab.worked(kind, a, b, c, d, e), lambda: tab.stack(a, b),
             lambda: tab.stack(a + "\n" + c, d)]
    for call in calls:
        try:
            call()
        except gr.Error as err:
            assert not isinstance(err, tab_common.InternalError), err.message
            assert "Internal error" not in str(err.message), err.message


import apps.common as tab_common  # noqa: E402


_OPTION_JUNK = ["stride=0", "stride=1e999", "stride='a'", "padding=-1", "padding=(1,)", "stride=(1,)", "stride=(1, 1)",
                "kernel_size=(2,)", "kernel_size=(2, 2)", "kernel_size=99", "dilation=(1, 2)", "groups=2",
                "groups=True", "ceil_mode=1", "ceil_mode=True", "count_include_pad=False", "eps=-1", "eps=0.5",
                "start_dim=5", "end_dim=-9", "normalized_dims=4", "normalized_dims=2", "colour=1", "1, 2", "=", "stride"]


@pytest.mark.parametrize("kind", list(tab.WORKED_KINDS))
def test_option_junk_on_every_worked_layer_is_a_clear_message(kind: str) -> None:
    x, w, b, opts, _ = tab.pick_worked(kind)
    base = (opts + ", ") if opts else ""
    for junk in _OPTION_JUNK:
        try:
            tab.worked(kind, x, w, b, base + junk, 0)
        except gr.Error as err:
            assert not isinstance(err, tab_common.InternalError), (kind, junk, err.message)
