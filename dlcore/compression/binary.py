"""Binary weights (notes §9.2.3): every weight is ``+α`` or ``−α`` — 1 bit each.

BinaryConnect (Courbariaux, Bengio & David 2015, https://arxiv.org/abs/1511.00363) keeps a
real-valued copy ``W`` for learning and uses ``W_b = sign(W)`` in the forward pass; here with a
per-layer scale ``α = mean |W|`` (the optimal L2 scale, Rastegari et al. 2016,
https://arxiv.org/abs/1603.05279), so no BatchNorm is needed to absorb the scale::

    forward:   W_b = α · sign(W),  α = mean|W|
    backward:  ∂L/∂W ≈ ∂L/∂W_b    (straight-through estimator, Bengio et al. 2013)
    after each update: W ← clip(W, −1, 1)   (BinaryConnect's clipping)

:func:`binarize` fine-tunes through the one Trainer (the STE is a
``torch.nn.utils.parametrize`` parametrization, the clipping a ``batch_hook``), then packs each
layer into 1-bit codes with a 2-entry codebook ``[−α, +α]`` (32× smaller weights, fp32 bias).
The notes' remark: so few values limit the network's capacity, which also resists overfitting.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn
from torch.nn.utils import parametrize

from dlcore.compression._validate import check_choice, check_float, check_int
from dlcore.compression.iterative import MAX_STEPS, ProgressCallback, fine_tune
from dlcore.compression.measure import accuracy
from dlcore.compression.packing import PackedLayer, replace_layers
from dlcore.compression.pruning import copy_pruned, prunable_layers
from dlcore.data import DataSplit

__all__ = ["Scaling", "SCALINGS", "BinaryConfig", "BinaryResult", "binarize_weight", "BinarizeSTE", "binarize"]

Scaling = Literal["mean_abs", "none"]
SCALINGS: tuple[str, ...] = ("mean_abs", "none")


@dataclass
class BinaryConfig:
    """Binarization settings.

    Args:
        scaling: ``"mean_abs"`` (default, α = mean|W| per layer) or ``"none"`` (α = 1, the original
            BinaryConnect; only trains with BatchNorm after every layer).
        fine_tune_steps: STE fine-tuning steps (default 300; 0 = binarize the trained weights only).
        lr: Adam learning rate (default 1e-3).
        keep_last_float: leave the output layer in fp32 (default False: every layer binary).
        seed: fine-tuning batches (default 0).
    """

    scaling: Scaling = "mean_abs"
    fine_tune_steps: int = 300
    lr: float = 1e-3
    keep_last_float: bool = False
    seed: int = 0

    def validate(self) -> None:
        check_choice("scaling", self.scaling, SCALINGS)
        check_int("fine_tune_steps", self.fine_tune_steps, 0, MAX_STEPS)
        check_float("lr", self.lr, 0.0, 1.0, lo_open=True)
        if not isinstance(self.keep_last_float, bool):
            raise ValueError(f"keep_last_float {self.keep_last_float!r} must be True or False")


def binarize_weight(w: torch.Tensor, scaling: Scaling = "mean_abs") -> torch.Tensor:
    """``α · sign(W)`` with ``sign(0) = +1`` and ``α = mean|W|`` (or 1)."""
    alpha = w.abs().mean() if scaling == "mean_abs" else torch.ones((), dtype=w.dtype)
    return torch.where(w >= 0, alpha, -alpha)


class BinarizeSTE(nn.Module):
    """Parametrization ``W ↦ α·sign(W)`` whose gradient passes straight through to ``W``."""

    def __init__(self, scaling: Scaling = "mean_abs") -> None:
        super().__init__()
        self.scaling = scaling

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        return w + (binarize_weight(w, self.scaling) - w).detach()  # value W_b, gradient of W


@dataclass
class BinaryResult:
    """The packed 1-bit model, accuracy of the binarized weights before and after fine-tuning,
    the names of the binarized layers and the α of each."""

    model: nn.Module
    acc_binarized: float
    acc_finetuned: float
    layers: list[str]
    alphas: list[float]
    status: str = "finished"


def binarize(model: nn.Module, split: DataSplit, config: BinaryConfig | None = None,
             callback: ProgressCallback | None = None, stop_event: threading.Event | None = None,
             eval_examples: int = 10_000) -> BinaryResult:
    """Binarize a copy of ``model``, fine-tune it with the STE, and pack it to 1 bit per weight.

    Args:
        model: trained float model (not modified).
        split: training batches for the fine-tune, test images for the accuracies.
        config: :class:`BinaryConfig`.
        callback, stop_event: progress and stop of the fine-tune.
    """
    cfg = config or BinaryConfig()
    cfg.validate()
    work = copy_pruned(model).requires_grad_(True)
    names = [n for n, _ in prunable_layers(work)]
    if cfg.keep_last_float:
        names = names[:-1]
    mods = dict(prunable_layers(work))
    with torch.no_grad():  # real weights live in [−1, 1] (BinaryConnect)
        for n in names:
            mods[n].weight.clamp_(-1, 1)
    for n in names:
        parametrize.register_parametrization(mods[n], "weight", BinarizeSTE(cfg.scaling))  # 1. binary forward
    xt, yt = split.x_test[:eval_examples], split.y_test[:eval_examples]
    acc0 = accuracy(work, xt, yt)

    def clip(trainer, x, y):  # 3. clip the real weights after the previous update
        with torch.no_grad():
            for n in names:
                mods[n].parametrizations.weight.original.clamp_(-1, 1)
        return x, y

    status = "finished"
    if cfg.fine_tune_steps:
        status = fine_tune(work, split, cfg.fine_tune_steps, cfg.lr, seed=cfg.seed, callback=callback,  # 2. STE
                           stop_event=stop_event, extra={"run": "binary"}, batch_hook=clip)
    alphas = []
    for n in names:
        parametrize.remove_parametrizations(mods[n], "weight", leave_parametrized=True)  # W := α·sign(W)
        alphas.append(float(mods[n].weight.detach().abs().max()))

    def pack(name: str, layer: nn.Module) -> nn.Module | None:
        if name not in names:
            return None
        w = layer.weight.detach()
        a = float(w.abs().max())
        return PackedLayer(layer, (w > 0).to(torch.int64), 1, "codebook", torch.tensor([-a, a]))

    replace_layers(work, pack)
    work.eval().requires_grad_(False)
    return BinaryResult(work, acc0, accuracy(work, xt, yt), names, alphas, status)

