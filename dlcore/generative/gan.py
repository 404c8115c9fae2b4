"""GAN objectives and the one GAN training loop (seed 000 §8.5.1).

The game (Goodfellow et al. 2014, https://arxiv.org/abs/1406.2661)::

    min_G max_D V(D, G) = E_x[log D(x)] + E_z[log(1 - D(G(z)))]

alternates two optimizers: ``n_critic`` steps of D (or the critic) on a real and a fake batch,
then one step of G. That does not fit the supervised :class:`dlcore.train.Trainer` (one model,
one optimizer, one loss), so this module is the recipe-level loop — :class:`GANTrainer` — used
by both the live 2-D panel (:mod:`dlcore.generative.gan_live`) and the DCGAN zoo build.

Objectives (:data:`OBJECTIVES`); ``d = D(x)`` is the raw score (a logit, ``sigma(d)`` = P(real)):

================  ====================================================  =========================
name              losses (both minimised)                               paper defaults
================  ====================================================  =========================
minimax           L_D = -log s(d_r) - log(1 - s(d_f));                  Adam 2e-4, b (0.5, 0.999),
                  L_G = log(1 - s(d_f))   (saturates: dL/dd_f = -s(d_f)  n_critic 1 (DCGAN's)
                  -> 0 when D rejects fakes)
non_saturating    L_D as above; L_G = -log s(d_f)  (dL/dd_f = s(d_f) - 1)  same
wgan              L_D = E[d_f] - E[d_r]; L_G = -E[d_f]; weights clipped  RMSprop 5e-5, clip 0.01,
                  to [-c, c] after each critic step (Arjovsky et al.       n_critic 5
                  2017, https://arxiv.org/abs/1701.07875)
wgan_gp           WGAN + lambda E[(||grad D(x_hat)||_2 - 1)^2],          Adam 1e-4, b (0, 0.9),
                  x_hat = e x + (1 - e) G(z), e ~ U(0, 1) (Gulrajani et    lambda 10, n_critic 5
                  al. 2017, https://arxiv.org/abs/1704.00028)
================  ====================================================  =========================

For the WGANs, ``E[d_r] - E[d_f]`` estimates the Wasserstein-1 distance (up to the critic's
Lipschitz constant) and is logged as ``wasserstein``.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace
from typing import Any, Callable, Iterator, Literal

import torch
import torch.nn.functional as F
from torch import nn

from dlcore.generative._checks import as_choice, as_float, as_int

__all__ = ["ObjectiveName", "GANObjective", "OBJECTIVES", "GANConfig", "GANStepLog", "GANTrainer",
           "discriminator_loss", "generator_loss", "gradient_penalty", "MAX_GAN_STEPS"]

ObjectiveName = Literal["minimax", "non_saturating", "wgan", "wgan_gp"]
MAX_GAN_STEPS = 200_000


@dataclass(frozen=True)
class GANObjective:
    """One objective and its paper's training settings (see the module table)."""

    name: str
    title: str
    critic: bool                      # True: D is an unbounded critic (WGAN), else a logit
    optimizer: Literal["adam", "rmsprop"]
    lr: float
    betas: tuple[float, float]
    n_critic: int
    clip: float | None                # weight clipping (WGAN)
    gp_lambda: float | None           # gradient-penalty weight (WGAN-GP)
    paper: str


OBJECTIVES: dict[str, GANObjective] = {
    "minimax": GANObjective("minimax", "original minimax (saturating)", False, "adam", 2e-4, (0.5, 0.999), 1,
                            None, None, "Goodfellow et al. 2014, https://arxiv.org/abs/1406.2661"),
    "non_saturating": GANObjective("non_saturating", "non-saturating (-log D(G(z)))", False, "adam", 2e-4,
                                   (0.5, 0.999), 1, None, None,
                                   "Goodfellow et al. 2014; Radford et al. 2016 (DCGAN) settings"),
    "wgan": GANObjective("wgan", "WGAN (weight clipping)", True, "rmsprop", 5e-5, (0.0, 0.0), 5, 0.01, None,
                         "Arjovsky et al. 2017, https://arxiv.org/abs/1701.07875"),
    "wgan_gp": GANObjective("wgan_gp", "WGAN-GP (gradient penalty)", True, "adam", 1e-4, (0.0, 0.9), 5, None, 10.0,
                            "Gulrajani et al. 2017, https://arxiv.org/abs/1704.00028"),
}


def discriminator_loss(objective: str, d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
    """D's loss (without the gradient penalty) from raw scores ``(N, 1)``; see the module table."""
    if OBJECTIVES[objective].critic:
        return d_fake.mean() - d_real.mean()
    # -log s(d_r) - log(1 - s(d_f)) = softplus(-d_r) + softplus(d_f), numerically stable
    return F.softplus(-d_real).mean() + F.softplus(d_fake).mean()


def generator_loss(objective: str, d_fake: torch.Tensor) -> torch.Tensor:
    """G's loss from D's raw scores on fakes ``(N, 1)``; see the module table."""
    if objective == "minimax":
        return -F.softplus(d_fake).mean()        # log(1 - s(d_f)) = -softplus(d_f)
    if objective == "non_saturating":
        return F.softplus(-d_fake).mean()        # -log s(d_f)
    return -d_fake.mean()                        # WGAN, WGAN-GP


def gradient_penalty(critic: nn.Module, real: torch.Tensor, fake: torch.Tensor,
                     eps: torch.Tensor | None = None, generator: torch.Generator | None = None
                     ) -> tuple[torch.Tensor, torch.Tensor]:
    """``E[(||grad_x D(x_hat)||_2 - 1)^2]`` with ``x_hat = e x + (1 - e) G(z)`` (Gulrajani et al. 2017).

    Args:
        critic: D. real, fake: ``(N, ...)`` batches (fake detached from G).
        eps: the mixing weights ``(N,)`` (default ``U(0, 1)`` from ``generator``).

    Returns:
        ``(penalty, grad_norms (N,))``; the penalty keeps the graph (``create_graph=True``).
    """
    n = real.shape[0]
    if eps is None:
        eps = torch.rand(n, generator=generator, device=real.device)
    e = eps.view(n, *([1] * (real.ndim - 1)))
    x_hat = (e * real + (1 - e) * fake).requires_grad_(True)                   # (N, ...)
    (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    norms = grad.flatten(1).norm(dim=1)                                        # (N,)
    return ((norms - 1) ** 2).mean(), norms


@dataclass(frozen=True)
class GANConfig:
    """Settings of a GAN run; ``None`` means "the objective's paper value" (:data:`OBJECTIVES`).

    Args:
        objective: ``"minimax"``, ``"non_saturating"`` (default), ``"wgan"``, ``"wgan_gp"``.
        lr, betas, n_critic, clip, gp_lambda: overrides of the paper values (both optimizers
            share ``lr`` and ``betas``; RMSprop ignores ``betas``).
        batch_size: real and fake samples per step (default 64, the WGAN papers').
        steps: generator steps, 1..:data:`MAX_GAN_STEPS` (default 2000).
        seed: seeds the latents and every random draw (default 0).
    """

    objective: ObjectiveName = "non_saturating"
    lr: float | None = None
    betas: tuple[float, float] | None = None
    n_critic: int | None = None
    clip: float | None = None
    gp_lambda: float | None = None
    batch_size: int = 64
    steps: int = 2000
    seed: int = 0

    def resolved(self) -> "GANConfig":
        """A checked copy with every ``None`` replaced by the paper value.

        Raises:
            ValueError: naming the bad field and its rule.
        """
        obj = OBJECTIVES[as_choice("objective", self.objective, OBJECTIVES)]
        b = self.betas if self.betas is not None else obj.betas
        if not isinstance(b, (tuple, list)) or len(b) != 2:
            raise ValueError(f"betas {b!r} must be two numbers in [0, 1)")
        betas = (as_float("beta1", b[0], 0.0, 1.0, hi_open=True), as_float("beta2", b[1], 0.0, 1.0, hi_open=True))
        clip = self.clip if self.clip is not None else obj.clip
        gp = self.gp_lambda if self.gp_lambda is not None else obj.gp_lambda
        return replace(
            self, lr=as_float("learning rate", self.lr if self.lr is not None else obj.lr, 0.0, 1.0, lo_open=True),
            betas=betas, n_critic=as_int("n_critic", self.n_critic if self.n_critic is not None else obj.n_critic, 1, 20),
            clip=None if clip is None else as_float("clip", clip, 0.0, 10.0, lo_open=True),
            gp_lambda=None if gp is None else as_float("gp_lambda", gp, 0.0, 1000.0),
            batch_size=as_int("batch size", self.batch_size, 2, 4096),
            steps=as_int("steps", self.steps, 1, MAX_GAN_STEPS), seed=as_int("seed", self.seed, 0, 2**31 - 1))


@dataclass
class GANStepLog:
    """One generator step (after its ``n_critic`` critic steps): losses and raw-score means."""

    step: int
    d_loss: float
    g_loss: float
    d_real: float          # mean raw score on real data
    d_fake: float          # mean raw score on fakes
    wasserstein: float     # E[d_r] - E[d_f] (a W1 estimate for the WGANs)
    penalty: float         # gradient penalty (WGAN-GP; 0 otherwise)


class GANTrainer:
    """The alternating GAN loop: per step, ``n_critic`` D updates, then one G update.

    Args:
        generator: ``G(z)``; needs ``latent_dim``. discriminator: ``D(x) -> (N, 1)``.
        real_sampler: ``real_sampler(n, torch.Generator) -> (n, ...)`` real data.
        config: :class:`GANConfig`.
        device: default CPU.

    :meth:`steps` yields a :class:`GANStepLog` per generator step; ``callback(step, metrics)``
    returning True/"stop" or a set ``stop_event`` ends the run (``status`` says how it ended).
    """

    def __init__(self, generator: nn.Module, discriminator: nn.Module,
                 real_sampler: Callable[[int, torch.Generator], torch.Tensor], config: GANConfig | None = None,
                 device: str | torch.device = "cpu") -> None:
        self.config = (config or GANConfig()).resolved()
        self.objective = OBJECTIVES[self.config.objective]
        self.G, self.D = generator.to(device), discriminator.to(device)
        self.real_sampler, self.device = real_sampler, torch.device(device)
        self.gen = torch.Generator().manual_seed(self.config.seed)
        self.opt_g, self.opt_d = self._optimizer(self.G), self._optimizer(self.D)
        self.step = 0
        self.status, self.seconds = "running", 0.0
        self.history: list[GANStepLog] = []

    def _optimizer(self, module: nn.Module) -> torch.optim.Optimizer:
        c = self.config
        if self.objective.optimizer == "rmsprop":
            return torch.optim.RMSprop(module.parameters(), lr=c.lr)
        return torch.optim.Adam(module.parameters(), lr=c.lr, betas=c.betas)  # type: ignore[arg-type]

    def latents(self, n: int) -> torch.Tensor:
        """``z ~ N(0, I)``, ``(n, latent_dim)``, from the run's generator."""
        return torch.randn(n, self.G.latent_dim, generator=self.gen).to(self.device)

    def train_step(self) -> GANStepLog:
        """One generator step with its critic steps (numbered as in the seed's training process)."""
        c, obj, bs = self.config, self.objective, self.config.batch_size
        self.G.train()
        self.D.train()
        penalty = torch.zeros(())
        for _ in range(c.n_critic):                                   # 1. fix G, train D
            real = self.real_sampler(bs, self.gen).to(self.device)   # (B, ...)
            with torch.no_grad():
                fake = self.G(self.latents(bs))                       # (B, ...)
            d_real, d_fake = self.D(real), self.D(fake)               # (B, 1)
            d_loss = discriminator_loss(obj.name, d_real, d_fake)
            if c.gp_lambda:
                eps = torch.rand(bs, generator=self.gen).to(self.device)
                penalty, _ = gradient_penalty(self.D, real, fake, eps)
                d_loss = d_loss + c.gp_lambda * penalty
            self.opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            self.opt_d.step()
            if c.clip:                                                # WGAN: keep D Lipschitz
                with torch.no_grad():
                    for p in self.D.parameters():
                        p.clamp_(-c.clip, c.clip)
        d_fake_g = self.D(self.G(self.latents(bs)))                   # 2. fix D, train G
        g_loss = generator_loss(obj.name, d_fake_g)
        self.opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        self.opt_g.step()
        self.step += 1
        dr, df = float(d_real.detach().mean()), float(d_fake.detach().mean())
        log = GANStepLog(self.step, float(d_loss.detach()), float(g_loss.detach()), dr, df, dr - df,
                         float(penalty.detach()))
        self.history.append(log)
        return log

    def steps(self, n: int | None = None, callback: Callable[[int, dict[str, Any]], Any] | None = None,
              stop_event: threading.Event | None = None) -> Iterator[GANStepLog]:
        """Run ``n`` more generator steps (default: up to ``config.steps`` in total), yielding each log.

        Stops early (``status = "stopped"``) on a callback's True/"stop" or a set ``stop_event``,
        and with ``status = "diverged"`` when a loss becomes NaN/inf.
        """
        n = self.config.steps - self.step if n is None else as_int("steps", n, 0, MAX_GAN_STEPS)
        self.status = "running"
        for _ in range(n):
            t0 = time.perf_counter()
            log = self.train_step()
            self.seconds += time.perf_counter() - t0
            if not (torch.isfinite(torch.tensor([log.d_loss, log.g_loss])).all()):
                self.status = "diverged"
                yield log
                return
            answer = callback(log.step, vars(log)) if callback is not None else None
            stop = answer is True or answer == "stop" or (stop_event is not None and stop_event.is_set())
            yield log
            if stop:
                self.status = "stopped"
                return
        self.status = "finished" if self.step >= self.config.steps else "paused"
