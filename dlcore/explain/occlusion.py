"""Occlusion: cover a patch, watch the output drop (the notes' "修改" method).

Seed 000 §9.4.1: change part of the input (grey it out) and watch how the output changes;
where it changes most is what the model relies on. Zeiler & Fergus 2014
(https://arxiv.org/abs/1311.2901, Fig. 7) slide a grey square over the image and plot the
probability of the correct class. With window ``w`` (``patch × patch``, moved by ``stride``)
and baseline value ``b``::

    Δ_w = s(x) - s(x with window w set to b)
    A_p = mean of Δ_w over the windows w that cover pixel p

which is exactly Captum's ``Occlusion`` (windows start at ``0, stride, 2·stride, ...``; the
last one may hang over the edge and is cropped). Here all windows are built as one mask
tensor and scored in batches of ``perturbations_per_eval`` (no Python loop per window), which
gives Captum's numbers in less time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from dlcore.explain.base import check_config, gaussian_blur, option
from dlcore.explain.names import OCCLUSION_BASELINES

__all__ = ["OcclusionConfig", "OcclusionBaseline", "OCCLUSION_BASELINES", "MAX_MASK_PIXELS", "occlusion_masks", "occlusion"]

OcclusionBaseline = Literal["black", "gray", "blurred"]
#: Largest windows × pixels held at once (all masks are one tensor): 2·10⁷ (80 MB).
MAX_MASK_PIXELS = 20_000_000


@dataclass(frozen=True)
class OcclusionConfig:
    """Options of occlusion (Zeiler & Fergus 2014, https://arxiv.org/abs/1311.2901).

    Args:
        patch: side of the square window in pixels (default 4: a seventh of 28).
        stride: step between windows (default 2; at most ``patch``, as in Captum).
        baseline: what covers the window: ``"black"`` (default: the training data's background,
            "nothing here"), ``"gray"`` (0.5: the notes' and Zeiler & Fergus' grey square) or
            ``"blurred"`` (the image blurred, σ = patch / 2).
        score: ``"probability"`` of the class (default, as Zeiler & Fergus plot) or its ``"logit"``.
        perturbations_per_eval: occluded copies per forward pass (default 256: all 169 windows of a
            28 × 28 image with 4 × 4 patches and stride 2 in one pass).
    """

    patch: int = option(4, "patch size (px)", lo=1, hi=64, step=1)
    stride: int = option(2, "stride (px)", lo=1, hi=64, step=1)
    baseline: OcclusionBaseline = option("black", "fill of the patch")
    score: Literal["probability", "logit"] = option("probability", "output watched")
    perturbations_per_eval: int = option(256, "copies per batch", lo=1, hi=1024, step=1)

    def __post_init__(self) -> None:
        check_config(self)
        if self.stride > self.patch:
            raise ValueError(f"stride {self.stride} must be <= patch {self.patch} (every pixel is covered)")


def occlusion_masks(height: int, width: int, patch: int, stride: int) -> torch.Tensor:
    """Every window as a 0/1 mask, in Captum's order (row-major over window positions).

    Windows start at ``0, stride, ...`` — ``ceil((H - patch) / stride) + 1`` of them per axis —
    and are cropped at the border.

    Shape: ``(n_windows, H, W)`` bool.
    """
    def axis(n: int) -> torch.Tensor:
        starts = torch.arange(math.ceil((n - patch) / stride) + 1) * stride  # (k,)
        pos = torch.arange(n)
        return (pos[None, :] >= starts[:, None]) & (pos[None, :] < starts[:, None] + patch)  # (k, n)

    rows, cols = axis(height), axis(width)  # (ky, H), (kx, W)
    return (rows[:, None, :, None] & cols[None, :, None, :]).reshape(-1, height, width)


def occlusion(model: nn.Module, x: torch.Tensor, target: int, config: OcclusionConfig | None = None) -> torch.Tensor:
    """Occlusion attribution of one image ``(1, C, H, W)`` -> ``(1, C, H, W)``.

    Equals Captum ``Occlusion(f).attribute(x, sliding_window_shapes=(C, patch, patch),
    strides=(C, stride, stride), baselines=b, target=target)`` with ``f`` the model (logit)
    or its softmax (probability).

    Raises:
        ValueError: the patch is larger than the image.
    """
    cfg = config or OcclusionConfig()
    _, c, h, w = x.shape
    if cfg.patch > min(h, w):
        raise ValueError(f"patch {cfg.patch} is larger than the image ({h}×{w})")
    # 1. the fill: a constant or the blurred image
    if cfg.baseline == "blurred":
        fill = gaussian_blur(x, cfg.patch / 2)
    else:
        fill = torch.full_like(x, 0.0 if cfg.baseline == "black" else 0.5)
    n_w = (math.ceil((h - cfg.patch) / cfg.stride) + 1) * (math.ceil((w - cfg.patch) / cfg.stride) + 1)
    if n_w * h * w > MAX_MASK_PIXELS:
        raise ValueError(f"patch {cfg.patch} and stride {cfg.stride} give {n_w} windows on a {h}×{w} image; "
                         f"windows × pixels must stay under {MAX_MASK_PIXELS:,} (use a larger stride)")
    masks = occlusion_masks(h, w, cfg.patch, cfg.stride).to(x.device)  # (n_w, H, W)
    m = masks[:, None].to(x.dtype)  # (n_w, 1, H, W), broadcast over channels

    def score(batch: torch.Tensor) -> torch.Tensor:
        out = model(batch)
        return (torch.softmax(out, 1) if cfg.score == "probability" else out)[:, target]

    with torch.no_grad():
        s0 = score(x)[0]
        drops = []
        for start in range(0, len(m), cfg.perturbations_per_eval):
            mb = m[start:start + cfg.perturbations_per_eval]
            # 2. each copy has one window replaced by the fill
            drops.append(s0 - score(x * (1 - mb) + fill * mb))  # (b,)
        d = torch.cat(drops)  # (n_w,)
    # 3. every pixel gets the mean drop of the windows that cover it
    total = torch.einsum("w,whv->hv", d, m[:, 0])  # (H, W)
    count = m[:, 0].sum(0)
    return (total / count).expand(1, c, h, w).clone()
