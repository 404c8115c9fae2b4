"""Nadaraya–Watson equals the notes' formula; the learned w through the Trainer equals d2l's plain loop."""

from __future__ import annotations

import math
import threading

import pytest
import torch

from dlcore.attention.names import KERNELS
from dlcore.attention.pooling import (ParametricConfig, ParametricPooling, ParametricRun, nadaraya_watson, nw_data,
                                      train_parametric)


@pytest.fixture(scope="module")
def data():
    return nw_data()


def test_data_is_d2l_toy_and_seeded(data):
    assert data.x_train.shape == (50,) and bool((data.x_train[1:] >= data.x_train[:-1]).all())
    assert 0 <= float(data.x_train.min()) and float(data.x_train.max()) < 5
    torch.testing.assert_close(data.x_test, torch.arange(0, 5, 0.1))
    torch.testing.assert_close(data.y_truth, 2 * torch.sin(data.x_test) + data.x_test ** 0.8)
    assert torch.equal(nw_data().y_train, data.y_train) and not torch.equal(nw_data(seed=1).y_train, data.y_train)
    assert torch.equal(nw_data(noise=0.0).y_train, 2 * torch.sin(nw_data(noise=0.0).x_train) +
                       nw_data(noise=0.0).x_train ** 0.8)


def test_gaussian_nw_is_the_notes_formula(data):
    """f(x) = Σ_i K(x − x_i) / Σ_j K(x − x_j) y_i with K(u) = exp(−u²/2)/√(2π), summed by hand."""
    r = nadaraya_watson(data.x_test, data.x_train, data.y_train, width=1.0)
    x, xi, yi = data.x_test.double(), data.x_train.double(), data.y_train.double()
    kern = torch.exp(-(x[:, None] - xi[None, :]) ** 2 / 2) / math.sqrt(2 * math.pi)
    torch.testing.assert_close(r.prediction.double(), (kern / kern.sum(1, keepdim=True)) @ yi, atol=1e-5, rtol=0)
    torch.testing.assert_close(r.weights.sum(1), torch.ones(50))
    assert r.uncovered == 0


def test_kernel_width_trades_bias_for_variance(data):
    """A very wide kernel predicts the mean of y (the notes' average pooling); a narrow one follows the points."""
    wide = nadaraya_watson(data.x_test, data.x_train, data.y_train, width=1e4)
    torch.testing.assert_close(wide.prediction, data.y_train.mean().expand(50), atol=1e-4, rtol=0)
    narrow = nadaraya_watson(data.x_train, data.x_train, data.y_train, width=1e-3)
    torch.testing.assert_close(narrow.prediction, data.y_train, atol=1e-4, rtol=0)


@pytest.mark.parametrize("kernel", KERNELS)
def test_every_kernel_gives_weights_that_sum_to_one_where_covered(kernel, data):
    r = nadaraya_watson(data.x_test, data.x_train, data.y_train, width=0.3, kernel=kernel)
    covered = ~torch.isnan(r.weights).any(1)
    assert int((~covered).sum()) == r.uncovered
    torch.testing.assert_close(r.weights[covered].sum(1), torch.ones(int(covered.sum())))
    assert bool((r.weights[covered] >= 0).all())
    if kernel != "gaussian":  # compact support: keys farther than the width get weight 0
        far = (data.x_test[:, None] - data.x_train[None, :]).abs() > 0.3
        assert bool((r.weights[covered][far[covered]] == 0).all())


def test_bad_widths_and_shapes(data):
    for bad in (0, -1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="kernel width"):
            nadaraya_watson(data.x_test, data.x_train, data.y_train, width=bad)
    with pytest.raises(ValueError, match="same shape"):
        nadaraya_watson(data.x_test, data.x_train, data.y_train[:3])
    with pytest.raises(ValueError, match="kernel 'cosine' is unknown"):
        nadaraya_watson(data.x_test, data.x_train, data.y_train, kernel="cosine")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="training points 1"):
        nw_data(1)


def _d2l_plain_loop(data, w0: float, epochs: int, lr: float) -> list[tuple[float, float]]:
    """d2l §10.2's code: keys/values without the diagonal, bmm, summed squared error, SGD."""
    n = len(data.x_train)
    off = (1 - torch.eye(n)).bool()
    keys = data.x_train.repeat((n, 1))[off].reshape(n, -1)
    values = data.y_train.repeat((n, 1))[off].reshape(n, -1)
    w = torch.nn.Parameter(torch.tensor([w0]))
    opt = torch.optim.SGD([w], lr=lr)
    out = []
    for _ in range(epochs):
        opt.zero_grad()
        q = data.x_train.repeat_interleave(n - 1).reshape(-1, n - 1)
        a = torch.softmax(-((q - keys) * w) ** 2 / 2, dim=1)
        loss = ((torch.bmm(a.unsqueeze(1), values.unsqueeze(-1)).reshape(-1) - data.y_train) ** 2).sum()
        loss.backward()
        opt.step()
        out.append((loss.item(), w.item()))
    return out


def test_trainer_run_equals_d2l_plain_loop_step_for_step(data):
    *frames, run = list(train_parametric(data))
    assert isinstance(run, ParametricRun) and run.status == "finished" and len(frames) == 5
    plain = _d2l_plain_loop(data, run.w0, 5, 0.5)
    for f, (loss, w) in zip(frames, plain):
        assert f.loss == pytest.approx(loss, rel=1e-5) and f.w == pytest.approx(w, rel=1e-5)
    # the learned w fits the truth better than the notes' fixed width σ = 1 (w = 1)
    nw = nadaraya_watson(data.x_test, data.x_train, data.y_train, 1.0).prediction
    assert float(((run.prediction - data.y_truth) ** 2).mean()) < float(((nw - data.y_truth) ** 2).mean())
    assert run.weights.shape == (50, 50) and run.w > 1


def test_leave_one_out_and_the_w0_option(data):
    m = ParametricPooling(data.x_train, data.y_train, w=5.0)
    with torch.no_grad():
        m(data.x_train)
    assert bool((m.last_weights.diagonal() == 0).all())  # a point is never its own key
    *_, run = list(train_parametric(data, ParametricConfig(epochs=2, w0=3.0)))
    assert run.w0 == 3.0 and len(run.frames) == 2


def test_stop_event_stops_after_the_current_step(data):
    stop = threading.Event()
    seen = []
    for item in train_parametric(data, ParametricConfig(epochs=50), callback=seen.append, stop_event=stop):
        if len(seen) == 3:
            stop.set()
    # the step under way when the event is set still finishes (the Trainer checks after each step)
    assert item.status == "stopped" and len(item.frames) == 4  # type: ignore[union-attr]


@pytest.mark.parametrize("kw,fragment", [({"epochs": 0}, "epochs 0"), ({"epochs": 501}, "epochs 501"),
                                         ({"lr": 0.0}, "learning rate"), ({"lr": float("nan")}, "learning rate"),
                                         ({"w0": 1e9}, "initial w")])
def test_bad_training_settings(kw, fragment, data):
    with pytest.raises(ValueError, match=fragment):
        next(train_parametric(data, ParametricConfig(**kw)))
