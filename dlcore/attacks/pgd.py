"""Iterative gradient attacks: BIM / I-FGSM (Kurakin et al. 2017) and PGD (Madry et al. 2018).

Both repeat a small FGSM-like step and project back onto the allowed set
``S = {x' : ‖x' − x‖ ≤ ε} ∩ [0, 1]^D`` after every step::

    x_0     = x                                   (BIM)   or  x + U(−ε, ε)   (PGD, random start)
    x_{i+1} = Π_S( x_i + α · sign(∇ₓ J(x_i, y)) )                           (L∞)
    x_{i+1} = Π_S( x_i + α · ∇ₓJ / ‖∇ₓJ‖₂ )                                 (L2)

Targeted: ``J = −CE(f(x), t)``, so the step goes down the loss towards the target class.
PGD is "the strongest first-order adversary" of Madry et al.: the inner maximisation of their
robust training objective ``min_θ E[max_{δ∈S} L(θ, x + δ, y)]``.

Papers: BIM https://arxiv.org/abs/1607.02533 (α = 1/255, ``min(ε·255 + 4, 1.25·ε·255)``
steps); PGD https://arxiv.org/abs/1706.06083 (MNIST: ε = 0.3, α = 0.01, 40 steps to train,
100 to evaluate, random start).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

import torch

from dlcore.attacks.base import MAX_STEPS, NORMS, Attack, AttackConfig, StepOut, check_choice, check_number, project
from dlcore.attacks.names import ATTACK_DISPLAY

__all__ = ["PGD", "PGDConfig", "PGDL2", "PGDL2Config", "BIM", "BIMConfig", "kurakin_steps"]


def kurakin_steps(eps: float) -> int:
    """Kurakin et al.'s rule for the number of BIM steps, ``min(ε + 4, 1.25 ε)`` with ε in 0..255
    (truncated, as torchattacks does); at least 1."""
    return max(1, int(min(eps * 255 + 4, 1.25 * eps * 255)))


@dataclass
class PGDConfig(AttackConfig):
    """Args:
        eps: budget ε. Default 0.3 (Madry et al. 2018, MNIST, L∞).
        alpha: step size α. Default 0.01 (Madry et al., MNIST).
        steps: number of steps. Default 40 (Madry et al.'s training adversary; 100 to evaluate).
        norm: ``"Linf"`` (sign steps, box projection) or ``"L2"`` (normalised steps, ball
            projection). Default ``"Linf"``.
        random_start: start from a uniform random point of the L∞ ball (a random direction
            with a uniform radius for L2). Default True.
        target_class: None (untargeted) or the class to reach. Default None.
    """

    eps: float = 0.3
    alpha: float = 0.01
    steps: int = 40
    norm: Literal["Linf", "L2"] = "Linf"
    random_start: bool = True

    def validate(self) -> None:
        self.norm = check_choice("norm", self.norm, NORMS)  # type: ignore[assignment]
        hi = 1.0 if self.norm == "Linf" else 100.0  # ‖δ‖₂ of a 28×28 image is at most 28
        self.eps = check_number("epsilon", self.eps, 0.0, hi)
        if self.target_class is not None:
            self.target_class = int(check_number("target class", self.target_class, 0, None, integer=True))
        self.alpha = check_number("step size", self.alpha, 0.0, hi, open_lo=True)
        self.steps = int(check_number("steps", self.steps, 1, MAX_STEPS, integer=True))
        if not isinstance(self.random_start, bool):
            raise ValueError(f"random_start {self.random_start!r} must be True or False")


@dataclass
class PGDL2Config(PGDConfig):
    """PGD in the L2 norm. Madry et al. 2018 give no L2 recipe for MNIST; these defaults are the
    usual MNIST L2 budget ε = 2.0 with 40 steps and α = 2.5·ε/steps (the step rule of Madry's lab,
    https://github.com/MadryLab/robustness)."""

    eps: float = 2.0
    alpha: float = 0.125
    norm: Literal["Linf", "L2"] = "L2"


class PGD(Attack):
    """Projected gradient descent on the negative loss, L∞ or L2, with random start.

    Shape: ``(N, C, H, W)`` in [0, 1] -> :class:`~dlcore.attacks.base.AttackResult`.

    Example::

        PGD(model, eps=0.1, alpha=0.01, steps=40, norm="Linf", random_start=True)(x, y)
    """

    name: ClassVar[str] = "pgd"
    display_name: ClassVar[str] = ATTACK_DISPLAY["pgd"]
    paper: ClassVar[str] = "https://arxiv.org/abs/1706.06083"
    config_cls: ClassVar[type[AttackConfig]] = PGDConfig

    def n_steps(self) -> int:
        return self.config.steps

    def init(self, x0: torch.Tensor) -> torch.Tensor:
        c = self.config
        if not c.random_start:
            return x0.clone()
        if c.norm == "Linf":  # uniform in the box, then back into [0, 1]
            return torch.clamp(x0 + self.uniform_like(x0, -c.eps, c.eps), 0, 1)
        delta = self.normal_like(x0)  # a uniform direction ...   (B, C, H, W)
        n = delta.flatten(1).norm(p=2, dim=1).view(-1, *([1] * (x0.dim() - 1)))  # (B, 1, 1, 1)
        r = self.uniform_like(n, 0, 1)  # ... and a uniform radius in [0, ε]
        return torch.clamp(x0 + delta * r / n * c.eps, 0, 1)

    def step(self, i: int, x: torch.Tensor, x0: torch.Tensor, y: torch.Tensor,
             t: torch.Tensor | None) -> StepOut:
        c = self.config
        j, grad, logits = self.loss_and_grad(x, y, t)  # 1. ∇ₓ J at x_i  (B, C, H, W)
        if c.norm == "Linf":
            x_next = x + c.alpha * grad.sign()  # 2. steepest ascent step for ‖·‖∞
        else:
            g_norm = grad.flatten(1).norm(p=2, dim=1).view(-1, *([1] * (x.dim() - 1))) + 1e-10
            x_next = x + c.alpha * grad / g_norm  # 2. steepest ascent step for ‖·‖₂
        return StepOut(project(x_next, x0, c.eps, c.norm), j, logits)  # 3. back into S


class PGDL2(PGD):
    """PGD in the L2 norm (see :class:`PGDL2Config` for the defaults)."""

    name: ClassVar[str] = "pgd_l2"
    display_name: ClassVar[str] = ATTACK_DISPLAY["pgd_l2"]
    config_cls: ClassVar[type[AttackConfig]] = PGDL2Config


@dataclass
class BIMConfig(AttackConfig):
    """Args:
        eps: L∞ budget ε. Default 0.3 (Kurakin et al. sweep ε; 0.3 is the MNIST budget of Madry).
        alpha: step size. Default 1/255 (Kurakin et al. 2017: "one pixel value per step").
        steps: number of steps; None = Kurakin et al.'s ``min(ε·255 + 4, 1.25·ε·255)``. Default None.
        target_class: None (untargeted) or the class to reach. Default None.
    """

    eps: float = 0.3
    alpha: float = 1 / 255
    steps: int | None = None

    def validate(self) -> None:
        super().validate()
        self.alpha = check_number("step size", self.alpha, 0.0, 1.0, open_lo=True)
        if self.steps is not None:
            self.steps = int(check_number("steps", self.steps, 1, MAX_STEPS, integer=True))


class BIM(Attack):
    """Basic iterative method / I-FGSM: PGD (L∞) without the random start.

    ``x_{i+1} = clip_{x, ε}( x_i + α·sign(∇ₓ J(x_i, y)) )`` from ``x_0 = x``.
    """

    name: ClassVar[str] = "bim"
    display_name: ClassVar[str] = ATTACK_DISPLAY["bim"]
    paper: ClassVar[str] = "https://arxiv.org/abs/1607.02533"
    config_cls: ClassVar[type[AttackConfig]] = BIMConfig

    def n_steps(self) -> int:
        return self.config.steps if self.config.steps is not None else kurakin_steps(self.config.eps)

    def step(self, i: int, x: torch.Tensor, x0: torch.Tensor, y: torch.Tensor,
             t: torch.Tensor | None) -> StepOut:
        j, grad, logits = self.loss_and_grad(x, y, t)  # 1. ∇ₓ J at x_i
        x_next = x + self.config.alpha * grad.sign()  # 2. a small FGSM step
        return StepOut(project(x_next, x0, self.config.eps, "Linf"), j, logits)  # 3. clip to the ε-box and [0, 1]
