"""The one registry of attacks (:data:`ATTACKS`), and the helpers that build attacks by name.

Kept apart from the package ``__init__`` so that modules of this package that build attacks by
name (curves, surrogate) import it without importing the package they live in.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from dlcore.attacks.base import Attack, AttackResult, check_inputs, frozen, model_device
from dlcore.attacks.blackbox import FiniteDifferenceAttack, NESAttack, SPSAAttack
from dlcore.attacks.fgsm import FGSM
from dlcore.attacks.notes import NotesAttack
from dlcore.attacks.pgd import BIM, PGD, PGDL2

__all__ = ["AttackSpec", "ATTACKS", "attack_names", "make_attack", "robust_accuracy", "attack_prediction"]


@dataclass(frozen=True)
class AttackSpec:
    """One attack of the registry: what a dropdown shows and what the attack takes."""

    name: str
    cls: type[Attack]

    @property
    def display_name(self) -> str:
        return self.cls.display_name

    @property
    def family(self) -> str:
        """``"white-box"`` (needs gradients) or ``"black-box"`` (queries only)."""
        return self.cls.family

    @property
    def paper(self) -> str:
        return self.cls.paper

    @property
    def options(self) -> tuple[str, ...]:
        """Config fields, in order (``eps``, ``target_class``, then the attack's own)."""
        return tuple(f.name for f in dataclasses.fields(self.cls.config_cls))

    def defaults(self) -> dict[str, Any]:
        """The paper's default value of every option."""
        return dataclasses.asdict(self.cls.config_cls())


#: name -> spec, in the order a learner meets them.
ATTACKS: dict[str, AttackSpec] = {c.name: AttackSpec(c.name, c) for c in (
    FGSM, BIM, PGD, PGDL2, NotesAttack, FiniteDifferenceAttack, NESAttack, SPSAAttack)}


def attack_names(family: str | None = None) -> tuple[str, ...]:
    """Registry names, optionally of one family (``"white-box"`` / ``"black-box"``)."""
    return tuple(n for n, s in ATTACKS.items() if family is None or s.family == family)


def make_attack(attack: str | type[Attack], model: nn.Module, **options: Any) -> Attack:
    """Build an attack by registry name (or class) with keyword options.

    ``options`` may hold config fields (``eps=0.1, steps=20``) and the base class's keywords
    (``eval_model``, ``callback``, ``stop_event``, ``batch_size``, ``early_stop``, ``seed``).

    Raises:
        ValueError: an unknown name, an option the attack does not take, or a bad value.
    """
    if isinstance(attack, str):
        if attack not in ATTACKS:
            raise ValueError(f"attack {attack!r} is not one of {tuple(ATTACKS)}")
        cls = ATTACKS[attack].cls
    elif isinstance(attack, type) and issubclass(attack, Attack):
        cls = attack
    else:
        raise ValueError(f"attack {attack!r} must be a registry name or an Attack class")
    return cls(model, **options)


def robust_accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, attack: Attack | str = "pgd",
                    **options: Any) -> float:
    """Share of ``(x, y)`` that ``model`` classifies correctly both clean and after ``attack``.

    ``attack`` is an :class:`Attack` (its own model supplies the gradients: pass one built on a
    substitute or a BPDA stand-in to measure transfer or adaptive robustness) or a registry
    name built on ``model`` with ``options``. Never above the clean accuracy (the attacker may
    leave an image alone); NaN if the attack was stopped before the end. Shape: ``x``
    ``(N, C, H, W)``, ``y`` ``(N,)``.
    """
    if isinstance(attack, str):
        attack = make_attack(attack, model, **options)
    elif options:
        raise ValueError(f"options {sorted(options)} are only for an attack given by name")
    if not isinstance(attack, Attack):
        raise ValueError(f"attack must be an Attack or a registry name, got {type(attack).__name__}")
    x, y = check_inputs(x, y)
    x_adv = attack.perturb(x, y)
    if attack.stopped:  # a partial attack would overstate robustness
        return float("nan")
    bs = attack.batch_size
    with frozen(model), torch.no_grad():
        dev = model_device(model)
        clean = torch.cat([model(x[i:i + bs].to(dev)).argmax(1).cpu() for i in range(0, len(x), bs)])
        adv = torch.cat([model(x_adv[i:i + bs].to(dev)).argmax(1).cpu() for i in range(0, len(x), bs)])
    return float(((clean == y) & (adv == y)).float().mean())


def attack_prediction(model: nn.Module, x: torch.Tensor, attack: str | type[Attack] = "pgd",
                      target: torch.Tensor | int | None = None, **options: Any) -> AttackResult:
    """Attack images that have no label (e.g. an uploaded picture, converted by
    :func:`dlcore.data.image_input.convert_image`): the model's own predictions serve as the labels,
    so success means the prediction changed (or, with ``target``, became the target).

    Shape: ``x`` ``(N, C, H, W)`` in [0, 1] -> :class:`AttackResult`.
    """
    x, _ = check_inputs(x, 0)
    atk = make_attack(attack, model, **options)
    ev = atk.eval_model or model
    with frozen(ev), torch.no_grad():
        y = ev(x.to(model_device(ev))).argmax(1).cpu()  # (N,)
    return atk(x, y, target=target)
