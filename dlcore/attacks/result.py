"""The :class:`AttackResult` every attack returns: the images, the perturbation and its norms, the
loss per step, the predictions before and after, success flags and queries spent."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from dlcore.attacks.common import check_number

__all__ = ["AttackResult"]


@dataclass
class AttackResult:
    """Everything an attack produced, for a figure, a table or a test.

    Attributes:
        x, x_adv, delta: clean images, adversarial images, ``x_adv - x``; ``(N, C, H, W)``.
        y: true labels ``(N,)``; target: target labels ``(N,)`` or None (untargeted).
        linf, l2: per-sample ``‖δ‖∞`` and ``‖δ‖₂`` ``(N,)``.
        loss_per_step: mean over samples of the shown loss at ``x_0 … x_T`` ``(T+1,)``.
        loss_history: the same per sample ``(T+1, N)`` (None when ``N·(T+1)`` > 10⁶).
        loss_name: what the shown loss is (e.g. ``"CE(f(x'), y)"``).
        probs_before, probs_after: softmax of the (evaluated) model ``(N, K)``.
        success: untargeted: prediction ≠ y; targeted: prediction = target ``(N,)`` bool.
        queries: model queries spent per sample ``(N,)`` (0 for white-box attacks).
        attack, config: the attack's registry name and its config as a dict.
        steps_done: steps actually run; stopped: whether a stop request ended it early (then the
            result holds only the images attacked so far); seconds: wall time.
        zero_grad_fraction: share of (sample, step) gradients that were exactly zero: near 1
            means the model hides its gradient (obfuscated gradients, Athalye et al. 2018).
        notes: plain-language remarks for the learner.
    """

    x: torch.Tensor
    x_adv: torch.Tensor
    y: torch.Tensor
    target: torch.Tensor | None
    linf: torch.Tensor
    l2: torch.Tensor
    loss_per_step: torch.Tensor
    loss_history: torch.Tensor | None
    loss_name: str
    probs_before: torch.Tensor
    probs_after: torch.Tensor
    success: torch.Tensor
    queries: torch.Tensor
    attack: str
    config: dict[str, Any]
    steps_done: int
    stopped: bool
    seconds: float
    zero_grad_fraction: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def delta(self) -> torch.Tensor:
        """The perturbation ``x_adv - x`` ``(N, C, H, W)``."""
        return self.x_adv - self.x

    @property
    def pred_before(self) -> torch.Tensor:
        return self.probs_before.argmax(1)

    @property
    def pred_after(self) -> torch.Tensor:
        return self.probs_after.argmax(1)

    @property
    def clean_accuracy(self) -> float:
        return float((self.pred_before == self.y).float().mean()) if len(self.y) else float("nan")

    @property
    def robust_accuracy(self) -> float:
        """Share of images classified correctly both clean and attacked (the attacker may always
        leave an image alone, so this is never above :attr:`clean_accuracy`)."""
        ok = (self.pred_before == self.y) & (self.pred_after == self.y)
        return float(ok.float().mean()) if len(self.y) else float("nan")

    @property
    def success_rate(self) -> float:
        """Share of successes among the images the model classified correctly before the attack
        (and, when targeted, whose target differs from the label); NaN when there are none."""
        mask = self.pred_before == self.y
        if self.target is not None:
            mask &= self.target != self.y
        return float(self.success[mask].float().mean()) if mask.any() else float("nan")

    def topk(self, k: int = 3, after: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
        """``(probabilities, classes)`` of the top ``k`` predictions, each ``(N, k)``."""
        p = self.probs_after if after else self.probs_before
        k = int(check_number("k", k, 1, p.shape[1], integer=True))
        return p.topk(k, dim=1)

    def summary(self) -> dict[str, float]:
        """Headline figures: clean/robust accuracy, success rate, mean norms, mean queries."""
        return {"n": len(self.y), "clean_accuracy": self.clean_accuracy, "robust_accuracy": self.robust_accuracy,
                "success_rate": self.success_rate, "mean_linf": float(self.linf.mean()) if len(self.y) else 0.0,
                "mean_l2": float(self.l2.mean()) if len(self.y) else 0.0,
                "mean_queries": float(self.queries.float().mean()) if len(self.y) else 0.0,
                "seconds": self.seconds}
