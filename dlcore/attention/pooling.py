"""Attention pooling from kernel regression: Nadaraya–Watson, then a learned kernel width w.

Seed 000 §8.4.1 (非参数注意力汇聚): with a kernel K, the prediction at a query x is the
attention-weighted average of the training targets (keys x_i, values y_i),

    f(x) = Σ_i K(x − x_i) / Σ_j K(x − x_j) · y_i = Σ_i α(x, x_i) y_i,

and the Gaussian kernel of width σ gives α = softmax(−(x − x_i)² / 2σ²) (σ = 1 in the notes).
§8.4.2 (带参数注意力汇聚) learns the width: f(q) = Σ_i softmax(−((q − k_i) w)² / 2) v_i, so
w = 1/σ. The notes give only the formulas; the data and the training numbers are those of the
book they follow (Zhang et al., *Dive into Deep Learning* §10.2 / §11.2,
https://d2l.ai/chapter_attention-mechanisms-and-transformers/attention-pooling.html):
``y = 2 sin x + x^0.8 + ε``, ε ~ N(0, 0.5²), 50 sorted training x in [0, 5), queries 0, 0.1, …,
4.9; w trained by SGD with lr 0.5 for 5 epochs on the summed squared error, each training point
predicted from the other 49 (leave-one-out, else w → ∞ would just copy each point's own y).
Training runs through the one :class:`dlcore.train.Trainer` (its ``objective`` hook).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from typing import Callable, Iterator

import torch
from torch import nn

from dlcore.attention.names import KERNELS, MAX_EPOCHS, MAX_TRAIN_POINTS, Kernel

__all__ = ["NWData", "nw_data", "kernel_scores", "PoolingResult", "nadaraya_watson", "ParametricPooling",
           "ParametricConfig", "ParametricFrame", "ParametricRun", "parametric_objective", "train_parametric"]


@dataclass(frozen=True)
class NWData:
    """Training pairs (keys x_train, values y_train), test queries and the noise-free truth, all ``(N,)``."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_truth: torch.Tensor
    noise: float
    seed: int


def _truth(x: torch.Tensor) -> torch.Tensor:
    return 2 * torch.sin(x) + x ** 0.8


def nw_data(n_train: int = 50, noise: float = 0.5, seed: int = 0) -> NWData:
    """d2l's toy: ``x_train = sort(5·U(0, 1))``, ``y = 2 sin x + x^0.8 + N(0, noise²)``,
    ``x_test = 0, 0.1, …, 4.9``. A private generator (the global RNG is not touched); float32.

    Raises:
        ValueError: n_train outside 2..:data:`MAX_TRAIN_POINTS` or noise outside [0, 5].
    """
    if not 2 <= int(n_train) <= MAX_TRAIN_POINTS:
        raise ValueError(f"training points {n_train} must be between 2 and {MAX_TRAIN_POINTS}")
    if not (math.isfinite(noise) and 0 <= noise <= 5):
        raise ValueError(f"noise σ {noise} must be between 0 and 5")
    g = torch.Generator().manual_seed(int(seed))
    x_train, _ = torch.sort(torch.rand(int(n_train), generator=g) * 5)  # (N,)
    y_train = _truth(x_train) + noise * torch.randn(int(n_train), generator=g)
    x_test = torch.arange(0, 5, 0.1)  # (50,)
    return NWData(x_train, y_train, x_test, _truth(x_test), float(noise), int(seed))


def kernel_scores(queries: torch.Tensor, keys: torch.Tensor, width: float | torch.Tensor = 1.0,
                  kernel: Kernel = "gaussian") -> torch.Tensor:
    """log K((q − k) / width): the scores whose softmax over the keys are the NW weights.

    Gaussian: −u²/2 (the notes' softmax(−(x − x_i)²/2) at width 1); boxcar: 0 where |u| ≤ 1,
    else −∞; Epanechnikov: log(1 − u²) where |u| < 1, else −∞ (the normalising constants of K
    cancel in the ratio). Shape: queries ``(n,)``, keys ``(m,)`` -> ``(n, m)``.
    """
    if kernel not in KERNELS:
        raise ValueError(f"kernel {kernel!r} is unknown; choose from {', '.join(KERNELS)}")
    u = (queries[:, None] - keys[None, :]) / width  # (n, m)
    if kernel == "gaussian":
        return -u ** 2 / 2
    inside = u.abs() <= 1 if kernel == "boxcar" else u.abs() < 1
    value = torch.zeros_like(u) if kernel == "boxcar" else torch.log1p(-u.clamp(-1, 1) ** 2)
    return torch.where(inside, value, torch.full_like(u, float("-inf")))


@dataclass
class PoolingResult:
    """NW predictions ``(n,)``, the attention weights ``(n, m)`` (rows sum to 1; a query no key's
    kernel reaches gets NaN weights and prediction, reported by ``uncovered``) and the scores."""

    prediction: torch.Tensor
    weights: torch.Tensor
    scores: torch.Tensor
    uncovered: int = 0


def nadaraya_watson(queries: torch.Tensor, keys: torch.Tensor, values: torch.Tensor, width: float = 1.0,
                    kernel: Kernel = "gaussian") -> PoolingResult:
    """f(q) = Σ_i softmax(log K((q − k_i)/width)) v_i. Shape: ``(n,)``, ``(m,)``, ``(m,)`` -> ``(n,)``.

    Raises:
        ValueError: width not a positive finite number, or keys and values of different lengths.
    """
    if not (isinstance(width, (int, float)) and math.isfinite(width) and width > 0):
        raise ValueError(f"kernel width {width} must be a positive number")
    if keys.shape != values.shape:
        raise ValueError(f"keys {tuple(keys.shape)} and values {tuple(values.shape)} must have the same shape")
    scores = kernel_scores(queries, keys, width, kernel)  # 1. (n, m) a(q, k_i)
    weights = torch.softmax(scores, dim=1)                # 2. (n, m) α(q, k_i); a row of −∞ gives NaN
    uncovered = int(torch.isnan(weights).any(dim=1).sum())
    return PoolingResult(weights @ values, weights, scores, uncovered)  # 3. (n,) Σ α v


class ParametricPooling(nn.Module):
    """f(q) = Σ_i softmax(−((q − k_i) w)² / 2) v_i with one learned w (§8.4.2), over stored pairs.

    ``forward(queries)`` pools over the stored keys/values; a key equal to the query is skipped
    (leave-one-out for the training points). ``last_weights`` keeps the attention weights ``(n, m)``.
    """

    def __init__(self, keys: torch.Tensor, values: torch.Tensor, w: float = 1.0) -> None:
        super().__init__()
        self.register_buffer("keys", keys.clone())      # (m,)
        self.register_buffer("values", values.clone())  # (m,)
        self.w = nn.Parameter(torch.tensor([float(w)], dtype=keys.dtype))
        self.last_weights: torch.Tensor | None = None

    def forward(self, queries: torch.Tensor) -> torch.Tensor:
        diff = queries[:, None] - self.keys[None, :]                   # (n, m) q − k_i
        scores = -((diff * self.w) ** 2) / 2                           # (n, m)
        scores = scores.masked_fill(diff == 0, float("-inf"))          # leave one out
        weights = torch.softmax(scores, dim=1)                         # (n, m)
        self.last_weights = weights.detach()
        return weights @ self.values                                   # (n,)


def parametric_objective(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, None]:
    """d2l's loss for the Trainer's ``objective`` hook: Σ (f(x_i) − y_i)² (summed, not averaged)."""
    return ((model(x) - y) ** 2).sum(), None


@dataclass(frozen=True)
class ParametricConfig:
    """Training of w. Defaults are d2l §10.2's: SGD, lr 0.5, 5 epochs, full batch, w₀ ~ U(0, 1).

    Args:
        epochs: 1..:data:`MAX_EPOCHS`. Default 5.
        lr: SGD learning rate, (0, 10]. Default 0.5.
        w0: initial w; None draws U(0, 1) from ``seed`` (d2l's ``torch.rand((1,))``). Default None.
        seed: seed of w₀. Default 0.
    """

    epochs: int = 5
    lr: float = 0.5
    w0: float | None = None
    seed: int = 0

    def validate(self) -> None:
        if not 1 <= int(self.epochs) <= MAX_EPOCHS:
            raise ValueError(f"epochs {self.epochs} must be between 1 and {MAX_EPOCHS}")
        if not (math.isfinite(self.lr) and 0 < self.lr <= 10):
            raise ValueError(f"learning rate {self.lr} must be in (0, 10]")
        if self.w0 is not None and not (math.isfinite(self.w0) and abs(self.w0) <= 100):
            raise ValueError(f"initial w {self.w0} must be a number in [-100, 100]")


@dataclass
class ParametricFrame:
    """The state after one epoch (= one full-batch step): training loss (before the step), w after it."""

    epoch: int
    loss: float
    w: float


@dataclass
class ParametricRun:
    """The whole run: frames, final w, test predictions and weights ``(n_test, n_train)``, status."""

    frames: list[ParametricFrame]
    w0: float
    w: float
    prediction: torch.Tensor
    weights: torch.Tensor
    status: str
    message: str
    history: list[float] = field(default_factory=list)


def train_parametric(data: NWData, config: ParametricConfig | None = None,
                     callback: Callable[[ParametricFrame], object] | None = None,
                     stop_event: threading.Event | None = None) -> Iterator[ParametricFrame | ParametricRun]:
    """Train w with the Trainer (full batch, SGD, ``objective`` = :func:`parametric_objective`),
    yielding a :class:`ParametricFrame` per epoch and finally the :class:`ParametricRun`."""
    from dlcore.train import TrainConfig, Trainer

    cfg = config or ParametricConfig()
    cfg.validate()
    w0 = float(torch.rand(1, generator=torch.Generator().manual_seed(int(cfg.seed)))) if cfg.w0 is None else cfg.w0
    model = ParametricPooling(data.x_train, data.y_train, w0)
    n = len(data.x_train)
    tcfg = TrainConfig(task="regression", optimizer="SGD", lr=float(cfg.lr), batch_size=n, epochs=int(cfg.epochs),
                       seed=int(cfg.seed), device="cpu")
    trainer = Trainer(model, (data.x_train, data.y_train), None, tcfg, stop_event=stop_event,
                      objective=parametric_objective)
    frames: list[ParametricFrame] = []
    for log in trainer.steps():
        frame = ParametricFrame(log.epoch, log.loss, float(model.w.detach()))
        frames.append(frame)
        if callback is not None:
            callback(frame)
        yield frame
    with torch.no_grad():
        model.eval()
        pred = model(data.x_test)  # (n_test,) no test query equals a training key
    h = trainer.history
    yield ParametricRun(frames, w0, float(model.w.detach()), pred, model.last_weights, h.status, h.message,
                        list(h.step_loss))
