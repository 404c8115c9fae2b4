"""LIME on superpixels (Captum's ``Lime``, set up as the LIME paper and package do).

The notes (seed 000 §9.4.1, "知识蒸馏"): explain one prediction with a simple model that
imitates the network near this input. Ribeiro et al. 2016 (https://arxiv.org/abs/1602.04938):

1. cut the image into superpixels ``z ∈ {0, 1}^K`` (1 = kept, 0 = set to the baseline);
2. sample ``n`` random on/off patterns, score each with the model (class probability);
3. weight each sample by its closeness to the full image,
   ``π(z) = exp(-d(z, 1)² / (2 w²))`` with cosine distance ``d`` (kernel width w = 0.25);
4. fit a weighted ridge regression ``g(z) = β₀ + Σ β_k z_k``: ``β_k`` is superpixel k's weight.

Defaults are the ``lime`` package's (``num_samples=1000``, ``kernel_width=0.25``,
``Ridge(alpha=1)``). Superpixels: 28 × 28 images are too small for quickshift, so
``"slic"`` runs SLIC (Achanta et al. 2012, https://infoscience.epfl.ch/record/177415) —
k-means on ``(intensity, m·y/S, m·x/S)`` from a regular grid of ``K`` seeds, ``S = sqrt(HW/K)``
— whose segments follow the object's edges; ``"grid"`` uses square cells.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import torch
from torch import nn

from dlcore.explain.base import captum_attr, check_config, option
from dlcore.explain.names import SEGMENTATIONS

__all__ = ["LimeConfig", "Segmentation", "SEGMENTATIONS", "superpixels", "lime"]

Segmentation = Literal["slic", "grid"]


@dataclass(frozen=True)
class LimeConfig:
    """Options of LIME (Ribeiro et al. 2016, https://arxiv.org/abs/1602.04938).

    Args:
        segmentation: ``"slic"`` (default) or ``"grid"`` superpixels.
        n_segments: about how many superpixels (default 49 = a 7 × 7 grid of seeds; at most
            ``H·W/4`` are used, so an 8 × 8 image gets 16).
        compactness: SLIC's weight of distance against intensity (default 0.1, scikit-image's
            10 for colours in 0-100 rescaled to intensities in [0, 1]).
        n_samples: random on/off patterns (default 1000, the lime package's).
        kernel_width: width ``w`` of the similarity kernel (default 0.25, the lime package's).
        ridge_alpha: ridge penalty of the surrogate (default 1.0, the lime package's).
        baseline: a switched-off superpixel becomes ``"black"`` (default, the background) or
            its ``"mean"`` intensity (the lime package's ``hide_color=None``).
        perturbations_per_eval: patterns scored per forward pass (default 250).
        seed: seed of the random patterns.
    """

    segmentation: Segmentation = option("slic", "superpixels")
    n_segments: int = option(49, "number of superpixels", lo=2, hi=400, step=1)
    compactness: float = option(0.1, "SLIC compactness", lo=0.001, hi=10.0, step=0.01)
    n_samples: int = option(1000, "random samples", lo=10, hi=5000, step=10)
    kernel_width: float = option(0.25, "kernel width", lo=0.01, hi=10.0, step=0.01)
    ridge_alpha: float = option(1.0, "ridge penalty", lo=0.0, hi=1000.0, step=0.1)
    baseline: Literal["black", "mean"] = option("black", "switched-off superpixel")
    perturbations_per_eval: int = option(250, "samples per batch", lo=1, hi=2000, step=1)
    seed: int = option(0, "seed", lo=0, hi=2**31 - 1, step=1)

    def __post_init__(self) -> None:
        check_config(self)


def superpixels(image: torch.Tensor, n_segments: int = 49, method: Segmentation = "slic",
                compactness: float = 0.1, iterations: int = 10) -> torch.Tensor:
    """Label each pixel with its superpixel, ``0 .. K-1`` (K <= ``n_segments``, <= H·W/4).

    Shape: ``(C, H, W)``, ``(1, C, H, W)`` or ``(H, W)`` -> ``(H, W)`` int64.

    Raises:
        ValueError: an unknown method.
    """
    img = image.detach().float()
    while img.ndim > 2:
        img = img.mean(0) if img.shape[0] > 1 or img.ndim == 3 else img[0]
    h, w = img.shape
    k = max(1, min(int(n_segments), h * w // 4))
    g = max(1, round(math.sqrt(k)))  # g × g seeds / cells
    if method == "grid":
        ch, cw = math.ceil(h / g), math.ceil(w / g)
        ys, xs = torch.arange(h) // ch, torch.arange(w) // cw
        labels = ys[:, None] * g + xs[None, :]
    elif method == "slic":
        s = math.sqrt(h * w / (g * g))  # grid interval S
        yy, xx = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32),
                                indexing="ij")
        feats = torch.stack([img, compactness * yy / s, compactness * xx / s], -1).view(-1, 3)  # (HW, 3)
        cy = (torch.arange(g, dtype=torch.float32) + 0.5) * h / g
        cx = (torch.arange(g, dtype=torch.float32) + 0.5) * w / g
        seeds = torch.stack(torch.meshgrid(cy, cx, indexing="ij"), -1).view(-1, 2).long()  # (K, 2)
        centres = feats.view(h, w, 3)[seeds[:, 0].clamp(max=h - 1), seeds[:, 1].clamp(max=w - 1)]  # (K, 3)
        for _ in range(iterations):
            assign = torch.cdist(feats, centres).argmin(1)  # (HW,) nearest centre
            sums = torch.zeros_like(centres).index_add_(0, assign, feats)
            counts = torch.bincount(assign, minlength=len(centres)).float()[:, None]
            centres = torch.where(counts > 0, sums / counts.clamp(min=1), centres)  # empty ones stay
        labels = torch.cdist(feats, centres).argmin(1).view(h, w)
    else:
        raise ValueError(f"segmentation {method!r} is not one of {SEGMENTATIONS}")
    return torch.unique(labels, return_inverse=True)[1].view(h, w)  # consecutive 0 .. K-1


def lime(model: nn.Module, x: torch.Tensor, target: int, config: LimeConfig | None = None
         ) -> tuple[torch.Tensor, torch.Tensor]:
    """LIME weights per superpixel, spread over its pixels.

    Returns:
        ``(attribution (1, C, H, W), segments (H, W))``.
    """
    cfg = config or LimeConfig()
    ca = captum_attr()
    from captum._utils.models.linear_model import SkLearnRidge

    seg = superpixels(x[0], cfg.n_segments, cfg.segmentation, cfg.compactness)  # (H, W)
    n_feat = int(seg.max()) + 1
    if cfg.baseline == "mean":  # each superpixel's own mean intensity (per channel)
        flat = x[0].flatten(1)  # (C, HW)
        sums = torch.zeros(x.shape[1], n_feat).index_add_(1, seg.flatten(), flat)
        base = (sums / torch.bincount(seg.flatten(), minlength=n_feat).float())[:, seg].unsqueeze(0)
    else:
        base = torch.zeros_like(x)
    gen = torch.Generator().manual_seed(cfg.seed)

    def perturb(original: Any, **kwargs: Any) -> torch.Tensor:  # 1 x K binary pattern, as Captum expects
        return torch.bernoulli(torch.full((1, n_feat), 0.5), generator=gen).long()

    def similarity(original: Any, perturbed: Any, interpretable: torch.Tensor, **kwargs: Any) -> float:
        # cosine distance of the binary pattern z to the all-on pattern 1 (the lime package's):
        # cos = z·1 / (|z| |1|) = s / (√s √K) = √(s / K) with s = number of superpixels kept
        s = float(interpretable.sum())
        d = 1.0 - math.sqrt(s / n_feat) if s > 0 else 1.0
        return math.exp(-d * d / (2 * cfg.kernel_width ** 2))

    def prob(batch: torch.Tensor) -> torch.Tensor:
        return torch.softmax(model(batch), 1)

    explainer = ca.Lime(prob, interpretable_model=SkLearnRidge(alpha=cfg.ridge_alpha),
                        similarity_func=similarity, perturb_func=perturb)
    with torch.no_grad():
        attr = explainer.attribute(x, baselines=base, target=target, feature_mask=seg[None, None].expand_as(x),
                                   n_samples=cfg.n_samples, perturbations_per_eval=cfg.perturbations_per_eval)
    return attr.detach().float(), seg
