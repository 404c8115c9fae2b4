"""Did the run learn? A criterion against the loss of a constant guess (seed 000 §2.2.1, §3.1).

A model that ignores its input can still predict a constant: the class frequencies of the
training set (classification) or the training mean (regression). Its loss on the validation
set is the **baseline** ``B``:

* classification: ``B = -Σ_c q_c · ln p_c`` with ``p`` the training class frequencies and
  ``q`` the validation ones (= ln C for balanced classes: the "ln C" of a uniform guess);
* regression: ``B = mean((y_val - mean(y_train))²)`` (the variance of the targets).

:func:`judge` then says what happened, from the history alone:

* ``diverged``: the loss became NaN/inf (the Trainer stopped the run);
* ``exploded``: the final loss is above ``explode · B`` (default 3·B): the steps overshoot;
* ``failed``: the final loss is not below ``margin · B`` (default 0.95·B): nothing was learned
  beyond a constant guess (e.g. SGD with η = 10 ends at 50 % on moons, or a 10-layer sigmoid
  net whose gradients vanish sits at ln 2);
* ``learned``: below the baseline; ``stopped`` / ``running`` when the run did not end.

The final loss is the last epoch's validation loss (the training loss when there is none).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import torch

    from dlcore.train.history import History

__all__ = ["VerdictKind", "Verdict", "constant_baseline", "judge"]

VerdictKind = Literal["learned", "failed", "exploded", "diverged", "stopped", "running"]


@dataclass(frozen=True)
class Verdict:
    """What a run achieved, against the constant-guess baseline.

    Attributes:
        kind: see the module docstring.
        learned: True only for ``learned``.
        final_loss: the loss judged (NaN when there is no finished epoch).
        baseline: the loss of the best constant guess ``B``.
        message: one sentence for the learner, with both numbers.
    """

    kind: VerdictKind
    final_loss: float
    baseline: float
    message: str

    @property
    def learned(self) -> bool:
        return self.kind == "learned"


def constant_baseline(task: str, y_train: "torch.Tensor", y_val: "torch.Tensor | None" = None,
                      n_classes: int | None = None) -> float:
    """The validation loss ``B`` of the best constant prediction learnt from ``y_train``.

    Args:
        task: ``"multiclass"``, ``"binary"`` or ``"regression"``.
        y_train: training targets, class indices ``(N,)`` / 0-1 labels ``(N, 1)`` / values.
        y_val: validation targets (default: ``y_train``).
        n_classes: number of classes (default: inferred from the labels).

    Returns:
        ``B`` in nats for classification (cross entropy), squared units for regression (MSE).
    """
    import torch

    y_val = y_train if y_val is None else y_val
    if task == "regression":
        mean = y_train.double().mean()
        return float(((y_val.double() - mean) ** 2).mean())
    if task not in ("multiclass", "binary"):
        raise ValueError(f"task {task!r} is unknown; choose from multiclass, binary, regression")
    tr, va = y_train.reshape(-1).long(), y_val.reshape(-1).long()
    c = int(n_classes or int(max(tr.max(), va.max())) + 1)
    c = max(c, 2)
    p = torch.bincount(tr, minlength=c).double()
    p = (p + 1e-12) / p.sum()  # training class frequencies (tiny floor: a class absent from training)
    q = torch.bincount(va, minlength=c).double() / len(va)
    return float(-(q * p.log()).sum())


def judge(history: "History", baseline: float, *, margin: float = 0.95, explode: float = 3.0) -> Verdict:
    """The verdict of a run from its :class:`~dlcore.train.history.History` (see the module docstring).

    Args:
        history: the run's history (status and per-epoch losses).
        baseline: ``B`` from :func:`constant_baseline` (> 0).
        margin: the final loss must be below ``margin · B`` to count as learned. Default 0.95.
        explode: a final loss above ``explode · B`` counts as exploded. Default 3.
    """
    if not (math.isfinite(baseline) and baseline > 0):
        raise ValueError(f"baseline {baseline} must be a positive finite loss")
    if not 0 < margin <= 1 or explode <= 1:
        raise ValueError(f"margin {margin} must be in (0, 1] and explode {explode} above 1")
    last = history.epochs[-1] if history.epochs else None
    loss = float("nan")
    which = "loss"
    if last is not None:
        loss, which = (last.val_loss, "validation loss") if math.isfinite(last.val_loss) else \
            (last.train_loss, "training loss")
    base = f"the {baseline:.4g} that a constant guess scores"
    if history.status == "diverged":
        return Verdict("diverged", loss, baseline, history.message or "The loss became NaN or infinite.")
    if history.status == "running":
        return Verdict("running", loss, baseline, f"Training… (a constant guess scores {baseline:.4g}).")
    if last is None:
        return Verdict("stopped", loss, baseline,
                       f"Stopped before the first epoch ended (a constant guess scores {baseline:.4g}).")
    if loss > explode * baseline:
        kind: VerdictKind = "exploded"
        msg = (f"The loss exploded: final {which} {loss:.4g} is {loss / baseline:.1f}× {base}. The steps "
               "overshoot: lower the learning rate, add warm-up or gradient clipping (seed 000 §2.2.1).")
    elif loss >= margin * baseline:
        kind = "failed"
        msg = (f"Failed to learn: final {which} {loss:.4g} is not below {base} (a model that ignores its "
               "input does as well). Try another learning rate, optimizer or activation.")
    else:
        kind = "learned"
        msg = f"Learned: final {which} {loss:.4g} is {loss / baseline:.0%} of {base}."
    if history.status == "stopped":
        return Verdict("stopped", loss, baseline, f"Stopped early. So far: {msg[0].lower()}{msg[1:]}")
    return Verdict(kind, loss, baseline, msg)
