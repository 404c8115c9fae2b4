"""Tiny deterministic fixtures for the compression tests: models built in the test, the digits
split (always available, 1,437 training images of 8×8), and a 10-line PGD for the table."""

from __future__ import annotations

import functools

import torch
from torch import nn

from dlcore.data import DataSplit, load_digits


@functools.lru_cache(maxsize=1)
def digits() -> DataSplit:
    return load_digits()


def make_mlp(seed: int = 0, sizes=(64, 32, 16, 10)) -> nn.Module:
    """``Flatten → Linear → ReLU → … → Linear`` with fixed weights (no BatchNorm, no dropout)."""
    torch.manual_seed(seed)
    layers: list[nn.Module] = [nn.Flatten()]
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers).eval()


def make_cnn(seed: int = 0) -> nn.Module:
    """``(N, 1, 8, 8) → conv 8 → BN → ReLU → pool → conv 16 → BN → ReLU → pool → Linear 10``."""
    torch.manual_seed(seed)
    m = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
                      nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
                      nn.Flatten(), nn.Linear(16 * 2 * 2, 10))
    with torch.no_grad():  # non-trivial BatchNorm statistics
        for bn in (m[1], m[5]):
            bn.running_mean.uniform_(-0.2, 0.2)
            bn.running_var.uniform_(0.5, 1.5)
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.uniform_(-0.2, 0.2)
    return m.eval()


def pgd(model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float = 0.1, alpha: float = 0.02,
        steps: int = 5) -> torch.Tensor:
    """L∞ PGD from the clean image (Madry et al. 2018), enough to test the table's plumbing."""
    x_adv = x.clone()
    for _ in range(steps):
        x_adv.requires_grad_(True)
        loss = nn.functional.cross_entropy(model(x_adv), y)
        (g,) = torch.autograd.grad(loss, x_adv)
        x_adv = (x_adv.detach() + alpha * g.sign()).clamp(x - eps, x + eps).clamp(0, 1)
    return x_adv.detach()
