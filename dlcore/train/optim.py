"""Optimizers: one registry (:data:`OPTIMIZERS`) that the code and the UI dropdown both read.

Seed 003 §dl_1_4_1 (优化器) gives the update rules; each entry here is the matching
``torch.optim`` class with the seed's hyper-parameters:

* SGD:       θ ← θ − η·g
* Momentum:  v ← βv + g,   θ ← θ − η·v            (torch's form; the notes' (1−β)g form
             only rescales η by 1/(1−β))
* Nesterov:  momentum evaluated at the look-ahead point θ − ηβv
* Adagrad:   G ← G + g²,   θ ← θ − η·g/(√G+ε)
* RMSprop:   E ← βE + (1−β)g²,   θ ← θ − η·g/(√E+ε)
* Adam:      m, v moment estimates with bias correction, θ ← θ − η·m̂/(√v̂+ε)
* AdamW:     Adam with decoupled weight decay θ ← (1−ηλ)θ − η·m̂/(√v̂+ε)
* RAdam:     Adam with a variance-rectified adaptive term (Liu et al. 2020,
             https://arxiv.org/abs/1908.03265), warm-up built in.

Docs: https://pytorch.org/docs/stable/optim.html
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Iterable

import torch

from dlcore.train.names import MAX_LR, OPTIMIZER_RULES, OptimizerName

__all__ = ["OptimizerName", "OptimizerSpec", "OPTIMIZERS", "make_optimizer", "MAX_LR"]


@dataclass(frozen=True)
class OptimizerSpec:
    """A named optimizer: how to build it and a one-line explanation for the UI."""

    name: str
    build: Callable[[Iterable[torch.nn.Parameter], float, float], torch.optim.Optimizer]
    rule: str          # the update rule in one line
    default_lr: float  # a learning rate that works for the lab's small MLPs


_BUILD: dict[str, Callable[[Iterable[torch.nn.Parameter], float, float], torch.optim.Optimizer]] = {
    "SGD": lambda p, lr, wd: torch.optim.SGD(p, lr=lr, weight_decay=wd),
    "Momentum": lambda p, lr, wd: torch.optim.SGD(p, lr=lr, momentum=0.9, weight_decay=wd),
    "Nesterov": lambda p, lr, wd: torch.optim.SGD(p, lr=lr, momentum=0.9, nesterov=True, weight_decay=wd),
    "Adagrad": lambda p, lr, wd: torch.optim.Adagrad(p, lr=lr, weight_decay=wd),
    "RMSprop": lambda p, lr, wd: torch.optim.RMSprop(p, lr=lr, alpha=0.99, weight_decay=wd),
    "Adam": lambda p, lr, wd: torch.optim.Adam(p, lr=lr, weight_decay=wd),
    "AdamW": lambda p, lr, wd: torch.optim.AdamW(p, lr=lr, weight_decay=wd),
    "RAdam": lambda p, lr, wd: torch.optim.RAdam(p, lr=lr, weight_decay=wd),
}
#: name -> spec; the names and rules are :data:`dlcore.train.names.OPTIMIZER_RULES` (torch-free).
OPTIMIZERS: dict[str, OptimizerSpec] = {
    name: OptimizerSpec(name, _BUILD[name], rule, lr) for name, (rule, lr) in OPTIMIZER_RULES.items()}


def make_optimizer(name: str, params: Iterable[torch.nn.Parameter], lr: float = 1e-3,
                   weight_decay: float = 0.0) -> torch.optim.Optimizer:
    """Build the optimizer ``name`` from :data:`OPTIMIZERS`.

    Args:
        name: one of ``OPTIMIZERS`` (``"SGD"``, ``"Momentum"``, ``"Nesterov"``, ``"Adagrad"``,
            ``"RMSprop"``, ``"Adam"``, ``"AdamW"``, ``"RAdam"``).
        params: the parameters to optimise (``model.parameters()``).
        lr: learning rate η, in (0, :data:`MAX_LR`]. Default 1e-3 (Adam's paper default).
        weight_decay: L2 penalty λ ≥ 0 (decoupled for AdamW). Default 0.

    Raises:
        ValueError: unknown name, or lr / weight_decay outside their ranges.
    """
    if not isinstance(name, str) or name not in OPTIMIZERS:
        raise ValueError(f"optimizer {name!r} is unknown; choose from {list(OPTIMIZERS)}")
    lr = float(lr)
    if not math.isfinite(lr) or lr <= 0 or lr > MAX_LR:
        raise ValueError(f"learning rate {lr:g} is outside (0, {MAX_LR:g}]")
    weight_decay = float(weight_decay)
    if not math.isfinite(weight_decay) or weight_decay < 0 or weight_decay > 1:
        raise ValueError(f"weight decay {weight_decay:g} is outside [0, 1]")
    return OPTIMIZERS[name].build(params, lr, weight_decay)
