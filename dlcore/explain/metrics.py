"""How alike two maps are: rank correlation, top-k overlap, SSIM, and one shared colour scale.

* **Spearman rank correlation** ``ρ = corr(rank(a), rank(b))`` (ties get their average
  rank): Adebayo et al. 2018 (https://arxiv.org/abs/1810.03292) compare a map before and
  after randomising the model with it, on absolute values.
* **Top-k overlap** ``|top_k(a) ∩ top_k(b)| / k``: Ghorbani et al. 2019
  (https://arxiv.org/abs/1710.10547) measure how far an attack moves a map with it.
* **SSIM** (Wang et al. 2004, https://www.cns.nyu.edu/pub/eero/wang03-reprint.pdf) on maps
  min-max scaled to [0, 1], Gaussian window σ = 1.5 (11 × 11), as scikit-image computes it.
* :func:`normalize_maps`: divide each map by its own 99th percentile of ``|m|`` and clip
  (PAIR saliency's ``VisualizeImageGrayscale``), so one colour bar reads the same for all
  methods even though their units differ (gradients, logit drops, LIME weights).
"""

from __future__ import annotations

from typing import Literal, Sequence

import torch

from dlcore.explain.names import NORM_MODES

__all__ = ["spearman", "topk_overlap", "ssim", "normalize_maps", "NormMode", "NORM_MODES"]

NormMode = Literal["abs", "signed"]


def _flat(m: torch.Tensor) -> torch.Tensor:
    return m.detach().double().flatten().cpu()


def _ranks(v: torch.Tensor) -> torch.Tensor:
    """Average ranks (1-based) of a 1-D tensor, ties sharing the mean of their positions."""
    order = torch.argsort(v, stable=True)
    sv = v[order]
    ranks = torch.empty_like(v)
    # group equal values: the start of each run of ties
    new = torch.ones(len(v), dtype=torch.bool)
    new[1:] = sv[1:] != sv[:-1]
    gid = torch.cumsum(new.long(), 0) - 1  # (n,) tie-group id in sorted order
    pos = torch.arange(1, len(v) + 1, dtype=v.dtype)
    sums = torch.zeros(int(gid[-1]) + 1, dtype=v.dtype).index_add_(0, gid, pos)
    counts = torch.zeros_like(sums).index_add_(0, gid, torch.ones_like(pos))
    ranks[order] = (sums / counts)[gid]
    return ranks


def spearman(a: torch.Tensor, b: torch.Tensor) -> float:
    """Spearman's ρ between two maps of the same shape (0.0 if either is constant).

    Raises:
        ValueError: the shapes differ.
    """
    if a.shape != b.shape:
        raise ValueError(f"maps of shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be compared")
    ra, rb = _ranks(_flat(a)), _ranks(_flat(b))
    ra, rb = ra - ra.mean(), rb - rb.mean()
    den = float(ra.norm() * rb.norm())
    return float((ra @ rb) / den) if den > 0 else 0.0


def topk_overlap(a: torch.Tensor, b: torch.Tensor, k_pct: float = 10.0) -> float:
    """Fraction of ``a``'s top ``k_pct`` % pixels (by value) that are also in ``b``'s top set.

    Raises:
        ValueError: shapes differ or ``k_pct`` not in (0, 100].
    """
    if a.shape != b.shape:
        raise ValueError(f"maps of shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be compared")
    if isinstance(k_pct, bool) or not isinstance(k_pct, (int, float)) or not 0 < k_pct <= 100:
        raise ValueError(f"k_pct {k_pct!r} must be a percentage in (0, 100]")
    fa, fb = _flat(a), _flat(b)
    k = max(1, int(round(k_pct / 100 * fa.numel())))
    ia = set(torch.topk(fa, k).indices.tolist())
    ib = set(torch.topk(fb, k).indices.tolist())
    return len(ia & ib) / k


def _gauss1d(sigma: float, radius: int) -> torch.Tensor:
    t = torch.arange(-radius, radius + 1, dtype=torch.float64)
    k = torch.exp(-0.5 * (t / sigma) ** 2)
    return k / k.sum()


def ssim(a: torch.Tensor, b: torch.Tensor, sigma: float = 1.5) -> float:
    """Mean structural similarity of two ``(H, W)`` maps after min-max scaling each to [0, 1].

    ``SSIM = (2 μa μb + C1)(2 σab + C2) / ((μa² + μb² + C1)(σa² + σb² + C2))`` with
    ``C1 = 0.01²``, ``C2 = 0.03²``, local statistics under a Gaussian window (radius
    ``min(int(3.5 σ + 0.5), (side - 1) // 2)``), averaged over the valid region.

    Raises:
        ValueError: the shapes differ or are not 2-D.
    """
    if a.shape != b.shape or a.ndim != 2:
        raise ValueError(f"ssim needs two (H, W) maps of one shape, got {tuple(a.shape)} and {tuple(b.shape)}")

    def scale(m: torch.Tensor) -> torch.Tensor:
        m = m.detach().double().cpu()
        lo, hi = m.min(), m.max()
        return (m - lo) / (hi - lo) if hi > lo else torch.zeros_like(m)

    x, y = scale(a)[None, None], scale(b)[None, None]
    r = min(int(3.5 * sigma + 0.5), (min(a.shape) - 1) // 2)
    k = _gauss1d(sigma, r)

    def filt(z: torch.Tensor) -> torch.Tensor:  # 'valid' separable Gaussian filter
        z = torch.nn.functional.conv2d(z, k.view(1, 1, 1, -1))
        return torch.nn.functional.conv2d(z, k.view(1, 1, -1, 1))

    c1, c2 = 0.01 ** 2, 0.03 ** 2
    mx, my = filt(x), filt(y)
    vx, vy, vxy = filt(x * x) - mx * mx, filt(y * y) - my * my, filt(x * y) - mx * my
    s = ((2 * mx * my + c1) * (2 * vxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return float(s.mean())


def normalize_maps(maps: torch.Tensor | Sequence[torch.Tensor], mode: NormMode = "abs",
                   percentile: float = 99.0) -> torch.Tensor:
    """Put maps of different methods on one colour scale.

    Each map is divided by its own ``percentile`` of ``|m|`` and clipped: ``"abs"`` gives
    ``|m|`` in [0, 1], ``"signed"`` keeps the sign in [-1, 1]. A map of zeros stays zero.

    Shape: ``(M, H, W)`` (or a list of ``(H, W)``) -> ``(M, H, W)``.

    Raises:
        ValueError: a bad mode or percentile, or maps of different shapes.
    """
    if mode not in NORM_MODES:
        raise ValueError(f"mode {mode!r} is not one of {NORM_MODES}")
    if isinstance(percentile, bool) or not isinstance(percentile, (int, float)) or not 50 <= percentile <= 100:
        raise ValueError(f"percentile {percentile!r} must be in [50, 100]")
    if not isinstance(maps, torch.Tensor):
        shapes = {tuple(m.shape) for m in maps}
        if len(shapes) != 1:
            raise ValueError(f"maps have different shapes {sorted(shapes)}")
        maps = torch.stack([m.detach().float() for m in maps])
    m = maps.detach().float()
    flat = m.abs().flatten(1)  # (M, H*W)
    q = torch.quantile(flat, percentile / 100.0, dim=1) if flat.shape[1] > 1 else flat[:, 0]
    q = torch.where(q > 0, q, flat.amax(1))  # a map that is mostly zeros: use its maximum
    q = torch.where(q > 0, q, torch.ones_like(q)).view(-1, *([1] * (m.ndim - 1)))
    out = (m / q).clamp(-1, 1)
    return out.abs() if mode == "abs" else out
