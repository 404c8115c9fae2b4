"""Schedules against torch.optim.lr_scheduler and the seed's formula, step by step."""

import functools

import pytest
import torch

from dlcore.train import SCHEDULES, ScheduleConfig, lr_curve, make_scheduler, seed_lr_lambda


def _lrs(scheduler_factory, n: int, lr: float = 0.1) -> list[float]:
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=lr)
    sched = scheduler_factory(opt)
    out = []
    for _ in range(n):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


def test_seed_formula_verbatim():
    # seed 000 §2.2.1: warm-up 1000, total 10000
    f = functools.partial(seed_lr_lambda, warmup_steps=1000, total_steps=10000)
    assert f(0) == 0.0 and f(500) == 0.5 and f(1000) == 1.0
    assert f(5500) == pytest.approx(0.5) and f(10000) == 0.0 and f(12000) == 0.0


@pytest.mark.parametrize("warmup,total", [(0, 50), (10, 50), (50, 50), (3, 7)])
def test_warmup_linear_matches_seed_lambdalr(warmup, total):
    ref = _lrs(lambda o: torch.optim.lr_scheduler.LambdaLR(
        o, functools.partial(seed_lr_lambda, warmup_steps=warmup, total_steps=total)), total + 3)
    ours = _lrs(lambda o: make_scheduler(o, ScheduleConfig("warmup_linear", warmup), total), total + 3)
    torch.testing.assert_close(torch.tensor(ours), torch.tensor(ref))


def test_warmup_linear_matches_transformers():
    transformers = pytest.importorskip("transformers")
    ref = _lrs(lambda o: transformers.get_linear_schedule_with_warmup(o, 10, 40), 45)
    ours = _lrs(lambda o: make_scheduler(o, ScheduleConfig("warmup_linear", 10), 40), 45)
    torch.testing.assert_close(torch.tensor(ours), torch.tensor(ref))


@pytest.mark.parametrize("total", [1, 10, 37])
def test_cosine_matches_torch(total):
    ref = _lrs(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=total, eta_min=0.0), total)
    ours = _lrs(lambda o: make_scheduler(o, ScheduleConfig("cosine"), total), total)
    torch.testing.assert_close(torch.tensor(ours), torch.tensor(ref), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("step_size,gamma", [(5, 0.1), (3, 0.5), (1, 0.9)])
def test_step_matches_torch(step_size, gamma):
    ref = _lrs(lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=step_size, gamma=gamma), 30)
    ours = _lrs(lambda o: make_scheduler(o, ScheduleConfig("step", step_size=step_size, gamma=gamma), 30), 30)
    torch.testing.assert_close(torch.tensor(ours), torch.tensor(ref))


def test_constant_with_warmup():
    ours = _lrs(lambda o: make_scheduler(o, ScheduleConfig("constant", warmup_steps=4), 10), 10, lr=1.0)
    assert ours == pytest.approx([0, 0.25, 0.5, 0.75, 1, 1, 1, 1, 1, 1])


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_lr_curve_equals_scheduler(name):
    cfg = ScheduleConfig(name, warmup_steps=5, step_size=7, gamma=0.5)
    ref = _lrs(lambda o: make_scheduler(o, cfg, 40), 40, lr=0.3)
    torch.testing.assert_close(lr_curve(cfg, 0.3, 40), torch.tensor(ref, dtype=torch.float64))
    assert lr_curve(cfg, 0.3, 40).max() <= 0.3 + 1e-12


@pytest.mark.parametrize("cfg,fragment", [
    (ScheduleConfig("nope"), "unknown"),
    (ScheduleConfig("cosine", warmup_steps=-1), "≥ 0"),
    (ScheduleConfig("cosine", warmup_steps=11), "exceed"),
    (ScheduleConfig("step", gamma=2.0), "gamma"),
])
def test_bad_config(cfg, fragment):
    with pytest.raises(ValueError, match=fragment):
        lr_curve(cfg, 0.1, 10)
