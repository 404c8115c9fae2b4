"""SGD-momentum and Adam from one start (issue 15 item 4): the two runs really share θ₀, the batches and
the dropout masks (their first losses are equal to the bit), the line between the minima ends at each
minimum's own loss, each slice is centred on it, a run reproduces, Stop still measures, bad settings
are named."""

from __future__ import annotations

import threading

import pytest
import torch

from dlcore.optim_viz.minima import LINE_T, SHARP_A, MinimaConfig, _fresh, compare_minima

SMALL = MinimaConfig(steps=12, batch=32, n_train=200, n_eval=60, seed=3)


@pytest.fixture(scope="module")
def small():
    return compare_minima(SMALL)


def test_both_runs_start_from_one_point_on_the_same_batch(small) -> None:
    sgd, adam = small.runs
    assert (sgd.optimizer, adam.optimizer) == ("Momentum", "Adam") and sgd.label == "SGD-momentum"
    assert sgd.train_loss[0] == adam.train_loss[0]           # same θ₀, batch and dropout mask: the same loss
    assert not torch.equal(sgd.train_loss[1:], adam.train_loss[1:])   # then the optimizers part ways
    assert small.step == 12 and small.complete and not small.stopped and small.n_train == 200
    assert small.start_loss == pytest.approx(2.30, abs=0.1)  # a fresh 10-class net: about ln 10


def test_the_line_ends_at_each_minimum_and_each_slice_is_centred_on_it(small) -> None:
    sgd, adam = small.runs
    t = LINE_T.tolist()
    assert small.line[t.index(0.0)] == pytest.approx(sgd.test_loss, rel=1e-5)
    assert small.line[t.index(1.0)] == pytest.approx(adam.test_loss, rel=1e-5)
    for run in small.runs:
        assert run.sharp[SHARP_A.tolist().index(0.0)] == pytest.approx(run.test_loss, rel=1e-5)
        assert run.travelled > 0 and 0 <= run.test_acc <= 1 and run.sharpness == run.sharpness
    assert small.distance > 0 and small.barrier >= 0


def test_a_run_reproduces_and_leaves_the_global_rng_alone(small) -> None:
    torch.manual_seed(123)
    before = torch.get_rng_state()
    again = compare_minima(SMALL)
    assert torch.equal(torch.get_rng_state(), before)
    for a, b in zip(small.runs, again.runs):
        assert torch.equal(a.train_loss, b.train_loss) and a.test_loss == b.test_loss
    assert torch.equal(small.line, again.line)


def test_the_fresh_start_is_seeded_and_trainable() -> None:
    from dlcore import zoo

    _, model, _ = zoo.image_classifier("cnn")
    a, b, c = _fresh(model, 1), _fresh(model, 1), _fresh(model, 2)
    w = "block2.0.weight"
    assert torch.equal(a.state_dict()[w], b.state_dict()[w]) and not torch.equal(a.state_dict()[w], c.state_dict()[w])
    assert all(p.requires_grad for p in a.parameters())
    fan_in = a.block2[0].weight[0].numel()
    assert float(a.block2[0].weight.detach().abs().max()) <= fan_in ** -0.5  # torch's default U(±1/√fan_in)
    assert not torch.equal(a.state_dict()[w], model.state_dict()[w])


def test_a_stop_ends_training_and_still_measures() -> None:
    stop = threading.Event()
    seen = []

    def progress(r):
        seen.append(r.step)
        if r.step >= 10:
            stop.set()

    res = compare_minima(MinimaConfig(steps=40, batch=16, n_train=100, n_eval=50), stop, progress, every=5)
    assert res.stopped and res.step == 10 and res.complete and seen[:2] == [5, 10]
    assert torch.isnan(res.runs[0].train_loss[10:]).all()


@pytest.mark.parametrize("kw,msg", [({"steps": 5}, "steps 5"), ({"batch": 1000}, "batch size 1000"),
                                    ({"n_eval": 10}, "test images 10"), ({"sgd_lr": 0.0}, "SGD learning rate 0.0"),
                                    ({"adam_lr": 3}, "Adam learning rate 3"), ({"seed": True}, "seed True")])
def test_bad_settings_are_named(kw: dict, msg: str) -> None:
    with pytest.raises(ValueError, match=msg):
        MinimaConfig(**kw).validate()


def test_the_figure_streams_then_shows_the_line_and_slices(small) -> None:
    import dataclasses

    from dlcore.plotting.optim_viz import minima_figure

    partial = dataclasses.replace(small, step=6, line=None)
    fig = minima_figure(partial)
    assert len(fig.axes) == 3 and "step 6/12" in fig.axes[0].get_title() and not fig.axes[1].get_lines()
    fig = minima_figure(small)
    assert len(fig.axes[1].get_lines()) == 3 and len(fig.axes[2].get_lines()) == 2
    assert "SGD-momentum" in fig.axes[2].get_legend().get_texts()[0].get_text()


def test_a_run_of_ten_steps_or_fewer_still_draws_its_training_loss(small) -> None:
    """The curve is a running mean of 10: ten steps made one point, and a one-point line drew nothing."""
    import dataclasses

    from dlcore.plotting.optim_viz import minima_figure

    for step in (1, 6, 10):
        fig = minima_figure(dataclasses.replace(small, step=step, line=None))
        lines = fig.axes[0].get_lines()
        assert len(lines) == 2 and all(len(ln.get_xdata()) == 1 and ln.get_marker() == "o" for ln in lines)
        assert f"mean of {step}" in fig.axes[0].get_ylabel()
        want = float(small.runs[0].train_loss[:step].mean())
        assert float(lines[0].get_ydata()[0]) == pytest.approx(want, rel=1e-6)
    lines = minima_figure(small).axes[0].get_lines()                # 12 steps: a 3-point line, no markers
    assert [len(ln.get_xdata()) for ln in lines] == [3, 3] and lines[0].get_marker() in ("None", None, "")
    assert "mean of 10" in minima_figure(small).axes[0].get_ylabel()
