"""Accuracy versus ε: how fast each model (plain, passively defended, adversarially trained)
breaks as the budget grows, under FGSM and PGD, on one fixed test subset.

For every model, attack and ε the robust accuracy is the share of images still classified
correctly (clean *and* attacked). Two exact shortcuts make a curve cheap enough to stream live:

1. **Nested budgets.** The ε-balls are nested, so an adversarial example found at a smaller ε
   is one for every larger ε: an image fooled at ε_k stays fooled at ε_{k+1}, and each ε only
   attacks the images that survived the smaller ones (the curve is monotone by construction).
2. **Early stop.** An image leaves the attack at the first iterate that fools the model (the
   attacker keeps any fooling point inside the ball).

Both only ever make the attack stronger than a plain run of the same steps. ``nested=False``
(and ``early_stop=False``) gives the textbook per-ε PGD instead. Robust accuracy is checked to
be ≤ clean accuracy at every point (a ``RuntimeError`` otherwise: it would be a bug).

Each finished point is streamed through ``callback(step, metrics)`` (model, attack, ε,
accuracy, progress); a ``threading.Event`` stops between points and inside attacks.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import torch
from torch import nn

from dlcore.attacks.base import Callback, check_choice, check_inputs, check_number, frozen, model_device
from dlcore.attacks.names import CURVE_ATTACKS, DEFAULT_EPS

__all__ = ["CURVE_ATTACKS", "AccuracyCurves", "accuracy_vs_eps", "DEFAULT_EPS"]



@dataclass
class AccuracyCurves:
    """Robust accuracy per model, attack and ε (NaN where not computed yet, e.g. after a stop).

    Attributes:
        eps: the budgets, in the order given. models, attacks: names.
        clean: clean accuracy per model.
        accuracy: ``accuracy[model][attack]`` -> list aligned with ``eps``.
        n: images; steps: PGD steps; seconds; stopped.
    """

    eps: list[float]
    models: list[str]
    attacks: list[str]
    clean: dict[str, float]
    accuracy: dict[str, dict[str, list[float]]]
    n: int
    steps: int
    seconds: float = 0.0
    stopped: bool = False
    notes: list[str] = field(default_factory=list)

    def rows(self) -> list[dict[str, Any]]:
        """One dict per (model, attack, ε) point, for a table."""
        return [{"model": m, "attack": a, "eps": e, "accuracy": acc}
                for m in self.models for a in self.attacks for e, acc in zip(self.eps, self.accuracy[m][a])]


def accuracy_vs_eps(models: Mapping[str, nn.Module], x: torch.Tensor, y: torch.Tensor,
                    eps: Sequence[float] = DEFAULT_EPS, attacks: Sequence[str] = CURVE_ATTACKS, *,
                    steps: int = 20, alpha: float | None = None, gradient_models: Mapping[str, nn.Module] | None = None,
                    nested: bool = True, early_stop: bool = True, seed: int = 0, batch_size: int = 500,
                    callback: Callback | None = None, stop_event: threading.Event | None = None) -> AccuracyCurves:
    """Robust accuracy of each model under each attack for every ε.

    Args:
        models: name -> model judged (e.g. ``{"CNN": cnn, "CNN + JPEG": defend(cnn, "jpeg"),
            "adversarially trained": adv}``), at most 8.
        x, y: the fixed test subset ``(N, C, H, W)`` in [0, 1] and ``(N,)``.
        eps: budgets in [0, 1], at most 16. Default :data:`DEFAULT_EPS`.
        attacks: names from :data:`CURVE_ATTACKS`. Default both.
        steps: PGD steps, 1..200. Default 20. alpha: PGD step; None = ``2.5·ε/steps`` (Madry
            lab's rule). Default None.
        gradient_models: name -> model to take gradients of instead (e.g. a BPDA stand-in of a
            defended model); others use their own.
        nested, early_stop: the two shortcuts of the module docstring. Default True.
        seed: PGD random-start seed. Default 0.
    """
    from dlcore.attacks.fgsm import FGSM
    from dlcore.attacks.pgd import PGD

    if not isinstance(models, Mapping) or not 1 <= len(models) <= 8:
        raise ValueError(f"models must map 1 to 8 names to models, got {type(models).__name__}"
                         + (f" of {len(models)}" if isinstance(models, Mapping) else ""))
    eps = [check_number("epsilon", e, 0.0, 1.0) for e in eps]
    if not 1 <= len(eps) <= 16:
        raise ValueError(f"number of budgets {len(eps)} must be in [1, 16]")
    attacks = [check_choice("attack", a, CURVE_ATTACKS) for a in attacks]
    if not attacks:
        raise ValueError(f"choose at least one attack of {CURVE_ATTACKS}")
    steps = int(check_number("steps", steps, 1, 200, integer=True))
    if alpha is not None:
        alpha = check_number("step size", alpha, 0.0, 1.0, open_lo=True)
    x, y = check_inputs(x, y)
    gradient_models = dict(gradient_models or {})
    stop_event = stop_event or threading.Event()
    order = sorted(range(len(eps)), key=lambda k: eps[k])  # ascending: nested budgets
    acc = {m: {a: [math.nan] * len(eps) for a in attacks} for m in models}
    clean: dict[str, float] = {}
    total, done, t0 = len(models) * len(attacks) * len(eps), 0, time.perf_counter()

    def predict(model: nn.Module, xs: torch.Tensor) -> torch.Tensor:
        dev = model_device(model)
        with torch.no_grad():
            return torch.cat([model(xs[i:i + batch_size].to(dev)).argmax(1).cpu() for i in range(0, len(xs), batch_size)])

    for name, model in models.items():
        grad_model = gradient_models.get(name, model)
        with frozen(model, grad_model):
            correct = predict(model, x) == y  # (N,) clean
        clean[name] = float(correct.float().mean())
        for a in attacks:
            alive = correct.clone()  # robust at every ε so far
            for k in order:
                if stop_event.is_set():
                    break
                e = eps[k]
                robust = alive if nested else correct.clone()
                idx = robust.nonzero().squeeze(1)
                if e > 0 and len(idx):
                    if a == "fgsm":
                        atk = FGSM(grad_model, eps=e, batch_size=batch_size, early_stop=early_stop,
                                   stop_event=stop_event)
                    else:
                        atk = PGD(grad_model, eps=e, alpha=alpha or 2.5 * e / steps, steps=steps, random_start=True,
                                  seed=seed, batch_size=batch_size, early_stop=early_stop, stop_event=stop_event)
                    x_adv = atk.perturb(x[idx], y[idx])  # only the survivors
                    if atk.stopped:  # stopped inside the attack: leave the point out
                        break
                    with frozen(model):
                        robust[idx] &= predict(model, x_adv) == y[idx]
                point = float(robust.float().mean())
                if point > clean[name] + 1e-12:  # cannot happen: robust ⊆ clean
                    raise RuntimeError(f"robust accuracy {point} above clean accuracy {clean[name]} for {name}")
                acc[name][a][k] = point
                if nested:
                    alive = robust
                done += 1
                metrics = {"model": name, "attack": a, "eps": e, "accuracy": point, "clean": clean[name],
                           "done": done, "total": total, "progress": done / total}
                if callback is not None and callback(done, metrics) in (True, "stop"):
                    stop_event.set()
    stopped = done < total
    notes = [f"stopped after {done} of {total} points"] if stopped else []
    return AccuracyCurves(list(eps), list(models), list(attacks), clean, acc, len(x), steps,
                          time.perf_counter() - t0, stopped, notes)
