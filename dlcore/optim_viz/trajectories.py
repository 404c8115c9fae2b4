"""Every optimizer of the registry walking the same 2-D surface from the same start.

The optimizers are the training registry's own ``torch.optim`` objects
(:func:`dlcore.train.optim.make_optimizer`, never a copy); this module only sets the
hyper-parameters a learner drags (β's) in their ``param_groups`` — which is where ``torch.optim``
reads them on every step, as learning-rate schedulers do — and steps them::

    for t in 0 … T−1:
        L, G = surface.value_and_grad(θ₁ … θ_K, t)  # 1-2. every loss (K,) and gradient (K, 2) at once
        θ_k.grad = G[k]
        for k: opt_k.step(); sched_k.step()          # 3. each optimizer's own update rule, then its η schedule

Steps 1-2 are the surface's hand-derived gradient where it has one (tested against autograd), or one
batched forward and backward pass through the tiny network
(:meth:`~dlcore.optim_viz.surfaces.Surface.value_and_grad`).

Step 3 calls the body of the optimizer class's own ``step`` (``torch.optim.Adam.step`` as written in
torch/optim/adam.py) under ``no_grad``, without the two wrappers ``torch.optim`` puts around every call:
the profiler's ``record_function`` with the step-hook chains (no run registers a hook) and the
grad-mode switch. For a 2-vector those wrappers cost more than the update itself (Adam: 57 µs a step
against 35 µs); what the step computes is the same code on the same tensors, and the tests check the
trajectories bit for bit against plain ``opt.step()`` (:func:`plain_step`). A run with a schedule keeps
``opt.step()``, which its ``LambdaLR`` tracks.

This is not training on data (the Trainer's job): the "model" is one point θ ∈ ℝ², so the loop is
this documented, tested function (tests/dlcore/optim_viz). A run that produces a non-finite loss
or leaves |θ| ≤ 1e6 stops and is marked diverged; the others go on.

Defaults: β₁ = 0.9 (Polyak/Sutskever momentum; Adam's β₁, Kingma & Ba 2015,
https://arxiv.org/abs/1412.6980), β₂ = 0.999 (Adam), RMSprop α = 0.99 (torch's default),
AdamW λ = 0.01 (Loshchilov & Hutter 2019, https://arxiv.org/abs/1711.05101; torch's default).
"""

from __future__ import annotations

import inspect
import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import torch

from dlcore.optim_viz.names import MAX_RUNS, MAX_STEPS, OPTIMIZER_NAMES, SGD_FAMILY
from dlcore.optim_viz.surfaces import Surface
from dlcore.train.names import MAX_LR
from dlcore.train.optim import make_optimizer
from dlcore.train.runtime import torch_threads
from dlcore.train.schedules import ScheduleConfig, schedule_factor

__all__ = ["RunSpec", "TrajectoryConfig", "Trajectories", "Snapshot", "run_optimizers", "apply_betas", "build_optimizer",
           "default_runs", "DIVERGE_AT", "step_body", "plain_step"]

#: |θ| beyond this (or a non-finite loss) ends a run as diverged.
DIVERGE_AT = 1e6


@dataclass(frozen=True)
class RunSpec:
    """One trajectory: an optimizer of the registry, optionally with a learning-rate schedule.

    Args:
        optimizer: a name of :data:`dlcore.train.optim.OPTIMIZERS`.
        label: legend text (default: the optimizer's name).
        schedule: η schedule (:class:`~dlcore.train.schedules.ScheduleConfig`, e.g. a warm-up).
            Default constant.
    """

    optimizer: str
    label: str = ""
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)

    @property
    def name(self) -> str:
        return self.label or self.optimizer


def default_runs(names: Sequence[str] = OPTIMIZER_NAMES) -> list[RunSpec]:
    """One constant-η run per optimizer name."""
    return [RunSpec(n) for n in names]


@dataclass(frozen=True)
class TrajectoryConfig:
    """Settings shared by every trajectory of one run.

    Args:
        start: θ₀ = (x, y); None = the surface's default start.
        steps: optimizer steps T, 1 … :data:`~dlcore.optim_viz.names.MAX_STEPS`. Default 300.
        lr_sgd: η of SGD, Momentum and Nesterov; None = the surface's.
        lr_adaptive: η of Adagrad, RMSprop, Adam, AdamW, RAdam; None = the surface's.
        beta1: momentum β of Momentum/Nesterov and Adam's β₁, in [0, 1). Default 0.9.
        beta2: Adam's (AdamW's, RAdam's) β₂, in [0, 1). Default 0.999.
        rmsprop_alpha: RMSprop's β (torch's ``alpha``), in [0, 1). Default 0.99.
        adamw_weight_decay: AdamW's decoupled λ, in [0, 1]. Default 0.01.
    """

    start: tuple[float, float] | None = None
    steps: int = 300
    lr_sgd: float | None = None
    lr_adaptive: float | None = None
    beta1: float = 0.9
    beta2: float = 0.999
    rmsprop_alpha: float = 0.99
    adamw_weight_decay: float = 0.01

    def resolved(self, surface: Surface) -> "TrajectoryConfig":
        """This config with the surface's defaults filled in, validated.

        Raises:
            ValueError: naming the setting and its rule.
        """
        info = surface.info
        start = info.start if self.start is None else self.start
        cfg = TrajectoryConfig(
            (float(start[0]), float(start[1])), self.steps,
            10 ** info.log10_lr_sgd if self.lr_sgd is None else self.lr_sgd,
            10 ** info.log10_lr_adaptive if self.lr_adaptive is None else self.lr_adaptive,
            self.beta1, self.beta2, self.rmsprop_alpha, self.adamw_weight_decay)
        cfg.validate()
        return cfg

    def validate(self) -> None:
        if self.start is None or len(self.start) != 2 or not all(math.isfinite(v) and abs(v) <= 1e4
                                                                  for v in self.start):
            raise ValueError(f"start {self.start!r} must be two finite numbers with |x|, |y| ≤ 10000")
        if isinstance(self.steps, bool) or not isinstance(self.steps, int) or not 1 <= self.steps <= MAX_STEPS:
            raise ValueError(f"steps {self.steps!r} must be a whole number in [1, {MAX_STEPS}]")
        for nm, v in (("η (SGD family)", self.lr_sgd), ("η (adaptive)", self.lr_adaptive)):
            if v is None or not math.isfinite(v) or not 0 < v <= MAX_LR:
                raise ValueError(f"{nm} = {v!r} must be in (0, {MAX_LR:g}]")
        for nm, v in (("β₁", self.beta1), ("β₂", self.beta2), ("RMSprop α", self.rmsprop_alpha)):
            if not math.isfinite(v) or not 0 <= v < 1:
                raise ValueError(f"{nm} = {v!r} must be in [0, 1)")
        if not math.isfinite(self.adamw_weight_decay) or not 0 <= self.adamw_weight_decay <= 1:
            raise ValueError(f"AdamW weight decay λ = {self.adamw_weight_decay!r} must be in [0, 1]")

    def lr_of(self, optimizer: str) -> float:
        return float(self.lr_sgd if optimizer in SGD_FAMILY else self.lr_adaptive)  # type: ignore[arg-type]


def apply_betas(opt: torch.optim.Optimizer, name: str, cfg: TrajectoryConfig) -> torch.optim.Optimizer:
    """Set the β's of a registry optimizer in its ``param_groups`` (read by torch.optim on every step).

    ``foreach`` is set to False, the single-tensor kernels torch picks for CPU tensors anyway, so that
    the step does not decide it again on every call."""
    for g in opt.param_groups:
        if g.get("foreach", False) is None:
            g["foreach"] = False
        if name in ("Momentum", "Nesterov"):
            g["momentum"] = cfg.beta1
        elif name == "RMSprop":
            g["alpha"] = cfg.rmsprop_alpha
        elif "betas" in g:
            g["betas"] = (cfg.beta1, cfg.beta2)
    return opt


def build_optimizer(spec: RunSpec, param: torch.nn.Parameter, cfg: TrajectoryConfig, steps: int
                    ) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LambdaLR | None]:
    """The registry's optimizer for ``spec`` on ``param`` with ``cfg``'s η and β's, and its schedule."""
    wd = cfg.adamw_weight_decay if spec.optimizer == "AdamW" else 0.0
    opt = apply_betas(make_optimizer(spec.optimizer, [param], cfg.lr_of(spec.optimizer), wd), spec.optimizer, cfg)
    s = spec.schedule
    if s.name == "constant" and s.warmup_steps == 0:
        return opt, None
    return opt, torch.optim.lr_scheduler.LambdaLR(opt, schedule_factor(s, steps))


def plain_step(opt: torch.optim.Optimizer) -> Callable[[], Any]:
    """``opt.step`` as any training loop calls it (the reference the fast path is tested against)."""
    return opt.step


def step_body(opt: torch.optim.Optimizer) -> Callable[[], Any]:
    """The body of ``type(opt).step`` without torch.optim's per-call wrappers; call it under ``no_grad``.

    ``inspect.unwrap`` follows the ``functools.wraps`` chain from the profiled, grad-mode-switching
    method that every ``Optimizer`` instance gets to the function its class defines. An optimizer with
    step hooks, or one whose class defines no wrapped ``step``, gets ``opt.step`` itself.
    """
    method = type(opt).step
    body = inspect.unwrap(method)
    if body is method or opt._optimizer_step_pre_hooks or opt._optimizer_step_post_hooks:
        return opt.step
    if opt.defaults.get("differentiable", False):
        return opt.step
    return lambda: body(opt)


@dataclass(frozen=True)
class Snapshot:
    """One run's optimizer around step ``t`` (1-based): what the hand-written rule needs, and what
    ``torch.optim`` produced.

    Attributes:
        t: the step. theta: θ_t. grad: g_t. hyper: the param group at the step (η after the schedule).
        state_before, state_after: the optimizer's state (torch's names) before and after the step.
        theta_after: θ_{t+1} as torch.optim left it.
    """

    t: int
    theta: torch.Tensor
    grad: torch.Tensor
    hyper: dict[str, Any]
    state_before: dict[str, torch.Tensor]
    state_after: dict[str, torch.Tensor]
    theta_after: torch.Tensor


def _state(opt: torch.optim.Optimizer, p: torch.nn.Parameter) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in opt.state.get(p, {}).items() if isinstance(v, torch.Tensor) and k != "step"}


@dataclass
class Trajectories:
    """The runs of :func:`run_optimizers`.

    Attributes:
        surface: the surface's name. config: the resolved settings. specs: the runs.
        points: ``(K, T+1, 2)`` θ₀ … θ_T (rows after a divergence repeat the last finite point).
        loss: ``(K, T+1)`` noise-free loss at each point.
        grads: ``(K, T, 2)`` the gradient each step used (noisy on ``noisy_quadratic``).
        lrs: ``(K, T)`` the η each step used (after the schedule).
        diverged_at: per run, the step at which it diverged, or None.
        seconds: wall time of the loop.
        stopped_at: the step a stopped run ended at (None = it ran to the end).
        snapshots: per run, its :class:`Snapshot` of step ``snapshot`` (when asked for).
    """

    surface: str
    config: TrajectoryConfig
    specs: list[RunSpec]
    points: torch.Tensor
    loss: torch.Tensor
    grads: torch.Tensor
    lrs: torch.Tensor
    diverged_at: list[int | None]
    seconds: float
    stopped_at: int | None = None
    snapshots: list["Snapshot"] | None = None

    @property
    def labels(self) -> list[str]:
        return [s.name for s in self.specs]

    def final(self) -> list[tuple[str, float, float, float]]:
        """(label, final loss, final x, final y) per run."""
        return [(s.name, float(self.loss[k, -1]), float(self.points[k, -1, 0]), float(self.points[k, -1, 1]))
                for k, s in enumerate(self.specs)]


def _check_specs(specs: Sequence[RunSpec]) -> list[RunSpec]:
    specs = list(specs)
    if not 1 <= len(specs) <= MAX_RUNS:
        raise ValueError(f"{len(specs)} runs: choose between 1 and {MAX_RUNS} optimizers")
    for s in specs:
        if s.optimizer not in OPTIMIZER_NAMES:
            raise ValueError(f"optimizer {s.optimizer!r} is not one of {list(OPTIMIZER_NAMES)}")
    return specs


def run_optimizers(surface: Surface, specs: Sequence[RunSpec] | None = None, config: TrajectoryConfig | None = None,
                   callback: Callable[[int, dict[str, Any]], Any] | None = None,
                   stop: threading.Event | None = None, snapshot: int | None = None,
                   stepper: Callable[[torch.optim.Optimizer], Callable[[], Any]] = step_body) -> Trajectories:
    """Run each optimizer of ``specs`` (default: the whole registry) from the same start.

    Args:
        surface: from :func:`~dlcore.optim_viz.surfaces.get_surface`.
        specs: the runs (1 … :data:`~dlcore.optim_viz.names.MAX_RUNS`).
        config: shared settings (:class:`TrajectoryConfig`).
        callback: ``callback(step, {"loss": [...]})`` every 50 steps; returning True stops.
        stop: a ``threading.Event``; when set, the run ends after the current step.
        snapshot: a step t (1 … T) whose state before and after every optimizer records
            (:class:`Snapshot`, for the hand-written step); None = none.
        stepper: how a constant-η run's optimizer is stepped: :func:`step_body` (default) or
            :func:`plain_step` (``opt.step()``, the reference). A scheduled run always uses ``opt.step()``.

    Returns:
        :class:`Trajectories` (a stopped run keeps what it computed; ``stopped_at`` says where).

    Shape: points ``(K, T+1, 2)``, loss ``(K, T+1)``, grads ``(K, T, 2)``, lrs ``(K, T)``.
    """
    specs = _check_specs(default_runs() if specs is None else specs)
    cfg = (config or TrajectoryConfig()).resolved(surface)
    if snapshot is not None and not 1 <= snapshot <= cfg.steps:
        raise ValueError(f"step t = {snapshot} must be in [1, {cfg.steps}] (the run's steps)")
    with torch_threads(1):  # K points in ℝ²: more threads only add overhead (10× on a busy 2-core CPU)
        return _run(surface, specs, cfg, callback, stop, snapshot, stepper)


def _run(surface: Surface, specs: list[RunSpec], cfg: TrajectoryConfig,
         callback: Callable[[int, dict[str, Any]], Any] | None, stop: threading.Event | None,
         snapshot: int | None, stepper: Callable[[torch.optim.Optimizer], Callable[[], Any]]) -> Trajectories:
    k, steps = len(specs), cfg.steps
    theta_now = torch.tensor([cfg.start] * k, dtype=torch.float64)             # (K, 2): every θ_k
    params = [torch.nn.Parameter(theta_now[i]) for i in range(k)]             # leaves sharing its storage
    g_now = torch.zeros(k, 2, dtype=torch.float64)                           # (K, 2): every θ_k.grad, a view
    for i, p in enumerate(params):
        p.grad = g_now[i]
    built = [build_optimizer(s, p, cfg, steps) for s, p in zip(specs, params)]
    steppers = [opt.step if sched is not None else stepper(opt) for opt, sched in built]
    points = torch.empty(k, steps + 1, 2, dtype=torch.float64)
    loss = torch.empty(k, steps + 1, dtype=torch.float64)
    grads = torch.zeros(k, steps, 2, dtype=torch.float64)
    lrs: list[list[float]] = []
    points[:, 0] = theta_now
    alive = list(range(k))
    diverged: list[int | None] = [None] * k
    stopped_at: int | None = None
    snaps: list[Snapshot | None] = [None] * k
    t0 = time.perf_counter()
    last = steps
    for t in range(steps):
        f, g = surface.value_and_grad(theta_now, t)                           # 1-2. L(θ_k) (K,), ∇L(θ_k) (K, 2)
        g_now.copy_(g)
        loss[:, t] = surface.expected(theta_now) if surface.stochastic else f
        grads[:, t] = g
        lrs.append([o.param_groups[0]["lr"] for o, _ in built])
        snap = snapshot == t + 1
        with torch.no_grad():
            for i in alive:
                opt, sched = built[i]
                before = (theta_now[i].clone(), _state(opt, params[i]),
                          {a: b for a, b in opt.param_groups[0].items() if a != "params"}) if snap else None
                steppers[i]()                                                 # 3. the optimizer's own rule
                if sched is not None:
                    sched.step()
                if before is not None:
                    snaps[i] = Snapshot(t + 1, before[0], g[i].clone(), before[2], before[1], _state(opt, params[i]),
                                        theta_now[i].clone())
        points[:, t + 1] = theta_now
        if not float(theta_now.abs().max()) <= DIVERGE_AT or not math.isfinite(float(loss[:, t].sum())):
            alive = _retire(alive, diverged, t, theta_now, points, loss, grads)  # rare: find who left
        asked = callback is not None and (t + 1) % 50 == 0 and callback(t + 1, {"loss": loss[:, t].tolist()}) is True
        if not alive or asked or (stop is not None and stop.is_set()):
            last = t + 1
            stopped_at = t + 1 if alive and t + 1 < steps else None
            break
    with torch.no_grad():
        loss[:, last] = surface.expected(theta_now)
        points[:, last + 1:] = theta_now[:, None]                             # a stopped run holds its point
        loss[:, last + 1:] = loss[:, last:last + 1]
    lr_t = torch.tensor(lrs, dtype=torch.float64).T if lrs else torch.zeros(k, 0, dtype=torch.float64)
    if last < steps:
        lr_t = torch.cat([lr_t, lr_t[:, -1:].expand(k, steps - last)], 1)
    return Trajectories(surface.name, cfg, specs, points, loss, grads, lr_t, diverged,
                        time.perf_counter() - t0, stopped_at,
                        None if snapshot is None else snaps)  # type: ignore[arg-type]


def _retire(alive: list[int], diverged: list[int | None], t: int, theta_now: torch.Tensor, points: torch.Tensor,
            loss: torch.Tensor, grads: torch.Tensor) -> list[int]:
    """Stop the runs whose θ left |θ| ≤ DIVERGE_AT or whose loss or gradient is not finite: each stays at
    its last finite point (its optimizer is not stepped again). Returns the runs still alive."""
    still = []
    for i in alive:
        ok_loss = math.isfinite(float(loss[i, t])) and bool(torch.isfinite(grads[i, t]).all())
        ok_theta = bool(torch.isfinite(theta_now[i]).all()) and float(theta_now[i].abs().max()) <= DIVERGE_AT
        if ok_loss and ok_theta:
            still.append(i)
            continue
        at = t + 1 if ok_loss else t                                        # the first step it is not finite
        diverged[i] = at
        with torch.no_grad():
            theta_now[i] = points[i, at - 1] if at > 0 else points[i, 0]
            points[i, at:] = theta_now[i]
            if not ok_loss:
                loss[i, t] = loss[i, t - 1] if t > 0 else float("nan")
    return still
