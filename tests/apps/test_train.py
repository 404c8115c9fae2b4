"""The "Train a network" tab's handlers, called directly (the API harness covers the server)."""

from types import SimpleNamespace

import gradio as gr
import pytest
from matplotlib.figure import Figure

from apps import train as tab
from dlcore.train.playground import PRESETS, PlaygroundSpec


def _run(args, runs=None, request=None):
    return list(tab.train(*args, runs or [], request=request))


def test_default_example_equals_the_initial_values_and_finishes():
    assert tab.ENDPOINTS[0].examples[0] == tab._defaults() == tab._spec_args(PlaygroundSpec())
    frames = _run(tab._D)
    assert len(frames) >= 2
    status, curves, lr, grads, view, confusion, compare, runs = frames[-1]
    assert "finished" in status and "30/30" in status
    assert all(isinstance(f, Figure) for f in (curves, lr, grads, view, confusion, compare))
    assert len(runs) == 1 and runs[0]["status"] == "finished" and len(runs[0]["curves"][1]) == 30
    # the first frame comes before any training: status + planned schedule, no confusion matrix yet
    assert "preparing" in frames[0][0]
    assert "epoch **0/30**" in frames[1][0] and isinstance(frames[1][2], Figure)
    assert frames[1][1] is None and frames[1][5] is None


def test_runs_are_kept_for_comparison_and_capped():
    args = [*tab._D[:12], 1, *tab._D[13:]]  # 1 epoch
    runs: list = []
    for _ in range(tab.MAX_RUNS + 2):
        runs = _run(args, runs)[-1][-1]
    assert len(runs) == tab.MAX_RUNS
    assert [r["n"] for r in runs] == list(range(3, tab.MAX_RUNS + 3))
    assert tab.clear_runs()[:2] == ([], None)


def test_regression_and_images_views():
    sine = tab._spec_args(PRESETS["Regression: sine curve with a tanh MLP"])
    sine[12] = 2
    last = _run(sine)[-1]
    assert isinstance(last[4], Figure) and last[5] is None  # no confusion matrix for regression
    fm = tab._spec_args(PlaygroundSpec(dataset="fashion_mnist", hidden="32", epochs=1, batch_size=256))
    last = _run(fm)[-1]
    assert "finished" in last[0] and isinstance(last[4], Figure) and isinstance(last[5], Figure)


def test_diverging_run_stops_and_says_so():
    args = ["sine", "3x64", "relu", False, 0.0, False, "SGD", 9.0, "constant", 0, 0.0, 16, 50, 0.0, 0, "mlp"]
    last = _run(args)[-1]
    assert "diverged" in last[0].lower() and "learning rate" in last[0]
    assert last[-1][0]["status"] == "diverged"


def test_stop_button_stops_the_users_run():
    req = SimpleNamespace(session_hash="abc")
    assert "Nothing" in tab.stop_training(req)
    args = [*tab._D[:12], 400, *tab._D[13:]]
    gen = tab.train(*args, [], request=req)
    next(gen), next(gen)  # started
    assert "Stopping" in tab.stop_training(req)
    last = list(gen)[-1]
    assert "stopped" in last[0] and last[-1][0]["status"] == "stopped"
    assert "abc" not in tab._STOP


@pytest.mark.parametrize("args,fragment", tab.ENDPOINTS[0].bad)
def test_bad_input_is_a_clear_error(args, fragment):
    with pytest.raises(gr.Error) as info:
        _run(args)
    assert fragment in str(info.value.message)


def test_build_creates_the_tab():
    with gr.Blocks() as demo:
        tab.build()
    fns = {d.api_name for d in demo.fns.values()} if isinstance(demo.fns, dict) else {d.api_name for d in demo.fns}
    assert {"train", "train_stop", "train_clear_runs"} <= fns


def test_long_epochs_stream_progress_text(monkeypatch):
    monkeypatch.setattr(tab.time, "perf_counter", _Clock())  # every reading is 0.6 s later
    args = tab._spec_args(PlaygroundSpec(epochs=1, batch_size=4))  # 75 steps in one epoch
    frames = _run(args)
    texts = [f for f in frames if "step loss" in f[0]]
    assert texts and all(isinstance(v, type(gr.skip())) or v == gr.skip() for f in texts for v in f[1:])


class _Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        self.t += 0.6
        return self.t
