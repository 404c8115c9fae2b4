"""Black-box attacks that estimate the gradient from queries, inside a PGD-style loop.

The attacker sees only the model's output probabilities (one *query* per image evaluated), so
the gradient of ``J`` (the cross-entropy, from those probabilities) is estimated with
:mod:`dlcore.attacks.estimators` and then used as PGD uses the true one::

    ĝ_i     = estimate(∇ₓ J(x_i))                    (finite differences, NES or SPSA)
    x_{i+1} = Π_{‖x' − x‖∞ ≤ ε, [0,1]}( x_i + α·sign(ĝ_i) )      (update="sign")
    x_{i+1} = Π(...)( x_i + α·ĝ_i )                               (update="gradient", the notes' loop)

with a query budget per image (the loop stops when the next estimate would exceed it) and,
by default, early stopping: an image stops being queried once it is fooled (Ilyas et al. do the
same). The notes' black-box loop (seed 000 §9.1.1)::

    for t in range(max_iter):
        grad = gradient_estimation(lambda x: -f(x, y_target), x)
        x = x + lr * grad
        x = clip(x, x0 - eps, x0 + eps)
        if f(x, y_target) < f(x0, y_target): break

is :class:`FiniteDifferenceAttack` with ``update="gradient"``; its stopping rule (stop as soon
as the target loss is below its starting value, usually after the first step) is replaced by
"stop once the target class is reached".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

import torch

from dlcore.attacks.base import MAX_STEPS, Attack, AttackConfig, StepOut, check_choice, check_number, project
from dlcore.attacks.estimators import finite_difference, nes, spsa
from dlcore.attacks.names import ATTACK_DISPLAY

__all__ = ["BlackBoxConfig", "FiniteDifferenceConfig", "NESConfig", "SPSAConfig", "GradientEstimationAttack",
           "FiniteDifferenceAttack", "NESAttack", "SPSAAttack", "MAX_QUERIES"]

#: Largest query budget per image.
MAX_QUERIES = 1_000_000


@dataclass
class BlackBoxConfig(AttackConfig):
    """Fields of every gradient-estimation attack.

    Args:
        eps: L∞ budget ε. alpha: step size. steps: most steps.
        max_queries: query budget per image (estimates that would exceed it are not made).
        update: ``"sign"`` (PGD-style, default) or ``"gradient"`` (the notes' raw ``lr·ĝ``).
        target_class: None (untargeted) or the class to reach.
    """

    eps: float = 0.05
    alpha: float = 0.01
    steps: int = 100
    max_queries: int = 10_000
    update: Literal["sign", "gradient"] = "sign"

    def validate(self) -> None:
        super().validate()
        self.alpha = check_number("step size", self.alpha, 0.0, 1000.0, open_lo=True)
        self.steps = int(check_number("steps", self.steps, 1, MAX_STEPS, integer=True))
        self.max_queries = int(check_number("query budget", self.max_queries, 1, MAX_QUERIES, integer=True))
        self.update = check_choice("update", self.update, ("sign", "gradient"))  # type: ignore[assignment]


@dataclass
class FiniteDifferenceConfig(BlackBoxConfig):
    """The notes' estimator. Defaults: ε = 0.1, α = 0.01, 20 steps, budget 20,000 queries (25 estimates
    of 785 queries for a 28×28 image), forward differences. The notes use δ = 1e-5 (float64 NumPy);
    in float32 the rounding error of a loss ≈ 1 is ~1e-7/δ per coordinate, so the default is δ = 1e-3."""

    eps: float = 0.1
    steps: int = 20
    max_queries: int = 20_000
    delta: float = 1e-3
    scheme: Literal["forward", "central"] = "forward"

    def validate(self) -> None:
        super().validate()
        self.delta = check_number("finite-difference step δ", self.delta, 0.0, 0.5, open_lo=True)
        self.scheme = check_choice("scheme", self.scheme, ("forward", "central"))  # type: ignore[assignment]


@dataclass
class NESConfig(BlackBoxConfig):
    """Ilyas et al. 2018's values (Table 4, https://arxiv.org/abs/1804.08598): σ = 0.001, n = 50
    queries per estimate, α = 0.01, ε = 0.05 (their ImageNet budget); 100 steps = 5,000 queries."""

    sigma: float = 1e-3
    samples: int = 50

    def validate(self) -> None:
        super().validate()
        self.sigma = check_number("search variance σ", self.sigma, 0.0, 0.5, open_lo=True)
        self.samples = int(check_number("samples per estimate", self.samples, 2, 10_000, integer=True))


@dataclass
class SPSAConfig(BlackBoxConfig):
    """Uesato et al. 2018 via CleverHans' SPSA defaults: δ = 0.01, 128 queries per estimate,
    α = 0.01 (they update with Adam; this loop takes PGD's sign step)."""

    delta: float = 0.01
    samples: int = 128

    def validate(self) -> None:
        super().validate()
        self.delta = check_number("perturbation size δ", self.delta, 0.0, 0.5, open_lo=True)
        self.samples = int(check_number("samples per estimate", self.samples, 2, 10_000, integer=True))


class GradientEstimationAttack(Attack):
    """PGD driven by an estimated gradient; subclasses pick the estimator (:meth:`estimate`)."""

    family: ClassVar[str] = "black-box"
    config_cls: ClassVar[type[AttackConfig]] = BlackBoxConfig
    default_early_stop: ClassVar[bool] = True

    def queries_per_step(self, x0_shape: tuple[int, ...]) -> int:
        raise NotImplementedError

    def estimate(self, f, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None, int]:
        raise NotImplementedError

    def n_steps(self) -> int:
        return self.config.steps

    def steps_for(self, x0: torch.Tensor) -> int:
        """``min(steps, max_queries // queries per step)``: the budget bounds every image's queries."""
        per = self.queries_per_step(tuple(x0.shape[1:]))
        if per > self.config.max_queries:
            raise ValueError(f"query budget {self.config.max_queries} is below the {per} queries one "
                             f"{self.display_name} step needs for images of shape {tuple(x0.shape[1:])}")
        return min(self.config.steps, self.config.max_queries // per)

    @torch.no_grad()
    def _oracle(self, y: torch.Tensor, t: torch.Tensor | None):
        """``f``: ``(K, B, *S) -> (K, B)`` losses J of the model's outputs (one query per image)."""
        def f(xs: torch.Tensor) -> torch.Tensor:
            k, b = xs.shape[:2]
            logits = self.model(xs.reshape(k * b, *xs.shape[2:]))  # (K·B, classes)
            yy = y.repeat(k)
            tt = None if t is None else t.repeat(k)
            return self.objective(logits, yy, tt).view(k, b)
        return f

    def step(self, i: int, x: torch.Tensor, x0: torch.Tensor, y: torch.Tensor,
             t: torch.Tensor | None) -> StepOut:
        c = self.config
        with torch.no_grad():
            grad, fx, q = self.estimate(self._oracle(y, t), x)  # 1. ĝ from queries  (B, C, H, W)
            logits = self.model(x)  # the current prediction (known to the attacker: f(x))
        j = self.objective(logits, y, t) if fx is None else fx
        step = grad.sign() if c.update == "sign" else grad
        x_next = project(x + c.alpha * step, x0, c.eps, "Linf")  # 2. PGD step, 3. projection
        return StepOut(x_next, j, logits, q + (0 if fx is not None else 1))


class FiniteDifferenceAttack(GradientEstimationAttack):
    """The notes' coordinate-wise finite differences (``D + 1`` queries per estimate)."""

    name: ClassVar[str] = "finite_difference"
    display_name: ClassVar[str] = ATTACK_DISPLAY["finite_difference"]
    paper: ClassVar[str] = "seed 000 §9.1.1"
    config_cls: ClassVar[type[AttackConfig]] = FiniteDifferenceConfig

    def queries_per_step(self, shape: tuple[int, ...]) -> int:
        d = 1
        for s in shape:
            d *= s
        return d + 1 if self.config.scheme == "forward" else 2 * d + 1

    def estimate(self, f, x):
        return finite_difference(f, x, self.config.delta, self.config.scheme)


class NESAttack(GradientEstimationAttack):
    """NES gradient estimate (Ilyas et al. 2018) in a PGD loop."""

    name: ClassVar[str] = "nes"
    display_name: ClassVar[str] = ATTACK_DISPLAY["nes"]
    paper: ClassVar[str] = "https://arxiv.org/abs/1804.08598"
    config_cls: ClassVar[type[AttackConfig]] = NESConfig

    def queries_per_step(self, shape: tuple[int, ...]) -> int:
        return 2 * (self.config.samples // 2) + 1

    def estimate(self, f, x):
        return nes(f, x, self.config.sigma, self.config.samples, self.generator)


class SPSAAttack(GradientEstimationAttack):
    """SPSA gradient estimate (Uesato et al. 2018) in a PGD loop."""

    name: ClassVar[str] = "spsa"
    display_name: ClassVar[str] = ATTACK_DISPLAY["spsa"]
    paper: ClassVar[str] = "https://arxiv.org/abs/1802.05666"
    config_cls: ClassVar[type[AttackConfig]] = SPSAConfig

    def queries_per_step(self, shape: tuple[int, ...]) -> int:
        return 2 * (self.config.samples // 2) + 1

    def estimate(self, f, x):
        return spsa(f, x, self.config.delta, self.config.samples, self.generator)
