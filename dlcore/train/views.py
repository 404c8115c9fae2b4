"""What a trained model does on the validation data, ready to draw (no figures here).

* :func:`data_view`: for 2-D classification the class probabilities on a grid (decision
  boundary); for 1-D regression the model's curve over the data's range; for other
  regression the predicted-vs-true pairs; for images a few validation images with their
  predicted and true classes.
* :func:`confusion`: the validation confusion matrix with the class names and accuracy.
* :func:`run_curves`: one run's per-step and per-epoch series (with an EMA of the step loss)
  for the training-curve figures.

Each returns a small dataclass; :mod:`dlcore.plotting.train` draws them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import torch
from torch import nn

from dlcore.train.history import History
from dlcore.train.loop import predict
from dlcore.train.metrics import confusion_matrix, decision_grid, predict_labels

__all__ = ["DataView", "data_view", "Confusion", "confusion", "RunCurves", "run_curves", "ema"]

ViewKind = Literal["boundary", "curve", "scatter", "images", "none"]


@dataclass
class DataView:
    """The model on the validation data.

    Attributes:
        kind: ``boundary`` (2-D classifier), ``curve`` (1-D regression), ``scatter``
            (regression with more inputs), ``images`` or ``none``.
        x, y: validation inputs and targets (images: the first ``n_images``).
        y_pred: predictions for ``x`` (values for regression, classes otherwise).
        grid: ``(xs (S,), ys (S,), probs (S, S, C))`` for ``boundary``.
        curve: ``(x_grid (M, 1), y_grid (M, 1))`` for ``curve``.
        class_names: for ``images``.
        mse: validation MSE for regression views.
    """

    kind: ViewKind
    x: torch.Tensor | None = None
    y: torch.Tensor | None = None
    y_pred: torch.Tensor | None = None
    grid: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None
    curve: tuple[torch.Tensor, torch.Tensor] | None = None
    class_names: tuple[str, ...] = ()
    mse: float = float("nan")


def data_view(model: nn.Module, split: Any, task: str, *, steps: int = 100, n_images: int = 12) -> DataView:
    """The :class:`DataView` of ``model`` on ``split`` (a :class:`~dlcore.data.DataSplit`).

    Args:
        model: the trained model (left in its train/eval mode).
        split: the data; its test part is the validation set.
        task: ``multiclass`` | ``binary`` | ``regression``.
        steps: grid points per axis for a decision boundary. Default 100.
        n_images: validation images shown for image data. Default 12.
    """
    x, y = split.x_test, split.y_test
    if task == "regression":
        y_pred = predict(model, x)  # (N, 1)
        mse = float(((y_pred.reshape(-1) - y.reshape(-1).float()) ** 2).mean())
        if x.ndim == 2 and x.shape[1] == 1:
            lo = float(min(x.min(), split.x_train.min()))
            hi = float(max(x.max(), split.x_train.max()))
            xg = torch.linspace(lo, hi, 200).unsqueeze(1)  # (200, 1)
            return DataView("curve", x, y, y_pred, curve=(xg, predict(model, xg)), mse=mse)
        return DataView("scatter", x, y, y_pred, mse=mse)
    if x.ndim == 2 and x.shape[1] == 2:
        grid = decision_grid(model, split.x_train, task, steps=steps)  # (S,), (S,), (S, S, C)
        return DataView("boundary", x, y, grid=grid)
    if x.ndim == 4:
        xs, ys = x[:n_images], y[:n_images]
        pred = predict_labels(predict(model, xs), task)  # (n,)
        names = tuple(split.classes) or tuple(str(i) for i in range(split.n_classes))
        return DataView("images", xs, ys, pred, class_names=names)
    return DataView("none")


@dataclass
class Confusion:
    """Validation confusion matrix ``matrix[i, j]`` = samples of true class i predicted as j."""

    matrix: torch.Tensor          # (C, C) long
    class_names: tuple[str, ...]
    accuracy: float


def confusion(model: nn.Module, split: Any, task: str) -> Confusion | None:
    """The :class:`Confusion` of a classifier on the validation set (None for regression)."""
    if task == "regression":
        return None
    pred = predict_labels(predict(model, split.x_test), task)  # (N,)
    n = max(2, int(split.n_classes))
    cm = confusion_matrix(pred, split.y_test, n)
    names = tuple(split.classes) if split.classes and len(split.classes) == n else tuple(str(i) for i in range(n))
    return Confusion(cm, names, cm.diag().sum().item() / max(1, cm.sum().item()))


def ema(values: list[float], beta: float = 0.9) -> list[float]:
    """Bias-corrected exponential moving average (as TensorBoard's smoothing):
    ``s_t = β·s_{t-1} + (1−β)·v_t``, reported as ``s_t / (1 − β^t)``. NaN/inf values are skipped.

    Shape: same length as ``values``.
    """
    if not 0 <= beta < 1:
        raise ValueError(f"EMA beta {beta} must be in [0, 1)")
    out, s, w = [], 0.0, 0.0
    for v in values:
        if v == v and abs(v) != float("inf"):
            s, w = beta * s + (1 - beta) * v, beta * w + (1 - beta)
        out.append(s / w if w > 0 else float("nan"))
    return out


@dataclass
class RunCurves:
    """One run's series for the training-curve figures (plain lists: cheap to keep per session).

    ``step_x`` is the fractional epoch of each optimizer step (step / steps per epoch), so
    per-step and per-epoch series share one axis.
    """

    label: str
    step_x: list[float] = field(default_factory=list)
    step_loss: list[float] = field(default_factory=list)
    step_loss_ema: list[float] = field(default_factory=list)
    epochs: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    total_epochs: int = 0
    status: str = "running"


def run_curves(label: str, history: History, steps_per_epoch: int, total_epochs: int = 0,
               beta: float | None = None) -> RunCurves:
    """The :class:`RunCurves` of ``history`` so far. ``beta`` of the EMA defaults to one that
    averages over about a tenth of an epoch (at least 0.6, at most 0.98)."""
    spe = max(1, int(steps_per_epoch))
    if beta is None:
        beta = min(0.98, max(0.6, 1 - 10 / spe))
    n = len(history.step_loss)
    return RunCurves(label, [(i + 1) / spe for i in range(n)], list(history.step_loss),
                     ema(history.step_loss, beta), [e.epoch for e in history.epochs],
                     history.series("train_loss"), history.series("val_loss"), history.series("train_acc"),
                     history.series("val_acc"), total_epochs, history.status)
