"""Tiny deterministic models and data shared by the attack and defence tests."""

from __future__ import annotations

import functools

import torch
from torch import nn


@functools.lru_cache(maxsize=1)
def digits_data(n: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    """The first ``n`` 8×8 test digits (always available: scikit-learn ships them)."""
    from dlcore import zoo

    split = zoo.load_data("digits_cnn")
    return split.x_test[:n].clone(), split.y_test[:n].clone()


def digits_cnn() -> nn.Module:
    """The shipped digits CNN (99 % test accuracy, 14k weights): a real, tiny, trained model."""
    from dlcore import zoo

    return zoo.get("digits_cnn")


class TinyCNN(nn.Module):
    """A small random CNN with large input gradients (no saturated softmax): ``(N, 1, S, S) -> (N, 10)``."""

    def __init__(self, seed: int = 0, size: int = 8) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.fc = nn.Linear(4 * size * size, 10)
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=g) * 0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.tanh(self.conv(x)).flatten(1))


class Linear64(nn.Module):
    """Softmax regression on 8×8 images in float64: its input gradient is known in closed form,
    ``∇ₓ CE = Wᵀ (softmax(Wx + b) − e_y)``."""

    def __init__(self, seed: int = 0) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.fc = nn.Linear(64, 10).double()
        with torch.no_grad():
            self.fc.weight.copy_(torch.randn(10, 64, generator=g, dtype=torch.float64))
            self.fc.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x.double().flatten(1))
