"""Adam's first steps with and without a learning-rate warm-up, on the same surface.

Seed 000 §2.2.1 (梯度消失和梯度爆炸) gives warm-up as a remedy for exploding updates, with the
``lr_lambda`` that ramps η linearly from 0 over W steps and then decays it linearly to 0 at T
(:func:`dlcore.train.schedules.seed_lr_lambda`, the ``warmup_linear`` schedule), and names RAdam
as the alternative. Why Adam needs it: at step 1, m̂₁ = g₁ and v̂₁ = g₁², so the update is
η·g₁/(|g₁| + ε) ≈ η·sign(g₁) — a full-size step whatever the gradient's size, taken on an estimate
of the gradient's scale from a single sample. Liu et al. 2020 (RAdam,
https://arxiv.org/abs/1908.03265) show the adaptive term's variance is unbounded in the first
steps; a warm-up (or RAdam's rectification, which skips the adaptive term while ρ_t ≤ 5) keeps
those early steps small.

:func:`compare_warmup` runs the variants through the one trajectory engine
(:func:`~dlcore.optim_viz.trajectories.run_optimizers`, the registry's ``torch.optim.Adam`` and
``RAdam`` with ``LambdaLR`` schedules) and measures each step's length ‖θ_{t+1} − θ_t‖.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from dlcore.optim_viz.names import check_whole
from dlcore.optim_viz.surfaces import Surface
from dlcore.optim_viz.trajectories import RunSpec, Trajectories, TrajectoryConfig, run_optimizers
from dlcore.train.schedules import ScheduleConfig

__all__ = ["WarmupConfig", "WarmupComparison", "compare_warmup", "warmup_runs"]


@dataclass(frozen=True)
class WarmupConfig:
    """Settings.

    Args:
        warmup_steps: W, 1 … steps. Default 20 (10 % of the run, the seed's 1000 of 10000).
        steps: T, 10 … 2000. Default 200.
        early: how many first steps the summary compares. Default 10.
    """

    warmup_steps: int = 20
    steps: int = 200
    early: int = 10

    def validate(self) -> None:
        for name, v, lo, hi in (("run steps", self.steps, 10, 2000), ("warm-up steps", self.warmup_steps, 1, self.steps),
                                ("early steps", self.early, 1, self.steps)):
            check_whole(name, v, lo, hi)


def warmup_runs(w: int) -> list[RunSpec]:
    """Adam without warm-up, with a linear warm-up then constant η, with the seed's lr_lambda, and RAdam."""
    return [RunSpec("Adam", "Adam, no warm-up"),
            RunSpec("Adam", f"Adam, warm-up {w} steps", ScheduleConfig("constant", warmup_steps=w)),
            RunSpec("Adam", f"Adam, the notes' lr_lambda (W={w})", ScheduleConfig("warmup_linear", warmup_steps=w)),
            RunSpec("RAdam", "RAdam (no schedule)")]


@dataclass
class WarmupComparison:
    """The variants on one surface.

    Attributes:
        traj: the runs (:class:`~dlcore.optim_viz.trajectories.Trajectories`).
        step_length: ``(K, T)`` ‖θ_{t+1} − θ_t‖ of every step.
        first_step: ``(K,)`` the length of step 1; early_max: ``(K,)`` the longest of the first ``early``.
        adam_first_bound: η·√2, the length of Adam's first step predicted by m̂₁/√v̂₁ = sign(g₁).
        warmup_steps, early: the settings.
    """

    traj: Trajectories
    step_length: torch.Tensor
    first_step: torch.Tensor
    early_max: torch.Tensor
    adam_first_bound: float
    warmup_steps: int
    early: int


def compare_warmup(surface: Surface, traj_config: TrajectoryConfig | None = None,
                   config: WarmupConfig | None = None) -> WarmupComparison:
    """Adam with and without warm-up (and RAdam) from the same start on ``surface``.

    Args:
        traj_config: η (its ``lr_adaptive``), β's and start; its ``steps`` is replaced by ``config.steps``.
        config: :class:`WarmupConfig`.

    Raises:
        ValueError: bad settings.
    """
    import dataclasses

    cfg = config or WarmupConfig()
    cfg.validate()
    tc = dataclasses.replace(traj_config or TrajectoryConfig(), steps=cfg.steps)
    tr = run_optimizers(surface, warmup_runs(cfg.warmup_steps), tc)
    lengths = (tr.points[:, 1:] - tr.points[:, :-1]).norm(dim=-1)       # (K, T)
    lr = tr.config.lr_adaptive or 0.0
    return WarmupComparison(tr, lengths, lengths[:, 0].clone(), lengths[:, :cfg.early].max(dim=1).values,
                            lr * math.sqrt(2), cfg.warmup_steps, cfg.early)
