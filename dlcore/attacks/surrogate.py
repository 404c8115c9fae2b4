"""Black-box attack through a substitute network (seed 000 §9.1.1 "代理网络"; Papernot et al. 2017).

"Collect the target network's input-output pairs, train a substitute to imitate it, then run a
white-box attack on the substitute." Adversarial examples *transfer*: what fools the
substitute often fools the target, which was never differentiated, only asked for labels.

Papernot et al. 2017 (https://arxiv.org/abs/1602.02697, Algorithm 1) make the few label
queries count with **Jacobian-based data augmentation**: starting from a small seed set
``S_0`` (150 test images on MNIST), after training the substitute ``F`` on ``{(x, Õ(x))}``
(``Õ`` = the target's label) each round adds one new point per old one, stepped along the
sign of the substitute's Jacobian for the target's label::

    S_{ρ+1} = S_ρ ∪ { clip(x + λ · sign(∂F_{Õ(x)}(x) / ∂x), 0, 1) : x ∈ S_ρ }      (λ = 0.1)

so the set doubles every round (ρ = 6 rounds -> 150·2⁵ = 4,800 labelled points) and explores
the directions in which the target's decision changes. The substitute is trained with the one
:class:`dlcore.train.Trainer` (Adam here; Papernot used SGD with momentum, 10 epochs per round).
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import torch
from torch import nn

from dlcore.attacks.base import AttackResult, Callback, check_choice, check_inputs, check_number, frozen, model_device

__all__ = ["SubstituteConfig", "SubstituteResult", "train_substitute", "TransferResult", "transfer_attack",
           "SUBSTITUTE_ARCHS", "jacobian_augment"]

#: substitute architectures (``dlcore.models`` names) and the options used for each.
SUBSTITUTE_ARCHS: dict[str, dict[str, Any]] = {
    "lenet5": {},
    "small_cnn": {"channels": (16, 32), "hidden": 64, "dropout": 0.0},
    "lenet_300_100": {},
}


@dataclass
class SubstituteConfig:
    """Papernot et al. 2017's MNIST settings.

    Args:
        arch: substitute architecture, a key of :data:`SUBSTITUTE_ARCHS`. Default ``"lenet5"``.
        rounds: substitute training rounds ρ (the set doubles between rounds), 1..8. Default 6.
        lam: Jacobian step λ. Default 0.1.
        augmentation: ``"jacobian"`` (Papernot) or ``"none"`` (label the seed images only). Default
            ``"jacobian"``.
        epochs: training epochs per round. Default 10.
        lr: Adam learning rate. Default 1e-3. batch_size: Default 64. seed: Default 0.
    """

    arch: Literal["lenet5", "small_cnn", "lenet_300_100"] = "lenet5"
    rounds: int = 6
    lam: float = 0.1
    augmentation: Literal["jacobian", "none"] = "jacobian"
    epochs: int = 10
    lr: float = 1e-3
    batch_size: int = 64
    seed: int = 0

    def validate(self) -> None:
        self.arch = check_choice("substitute architecture", self.arch, tuple(SUBSTITUTE_ARCHS))  # type: ignore[assignment]
        self.rounds = int(check_number("rounds", self.rounds, 1, 8, integer=True))
        self.lam = check_number("Jacobian step λ", self.lam, 0.0, 1.0, open_lo=True)
        self.augmentation = check_choice("augmentation", self.augmentation, ("jacobian", "none"))  # type: ignore[assignment]
        self.epochs = int(check_number("epochs", self.epochs, 1, 50, integer=True))
        self.lr = check_number("learning rate", self.lr, 0.0, 1.0, open_lo=True)
        self.batch_size = int(check_number("batch size", self.batch_size, 2, 1024, integer=True))
        self.seed = int(check_number("seed", self.seed, 0, 2**31 - 1, integer=True))


@dataclass
class SubstituteResult:
    """The trained substitute, its training set (images and the target's labels), the label
    queries spent, and one record per round (``round``, ``n_train``, ``queries``, ``train_loss``,
    ``agreement`` with the target on the check images when given)."""

    model: nn.Module
    x_train: torch.Tensor
    y_train: torch.Tensor
    queries: int
    rounds: list[dict[str, float]]
    config: dict[str, Any]
    seconds: float
    stopped: bool = False
    check_queries: int = 0


@torch.no_grad()
def _labels(target: nn.Module, x: torch.Tensor, batch_size: int = 1024) -> torch.Tensor:
    dev = model_device(target)
    return torch.cat([target(x[i:i + batch_size].to(dev)).argmax(1).cpu() for i in range(0, len(x), batch_size)])


def jacobian_augment(substitute: nn.Module, x: torch.Tensor, labels: torch.Tensor, lam: float) -> torch.Tensor:
    """``clip(x + λ·sign(∂F_label(x)/∂x), 0, 1)`` with ``F`` the substitute's softmax. Shape ``(N, ...)``."""
    with frozen(substitute):
        x = x.detach().clone().requires_grad_(True)
        probs = substitute(x).softmax(1)  # (N, K)
        picked = probs.gather(1, labels.view(-1, 1)).sum()
        grad, = torch.autograd.grad(picked, x)
    return torch.clamp(x.detach() + lam * grad.sign(), 0, 1)


def _private_init(model: nn.Module, seed: int) -> nn.Module:
    """Re-draw the weights of every ``Conv2d``/``Linear`` of ``model`` as PyTorch's default init does
    (Kaiming-uniform, a = √5; bias U(±1/√fan_in)), from a generator of its own seeded with ``seed``.
    torch's global RNG is shared by every thread of a server: seeding it and building the model there
    gave two users with the same settings different substitutes."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_uniform_(m.weight, a=math.sqrt(5), generator=gen)
                if m.bias is not None:
                    fan_in = nn.init._calculate_fan_in_and_fan_out(m.weight)[0]
                    bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
                    nn.init.uniform_(m.bias, -bound, bound, generator=gen)
    return model


def train_substitute(target: nn.Module, x_seed: torch.Tensor, config: SubstituteConfig | None = None, *,
                     x_check: torch.Tensor | None = None, callback: Callback | None = None,
                     stop_event: threading.Event | None = None) -> SubstituteResult:
    """Train a substitute of ``target`` from its labels only (Papernot et al. 2017, Algorithm 1).

    Args:
        target: the black box; only its argmax labels are used (one query per labelled image).
        x_seed: the attacker's seed images ``(N0, C, H, W)`` in [0, 1] (keep them apart from the
            images you will attack). At most 10,000.
        config: :class:`SubstituteConfig` (default: Papernot's settings).
        x_check: optional images on which to report, each round, how often the substitute agrees
            with the target (their labels are counted in ``check_queries``, not ``queries``).
        callback: ``callback(step, metrics)`` after every training step and round; True stops.
        stop_event: set it to stop after the current step.
    """
    from dlcore.models import build_model
    from dlcore.train import TrainConfig, Trainer

    cfg = config or SubstituteConfig()
    cfg.validate()
    x_seed, _ = check_inputs(x_seed, 0)
    if x_check is not None:
        x_check, _ = check_inputs(x_check, 0)
    stop_event = stop_event or threading.Event()
    t0 = time.perf_counter()
    with frozen(target):
        y_seed = _labels(target, x_seed)  # the first |S_0| queries
        n_classes = int(_labels_width(target, x_seed[:1]))
        y_check = _labels(target, x_check) if x_check is not None else None
    with torch.random.fork_rng(devices=[]):  # the build's own draws are replaced below: leave the global RNG alone
        sub = build_model(cfg.arch, tuple(x_seed.shape[1:]), n_classes, **SUBSTITUTE_ARCHS[cfg.arch])
    _private_init(sub, cfg.seed)
    xs, ys, queries, rounds, step = x_seed, y_seed, len(x_seed), [], 0

    class _Progress:
        def on_step(self, trainer: Any, log: Any) -> bool:
            nonlocal step
            step += 1
            return callback is not None and callback(step, {"phase": "train", "round": r + 1, "rounds": cfg.rounds,
                                                            "loss": log.loss, "n_train": len(xs)}) in (True, "stop")

    for r in range(cfg.rounds):
        tcfg = TrainConfig(task="multiclass", optimizer="Adam", lr=cfg.lr, batch_size=min(cfg.batch_size, len(xs)),
                           epochs=cfg.epochs, seed=cfg.seed + r, device=str(model_device(target)))
        hist = Trainer(sub, (xs, ys), None, tcfg, callbacks=[_Progress()], stop_event=stop_event).fit()  # 1. train F
        sub.eval()
        rec: dict[str, float] = {"round": r + 1, "n_train": len(xs), "queries": queries,
                                 "train_loss": hist.epochs[-1].train_loss if hist.epochs else float("nan")}
        if y_check is not None:
            rec["agreement"] = float((_labels(sub, x_check) == y_check).float().mean())
        rounds.append(rec)
        step += 1
        if callback is not None and callback(step, {"phase": "round", **rec, "rounds": cfg.rounds}) in (True, "stop"):
            stop_event.set()
        if stop_event.is_set() or r == cfg.rounds - 1 or cfg.augmentation == "none":
            break
        x_new = jacobian_augment(sub, xs, ys, cfg.lam)  # 2. S_{ρ+1} = S_ρ ∪ {x + λ sign(J_F[Õ(x)])}
        with frozen(target):
            y_new = _labels(target, x_new)  # 3. ask the target for their labels
        queries += len(x_new)
        xs, ys = torch.cat([xs, x_new]), torch.cat([ys, y_new])
    sub.eval()
    return SubstituteResult(sub.requires_grad_(False), xs, ys, queries, rounds, asdict(cfg),
                            time.perf_counter() - t0, stop_event.is_set(),
                            0 if x_check is None else len(x_check))


@torch.no_grad()
def _labels_width(model: nn.Module, x: torch.Tensor) -> int:
    return model(x.to(model_device(model))).shape[1]


@dataclass
class TransferResult:
    """A transfer attack: crafted on the substitute, judged on the target.

    Attributes:
        result: the :class:`AttackResult` with the *target's* predictions before/after.
        substitute_success_rate: share of the substitute fooled (white-box, on its own images).
        transfer_success_rate: share of the target fooled, among images it got right.
        label_queries: target queries spent training the substitute; eval_queries: queries to see
            the target's answers on the clean and adversarial images (2 per image).
    """

    result: AttackResult
    substitute_success_rate: float
    transfer_success_rate: float
    label_queries: int
    eval_queries: int
    notes: list[str] = field(default_factory=list)

    @property
    def queries(self) -> int:
        """All target queries: training labels + evaluation."""
        return self.label_queries + self.eval_queries


def transfer_attack(target: nn.Module, substitute: nn.Module | SubstituteResult, x: torch.Tensor, y: torch.Tensor,
                    attack: str = "pgd", **options: Any) -> TransferResult:
    """Attack ``substitute`` white-box and report how often it fools ``target``.

    ``options`` go to the attack (e.g. ``eps=0.1, steps=20``). Shape: ``x`` ``(N, C, H, W)``, ``y`` ``(N,)``.
    """
    from dlcore.attacks.registry import make_attack

    label_queries = 0
    if isinstance(substitute, SubstituteResult):
        label_queries, substitute = substitute.queries, substitute.model
    res = make_attack(attack, substitute, eval_model=target, **options)(x, y)
    with frozen(substitute), torch.no_grad():
        dev = model_device(substitute)
        sub_before = torch.cat([substitute(res.x[i:i + 512].to(dev)).argmax(1).cpu() for i in range(0, len(res.x), 512)])
        sub_after = torch.cat([substitute(res.x_adv[i:i + 512].to(dev)).argmax(1).cpu()
                               for i in range(0, len(res.x), 512)])
    ok = sub_before == res.y
    fooled = (sub_after == res.target) if res.target is not None else (sub_after != res.y)
    sub_rate = float(fooled[ok].float().mean()) if ok.any() else float("nan")
    notes = [f"the attack fooled the substitute on {100 * sub_rate:.0f} % of the images it got right, and the "
             f"target on {100 * res.success_rate:.0f} % of the images the target got right (transfer)"]
    return TransferResult(res, sub_rate, res.success_rate, label_queries, 2 * len(res.x), notes)
