"""Small convolutional networks for 28x28 (Fashion-MNIST) and 8x8 (digits) images.

A convolution layer maps ``(N, C_in, H, W)`` to ``(N, C_out, H_out, W_out)`` with
``H_out = floor((H + 2p - k) / s) + 1``; a 2x2 max-pool halves ``H`` and ``W``.
Both models take raw [0, 1] pixels and standardise inside (see
:class:`~dlcore.models.layers.Standardize`), so attacks can work in pixel space.
"""

from __future__ import annotations

import torch
from torch import nn

from dlcore.models.layers import Dropout, Standardize, make_activation

__all__ = ["LeNet5", "SmallCNN"]


class LeNet5(nn.Module):
    """LeNet-5-style CNN (LeCun et al. 1998, http://yann.lecun.com/exdb/publis/pdf/lecun-98.pdf).

    ``conv 6@5x5 (pad 2) -> act -> maxpool 2 -> conv 16@5x5 -> act -> maxpool 2 ->
    fc 120 -> fc 84 -> fc n_classes``. The original used tanh and average pooling; ReLU
    and max-pooling are the modern defaults.

    Args:
        in_channels: 1 (default).
        n_classes: 10 (default).
        image_size: input height = width, at least 12 (default 28).
        activation: ``"relu"`` (default) or any name in ``ACTIVATIONS`` (``"tanh"`` = 1998).
        mean, std: input standardisation (default identity).

    Shape:
        ``(N, in_channels, S, S)`` -> ``(N, n_classes)`` logits.
    """

    def __init__(self, in_channels: int = 1, n_classes: int = 10, image_size: int = 28,
                 activation: str = "relu", mean: float = 0.0, std: float = 1.0) -> None:
        super().__init__()
        if image_size < 12:
            raise ValueError(f"image_size {image_size} is too small for LeNet-5 (needs >= 12: "
                             "two 5x5 convolutions and two 2x2 pools)")
        if in_channels < 1 or n_classes < 2:
            raise ValueError(f"in_channels {in_channels} must be >= 1 and n_classes "
                             f"{n_classes} >= 2")
        s = ((image_size // 2) - 4) // 2  # spatial size after conv2 + pool2 (5 for 28)
        self.scale = Standardize(mean, std)
        self.conv1 = nn.Conv2d(in_channels, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.pool = nn.MaxPool2d(2)
        self.act = make_activation(activation)
        self.fc1 = nn.Linear(16 * s * s, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, n_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The convolutional trunk: ``(N, C, S, S) -> (N, 16, s, s)``."""
        h = self.pool(self.act(self.conv1(self.scale(x))))  # (N, 6, S/2, S/2)
        return self.pool(self.act(self.conv2(h)))  # (N, 16, s, s)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.features(x).flatten(1)  # (N, 16*s*s)
        h = self.act(self.fc1(h))  # (N, 120)
        h = self.act(self.fc2(h))  # (N, 84)
        return self.fc3(h)  # (N, n_classes)


class SmallCNN(nn.Module):
    """Two conv blocks + a small classifier: good for >= 90 % on Fashion-MNIST.

    Each block is ``conv 3x3 (pad 1) -> BatchNorm2d -> ReLU -> maxpool 2``::

        (N, C, S, S) -> (N, c1, S/2, S/2) -> (N, c2, S/4, S/4) -> flatten
        -> Dropout -> fc hidden -> ReLU -> Dropout -> fc n_classes

    Args:
        in_channels: 1 (default).
        n_classes: 10 (default).
        image_size: input height = width, divisible by 4 (28 Fashion-MNIST, 8 digits).
        channels: ``(c1, c2)`` output channels of the two blocks (default ``(32, 64)``).
        hidden: classifier width (default 128).
        dropout: drop probability in the classifier (default 0.25).
        mean, std: input standardisation (default identity).

    Shape:
        ``(N, in_channels, S, S)`` -> ``(N, n_classes)`` logits.
    """

    def __init__(self, in_channels: int = 1, n_classes: int = 10, image_size: int = 28,
                 channels: tuple[int, int] = (32, 64), hidden: int = 128,
                 dropout: float = 0.25, mean: float = 0.0, std: float = 1.0) -> None:
        super().__init__()
        if image_size < 4 or image_size % 4:
            raise ValueError(f"image_size {image_size} must be a positive multiple of 4 "
                             "(two 2x2 pools)")
        if len(channels) != 2 or min(channels) < 1:
            raise ValueError(f"channels {channels} must be two positive integers")
        if hidden < 1:
            raise ValueError(f"hidden {hidden} must be a positive integer")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout {dropout} must be in [0, 1)")
        c1, c2 = channels
        s = image_size // 4
        self.scale = Standardize(mean, std)
        self.block1 = nn.Sequential(nn.Conv2d(in_channels, c1, 3, padding=1),
                                    nn.BatchNorm2d(c1), nn.ReLU(), nn.MaxPool2d(2))
        self.block2 = nn.Sequential(nn.Conv2d(c1, c2, 3, padding=1),
                                    nn.BatchNorm2d(c2), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(nn.Flatten(), Dropout(dropout),
                                        nn.Linear(c2 * s * s, hidden), nn.ReLU(),
                                        Dropout(dropout), nn.Linear(hidden, n_classes))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The convolutional trunk: ``(N, C, S, S) -> (N, c2, S/4, S/4)``."""
        h = self.block1(self.scale(x))  # (N, c1, S/2, S/2)
        return self.block2(h)  # (N, c2, S/4, S/4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))  # (N, n_classes)
