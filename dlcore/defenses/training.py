"""Active defences (seed 000 §9.1.2): make the model itself robust by training on attacks.

Two forms, both through the one :class:`dlcore.train.Trainer`:

* **PGD adversarial training** (Madry et al. 2018, https://arxiv.org/abs/1706.06083): solve
  ``min_θ E_{(x,y)} [ max_{‖δ‖∞ ≤ ε} CE(f_θ(x + δ), y) ]`` by replacing each training batch with
  its PGD examples before the forward pass (:func:`pgd_batch_hook`, the Trainer's
  ``batch_hook``). Madry's MNIST recipe: ε = 0.3, α = 0.01, 40 steps, random start, every batch
  fully adversarial.
* **The notes' loop** (:func:`adversarial_retraining`): "train as usual, attack the current
  network to get a new data set D_adv, retrain on D ∪ D_adv, and repeat — like data
  augmentation." Run live on a small subset, it returns clean and robust accuracy per round.
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Literal

import torch
from torch import nn

from dlcore.attacks.base import Callback, check_choice, check_inputs, check_number

__all__ = ["AdversarialTrainingConfig", "pgd_batch_hook", "RetrainConfig", "RetrainRound", "RetrainResult",
           "adversarial_retraining"]


@dataclass
class AdversarialTrainingConfig:
    """PGD adversarial training (Madry et al. 2018; defaults = their MNIST recipe).

    Args:
        eps: L∞ budget of the training adversary. Default 0.3.
        alpha: its step size. Default 0.01.
        steps: its steps. Default 40.
        random_start: start PGD at a random point of the ball. Default True.
        mix: share of each batch replaced by its adversarial examples (1.0 = Madry's pure
            adversarial batches; 0.5 = Goodfellow et al. 2015's half-and-half). Default 1.0.
    """

    eps: float = 0.3
    alpha: float = 0.01
    steps: int = 40
    random_start: bool = True
    mix: float = 1.0

    def validate(self) -> None:
        self.mix = check_number("adversarial share", self.mix, 0.0, 1.0, open_lo=True)


def pgd_batch_hook(config: AdversarialTrainingConfig | None = None
                   ) -> Callable[[Any, torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]:
    """A Trainer ``batch_hook`` that swaps (a share of) each batch for its PGD examples.

    The examples are made against the model being trained, in eval mode with its weights frozen
    (the attack restores train mode and ``requires_grad`` before the Trainer's forward pass).
    """
    from dlcore.attacks.pgd import PGD

    cfg = config or AdversarialTrainingConfig()
    cfg.validate()

    def hook(trainer: Any, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        n = max(1, round(cfg.mix * len(x)))
        attack = PGD(trainer.model, eps=cfg.eps, alpha=cfg.alpha, steps=cfg.steps, random_start=cfg.random_start,
                     batch_size=4096)
        x_adv = attack.perturb(x[:n], y[:n])  # (n, C, H, W)
        return torch.cat([x_adv.to(x.device), x[n:]]), y

    return hook


@dataclass
class RetrainConfig:
    """The notes' attack -> augment -> retrain loop, sized to run live.

    Args:
        rounds: attack/retrain rounds, 1..10. Default 3.
        attack: ``"fgsm"`` or ``"pgd"`` to build D_adv. Default ``"pgd"``.
        eps: budget. Default 0.1. steps: PGD steps (α = 2.5·ε/steps). Default 10.
        epochs: retraining epochs per round on D ∪ D_adv so far. Default 2.
        lr: Adam learning rate for the retraining. Default 1e-3.
        batch_size: Default 64. seed: Default 0.
    """

    rounds: int = 3
    attack: Literal["fgsm", "pgd"] = "pgd"
    eps: float = 0.1
    steps: int = 10
    epochs: int = 2
    lr: float = 1e-3
    batch_size: int = 64
    seed: int = 0

    def validate(self) -> None:
        self.rounds = int(check_number("rounds", self.rounds, 1, 10, integer=True))
        self.attack = check_choice("attack", self.attack, ("fgsm", "pgd"))  # type: ignore[assignment]
        self.eps = check_number("epsilon", self.eps, 0.0, 1.0, open_lo=True)
        self.steps = int(check_number("steps", self.steps, 1, 100, integer=True))
        self.epochs = int(check_number("epochs", self.epochs, 1, 20, integer=True))
        self.lr = check_number("learning rate", self.lr, 0.0, 1.0, open_lo=True)
        self.batch_size = int(check_number("batch size", self.batch_size, 2, 1024, integer=True))
        self.seed = int(check_number("seed", self.seed, 0, 2**31 - 1, integer=True))


@dataclass
class RetrainRound:
    """After round ``round`` (0 = before any retraining): training-set size and test accuracies."""

    round: int
    n_train: int
    clean_accuracy: float
    robust_accuracy: float
    seconds: float


@dataclass
class RetrainResult:
    """Per-round figures, the retrained model, and whether a stop request ended it early."""

    rounds: list[RetrainRound]
    model: nn.Module
    config: dict[str, Any]
    stopped: bool = False
    notes: list[str] = field(default_factory=list)


@contextlib.contextmanager
def _private_dropout(model: nn.Module, seed: int):
    """Swap every ``nn.Dropout`` of ``model`` for a :class:`dlcore.models.Dropout` drawing from one
    generator seeded with ``seed`` while the block runs (torch's global RNG is shared by every
    thread of a server: two users retraining at once would get each other's masks and different
    answers for the same settings); the originals are put back afterwards."""
    from dlcore.models.layers import Dropout

    gen = torch.Generator().manual_seed(seed)
    swapped: list[tuple[nn.Module, str, nn.Module]] = []
    for parent in model.modules():
        for name, child in list(parent.named_children()):
            if isinstance(child, nn.Dropout):
                swapped.append((parent, name, child))
                private = Dropout(child.p)
                private.generator = gen
                setattr(parent, name, private)
    try:
        yield
    finally:
        for parent, name, child in swapped:
            setattr(parent, name, child)


def adversarial_retraining(model: nn.Module, train: tuple[torch.Tensor, torch.Tensor],
                           test: tuple[torch.Tensor, torch.Tensor], config: RetrainConfig | None = None,
                           callback: Callback | None = None, stop_event: threading.Event | None = None
                           ) -> RetrainResult:
    """Attack → add D_adv → retrain → repeat, on ``model`` itself (pass a private copy, e.g.
    ``zoo.get(name, fresh=True)``). Robust accuracy is measured with a *fresh* attack on the
    current model each round (the same kind and budget), so it cannot be gamed by memorising
    old adversarial examples.

    Shapes: ``train``/``test`` = ``(x (N, C, H, W) in [0, 1], y (N,))``, at most 10,000 each.
    ``callback(step, metrics)`` gets ``round``, ``phase`` ("attack"/"train"/"evaluate"),
    ``progress`` and, after each round, the accuracies.
    """
    from dlcore.attacks import FGSM, PGD, robust_accuracy
    from dlcore.train import TrainConfig, Trainer
    from dlcore.train.runtime import seed_everything

    cfg = config or RetrainConfig()
    cfg.validate()
    x_tr, y_tr = check_inputs(*train)
    x_te, y_te = check_inputs(*test)
    stop_event = stop_event or threading.Event()
    steps_done = 0

    def report(metrics: dict[str, Any]) -> None:
        nonlocal steps_done
        steps_done += 1
        if callback is not None and callback(steps_done, metrics) in (True, "stop"):
            stop_event.set()

    def make(m: nn.Module):
        if cfg.attack == "fgsm":
            return FGSM(m, eps=cfg.eps, batch_size=1024)
        return PGD(m, eps=cfg.eps, alpha=2.5 * cfg.eps / cfg.steps, steps=cfg.steps, seed=cfg.seed, batch_size=1024)

    def measure(r: int, n_train: int, t0: float) -> RetrainRound:
        from dlcore.train.metrics import evaluate_accuracy

        clean = evaluate_accuracy(model, x_te, y_te)
        robust = robust_accuracy(model, x_te, y_te, make(model))
        rec = RetrainRound(r, n_train, clean, robust, time.perf_counter() - t0)
        report({"round": r, "phase": "evaluate", "progress": r / cfg.rounds, **asdict(rec)})
        return rec

    seed_everything(cfg.seed)
    t0 = time.perf_counter()
    rounds = [measure(0, len(x_tr), t0)]
    data_x, data_y = x_tr, y_tr
    for r in range(1, cfg.rounds + 1):
        if stop_event.is_set():
            break
        report({"round": r, "phase": "attack", "progress": (r - 1) / cfg.rounds})
        x_adv = make(model).perturb(x_tr, y_tr)  # 1. attack the current network -> D_adv
        data_x, data_y = torch.cat([data_x, x_adv]), torch.cat([data_y, y_tr])  # 2. D ∪ D_adv (grows)
        report({"round": r, "phase": "train", "progress": (r - 0.5) / cfg.rounds, "n_train": len(data_x)})
        tcfg = TrainConfig(task="multiclass", optimizer="Adam", lr=cfg.lr, batch_size=cfg.batch_size,
                           epochs=cfg.epochs, seed=cfg.seed + r)
        with _private_dropout(model, cfg.seed + r):  # reproducible when several runs share the process
            Trainer(model, (data_x, data_y), None, tcfg, stop_event=stop_event).fit()  # 3. retrain
        model.eval()
        rounds.append(measure(r, len(data_x), t0))  # 4. clean and (fresh-attack) robust accuracy
    stopped = stop_event.is_set() and len(rounds) <= cfg.rounds
    return RetrainResult(rounds, model, asdict(cfg), stopped)
