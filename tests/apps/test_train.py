"""The "Train a network" tab's handlers, called directly (the API harness covers the server)."""

import dataclasses
import subprocess
import sys
from types import SimpleNamespace

import gradio as gr
import pytest
from matplotlib.figure import Figure

from apps import train as tab
from dlcore.train.spec import PRESETS, SPEC_FIELDS, PlaygroundSpec, spec_values
from tests.conftest import ROOT


def _run(args, runs=None, request=None):
    return list(tab.train(*args, runs, request))


def _with(**kw):
    return spec_values(dataclasses.replace(PlaygroundSpec(), **kw))


def test_inputs_are_the_spec_fields_in_order():
    assert tab.NAMES == [f.name for f in SPEC_FIELDS]
    assert tab.ENDPOINTS[0].examples[0] == tab.D == spec_values(PlaygroundSpec())
    with gr.Blocks() as demo:
        tab.build()
    cfg = demo.get_config_file()
    dep = next(d for d in cfg["dependencies"] if d.get("api_name") == "train")
    comps = {c["id"]: c for c in cfg["components"]}
    labels = [comps[i]["props"].get("label") for i in dep["inputs"]][:len(SPEC_FIELDS)]
    assert labels == [f.metadata["ui"].label for f in SPEC_FIELDS]
    values = [comps[i]["props"].get("value") for i in dep["inputs"]][:len(SPEC_FIELDS)]
    assert values == tab.D
    # the API parameters are named after the fields
    from gradio.utils import get_function_params
    assert [p[0] for p in get_function_params(tab.train)][:len(SPEC_FIELDS)] == tab.NAMES


def test_default_example_streams_then_finishes_with_every_figure():
    frames = _run(tab.D)
    assert "preparing" in frames[0][0] and frames[0][1] is None  # a new run starts on a clean board
    status, curves, grads, view, conf, lr, compare, runs = frames[-1]
    assert "learned" in status and "30/30" in status and "constant guess" in status
    assert all(isinstance(f, Figure) for f in (curves, grads, view, conf, lr, compare))
    assert runs["count"] == 1 and len(runs["runs"]) == 1 and len(runs["runs"][0].epochs) == 30
    assert isinstance(frames[1][1], Figure) and frames[1][4] == gr.skip()  # no confusion matrix mid-run


def test_redraws_follow_the_clock_not_the_epochs(monkeypatch):
    monkeypatch.setattr(tab.time, "perf_counter", _Clock(0.3))  # every reading is 0.3 s later
    frames = _run(_with(epochs=2))  # 20 steps, 2 epochs: a redraw about every other step
    assert len(frames) > 6
    curves = [f[1] for f in frames[2:-1]]
    assert all(isinstance(c, Figure) for c in curves)


def test_runs_are_kept_for_comparison_and_capped():
    args = _with(epochs=1)
    runs = None
    for _ in range(tab.MAX_RUNS + 2):
        runs = _run(args, runs)[-1][-1]
    assert len(runs["runs"]) == tab.MAX_RUNS and runs["count"] == tab.MAX_RUNS + 2
    assert [r.label.split()[0] for r in runs["runs"]] == [f"#{i}" for i in range(3, tab.MAX_RUNS + 3)]
    assert tab.clear_runs()[:2] == ({"count": 0, "runs": []}, None)


def test_regression_and_images_views():
    sine = spec_values(dataclasses.replace(PRESETS["Regression: sine curve with a tanh MLP"], epochs=2))
    last = _run(sine)[-1]
    assert isinstance(last[3], Figure) and last[4] is None  # no confusion matrix for regression
    fm = _with(dataset="fashion_mnist", hidden="32", epochs=1, batch_size=256)
    last = _run(fm)[-1]
    assert "epoch **1/1**" in last[0] and isinstance(last[3], Figure) and isinstance(last[4], Figure)


def test_a_too_large_step_does_not_say_finished_fine():
    status = _run(_with(optimizer="SGD", lr=10.0, epochs=20))[-1][0]
    assert "✅" not in status and "did not learn" in status


def test_diverging_run_stops_and_says_so():
    args = _with(dataset="sine", hidden="3x64", optimizer="SGD", lr=9.0, batch_size=16, epochs=50)
    last = _run(args)[-1]
    assert "diverged" in last[0].lower() and "learning rate" in last[0]
    assert last[-1]["runs"][0].status == "diverged"


def test_stop_button_stops_the_users_run_and_says_so():
    req = SimpleNamespace(session_hash="abc")
    assert "Nothing" in tab.stop_training(request=req)
    gen = tab.train(*_with(epochs=400), None, req)
    next(gen), next(gen)  # started
    assert "Stopping" in tab.stop_training(request=req)
    last = list(gen)[-1]
    assert "stopped" in last[0] and "Stopped" in last[0] and last[-1]["runs"][0].status == "stopped"
    assert not tab.STOPS.is_running(req, "train")


def test_gradio_hands_the_request_to_train_so_stop_finds_the_run():
    from gradio import routes
    from gradio.helpers import special_args

    req = routes.Request(username=None, session_hash="s1")
    inputs, *_ = special_args(tab.train, [*tab.D, None], request=req)
    assert len(inputs) == len(tab.NAMES) + 2 and inputs[-1].session_hash == "s1"


def test_first_open_trains_the_default_and_says_what_it_is():
    out = tab.first_run(*tab.D, None)
    assert "default example, trained when you opened the tab" in out[0]
    assert all(isinstance(f, Figure) for f in out[1:7])


@pytest.mark.parametrize("args,fragment", tab.ENDPOINTS[0].bad)
def test_bad_input_is_a_clear_error_before_anything_runs(args, fragment):
    gen = tab.train(*args, None, None)
    with pytest.raises(gr.Error) as info:
        first = next(gen)
        if "exceed" not in fragment and "image data" not in fragment:
            pytest.fail(f"a frame was shown before the error: {first[0]!r}")
        list(gen)
    assert fragment in str(info.value.message)


@pytest.mark.parametrize("junk", [None, [1, 2], {"a": 1}, "x" * 100_000, float("nan"), "🙂", 2.5, -1])
def test_junk_in_every_field_is_refused_naming_the_field(junk):
    for i, f in enumerate(SPEC_FIELDS):
        if f.name in ("lr", "clip_grad_norm") and junk == 2.5:
            continue  # a valid value there
        args = list(tab.D)
        args[i] = junk
        with pytest.raises(gr.Error) as info:
            next(tab.train(*args, None, None))
        msg = info.value.message
        assert "Internal error" not in msg and f.metadata["ui"].label.lower() in msg.lower(), (f.name, junk, msg)


def test_build_imports_no_torch_and_creates_the_tab():
    code = ("import sys, gradio as gr, apps.train as t\nwith gr.Blocks() as d:\n    t.build()\n"
            "print(sorted(m for m in ('torch', 'sklearn', 'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.stdout.strip() == "[]", out.stderr[-2000:]
    with gr.Blocks() as demo:
        tab.build()
    fns = {d.api_name for d in demo.fns.values()}
    assert {"train", "train_stop", "train_clear_runs"} <= fns
    assert len(open(tab.__file__, encoding="utf-8").read().splitlines()) <= 350


class _Clock:
    def __init__(self, dt):
        self.t, self.dt = 0.0, dt

    def __call__(self):
        self.t += self.dt
        return self.t
