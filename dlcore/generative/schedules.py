"""Noise schedules of a diffusion model: ``beta_t``, ``alpha_t``, ``alpha_bar_t`` and the SNR.

Seed 003 §dl_8_1 defines the forward step ``q(x_t | x_{t-1}) = N(sqrt(1 - beta_t) x_{t-1}, beta_t I)``
and, with ``alpha_t = 1 - beta_t`` and ``alpha_bar_t = prod_{s<=t} alpha_s``, the closed form
``q(x_t | x_0) = N(sqrt(alpha_bar_t) x_0, (1 - alpha_bar_t) I)``. The signal-to-noise ratio of
``x_t`` is ``SNR(t) = alpha_bar_t / (1 - alpha_bar_t)``.

Schedules (:data:`BETA_SCHEDULES`):

* ``"linear"``: ``beta_t`` evenly spaced from ``beta_start = 1e-4`` to ``beta_end = 0.02`` over
  ``T = 1000`` steps (Ho et al. 2020, https://arxiv.org/abs/2006.11239; the seed's values);
  ``alpha_bar_T ~ 4e-5``, so ``x_T`` is essentially pure noise.
* ``"cosine"``: ``alpha_bar(t) = f(t) / f(0)``, ``f(t) = cos((t/T + s) / (1 + s) * pi/2)^2`` with
  ``s = 0.008``, ``beta_t = min(1 - alpha_bar(t+1)/alpha_bar(t), 0.999)`` (Nichol & Dhariwal
  2021, https://arxiv.org/abs/2102.09672): destroys information more slowly at the start.

Steps are indexed ``t = 0 .. T-1`` as in diffusers (``t`` here is the paper's ``t + 1``).
Tensors are float32 and computed exactly as diffusers computes them, so the two agree bit for
bit (tested).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import torch

from dlcore.generative._checks import as_choice, as_float, as_int

__all__ = ["BetaScheduleName", "BETA_SCHEDULES", "MAX_TIMESTEPS", "NoiseScheduleConfig", "NoiseSchedule",
           "make_schedule", "schedule_from_betas", "schedule_curves"]

BetaScheduleName = Literal["linear", "cosine"]
#: The schedules a dropdown offers (the key is ``NoiseScheduleConfig.schedule``).
BETA_SCHEDULES: dict[str, str] = {
    "linear": "linear beta 1e-4 .. 0.02 (Ho et al. 2020; the seed's)",
    "cosine": "cosine alpha_bar, s = 0.008 (Nichol & Dhariwal 2021)",
}
#: Largest ``T`` accepted (the seed uses 1000; a UI slider never needs more).
MAX_TIMESTEPS = 4000


@dataclass(frozen=True)
class NoiseScheduleConfig:
    """A beta schedule.

    Args:
        schedule: ``"linear"`` (default, Ho et al. 2020) or ``"cosine"`` (Nichol & Dhariwal 2021).
        n_timesteps: ``T`` (default 1000), 1..:data:`MAX_TIMESTEPS`.
        beta_start, beta_end: the linear schedule's ends (default 1e-4 and 0.02), in (0, 1),
            ``beta_start <= beta_end`` (beta may not decrease).
        cosine_s: the cosine schedule's offset ``s`` (default 0.008).
        max_beta: the cosine schedule's cap on ``beta_t`` (default 0.999), in (0, 1).
    """

    schedule: BetaScheduleName = "linear"
    n_timesteps: int = 1000
    beta_start: float = 1e-4
    beta_end: float = 0.02
    cosine_s: float = 0.008
    max_beta: float = 0.999

    def validated(self) -> "NoiseScheduleConfig":
        """A copy with every field checked (and ints made ints).

        Raises:
            ValueError: naming the bad value and the rule.
        """
        name = as_choice("beta schedule", self.schedule, BETA_SCHEDULES)
        t = as_int("T (n_timesteps)", self.n_timesteps, 1, MAX_TIMESTEPS)
        b0 = as_float("beta_start", self.beta_start, 0.0, 1.0, lo_open=True, hi_open=True)
        b1 = as_float("beta_end", self.beta_end, 0.0, 1.0, lo_open=True, hi_open=True)
        if b1 < b0:
            raise ValueError(f"beta_end {b1:g} must be >= beta_start {b0:g} (beta may not decrease)")
        s = as_float("cosine_s", self.cosine_s, 0.0, 1.0, hi_open=True)
        mb = as_float("max_beta", self.max_beta, 0.0, 1.0, lo_open=True, hi_open=True)
        return NoiseScheduleConfig(name, t, b0, b1, s, mb)  # type: ignore[arg-type]


@dataclass
class NoiseSchedule:
    """``beta_t`` and everything derived from it, as ``(T,)`` float32 tensors.

    Attributes:
        betas, alphas (= 1 - beta), alpha_bars (cumulative product), sqrt_alpha_bars,
        sqrt_one_minus_alpha_bars, snr (= alpha_bar / (1 - alpha_bar)); ``ab`` is
        ``alpha_bars`` as a list of 0-d float32 tensors: the samplers do their per-step
        scalar arithmetic on them exactly as diffusers does, so the results agree to the bit.
    """

    betas: torch.Tensor
    config: NoiseScheduleConfig = field(default_factory=NoiseScheduleConfig)

    def __post_init__(self) -> None:
        self.betas = self.betas.to(torch.float32)
        self.alphas = 1.0 - self.betas                       # (T,)
        self.alpha_bars = torch.cumprod(self.alphas, dim=0)  # (T,)
        self.sqrt_alpha_bars = self.alpha_bars.sqrt()
        self.sqrt_one_minus_alpha_bars = (1.0 - self.alpha_bars).sqrt()
        self.snr = self.alpha_bars / (1.0 - self.alpha_bars)
        self.ab: list[torch.Tensor] = list(self.alpha_bars.unbind())  # 0-d float32, for the step arithmetic
        self.one = torch.tensor(1.0)

    @property
    def n_timesteps(self) -> int:
        """``T``."""
        return int(self.betas.shape[0])

    def check_t(self, t: int) -> int:
        """``t`` as an int in ``[0, T-1]`` (ValueError otherwise)."""
        return as_int("timestep t", t, 0, self.n_timesteps - 1)


def _cosine_betas(t: int, s: float, max_beta: float) -> torch.Tensor:
    def f(u: float) -> float:  # alpha_bar(u), u in [0, 1]
        return math.cos((u + s) / (1 + s) * math.pi / 2) ** 2

    betas = [min(1 - f((i + 1) / t) / f(i / t), max_beta) for i in range(t)]
    return torch.tensor(betas, dtype=torch.float32)  # (T,)


def make_schedule(config: NoiseScheduleConfig | None = None) -> NoiseSchedule:
    """Build a :class:`NoiseSchedule` from a config (default: the seed's linear 1e-4..0.02, T=1000).

    Raises:
        ValueError: for a schedule that makes no sense (see :meth:`NoiseScheduleConfig.validated`).
    """
    cfg = (config or NoiseScheduleConfig()).validated()
    if cfg.schedule == "linear":
        betas = torch.linspace(cfg.beta_start, cfg.beta_end, cfg.n_timesteps, dtype=torch.float32)
    else:
        betas = _cosine_betas(cfg.n_timesteps, cfg.cosine_s, cfg.max_beta)
    return NoiseSchedule(betas, cfg)


def schedule_from_betas(betas: torch.Tensor | list[float], *, increasing: bool = False) -> NoiseSchedule:
    """A schedule from explicit ``beta_t`` values.

    Args:
        betas: ``(T,)`` values, each in (0, 1).
        increasing: also require ``beta_t`` non-decreasing (default False).

    Raises:
        ValueError: when a beta is outside (0, 1), T is past :data:`MAX_TIMESTEPS`, or beta
            decreases where ``increasing`` is asked.
    """
    b = torch.as_tensor(betas, dtype=torch.float32).flatten()
    as_int("T (len(betas))", int(b.numel()), 1, MAX_TIMESTEPS)
    if not torch.isfinite(b).all() or (b <= 0).any() or (b >= 1).any():
        bad = b[~(torch.isfinite(b) & (b > 0) & (b < 1))][0].item()
        raise ValueError(f"beta {bad:g} must be in (0, 1) (every beta_t of the schedule)")
    if increasing and b.numel() > 1 and (b[1:] < b[:-1]).any():
        i = int(torch.nonzero(b[1:] < b[:-1])[0])
        raise ValueError(f"beta_{i + 1} {b[i + 1].item():g} < beta_{i} {b[i].item():g}: beta must not decrease")
    return NoiseSchedule(b)


def schedule_curves(schedules: dict[str, NoiseSchedule] | None = None) -> dict[str, dict[str, torch.Tensor]]:
    """``alpha_bar_t``, ``sqrt(alpha_bar_t)``, ``sqrt(1 - alpha_bar_t)``, ``SNR(t)`` and ``beta_t`` per schedule.

    Args:
        schedules: name -> schedule (default: the linear and cosine schedules, T = 1000).

    Returns:
        ``{name: {"t", "beta", "alpha_bar", "sqrt_alpha_bar", "sqrt_one_minus_alpha_bar", "snr"}}``,
        each a ``(T,)`` tensor (``t`` runs 1..T, the paper's index).
    """
    if schedules is None:
        schedules = {n: make_schedule(NoiseScheduleConfig(n)) for n in BETA_SCHEDULES}  # type: ignore[arg-type]
    return {name: {"t": torch.arange(1, s.n_timesteps + 1), "beta": s.betas, "alpha_bar": s.alpha_bars,
                   "sqrt_alpha_bar": s.sqrt_alpha_bars,
                   "sqrt_one_minus_alpha_bar": s.sqrt_one_minus_alpha_bars, "snr": s.snr}
            for name, s in schedules.items()}
