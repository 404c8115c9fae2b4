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


class Dropout(nn.Dropout):
    """``nn.Dropout`` that can draw its masks from a generator of its own.

    With ``generator`` None (the default) it *is* ``nn.Dropout`` (torch's global RNG, so seeded
    runs repeat the notes' plain loop). Set ``generator`` (see :func:`own_dropout_rng`) and the
    masks no longer depend on what other threads draw from the global RNG: two users training
    the same settings at once on one server get the same run.

    Inverted dropout (Srivastava et al. 2014): ``y = x · m / (1 − p)``, ``m ~ Bernoulli(1 − p)``.
    """

    generator: torch.Generator | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.generator is None or not self.training or self.p == 0.0:
            return super().forward(x)
        keep = 1.0 - self.p
        mask = torch.empty_like(x).bernoulli_(keep, generator=self.generator)  # (same shape as x)
        mask.div_(keep)  # torch's own order of operations: equal to F.dropout on the same stream
        return x * mask


def own_dropout_rng(model: nn.Module, rng: int | torch.Generator) -> int:
    """Give every :class:`Dropout` of ``model`` one private generator (``rng``, or a new one
    seeded with it); returns how many modules got it.

    To repeat a plain loop on the global RNG exactly, pass a generator holding the global state
    (``g.set_state(torch.get_rng_state())``) and let the trainer draw its shuffles from it too.
    """
    gen = rng if isinstance(rng, torch.Generator) else torch.Generator().manual_seed(int(rng))
    mods = [m for m in model.modules() if isinstance(m, Dropout)]
    for m in mods:
        m.generator = gen
    return len(mods)
