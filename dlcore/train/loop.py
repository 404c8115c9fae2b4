"""One training loop with callbacks, for every model in the lab.

The loop is the seed's (003 §dl_2_2/§dl_2_3) made reusable::

    for epoch in range(epochs):
        model.train()
        for batch_x, batch_y in train_loader:
            outputs = model(batch_x)                 # 1. forward
            loss = criterion(outputs, batch_y)       # 2. loss
            optimizer.zero_grad(); loss.backward()   # 3. backward
            clip_grad_norm_(...)                     # 4. optional clipping (seed 000 §2.2.1)
            optimizer.step(); scheduler.step()       # 5. update, then the schedule
        model.eval(); evaluate on the validation set with torch.no_grad()

plus what a learner wants to see: per step loss, learning rate and per-layer gradient norms,
per epoch train/val loss and accuracy, and a clear verdict when the loss becomes NaN/inf
("diverged") or when the run is stopped (a callback returns ``True``/``"stop"``, or a
``threading.Event`` is set).

Two hooks make the same loop train what is not plain supervised learning:

* ``batch_hook(trainer, x, y) -> (x, y)`` rewrites each batch before the forward pass, e.g.
  replacing it with PGD adversarial examples (adversarial training, Madry et al. 2018,
  https://arxiv.org/abs/1706.06083) or adding augmented copies;
* ``objective(model, x, y) -> (loss, outputs | None)`` replaces ``criterion(model(x), y)``,
  e.g. DDPM's noise-prediction MSE (Ho et al. 2020) or a distillation loss; accuracy is
  reported when it returns class outputs.

:meth:`Trainer.steps` is a generator (yields a :class:`StepLog` after every optimizer step,
with ``epoch_log`` set on the last step of an epoch) so a UI can stream it;
:meth:`Trainer.fit` drains it and returns the :class:`History`.

Losses: ``multiclass`` → ``CrossEntropyLoss`` on logits (softmax inside, §dl_2_3);
``binary`` → ``BCEWithLogitsLoss`` on one logit (the numerically stable form of the seed's
``Sigmoid`` + ``BCELoss``, §dl_2_2); ``regression`` → ``MSELoss`` (§dl_2_1).
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Sequence

import torch
from torch import nn

from dlcore.train.history import Callback, EpochLog, History, Status, StepLog
from dlcore.train.metrics import TaskName, accuracy, grad_norms, layer_names
from dlcore.train.names import MAX_EPOCHS
from dlcore.train.optim import OptimizerName, make_optimizer
from dlcore.train.runtime import RNG_LOCK, default_device, seed_everything, threads_per_step
from dlcore.train.schedules import ScheduleConfig, make_scheduler

__all__ = ["TrainConfig", "StepLog", "EpochLog", "History", "Callback", "Trainer", "fit", "predict",
           "seed_everything", "default_device", "make_loss", "MAX_EPOCHS", "Status", "BatchHook", "Objective"]

_ADVICE = "Lower the learning rate, add warm-up or gradient clipping (seed 000 §2.2.1)."


def make_loss(task: TaskName) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """The criterion for ``task`` (targets are reshaped/cast to match the output)."""
    if task == "multiclass":
        ce = nn.CrossEntropyLoss()
        return lambda out, y: ce(out, y.long())
    if task == "binary":
        bce = nn.BCEWithLogitsLoss()
        return lambda out, y: bce(out.reshape(-1), y.reshape(-1).float())
    if task == "regression":
        mse = nn.MSELoss()
        return lambda out, y: mse(out, y.reshape(out.shape).float())
    raise ValueError(f"task {task!r} is unknown; choose from multiclass, binary, regression")


@dataclass
class TrainConfig:
    """Everything that defines a run besides the model and the data.

    Args:
        task: ``"multiclass"`` | ``"binary"`` | ``"regression"``. Default ``"multiclass"``.
        optimizer: a name from :data:`dlcore.train.optim.OPTIMIZERS`. Default ``"Adam"``.
        lr: base learning rate η. Default 1e-3 (Adam's default, Kingma & Ba 2015).
        weight_decay: L2 penalty λ. Default 0.
        batch_size: samples per step. Default 64 (the seed's DataLoader).
        epochs: passes over the training set, 1..:data:`MAX_EPOCHS`. Default 20.
        schedule: learning-rate schedule (:class:`ScheduleConfig`). Default constant.
        clip_grad_norm: rescale gradients so their global L2 norm is ≤ this (0 = off). Default 0.
        seed: an int makes the run own its randomness: ``torch.manual_seed(seed)`` (dropout)
            and a private shuffling generator seeded with it. None = continue the caller's
            global RNG stream and shuffle exactly as ``DataLoader(shuffle=True)`` does, so the
            loop repeats the seed notes' plain loop step for step. Default None.
        device: ``"cpu"``/``"cuda"``; None = CUDA when present. Default None.
        eval_batch_size: batch size for evaluation. Default 4096.
        num_threads: torch intra-op threads while this run trains (0 = leave torch's setting).
            1 is much faster for small MLPs on a busy CPU (no thread oversubscription). Default 0.
    """

    task: TaskName = "multiclass"
    optimizer: OptimizerName = "Adam"
    lr: float = 1e-3
    weight_decay: float = 0.0
    batch_size: int = 64
    epochs: int = 20
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    clip_grad_norm: float = 0.0
    seed: int | None = None
    device: str | None = None
    eval_batch_size: int = 4096
    num_threads: int = 0

    def validate(self) -> None:
        if self.task not in ("multiclass", "binary", "regression"):
            raise ValueError(f"task {self.task!r} is unknown; choose from multiclass, binary, regression")
        if not 1 <= int(self.epochs) <= MAX_EPOCHS:
            raise ValueError(f"epochs {self.epochs} is outside 1..{MAX_EPOCHS}")
        if int(self.batch_size) < 1:
            raise ValueError(f"batch size {self.batch_size} must be ≥ 1")
        if not math.isfinite(self.clip_grad_norm) or self.clip_grad_norm < 0:
            raise ValueError(f"gradient clipping norm {self.clip_grad_norm:g} must be ≥ 0 (0 = off)")


Data = tuple[torch.Tensor, torch.Tensor] | Iterable[tuple[torch.Tensor, torch.Tensor]]
#: ``batch_hook(trainer, x, y) -> (x, y)``: rewrite a batch before the forward pass.
BatchHook = Callable[["Trainer", torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]
#: ``objective(model, x, y) -> (loss, outputs or None)``: the loss of one batch.
Objective = Callable[[nn.Module, torch.Tensor, torch.Tensor], tuple[torch.Tensor, "torch.Tensor | None"]]


def _wants_stop(answer: Any) -> bool:
    return answer is True or answer == "stop"


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, batch_size: int = 4096) -> torch.Tensor:
    """Model outputs for ``x`` in eval mode, batched, on the CPU. Shape ``(N, …)``."""
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    outs = [model(x[i:i + batch_size].to(device)).cpu() for i in range(0, len(x), batch_size)]
    model.train(was_training)
    return torch.cat(outs)


class Trainer:
    """Train ``model`` on ``train`` (a ``(X, y)`` pair of tensors or any iterable of batches,
    e.g. a ``DataLoader``), evaluating on ``val`` after every epoch.

    Seed the global RNG (:func:`seed_everything`) *before* building the model for a
    reproducible run. Shuffling draws from torch's global RNG exactly as
    ``DataLoader(shuffle=True)`` does, so with the same seed, model and data the loop takes the
    same steps as the seed's code (tested against it).
    """

    def __init__(self, model: nn.Module, train: Data, val: tuple[torch.Tensor, torch.Tensor] | None = None,
                 config: TrainConfig | None = None, callbacks: Sequence[Callback] = (),
                 stop_event: threading.Event | None = None, batch_hook: BatchHook | None = None,
                 objective: Objective | None = None, rng: torch.Generator | None = None) -> None:
        self.config = config or TrainConfig()
        #: with ``config.seed`` None, the generator the epoch shuffles draw from instead of torch's
        #: global RNG (the same draws DataLoader makes there; see :func:`dlcore.models.own_dropout_rng`)
        self.rng = rng
        self.batch_hook = batch_hook
        self.objective = objective
        self.config.validate()
        self.device = torch.device(self.config.device) if self.config.device else default_device()
        self.model = model.to(self.device)
        self.train_data = train
        self.val = val
        self.callbacks = list(callbacks)
        self.stop_event = stop_event or threading.Event()
        self.loss_fn = make_loss(self.config.task)
        self.optimizer = make_optimizer(self.config.optimizer, self.model.parameters(), self.config.lr,
                                        self.config.weight_decay)
        self.steps_per_epoch = self._steps_per_epoch()
        total = self.steps_per_epoch * int(self.config.epochs)
        self.scheduler = make_scheduler(self.optimizer, self.config.schedule, total)
        self.history = History(layer_names=layer_names(self.model), total_steps=total)

    # -- data -------------------------------------------------------------------------------
    def _is_tensor_pair(self) -> bool:
        d = self.train_data
        return isinstance(d, tuple) and len(d) == 2 and all(isinstance(t, torch.Tensor) for t in d)

    def _steps_per_epoch(self) -> int:
        if self._is_tensor_pair():
            x, y = self.train_data  # type: ignore[misc]
            if len(x) != len(y):
                raise ValueError(f"inputs have {len(x)} samples but targets have {len(y)}")
            if len(x) == 0:
                raise ValueError("the training set is empty")
            n, bs = len(x), int(self.config.batch_size)
            return n // bs + (1 if n % bs > 1 else 0)  # a last batch of 1 is dropped (BatchNorm)
        try:
            return len(self.train_data)  # type: ignore[arg-type]
        except TypeError:
            raise ValueError("train data must be a (X, y) tensor pair or a sized iterable such as a DataLoader")

    def _batches(self, gen: torch.Generator | None) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        if not self._is_tensor_pair():
            yield from self.train_data  # type: ignore[misc]
            return
        x, y = self.train_data  # type: ignore[misc]
        bs = int(self.config.batch_size)
        if gen is None:
            # shuffle=True exactly as DataLoader does it, drawing from torch's global RNG: each
            # epoch's iterator first draws a worker base seed, then RandomSampler draws the
            # seed of a fresh generator and takes one permutation
            torch.empty((), dtype=torch.int64).random_(generator=self.rng)  # DataLoader iterator's _base_seed
            seed = int(torch.empty((), dtype=torch.int64).random_(generator=self.rng).item())
            gen = torch.Generator().manual_seed(seed)
        perm = torch.randperm(len(x), generator=gen)  # (N,)
        for i in range(self.steps_per_epoch):
            idx = perm[i * bs:(i + 1) * bs]
            yield x[idx], y[idx]

    # -- evaluation ---------------------------------------------------------------------------
    @torch.no_grad()
    def evaluate(self, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
        """(loss, accuracy) on ``(x, y)`` in eval mode (accuracy NaN for regression or when the
        objective returns no class outputs)."""
        if self.objective is None:
            out = predict(self.model, x, self.config.eval_batch_size)  # (N, C)
            return self.loss_fn(out, y).item(), accuracy(out, y, self.config.task)
        was = self.model.training
        self.model.eval()
        bs, total, outs = self.config.eval_batch_size, 0.0, []
        for i in range(0, len(x), bs):
            loss, out = self.objective(self.model, x[i:i + bs].to(self.device), y[i:i + bs].to(self.device))
            total += float(loss) * len(x[i:i + bs])
            if out is not None:
                outs.append(out.cpu())
        self.model.train(was)
        acc = accuracy(torch.cat(outs), y, self.config.task) if outs and self.config.task != "regression" \
            else float("nan")
        return total / max(len(x), 1), acc

    # -- the loop -----------------------------------------------------------------------------
    def steps(self) -> Iterator[StepLog]:
        """Run training, yielding a :class:`StepLog` after every optimizer step."""
        yield from threads_per_step(self._steps(), self.config.num_threads)

    def _steps(self) -> Iterator[StepLog]:
        cfg, h = self.config, self.history
        gen: torch.Generator | None = None
        if cfg.seed is not None:
            with RNG_LOCK:
                torch.manual_seed(cfg.seed)                # dropout masks (unless a model's own)
            gen = torch.Generator().manual_seed(cfg.seed)  # shuffling
        step = 0
        for epoch in range(1, int(cfg.epochs) + 1):
            t0 = time.perf_counter()
            self.model.train()
            loss_sum = correct = seen = 0.0
            norm_sum: torch.Tensor | None = None
            n_batches = 0
            for bx, by in self._batches(gen):
                bx, by = bx.to(self.device), by.to(self.device)
                if self.batch_hook is not None:        # 0. optional: rewrite the batch
                    bx, by = self.batch_hook(self, bx, by)
                    self.model.train()                 #    (a hook may have switched to eval)
                if self.objective is None:
                    out = self.model(bx)               # 1. forward  (B, C)
                    loss = self.loss_fn(out, by)       # 2. loss
                else:
                    loss, out = self.objective(self.model, bx, by)  # 1.+2. a custom objective
                loss_val = loss.item()
                if not math.isfinite(loss_val):
                    h.status = "diverged"
                    h.message = f"Diverged at epoch {epoch}, step {step + 1}: the loss became {loss_val}. {_ADVICE}"
                    return
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()                        # 3. backward
                norms = grad_norms(self.model)         # (n_layers,)
                if cfg.clip_grad_norm > 0:             # 4. clipping
                    nn.utils.clip_grad_norm_(self.model.parameters(), cfg.clip_grad_norm)
                lr = self.optimizer.param_groups[0]["lr"]
                self.optimizer.step()                  # 5. update
                self.scheduler.step()
                step += 1
                n_batches += 1
                loss_sum += loss_val
                if cfg.task != "regression" and out is not None:
                    correct += accuracy(out.detach(), by, cfg.task) * len(bx)
                seen += len(bx)
                norm_sum = norms if norm_sum is None else norm_sum + norms
                h.step_loss.append(loss_val)
                h.step_lr.append(lr)
                log = StepLog(epoch, step, loss_val, lr, norms)
                if self._ask_stop("on_step", log):
                    h.status, h.message = "stopped", (f"Stopped during epoch {epoch} at step {step}; "
                                                     f"{epoch - 1} full epochs were evaluated.")
                    yield log
                    return
                if n_batches == self.steps_per_epoch:
                    break
                yield log
            if n_batches == 0:
                raise ValueError("the training data produced no batches")
            # evaluation (model.eval() + no_grad) on the validation set
            val_loss = val_acc = float("nan")
            if self.val is not None:
                val_loss, val_acc = self.evaluate(*self.val)
            has_acc = cfg.task != "regression" and (self.objective is None or correct > 0)
            elog = EpochLog(epoch, loss_sum / n_batches,
                            correct / seen if has_acc else float("nan"),
                            val_loss, val_acc, lr, norm_sum / n_batches,  # type: ignore[operator]
                            time.perf_counter() - t0)
            h.epochs.append(elog)
            log.epoch_log = elog
            stop = self._ask_stop("on_epoch_end", elog)
            if self.val is not None and not math.isfinite(val_loss):
                h.status = "diverged"
                h.message = f"Diverged at epoch {epoch}: the validation loss became {val_loss}. {_ADVICE}"
                yield log
                return
            if stop:
                h.status, h.message = "stopped", f"Stopped after epoch {epoch}."
                yield log
                return
            yield log
        h.status = "finished"
        h.message = f"Finished {cfg.epochs} epochs ({step} steps)."

    def _ask_stop(self, hook: str, log: Any) -> bool:
        stop = self.stop_event.is_set()
        for cb in self.callbacks:
            fn = getattr(cb, hook, None)
            if fn is not None and _wants_stop(fn(self, log)):
                stop = True
        return stop

    def fit(self) -> History:
        """Run to the end (or until stopped/diverged) and return the :class:`History`."""
        for _ in self.steps():
            pass
        return self.history


def fit(model: nn.Module, train: Data, val: tuple[torch.Tensor, torch.Tensor] | None = None,
        config: TrainConfig | None = None, callbacks: Sequence[Callback] = (),
        stop_event: threading.Event | None = None, batch_hook: BatchHook | None = None,
        objective: Objective | None = None) -> History:
    """Shorthand for ``Trainer(model, train, val, config, callbacks, stop_event, ...).fit()``."""
    return Trainer(model, train, val, config, callbacks, stop_event, batch_hook, objective).fit()
