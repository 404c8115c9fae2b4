"""JS divergence vs Wasserstein distance, "the proof as a picture" (seed 000 §8.5.1).

For ``M = (P + Q) / 2`` the Jensen-Shannon divergence is::

    JS(P || Q) = 1/2 KL(P || M) + 1/2 KL(Q || M)            (in nats; at most log 2)

and the optimal discriminator turns the GAN value into ``max_D V = -log 4 + 2 JS``. If the
supports do not overlap, ``M = P/2`` wherever ``P > 0`` and ``M = Q/2`` wherever ``Q > 0``, so
``KL(P || M) = KL(Q || M) = log 2`` and ``JS = log 2`` — a constant, whatever the gap: the
generator gets no gradient. The Wasserstein-1 distance ``W1 = inf_gamma E |x - y|`` (the cheapest
way to move P onto Q) instead grows with the gap: for a shifted copy it *is* the shift.

Pairs (:data:`PAIRS`), ``Q`` = ``P`` moved right by ``theta``:

* ``"uniform"``: ``U[0, 1]`` vs ``U[theta, theta + 1]``: ``JS = min(|theta|, 1) log 2`` exactly,
  ``W1 = |theta|``; stops overlapping at ``theta = 1``.
* ``"lines"``: Arjovsky et al. 2017's Example 1 (https://arxiv.org/abs/1701.07875): ``(0, U[0,1])``
  vs ``(theta, U[0,1])``, two parallel segments: ``JS = log 2`` for every ``theta != 0``, ``W1 = |theta|``.
* ``"gaussian"``: ``N(0, 1)`` vs ``N(theta, 1)``: the supports always overlap; JS (by quadrature)
  creeps towards log 2, ``W1 = |theta|``.

Each is also *estimated from samples* (JS on a histogram, W1 from sorted samples) so a learner
sees what an estimator does with finite data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch

from dlcore.generative._checks import as_choice, as_float, as_int

__all__ = ["PairName", "PAIRS", "LOG2", "js_divergence", "js_histogram", "wasserstein_1d", "js_exact", "w1_exact",
           "DivergencePoint", "DivergenceSweep", "divergence_at", "divergence_sweep", "MAX_SHIFT"]

PairName = Literal["uniform", "lines", "gaussian"]
PAIRS: dict[str, str] = {
    "uniform": "U[0, 1] vs U[θ, θ+1] (overlap shrinks, then none)",
    "lines": "two parallel segments (Arjovsky et al. 2017, Example 1)",
    "gaussian": "N(0, 1) vs N(θ, 1) (always overlapping)",
}
LOG2 = math.log(2.0)
MAX_SHIFT = 20.0


def js_divergence(p: torch.Tensor, q: torch.Tensor) -> float:
    """JS of two discrete distributions (any non-negative weights, normalised here), in nats.

    Terms with ``p = 0`` (or ``q = 0``) contribute 0 (``0 log 0 = 0``).
    """
    p, q = p.double() / p.sum(), q.double() / q.sum()
    m = (p + q) / 2

    def kl(a: torch.Tensor) -> torch.Tensor:
        mask = a > 0
        return (a[mask] * (a[mask] / m[mask]).log()).sum()
    return float(0.5 * kl(p) + 0.5 * kl(q))


def js_histogram(x: torch.Tensor, y: torch.Tensor, bins: int = 200,
                 value_range: tuple[float, float] | None = None) -> float:
    """JS estimated from two 1-D samples by histograms on a shared grid of ``bins`` bins."""
    lo, hi = value_range or (float(torch.minimum(x.min(), y.min())), float(torch.maximum(x.max(), y.max())))
    if hi <= lo:
        hi = lo + 1e-6
    hp = torch.histc(x.double(), bins, lo, hi)
    hq = torch.histc(y.double(), bins, lo, hi)
    return js_divergence(hp, hq)


def wasserstein_1d(x: torch.Tensor, y: torch.Tensor) -> float:
    """W1 between two 1-D empirical distributions: ``integral |F_x^-1(u) - F_y^-1(u)| du``.

    For equal sizes this is ``mean |sort(x) - sort(y)|`` (the optimal coupling pairs order
    statistics); unequal sizes are compared on a shared grid of quantile levels.
    """
    x, y = x.flatten().double().sort().values, y.flatten().double().sort().values
    if x.numel() == y.numel():
        return float((x - y).abs().mean())
    u = torch.linspace(0, 1, 4 * max(x.numel(), y.numel()) + 1, dtype=torch.float64)[1:-1]
    return float((torch.quantile(x, u) - torch.quantile(y, u)).abs().mean())


def _gauss(x: torch.Tensor, mu: float) -> torch.Tensor:
    return torch.exp(-0.5 * (x - mu) ** 2) / math.sqrt(2 * math.pi)


def js_exact(pair: PairName, shift: float) -> float:
    """The true JS of ``pair`` at ``shift`` (closed form; quadrature on 40,001 points for "gaussian")."""
    s = abs(shift)
    if pair == "uniform":
        return min(s, 1.0) * LOG2
    if pair == "lines":
        return LOG2 if s > 0 else 0.0
    x = torch.linspace(-12.0, 12.0 + s, 40_001, dtype=torch.float64)
    p, q = _gauss(x, 0.0), _gauss(x, s)
    m = (p + q) / 2
    f = 0.5 * p * torch.log(p / m) + 0.5 * q * torch.log(q / m)
    return float(torch.trapezoid(torch.nan_to_num(f), x))


def w1_exact(pair: PairName, shift: float) -> float:
    """The true W1 of ``pair`` at ``shift``: ``|shift|`` for every pair (each Q is a shifted P)."""
    return abs(shift)


def _draw(pair: str, n: int, shift: float, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Samples of P and Q projected on the axis of the shift (the other axis is identical)."""
    if pair == "uniform":
        return torch.rand(n, generator=g, dtype=torch.float64), torch.rand(n, generator=g, dtype=torch.float64) + shift
    if pair == "lines":
        return torch.zeros(n, dtype=torch.float64), torch.full((n,), float(shift), dtype=torch.float64)
    return torch.randn(n, generator=g, dtype=torch.float64), torch.randn(n, generator=g, dtype=torch.float64) + shift


def _range(pair: str, max_shift: float) -> tuple[float, float]:
    lo, hi = {"uniform": (-0.5, 1.5), "lines": (-0.5, 0.5), "gaussian": (-5.0, 5.0)}[pair]
    return min(lo, lo + max_shift), max(hi, hi + max_shift)


@dataclass
class DivergencePoint:
    """One slider position: both densities on a grid and the four numbers.

    Attributes:
        x: ``(G,)`` axis. p, q: densities on it (for ``"lines"``: 1 at the segment, else 0).
        js, w1: exact values. js_hist, w1_samples: estimates from ``n_samples`` draws.
        gan_value: ``max_D V(D, G) = 2 JS - log 4`` (the original GAN's best D).
    """

    pair: str
    shift: float
    x: torch.Tensor
    p: torch.Tensor
    q: torch.Tensor
    js: float
    w1: float
    js_hist: float
    w1_samples: float
    gan_value: float


@dataclass
class DivergenceSweep:
    """JS and W1 for a sweep of shifts (all ``(S,)`` tensors); ``js_slope`` = dJS/dshift."""

    pair: str
    shifts: torch.Tensor
    js: torch.Tensor
    w1: torch.Tensor
    js_hist: torch.Tensor
    w1_samples: torch.Tensor
    js_slope: torch.Tensor
    gan_value: torch.Tensor
    log2: float = LOG2


def _check(pair: str, n_samples: int, bins: int) -> tuple[str, int, int]:
    return (as_choice("pair", pair, PAIRS), as_int("n_samples", n_samples, 10, 200_000), as_int("bins", bins, 2, 2000))


def divergence_at(pair: PairName = "uniform", shift: float = 0.5, n_samples: int = 20_000, bins: int = 200,
                  seed: int = 0) -> DivergencePoint:
    """JS and W1 at one ``shift`` (the slider), with the two densities for the picture.

    Raises:
        ValueError: unknown pair, ``|shift|`` > :data:`MAX_SHIFT`, or sizes past their caps.
    """
    pair, n, bins = _check(pair, n_samples, bins)
    s = as_float("shift", shift, -MAX_SHIFT, MAX_SHIFT)
    lo, hi = _range(pair, max(s, 0.0))
    lo = min(lo, lo + s)
    x = torch.linspace(lo, hi, 801, dtype=torch.float64)
    if pair == "uniform":
        p, q = ((x >= 0) & (x <= 1)).double(), ((x >= s) & (x <= s + 1)).double()
    elif pair == "lines":
        step = float(x[1] - x[0])
        p, q = ((x - 0).abs() < step / 2).double(), ((x - s).abs() < step / 2).double()
    else:
        p, q = _gauss(x, 0.0), _gauss(x, s)
    xs, ys = _draw(pair, n, s, torch.Generator().manual_seed(int(seed)))
    js = js_exact(pair, s)  # type: ignore[arg-type]
    return DivergencePoint(pair, s, x, p, q, js, w1_exact(pair, s), js_histogram(xs, ys, bins, (lo, hi)),  # type: ignore[arg-type]
                           wasserstein_1d(xs, ys), 2 * js - 2 * LOG2)


def divergence_sweep(pair: PairName = "uniform", max_shift: float = 3.0, n_shifts: int = 61,
                     n_samples: int = 5000, bins: int = 200, seed: int = 0) -> DivergenceSweep:
    """JS and W1 for ``n_shifts`` shifts evenly from 0 to ``max_shift``.

    Raises:
        ValueError: unknown pair, ``max_shift`` outside (0, :data:`MAX_SHIFT`], sizes past caps.
    """
    pair, n, bins = _check(pair, n_samples, bins)
    m = as_float("max_shift", max_shift, 0.0, MAX_SHIFT, lo_open=True)
    k = as_int("n_shifts", n_shifts, 2, 401)
    shifts = torch.linspace(0.0, m, k, dtype=torch.float64)
    rng = _range(pair, m)
    g = torch.Generator().manual_seed(int(seed))
    js, w1, jh, ws = [], [], [], []
    for s in shifts.tolist():
        xs, ys = _draw(pair, n, s, g)
        js.append(js_exact(pair, s))  # type: ignore[arg-type]
        w1.append(w1_exact(pair, s))  # type: ignore[arg-type]
        jh.append(js_histogram(xs, ys, bins, rng))
        ws.append(wasserstein_1d(xs, ys))
    js_t = torch.tensor(js, dtype=torch.float64)
    slope = torch.gradient(js_t, spacing=(shifts,))[0]
    return DivergenceSweep(pair, shifts, js_t, torch.tensor(w1, dtype=torch.float64), torch.tensor(jh, dtype=torch.float64),
                           torch.tensor(ws, dtype=torch.float64), slope, 2 * js_t - 2 * LOG2)
