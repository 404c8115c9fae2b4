"""Dynamic depth: early exits (notes §9.2.5).

A classifier head after every block; at inference an example leaves at the first head that is
confident enough, so easy images cost only the first block. Training sums every head's loss::

    L = Σ_i w_i · CE(head_i(h_i), y) / Σ_i w_i      (the notes' L = Σ α_i L_i; MSDNet uses w_i = 1)

Exit rule at threshold ``τ`` (BranchyNet, Teerapittayanon et al. 2016,
https://arxiv.org/abs/1709.01686; MSDNet, Huang et al. 2018, https://arxiv.org/abs/1703.09844):
``"max_prob"`` exits when ``max softmax ≥ τ``; ``"entropy"`` when ``H(p) ≤ τ · log C``. The
average compute is ``Σ_i (fraction exiting at i) · MACs(blocks 1..i + heads 1..i)``: every head on
the way is evaluated to check its confidence. Moving ``τ`` trades accuracy for compute.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from dlcore.compression._validate import check_choice, check_float, check_int
from dlcore.models import Standardize

__all__ = ["MultiExitCNN", "joint_loss", "joint_objective", "ExitCriterion", "EXIT_CRITERIA", "exit_macs",
           "ExitPoint", "exit_sweep", "EarlyExitModel", "all_exit_logits"]

ExitCriterion = Literal["max_prob", "entropy"]
EXIT_CRITERIA: tuple[str, ...] = ("max_prob", "entropy")


class MultiExitCNN(nn.Module):
    """Three conv blocks (``conv 3×3 → BN → ReLU → maxpool 2``) with a head after each.

    Head ``i``: ``AdaptiveAvgPool2d(p_i) → Flatten → Linear(C_i·p_i², n_classes)``.

    Args:
        in_channels: 1. n_classes: 10. image_size: 28 (Fashion-MNIST) or 8 (digits).
        channels: widths of the three blocks (default ``(16, 32, 64)``).
        pools: head pooling sizes ``p_i`` (default ``(4, 4, 3)``; capped by the feature size).
        mean, std: input standardisation.

    Shape:
        ``forward``: ``(N, C, S, S) → (N, n_classes)`` (the last exit);
        ``exits``: a list of three ``(N, n_classes)``.
    """

    def __init__(self, in_channels: int = 1, n_classes: int = 10, image_size: int = 28,
                 channels: tuple[int, int, int] = (16, 32, 64), pools: tuple[int, int, int] = (4, 4, 3),
                 mean: float = 0.0, std: float = 1.0) -> None:
        super().__init__()
        if len(channels) != 3 or len(pools) != 3 or min(channels) < 1 or min(pools) < 1:
            raise ValueError(f"channels {channels} and pools {pools} must be three positive integers each")
        check_int("image_size", image_size, 8, 512)
        self.scale = Standardize(mean, std)
        blocks, heads, size, c_prev = [], [], image_size, in_channels
        for c, p in zip(channels, pools):
            blocks.append(nn.Sequential(nn.Conv2d(c_prev, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU(),
                                        nn.MaxPool2d(2)))
            size = max(size // 2, 1)
            q = min(p, size)
            heads.append(nn.Sequential(nn.AdaptiveAvgPool2d(q), nn.Flatten(), nn.Linear(c * q * q, n_classes)))
            c_prev = c
        self.blocks, self.heads = nn.ModuleList(blocks), nn.ModuleList(heads)

    def exits(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Logits of every head, ``[(N, n_classes)] × 3``."""
        h, out = self.scale(x), []
        for block, head in zip(self.blocks, self.heads):
            h = block(h)  # (N, C_i, S_i, S_i)
            out.append(head(h))
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.exits(x)[-1]


def joint_loss(logits: list[torch.Tensor], y: torch.Tensor, weights: tuple[float, ...] = (1.0, 1.0, 1.0)) -> torch.Tensor:
    """``Σ_i w_i CE(z_i, y) / Σ_i w_i``."""
    if len(weights) != len(logits) or min(weights) < 0 or sum(weights) <= 0:
        raise ValueError(f"exit weights {weights} must be {len(logits)} non-negative numbers, not all 0")
    return sum(w * F.cross_entropy(z, y) for w, z in zip(weights, logits)) / sum(weights)


def joint_objective(weights: tuple[float, ...] = (1.0, 1.0, 1.0)):
    """The Trainer ``objective(model, x, y) -> (loss, final logits)`` of :func:`joint_loss`."""
    def objective(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logits = model.exits(x)
        return joint_loss(logits, y, weights), logits[-1]
    return objective


def _macs(mod: nn.Module, inp: torch.Tensor, out: torch.Tensor) -> int:
    if isinstance(mod, nn.Conv2d):
        k = mod.kernel_size[0] * mod.kernel_size[1] * mod.in_channels // mod.groups
        return out.numel() // out.shape[0] * k
    if isinstance(mod, nn.Linear):
        return mod.in_features * mod.out_features
    return 0


def exit_macs(model: MultiExitCNN, example_shape: tuple[int, ...]) -> list[int]:
    """MACs of one example leaving at exit ``i`` (blocks 1..i and heads 1..i). Conv and Linear only."""
    counts: dict[str, int] = {}
    hooks = []
    for part in ("blocks", "heads"):
        for i, m in enumerate(getattr(model, part)):
            for sub in m.modules():
                hooks.append(sub.register_forward_hook(
                    lambda mod, inp, out, key=f"{part}{i}": counts.__setitem__(key, counts.get(key, 0) + _macs(mod, inp, out))))
    with torch.no_grad():
        model.eval().exits(torch.zeros((1, *example_shape)))
    for h in hooks:
        h.remove()
    out, total = [], 0
    for i in range(len(model.blocks)):
        total += counts.get(f"blocks{i}", 0) + counts.get(f"heads{i}", 0)
        out.append(total)
    return out


@torch.no_grad()
def all_exit_logits(model: MultiExitCNN, x: torch.Tensor, batch_size: int = 128) -> torch.Tensor:
    """Every head's logits on ``x``: shape ``(n_exits, N, n_classes)``."""
    model.eval()
    parts = [torch.stack(model.exits(x[i:i + batch_size])) for i in range(0, len(x), batch_size)]
    return torch.cat(parts, dim=1)


def _confident(logits: torch.Tensor, criterion: ExitCriterion, tau: float) -> torch.Tensor:
    p = logits.softmax(-1)
    if criterion == "max_prob":
        return p.max(-1).values >= tau
    entropy = -(p * p.clamp_min(1e-12).log()).sum(-1)
    return entropy <= tau * math.log(p.shape[-1])


@dataclass(frozen=True)
class ExitPoint:
    """One threshold: accuracy, mean MACs per example, fraction leaving at each exit."""

    threshold: float
    accuracy: float
    mean_macs: float
    exit_fractions: tuple[float, ...]


def exit_sweep(logits: torch.Tensor, y: torch.Tensor, macs: list[int], thresholds: list[float],
               criterion: ExitCriterion = "max_prob") -> list[ExitPoint]:
    """Accuracy vs average compute for each threshold, from precomputed :func:`all_exit_logits`.

    Args:
        logits: ``(n_exits, N, C)``. y: ``(N,)``. macs: :func:`exit_macs`.
        thresholds: values of ``τ`` in [0, 1] (at most 201).
    """
    check_choice("criterion", criterion, EXIT_CRITERIA)
    if not 1 <= len(thresholds) <= 201:
        raise ValueError(f"{len(thresholds)} thresholds; give 1 to 201")
    e, n, _ = logits.shape
    points = []
    for tau in thresholds:
        tau = check_float("threshold", tau, 0.0, 1.0)
        conf = _confident(logits, criterion, tau)  # (E, N)
        conf[-1] = True  # the last exit takes everyone left
        first = conf.float().argmax(0)  # (N,) index of the first confident exit
        pred = logits.argmax(-1).gather(0, first[None]).squeeze(0)  # (N,)
        frac = torch.bincount(first, minlength=e).float() / n
        points.append(ExitPoint(tau, float((pred == y).float().mean()),
                                float((frac * torch.tensor(macs, dtype=torch.float)).sum()),
                                tuple(round(float(f), 6) for f in frac)))
    return points


class EarlyExitModel(nn.Module):
    """Inference with real early exits: examples leave the batch at the first confident head, so
    the later blocks run only on the rest. Output: ``(N, n_classes)`` logits of each one's exit."""

    def __init__(self, model: MultiExitCNN, threshold: float = 0.9, criterion: ExitCriterion = "max_prob") -> None:
        super().__init__()
        self.model = model
        self.threshold = check_float("threshold", threshold, 0.0, 1.0)
        self.criterion = check_choice("criterion", criterion, EXIT_CRITERIA)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m = self.model
        h = m.scale(x)
        out = torch.empty((len(x), m.heads[-1][-1].out_features), dtype=h.dtype, device=h.device)
        alive = torch.arange(len(x), device=h.device)
        for i, (block, head) in enumerate(zip(m.blocks, m.heads)):
            h = block(h)
            z = head(h)  # (n_alive, C)
            done = torch.ones(len(z), dtype=torch.bool, device=z.device) if i == len(m.blocks) - 1 else \
                _confident(z, self.criterion, self.threshold)
            out[alive[done]] = z[done]
            alive, h = alive[~done], h[~done]
            if len(alive) == 0:
                break
        return out
