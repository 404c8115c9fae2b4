"""Attack, then explain: how far do the maps move when an adversarial perturbation flips the answer?

An adversarial image ``x_adv`` (from PGD or FGSM, computed elsewhere, e.g. ``dlcore.attacks``)
looks like ``x`` to us but not to the model. Explaining both shows what the perturbation did
to the model's "reasons". How far each map moved is measured with the Spearman rank
correlation of ``|map|`` and the top-k overlap (Ghorbani et al. 2019,
https://arxiv.org/abs/1710.10547: maps are fragile; a small change of the input can move the
top-k pixels while keeping the label) and SSIM. Each method's clean and adversarial maps share
one scale (divided by the larger of their 99th percentiles), so a map that grew is seen to grow.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Literal, Mapping, Sequence

import torch
from torch import nn

from dlcore.explain.base import check_image, check_model
from dlcore.explain.methods import Explanation, explain_all
from dlcore.explain.metrics import NORM_MODES, NormMode, spearman, ssim, topk_overlap
from dlcore.explain.names import ATTACK_TARGETS

__all__ = ["AttackExplanation", "explain_attack", "ATTACK_TARGETS"]


@dataclass
class AttackExplanation:
    """The same methods on the clean and the adversarial image.

    Attributes:
        names: methods compared. clean / adversarial: the two :class:`Explanation` s.
        maps: ``(2, len(names), H, W)`` clean (0) and adversarial (1) maps, each method's pair on
            one scale (``mode`` as in :func:`~dlcore.explain.normalize_maps`).
        spearman / topk_overlap / ssim: name -> similarity of the two maps (1 = unchanged).
        k_pct: the top-k size (% of pixels). perturbation: ``x_adv - x`` ``(C, H, W)``.
        linf / l2: its norms. target: ``"own"`` (each image for its own predicted class) or
            ``"clean"`` (both for the clean prediction). seconds: total time.
    """

    names: list[str]
    clean: Explanation
    adversarial: Explanation
    maps: torch.Tensor
    spearman: dict[str, float]
    topk_overlap: dict[str, float]
    ssim: dict[str, float]
    k_pct: float
    perturbation: torch.Tensor
    linf: float
    l2: float
    target: str
    mode: str
    seconds: float = 0.0
    settings: dict[str, Any] = field(default_factory=dict)


def _pair_scale(a: torch.Tensor, b: torch.Tensor, mode: str) -> torch.Tensor:
    both = torch.stack([a, b]).float()  # (2, H, W)
    q = torch.quantile(both.abs().flatten(), 0.99)
    q = q if q > 0 else both.abs().max()
    out = (both / (q if q > 0 else 1.0)).clamp(-1, 1)
    return out.abs() if mode == "abs" else out


def explain_attack(model: nn.Module, clean: Any, adversarial: Any, methods: Sequence[str] | None = None,
                   configs: Mapping[str, Any] | None = None, target: Literal["own", "clean"] = "own",
                   k_pct: float = 10.0, mode: NormMode = "abs") -> AttackExplanation:
    """Explain the clean and the adversarial image with the same methods and compare the maps.

    Args:
        clean, adversarial: two images of the same shape in [0, 1] (``(H, W)`` ... ``(1, C, H, W)``).
        methods, configs: as for :func:`~dlcore.explain.explain_all` (default: every method that runs).
        target: ``"own"`` (default: why does it say what it says now?) or ``"clean"``.
        k_pct: top-k size in % of pixels (default 10).
        mode: ``"abs"`` or ``"signed"`` maps.

    Raises:
        ValueError: images of different shapes or out of range, a bad target, k_pct, mode or method.
    """
    t0 = time.perf_counter()
    check_model(model)
    x = check_image(clean, "clean image")
    xa = check_image(adversarial, "adversarial image")
    if x.shape != xa.shape:
        raise ValueError(f"clean image {tuple(x.shape)} and adversarial image {tuple(xa.shape)} differ in shape")
    if target not in ATTACK_TARGETS:
        raise ValueError(f"target {target!r} is not one of {ATTACK_TARGETS}")
    if mode not in NORM_MODES:
        raise ValueError(f"mode {mode!r} is not one of {NORM_MODES}")
    if isinstance(k_pct, bool) or not isinstance(k_pct, (int, float)) or not 0 < k_pct <= 100:
        raise ValueError(f"k_pct {k_pct!r} must be a percentage in (0, 100]")
    ec = explain_all(model, x, methods, configs, mode=mode)
    ea = explain_all(model, xa, ec.names, configs, target=ec.predicted if target == "clean" else None, mode=mode)
    rho, top, ss, pairs = {}, {}, {}, []
    for n in ec.names:
        a, b = ec.attributions[n].map, ea.attributions[n].map
        rho[n] = spearman(a.abs(), b.abs())
        top[n] = topk_overlap(a.abs(), b.abs(), k_pct)
        ss[n] = ssim(a.abs(), b.abs())
        pairs.append(_pair_scale(a, b, mode))
    maps = torch.stack(pairs, 1) if pairs else torch.zeros(2, 0, *x.shape[-2:])  # (2, M, H, W)
    delta = (xa - x)[0]
    return AttackExplanation(ec.names, ec, ea, maps, rho, top, ss, float(k_pct), delta, float(delta.abs().max()),
                             float(delta.norm()), target, mode, time.perf_counter() - t0)
