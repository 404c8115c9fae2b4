"""The shipped image generators: a DCGAN and a DDPM denoiser for Fashion-MNIST (28x28).

Both checkpoints live in the zoo (``fmnist_dcgan``, ``fmnist_ddpm``; built by
``python -m dlcore.zoo build NAME``) and need no data to *sample*: only the memorisation
check reads the training images. Images are pixels in [0, 1]; the DDPM works on
``x = 2 p - 1`` in [-1, 1] (Ho et al. 2020 scale data to [-1, 1]); samples are clamped back to
pixels at the end.

    imgs = dcgan_samples(16, seed=3).images                 # (16, 1, 28, 28)
    walk = dcgan_interpolation(seed_a=1, seed_b=2, steps=9) # images + the classifier's verdicts
    res = ddpm_image_samples(16, seed=0, config=SamplerConfig("ddim", steps=50))
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Callable, Literal, Sequence

import torch
from torch import nn

from dlcore.generative._checks import as_choice, as_int
from dlcore.generative.ddpm import ForwardTrajectory, forward_trajectory
from dlcore.generative.samplers import MAX_IMAGES, SampleResult, SamplerConfig, sample
from dlcore.generative.schedules import NoiseSchedule, NoiseScheduleConfig, make_schedule
from dlcore.generative.scores import SampleScore, classifier_score

__all__ = ["DCGAN_NAME", "DDPM_NAME", "IMAGE_MODELS", "to_model_space", "to_pixels", "load_dcgan", "load_ddpm",
           "schedule_of", "GeneratedImages", "dcgan_samples", "InterpolationMode", "INTERPOLATIONS",
           "interpolate_latents", "Interpolation", "dcgan_interpolation", "ddpm_image_samples", "image_forward",
           "generate_images", "score_generator", "IMAGE_SAMPLER", "StepsPoint", "sampler_sweep", "recorded_score"]

DCGAN_NAME, DDPM_NAME = "fmnist_dcgan", "fmnist_ddpm"
#: The image generators a dropdown offers: zoo name -> title.
IMAGE_MODELS: dict[str, str] = {DCGAN_NAME: "DCGAN (Fashion-MNIST)", DDPM_NAME: "DDPM denoiser (Fashion-MNIST)"}
#: How the DDPM images are sampled by default (and scored in the manifest): DDIM, 50 steps, eta 0.
#: No clipping of x0_hat: DDIM then moves along the network's own eps; clipping x0_hat but not
#: eps (diffusers' default) made this small model's samples worse (0.52 vs 0.71 mean confidence
#: on 32 samples of a 2-epoch model).
IMAGE_SAMPLER = SamplerConfig("ddim", steps=50, eta=0.0, clip_sample=None)
InterpolationMode = Literal["slerp", "linear"]
INTERPOLATIONS: dict[str, str] = {"slerp": "spherical (keeps |z| typical of N(0, I))", "linear": "straight line"}


def to_model_space(pixels: torch.Tensor) -> torch.Tensor:
    """[0, 1] pixels -> [-1, 1] (``2 p - 1``)."""
    return pixels * 2 - 1


def to_pixels(x: torch.Tensor) -> torch.Tensor:
    """[-1, 1] -> [0, 1] pixels (``(x + 1) / 2``, clamped)."""
    return ((x + 1) / 2).clamp(0, 1)


def load_dcgan(name: str = DCGAN_NAME) -> nn.Module:
    """The shipped DCGAN (cached, eval mode): ``model(z)`` -> images, ``model.latent_dim``."""
    from dlcore import zoo

    return zoo.get(name)


def schedule_of(name: str = DDPM_NAME) -> NoiseSchedule:
    """The noise schedule a zoo DDPM was trained with (from its recipe's options)."""
    from dlcore.zoo import RECIPES

    o = RECIPES[name].options
    return make_schedule(NoiseScheduleConfig(o["beta_schedule"], o["n_timesteps"], o["beta_start"], o["beta_end"]))


def load_ddpm(name: str = DDPM_NAME) -> tuple[nn.Module, NoiseSchedule]:
    """The shipped DDPM denoiser (cached, eval mode) and its noise schedule."""
    from dlcore import zoo

    return zoo.get(name), schedule_of(name)


@dataclass
class GeneratedImages:
    """Images from a generator with what made them: ``latents`` ``(N, k)`` (DCGAN) and the seed."""

    images: torch.Tensor
    latents: torch.Tensor
    seed: int


def dcgan_samples(n: int = 16, seed: int = 0, model: nn.Module | None = None) -> GeneratedImages:
    """``n`` DCGAN images from ``z ~ N(0, I)`` drawn with ``seed`` (same seed, same grid).

    Raises:
        ValueError: for ``n`` outside [1, 1024].
    """
    n = as_int("number of images", n, 1, MAX_IMAGES)
    model = model or load_dcgan()
    z = model.latents(n, as_int("seed", seed, 0, 2**31 - 1))
    with torch.no_grad():
        return GeneratedImages(model(z).cpu(), z, seed)


def interpolate_latents(z0: torch.Tensor, z1: torch.Tensor, steps: int = 9,
                        mode: InterpolationMode = "slerp") -> tuple[torch.Tensor, torch.Tensor]:
    """Codes from ``z0`` to ``z1``: ``(steps, k)`` and the fractions ``(steps,)``.

    ``slerp``: ``sin((1-a) w)/sin w z0 + sin(a w)/sin w z1``, ``w`` the angle between them
    (White 2016, https://arxiv.org/abs/1609.04468): a straight line between two Gaussian codes
    passes through codes of unusually small norm, a great circle does not.
    """
    steps = as_int("interpolation steps", steps, 2, 64)
    mode = as_choice("interpolation", mode, INTERPOLATIONS)  # type: ignore[assignment]
    a = torch.linspace(0, 1, steps)[:, None]                                     # (S, 1)
    if mode == "linear":
        return (1 - a) * z0 + a * z1, a[:, 0]
    cos = (z0 @ z1 / (z0.norm() * z1.norm())).clamp(-1, 1)
    w = torch.arccos(cos)
    if float(w) < 1e-4:
        return (1 - a) * z0 + a * z1, a[:, 0]
    return (torch.sin((1 - a) * w) * z0 + torch.sin(a * w) * z1) / torch.sin(w), a[:, 0]


@dataclass
class Interpolation:
    """A latent walk between two DCGAN samples with the classifier's verdict on every image.

    Attributes:
        images: ``(S, 1, 28, 28)``. fractions: ``(S,)`` from 0 to 1. latents: ``(S, k)``.
        score: :class:`~dlcore.generative.scores.SampleScore` (predictions, confidences, names).
    """

    images: torch.Tensor
    fractions: torch.Tensor
    latents: torch.Tensor
    score: SampleScore


def dcgan_interpolation(seed_a: int = 0, seed_b: int = 1, steps: int = 9, mode: InterpolationMode = "slerp",
                        model: nn.Module | None = None) -> Interpolation:
    """Walk from the first sample of ``seed_a``'s grid to the first sample of ``seed_b``'s."""
    model = model or load_dcgan()
    z0 = model.latents(1, as_int("seed A", seed_a, 0, 2**31 - 1))[0]
    z1 = model.latents(1, as_int("seed B", seed_b, 0, 2**31 - 1))[0]
    zs, a = interpolate_latents(z0, z1, steps, mode)
    with torch.no_grad():
        images = model(zs).cpu()
    return Interpolation(images, a, zs, classifier_score(images))


def ddpm_image_samples(n: int = 16, seed: int = 0, config: SamplerConfig | None = None, keep: int = 10,
                       model: tuple[nn.Module, NoiseSchedule] | None = None,
                       callback: Callable[[int, dict[str, Any]], Any] | None = None,
                       stop_event: threading.Event | None = None) -> SampleResult:
    """Sample the shipped DDPM; samples, ``trajectory`` and ``pred_x0`` come back as **pixels** in [0, 1].

    Args:
        n: images (1..1024). config: default :data:`IMAGE_SAMPLER` (DDIM, 50 steps, eta 0).
        keep: frames of ``x_t`` and ``x0_hat`` kept for the step-through (default 10).
    """
    net, schedule = model or load_ddpm()
    n = as_int("number of images", n, 1, MAX_IMAGES)
    res = sample(net, schedule, (n, 1, 28, 28), config or IMAGE_SAMPLER, seed=seed, keep=keep,
                 callback=callback, stop_event=stop_event)
    res.samples, res.trajectory, res.pred_x0 = to_pixels(res.samples), to_pixels(res.trajectory), to_pixels(res.pred_x0)
    return res


def image_forward(image: torch.Tensor, timesteps: Sequence[int], seed: int = 0,
                  schedule: NoiseSchedule | None = None) -> ForwardTrajectory:
    """``x_t`` of one image at each step (``q(x_t | x_0)`` on ``2 p - 1``), returned as display pixels.

    Args:
        image: ``(1, H, W)`` or ``(1, 1, H, W)`` pixels in [0, 1]. timesteps: 0-based steps.
        schedule: default the seed's linear schedule (T = 1000).
    """
    x0 = image.reshape(1, *image.shape[-3:]) if image.ndim >= 3 else image.reshape(1, 1, *image.shape)
    traj = forward_trajectory(schedule or make_schedule(), to_model_space(x0.float()), timesteps, seed)
    traj.x_t = to_pixels(traj.x_t)
    return traj


def generate_images(name: str, n: int, seed: int, sampler: SamplerConfig | None = None) -> torch.Tensor:
    """``n`` images from zoo generator ``name`` (DCGAN or DDPM), batched by 256, pixels ``(n, 1, 28, 28)``."""
    from dlcore import zoo

    as_choice("image generator", name, IMAGE_MODELS)
    n = as_int("number of images", n, 1, 10_000)
    model = zoo.get(name)
    out = []
    for i, start in enumerate(range(0, n, 256)):
        m = min(256, n - start)
        if name == DCGAN_NAME:
            out.append(dcgan_samples(m, seed + i, model).images)
        else:
            out.append(ddpm_image_samples(m, seed + i, sampler, keep=1, model=(model, schedule_of(name))).samples)
    return torch.cat(out)


def score_generator(name: str, n: int = 1000, seed: int = 1234, sampler: SamplerConfig | None = None) -> SampleScore:
    """The classifier score of ``n`` seeded samples of ``name`` (what the manifest records)."""
    return classifier_score(generate_images(name, n, seed, sampler))


@dataclass
class StepsPoint:
    """One DDIM run of the quality-vs-steps sweep: steps, wall time, the images and their score."""

    steps: int
    seconds: float
    images: torch.Tensor
    score: SampleScore


def sampler_sweep(steps: Sequence[int] = (5, 10, 20, 50, 100), n: int = 16, seed: int = 0, eta: float = 0.0,
                  model: tuple[nn.Module, NoiseSchedule] | None = None,
                  stop_event: threading.Event | None = None) -> list[StepsPoint]:
    """DDIM with each step count on the same ``x_T``: time taken and classifier score (quality vs steps).

    Raises:
        ValueError: more than 8 step counts, a count outside [1, T], ``n`` outside [1, 64], or more
            than 20,000 image-steps in total (keeps one call under a minute on a laptop CPU).
    """
    counts = [as_int("sampling steps", s, 1, 1000) for s in steps]
    if not 1 <= len(counts) <= 8:
        raise ValueError(f"{len(counts)} step counts asked; give between 1 and 8")
    n = as_int("number of images", n, 1, 64)
    if sum(counts) * n > 20_000:
        raise ValueError(f"{sum(counts)} steps x {n} images = {sum(counts) * n} image-steps; the cap is 20000")
    model = model or load_ddpm()
    out = []
    for s in counts:
        res = ddpm_image_samples(n, seed, SamplerConfig("ddim", s, eta), keep=1, model=model,
                                 stop_event=stop_event)
        out.append(StepsPoint(s, res.seconds, res.samples, classifier_score(res.samples)))
        if res.status == "stopped":
            break
    return out


def recorded_score(name: str) -> dict[str, float]:
    """The sample scores the zoo manifest records for generator ``name`` (measured at build time on
    ``score_n`` seeded samples; re-measured by the tests)."""
    from dlcore import zoo

    as_choice("image generator", name, IMAGE_MODELS)
    return dict(zoo.info(name).get("metrics", {}))
