"""Training the notes' two Bayesian nets (seed 003 §dl_6_2) and sampling their predictive distributions.

Variational inference maximises the ELBO = E_q[log p(D | w)] − KL(q(w | θ) ‖ p(w)); the notes minimise

    loss = Σ_i (f(x_i; w) − y_i)²  +  λ · Σ_j KL(N(μ_j, σ_j²) ‖ N(0, 1)),   w = μ + σ ε,

with one weight sample per step, λ = 1e-3, Adam lr 0.01, 2000 full-batch epochs (Blundell et al. 2015,
https://arxiv.org/abs/1505.05424). MC Dropout trains a dropout net on the mean MSE and keeps dropout
on at prediction (Gal & Ghahramani 2016, https://arxiv.org/abs/1506.02142). Both predict with

    p(y | x, D) ≈ (1/M) Σ_m f(x; ŵ_m),   mean and std over the M samples (std with Bessel's n − 1).

Both trainers are generators: they yield a :class:`Frame` every ``every`` epochs and the finished
:class:`Run` last; ``stop_event`` ends the loop after the current epoch (the run is kept, "stopped").
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import Iterator, Union

import torch
import torch.nn.functional as F

from dlcore.bayes.models import BayesianMLP, DropoutMLP, sine_data
from dlcore.bayes.names import MAX_DROPOUT, MAX_EPOCHS, MAX_KL_WEIGHT, MAX_LR, MAX_NOISE, MAX_SAMPLES, MAX_SEED
from dlcore.textinput import parse_number
from dlcore.train.runtime import threads_per_step, torch_threads

__all__ = ["VIConfig", "DropoutConfig", "Frame", "Run", "Predictive", "train_variational", "train_mc_dropout",
           "predictive", "check_config"]


@dataclass(frozen=True)
class VIConfig:
    """The notes' variational run (defaults = §dl_6_2): 1-20-20-1, Adam lr 0.01, 2000 epochs, λ = 1e-3,
    M = 100 predictive samples, data noise σ_y = 0.2, seed 42."""

    epochs: int = 2000
    lr: float = 0.01
    kl_weight: float = 1e-3
    samples: int = 100
    noise: float = 0.2
    seed: int = 42
    hidden: int = 20


@dataclass(frozen=True)
class DropoutConfig:
    """The notes' MC-Dropout run (defaults = §dl_6_2): 1-64-64-1, p = 0.2, mean MSE, Adam lr 0.01,
    2000 epochs, M = 100 samples with dropout on, data noise σ_y = 0.2, seed 42."""

    epochs: int = 2000
    lr: float = 0.01
    p: float = 0.2
    samples: int = 100
    noise: float = 0.2
    seed: int = 42
    hidden: int = 64


def check_config(cfg: VIConfig | DropoutConfig) -> None:
    """Raise ValueError naming the first setting outside its range (the tab's labels)."""
    parse_number(cfg.epochs, "epochs", lo=1, hi=MAX_EPOCHS)
    parse_number(cfg.lr, "learning rate", lo=1e-5, hi=MAX_LR)
    parse_number(cfg.samples, "predictive samples M", lo=2, hi=MAX_SAMPLES)
    parse_number(cfg.noise, "noise σ_y", lo=0, hi=MAX_NOISE)
    parse_number(cfg.seed, "seed", lo=0, hi=MAX_SEED)
    parse_number(cfg.hidden, "hidden units", lo=1, hi=256)
    if isinstance(cfg, VIConfig):
        parse_number(cfg.kl_weight, "KL weight λ", lo=0, hi=MAX_KL_WEIGHT)
    else:
        parse_number(cfg.p, "dropout p", lo=0, hi=MAX_DROPOUT)


@dataclass(frozen=True)
class Frame:
    """Progress after ``epoch`` epochs: the total loss and its two terms (``kl`` unweighted; 0 for MC Dropout)."""

    epoch: int
    loss: float
    likelihood: float
    kl: float


@dataclass
class Run:
    """A finished (or stopped) run. ``losses``/``likelihood``/``kl``: one entry per epoch run, ``(E,)``;
    ``kl`` is the unweighted Σ KL (zeros for MC Dropout). ``rng_state``: the generator's state after
    training, where the notes' prediction loop continues (:func:`predictive` starts there)."""

    method: str
    config: VIConfig | DropoutConfig
    x: torch.Tensor            # (100, 1)
    y: torch.Tensor            # (100, 1)
    model: torch.nn.Module
    losses: torch.Tensor
    likelihood: torch.Tensor
    kl: torch.Tensor
    rng_state: torch.Tensor
    status: str                # "done" | "stopped" | "diverged"
    seconds: float

    @property
    def epochs_run(self) -> int:
        return int(self.losses.numel())


Item = Union[Frame, Run]


def _loop(method: str, cfg: VIConfig | DropoutConfig, stop_event: threading.Event | None,
          every: int) -> Iterator[Item]:
    check_config(cfg)
    g = torch.Generator().manual_seed(int(cfg.seed))       # the notes' torch.manual_seed(42)
    x, y = sine_data(cfg.noise, g)                         # (100, 1) each; draws the noise first
    if method == "variational":
        model: torch.nn.Module = BayesianMLP(cfg.hidden, g)          # then the normal_ inits, layer by layer
    else:
        model = DropoutMLP(cfg.hidden, cfg.p, g)                      # type: ignore[union-attr]
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    losses, lik, kls = [], [], []
    status, t0 = "done", time.perf_counter()
    # run on one thread (the callers wrap it in threads_per_step): 100 × 20 matrices are fastest
    # there, and 2 threads crawl on a busy 2-core box
    for epoch in range(int(cfg.epochs)):
        if stop_event is not None and stop_event.is_set():
            status = "stopped"
            break
        opt.zero_grad()
        if method == "variational":
            pred = model(x, g, sample=True)                      # 1. one weight sample w = μ + σ ε
            likelihood = F.mse_loss(pred, y, reduction="sum")    # 2. −log-likelihood up to constants
            kl = model.kl_loss()                                 # 3. Σ KL(q ‖ N(0, 1))
            loss = likelihood + cfg.kl_weight * kl               # 4. the notes' loss (−ELBO, weighted)
        else:
            pred = model(x, g, active=True)                      # 1. one dropout mask per layer
            loss = likelihood = F.mse_loss(pred, y)              # 2. the notes' nn.MSELoss() (mean)
            kl = torch.zeros(())
        loss.backward()
        opt.step()
        losses.append(loss.detach())
        lik.append(likelihood.detach())
        kls.append(kl.detach())
        if not math.isfinite(float(losses[-1])):
            status = "diverged"
            break
        if (epoch + 1) % every == 0 or epoch + 1 == cfg.epochs:
            yield Frame(epoch + 1, float(losses[-1]), float(lik[-1]), float(kls[-1]))
    seconds = time.perf_counter() - t0
    stack = (lambda v: torch.stack(v) if v else torch.zeros(0))
    yield Run(method, cfg, x, y, model, stack(losses), stack(lik), stack(kls), g.get_state(), status, seconds)


def train_variational(cfg: VIConfig = VIConfig(), stop_event: threading.Event | None = None,
                      every: int = 20) -> Iterator[Item]:
    """Train the notes' BayesianNN (Bayes by Backprop); yields :class:`Frame` s, then the :class:`Run`.

    Raises:
        ValueError: a setting outside its range, named as on the page.
    """
    return threads_per_step(_loop("variational", cfg, stop_event, every), 1)


def train_mc_dropout(cfg: DropoutConfig = DropoutConfig(), stop_event: threading.Event | None = None,
                     every: int = 20) -> Iterator[Item]:
    """Train the notes' MCDropoutNN; yields :class:`Frame` s, then the :class:`Run`."""
    return threads_per_step(_loop("mc_dropout", cfg, stop_event, every), 1)


@dataclass(frozen=True)
class Predictive:
    """M predictive samples at ``x`` and their mean and std. Shape: ``samples (M, n)``, ``x, mean, std (n,)``."""

    x: torch.Tensor
    samples: torch.Tensor
    mean: torch.Tensor
    std: torch.Tensor


def predictive(run: Run, x: torch.Tensor, samples: int | None = None) -> Predictive:
    """Sample f(x; ŵ_m), m = 1..M, with a generator restored to ``run.rng_state`` (so every call draws
    the notes' prediction-loop numbers; the variational net's weight samples do not depend on ``x``).

    Args:
        x: inputs ``(n, 1)`` (or ``(n,)``).
        samples: M (default: the run's ``config.samples``).
    """
    m = int(run.config.samples if samples is None else samples)
    parse_number(m, "predictive samples M", lo=2, hi=MAX_SAMPLES)
    x = x.reshape(-1, 1)
    g = torch.Generator()
    g.set_state(run.rng_state)
    preds = []
    with torch.no_grad(), torch_threads(1):
        for _ in range(m):
            if run.method == "variational":
                preds.append(run.model(x, g, sample=True))           # (n, 1)
            else:
                preds.append(run.model(x, g, active=True))           # the notes' model.train() at prediction
    stack = torch.stack(preds)                                       # (M, n, 1)
    return Predictive(x.squeeze(1), stack.squeeze(-1), stack.mean(0).squeeze(), stack.std(0).squeeze())
