"""Noise-prediction networks ``eps_theta(x_t, t)`` for DDPM (Ho et al. 2020,
https://arxiv.org/abs/2006.11239): an MLP for 1-D/2-D toys and a compact U-Net for 28x28.

The network must know *how noisy* ``x_t`` is, i.e. the step ``t``. Seed 003 §dl_8_2 feeds
``t / T`` as one extra input; a plain integer is a poor input (the net cannot tell nearby
steps apart smoothly). DDPM uses the Transformer's sinusoidal embedding (Vaswani et al.
2017, https://arxiv.org/abs/1706.03762)::

    emb(t)_{2i}   = sin(t / 10000^{2i/d})
    emb(t)_{2i+1} = cos(t / 10000^{2i/d})          i = 0 .. d/2 - 1

followed by a small MLP, and adds it to every residual block of the U-Net
(Ronneberger et al. 2015, https://arxiv.org/abs/1505.04597). Both models output a tensor
shaped like ``x_t``: the predicted noise.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import nn

__all__ = ["timestep_embedding", "TimeEmbedding", "MLPDenoiser", "ResBlock", "SmallUNet",
           "TimeInput", "TIME_INPUTS"]

TimeInput = Literal["sinusoidal", "scalar"]
#: How the MLP denoiser sees ``t``: the DDPM embedding or the seed's ``t / T`` input.
TIME_INPUTS: tuple[str, ...] = ("sinusoidal", "scalar")


def timestep_embedding(t: torch.Tensor, dim: int, max_period: float = 10_000.0) -> torch.Tensor:
    """Sinusoidal embedding of integer steps (formula in the module docstring).

    Shape:
        ``t (N,) -> (N, dim)`` (``dim`` even).
    """
    if dim < 2 or dim % 2:
        raise ValueError(f"embedding dim {dim} must be an even integer >= 2")
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    args = t.float()[:, None] * freqs[None]  # (N, half)
    return torch.cat([torch.sin(args), torch.cos(args)], dim=1)  # (N, dim)


class TimeEmbedding(nn.Module):
    """``t -> Linear(SiLU(Linear(sinusoid(t))))``. Shape: ``(N,) -> (N, out_dim)``."""

    def __init__(self, dim: int, out_dim: int) -> None:
        super().__init__()
        self.dim = dim
        self.mlp = nn.Sequential(nn.Linear(dim, out_dim), nn.SiLU(), nn.Linear(out_dim, out_dim))

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        return self.mlp(timestep_embedding(t, self.dim))  # (N, out_dim)


class MLPDenoiser(nn.Module):
    """``eps_theta(x_t, t)`` for points: an MLP on ``[x_t, emb(t)]``.

    Args:
        dim: data dimension (1 for the seed's N(3, 2^2), 2 for the swiss roll). Default 1.
        hidden: width (default 128, the seed's). layers: hidden layers (default 2, the seed's).
        time_input: ``"sinusoidal"`` (default, DDPM) or ``"scalar"`` (the seed's ``t / T``).
        n_timesteps: ``T``, used by ``"scalar"`` (default 1000).
        t_dim: embedding size for ``"sinusoidal"`` (default 32).

    Shape:
        ``x_t (N, dim), t (N,) -> (N, dim)``.
    """

    def __init__(self, dim: int = 1, hidden: int = 128, layers: int = 2, time_input: TimeInput = "sinusoidal",
                 n_timesteps: int = 1000, t_dim: int = 32) -> None:
        super().__init__()
        if time_input not in TIME_INPUTS:
            raise ValueError(f"time_input {time_input!r} is not one of {TIME_INPUTS}")
        if not 1 <= dim <= 64 or not 1 <= hidden <= 1024 or not 1 <= layers <= 8:
            raise ValueError(f"dim {dim}, hidden {hidden}, layers {layers} must lie in [1, 64], [1, 1024], [1, 8]")
        self.dim, self.time_input, self.n_timesteps = dim, time_input, n_timesteps
        self.embed = TimeEmbedding(t_dim, t_dim) if time_input == "sinusoidal" else None
        width = dim + (t_dim if time_input == "sinusoidal" else 1)
        mods: list[nn.Module] = []
        for _ in range(layers):
            mods += [nn.Linear(width, hidden), nn.ReLU()]
            width = hidden
        mods.append(nn.Linear(width, dim))
        self.net = nn.Sequential(*mods)

    def forward(self, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        if self.embed is not None:
            te = self.embed(t)  # (N, t_dim)
        else:
            te = t.float().unsqueeze(1) / self.n_timesteps  # (N, 1), the seed's input
        return self.net(torch.cat([x_t, te], dim=1))  # (N, dim)


class ResBlock(nn.Module):
    """``h = conv(SiLU(GN(x))) + proj(emb); out = skip(x) + conv(SiLU(GN(h)))`` (DDPM's block).

    Shape:
        ``x (N, c_in, H, W), emb (N, t_dim) -> (N, c_out, H, W)``.
    """

    def __init__(self, c_in: int, c_out: int, t_dim: int) -> None:
        super().__init__()
        self.norm1 = nn.GroupNorm(min(8, c_in), c_in)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.proj = nn.Linear(t_dim, c_out)
        self.norm2 = nn.GroupNorm(min(8, c_out), c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()
        self.act = nn.SiLU()

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(self.act(self.norm1(x)))  # (N, c_out, H, W)
        h = h + self.proj(emb)[:, :, None, None]  # add the time embedding per channel
        h = self.conv2(self.act(self.norm2(h)))
        return self.skip(x) + h


class SmallUNet(nn.Module):
    """A compact three-level U-Net for 28x28 noise prediction (channels ``(c1, c2, c3)``)::

        x (N, 1, 28, 28) -> conv -> (N, c1, 28, 28) -> Res ------------------------------.
          -> down -> (N, c2, 14, 14) -> Res ------------------------------.              |
          -> down -> (N, c3, 7, 7) -> Res (middle)                        |              |
          -> up -> (N, c2, 14, 14) -> cat skip -> Res -> (N, c2, 14, 14) <'              |
          -> up -> (N, c1, 28, 28) -> cat skip -> Res -> (N, c1, 28, 28) <---------------'
          -> GN, SiLU, conv -> (N, 1, 28, 28)   (predicted noise)

    Every residual block receives the time embedding. Works on images scaled to [-1, 1].
    The default widths (16, 32, 64) keep one training step of 64 images near 0.2 s on one
    CPU thread (a (32, 64, 64) net costs about 4x more).

    Args:
        in_channels: 1 (default). channels: ``(c1, c2, c3)`` per level (default (16, 32, 64)).
        t_dim: time-embedding size (default 64).

    Shape:
        ``x_t (N, C, H, W), t (N,) -> (N, C, H, W)`` (``H``, ``W`` divisible by 4).
    """

    def __init__(self, in_channels: int = 1, channels: tuple[int, int, int] = (16, 32, 64),
                 t_dim: int = 64) -> None:
        super().__init__()
        c1, c2, c3 = (int(c) for c in channels)
        if not all(4 <= c <= 256 for c in (c1, c2, c3)) or not 1 <= in_channels <= 4:
            raise ValueError(f"channels {tuple(channels)} must lie in [4, 256] and in_channels "
                             f"{in_channels} in [1, 4]")
        self.time = TimeEmbedding(t_dim, t_dim)
        self.inc = nn.Conv2d(in_channels, c1, 3, padding=1)
        self.enc1 = ResBlock(c1, c1, t_dim)                         # 28x28
        self.down1 = nn.Conv2d(c1, c2, 3, stride=2, padding=1)      # -> 14x14
        self.enc2 = ResBlock(c2, c2, t_dim)
        self.down2 = nn.Conv2d(c2, c3, 3, stride=2, padding=1)      # -> 7x7
        self.mid = ResBlock(c3, c3, t_dim)
        self.up2 = nn.ConvTranspose2d(c3, c2, 4, 2, 1)              # -> 14x14
        self.dec2 = ResBlock(2 * c2, c2, t_dim)
        self.up1 = nn.ConvTranspose2d(c2, c1, 4, 2, 1)              # -> 28x28
        self.dec1 = ResBlock(2 * c1, c1, t_dim)
        self.out = nn.Sequential(nn.GroupNorm(min(8, c1), c1), nn.SiLU(),
                                 nn.Conv2d(c1, in_channels, 3, padding=1))

    def forward(self, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        if x_t.shape[-1] % 4 or x_t.shape[-2] % 4:
            raise ValueError(f"image size {tuple(x_t.shape[-2:])} must be divisible by 4")
        emb = self.time(t)                       # (N, t_dim)
        h1 = self.enc1(self.inc(x_t), emb)       # (N, c1, 28, 28)
        h2 = self.enc2(self.down1(h1), emb)      # (N, c2, 14, 14)
        m = self.mid(self.down2(h2), emb)        # (N, c3, 7, 7)
        u2 = self.dec2(torch.cat([self.up2(m), h2], 1), emb)  # (N, c2, 14, 14)
        u1 = self.dec1(torch.cat([self.up1(u2), h1], 1), emb)  # (N, c1, 28, 28)
        return self.out(u1)                      # (N, C, 28, 28)
