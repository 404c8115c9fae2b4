"""Adaptive attacks that break passive defences (Athalye, Carlini & Wagner 2018,
https://arxiv.org/abs/1802.00420, "Obfuscated gradients give a false sense of security").

A shield ``g`` in front of a model ``f`` is attacked through ``f(g(x))``. Two ways ``g`` hides
the gradient, and the fix for each:

* **Shattered gradients** (JPEG, bit-depth reduction, median): ``∇g`` is zero, undefined or
  useless. **BPDA** (backward pass differentiable approximation): run ``g`` forward, but in the
  backward pass replace its Jacobian by that of ``ĝ(x) = x`` (``g(x) ≈ x`` for a shield that must
  keep clean images intact). Written as a straight-through estimator::

      z = x + (g(x) − x).detach()        # value g(x), gradient ∂z/∂x = I

* **Stochastic gradients** (random resizing, random noise): each forward draws a new ``t`` and
  a single gradient points the wrong way. **EOT** (expectation over transformation): attack the
  expected output, ``∇ E_t[f(t(x))] = E_t[∇ f(t(x))]``, estimated with ``n`` draws (we average
  the logits; averaging the losses differs only through the cross-entropy's curvature).

Both are model wrappers, so every gradient attack runs unchanged on them:
``PGD(BPDA(defended), eval_model=defended)`` takes gradients through the stand-in and judges
success on the real defence (:func:`adaptive_attack` builds exactly that).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Literal, Sequence

import torch
from torch import nn

from dlcore.attacks.base import Attack, Callback, check_choice, check_inputs, check_number, frozen, model_device
from dlcore.attacks.names import ADAPTIVE_MODES
from dlcore.defenses.passive import Defended

__all__ = ["BPDA", "EOT", "ADAPTIVE_MODES", "AdaptiveMode", "adaptive_model", "adaptive_attack", "DefenseRow",
           "defense_report"]

AdaptiveMode = Literal["none", "auto", "bpda", "eot", "bpda+eot"]


class BPDA(nn.Module):
    """``f(g(x))`` forward, ``f'(g(x))·I`` backward (the identity stands in for ``∂g/∂x``).

    Shape: ``(N, C, H, W)`` -> logits ``(N, K)``.
    """

    def __init__(self, defended: Defended) -> None:
        super().__init__()
        if not isinstance(defended, Defended):
            raise ValueError(f"BPDA needs a Defended model, got {type(defended).__name__}")
        self.defended = defended

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.defended.transform(x)  # 1. the real shield g(x), forward
        z = x + (z - x).detach()  # 2. value g(x), gradient the identity
        return self.defended.model(z)  # 3. the model


class EOT(nn.Module):
    """``(1/n) Σ_k f(t_k(x))`` over ``n`` fresh random draws of the wrapped model.

    Args: model: a random model (e.g. ``Defended(f, RandomResizePad())`` or a BPDA of it);
    samples: n, 1..64 (default 10; Athalye et al. used 30 on ImageNet).
    """

    def __init__(self, model: nn.Module, samples: int = 10) -> None:
        super().__init__()
        self.model = model
        self.samples = int(check_number("EOT samples", samples, 1, 64, integer=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        total = self.model(x)  # each call draws its own transformation   (N, K)
        for _ in range(self.samples - 1):
            total = total + self.model(x)
        return total / self.samples


def adaptive_model(defended: Defended, mode: AdaptiveMode = "auto", samples: int = 10) -> nn.Module:
    """The model to take gradients of when attacking ``defended``.

    ``"auto"``: BPDA if the shield is not differentiable, EOT if it is random (both if both,
    the plain defended model if neither).
    """
    mode = check_choice("adaptive mode", mode, ADAPTIVE_MODES)  # type: ignore[assignment]
    if not isinstance(defended, Defended):
        raise ValueError(f"an adaptive attack needs a Defended model, got {type(defended).__name__}")
    if mode == "auto":
        t = defended.transform
        use_bpda = not getattr(t, "differentiable", True)
        use_eot = bool(getattr(t, "random", False))
    else:
        use_bpda, use_eot = "bpda" in mode, "eot" in mode
    m: nn.Module = BPDA(defended) if use_bpda else defended
    return EOT(m, samples) if use_eot else m


def adaptive_attack(defended: Defended, attack: str | type[Attack] = "pgd", mode: AdaptiveMode = "auto",
                    samples: int = 10, **options: Any) -> Attack:
    """An attack whose gradients come from :func:`adaptive_model` and whose success is judged on
    ``defended`` itself (``eval_model``). ``options`` go to the attack (``eps``, ``steps``, ...)."""
    from dlcore.attacks import make_attack

    return make_attack(attack, adaptive_model(defended, mode, samples), eval_model=defended, **options)


@dataclass
class DefenseRow:
    """One passive defence under attack, on the same images.

    Attributes: defense/display_name; clean (no shield), defended_clean (with it: the cost);
    plain (robust accuracy under the attack run straight through the defended model);
    adaptive (under the same attack with BPDA/EOT gradients); mode (which adaptive attack);
    broken (the adaptive attack does clearly better than the plain one).
    """

    defense: str
    display_name: str
    clean: float
    defended_clean: float
    plain: float
    adaptive: float
    mode: str

    @property
    def broken(self) -> bool:
        return self.adaptive < self.plain - 0.05 or self.adaptive < 0.10


def defense_report(model: nn.Module, x: torch.Tensor, y: torch.Tensor, defenses: Sequence[str] | None = None, *,
                   attack: str = "pgd", eps: float = 0.1, steps: int = 20, eot_samples: int = 10, seed: int = 0,
                   callback: Callback | None = None, stop_event: threading.Event | None = None) -> list[DefenseRow]:
    """For each passive defence: clean accuracy cost, robust accuracy under the plain attack, and
    under the adaptive one (``"auto"``: BPDA for a non-differentiable shield, EOT for a random one;
    a differentiable deterministic shield is attacked through its true gradient both times).

    PGD uses α = 2.5·ε/steps and a seeded random start. ``callback(step, metrics)`` after each
    defence; a set ``stop_event`` returns the rows done so far.
    """
    from dlcore.attacks import make_attack, robust_accuracy
    from dlcore.defenses.passive import DEFENSES, defend, seed_shield

    names = list(DEFENSES) if defenses is None else list(defenses)
    for d in names:
        check_choice("defence", d, tuple(DEFENSES))
    x, y = check_inputs(x, y)
    opts: dict[str, Any] = {"eps": eps}
    if attack in ("pgd", "bim"):
        steps = int(check_number("steps", steps, 1, 200, integer=True))
        opts.update(steps=steps, alpha=2.5 * eps / steps)
    if attack == "pgd":
        opts["seed"] = seed
    with frozen(model), torch.no_grad():
        dev = model_device(model)
        clean = float((torch.cat([model(x[i:i + 500].to(dev)).argmax(1).cpu()
                                  for i in range(0, len(x), 500)]) == y).float().mean())
    rows: list[DefenseRow] = []
    for k, d in enumerate(names):
        if stop_event is not None and stop_event.is_set():
            break
        shield = defend(model, d)
        seed_shield(shield.transform, seed)  # a random shield's draws repeat run after run
        with frozen(shield), torch.no_grad():
            pred = torch.cat([shield(x[i:i + 500].to(dev)).argmax(1).cpu() for i in range(0, len(x), 500)])
        plain = robust_accuracy(shield, x, y, make_attack(attack, shield, stop_event=stop_event, **opts))
        adaptive = robust_accuracy(shield, x, y, adaptive_attack(shield, attack, "auto", eot_samples,
                                                                 stop_event=stop_event, **opts))
        if stop_event is not None and stop_event.is_set():
            break  # a partial attack would overstate the shield
        t = shield.transform
        mode = "+".join(m for m, on in (("BPDA", not t.differentiable), ("EOT", t.random)) if on) or "true gradient"
        rows.append(DefenseRow(d, DEFENSES[d].display_name, clean, float((pred == y).float().mean()), plain, adaptive,
                               mode))
        if callback is not None and callback(k + 1, {"defense": d, "done": k + 1, "total": len(names),
                                                     "progress": (k + 1) / len(names),
                                                     "plain": plain, "adaptive": adaptive}) in (True, "stop"):
            break
    return rows
