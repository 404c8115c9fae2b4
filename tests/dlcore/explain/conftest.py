"""Fixtures of the explain tests: the zoo CNN/MLP with their test images, and tiny toy models."""

from __future__ import annotations

import pytest
import torch
from torch import nn


@pytest.fixture(scope="session", autouse=True)
def _one_thread():
    """The CPU is shared: one thread keeps the tests from oversubscribing it (and deterministic)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _fashion(kind: str):
    from dlcore import zoo

    name, model, split = zoo.image_classifier(kind)
    if not name.startswith("fmnist"):
        pytest.skip("written for the 28 x 28 Fashion-MNIST models (not on this machine); the 8 x 8 digits "
                    "twin is covered by test_the_digits_twin_runs_every_panel")
    return name, model, split


@pytest.fixture(scope="session")
def cnn():
    """``(name, shared zoo CNN, split)`` of Fashion-MNIST."""
    return _fashion("cnn")


@pytest.fixture(scope="session")
def mlp():
    """``(name, shared zoo LeNet-300-100, split)`` of Fashion-MNIST."""
    return _fashion("mlp")


@pytest.fixture(scope="session")
def image(cnn):
    """One test image ``(1, 1, S, S)`` the CNN classifies confidently."""
    _, model, split = cnn
    with torch.no_grad():
        p = torch.softmax(model(split.x_test[:20]), 1).amax(1)
    return split.x_test[int(p.argmax()):int(p.argmax()) + 1].clone()


class OnePixel(nn.Module):
    """Logits ``(4 v, -4 v)`` of the single pixel ``v = x[:, 0, i, j]``: it looks at nothing else."""

    def __init__(self, i: int, j: int) -> None:
        super().__init__()
        self.i, self.j = i, j

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        v = x[:, 0, self.i, self.j]
        return torch.stack([4 * v, -4 * v], 1)


@pytest.fixture
def one_pixel():
    return OnePixel(9, 17).eval()


class TinyCNN(nn.Module):
    """A small random CNN with ReLU modules and BatchNorm (fast oracle comparisons)."""

    def __init__(self, side: int = 12) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Conv2d(4, 6, 3, padding=1), nn.ReLU())
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(6 * (side // 2) ** 2, 16), nn.ReLU(), nn.Linear(16, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


@pytest.fixture
def tiny():
    torch.manual_seed(0)
    m = TinyCNN().eval()
    x = torch.rand(1, 1, 12, 12, generator=torch.Generator().manual_seed(1))
    return m, x
