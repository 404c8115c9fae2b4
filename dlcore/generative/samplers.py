"""The reverse chain: from ``x_T ~ N(0, I)`` back to data, by DDPM or DDIM steps.

:func:`sample` runs the loop of seed 003 §dl_8_2 (``for t in reversed(range(T)): x = p_sample(x, t)``)
for any ``eps_theta(x_t, t)`` network and keeps what a learner wants to step through: ``x_t`` and
the predicted ``x0_hat`` at a few evenly spaced steps, the time taken, the model calls spent.

    res = sample(model, schedule, (2000, 2))                              # DDPM, all T steps
    res = sample(model, schedule, (16, 1, 28, 28), SamplerConfig("ddim", steps=50, eta=0.0))

Samplers (:data:`SAMPLERS`): ``"ddpm"`` (ancestral, Ho et al. 2020; ``steps < T`` visits a
sub-sequence as diffusers' ``DDPMScheduler.set_timesteps`` does) and ``"ddim"`` (Song et al. 2021).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Literal

import torch
from torch import nn

from dlcore.generative._checks import as_choice, as_float, as_int
from dlcore.generative.ddim import SPACINGS, Spacing, ddim_step, inference_timesteps
from dlcore.generative.ddpm import VARIANCE_TYPES, VarianceType, ddpm_step
from dlcore.generative.schedules import NoiseSchedule

__all__ = ["SamplerName", "SAMPLERS", "SamplerConfig", "SampleResult", "sample", "MAX_POINTS", "MAX_IMAGES",
           "MAX_KEEP"]

SamplerName = Literal["ddpm", "ddim"]
SAMPLERS: dict[str, str] = {
    "ddpm": "ancestral sampling (Ho et al. 2020), stochastic",
    "ddim": "DDIM (Song et al. 2021): few steps, eta = 0 deterministic",
}
#: Caps per call: points (1-D/2-D samples), images, and kept frames.
MAX_POINTS = 20_000
MAX_IMAGES = 1024
MAX_KEEP = 200


@dataclass(frozen=True)
class SamplerConfig:
    """How to run the reverse chain.

    Args:
        sampler: ``"ddpm"`` (default) or ``"ddim"``.
        steps: model calls; None = ``T`` for DDPM (the full chain), 50 for DDIM (Song et al.'s
            usual setting). Between 1 and ``T``.
        eta: DDIM's stochasticity (default 0.0, deterministic), in [0, 1].
        spacing: sub-sequence for ``steps < T``: ``"leading"`` (default, diffusers'), ``"trailing"``,
            ``"linspace"``.
        variance: DDPM's ``sigma_t^2``: ``"fixed_small"`` (default) or ``"fixed_large"`` (the seed's).
        clip_sample: clamp ``x0_hat`` to ``[-c, c]`` each step (default None = off; 1.0 suits
            images in [-1, 1]).
    """

    sampler: SamplerName = "ddpm"
    steps: int | None = None
    eta: float = 0.0
    spacing: Spacing = "leading"
    variance: VarianceType = "fixed_small"
    clip_sample: float | None = None

    def resolved(self, n_timesteps: int) -> "SamplerConfig":
        """A checked copy with ``steps`` filled in.

        Raises:
            ValueError: naming the bad field and its rule.
        """
        s = as_choice("sampler", self.sampler, SAMPLERS)
        steps = self.steps if self.steps is not None else (n_timesteps if s == "ddpm" else min(50, n_timesteps))
        steps = as_int("sampling steps", steps, 1, n_timesteps)
        clip = None if self.clip_sample is None else as_float("clip_sample", self.clip_sample, 0.0, 100.0,
                                                              lo_open=True)
        return SamplerConfig(s, steps, as_float("eta", self.eta, 0.0, 1.0),  # type: ignore[arg-type]
                             as_choice("timestep spacing", self.spacing, SPACINGS),  # type: ignore[arg-type]
                             as_choice("variance", self.variance, VARIANCE_TYPES), clip)  # type: ignore[arg-type]


@dataclass
class SampleResult:
    """What one reverse chain produced.

    Attributes:
        samples: the final ``x_0``, ``(N, ...)``.
        timesteps: the steps visited, noisiest first (``len == steps``).
        kept: indices into ``timesteps`` whose state was kept (first and last always).
        trajectory: ``x_t`` *before* each kept step, ``(K, N, ...)``; ``trajectory[0]`` is ``x_T``.
        pred_x0: ``x0_hat`` predicted at each kept step, ``(K, N, ...)``.
        seconds: wall time of the loop. model_calls: network evaluations.
        status: ``"finished"`` or ``"stopped"`` (then ``samples`` is the last ``x_t`` reached).
    """

    samples: torch.Tensor
    timesteps: list[int]
    kept: list[int]
    trajectory: torch.Tensor
    pred_x0: torch.Tensor
    seconds: float
    model_calls: int
    config: SamplerConfig
    status: str = "finished"
    stds: list[float] = field(default_factory=list)


def _kept_indices(n: int, keep: int) -> list[int]:
    if keep >= n:
        return list(range(n))
    return sorted({round(i * (n - 1) / (keep - 1)) for i in range(keep)}) if keep > 1 else [n - 1]


@torch.no_grad()
def sample(model: nn.Module, schedule: NoiseSchedule, shape: tuple[int, ...], config: SamplerConfig | None = None,
           *, seed: int = 0, keep: int = 10, x_T: torch.Tensor | None = None,
           callback: Callable[[int, dict[str, Any]], Any] | None = None,
           stop_event: threading.Event | None = None) -> SampleResult:
    """Run the reverse chain from seeded noise ``x_T`` and return the samples and kept frames.

    Args:
        model: ``eps_theta(x_t, t)`` with ``t`` a ``(N,)`` int64 tensor. Run in eval mode.
        schedule: the schedule the model was trained with.
        shape: ``(N, ...)``: at most :data:`MAX_POINTS` points or :data:`MAX_IMAGES` images.
        config: :class:`SamplerConfig` (default DDPM, all ``T`` steps).
        seed: seeds ``x_T`` and every noise draw (same seed -> same samples).
        keep: frames of ``x_t`` / ``x0_hat`` to keep, 1..:data:`MAX_KEEP` (default 10).
        x_T: start from this noise instead (e.g. to compare samplers on the same ``x_T``).
        callback: ``callback(i, {"t", "std"})`` after each step; return True/"stop" to stop.
        stop_event: set it to stop.

    Raises:
        ValueError: for a bad config, shape or cap.
    """
    cfg = (config or SamplerConfig()).resolved(schedule.n_timesteps)
    shape = tuple(as_int("sample shape entry", s, 1, 1 << 20) for s in shape)
    cap = MAX_POINTS if len(shape) <= 2 else MAX_IMAGES
    as_int("number of samples", shape[0], 1, cap)
    keep = as_int("kept frames", keep, 1, MAX_KEEP)
    device = next(model.parameters()).device
    g = torch.Generator(device=device).manual_seed(int(seed))
    if x_T is not None and tuple(x_T.shape) != shape:
        raise ValueError(f"x_T has shape {tuple(x_T.shape)}, expected {shape}")
    x = torch.randn(shape, generator=g, device=device) if x_T is None else x_T.to(device).clone()
    ts = inference_timesteps(schedule.n_timesteps, cfg.steps, cfg.spacing)  # type: ignore[arg-type]
    kept = _kept_indices(len(ts), keep)
    kept_set = set(kept)
    traj, x0s, stds = [], [], []
    was = model.training
    model.eval()
    status, t0 = "finished", time.perf_counter()
    try:
        for i, t in enumerate(ts):
            prev_t = ts[i + 1] if i + 1 < len(ts) else -1
            eps = model(x, torch.full((shape[0],), t, dtype=torch.long, device=device))  # 1. predict noise
            if cfg.sampler == "ddim":                                                      # 2. x_t -> x_prev
                out = ddim_step(schedule, eps, t, prev_t, x, eta=cfg.eta, generator=g, clip_sample=cfg.clip_sample)
            else:
                out = ddpm_step(schedule, eps, t, x, prev_t=prev_t, variance=cfg.variance, generator=g,
                                clip_sample=cfg.clip_sample)
            if i in kept_set:
                traj.append(x.cpu())
                x0s.append(out.pred_original_sample.cpu())
            stds.append(out.std)
            x = out.prev_sample
            answer = callback(i, {"t": t, "std": out.std}) if callback is not None else None
            stop = answer is True or answer == "stop" or (stop_event is not None and stop_event.is_set())
            if stop and i + 1 < len(ts):
                status = "stopped"
                break
    finally:
        model.train(was)
    if not traj:  # stopped before the first kept step: keep the state it stopped in (x before step i + 1)
        traj.append(x.cpu())
        x0s.append(out.pred_original_sample.cpu())
        kept = [i + 1]
    kept = kept[:len(traj)]
    return SampleResult(x.cpu(), ts, kept, torch.stack(traj), torch.stack(x0s), time.perf_counter() - t0,
                        len(stds), cfg, status, stds)
