"""DDIM (Song, Meng & Ermon 2021, https://arxiv.org/abs/2010.02502): sample a DDPM-trained
``eps_theta`` in far fewer steps.

DDIM keeps DDPM's marginals ``q(x_t | x_0)`` but uses a non-Markovian reverse process, so it
may jump from ``t`` straight to an earlier ``prev_t`` (their eq. 12)::

    x0_hat  = (x_t - sqrt(1 - alpha_bar_t) eps_theta) / sqrt(alpha_bar_t)              (1)
    sigma_t = eta * sqrt((1 - alpha_bar_prev) / (1 - alpha_bar_t)) * sqrt(1 - alpha_bar_t / alpha_bar_prev)
    x_prev  = sqrt(alpha_bar_prev) x0_hat                     "predicted x0"
              + sqrt(1 - alpha_bar_prev - sigma_t^2) eps_theta    "direction pointing to x_t"
              + sigma_t z                                       "random noise"              (2)

``eta = 0`` is deterministic (the same noise gives the same image: a smooth map from noise to
data); ``eta = 1`` is DDPM's ancestral sampling on the same sub-sequence. The last jump goes to
``alpha_bar = 1`` (diffusers' ``set_alpha_to_one=True``).

Sub-sequences (:data:`SPACINGS`, diffusers' ``timestep_spacing``) for ``S`` steps out of ``T``:
``"leading"`` ``[0, T/S, 2T/S, ...]`` (DDIM's own, diffusers' default), ``"trailing"``
``[T-1, T-1-T/S, ...]`` (always starts from the noisiest step; Lin et al. 2024,
https://arxiv.org/abs/2305.08891) and ``"linspace"`` (evenly from 0 to T-1, rounded).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from dlcore.generative._checks import as_choice, as_float, as_int
from dlcore.generative.schedules import NoiseSchedule

__all__ = ["Spacing", "SPACINGS", "inference_timesteps", "DDIMStepOutput", "ddim_step"]

Spacing = Literal["leading", "trailing", "linspace"]
SPACINGS: dict[str, str] = {
    "leading": "0, T/S, 2T/S, ... (DDIM, diffusers' default)",
    "trailing": "T-1, T-1-T/S, ... (starts at the noisiest step)",
    "linspace": "evenly spaced from 0 to T-1",
}


def inference_timesteps(n_timesteps: int, steps: int, spacing: Spacing = "leading") -> list[int]:
    """The ``steps`` timesteps to visit, from the noisiest down (exactly diffusers' ``set_timesteps``).

    Raises:
        ValueError: if ``steps`` is outside ``[1, T]`` or ``spacing`` is unknown.
    """
    t = as_int("T (n_timesteps)", n_timesteps, 1, 1_000_000)
    s = as_int("sampling steps", steps, 1, t)
    sp = as_choice("timestep spacing", spacing, SPACINGS)
    if sp == "leading":
        ts = (np.arange(0, s) * (t // s)).round()[::-1]
    elif sp == "trailing":
        ts = np.round(np.arange(t, 0, -t / s)) - 1
    else:
        ts = np.linspace(0, t - 1, s).round()[::-1]
    return [int(v) for v in ts]


@dataclass
class DDIMStepOutput:
    """One DDIM jump: ``prev_sample`` = ``x_{prev_t}``, ``pred_original_sample`` = ``x0_hat``,
    ``std`` = ``sigma_t``."""

    prev_sample: torch.Tensor
    pred_original_sample: torch.Tensor
    std: float
    t: int
    prev_t: int


def ddim_step(schedule: NoiseSchedule, eps: torch.Tensor, t: int, prev_t: int, x_t: torch.Tensor, *,
              eta: float = 0.0, noise: torch.Tensor | None = None, generator: torch.Generator | None = None,
              clip_sample: float | None = None) -> DDIMStepOutput:
    """``x_t -> x_{prev_t}`` by formulas (1)-(2) of the module docstring.

    Args:
        schedule: the noise schedule. eps: ``eps_theta(x_t, t)``. t: current step.
        prev_t: the step to jump to (-1 = clean data, ``alpha_bar = 1``).
        eta: 0 (default, deterministic DDIM) .. 1 (DDPM-like).
        noise: the ``z`` of (2) (default drawn with ``generator`` whenever ``eta > 0``, as diffusers).
        clip_sample: clamp ``x0_hat`` to ``[-c, c]`` (default None = off).

    Shape:
        ``x_t (N, ...) -> prev_sample (N, ...)``.
    """
    eta = as_float("eta", eta, 0.0, 1.0)
    one = schedule.one
    ab_t = schedule.ab[t]
    ab_prev = schedule.ab[prev_t] if prev_t >= 0 else one
    beta_prod_t, beta_prod_prev = one - ab_t, one - ab_prev
    x0 = (x_t - float(beta_prod_t ** 0.5) * eps) / float(ab_t ** 0.5)          # 1. predict x0
    if clip_sample is not None:
        x0 = x0.clamp(-clip_sample, clip_sample)
    variance = (beta_prod_prev / beta_prod_t) * (one - ab_t / ab_prev)
    std = eta * variance ** 0.5                                      # sigma_t
    direction = float((one - ab_prev - std ** 2) ** 0.5) * eps                  # 2. towards x_t
    prev = float(ab_prev ** 0.5) * x0 + direction
    if eta > 0:                                                                  # 3. noise
        if noise is None:
            noise = torch.randn(x_t.shape, generator=generator, dtype=x_t.dtype, device=x_t.device)
        prev = prev + float(std) * noise
    return DDIMStepOutput(prev, x0, float(std), t, prev_t)
