"""The notes' own white-box attack (seed 000 §9.1.1), written exactly as the notes write it.

The notes define the attack as an optimisation over the allowed set::

    x* = argmin_{d(x0, x) ≤ ε} L(x)
    L(x) = −e(y, ŷ) + e(y, y_target)

where ``e(y, ŷ)`` is the cross-entropy between the network's output ``y`` and the correct
answer ``ŷ`` (push away from the true class) and ``e(y, y_target)`` the cross-entropy to the
target output (pull towards the target; only for a targeted attack, otherwise ``L(x) = −e(y, ŷ)``).
In this library's notation ``e(y, ŷ) = CE(f(x), y)`` and ``e(y, y_target) = CE(f(x), t)``.
Their loop, verbatim::

    def clip(x, x_min, x_max):
        return max(x_min, min(x_max, x))
    for t in range(T):
        x = x + lr * grad(L(x))
        x = clip(x, x_0 - eps, x_0 + eps)

Two remarks a careful reader makes, and what this implementation does:

1. **The sign.** ``x*`` is an *argmin* of ``L``, so the step must go *down* the gradient:
   ``x ← x − lr·∇L(x)`` (the loop's ``+`` ascends ``L`` and would pull the image back towards
   its true class). We follow the argmin; equivalently we ascend ``−L``.
2. **The box.** The loop clips to ``[x0 − ε, x0 + ε]`` (``d`` = L∞); we also clip to the valid
   pixel range [0, 1], as every attack here does.

``update="gradient"`` (default) is the notes' raw-gradient step ``lr·∇L``; ``update="sign"``
replaces it by ``lr·sign(∇L)``. **Where it coincides with targeted PGD:** with
``update="sign"`` and ``push_away=False`` (drop the ``−e(y, ŷ)`` term), ``L = CE(f(x), t)`` and
the loop is exactly targeted PGD/BIM without random start, ``x ← Π(x − α·sign(∇ CE(f(x), t)))``
with ``α = lr`` (tested against torchattacks). Untargeted with ``update="sign"`` it is BIM. With
the raw gradient the step shrinks where the network is confident (its loss is flat there), which
is exactly why FGSM and PGD take the sign.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

import torch
import torch.nn.functional as F

from dlcore.attacks.base import MAX_STEPS, Attack, AttackConfig, StepOut, check_choice, check_number, project
from dlcore.attacks.names import ATTACK_DISPLAY, UPDATES

__all__ = ["NotesAttack", "NotesConfig", "UPDATES"]



@dataclass
class NotesConfig(AttackConfig):
    """Args (the notes give no numbers; these are this lab's Fashion-MNIST setting):
        eps: L∞ budget ε (``d(x0, x) ≤ ε``). Default 0.1.
        lr: step size. Default 1.0 for raw gradients (gradients of a trained classifier are
            small, ~1e-2 per pixel); use ~0.01 with ``update="sign"``.
        steps: T. Default 20.
        update: ``"gradient"`` (the notes' ``lr·∇L``) or ``"sign"`` (``lr·sign(∇L)``). Default
            ``"gradient"``.
        push_away: keep the ``−e(y, ŷ)`` term in a targeted attack. Default True (the notes).
        target_class: None (``L = −e(y, ŷ)``) or the target class. Default None.
    """

    eps: float = 0.1
    lr: float = 1.0
    steps: int = 20
    update: Literal["gradient", "sign"] = "gradient"
    push_away: bool = True

    def validate(self) -> None:
        super().validate()
        self.lr = check_number("learning rate", self.lr, 0.0, 1000.0, open_lo=True)
        self.steps = int(check_number("steps", self.steps, 1, MAX_STEPS, integer=True))
        self.update = check_choice("update", self.update, UPDATES)  # type: ignore[assignment]
        if not isinstance(self.push_away, bool):
            raise ValueError(f"push_away {self.push_away!r} must be True or False")


class NotesAttack(Attack):
    """``x ← clip(x − lr·∇L(x), x0 − ε, x0 + ε)`` with ``L(x) = −e(y, ŷ) + e(y, y_target)``.

    The shown loss is the notes' ``L(x)`` itself (it falls as the attack works).
    """

    name: ClassVar[str] = "notes"
    display_name: ClassVar[str] = ATTACK_DISPLAY["notes"]
    paper: ClassVar[str] = "seed 000 §9.1.1"
    config_cls: ClassVar[type[AttackConfig]] = NotesConfig

    def n_steps(self) -> int:
        return self.config.steps

    def objective(self, logits: torch.Tensor, y: torch.Tensor, t: torch.Tensor | None) -> torch.Tensor:
        """``J = −L(x)``, per sample ``(B,)`` (the base class ascends J)."""
        push = F.cross_entropy(logits, y, reduction="none")  # e(y, ŷ)
        if t is None:
            return push  # L = −e(y, ŷ)  ->  J = e(y, ŷ)
        pull = F.cross_entropy(logits, t, reduction="none")  # e(y, y_target)
        return (push if self.config.push_away else 0.0) - pull

    def shown_loss(self, j: torch.Tensor, targeted: bool) -> torch.Tensor:
        return -j  # L(x)

    def loss_name(self, targeted: bool) -> str:
        if not targeted:
            return "L(x) = −e(y, ŷ)"
        return "L(x) = −e(y, ŷ) + e(y, y_target)" if self.config.push_away else "L(x) = e(y, y_target)"

    def step(self, i: int, x: torch.Tensor, x0: torch.Tensor, y: torch.Tensor,
             t: torch.Tensor | None) -> StepOut:
        c = self.config
        j, grad_j, logits = self.loss_and_grad(x, y, t)  # grad_j = ∇(−L) = −∇L   (B, C, H, W)
        step = grad_j if c.update == "gradient" else grad_j.sign()
        x_next = x + c.lr * step  # 1. x − lr·∇L(x)   (down L: x* is its argmin)
        return StepOut(project(x_next, x0, c.eps, "Linf"), j, logits)  # 2. clip(x, x0 − ε, x0 + ε), and [0, 1]
