"""The zoo CNN's loss landscape (Li et al. 2018): filter normalisation on the real network, the centre is
the model's own loss, seeded directions reproduce, and the fast in-place grid equals a naive loop that
copies the weights into a fresh model at every point."""

from __future__ import annotations

import copy
import threading

import pytest
import torch
from torch import nn
from torch.testing import assert_close

from dlcore.optim_viz.directions import filter_norms, model_params
from dlcore.optim_viz.landscape import (LandscapeConfig, compute_landscape, grid_coords, iter_landscape,
                                        landscape_directions, zoo_landscape)


@pytest.fixture(scope="module")
def zoo_cnn() -> tuple[str, nn.Module, torch.Tensor, torch.Tensor]:
    from dlcore import zoo

    name, model, split = zoo.image_classifier("cnn")
    return name, model, split.x_test[:40], split.y_test[:40]


def test_filter_normalisation_preserves_each_filters_norm_on_the_zoo_cnn(zoo_cnn) -> None:
    _, model, _, _ = zoo_cnn
    params = model_params(model)
    for d in landscape_directions(params, seed=5):
        for n, w in params.items():
            if w.dim() > 1:  # a conv kernel (C_in, k, k) or a linear row per output unit
                assert_close(filter_norms(d[n]), filter_norms(w), rtol=1e-5, atol=1e-7)
            else:            # biases and BatchNorm γ/β do not move (Li et al.'s biasbn)
                assert not d[n].any(), n


def test_seeded_directions_reproduce_and_differ_by_seed(zoo_cnn) -> None:
    params = model_params(zoo_cnn[1])
    a1, a2 = landscape_directions(params, 7)
    b1, b2 = landscape_directions(params, 7)
    c1, _ = landscape_directions(params, 8)
    for n in params:
        assert torch.equal(a1[n], b1[n]) and torch.equal(a2[n], b2[n])
    w = "block2.0.weight"
    assert not torch.equal(a1[w], a2[w]) and torch.equal(c1[w], a2[w])  # d₂ of seed s is d₁ of seed s + 1


def test_the_centre_is_the_models_own_loss(zoo_cnn) -> None:
    name, model, x, y = zoo_cnn
    before = {n: p.clone() for n, p in model.state_dict().items()}
    land = compute_landscape(model, x, y, LandscapeConfig(grid=3, n_images=40, seed=1), name=name)
    with torch.no_grad():
        own = float(nn.functional.cross_entropy(model(x), y))
    assert land.complete and land.center_loss == pytest.approx(own, rel=1e-5)
    assert land.own_loss == pytest.approx(own, rel=1e-6)
    assert torch.isfinite(land.loss).all() and (land.loss >= land.center_loss - 1e-6).sum() >= 7
    for n, p in model.state_dict().items():  # the shared zoo model was never touched
        assert torch.equal(p, before[n]), n


class _Tiny(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                                 nn.Flatten(), nn.Dropout(0.5), nn.Linear(4 * 4 * 4, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def test_a_3x3_grid_equals_a_naive_loop_that_copies_weights() -> None:
    torch.manual_seed(0)
    model = _Tiny()
    model.train()
    with torch.no_grad():
        model(torch.randn(64, 1, 8, 8))  # move the BatchNorm running statistics off their defaults
    model.eval()
    x, y = torch.randn(30, 1, 8, 8), torch.randint(0, 3, (30,))
    cfg = LandscapeConfig(grid=3, span=0.5, n_images=30, seed=4)
    land = compute_landscape(model, x, y, cfg)
    base = model_params(model)
    d1, d2 = landscape_directions(base, cfg.seed)
    coords = grid_coords(3, 0.5)
    assert coords.tolist() == [-0.5, 0.0, 0.5]
    for i, b in enumerate(coords.tolist()):
        for j, a in enumerate(coords.tolist()):
            m = copy.deepcopy(model)
            sd = m.state_dict()
            sd.update({n: base[n] + a * d1[n] + b * d2[n] for n in base})
            m.load_state_dict(sd)
            m.eval()
            with torch.no_grad():
                out = m(x)
            assert land.loss[i, j] == pytest.approx(float(nn.functional.cross_entropy(out, y)), rel=1e-5, abs=1e-6)
            assert land.acc[i, j] == pytest.approx(float((out.argmax(1) == y).double().mean()))
    assert model.training is False and torch.equal(model_params(model)["net.0.weight"], base["net.0.weight"])


def test_rows_stream_and_a_stop_leaves_nan_rows() -> None:
    torch.manual_seed(1)
    model = _Tiny().eval()
    x, y = torch.randn(12, 1, 8, 8), torch.randint(0, 3, (12,))
    frames = [f.rows for f in iter_landscape(model, x, y, LandscapeConfig(grid=5, n_images=12))]
    assert frames == [0, 1, 2, 3, 4, 5]
    stop = threading.Event()
    gen = iter_landscape(model, x, y, LandscapeConfig(grid=5, n_images=12), stop=stop)
    next(gen)
    first = next(gen)
    stop.set()
    last = list(gen)[-1]
    assert first.rows == 1 and first.done == 5 and last.stopped and not last.complete and torch.isnan(last.loss[1:]).all()


def _naive(model: nn.Module, theta: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """The module itself with θ loaded into a fresh copy (the reference for the fast paths)."""
    m = copy.deepcopy(model)
    m.load_state_dict({**m.state_dict(), **theta})
    with torch.no_grad():
        return m.eval()(x)


@pytest.mark.parametrize("name", ["fmnist_cnn", "digits_cnn"])
def test_the_rewritten_forward_equals_the_module_at_moved_weights(name: str) -> None:
    """CNNForward (BatchNorm folded, ReLU after the pool, conv1+pool as four GEMMs) is the same
    function as SmallCNN in eval mode, at θ* and far from it, with the batch split into chunks."""
    from dlcore import zoo
    from dlcore.optim_viz.cnnforward import CNNForward

    model = zoo.get(name).eval()
    x = zoo.load_data(name).x_test[:150]
    base = model_params(model)
    d1, d2 = landscape_directions(base, 3)
    fwd = CNNForward(model, x, chunk=64)                       # 150 = 64 + 64 + 22: a ragged last chunk
    for a, b in [(0.0, 0.0), (0.7, -0.4), (-2.0, 1.5)]:
        theta = {n: base[n] + a * d1[n] + b * d2[n] for n in base}
        ref = _naive(model, theta, x)
        assert_close(fwd(theta), ref, rtol=1e-4, atol=1e-4 * float(ref.abs().max()))
    assert not CNNForward.supports(_Tiny())
    with pytest.raises(TypeError, match="_Tiny is not a SmallCNN"):
        CNNForward(_Tiny(), x)


def test_the_zoo_cnn_grid_with_two_workers_equals_the_naive_loop(zoo_cnn) -> None:
    name, model, x, y = zoo_cnn
    cfg = LandscapeConfig(grid=3, span=1.0, n_images=40, seed=2)
    land = compute_landscape(model, x, y, cfg, name=name, workers=2)
    one = compute_landscape(model, x, y, cfg, name=name, workers=1)
    assert_close(land.loss, one.loss, rtol=0, atol=0) and land.done == 9
    base = model_params(model)
    d1, d2 = landscape_directions(base, cfg.seed)
    for i, b in enumerate(land.ys.tolist()):
        for j, a in enumerate(land.xs.tolist()):
            out = _naive(model, {n: base[n] + a * d1[n] + b * d2[n] for n in base}, x)
            assert land.loss[i, j] == pytest.approx(float(nn.functional.cross_entropy(out, y)), rel=1e-4)
            assert land.acc[i, j] == pytest.approx(float((out.argmax(1) == y).double().mean()))


def test_a_stop_with_two_workers_ends_after_the_row_in_progress(zoo_cnn) -> None:
    name, model, x, y = zoo_cnn
    stop = threading.Event()
    gen = iter_landscape(model, x, y, LandscapeConfig(grid=5, n_images=40), stop=stop, name=name, workers=2)
    next(gen)
    first = next(gen)
    stop.set()
    last = list(gen)[-1]
    # every point was queued at once: later rows may have run before the stop, but a stopped slice keeps whole rows
    assert first.rows == 1 and last.stopped and not last.complete and torch.isnan(last.loss[last.rows:]).all()
    assert torch.isfinite(last.loss[:last.rows]).all() and last.done == 5 * last.rows
    with pytest.raises(ValueError, match="workers 0 must be a whole number"):
        next(iter_landscape(model, x, y, LandscapeConfig(grid=3, n_images=40), workers=0))


@pytest.mark.parametrize("kw,msg", [({"grid": 4}, "must be odd"), ({"grid": 27}, "grid size 27"),
                                    ({"n_images": 5}, "images 5"), ({"seed": -1}, "direction seed -1"),
                                    ({"span": 0.0}, "span 0.0")])
def test_bad_settings_are_named(kw: dict, msg: str) -> None:
    with pytest.raises(ValueError, match=msg):
        LandscapeConfig(**kw).validate()


def test_zoo_landscape_caches_a_finished_run() -> None:
    cfg = LandscapeConfig(grid=3, n_images=10, seed=9)
    rows, last = [], None
    for last in zoo_landscape(cfg):
        rows.append(last.rows)
    again = list(zoo_landscape(cfg))
    assert rows == [0, 1, 2, 3] and len(again) == 1 and again[0].source == "cache"
    assert last is not None and torch.equal(again[0].loss, last.loss)


def test_the_figure_draws_partial_and_finished_slices_with_the_centre_marked() -> None:
    from dlcore.plotting.optim_viz import landscape_figure

    torch.manual_seed(2)
    model = _Tiny().eval()
    x, y = torch.randn(12, 1, 8, 8), torch.randint(0, 3, (12,))
    for land in iter_landscape(model, x, y, LandscapeConfig(grid=3, n_images=12)):
        fig = landscape_figure(land)
        ax = fig.axes[0]
        star = [ln for ln in ax.get_lines() if ln.get_marker() == "*"]
        assert len(star) == 1 and list(star[0].get_xdata()) == [0.0] and list(star[0].get_ydata()) == [0.0]
        assert ax.get_xlim() == (-1.0, 1.0) and "3×3 on 12 test images" in ax.get_title()
    assert len(fig.axes) == 2  # the finished slice has its colour bar


def test_the_bfloat16_forward_is_close_to_float32_and_the_grid_reports_its_check(zoo_cnn) -> None:
    """bfloat16 is not exact: its logits stay within a few % of float32 (loss within 1 %), and a
    finished bfloat16 grid measures its own distance from float32 at the centre and corners."""
    from dlcore.optim_viz.cnnforward import CNNForward, bf16_speedup

    name, model, x, y = zoo_cnn
    base = model_params(model)
    d1, d2 = landscape_directions(base, 4)
    exact, fast = CNNForward(model.eval(), x), CNNForward(model.eval(), x, dtype=torch.bfloat16)
    for a, b in [(0.0, 0.0), (0.6, -0.8)]:
        theta = {n: base[n] + a * d1[n] + b * d2[n] for n in base}
        ref, got = exact(theta), fast(theta)
        assert got.dtype == torch.float32
        assert_close(got, ref, rtol=0, atol=0.05 * float(ref.abs().max()))
        l_ref, l_got = (float(nn.functional.cross_entropy(o, y)) for o in (ref, got))
        assert l_got == pytest.approx(l_ref, rel=0.01)
    land = compute_landscape(model, x, y, LandscapeConfig(grid=3, n_images=40, precision="bfloat16"), name=name,
                             workers=2)
    one = compute_landscape(model, x, y, LandscapeConfig(grid=3, n_images=40), name=name)
    assert land.precision == "bfloat16" and one.precision == "float32" and one.check is None
    worst = float(((land.loss - one.loss).abs() / one.loss).max())
    assert land.check is not None and 0 <= land.check <= worst + 1e-12 and worst < 0.01  # 5 of the 9 points
    auto = compute_landscape(model, x, y, LandscapeConfig(grid=3, n_images=40, precision="auto"), name=name)
    assert auto.precision == ("bfloat16" if bf16_speedup() >= 1.5 else "float32")
    with pytest.raises(ValueError, match="precision 'half' is not one of float32, bfloat16, auto"):
        LandscapeConfig(precision="half").validate()
    with pytest.raises(ValueError, match="dtype torch.float16 is not one of float32, bfloat16"):
        CNNForward(model, x, dtype=torch.float16)
