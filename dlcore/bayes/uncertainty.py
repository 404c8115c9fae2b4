"""What the predictive band does and does not say, measured (seed 003 §dl_6; the tab's "honest" panel).

The notes' band is mean ± 2 std over M samples of the *function* f(x; ŵ_m): **epistemic** uncertainty
only. Their likelihood Σ (f − y)² has no noise term, so the model never learns the observation noise
σ_y and the band cannot cover noisy points. Adding the known σ_y in quadrature gives the predictive
std of y (the law of total variance with p(y | x, w) = N(f(x; w), σ_y²)):

    std_total(x) = sqrt(std_epistemic(x)² + σ_y²).

Coverage = the fraction of points with |y_i − mean(x_i)| ≤ 2 std(x_i) (≈ 95 % for a calibrated Gaussian).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from dlcore.bayes.names import N_GRID, WIDE_RANGE, X_RANGE
from dlcore.bayes.training import Predictive, Run, predictive

__all__ = ["coverage", "total_std", "Summary", "summarize", "WeightView", "weight_view"]


def total_std(epistemic: torch.Tensor, noise: float) -> torch.Tensor:
    """sqrt(std_epistemic² + σ_y²), elementwise."""
    return torch.sqrt(epistemic ** 2 + noise ** 2)


def coverage(y: torch.Tensor, mean: torch.Tensor, std: torch.Tensor, k: float = 2.0) -> float:
    """Fraction of ``y`` inside mean ± k·std. Shape: all ``(n,)`` (or broadcastable)."""
    return float(((y - mean).abs() <= k * std).double().mean())


@dataclass(frozen=True)
class Summary:
    """A trained run's predictive band, on the wide grid [-5, 5] and at the training inputs.

    ``wide``: predictions on ``WIDE_RANGE`` (200 points per 6 units); ``train``: at the 100 training x.
    ``noise``: σ_y used for the total band. Numbers (floats): RMSE of the mean vs sin x on [-3, 3];
    mean 2·std half-width in range / out of range (|x| > 3), epistemic; coverage of the training points,
    epistemic and total.
    """

    wide: Predictive
    train: Predictive
    noise: float
    rmse: float
    width_in: float
    width_out: float
    coverage_epistemic: float
    coverage_total: float
    seconds: float


def summarize(run: Run) -> Summary:
    """Sample the run's predictive (M = ``config.samples``) on [-5, 5] and at the training points."""
    lo, hi = WIDE_RANGE
    n_wide = int(round(N_GRID * (hi - lo) / (X_RANGE[1] - X_RANGE[0]))) + 1
    wide = predictive(run, torch.linspace(lo, hi, n_wide))
    train = predictive(run, run.x)
    y = run.y.squeeze(1)
    inside = (wide.x >= X_RANGE[0]) & (wide.x <= X_RANGE[1])
    rmse = float(((wide.mean[inside] - torch.sin(wide.x[inside])) ** 2).mean().sqrt())
    noise = float(run.config.noise)
    return Summary(wide, train, noise, rmse, float(2 * wide.std[inside].mean()), float(2 * wide.std[~inside].mean()),
                   coverage(y, train.mean, train.std), coverage(y, train.mean, total_std(train.std, noise)),
                   run.seconds)


@dataclass(frozen=True)
class WeightView:
    """One weight of a trained variational net, written out: q(w) = N(μ, σ²), a draw w = μ + σ ε, and
    its KL term ½ (σ² + μ² − 1 − log σ²), with torch.distributions' value for the same KL."""

    layer: str
    index: tuple[int, ...]
    mu: float
    logvar: float
    sigma: float
    eps: float
    w: float
    kl: float
    kl_torch: float


def weight_view(run: Run, layer: str = "fc1", row: int = 0, col: int = 0, eps_seed: int = 0) -> WeightView:
    """Write out weight ``[row, col]`` of ``layer`` (``col = -1``: the bias ``b[row]``); ε ~ N(0, 1) from
    ``torch.Generator().manual_seed(eps_seed)``.

    Raises:
        ValueError: not a variational run, an unknown layer, or an index outside the layer.
    """
    from torch.distributions import Normal, kl_divergence

    if run.method != "variational":
        raise ValueError("only the variational net has a distribution per weight (MC Dropout's weights are points)")
    if layer not in ("fc1", "fc2", "fc3"):
        raise ValueError(f"layer {layer!r} is not one of fc1, fc2, fc3")
    lin = getattr(run.model, layer)
    n_out, n_in = lin.w_mu.shape
    if not 0 <= row < n_out:
        raise ValueError(f"row = {row} is outside {layer}'s {n_out} output units (0 … {n_out - 1})")
    if not -1 <= col < n_in:
        raise ValueError(f"column = {col} is outside {layer}'s {n_in} inputs (0 … {n_in - 1}, or −1 for the bias)")
    if col == -1:
        mu_t, lv_t, index = lin.b_mu.detach()[row], lin.b_logvar.detach()[row], (row,)
    else:
        mu_t, lv_t, index = lin.w_mu.detach()[row, col], lin.w_logvar.detach()[row, col], (row, col)
    sigma_t = torch.exp(0.5 * lv_t)                                       # σ = exp(½ log σ²)
    eps_t = torch.randn((), generator=torch.Generator().manual_seed(int(eps_seed)))
    w_t = mu_t + sigma_t * eps_t                                          # w = μ + σ ε
    kl_t = 0.5 * (torch.exp(lv_t) + mu_t ** 2 - 1.0 - lv_t)               # the notes' closed form
    kl_ref = kl_divergence(Normal(mu_t, sigma_t), Normal(torch.zeros(()), torch.ones(())))
    return WeightView(layer, index, float(mu_t), float(lv_t), float(sigma_t), float(eps_t), float(w_t), float(kl_t),
                      float(kl_ref))
