"""Surfaces, filter normalisation, the trajectory engine's bookkeeping and the warm-up comparison."""

from __future__ import annotations

import math
import threading

import pytest
import torch
from torch.func import functional_call
from torch.testing import assert_close

from dlcore.optim_viz import (TrajectoryConfig, compare_warmup, filter_norms, get_surface, normalize_direction,
                              random_direction, run_optimizers, surface_grid)
from dlcore.optim_viz.names import SEED_SIX, SURFACE_NAMES, SURFACES
from dlcore.optim_viz.surfaces import NOISE_SIGMA, QUADRATIC_A, noise_table, tiny_net_parts
from dlcore.optim_viz.trajectories import RunSpec
from dlcore.optim_viz.warmup import WarmupConfig
from dlcore.train.schedules import seed_lr_lambda


def test_registry_and_minima() -> None:
    assert tuple(SURFACES) == SURFACE_NAMES
    for name in SURFACE_NAMES:
        if name == "tiny_net":
            continue
        s = get_surface(name)
        for m in SURFACES[name].minima:
            assert float(s.expected(torch.tensor([m], dtype=torch.float64))[0]) == pytest.approx(0.0, abs=1e-12)
        g = surface_grid(s, 30)
        assert g.loss.shape == (30, 30) and bool(torch.isfinite(g.loss).all())


def test_noisy_quadratic_gradient_is_A_theta_plus_noise() -> None:
    s = get_surface("noisy_quadratic")
    th = torch.tensor([[0.5, -1.0]], dtype=torch.float64, requires_grad=True)
    for t in (0, 7):
        g, = torch.autograd.grad(s.loss(th, t).sum(), th)
        assert_close(g[0], QUADRATIC_A @ th[0].detach() + NOISE_SIGMA * noise_table(0)[t])


@pytest.mark.parametrize("name", SURFACE_NAMES)
def test_value_and_grad_equals_autograd_of_the_loss(name: str) -> None:
    """The race's gradients (hand-derived where a surface has them) are autograd's, at points all over
    the plot box and at every kind of step (the noisy quadratic's noise changes with it)."""
    s = get_surface(name)
    x0, x1, y0, y1 = s.info.box
    gen = torch.Generator().manual_seed(5)
    th = torch.rand(40, 2, generator=gen, dtype=torch.float64)
    th = torch.stack((x0 + (x1 - x0) * th[:, 0], y0 + (y1 - y0) * th[:, 1]), 1)
    assert (s.closed_grad is None) == (name == "tiny_net")
    for step in (0, 3, 1999):
        ref = th.clone().requires_grad_(True)
        f = s.loss(ref, step)
        g, = torch.autograd.grad(f.sum(), ref)
        v, dv = s.value_and_grad(th, step)
        assert v.shape == (40,) and dv.shape == (40, 2) and not v.requires_grad and not dv.requires_grad
        assert_close(v, f.detach(), rtol=1e-12, atol=1e-12)
        assert_close(dv, g, rtol=1e-10, atol=1e-10)
        assert float(g.abs().max()) > 1e-3  # not a flat, vacuous check


def test_filter_normalisation_preserves_each_filters_norm() -> None:
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.BatchNorm2d(8), torch.nn.ReLU(), torch.nn.Flatten(),
                              torch.nn.Linear(8 * 4 * 4, 5))
    params = {n: p.detach() for n, p in net.named_parameters()}
    d = random_direction(params, seed=3)
    for n, w in params.items():
        if w.dim() <= 1:  # biases and BatchNorm: zero direction (Li et al.'s biasbn)
            assert torch.count_nonzero(d[n]) == 0
        else:
            assert_close(filter_norms(d[n]), filter_norms(w), rtol=1e-5, atol=1e-6)
    assert torch.equal(random_direction(params, seed=3)["0.weight"], d["0.weight"])  # seeded
    lay = normalize_direction(torch.randn(4, 6), params["4.weight"][:4, :6].clone(), "layer")
    assert math.isclose(float(lay.norm()), float(params["4.weight"][:4, :6].norm()), rel_tol=1e-5)
    with pytest.raises(ValueError, match="normalisation"):
        random_direction(params, norm="unit")  # type: ignore[arg-type]


def test_tiny_net_slice_is_the_real_network() -> None:
    """The batched slice equals the trained network run by torch.func.functional_call at θ* + a·d₁ + b·d₂."""
    s = get_surface("tiny_net")
    parts = tiny_net_parts()
    ab = torch.tensor([[0.0, 0.0], [0.3, -0.7], [-1.2, 1.1]], dtype=torch.float64)
    ref = []
    for a, b in ab:
        p = {n: w + a * parts["d1"][n] + b * parts["d2"][n] for n, w in parts["base"].items()}
        ref.append(torch.nn.functional.cross_entropy(functional_call(parts["net"], p, (parts["x"],)), parts["y"]))
    assert_close(s.expected(ab), torch.stack(ref), atol=1e-12, rtol=1e-12)
    assert float(s.expected(ab[:1])[0]) < 0.1  # θ* is trained
    for n, w in parts["base"].items():  # the directions are filter-normalised
        if w.dim() > 1:
            assert_close(filter_norms(parts["d1"][n]), filter_norms(w))


def test_divergence_is_marked_and_the_rest_go_on() -> None:
    cfg = TrajectoryConfig(start=(-2.5, 2.0), steps=100, lr_sgd=0.09, lr_adaptive=0.05)
    tr = run_optimizers(get_surface("ill_conditioned"), [RunSpec("SGD"), RunSpec("Adam")], cfg)
    assert tr.diverged_at[0] is not None and tr.diverged_at[1] is None  # η > 2/25: SGD blows up along λ = 25
    assert bool(torch.isfinite(tr.points).all())
    ok = run_optimizers(get_surface("ill_conditioned"), [RunSpec("SGD")], TrajectoryConfig(steps=100, lr_sgd=0.07))
    assert ok.diverged_at == [None] and float(ok.loss[0, -1]) < 1e-2


def test_stop_event_ends_the_run() -> None:
    ev = threading.Event()
    ev.set()
    tr = run_optimizers(get_surface("saddle"), [RunSpec("SGD")], TrajectoryConfig(steps=500), stop=ev)
    assert tr.stopped_at == 1
    assert torch.equal(tr.points[0, 2], tr.points[0, -1])


def test_the_saddle_lesson() -> None:
    """What the saddle's lesson says: from just off w₁ = −w₂ everyone comes close to the saddle, and momentum
    leaves it sooner than plain SGD."""
    tr = run_optimizers(get_surface("saddle"), [RunSpec(n) for n in SEED_SIX], TrajectoryConfig(steps=300))
    closest = tr.points.norm(dim=-1).min(dim=1).values
    assert bool((closest < 0.2).all())
    first = [int((tr.loss[k] < 1e-2).nonzero()[0]) if bool((tr.loss[k] < 1e-2).any()) else 10 ** 9
             for k in range(len(SEED_SIX))]
    assert first[SEED_SIX.index("Momentum")] < first[SEED_SIX.index("SGD")] < 300


def test_warmup() -> None:
    s = get_surface("rosenbrock")
    c = compare_warmup(s, TrajectoryConfig(lr_adaptive=0.02), WarmupConfig(warmup_steps=20, steps=200))
    labels = c.traj.labels
    assert len(labels) == 4
    # no warm-up: the first step is η·sign(g₁), length η·√2 (both components of g₁ are non-zero here)
    assert math.isclose(float(c.first_step[0]), c.adam_first_bound, rel_tol=1e-6)
    # with warm-up the first η is 0 (LambdaLR's factor at step 0) and the early steps stay shorter
    assert float(c.first_step[1]) == 0.0 and float(c.early_max[1]) < float(c.early_max[0])
    # the notes' lr_lambda, exactly
    expect = torch.tensor([0.02 * seed_lr_lambda(t, 20, 200) for t in range(200)], dtype=torch.float64)
    assert_close(c.traj.lrs[2], expect)
    with pytest.raises(ValueError, match="warm-up steps"):
        compare_warmup(s, None, WarmupConfig(warmup_steps=500, steps=200))
