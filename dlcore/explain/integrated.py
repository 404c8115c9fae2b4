"""Integrated Gradients with a choice of baseline (a thin Captum wrapper).

Walk in a straight line from a baseline ``x'`` ("no signal") to the image ``x`` and add up
the gradients on the way (Sundararajan et al. 2017, https://arxiv.org/abs/1703.01365):

    IG_i(x) = (x_i - x'_i) · ∫₀¹ ∂S_c(x' + α (x - x')) / ∂x_i  dα

**Completeness**: ``Σ_i IG_i(x) = S_c(x) - S_c(x')``; the integral is a quadrature with
``n_steps`` points, and Captum's *convergence delta* ``Σ IG - (S_c(x) - S_c(x'))`` says how
far the sum is from it. The baseline decides what "missing" means (Sturmfels et al. 2020,
https://distill.pub/2020/attribution-baselines/): ``black`` (zeros, the paper's and the
training data's background), ``blurred`` (the image under a Gaussian blur, Fong & Vedaldi
2017, https://arxiv.org/abs/1704.03296: shapes gone, brightness kept) or ``uniform`` noise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from dlcore.explain.base import captum_attr, check_config, gaussian_blur, option
from dlcore.explain.names import BASELINES

__all__ = ["IGConfig", "Baseline", "BASELINES", "IG_METHODS", "make_baseline", "integrated_gradients"]

Baseline = Literal["black", "blurred", "uniform"]

IG_METHODS: tuple[str, ...] = ("gausslegendre", "riemann_trapezoid", "riemann_middle", "riemann_left",
                               "riemann_right")


@dataclass(frozen=True)
class IGConfig:
    """Options of Integrated Gradients (Sundararajan et al. 2017, https://arxiv.org/abs/1703.01365).

    Args:
        baseline: ``"black"`` (default, the paper's), ``"blurred"`` or ``"uniform"`` noise in [0, 1].
        n_steps: quadrature points on the path (default 50, Captum's; the paper uses 20-300).
        method: quadrature rule (default ``"gausslegendre"``, Captum's).
        blur_sigma: Gaussian σ in pixels of the blurred baseline (default 3, about a tenth of 28).
        seed: seed of the uniform-noise baseline.
    """

    baseline: Baseline = option("black", "baseline x'")
    n_steps: int = option(50, "steps on the path", lo=2, hi=1000, step=1)
    method: Literal["gausslegendre", "riemann_trapezoid", "riemann_middle", "riemann_left", "riemann_right"] = \
        option("gausslegendre", "quadrature rule")
    blur_sigma: float = option(3.0, "blur σ of the blurred baseline (px)", lo=0.1, hi=20.0, step=0.1)
    seed: int = option(0, "seed (uniform baseline)", lo=0, hi=2**31 - 1, step=1)

    def __post_init__(self) -> None:
        check_config(self)


def make_baseline(x: torch.Tensor, kind: Baseline = "black", blur_sigma: float = 3.0, seed: int = 0) -> torch.Tensor:
    """The baseline image ``x'`` of the same shape as ``x`` ``(N, C, H, W)``.

    Raises:
        ValueError: an unknown kind.
    """
    if kind == "black":
        return torch.zeros_like(x)
    if kind == "blurred":
        return gaussian_blur(x, blur_sigma)
    if kind == "uniform":
        g = torch.Generator(device=x.device).manual_seed(int(seed))
        return torch.rand(x.shape, generator=g, device=x.device, dtype=x.dtype)
    raise ValueError(f"baseline {kind!r} is not one of {BASELINES}")


def integrated_gradients(model: nn.Module, x: torch.Tensor, target: int | torch.Tensor,
                         config: IGConfig | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Integrated Gradients of ``x`` (Captum ``IntegratedGradients``, path batched 128 points at a time).

    Returns:
        ``(attribution (N, C, H, W), convergence delta (N,), baseline (N, C, H, W))``.
    """
    cfg = config or IGConfig()
    base = make_baseline(x, cfg.baseline, cfg.blur_sigma, cfg.seed)
    ig = captum_attr().IntegratedGradients(model)
    attr, delta = ig.attribute(x.detach().clone().requires_grad_(True), baselines=base, target=target,
                               n_steps=cfg.n_steps, method=cfg.method, internal_batch_size=128,
                               return_convergence_delta=True)
    return attr.detach(), delta.detach(), base
