"""The notes' two networks (seed 003 §dl_6_2) and their toy data, drawing every random number from
one seeded ``torch.Generator`` (never torch's global RNG, so concurrent runs cannot disturb each other).

* :func:`sine_data`: y = sin x + σ_y ε on ``torch.linspace(-3, 3, 100)``;
* :class:`BayesianLinear` / :class:`BayesianMLP`: a factorised Gaussian q(w | θ) = N(μ, σ²) per
  weight, sampled by the reparameterisation w = μ + σ ε (Kingma & Welling 2014,
  https://arxiv.org/abs/1312.6114) — Bayes by Backprop (Blundell et al. 2015, "Weight Uncertainty in
  Neural Networks", https://arxiv.org/abs/1505.05424);
* :class:`DropoutMLP`: the notes' 1-64-64-1 ReLU net with dropout after each hidden layer, kept on
  at prediction for MC Dropout (Gal & Ghahramani 2016, https://arxiv.org/abs/1506.02142).

Reproducing the notes bit for bit: a CPU ``torch.Generator().manual_seed(s)`` yields the same stream
as ``torch.manual_seed(s)``; the draws here happen in the notes' order (the data noise, then each
layer's ``normal_`` / ``nn.Linear`` initialisation, then one ε per weight tensor in every forward pass,
or one Bernoulli mask per dropout), with the same ops, so the runs equal the notes' scripts exactly
(tests/dlcore/bayes/test_reproduce.py runs the scripts verbatim inside ``torch.random.fork_rng``).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from dlcore.bayes.names import N_POINTS, X_RANGE

__all__ = ["sine_data", "kl_to_standard_normal", "BayesianLinear", "BayesianMLP", "DropoutMLP"]


def sine_data(noise: float = 0.2, generator: torch.Generator | None = None,
              n: int = N_POINTS) -> tuple[torch.Tensor, torch.Tensor]:
    """The notes' data: x = linspace(-3, 3, n), y = sin x + noise · ε, ε ~ N(0, 1) from ``generator``.

    Shape: ``x``, ``y``: ``(n, 1)``.
    """
    x = torch.linspace(X_RANGE[0], X_RANGE[1], n).unsqueeze(1)       # (n, 1)
    y_true = torch.sin(x)
    eps = torch.randn(y_true.shape, generator=generator)              # = torch.randn_like(y_true)
    return x, y_true + noise * eps


def kl_to_standard_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(μ, σ²) ‖ N(0, 1)) = ½ (σ² + μ² − 1 − log σ²), summed over all entries (the notes' formula,
    with log σ² stored as ``logvar``)."""
    return 0.5 * torch.sum(torch.exp(logvar) + mu ** 2 - 1.0 - logvar)


class BayesianLinear(nn.Module):
    """y = x wᵀ + b with w ~ N(μ_w, σ_w²), b ~ N(μ_b, σ_b²), σ² = exp(log σ²) (the notes' layer).

    Init (the notes'): μ ~ N(0, 0.1²), log σ² ~ N(−3, 0.1²) (σ ≈ 0.22), drawn in the order
    w_μ, w_logvar, b_μ, b_logvar from ``generator``.

    Shape: ``(n, in_features) -> (n, out_features)``.
    """

    def __init__(self, in_features: int, out_features: int, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.w_mu = nn.Parameter(torch.empty(out_features, in_features).normal_(0, 0.1, generator=generator))
        self.w_logvar = nn.Parameter(torch.empty(out_features, in_features).normal_(-3, 0.1, generator=generator))
        self.b_mu = nn.Parameter(torch.empty(out_features).normal_(0, 0.1, generator=generator))
        self.b_logvar = nn.Parameter(torch.empty(out_features).normal_(-3, 0.1, generator=generator))

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None, sample: bool = True) -> torch.Tensor:
        if sample:  # reparameterisation: w = μ + σ ε, ε ~ N(0, I); gradients flow to μ and log σ²
            w = self.w_mu + torch.exp(0.5 * self.w_logvar) * torch.randn(self.w_mu.shape, generator=generator)
            b = self.b_mu + torch.exp(0.5 * self.b_logvar) * torch.randn(self.b_mu.shape, generator=generator)
        else:       # the posterior mean
            w, b = self.w_mu, self.b_mu
        return F.linear(x, w, b)

    def kl_loss(self) -> torch.Tensor:
        """Σ KL(q(w) ‖ N(0, 1)) over the weights plus the same over the biases."""
        return kl_to_standard_normal(self.w_mu, self.w_logvar) + kl_to_standard_normal(self.b_mu, self.b_logvar)


class BayesianMLP(nn.Module):
    """The notes' BayesianNN: 1 → 20 → 20 → 1, ReLU, every layer a :class:`BayesianLinear`.

    Shape: ``(n, 1) -> (n, 1)``.
    """

    def __init__(self, hidden: int = 20, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.fc1 = BayesianLinear(1, hidden, generator)
        self.fc2 = BayesianLinear(hidden, hidden, generator)
        self.fc3 = BayesianLinear(hidden, 1, generator)

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None, sample: bool = True) -> torch.Tensor:
        x = torch.relu(self.fc1(x, generator, sample))   # (n, 20)
        x = torch.relu(self.fc2(x, generator, sample))   # (n, 20)
        return self.fc3(x, generator, sample)            # (n, 1)

    def kl_loss(self) -> torch.Tensor:
        return self.fc1.kl_loss() + self.fc2.kl_loss() + self.fc3.kl_loss()


def _linear_params(n_in: int, n_out: int, generator: torch.Generator | None) -> tuple[nn.Parameter, nn.Parameter]:
    """Weight and bias initialised exactly as ``nn.Linear.reset_parameters`` does (Kaiming-uniform with
    a = √5, bias ~ U(−1/√fan_in, 1/√fan_in)), but from ``generator``."""
    w = nn.Parameter(torch.empty(n_out, n_in))
    nn.init.kaiming_uniform_(w, a=math.sqrt(5), generator=generator)
    bound = 1 / math.sqrt(n_in) if n_in > 0 else 0
    b = nn.Parameter(torch.empty(n_out))
    nn.init.uniform_(b, -bound, bound, generator=generator)
    return w, b


class DropoutMLP(nn.Module):
    """The notes' MCDropoutNN: 1 → 64 → 64 → 1, ReLU, dropout(p) after each hidden layer.

    Dropout written out as torch does it on the CPU (inverted dropout): keep each unit with
    probability 1 − p, scale the kept ones by 1/(1 − p); ``active=True`` at training *and* at MC
    prediction (the notes' ``model.train()`` before sampling).

    Shape: ``(n, 1) -> (n, 1)``.
    """

    def __init__(self, hidden: int = 64, p: float = 0.2, generator: torch.Generator | None = None) -> None:
        super().__init__()
        if not 0 <= p < 1:
            raise ValueError(f"dropout p = {p:g} must be in [0, 1)")
        self.p = p
        self.w1, self.b1 = _linear_params(1, hidden, generator)
        self.w2, self.b2 = _linear_params(hidden, hidden, generator)
        self.w3, self.b3 = _linear_params(hidden, 1, generator)

    def _dropout(self, h: torch.Tensor, generator: torch.Generator | None, active: bool) -> torch.Tensor:
        if not active or self.p == 0:
            return h
        keep = torch.empty_like(h).bernoulli_(1 - self.p, generator=generator)  # 1 with probability 1 − p
        return h * keep.div_(1 - self.p)

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None, active: bool = True) -> torch.Tensor:
        h = self._dropout(torch.relu(F.linear(x, self.w1, self.b1)), generator, active)   # (n, 64)
        h = self._dropout(torch.relu(F.linear(h, self.w2, self.b2)), generator, active)   # (n, 64)
        return F.linear(h, self.w3, self.b3)                                              # (n, 1)
