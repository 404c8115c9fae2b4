"""Small shared pieces of the model builders: the activation registry and input scaling.

``ACTIVATIONS`` is the one list both the MLP builder and a UI dropdown read.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from dlcore.train.names import ActivationName as Activation  # the one Literal, in a torch-free leaf module

__all__ = ["Activation", "ACTIVATIONS", "make_activation", "Standardize", "count_parameters"]

#: name -> constructor. Sigmoid/tanh saturate (gradients <= 0.25 / 1 per layer), which is
#: the vanishing-gradient lesson of seed 000 §2.2.1; ReLU-family ones do not for x > 0.
ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "relu": nn.ReLU,
    "leaky_relu": lambda: nn.LeakyReLU(0.01),
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
}


def make_activation(name: str) -> nn.Module:
    """A fresh activation module by name.

    Raises:
        ValueError: if ``name`` is not in :data:`ACTIVATIONS`.
    """
    if name not in ACTIVATIONS:
        raise ValueError(f"activation {name!r} is not one of {tuple(ACTIVATIONS)}")
    return ACTIVATIONS[name]()


class Standardize(nn.Module):
    """``(x - mean) / std`` as the model's first layer, so the model takes raw [0, 1] pixels.

    Keeping the scaling inside the model lets attacks and saliency work in pixel space
    (the torchattacks convention). ``mean``/``std`` are buffers, saved in the state dict.

    Shape:
        any ``(N, *)`` -> same shape.
    """

    def __init__(self, mean: float = 0.0, std: float = 1.0) -> None:
        super().__init__()
        if not std > 0:
            raise ValueError(f"std {std} must be positive")
        self.register_buffer("mean", torch.tensor(float(mean)))
        self.register_buffer("std", torch.tensor(float(std)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std

    def extra_repr(self) -> str:
        return f"mean={float(self.mean):.4f}, std={float(self.std):.4f}"


def count_parameters(model: nn.Module, trainable_only: bool = True) -> int:
    """Number of (trainable) parameters of ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)
