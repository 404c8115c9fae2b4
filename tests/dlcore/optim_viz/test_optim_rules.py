"""Every hand-written update rule, and every trajectory of the lab, equals torch.optim.

The oracle is ``torch.optim`` built here with explicit hyper-parameters (not through the registry),
stepped on the same surface from the same start with the same gradients (a rounding-level difference
in a gradient near zero becomes a visible one after RMSprop divides by its scale); the lab's trajectories go through the registry
(:func:`dlcore.train.optim.make_optimizer`) and ``apply_betas``, the hand rules through
:func:`dlcore.optim_viz.rules.hand_step`, chained for 100 steps.
"""

from __future__ import annotations

import math

import pytest
import torch
from torch.testing import assert_close

from dlcore.optim_viz import RULES, TrajectoryConfig, get_surface, hand_step, run_optimizers, worked_step
from dlcore.optim_viz.names import OPTIMIZER_NAMES, SEED_SIX
from dlcore.optim_viz.trajectories import RunSpec
from dlcore.train.schedules import ScheduleConfig

STEPS = 100


def oracle(name: str, p: torch.nn.Parameter, lr: float, b1: float, b2: float, alpha: float, wd: float
           ) -> torch.optim.Optimizer:
    """torch.optim with every hyper-parameter spelled out (the lab's settings for ``name``)."""
    return {
        "SGD": lambda: torch.optim.SGD([p], lr=lr),
        "Momentum": lambda: torch.optim.SGD([p], lr=lr, momentum=b1),
        "Nesterov": lambda: torch.optim.SGD([p], lr=lr, momentum=b1, nesterov=True),
        "Adagrad": lambda: torch.optim.Adagrad([p], lr=lr, eps=1e-10),
        "RMSprop": lambda: torch.optim.RMSprop([p], lr=lr, alpha=alpha, eps=1e-8),
        "Adam": lambda: torch.optim.Adam([p], lr=lr, betas=(b1, b2), eps=1e-8),
        "AdamW": lambda: torch.optim.AdamW([p], lr=lr, betas=(b1, b2), eps=1e-8, weight_decay=wd),
        "RAdam": lambda: torch.optim.RAdam([p], lr=lr, betas=(b1, b2), eps=1e-8),
    }[name]()


def torch_path(surface: str, name: str, start: tuple[float, float], steps: int, **h: float) -> torch.Tensor:
    s = get_surface(surface)
    p = torch.nn.Parameter(torch.tensor(start, dtype=torch.float64))
    opt = oracle(name, p, **h)
    out = [p.detach().clone()]
    for t in range(steps):
        p.grad = s.value_and_grad(p.detach()[None], t)[1][0]  # the race's gradient (== autograd: test_optim_surfaces)
        opt.step()
        out.append(p.detach().clone())
    return torch.stack(out)  # (T+1, 2)


CASES = [  # surface, start, lr (SGD family), lr (adaptive), β₁, β₂, RMSprop α, AdamW λ
    ("rosenbrock", (-1.5, 2.5), 5e-4, 0.02, 0.9, 0.999, 0.99, 0.01),
    ("beale", (1.0, 1.4), 3e-3, 0.05, 0.8, 0.99, 0.9, 0.1),
    ("saddle", (1.0, -0.999), 0.05, 0.05, 0.5, 0.9, 0.5, 0.0),
    ("noisy_quadratic", (-2.5, 2.0), 0.05, 0.05, 0.95, 0.999, 0.99, 0.01),
    ("ill_conditioned", (-2.5, 2.0), 0.04, 0.1, 0.9, 0.999, 0.99, 0.01),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_every_trajectory_equals_torch_optim(case: tuple) -> None:
    surface, start, lr_sgd, lr_ad, b1, b2, alpha, wd = case
    cfg = TrajectoryConfig(start=start, steps=STEPS, lr_sgd=lr_sgd, lr_adaptive=lr_ad, beta1=b1, beta2=b2,
                           rmsprop_alpha=alpha, adamw_weight_decay=wd)
    names = [n for n in OPTIMIZER_NAMES if not (n == "RAdam" and surface in ("rosenbrock", "beale"))]  # diverges
    tr = run_optimizers(get_surface(surface), [RunSpec(n) for n in names], cfg)
    assert tr.diverged_at == [None] * len(names)
    for k, n in enumerate(names):
        lr = lr_sgd if n in ("SGD", "Momentum", "Nesterov") else lr_ad
        ref = torch_path(surface, n, start, STEPS, lr=lr, b1=b1, b2=b2, alpha=alpha, wd=wd)
        assert_close(tr.points[k], ref, atol=1e-9, rtol=1e-9, msg=lambda m: f"{n} on {surface}: {m}")
        assert float((tr.points[k, -1] - tr.points[k, 0]).norm()) > 1e-3  # it moved: the check is not vacuous


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_the_step_body_is_opt_step_bit_for_bit(case: tuple) -> None:
    """The race steps the class's own ``step`` body without torch.optim's per-call wrappers: every
    optimizer, with and without a warm-up schedule, gives exactly what ``opt.step()`` gives."""
    from dlcore.optim_viz.trajectories import plain_step, step_body

    surface, start, lr_sgd, lr_ad, b1, b2, alpha, wd = case
    cfg = TrajectoryConfig(start=start, steps=300, lr_sgd=lr_sgd, lr_adaptive=lr_ad, beta1=b1, beta2=b2,
                           rmsprop_alpha=alpha, adamw_weight_decay=wd)
    specs = [RunSpec(n) for n in OPTIMIZER_NAMES] + [RunSpec("Adam", "Adam warm-up", ScheduleConfig(warmup_steps=20))]
    fast = run_optimizers(get_surface(surface), specs, cfg, stepper=step_body)
    ref = run_optimizers(get_surface(surface), specs, cfg, stepper=plain_step)
    assert torch.equal(fast.points, ref.points) and torch.equal(fast.lrs, ref.lrs)
    assert fast.diverged_at == ref.diverged_at
    assert float((fast.points[:, -1] - fast.points[:, 0]).norm(dim=1).min()) > 1e-3  # every run moved


def test_step_body_keeps_opt_step_where_it_must() -> None:
    from dlcore.optim_viz.trajectories import step_body

    p = torch.nn.Parameter(torch.zeros(2, dtype=torch.float64))
    opt = torch.optim.Adam([p])
    assert step_body(opt) != opt.step  # the unwrapped body
    seen: list[int] = []
    opt.register_step_pre_hook(lambda *a: seen.append(1))
    assert step_body(opt) == opt.step  # a hook must run: the public step
    step_body(opt)()
    assert seen == [1]


def hand_path(surface: str, name: str, start: tuple[float, float], steps: int, hyper: dict) -> torch.Tensor:
    """θ₀ … θ_T by the hand-written rule alone (its own state, no torch.optim)."""
    s = get_surface(surface)
    theta = torch.tensor(start, dtype=torch.float64)
    state: dict = {}
    out = [theta]
    for t in range(1, steps + 1):
        x = theta.clone().requires_grad_(True)
        g, = torch.autograd.grad(s.loss(x[None], t - 1)[0], x)
        r = hand_step(name, theta, g, state, hyper, t)
        theta, state = r.theta, r.state
        out.append(theta)
    return torch.stack(out)


HYPER = {"SGD": {"lr": 5e-4}, "Momentum": {"lr": 5e-4, "momentum": 0.9}, "Nesterov": {"lr": 5e-4, "momentum": 0.9},
         "Adagrad": {"lr": 0.05, "eps": 1e-10, "lr_decay": 0.0}, "RMSprop": {"lr": 0.01, "alpha": 0.99, "eps": 1e-8},
         "Adam": {"lr": 0.02, "betas": (0.9, 0.999), "eps": 1e-8},
         "AdamW": {"lr": 0.02, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.01, "decoupled_weight_decay": True},
         "RAdam": {"lr": 1e-4, "betas": (0.9, 0.999), "eps": 1e-8}}


@pytest.mark.parametrize("name", OPTIMIZER_NAMES)
def test_hand_rule_chained_for_100_steps_equals_torch(name: str) -> None:
    assert set(RULES) == set(OPTIMIZER_NAMES)
    h = HYPER[name]
    b1, b2 = h.get("betas", (h.get("momentum", 0.9), 0.999))
    ref = torch_path("rosenbrock", name, (-1.5, 2.5), STEPS, lr=h["lr"], b1=b1, b2=b2, alpha=h.get("alpha", 0.99),
                     wd=h.get("weight_decay", 0.0))
    mine = hand_path("rosenbrock", name, (-1.5, 2.5), STEPS, h)
    assert_close(mine, ref, atol=1e-6, rtol=1e-6)
    assert float((ref[-1] - ref[0]).norm()) > 1e-3


@pytest.mark.parametrize("name", OPTIMIZER_NAMES)
@pytest.mark.parametrize("t", [1, 2, 37])
def test_worked_step_equals_torch_and_reports_it(name: str, t: int) -> None:
    cfg = TrajectoryConfig(start=(0.3, -0.8), lr_sgd=0.05, lr_adaptive=0.05)
    w = worked_step(get_surface("saddle"), name, cfg, t=t)
    assert w.equal and w.max_diff <= 1e-12
    assert_close(w.theta_hand, w.theta_torch, atol=1e-12, rtol=0)
    assert any(ln.symbol == r"\theta_{t+1}" and not ln.seed_form for ln in w.lines)
    assert all(ln.substituted for ln in w.lines)


def test_seed_forms_where_the_notes_differ_from_torch() -> None:
    """Momentum: the notes' v_t = βv + (1−β)g with η/(1−β) is torch's step exactly; Adagrad/RMSprop: the
    notes' √(G+ε) differs from torch's √G + ε by a rounding-size amount only."""
    cfg = TrajectoryConfig(start=(-1.5, 2.5), lr_sgd=5e-4, lr_adaptive=0.02)
    m = worked_step(get_surface("rosenbrock"), "Momentum", cfg, t=5)
    assert m.seed_diff is not None and m.seed_diff <= 1e-12
    for n in ("Adagrad", "RMSprop"):
        w = worked_step(get_surface("rosenbrock"), n, cfg, t=5)
        assert w.seed_diff is not None and 0 <= w.seed_diff < 1e-6
    for n in ("SGD", "Adam", "AdamW"):  # the notes' formula is torch's
        assert worked_step(get_surface("rosenbrock"), n, cfg, t=5).seed_theta is None


def test_adam_first_step_is_eta_times_sign() -> None:
    """m̂₁ = g₁ and v̂₁ = g₁²: Adam's first update is η·g/(|g| + ε) ≈ η·sign(g) whatever |g|."""
    w = worked_step(get_surface("rosenbrock"), "Adam", TrajectoryConfig(start=(-1.5, 2.5), lr_adaptive=0.01), t=1)
    assert_close(w.theta - w.theta_torch, 0.01 * torch.sign(w.grad), atol=1e-9, rtol=0)
    mh = next(ln for ln in w.lines if ln.symbol == r"\hat m_t")
    assert_close(mh.value, w.grad)


def test_scheduled_lr_is_the_one_the_step_used() -> None:
    w = worked_step(get_surface("saddle"), "Adam", TrajectoryConfig(start=(0.5, 0.1), lr_adaptive=0.1), t=3,
                    schedule=ScheduleConfig("constant", warmup_steps=10))
    assert math.isclose(w.hyper["lr"], 0.1 * 2 / 10)
    assert w.equal


def test_bad_inputs_name_the_value() -> None:
    s = get_surface("saddle")
    with pytest.raises(ValueError, match="η \\(SGD family\\)"):
        run_optimizers(s, None, TrajectoryConfig(lr_sgd=-1.0))
    with pytest.raises(ValueError, match="β₁"):
        run_optimizers(s, None, TrajectoryConfig(beta1=1.0))
    with pytest.raises(ValueError, match="steps"):
        run_optimizers(s, None, TrajectoryConfig(steps=0))
    with pytest.raises(ValueError, match="not one of"):
        run_optimizers(s, [RunSpec("LBFGS")])
    with pytest.raises(ValueError, match="step t = 9"):
        run_optimizers(s, None, TrajectoryConfig(steps=5), snapshot=9)
    with pytest.raises(ValueError, match="surface"):
        get_surface("himmelblau")
    assert set(SEED_SIX) <= set(OPTIMIZER_NAMES)
