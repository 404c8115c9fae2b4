"""Weight sharing by k-means (notes §9.2.3; Han, Mao & Dally 2016, Deep Compression,
https://arxiv.org/abs/1510.00149).

Each layer's weights are clustered into ``k`` groups; every weight is replaced by its group's
centroid, so the layer stores a codebook of ``k`` fp32 values and one ``⌈log₂ k⌉``-bit index per
weight::

    bits_layer = n · ⌈log₂ k⌉ + k · 32        ratio ≈ 32 / ⌈log₂ k⌉ for large n

1-D k-means (Lloyd's algorithm) with the paper's *linear* initialisation (centroids spaced
evenly between min and max: it keeps the rare large weights, which matter most; §3.2). Han et
al. then fine-tune the centroids: the gradient of a centroid is the sum of the gradients of
its weights (§3.3); :func:`share_weights` does this through the Trainer when
``fine_tune_steps > 0`` (:class:`SharedLayer` has the codebook as its only weight parameter).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from dlcore.compression._validate import check_choice, check_float, check_int
from dlcore.compression.iterative import MAX_STEPS, ProgressCallback, fine_tune
from dlcore.compression.packing import PackedLayer, replace_layers
from dlcore.compression.pruning import copy_pruned
from dlcore.data import DataSplit

__all__ = ["KMeansInit", "KMEANS_INITS", "KMeansConfig", "kmeans_1d", "SharedLayer", "LayerCodebook",
           "ShareResult", "share_weights", "MAX_K"]

KMeansInit = Literal["linear", "density", "random"]
KMEANS_INITS: tuple[str, ...] = ("linear", "density", "random")
MAX_K = 256


@dataclass
class KMeansConfig:
    """Weight-sharing settings.

    Args:
        k: clusters per layer, in [2, 256] (default 32 = 5-bit indices, Deep Compression's
            fully-connected layers of AlexNet).
        init: ``"linear"`` (default, the paper's best), ``"density"`` (quantiles) or ``"random"``.
        iterations: Lloyd iterations (default 30).
        fine_tune_steps: centroid fine-tuning steps through the Trainer (default 0).
        lr: centroid learning rate (default 1e-4).
        seed: for ``"random"`` init and fine-tuning batches (default 0).
    """

    k: int = 32
    init: KMeansInit = "linear"
    iterations: int = 30
    fine_tune_steps: int = 0
    lr: float = 1e-4
    seed: int = 0

    def validate(self) -> None:
        check_int("k", self.k, 2, MAX_K)
        check_choice("init", self.init, KMEANS_INITS)
        check_int("iterations", self.iterations, 1, 1000)
        check_int("fine_tune_steps", self.fine_tune_steps, 0, MAX_STEPS)
        check_float("lr", self.lr, 0.0, 1.0, lo_open=True)


def kmeans_1d(values: torch.Tensor, k: int, init: KMeansInit = "linear", iterations: int = 30,
              seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Cluster scalar ``values`` into at most ``k`` centroids (Lloyd's algorithm in 1-D).

    When ``values`` has at most ``k`` distinct entries, the codebook *is* those values (exact).
    An empty cluster is moved to the value worst served by the current codebook.

    Returns:
        ``(codebook (k',), assignment (n,) int64)`` with ``k' ≤ k`` sorted centroids.
    """
    k = check_int("k", k, 1, MAX_K)
    v = values.detach().flatten().float()  # (n,)
    distinct = torch.unique(v)
    if len(distinct) <= k:
        return distinct, torch.searchsorted(distinct, v)
    if init == "linear":
        c = torch.linspace(float(v.min()), float(v.max()), k)
    elif init == "density":
        c = torch.quantile(v[:1_000_000], torch.linspace(0, 1, k))
    else:
        g = torch.Generator().manual_seed(seed)
        c = v[torch.randperm(len(v), generator=g)[:k]].sort().values
    for _ in range(iterations):
        assign = _nearest(v, c)  # 1. nearest centroid
        counts = torch.bincount(assign, minlength=k).float()
        sums = torch.zeros(k).index_add_(0, assign, v)
        new = torch.where(counts > 0, sums / counts.clamp_min(1), c)  # 2. centroid = cluster mean
        for j in torch.nonzero(counts == 0).flatten().tolist():  # 3. revive an empty cluster
            ordered = new.sort().values
            err = (v - ordered[_nearest(v, ordered)]).abs()
            new[j] = v[int(err.argmax())]
        new = new.sort().values
        if torch.equal(new, c):
            break
        c = new
    return c, _nearest(v, c)


def _nearest(v: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """Index of the nearest of the sorted centroids ``c`` for each value (O(n log k) memory-light)."""
    return torch.bucketize(v, (c[:-1] + c[1:]) / 2)


class SharedLayer(nn.Module):
    """A Linear/Conv2d whose weight is ``codebook[index]``: only the codebook (and bias) train.

    ``∂L/∂c_j = Σ_{i: index_i = j} ∂L/∂W_i`` (autograd of the gather), Han et al. §3.3.
    """

    def __init__(self, layer: nn.Module, codebook: torch.Tensor, index: torch.Tensor) -> None:
        super().__init__()
        self.layer = layer
        self.codebook = nn.Parameter(codebook.clone())
        self.register_buffer("index", index.reshape(layer.weight.shape).clone())
        layer.weight.requires_grad_(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.codebook[self.index]  # (shape of W)
        if isinstance(self.layer, nn.Linear):
            return F.linear(x, w, self.layer.bias)
        c = self.layer
        return F.conv2d(x, w, c.bias, c.stride, c.padding, c.dilation, c.groups)


@dataclass(frozen=True)
class LayerCodebook:
    """One layer after sharing: k used, index bits, ‖W − Ŵ‖/‖W‖, and the bits formula."""

    name: str
    k: int
    bits: int
    n_weights: int
    rel_error: float

    @property
    def storage_bits(self) -> int:
        return self.n_weights * self.bits + self.k * 32


@dataclass
class ShareResult:
    """The shared-weight model (packed: its state dict is the compressed file) and per-layer info."""

    model: nn.Module
    layers: list[LayerCodebook]


def share_weights(model: nn.Module, config: KMeansConfig | None = None, split: DataSplit | None = None,
                  callback: ProgressCallback | None = None,
                  stop_event: threading.Event | None = None) -> ShareResult:
    """k-means weight sharing of every Linear/Conv2d of a copy of ``model`` (biases stay fp32).

    Args:
        model: float model (not modified).
        config: :class:`KMeansConfig`.
        split: training data, needed when ``config.fine_tune_steps > 0``.
        callback, stop_event: progress / stop of the centroid fine-tuning.

    Returns:
        :class:`ShareResult` whose model stores packed ``⌈log₂ k⌉``-bit indices.
    """
    cfg = config or KMeansConfig()
    cfg.validate()
    if cfg.fine_tune_steps and split is None:
        raise ValueError("fine_tune_steps > 0 needs the training split")
    work = copy_pruned(model)

    def to_shared(name: str, layer: nn.Module) -> nn.Module:
        codebook, assign = kmeans_1d(layer.weight, cfg.k, cfg.init, cfg.iterations, cfg.seed)
        return SharedLayer(layer, codebook, assign)

    replace_layers(work, to_shared)
    if cfg.fine_tune_steps:
        assert split is not None
        fine_tune(work, split, cfg.fine_tune_steps, cfg.lr, seed=cfg.seed, callback=callback,
                  stop_event=stop_event, extra={"run": "centroids"})
    layers: list[LayerCodebook] = []

    def to_packed(mod: nn.Module, prefix: str) -> None:
        for child_name, child in list(mod.named_children()):
            full = f"{prefix}{child_name}"
            if isinstance(child, SharedLayer):
                cb = child.codebook.detach()
                bits = max(1, math.ceil(math.log2(len(cb))))
                w0, w1 = child.layer.weight.detach(), cb[child.index]
                layers.append(LayerCodebook(full, len(cb), bits, w0.numel(),
                                            float((w0 - w1).norm() / w0.norm().clamp_min(1e-12))))
                setattr(mod, child_name, PackedLayer(child.layer, child.index, bits, "codebook", cb))
            else:
                to_packed(child, full + ".")

    to_packed(work, "")
    return ShareResult(work.eval(), layers)
