"""Learning-rate schedules, all as multiplicative factors for ``torch.optim.lr_scheduler.LambdaLR``.

Every schedule maps the optimizer step ``t`` (0, 1, 2, …; the scheduler is stepped after every
``optimizer.step()``, as seed 000 §2.2.1 says) to a factor ``f(t)``; the learning rate is
``η_t = η · f(t)``. One registry, :data:`SCHEDULES`, feeds the trainer and the UI dropdown.

* ``constant``:       f(t) = 1 (after an optional linear warm-up)
* ``warmup_linear``:  the seed's ``lr_lambda`` (seed 000 §2.2.1, 梯度消失和梯度爆炸):
                      f(t) = t / max(1, W)                        for t < W
                      f(t) = max(0, (T − t) / max(1, T − W))      otherwise
                      (same as transformers' ``get_linear_schedule_with_warmup``)
* ``cosine``:         f(t) = ½(1 + cos(π·(t − W)/(T − W))) after a linear warm-up of W steps
                      (SGDR, Loshchilov & Hutter 2017, https://arxiv.org/abs/1608.03983;
                      with W = 0 it equals ``CosineAnnealingLR(T_max=T, eta_min=0)``)
* ``step``:           f(t) = γ^⌊t / S⌋ (equals ``StepLR(step_size=S, gamma=γ)``)

Why warm-up: early Adam/SGD steps on a freshly initialised net can be huge; ramping η up
from 0 keeps the first updates small (a remedy for exploding gradients in the notes).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Callable

import torch

from dlcore.train.names import SCHEDULE_NAMES, ScheduleName

__all__ = ["ScheduleName", "ScheduleConfig", "SCHEDULES", "seed_lr_lambda", "schedule_factor",
           "make_scheduler", "lr_curve"]


def seed_lr_lambda(current_step: int, warmup_steps: int, total_steps: int) -> float:
    """The seed's warm-up + linear decay factor, verbatim (seed 000 §2.2.1)."""
    if current_step < warmup_steps:
        return float(current_step) / float(max(1, warmup_steps))
    return max(0.0, float(total_steps - current_step) / float(max(1, total_steps - warmup_steps)))


def _warmup(t: int, w: int) -> float | None:
    return t / max(1, w) if t < w else None


def _constant(t: int, total: int, warmup: int, step_size: int, gamma: float) -> float:
    w = _warmup(t, warmup)
    return 1.0 if w is None else w


def _warmup_linear(t: int, total: int, warmup: int, step_size: int, gamma: float) -> float:
    return seed_lr_lambda(t, warmup, total)


def _cosine(t: int, total: int, warmup: int, step_size: int, gamma: float) -> float:
    w = _warmup(t, warmup)
    if w is not None:
        return w
    span = max(1, total - warmup)
    progress = min(1.0, (t - warmup) / span)
    return 0.5 * (1.0 + math.cos(math.pi * progress))


def _step(t: int, total: int, warmup: int, step_size: int, gamma: float) -> float:
    w = _warmup(t, warmup)
    return w if w is not None else gamma ** ((t - warmup) // max(1, step_size))


#: name -> factor function f(t, total, warmup, step_size, gamma)
SCHEDULES: dict[str, Callable[[int, int, int, int, float], float]] = {
    "constant": _constant,
    "warmup_linear": _warmup_linear,
    "cosine": _cosine,
    "step": _step,
}
assert tuple(SCHEDULES) == SCHEDULE_NAMES


@dataclass(frozen=True)
class ScheduleConfig:
    """Schedule settings.

    Args:
        name: one of :data:`SCHEDULES`. Default ``"constant"``.
        warmup_steps: W, linear warm-up length in optimizer steps (0 = none). Default 0.
        step_size: S for ``"step"`` (0 = a third of the run). Default 0.
        gamma: γ for ``"step"``. Default 0.1 (torch's StepLR default).
    """

    name: ScheduleName = "constant"
    warmup_steps: int = 0
    step_size: int = 0
    gamma: float = 0.1

    def validate(self, total_steps: int) -> None:
        if self.name not in SCHEDULES:
            raise ValueError(f"schedule {self.name!r} is unknown; choose from {list(SCHEDULES)}")
        if self.warmup_steps < 0:
            raise ValueError(f"warm-up steps {self.warmup_steps} must be ≥ 0")
        if self.warmup_steps > total_steps:
            raise ValueError(f"warm-up steps {self.warmup_steps} exceed the run's {total_steps} optimizer steps")
        if self.step_size < 0:
            raise ValueError(f"step size {self.step_size} must be ≥ 0")
        if not 0 < self.gamma <= 1:
            raise ValueError(f"gamma {self.gamma:g} must be in (0, 1]")


def schedule_factor(cfg: ScheduleConfig, total_steps: int) -> Callable[[int], float]:
    """The factor function t -> f(t) for ``LambdaLR`` (validated)."""
    cfg.validate(total_steps)
    step_size = cfg.step_size or max(1, (total_steps - cfg.warmup_steps) // 3)
    return functools.partial(_call, SCHEDULES[cfg.name], total_steps, cfg.warmup_steps, step_size, cfg.gamma)


def _call(fn: Callable[[int, int, int, int, float], float], total: int, warmup: int, step_size: int,
          gamma: float, t: int) -> float:
    return fn(t, total, warmup, step_size, gamma)


def make_scheduler(optimizer: torch.optim.Optimizer, cfg: ScheduleConfig,
                   total_steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    """A ``LambdaLR`` that applies ``cfg`` over ``total_steps`` optimizer steps."""
    return torch.optim.lr_scheduler.LambdaLR(optimizer, schedule_factor(cfg, total_steps))


def lr_curve(cfg: ScheduleConfig, lr: float, total_steps: int) -> torch.Tensor:
    """The learning rate used at each of the ``total_steps`` steps, without an optimizer.

    Shape: ``(total_steps,)``. Lets the UI draw the schedule before training starts.
    """
    f = schedule_factor(cfg, total_steps)
    return torch.tensor([lr * f(t) for t in range(total_steps)], dtype=torch.float64)
