"""What a training run reports: per-step and per-epoch logs, the history, the callback hooks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

import torch

if TYPE_CHECKING:
    from dlcore.train.loop import Trainer

__all__ = ["Status", "StepLog", "EpochLog", "History", "Callback"]

Status = Literal["running", "finished", "stopped", "diverged"]


@dataclass
class StepLog:
    """What happened at one optimizer step."""

    epoch: int                 # 1-based
    step: int                  # global optimizer step, 1-based
    loss: float
    lr: float                  # learning rate used for this step
    grad_norms: torch.Tensor   # (n_layers,) per-layer weight-gradient L2 norms (before clipping)
    epoch_log: "EpochLog | None" = None   # set on the last step of an epoch


@dataclass
class EpochLog:
    """Per-epoch metrics (train ones are running means over the epoch's batches, like the seed)."""

    epoch: int
    train_loss: float
    train_acc: float           # NaN for regression
    val_loss: float            # NaN without validation data
    val_acc: float
    lr: float                  # learning rate at the epoch's last step
    grad_norms: torch.Tensor   # (n_layers,) mean per-layer gradient norm over the epoch
    seconds: float


@dataclass
class History:
    """The run so far: per-step and per-epoch logs and the verdict."""

    layer_names: list[str]
    total_steps: int
    epochs: list[EpochLog] = field(default_factory=list)
    step_loss: list[float] = field(default_factory=list)
    step_lr: list[float] = field(default_factory=list)
    status: Status = "running"
    message: str = ""

    def series(self, key: str) -> list[float]:
        """One per-epoch metric as a list, e.g. ``series("val_acc")``."""
        return [getattr(e, key) for e in self.epochs]


class Callback(Protocol):
    """Hooks the loop calls. Return ``True`` or ``"stop"`` to stop the run (status "stopped")."""

    def on_step(self, trainer: "Trainer", log: StepLog) -> Any: ...
    def on_epoch_end(self, trainer: "Trainer", log: EpochLog) -> Any: ...
