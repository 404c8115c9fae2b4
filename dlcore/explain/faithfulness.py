"""Is the map faithful? Deletion and insertion curves (Petsiuk et al. 2018, RISE).

A map claims "these pixels matter most". Test the claim (https://arxiv.org/abs/1806.07421, §4):

* **deletion**: remove pixels, most salient first (set them to black), and watch the class
  probability; a faithful map makes it fall fast -> a *small* area under the curve;
* **insertion**: start from a blurred image and put the original pixels back, most salient
  first; a faithful map makes the probability rise fast -> a *large* area.

The x axis is the fraction of pixels changed, ``0, 1/S, ..., 1`` (``S`` steps; RISE changes
one image row's worth of pixels per step, so ``S = H`` by default), and the AUC is the
trapezoid area under it. Ties in a map (e.g. gradient × input is 0 on the whole black
background) are broken at random (seeded), so they do not favour the top-left corner. A
random map is the reference a method must beat. Every curve point of every method is one
image in one batched forward pass.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Literal, Mapping, Sequence

import torch
from torch import nn

from dlcore.explain.base import (
    check_config, check_image, check_model, check_target, class_probabilities, gaussian_blur, make_config, option,
)
from dlcore.explain.fast import fused_twin

__all__ = ["FaithfulnessConfig", "FaithfulnessResult", "deletion_insertion", "salience_order", "random_map",
           "average_faithfulness", "AverageFaithfulness", "MAX_IMAGES", "MAX_CURVE_PIXELS"]

#: Most images :func:`average_faithfulness` accepts.
MAX_IMAGES = 200
#: Most pixels of curve images held at once (all points of all curves are one batch): 5·10⁷.
MAX_CURVE_PIXELS = 50_000_000


@dataclass(frozen=True)
class FaithfulnessConfig:
    """Options of the deletion/insertion game (Petsiuk et al. 2018, https://arxiv.org/abs/1806.07421).

    Args:
        n_steps: points on each curve after 0 (default None = the image height, RISE's one row
            of pixels per step).
        deletion_fill: removed pixels become ``"black"`` (default, RISE's zeros), ``"gray"`` or ``"blurred"``.
        insertion_start: the canvas pixels are inserted into: ``"blurred"`` (default, RISE's) or ``"black"``.
        blur_sigma: Gaussian σ (pixels) of the blurred image (default 3: shapes gone on 28 × 28).
        score: ``"probability"`` of the class (default, RISE's) or its ``"logit"``.
        include_random: also score a random map, the reference (default True).
        batch_size: images per forward pass (default 256).
        seed: seed of the random map and of tie-breaking.
    """

    n_steps: int | None = option(None, "steps (None = image height)", lo=2, hi=1024, step=1)
    deletion_fill: Literal["black", "gray", "blurred"] = option("black", "deleted pixels become")
    insertion_start: Literal["blurred", "black"] = option("blurred", "insertion starts from")
    blur_sigma: float = option(3.0, "blur σ (px)", lo=0.1, hi=20.0, step=0.1)
    score: Literal["probability", "logit"] = option("probability", "output watched")
    include_random: bool = option(True, "add a random map")
    batch_size: int = option(256, "images per batch", lo=1, hi=4096, step=1)
    seed: int = option(0, "seed", lo=0, hi=2**31 - 1, step=1)

    def __post_init__(self) -> None:
        check_config(self)


def random_map(height: int, width: int, seed: int = 0) -> torch.Tensor:
    """A uniform random ``(H, W)`` map: the baseline every method should beat."""
    return torch.rand((height, width), generator=torch.Generator().manual_seed(int(seed)))


def salience_order(m: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """Pixel indices (flattened) from most to least salient, ties in random (seeded) order.

    Shape: ``(H, W)`` -> ``(H·W,)``.
    """
    flat = m.detach().float().flatten().cpu()
    perm = torch.randperm(flat.numel(), generator=torch.Generator().manual_seed(int(seed) + 1))
    order = torch.argsort(flat[perm], descending=True, stable=True)  # stable: ties keep the random order
    return perm[order]


@dataclass
class FaithfulnessResult:
    """Deletion and insertion curves of several maps of one image.

    Attributes:
        fractions: ``(S + 1)`` fraction of pixels changed. names: maps scored (``"random"`` last if added).
        deletion / insertion: name -> score after each step (list of S + 1 floats).
        deletion_auc / insertion_auc: name -> area under the curve (lower / higher is better).
        target, probability: the class scored and its clean probability. settings, seconds: as named.
    """

    fractions: list[float]
    names: list[str]
    deletion: dict[str, list[float]]
    insertion: dict[str, list[float]]
    deletion_auc: dict[str, float]
    insertion_auc: dict[str, float]
    target: int
    probability: float
    settings: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


def _as_maps(maps: Any) -> dict[str, torch.Tensor]:
    if hasattr(maps, "attributions") and hasattr(maps, "names"):  # an Explanation
        return {n: maps.attributions[n].map for n in maps.names}
    if isinstance(maps, torch.Tensor) and maps.ndim == 2:
        return {"map": maps}
    if isinstance(maps, Mapping):
        return {str(k): getattr(v, "map", v) for k, v in maps.items()}
    raise ValueError(f"maps must be an Explanation, a dict of (H, W) maps or one map, got {type(maps).__name__}")


def deletion_insertion(model: nn.Module, image: Any, maps: Any, target: int | None = None,
                       config: FaithfulnessConfig | dict | None = None) -> FaithfulnessResult:
    """Deletion and insertion curves with their AUCs, for each map, in batched forward passes.

    Args:
        maps: an :class:`~dlcore.explain.Explanation`, a dict name -> ``(H, W)`` map (or
            :class:`~dlcore.explain.Attribution`), or one ``(H, W)`` map. Higher = more salient.
        target: class scored (default: the predicted class).

    Raises:
        ValueError: bad image, maps of the wrong size, a bad target or config.
    """
    t0 = time.perf_counter()
    cfg = make_config(FaithfulnessConfig, config)
    check_model(model)
    x = check_image(image)  # (1, C, H, W)
    _, c, h, w = x.shape
    named = _as_maps(maps)
    for k, m in named.items():
        if not isinstance(m, torch.Tensor) or tuple(m.shape) != (h, w):
            raise ValueError(f"map {k!r} must be a ({h}, {w}) tensor, got "
                             f"{tuple(m.shape) if isinstance(m, torch.Tensor) else type(m).__name__}")
    if cfg.include_random:
        named["random"] = random_map(h, w, cfg.seed)
    probs = class_probabilities(model, x)[0]
    t = check_target(target, probs.numel(), int(probs.argmax()))
    s = cfg.n_steps or h
    if len(named) * 2 * (s + 1) * c * h * w > MAX_CURVE_PIXELS:
        raise ValueError(f"{len(named)} maps x 2 curves x {s + 1} points of a {h}×{w} image exceed "
                         f"{MAX_CURVE_PIXELS:,} pixels held at once; use fewer steps or maps")
    fractions = torch.linspace(0, 1, s + 1)
    counts = torch.round(fractions * h * w).long()  # (S+1,) pixels changed at each step
    # 1. the canvases: what a deleted pixel becomes, and where insertion starts
    blurred = gaussian_blur(x, cfg.blur_sigma)
    fill = {"black": torch.zeros_like(x), "gray": torch.full_like(x, 0.5), "blurred": blurred}[cfg.deletion_fill]
    start = blurred if cfg.insertion_start == "blurred" else torch.zeros_like(x)
    batches = []
    for name, m in named.items():
        # 2. rank of each pixel; step k changes the pixels of rank < counts[k]
        rank = torch.empty(h * w, dtype=torch.long)
        rank[salience_order(m, cfg.seed)] = torch.arange(h * w)
        changed = (rank[None, :] < counts[:, None]).view(s + 1, 1, h, w).to(x.dtype)  # (S+1, 1, H, W)
        batches.append(x * (1 - changed) + fill * changed)  # deletion
        batches.append(start * (1 - changed) + x * changed)  # insertion
    imgs = torch.cat(batches)  # (2 M (S+1), C, H, W)
    scores = []
    fast = fused_twin(model)  # same outputs, Conv + BatchNorm folded
    with torch.no_grad():
        for i in range(0, len(imgs), cfg.batch_size):
            out = fast(imgs[i:i + cfg.batch_size])
            scores.append((torch.softmax(out, 1) if cfg.score == "probability" else out)[:, t])
    sc = torch.cat(scores).view(len(named), 2, s + 1)  # (M, deletion/insertion, S+1)
    # 3. area under each curve (trapezoid rule over the fraction axis)
    auc = torch.trapezoid(sc, fractions, dim=-1)  # (M, 2)
    names = list(named)
    return FaithfulnessResult(
        fractions.tolist(), names, {n: sc[i, 0].tolist() for i, n in enumerate(names)},
        {n: sc[i, 1].tolist() for i, n in enumerate(names)}, {n: float(auc[i, 0]) for i, n in enumerate(names)},
        {n: float(auc[i, 1]) for i, n in enumerate(names)}, t, float(probs[t]),
        {**cfg.__dict__, "n_steps": s}, time.perf_counter() - t0)


@dataclass
class AverageFaithfulness:
    """Mean (and standard deviation) deletion/insertion AUC per method over several images."""

    names: list[str]
    n_images: int
    deletion_auc: dict[str, float]
    insertion_auc: dict[str, float]
    deletion_std: dict[str, float]
    insertion_std: dict[str, float]
    seconds: float = 0.0


def average_faithfulness(model: nn.Module, images: torch.Tensor, methods: Sequence[str] | None = None,
                         configs: Mapping[str, Any] | None = None, config: FaithfulnessConfig | dict | None = None,
                         callback: Callable[[int, dict[str, Any]], None] | None = None) -> AverageFaithfulness:
    """Deletion/insertion AUCs averaged over ``images`` ``(N, C, H, W)``, each explained for its
    predicted class by :func:`~dlcore.explain.explain_all`.

    Raises:
        ValueError: not a 4-D batch, more than :data:`MAX_IMAGES` images, or bad methods/configs.
    """
    from dlcore.explain.methods import explain_all

    t0 = time.perf_counter()
    if not isinstance(images, torch.Tensor) or images.ndim != 4 or not 1 <= len(images) <= MAX_IMAGES:
        raise ValueError(f"images must be a (N, C, H, W) tensor with 1 <= N <= {MAX_IMAGES}, got "
                         f"{tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__}")
    cfg = make_config(FaithfulnessConfig, config)
    dels: dict[str, list[float]] = {}
    ins: dict[str, list[float]] = {}
    for i, img in enumerate(images):
        # a new random map (and tie-break) per image, so the reference is averaged too
        r = deletion_insertion(model, img, explain_all(model, img, methods, configs),
                               config=dataclasses.replace(cfg, seed=cfg.seed + i))
        for n in r.names:
            dels.setdefault(n, []).append(r.deletion_auc[n])
            ins.setdefault(n, []).append(r.insertion_auc[n])
        if callback is not None:
            callback(i, {"image": i, "deletion_auc": r.deletion_auc})

    def ms(d: dict[str, list[float]]) -> tuple[dict[str, float], dict[str, float]]:
        t = {k: torch.tensor(v) for k, v in d.items()}
        return ({k: float(v.mean()) for k, v in t.items()},
                {k: float(v.std()) if len(v) > 1 else 0.0 for k, v in t.items()})

    (dm, ds), (im, isd) = ms(dels), ms(ins)
    return AverageFaithfulness(list(dels), len(images), dm, im, ds, isd, time.perf_counter() - t0)
