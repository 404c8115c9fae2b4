"""Chance level and loss curves: what a guessing model scores, and how each loss bends.

* Chance level (seed notes §3.1): a model that predicts the uniform distribution over C
  classes has cross entropy ``-ln(1/C) = ln C`` for every target, so a training loss
  stuck near ln C means the model is guessing. :func:`chance_level` recomputes the user's
  own loss with a uniform guess (same targets, same options).
* Cross entropy as a function of the true class's probability, ``-ln p``, and of the
  logit margin ``m = x_y - log Σ_{c≠y} e^{x_c}``: ``CE = ln(1 + e^{-m}) = softplus(-m)``.
* Regression losses and their gradients ``∂ℓ/∂x`` against the error ``e = x - y``,
  computed with torch autograd on the real ``torch.nn.functional`` losses.
* BCE on ``sigmoid(z)`` versus BCEWithLogits on ``z`` for large ``|z|`` in float32: the first
  saturates (σ(z) rounds to 1, log(0) is clamped at -100), the second stays exact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from dlcore.calculators.losses import LOSSES, calculate
from dlcore.calculators.losses_base import LossOptions
from dlcore.textinput import parse_tensor

__all__ = ["ln_c_table", "ChanceResult", "chance_level", "true_class_stats", "regression_curves",
           "bce_stability", "ce_of_margin"]


def ln_c_table(c_min: int = 2, c_max: int = 1000) -> list[tuple[int, float]]:
    """``(C, ln C)`` for C = c_min..c_max: the cross entropy of a uniform guess over C classes."""
    if not 2 <= c_min <= c_max <= 100_000:
        raise ValueError(f"class range {c_min}..{c_max} must satisfy 2 <= C_min <= C_max <= 100000")
    return [(c, math.log(c)) for c in range(c_min, c_max + 1)]


@dataclass
class ChanceResult:
    """The user's loss next to the loss of a model that does not look at the input."""

    loss: float
    chance: float
    baseline: str   # what the baseline predicts
    num_classes: int | None
    verdict: str


def _uniform_prediction(loss: str, x: torch.Tensor) -> tuple[torch.Tensor, str]:
    c = x.shape[-1] if x.ndim else 1
    if loss in ("CrossEntropyLoss", "BCEWithLogitsLoss"):
        return torch.zeros_like(x), "all logits 0 (uniform probabilities)"
    if loss in ("NLLLoss", "KLDivLoss"):
        return torch.full_like(x, -math.log(c)), f"log(1/{c}) for every class"
    if loss == "BCELoss":
        return torch.full_like(x, 0.5), "probability 0.5 everywhere"
    raise ValueError(loss)


def chance_level(loss: str, prediction: str | torch.Tensor, target: str | torch.Tensor,
                 options: LossOptions | None = None) -> ChanceResult:
    """Compare the user's loss with a uniform guess (classification) or the mean of the target (regression).

    The baseline is computed with the same loss, targets and options (a reduction of ``none``
    is treated as ``mean``), so weights, ignore_index and label smoothing are taken into account.
    """
    options = options or LossOptions()
    if options.reduction == "none":
        options = LossOptions(**{**options.__dict__, "reduction": "mean"})
    mine = calculate(loss, prediction, target, options)  # validates both inputs first
    xp = prediction.to(torch.float64) if isinstance(prediction, torch.Tensor) else parse_tensor(prediction, "prediction")
    if LOSSES[loss].kind == "regression":
        yt = target.to(torch.float64) if isinstance(target, torch.Tensor) else parse_tensor(target, "target")
        guess, what = torch.full_like(xp, float(yt.mean())), f"the target mean {float(yt.mean()):.4g} everywhere"
        c = None
    else:
        guess, what = _uniform_prediction(loss, xp)
        c = 2 if loss.startswith("BCE") else (xp.shape[-1] if xp.ndim else 1)
    base = calculate(loss, guess, target, options)
    v, b = mine.item(), base.item()
    if not (math.isfinite(v) and math.isfinite(b)):
        raise ValueError(f"the loss is {v} (as in torch: e.g. every target is ignore_index, so the mean divides "
                         "by 0); there is no baseline to compare it with")
    if b > 0 and v >= 0.9 * b:
        verdict = f"Your loss {v:.4f} is close to (or above) the guessing baseline {b:.4f}: the predictions carry little information."
    else:
        verdict = f"Your loss {v:.4f} is below the guessing baseline {b:.4f}: the predictions beat a blind guess."
    return ChanceResult(v, b, what, c, verdict)


def true_class_stats(logits: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per row: probability of the true class and logit margin ``x_y - logsumexp_{c≠y} x_c``.

    Shape: logits (N, C), target (N,) int64 -> two (N,) tensors. CE_n = -ln p_n = softplus(-m_n).
    """
    logp = logits - torch.logsumexp(logits, dim=1, keepdim=True)  # (N, C) log-softmax
    p = logp.gather(1, target[:, None])[:, 0].exp()  # (N,)
    others = logits.masked_fill(F.one_hot(target, logits.shape[1]).bool(), float("-inf"))  # (N, C)
    m = logits.gather(1, target[:, None])[:, 0] - torch.logsumexp(others, dim=1)  # (N,)
    return p, m


def ce_of_margin(m: torch.Tensor) -> torch.Tensor:
    """Cross entropy as a function of the logit margin: ``ln(1 + e^{-m})``."""
    return F.softplus(-m)


def regression_curves(errors: torch.Tensor, delta: float = 1.0, beta: float = 1.0
                      ) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Loss and gradient ``∂ℓ/∂x`` of each regression loss at error ``e = x - y`` (y = 0).

    Returns ``{name: (loss, grad)}``, each of the shape of ``errors``, from torch autograd.
    """
    if not delta > 0 or not beta >= 0:
        raise ValueError(f"delta {delta:g} must be > 0 and beta {beta:g} must be >= 0")
    fns = {
        "MSELoss": lambda x, y: F.mse_loss(x, y, reduction="none"),
        "L1Loss": lambda x, y: F.l1_loss(x, y, reduction="none"),
        f"HuberLoss (δ={delta:g})": lambda x, y: F.huber_loss(x, y, reduction="none", delta=delta),
        f"SmoothL1Loss (β={beta:g})": lambda x, y: F.smooth_l1_loss(x, y, reduction="none", beta=beta),
    }
    out = {}
    for name, fn in fns.items():
        x = errors.detach().to(torch.float64).clone().requires_grad_(True)
        loss = fn(x, torch.zeros_like(x))
        (grad,) = torch.autograd.grad(loss.sum(), x)
        out[name] = (loss.detach(), grad)
    return out


def bce_stability(logits: torch.Tensor, target: float = 0.0) -> dict[str, torch.Tensor]:
    """BCE of ``sigmoid(z)`` vs BCEWithLogits of ``z``, in float32, against the exact float64 value.

    Returns tensors of the shape of ``logits``: ``sigmoid`` (float32), ``bce_on_sigmoid``,
    ``bce_with_logits``, ``exact``.
    """
    if target not in (0.0, 1.0):
        raise ValueError(f"target {target:g} must be 0 or 1 for the stability demo")
    z = logits.to(torch.float32)
    y = torch.full_like(z, target)
    s = torch.sigmoid(z)
    z64 = logits.to(torch.float64)
    exact = (1 - target) * z64 + F.softplus(-z64)  # -[y log σ + (1-y) log(1-σ)], stable
    return {
        "logit": z64,
        "sigmoid": s.to(torch.float64),
        "bce_on_sigmoid": F.binary_cross_entropy(s, y, reduction="none").to(torch.float64),
        "bce_with_logits": F.binary_cross_entropy_with_logits(z, y, reduction="none").to(torch.float64),
        "exact": exact,
    }
