"""The lottery ticket hypothesis (notes §9.2.1): a pruned sub-network trains well *from its
original initialisation* (Frankle & Carbin 2019, https://arxiv.org/abs/1803.03635).

1. Train a dense net from ``θ₀`` (the zoo model, trained from its recipe's seed);
2. prune the smallest-magnitude weights → mask ``m``;
3. retrain ``m ⊙ θ`` from one of these starting points, same steps and batches for each:

   * ``"original"``: ``θ₀`` — the winning ticket;
   * ``"random"``: a fresh random init ``θ'`` (what "just train a small network" gives);
   * ``"signs"``: ``|θ'| · sign(θ₀)`` — random magnitudes, the ticket's signs (Zhou et al.
     2019, "signs matter", https://arxiv.org/abs/1905.01067);
   * optionally the dense net from ``θ₀`` with no mask, for reference.

``θ₀`` is rebuilt exactly from the zoo recipe (``seed_everything(recipe.seed)`` then the
recipe's builder — what :func:`dlcore.zoo.train_recipe` did before training). Liu et al. 2019
(https://arxiv.org/abs/1810.05270) note the effect shows at small learning rates and for
unstructured masks, as here.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import torch
from torch import nn
from torch.nn.utils import prune

from dlcore.compression._batches import BatchStream
from dlcore.compression._validate import check_choice, check_float, check_int
from dlcore.compression.iterative import MAX_STEPS, ProgressCallback, _Relay
from dlcore.compression.pruning import SCOPES, PruneConfig, Scope, copy_pruned, prunable_layers, prune_unstructured
from dlcore.data import DataSplit

__all__ = ["TicketInit", "TICKET_INITS", "LotteryConfig", "LotteryResult", "original_init", "ticket_start",
           "lottery_ticket"]

TicketInit = Literal["original", "random", "signs"]
TICKET_INITS: tuple[str, ...] = ("original", "random", "signs")


@dataclass
class LotteryConfig:
    """Lottery-ticket experiment.

    Args:
        sparsity: fraction of weights pruned from the trained net, in [0, 1). Default 0.9.
        scope: ``"global"`` (default) or ``"layer"`` magnitude pruning.
        inits: starting points to retrain (default all of :data:`TICKET_INITS`).
        dense_reference: also train the unpruned net from ``θ₀`` (default True).
        steps: training steps of each run (same batches for all). Default 500.
        eval_every: steps between test evaluations (default 50).
        lr: Adam learning rate, constant (default 1.2e-3, Frankle & Carbin's for LeNet).
        batch_size: default 128.
        seed: batch order and the random re-initialisation (default 0).
        eval_examples: test examples per evaluation (default 2000).
        threads: torch threads (default 1).
    """

    sparsity: float = 0.9
    scope: Scope = "global"
    inits: tuple[str, ...] = TICKET_INITS
    dense_reference: bool = True
    steps: int = 500
    eval_every: int = 50
    lr: float = 1.2e-3
    batch_size: int = 128
    seed: int = 0
    eval_examples: int = 2000
    threads: int = 1

    def validate(self) -> None:
        check_float("sparsity", self.sparsity, 0.0, 1.0, hi_open=True)
        check_choice("scope", self.scope, SCOPES)
        if not self.inits or isinstance(self.inits, str):
            raise ValueError(f"inits {self.inits!r} must be a non-empty tuple of {list(TICKET_INITS)}")
        for i in self.inits:
            check_choice("init", i, TICKET_INITS)
        check_int("steps", self.steps, 1, MAX_STEPS)
        check_int("eval_every", self.eval_every, 1, self.steps)
        check_float("lr", self.lr, 0.0, 1.0, lo_open=True)
        check_int("batch_size", self.batch_size, 1, 4096)
        check_int("eval_examples", self.eval_examples, 1, 100_000)
        check_int("threads", self.threads, 1, 64)


@dataclass
class LotteryResult:
    """Test-accuracy curves ``{run: [(step, accuracy), ...]}`` (step 0 = before training), the
    final accuracies, the mask's sparsity, the trained dense accuracy, and the run status."""

    curves: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    sparsity: float = 0.0
    trained_dense_accuracy: float = float("nan")
    status: Literal["finished", "stopped"] = "finished"
    seconds: float = 0.0

    @property
    def final(self) -> dict[str, float]:
        return {k: v[-1][1] for k, v in self.curves.items() if v}


def original_init(zoo_name: str) -> nn.Module:
    """The untrained model ``θ₀`` the zoo checkpoint ``zoo_name`` was trained from."""
    from dlcore import zoo
    from dlcore.train import seed_everything
    from dlcore.zoo.recipes import build_from_recipe

    recipe = zoo.RECIPES[zoo_name]
    seed_everything(recipe.seed)
    return build_from_recipe(recipe, zoo.load_data(zoo_name))


def ticket_start(theta0: nn.Module, masks: dict[str, torch.Tensor], init: TicketInit, seed: int = 0) -> nn.Module:
    """A copy of ``theta0`` re-initialised as ``init`` says, with ``masks`` applied (pruned)."""
    check_choice("init", init, TICKET_INITS)
    model = copy_pruned(theta0)
    if init != "original":
        torch.manual_seed(10_000 + seed)
        fresh = copy_pruned(theta0)
        for _, mod in prunable_layers(fresh):
            mod.reset_parameters()  # θ' from PyTorch's default (Kaiming-uniform) init
        fresh_layers = dict(prunable_layers(fresh))
        with torch.no_grad():
            for name, mod in prunable_layers(model):
                w_new = fresh_layers[name].weight
                mod.weight.copy_(w_new if init == "random" else w_new.abs() * torch.sign(mod.weight))
                if mod.bias is not None:
                    mod.bias.copy_(fresh_layers[name].bias)
    for name, mod in prunable_layers(model):
        if name in masks:
            prune.custom_from_mask(mod, "weight", masks[name])
    return model


def _train_curve(model: nn.Module, split: DataSplit, cfg: LotteryConfig, label: str,
                 callback: ProgressCallback | None, stop_event: threading.Event, offset: int
                 ) -> tuple[list[tuple[int, float]], str]:
    from dlcore.compression.measure import accuracy
    from dlcore.train import TrainConfig, Trainer

    xt, yt = split.x_test[:cfg.eval_examples], split.y_test[:cfg.eval_examples]
    curve = [(0, accuracy(model, xt, yt))]
    stream = BatchStream(split.x_train, split.y_train, cfg.batch_size, cfg.eval_every, cfg.seed)
    passes = -(-cfg.steps // cfg.eval_every)
    tcfg = TrainConfig(task="multiclass", optimizer="Adam", lr=cfg.lr, batch_size=cfg.batch_size, epochs=passes,
                       seed=cfg.seed, device="cpu", num_threads=cfg.threads)
    trainer = Trainer(model, stream, (xt, yt), tcfg, callbacks=[_Relay(callback, offset, {"run": label})],
                      stop_event=stop_event)
    for log in trainer.steps():
        if log.epoch_log is not None:
            curve.append((log.step, log.epoch_log.val_acc))
    model.eval()
    return curve, trainer.history.status


def lottery_ticket(zoo_name: str, split: DataSplit, config: LotteryConfig | None = None,
                   callback: ProgressCallback | None = None,
                   stop_event: threading.Event | None = None) -> LotteryResult:
    """Find the ticket of ``zoo_name``'s trained weights and retrain it from each start.

    Args:
        zoo_name: a classifier of the zoo (``"fmnist_lenet300"`` or its twin ``"digits_mlp"``).
        split: its data.
        config: :class:`LotteryConfig`.
        callback: ``callback(step, metrics)`` after every training step (``run``, ``loss``);
            return True/``"stop"`` to stop.
        stop_event: set to stop from another thread.
    """
    from dlcore import zoo
    from dlcore.compression.measure import accuracy

    cfg = config or LotteryConfig()
    cfg.validate()
    stop_event = stop_event or threading.Event()
    t0 = time.perf_counter()
    trained = zoo.get(zoo_name, fresh=True)
    result = LotteryResult()
    result.trained_dense_accuracy = accuracy(trained, split.x_test[:cfg.eval_examples],
                                             split.y_test[:cfg.eval_examples])
    rep = prune_unstructured(trained, PruneConfig(cfg.sparsity, "magnitude", cfg.scope))  # 2. the mask
    result.sparsity = rep.sparsity
    masks = {n: m.weight_mask.clone() for n, m in prunable_layers(trained) if hasattr(m, "weight_mask")}
    theta0 = original_init(zoo_name)
    runs: list[tuple[str, nn.Module]] = [(i, ticket_start(theta0, masks, i, cfg.seed)) for i in cfg.inits]  # type: ignore[arg-type]
    if cfg.dense_reference:
        runs.append(("dense", copy_pruned(theta0)))
    for k, (label, model) in enumerate(runs):  # 3. same budget, same batches
        curve, status = _train_curve(model, split, cfg, label, callback, stop_event, k * cfg.steps)
        result.curves[label] = curve
        if status == "stopped" or stop_event.is_set():
            result.status = "stopped"
            break
    result.seconds = time.perf_counter() - t0
    return result
