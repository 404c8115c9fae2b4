"""One optimizer step written out — the notes' formulas with this step's numbers — and the proof
that it is what ``torch.optim`` did.

:func:`worked_step` runs the registry's optimizer on the surface up to step t (recording its
state around step t, :class:`~dlcore.optim_viz.trajectories.Snapshot`), recomputes step t by hand
(:func:`~dlcore.optim_viz.rules.hand_step`: m, v, m̂, v̂, the update …) and compares θ_{t+1} and
the new state with torch's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from dlcore.optim_viz.names import OPTIMIZER_NAMES, OPTIMIZER_RULES
from dlcore.optim_viz.rules import Line, hand_step
from dlcore.optim_viz.surfaces import Surface
from dlcore.optim_viz.trajectories import RunSpec, TrajectoryConfig, run_optimizers
from dlcore.train.schedules import ScheduleConfig

__all__ = ["WorkedStep", "worked_step", "HYPER_SHOWN", "EQUAL_TOL"]

#: |θ_hand − θ_torch| ≤ EQUAL_TOL · (1 + |θ|) counts as equal (float64 rounding).
EQUAL_TOL = 1e-12
#: the hyper-parameters shown for each optimizer (torch's param-group names).
HYPER_SHOWN: dict[str, tuple[str, ...]] = {
    "SGD": ("lr",), "Momentum": ("lr", "momentum"), "Nesterov": ("lr", "momentum"),
    "Adagrad": ("lr", "eps"), "RMSprop": ("lr", "alpha", "eps"), "Adam": ("lr", "betas", "eps"),
    "AdamW": ("lr", "betas", "eps", "weight_decay"), "RAdam": ("lr", "betas", "eps")}


@dataclass(frozen=True)
class WorkedStep:
    """Step t of one optimizer, by hand and by torch.

    Attributes:
        surface, optimizer, t: what was stepped. rule: the registry's one-line rule.
        theta, grad: θ_t and g_t ``(2,)``. loss: L(θ_t) (noise-free).
        hyper: the shown hyper-parameters at this step (η after the schedule).
        lines: the computation (:class:`~dlcore.optim_viz.rules.Line`), torch's form first; the
            notes' form where it differs has ``seed_form=True``.
        theta_torch, theta_hand: θ_{t+1} from ``torch.optim`` and by hand.
        max_diff: max |θ_hand − θ_torch| (and over the state tensors).
        equal: ``max_diff`` within :data:`EQUAL_TOL`.
        seed_theta: θ_{t+1} by the notes' literal formula where torch differs (else None);
            seed_diff: its max distance from torch's.
    """

    surface: str
    optimizer: str
    t: int
    rule: str
    theta: torch.Tensor
    grad: torch.Tensor
    loss: float
    hyper: dict[str, Any]
    lines: list[Line]
    theta_torch: torch.Tensor
    theta_hand: torch.Tensor
    max_diff: float
    equal: bool
    seed_theta: torch.Tensor | None
    seed_diff: float | None


def worked_step(surface: Surface, optimizer: str, config: TrajectoryConfig | None = None, t: int = 1,
                schedule: ScheduleConfig | None = None) -> WorkedStep:
    """Step ``t`` of ``optimizer`` on ``surface`` from ``config``'s start, by hand and by torch.

    Args:
        surface: from :func:`~dlcore.optim_viz.surfaces.get_surface`.
        optimizer: a registry name. config: the trajectory settings (η, β's, start, and the run's
            length T, which a schedule needs). t: the step, 1 … T. schedule: an η schedule.

    Raises:
        ValueError: an unknown optimizer, a bad t, or a run that diverged before step t.
    """
    if optimizer not in OPTIMIZER_NAMES:
        raise ValueError(f"optimizer {optimizer!r} is not one of {list(OPTIMIZER_NAMES)}")
    cfg = config or TrajectoryConfig()
    if isinstance(t, bool) or not isinstance(t, int) or not 1 <= t <= cfg.steps:
        raise ValueError(f"step t = {t!r} must be a whole number in [1, {cfg.steps}] (the run's steps)")
    spec = RunSpec(optimizer, schedule=schedule or ScheduleConfig())
    # the whole run: a schedule's η at step t depends on the run's length T (warm-up, then decay to T)
    tr = run_optimizers(surface, [spec], cfg, snapshot=t)
    snap = tr.snapshots[0] if tr.snapshots else None
    if snap is None:
        raise ValueError(f"{optimizer} diverged at step {tr.diverged_at[0]}, before step {t}: lower η or pick an "
                         "earlier step")
    r = hand_step(optimizer, snap.theta, snap.grad, snap.state_before, snap.hyper, snap.t)
    diffs = [float((r.theta - snap.theta_after).abs().max())]
    diffs += [float((r.state[k] - v).abs().max()) for k, v in snap.state_after.items() if k in r.state]
    scale = 1.0 + float(snap.theta_after.abs().max())
    seed_lines = [ln for ln in r.lines if ln.seed_form and ln.symbol == r"\theta_{t+1}"]
    seed_theta = seed_lines[-1].value if seed_lines else None
    return WorkedStep(
        surface.name, optimizer, t, OPTIMIZER_RULES[optimizer][0], snap.theta, snap.grad,
        float(tr.loss[0, t - 1]), {k: snap.hyper[k] for k in HYPER_SHOWN[optimizer] if k in snap.hyper},
        r.lines, snap.theta_after, r.theta, max(diffs), max(diffs) <= EQUAL_TOL * scale, seed_theta,
        None if seed_theta is None else float((seed_theta - snap.theta_after).abs().max()))
