"""DDPM (Ho et al. 2020, https://arxiv.org/abs/2006.11239): the forward process in closed form,
the noise-prediction loss, and one reverse step — seed 003 §dl_8.

Forward (any ``t`` in one shot, seed §dl_8_1)::

    x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps,    eps ~ N(0, I)

Training: draw ``t ~ U{0..T-1}``, ``eps``, make ``x_t``, minimise ``|| eps - eps_theta(x_t, t) ||^2``.
:func:`ddpm_objective` is that loss in the ``objective(model, x, y)`` form of the one
:class:`dlcore.train.Trainer`.

Reverse step from ``t`` to ``prev_t`` (``prev_t = t - 1`` for the full chain; any earlier
step for strided sampling, with ``alpha_t := alpha_bar_t / alpha_bar_prev``)::

    x0_hat = (x_t - sqrt(1 - alpha_bar_t) eps_theta) / sqrt(alpha_bar_t)                 (1)
    mean   = sqrt(alpha_bar_prev) beta_t / (1 - alpha_bar_t) x0_hat
             + sqrt(alpha_t) (1 - alpha_bar_prev) / (1 - alpha_bar_t) x_t                  (2)
    x_prev = mean + sigma_t z,  z ~ N(0, I) (no noise at t = 0)                          (3)

(2) equals the seed's ``(x_t - beta_t / sqrt(1 - alpha_bar_t) eps_theta) / sqrt(alpha_t)``.
``sigma_t^2`` is ``beta_tilde_t = (1 - alpha_bar_prev) / (1 - alpha_bar_t) beta_t``
(``"fixed_small"``, diffusers' default) or ``beta_t`` (``"fixed_large"``, the seed's code); Ho
et al. found both work. The step returns the predicted ``x0_hat`` too, like diffusers'
``DDPMSchedulerOutput(prev_sample, pred_original_sample)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Sequence

import torch
from torch import nn

from dlcore.generative._checks import as_choice
from dlcore.generative.schedules import NoiseSchedule

__all__ = ["VarianceType", "VARIANCE_TYPES", "DDPMStepOutput", "q_sample", "ForwardTrajectory",
           "forward_trajectory", "ddpm_loss", "ddpm_objective", "ddpm_step", "predict_x0"]

VarianceType = Literal["fixed_small", "fixed_large"]
#: The reverse-step variances ``sigma_t^2`` (beta_tilde_t or beta_t).
VARIANCE_TYPES: dict[str, str] = {
    "fixed_small": "sigma^2 = beta_tilde_t = (1 - alpha_bar_prev) / (1 - alpha_bar_t) beta_t (diffusers' default)",
    "fixed_large": "sigma^2 = beta_t (the seed's p_sample)",
}


def _per_sample(values: torch.Tensor, t: torch.Tensor, ndim: int) -> torch.Tensor:
    """Gather ``values[t]`` and shape it ``(N, 1, ...)`` to broadcast over a sample."""
    return values.to(t.device)[t].view(-1, *([1] * (ndim - 1)))


def q_sample(schedule: NoiseSchedule, x0: torch.Tensor, t: torch.Tensor | int,
             noise: torch.Tensor | None = None, generator: torch.Generator | None = None) -> torch.Tensor:
    """``x_t ~ q(x_t | x_0)`` in closed form (formula in the module docstring).

    Args:
        schedule: the noise schedule. x0: clean data ``(N, ...)``.
        t: one step for all (int) or one per sample, ``(N,)`` int64, in ``[0, T-1]``.
        noise: ``eps`` (default: drawn with ``generator``).

    Shape:
        ``x0 (N, ...) -> x_t (N, ...)``.
    """
    if isinstance(t, int):
        t = torch.full((x0.shape[0],), schedule.check_t(t), dtype=torch.long, device=x0.device)
    if noise is None:
        noise = torch.randn(x0.shape, generator=generator, dtype=x0.dtype, device=x0.device)
    a = _per_sample(schedule.sqrt_alpha_bars, t, x0.ndim).to(x0.dtype)            # (N, 1, ...)
    b = _per_sample(schedule.sqrt_one_minus_alpha_bars, t, x0.ndim).to(x0.dtype)  # (N, 1, ...)
    return a * x0 + b * noise


@dataclass
class ForwardTrajectory:
    """``x_t`` of one set of samples at several steps, all with the *same* noise ``eps``.

    Attributes:
        timesteps: the steps shown (0-based), ``(K,)``.
        x_t: ``(K, N, ...)``. noise: the ``eps`` used, ``(N, ...)``.
        alpha_bar, snr: ``(K,)`` at those steps.
    """

    timesteps: list[int]
    x_t: torch.Tensor
    noise: torch.Tensor
    alpha_bar: torch.Tensor
    snr: torch.Tensor


def forward_trajectory(schedule: NoiseSchedule, x0: torch.Tensor, timesteps: Sequence[int],
                       seed: int = 0) -> ForwardTrajectory:
    """The forward process at each of ``timesteps`` (a slider over ``t`` reads one row).

    Raises:
        ValueError: if a step is outside ``[0, T-1]`` or more than 64 steps are asked.
    """
    ts = [schedule.check_t(t) for t in timesteps]
    if not 1 <= len(ts) <= 64:
        raise ValueError(f"{len(ts)} timesteps asked; show between 1 and 64")
    g = torch.Generator().manual_seed(int(seed))
    noise = torch.randn(x0.shape, generator=g, dtype=x0.dtype)
    xs = torch.stack([q_sample(schedule, x0, t, noise) for t in ts])  # (K, N, ...)
    idx = torch.tensor(ts)
    return ForwardTrajectory(ts, xs, noise, schedule.alpha_bars[idx], schedule.snr[idx])


def ddpm_loss(model: nn.Module, schedule: NoiseSchedule, x0: torch.Tensor,
              generator: torch.Generator | None = None) -> torch.Tensor:
    """``E_{t, eps} || eps - eps_theta(x_t, t) ||^2`` for one batch (the seed's steps 1-5).

    Shape:
        ``x0 (N, ...)`` -> scalar.
    """
    n = x0.shape[0]
    t = torch.randint(0, schedule.n_timesteps, (n,), generator=generator, device=x0.device)  # 1. t
    noise = torch.randn(x0.shape, generator=generator, dtype=x0.dtype, device=x0.device)    # 2. eps
    x_t = q_sample(schedule, x0, t, noise)                                                   # 3. x_t
    return nn.functional.mse_loss(model(x_t, t), noise)                                       # 4.+5. MSE


def ddpm_objective(schedule: NoiseSchedule):
    """The DDPM loss as a Trainer objective ``(model, x, y) -> (loss, None)`` (``y`` unused).

    Draws ``t`` and ``eps`` from torch's global RNG, which the Trainer seeds (``TrainConfig.seed``).
    """
    def objective(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, None]:
        return ddpm_loss(model, schedule, x), None
    return objective


@dataclass
class DDPMStepOutput:
    """One reverse step: ``prev_sample`` = ``x_{prev_t}``, ``pred_original_sample`` = ``x0_hat``,
    and the Gaussian it was drawn from (``mean``, scalar ``std``)."""

    prev_sample: torch.Tensor
    pred_original_sample: torch.Tensor
    mean: torch.Tensor
    std: float
    t: int
    prev_t: int


def predict_x0(schedule: NoiseSchedule, eps: torch.Tensor, t: int, x_t: torch.Tensor) -> torch.Tensor:
    """Formula (1): ``x0_hat = (x_t - sqrt(1 - alpha_bar_t) eps) / sqrt(alpha_bar_t)``."""
    ab = schedule.ab[t]
    return (x_t - float((1 - ab) ** 0.5) * eps) / float(ab ** 0.5)


def ddpm_step(schedule: NoiseSchedule, eps: torch.Tensor, t: int, x_t: torch.Tensor, *,
              prev_t: int | None = None, variance: VarianceType = "fixed_small",
              noise: torch.Tensor | None = None, generator: torch.Generator | None = None,
              clip_sample: float | None = None) -> DDPMStepOutput:
    """``x_t -> x_{prev_t}`` by formulas (1)-(3) of the module docstring.

    Args:
        schedule: the noise schedule. eps: ``eps_theta(x_t, t)``, shaped like ``x_t``.
        t: current step in ``[0, T-1]``. x_t: current sample.
        prev_t: the step to go to (default ``t - 1``; -1 means "clean data", ``alpha_bar = 1``).
        variance: ``"fixed_small"`` (default) or ``"fixed_large"``.
        noise: the ``z`` of (3) (default drawn with ``generator`` when ``t > 0``, exactly as
            diffusers draws it).
        clip_sample: clamp ``x0_hat`` to ``[-c, c]`` (default None = off, diffusers' ``clip_sample=False``).

    Shape:
        ``x_t (N, ...) -> prev_sample (N, ...)``.
    """
    prev_t = t - 1 if prev_t is None else prev_t
    # scalar arithmetic on 0-d float32 tensors: the same operations diffusers does
    one = schedule.one
    ab_t = schedule.ab[t]
    ab_prev = schedule.ab[prev_t] if prev_t >= 0 else one
    beta_prod_t, beta_prod_prev = one - ab_t, one - ab_prev
    alpha_t = ab_t / ab_prev                       # alpha_t (one step) or its strided analogue
    beta_t = one - alpha_t
    x0 = (x_t - float(beta_prod_t ** 0.5) * eps) / float(ab_t ** 0.5)   # 1. predict x0
    if clip_sample is not None:
        x0 = x0.clamp(-clip_sample, clip_sample)
    c0 = float(ab_prev ** 0.5 * beta_t / beta_prod_t)
    ct = float(alpha_t ** 0.5 * beta_prod_prev / beta_prod_t)
    mean = c0 * x0 + ct * x_t                                          # 2. posterior mean
    std = 0.0
    prev = mean
    if t > 0:                                                          # 3. add noise
        if as_choice("variance", variance, VARIANCE_TYPES) == "fixed_large":
            std = float(beta_t ** 0.5)
        else:
            std = float(torch.clamp(beta_prod_prev / beta_prod_t * beta_t, min=1e-20) ** 0.5)
        if noise is None:
            noise = torch.randn(x_t.shape, generator=generator, dtype=x_t.dtype, device=x_t.device)
        prev = mean + std * noise
    return DDPMStepOutput(prev, x0, mean, std, t, prev_t)
