"""FGSM: one signed-gradient step (Goodfellow, Shlens & Szegedy 2015).

The network is "too linear": for a linear score ``w·x`` the change under ``x' = x + ε·sign(w)``
is ``ε‖w‖₁``, which grows with the dimension, so a tiny ε per pixel moves the score a lot. The
fast gradient sign method applies this to the loss's linearisation::

    x' = clip[0,1]( x + ε · sign(∇ₓ J(x, y)) )        J = CE(f(x), y)        (untargeted)
    x' = clip[0,1]( x − ε · sign(∇ₓ CE(f(x), t)) )                            (targeted)

Paper: https://arxiv.org/abs/1412.6572 (ε = 0.25 on MNIST: a shallow softmax classifier then
errs on 99.9 % of the test set).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from dlcore.attacks.base import Attack, AttackConfig, StepOut
from dlcore.attacks.names import ATTACK_DISPLAY

__all__ = ["FGSM", "FGSMConfig"]


@dataclass
class FGSMConfig(AttackConfig):
    """Args:
        eps: L∞ budget ε. Default 0.25 (Goodfellow et al. 2015, MNIST).
        target_class: None (untargeted) or the class to reach. Default None.
    """

    eps: float = 0.25


class FGSM(Attack):
    """Fast gradient sign method: ``x' = x + ε·sign(∇ₓJ)`` (one step, L∞).

    Shape: ``(N, C, H, W)`` in [0, 1] -> :class:`~dlcore.attacks.base.AttackResult`.

    Example::

        result = FGSM(model, eps=0.1)(x, y)       # result.x_adv, result.success, ...
    """

    name: ClassVar[str] = "fgsm"
    display_name: ClassVar[str] = ATTACK_DISPLAY["fgsm"]
    paper: ClassVar[str] = "https://arxiv.org/abs/1412.6572"
    config_cls: ClassVar[type[AttackConfig]] = FGSMConfig

    def step(self, i: int, x: torch.Tensor, x0: torch.Tensor, y: torch.Tensor,
             t: torch.Tensor | None) -> StepOut:
        j, grad, logits = self.loss_and_grad(x, y, t)  # 1. ∇ₓ J  (B, C, H, W)
        x_adv = x + self.config.eps * grad.sign()  # 2. one step of size ε along its sign
        return StepOut(torch.clamp(x_adv, 0, 1), j, logits)  # 3. back into [0, 1]
