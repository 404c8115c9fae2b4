"""GAN generators and discriminators: small MLPs for 2-D toys, a small DCGAN for 28x28.

A generator maps a latent code ``z ~ N(0, I)`` to a sample, ``G: R^k -> R^d``; a
discriminator (or a WGAN *critic*) maps a sample to one raw score ``D: R^d -> R``. The raw
score is a logit for the original GAN (``sigmoid(D(x))`` = P(x is real), Goodfellow et al.
2014, https://arxiv.org/abs/1406.2661) and an unbounded critic value for WGAN (Arjovsky et
al. 2017, https://arxiv.org/abs/1701.07875); the losses in :mod:`dlcore.generative.gan`
decide which.

The DCGAN pair follows Radford et al. 2016 (https://arxiv.org/abs/1511.06434): strided
(transposed) convolutions instead of pooling, BatchNorm in the generator, LeakyReLU(0.2) in
the discriminator, tanh output. The discriminator has no BatchNorm, so the same network can
serve as a WGAN-GP critic (Gulrajani et al. 2017 penalise per-sample gradients). The image
models take and give **pixels in [0, 1]** like every image model of the lab (the [-1, 1]
range tanh works in is converted inside).
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["MLPGenerator", "MLPDiscriminator", "DCGANGenerator", "DCGANDiscriminator", "DCGAN",
           "MAX_HIDDEN", "MAX_LAYERS"]

MAX_HIDDEN = 1024
MAX_LAYERS = 8


def _check_mlp(name: str, in_dim: int, out_dim: int, hidden: int, layers: int) -> None:
    for label, v, lo, hi in (("in_dim", in_dim, 1, 64), ("out_dim", out_dim, 1, 64),
                             ("hidden", hidden, 1, MAX_HIDDEN), ("layers", layers, 1, MAX_LAYERS)):
        if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
            raise ValueError(f"{name} {label} {v!r} must be an integer in [{lo}, {hi}]")


def _mlp(in_dim: int, out_dim: int, hidden: int, layers: int, act: type[nn.Module] | nn.Module) -> nn.Sequential:
    mods: list[nn.Module] = []
    width = in_dim
    for _ in range(layers):
        mods += [nn.Linear(width, hidden), act() if isinstance(act, type) else act]
        width = hidden
    mods.append(nn.Linear(width, out_dim))
    return nn.Sequential(*mods)


class MLPGenerator(nn.Module):
    """``G(z)``: ``layers`` hidden ReLU layers of width ``hidden``, linear output (GAN Lab's toy G).

    Args:
        latent_dim: size ``k`` of ``z`` (default 2, so a latent grid can be drawn).
        out_dim: sample dimension ``d`` (default 2).
        hidden: width (default 128). layers: hidden layers (default 3).

    Shape:
        ``(N, latent_dim) -> (N, out_dim)``.
    """

    def __init__(self, latent_dim: int = 2, out_dim: int = 2, hidden: int = 128, layers: int = 3) -> None:
        super().__init__()
        _check_mlp("generator", latent_dim, out_dim, hidden, layers)
        self.latent_dim = latent_dim
        self.net = _mlp(latent_dim, out_dim, hidden, layers, nn.ReLU)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)  # (N, out_dim)


class MLPDiscriminator(nn.Module):
    """``D(x)``: ``layers`` hidden LeakyReLU(0.2) layers, one raw score (logit or critic value).

    Args:
        in_dim: sample dimension (default 2). hidden: width (default 128). layers: default 3.

    Shape:
        ``(N, in_dim) -> (N, 1)``.
    """

    def __init__(self, in_dim: int = 2, hidden: int = 128, layers: int = 3) -> None:
        super().__init__()
        _check_mlp("discriminator", in_dim, 1, hidden, layers)
        self.net = _mlp(in_dim, 1, hidden, layers, nn.LeakyReLU(0.2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)  # (N, 1)


class DCGANGenerator(nn.Module):
    """DCGAN generator for 28x28 images (Radford et al. 2016, scaled down)::

        z (N, k) -> Linear -> (N, 2b, 7, 7) -> BN, ReLU
          -> ConvT 4x4 s2 -> (N, b, 14, 14) -> BN, ReLU
          -> ConvT 4x4 s2 -> (N, 1, 28, 28) -> tanh -> (x + 1) / 2  (pixels in [0, 1])

    Args:
        latent_dim: ``k`` (default 64; Radford et al. used 100 for 64x64 images).
        base: channel width ``b`` (default 64).

    Shape:
        ``(N, latent_dim) -> (N, 1, 28, 28)`` in [0, 1].
    """

    def __init__(self, latent_dim: int = 64, base: int = 64) -> None:
        super().__init__()
        if not 1 <= latent_dim <= 512 or not 4 <= base <= 256:
            raise ValueError(f"latent_dim {latent_dim} must be in [1, 512] and base {base} in [4, 256]")
        self.latent_dim, self.base = latent_dim, base
        self.fc = nn.Sequential(nn.Linear(latent_dim, 2 * base * 49, bias=False),
                                nn.BatchNorm1d(2 * base * 49), nn.ReLU())
        self.up = nn.Sequential(
            nn.ConvTranspose2d(2 * base, base, 4, 2, 1, bias=False), nn.BatchNorm2d(base), nn.ReLU(),
            nn.ConvTranspose2d(base, 1, 4, 2, 1), nn.Tanh())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.fc(z).view(-1, 2 * self.base, 7, 7)  # (N, 2b, 7, 7)
        return (self.up(h) + 1) / 2  # (N, 1, 28, 28) in [0, 1]


class DCGANDiscriminator(nn.Module):
    """DCGAN discriminator / critic for 28x28 images::

        pixels (N, 1, 28, 28) -> 2x - 1 -> Conv 4x4 s2 -> (N, b, 14, 14) -> LeakyReLU(0.2)
          -> Conv 4x4 s2 -> (N, 2b, 7, 7) -> LeakyReLU(0.2) -> Linear -> (N, 1)

    Args:
        base: channel width ``b`` (default 64).

    Shape:
        ``(N, 1, 28, 28)`` in [0, 1] ``-> (N, 1)`` raw score.
    """

    def __init__(self, base: int = 64) -> None:
        super().__init__()
        if not 4 <= base <= 256:
            raise ValueError(f"base {base} must be in [4, 256]")
        self.net = nn.Sequential(
            nn.Conv2d(1, base, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(base, 2 * base, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Flatten(), nn.Linear(2 * base * 49, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(2 * x - 1)  # (N, 1)


class DCGAN(nn.Module):
    """The generator/discriminator pair stored as one zoo checkpoint.

    ``DCGAN(z)`` is ``generator(z)``; :meth:`sample` draws ``z ~ N(0, I)`` from a seeded
    generator so a seed always gives the same grid.

    Shape:
        ``(N, latent_dim) -> (N, 1, 28, 28)`` pixels in [0, 1].
    """

    def __init__(self, latent_dim: int = 64, g_base: int = 64, d_base: int = 64) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.generator = DCGANGenerator(latent_dim, g_base)
        self.discriminator = DCGANDiscriminator(d_base)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.generator(z)  # (N, 1, 28, 28)

    def latents(self, n: int, seed: int = 0) -> torch.Tensor:
        """``n`` latent codes from ``torch.Generator().manual_seed(seed)``: ``(n, latent_dim)``."""
        g = torch.Generator().manual_seed(int(seed))
        return torch.randn(n, self.latent_dim, generator=g)

    @torch.no_grad()
    def sample(self, n: int, seed: int = 0) -> torch.Tensor:
        """``n`` images from seeded latents, in eval mode: ``(n, 1, 28, 28)``."""
        was = self.training
        self.eval()
        dev = next(self.parameters()).device
        out = self.generator(self.latents(n, seed).to(dev)).cpu()
        self.train(was)
        return out
