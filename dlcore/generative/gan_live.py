"""A GAN on 2-D data, trained live: a frame every ``frame_every`` steps (GAN Lab's view, plus WGANs).

Each :class:`GANFrame` carries what the panel draws:

* the generator's samples over the real data;
* the discriminator's decision surface on a grid: ``sigma(D(x))`` = P(real) for the original
  objectives, the raw critic value ``D(x)`` for the WGANs;
* the generator's gradient arrows: for a fixed grid of latent codes ``z``, the point ``G(z)``
  and ``-dL_G/dx`` at it, the direction the generator's loss pushes each sample;
* loss curves and *modes covered* over time (:func:`dlcore.generative.toys.mode_coverage`), which
  makes mode collapse visible (covered modes drop while the samples still look "real" to D).

    for frame in train_gan_2d(GANLiveConfig("ring", "wgan_gp", steps=3000)):
        draw(frame)                       # dlcore.plotting.generative.gan_frame_figure(frame)
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import torch

from dlcore.generative._checks import as_choice, as_int
from dlcore.generative.gan import OBJECTIVES, GANConfig, GANTrainer, ObjectiveName, generator_loss
from dlcore.generative.toys import GAN_TOYS, get_toy, mode_coverage
from dlcore.models.generative import MLPDiscriminator, MLPGenerator

__all__ = ["GANLiveConfig", "GANFrame", "GANCurves", "train_gan_2d", "make_frame", "MAX_FRAMES"]

MAX_FRAMES = 2000
_INIT_LOCK = threading.Lock()


@dataclass(frozen=True)
class GANLiveConfig:
    """A live 2-D GAN run.

    Args:
        dataset: one of :data:`~dlcore.generative.toys.GAN_TOYS` (default ``"ring"``).
        objective: a key of :data:`~dlcore.generative.gan.OBJECTIVES` (default ``"non_saturating"``).
        steps: generator steps (default 3000). frame_every: steps between frames (default 25;
            at most :data:`MAX_FRAMES` frames per run).
        lr, n_critic, clip, gp_lambda: overrides (None = the objective's paper value).
        batch_size: default 64. latent_dim: default 2 (the latent grid of the arrows is then a
            real grid). hidden, layers: both MLPs' size (default 128, 3).
        grid: decision-surface resolution per axis (default 60). arrows: latent grid side for
            the gradient arrows (default 12). n_show: samples drawn per frame (default 1000).
        min_share: a mode is covered with at least this share of samples (default 0.008).
        seed: default 0.
    """

    dataset: str = "ring"
    objective: ObjectiveName = "non_saturating"
    steps: int = 3000
    frame_every: int = 25
    lr: float | None = None
    n_critic: int | None = None
    clip: float | None = None
    gp_lambda: float | None = None
    batch_size: int = 64
    latent_dim: int = 2
    hidden: int = 128
    layers: int = 3
    grid: int = 60
    arrows: int = 12
    n_show: int = 1000
    min_share: float = 0.008
    seed: int = 0

    def gan_config(self) -> GANConfig:
        """The :class:`GANConfig` of this run (resolved: paper values filled in)."""
        return GANConfig(self.objective, self.lr, None, self.n_critic, self.clip, self.gp_lambda, self.batch_size,
                         self.steps, self.seed).resolved()


@dataclass
class GANCurves:
    """Per-frame history: the step, losses, W1 estimate, modes covered, high-quality share."""

    step: list[int] = field(default_factory=list)
    d_loss: list[float] = field(default_factory=list)
    g_loss: list[float] = field(default_factory=list)
    wasserstein: list[float] = field(default_factory=list)
    modes: list[int] = field(default_factory=list)
    high_quality: list[float] = field(default_factory=list)


@dataclass
class GANFrame:
    """Everything one frame of the live panel shows (tensors on the CPU).

    Attributes:
        step: generator steps done. status: ``"running"``, ``"finished"``, ``"stopped"``, ``"diverged"``.
        samples: ``G(z)`` for ``n_show`` fresh latents, ``(n_show, 2)``. real: real data, same size.
        grid_x, grid_y: ``(grid,)`` axes; surface: ``(grid, grid)`` = ``sigma(D)`` or the critic
            value at ``(grid_y[i], grid_x[j])``; surface_kind: ``"P(real)"`` or ``"critic D(x)"``.
        arrow_from: ``G(z)`` on the latent grid ``(M, 2)``; arrow_dir: ``-dL_G/dx`` there ``(M, 2)``.
        modes_covered, n_modes, high_quality: of this frame's samples. curves: history so far.
        extent: the plot box. seconds: training + frame time of this frame (library side).
    """

    step: int
    status: str
    dataset: str
    objective: str
    samples: torch.Tensor
    real: torch.Tensor
    grid_x: torch.Tensor
    grid_y: torch.Tensor
    surface: torch.Tensor
    surface_kind: str
    arrow_from: torch.Tensor
    arrow_dir: torch.Tensor
    modes_covered: int
    n_modes: int
    high_quality: float
    curves: GANCurves
    extent: tuple[float, float, float, float]
    seconds: float = 0.0
    message: str = ""


def _latent_grid(latent_dim: int, side: int, seed: int) -> torch.Tensor:
    if latent_dim == 2:
        u = torch.linspace(-2, 2, side)
        zy, zx = torch.meshgrid(u, u, indexing="ij")
        return torch.stack([zx.flatten(), zy.flatten()], 1)  # (side^2, 2)
    return torch.randn(side * side, latent_dim, generator=torch.Generator().manual_seed(seed + 1))


def make_frame(trainer: GANTrainer, cfg: GANLiveConfig, curves: GANCurves, z_show: torch.Tensor,
               z_arrows: torch.Tensor, real: torch.Tensor, status: str, seconds: float = 0.0) -> GANFrame:
    """Compute one frame's pictures from the current G and D (no parameter changes)."""
    toy = get_toy(cfg.dataset)
    G, D, obj = trainer.G, trainer.D, trainer.objective
    G.eval()
    D.eval()
    with torch.no_grad():
        samples = G(z_show).cpu()                                                  # (n_show, 2)
        x0, x1, y0, y1 = toy.extent
        gx, gy = torch.linspace(x0, x1, cfg.grid), torch.linspace(y0, y1, cfg.grid)
        yy, xx = torch.meshgrid(gy, gx, indexing="ij")
        scores = D(torch.stack([xx.flatten(), yy.flatten()], 1)).view(cfg.grid, cfg.grid)  # (grid, grid)
        surface = scores if obj.critic else torch.sigmoid(scores)
        points = G(z_arrows)                                                       # (M, 2)
    x = points.clone().requires_grad_(True)
    loss = generator_loss(obj.name, D(x)) * x.shape[0]                             # sum of per-sample losses
    (grad,) = torch.autograd.grad(loss, x)
    cov = mode_coverage(samples, cfg.dataset, cfg.min_share)
    if curves.step and curves.step[-1] == trainer.step:  # the same step framed twice: one row per step
        for v in vars(curves).values():
            v.pop()
    last = trainer.history[-1] if trainer.history else None
    nan = float("nan")
    curves.step.append(trainer.step)
    curves.d_loss.append(last.d_loss if last else nan)
    curves.g_loss.append(last.g_loss if last else nan)
    curves.wasserstein.append(last.wasserstein if last else nan)
    curves.modes.append(cov.covered)
    curves.high_quality.append(cov.high_quality)
    return GANFrame(trainer.step, status, cfg.dataset, obj.name, samples, real, gx, gy, surface.cpu(),
                    "critic D(x)" if obj.critic else "P(real) = σ(D(x))", points.detach().cpu(), -grad.cpu(),
                    cov.covered, cov.n_modes, cov.high_quality,
                    GANCurves(*(list(v) for v in vars(curves).values())), toy.extent, seconds)


def train_gan_2d(config: GANLiveConfig | None = None, callback: Callable[[int, dict[str, Any]], Any] | None = None,
                 stop_event: threading.Event | None = None) -> Iterator[GANFrame]:
    """Train a 2-D GAN and yield a :class:`GANFrame` at step 0, every ``frame_every`` steps and at the end.

    Args:
        config: :class:`GANLiveConfig` (default: ring of 8, non-saturating).
        callback: ``callback(step, metrics)`` after every generator step; True/"stop" stops.
        stop_event: set it to stop (the last frame then has ``status == "stopped"``).

    Raises:
        ValueError: for an unknown data set/objective or a setting past its cap.
    """
    cfg = config or GANLiveConfig()
    as_choice("GAN data set", cfg.dataset, GAN_TOYS)
    gan_cfg = cfg.gan_config()
    every = as_int("frame_every", cfg.frame_every, 1, gan_cfg.steps)
    if gan_cfg.steps / every > MAX_FRAMES:
        raise ValueError(f"{gan_cfg.steps} steps / frame_every {every} = more than {MAX_FRAMES} frames; "
                         "raise frame_every")
    for name, v, lo, hi in (("grid", cfg.grid, 8, 200), ("arrows", cfg.arrows, 2, 40), ("n_show", cfg.n_show, 10, 10_000),
                            ("latent_dim", cfg.latent_dim, 1, 64)):
        as_int(name, v, lo, hi)
    # the initial weights come from the global RNG: seed it privately (fork) and one run at a time, so
    # runs started together in other threads get the same weights as a run alone
    with _INIT_LOCK, torch.random.fork_rng(devices=[]):
        torch.manual_seed(gan_cfg.seed)
        G = MLPGenerator(cfg.latent_dim, 2, cfg.hidden, cfg.layers)
        D = MLPDiscriminator(2, cfg.hidden, cfg.layers)
    toy = get_toy(cfg.dataset)
    trainer = GANTrainer(G, D, toy.draw, gan_cfg)
    fixed = torch.Generator().manual_seed(gan_cfg.seed + 7)
    z_show = torch.randn(cfg.n_show, cfg.latent_dim, generator=fixed)
    real = toy.draw(cfg.n_show, fixed)
    z_arrows = _latent_grid(cfg.latent_dim, cfg.arrows, gan_cfg.seed)
    curves = GANCurves()
    t0 = time.perf_counter()
    yield make_frame(trainer, cfg, curves, z_show, z_arrows, real, "running")
    while trainer.step < gan_cfg.steps:
        t0 = time.perf_counter()
        n = min(every, gan_cfg.steps - trainer.step)
        for _ in trainer.steps(n, callback, stop_event):
            pass
        status = trainer.status if trainer.status in ("stopped", "diverged") else (
            "finished" if trainer.step >= gan_cfg.steps else "running")
        frame = make_frame(trainer, cfg, curves, z_show, z_arrows, real, status, time.perf_counter() - t0)
        if status == "diverged":
            frame.message = f"Diverged at step {trainer.step}: a loss became NaN/inf. Lower the learning rate."
        elif status == "stopped":
            frame.message = f"Stopped at step {trainer.step}."
        elif status == "finished":
            frame.message = (f"Finished {trainer.step} steps ({OBJECTIVES[gan_cfg.objective].title}); "
                             f"{frame.modes_covered} of {frame.n_modes} modes covered.")
        yield frame
        if status != "running":
            return
