"""Unstructured pruning: score every weight, zero the least important, keep the mask (notes §9.2.1).

Two importance criteria, the notes' "parameter close to 0" and "gradient" ideas:

* ``"magnitude"``: ``s_ij = |w_ij|`` (Han et al. 2015, https://arxiv.org/abs/1506.02626);
* ``"taylor"``: the first-order Taylor estimate of how much the loss changes when ``w_ij`` is
  set to 0, ``s_ij = |w_ij · mean_b ∂L_b/∂w_ij|`` (Molchanov et al. 2017,
  https://arxiv.org/abs/1611.06440, applied to weights as in Molchanov et al. 2019).

and two scopes: ``"layer"`` prunes the same fraction of every layer; ``"global"`` ranks all
weights of all layers together (a layer with many redundant weights loses more).

Masks are applied with :mod:`torch.nn.utils.prune` (``weight = weight_orig ⊙ weight_mask``,
recomputed by a forward pre-hook), so a fine-tune through the Trainer keeps pruned weights at
exactly zero: their gradient is masked too. Pruning again updates the same mask (a weight
once pruned is never revived), so the iterative loop never stacks hooks.

Two chores of ``torch.nn.utils.prune`` are handled here: ``copy.deepcopy`` of a pruned module
raises while ``weight`` is a non-leaf tensor (:func:`copy_pruned` refreshes it first), and the
state dict doubles (``weight_orig`` + ``weight_mask``): :func:`finalize` bakes the zeros in.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Iterable, Literal

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import prune

from dlcore.compression._validate import check_choice, check_fraction, check_int

__all__ = ["Criterion", "Scope", "CRITERIA", "SCOPES", "PruneConfig", "LayerSparsity", "PruneReport",
           "prunable_layers", "importance_scores", "prune_unstructured", "sparsity_report", "is_pruned",
           "copy_pruned", "finalize", "pruned_state_dict", "MAX_TAYLOR_BATCHES"]

Criterion = Literal["magnitude", "taylor"]
Scope = Literal["layer", "global"]
CRITERIA: tuple[str, ...] = ("magnitude", "taylor")
SCOPES: tuple[str, ...] = ("layer", "global")
MAX_TAYLOR_BATCHES = 64


@dataclass
class PruneConfig:
    """How much and what to prune.

    Args:
        amount: fraction of the weights of the pruned layers that end at zero, in [0, 1)
            (already-pruned weights count). Default 0.9 (Han et al. 2015 keep ≈ 8 % of
            LeNet-300-100).
        criterion: ``"magnitude"`` (default, Han et al. 2015) or ``"taylor"`` (Molchanov 2017).
        scope: ``"global"`` (default) or ``"layer"``.
        taylor_batches: batches of 128 training examples averaged for the Taylor gradient
            (default 8).
    """

    amount: float = 0.9
    criterion: Criterion = "magnitude"
    scope: Scope = "global"
    taylor_batches: int = 8

    def validate(self) -> None:
        check_fraction("amount", self.amount)
        check_choice("criterion", self.criterion, CRITERIA)
        check_choice("scope", self.scope, SCOPES)
        check_int("taylor_batches", self.taylor_batches, 1, MAX_TAYLOR_BATCHES)


@dataclass(frozen=True)
class LayerSparsity:
    """Zeros of one layer's weight."""

    name: str
    shape: tuple[int, ...]
    total: int
    zeros: int

    @property
    def sparsity(self) -> float:
        return self.zeros / max(self.total, 1)


@dataclass(frozen=True)
class PruneReport:
    """Per-layer sparsity after pruning, the overall weight sparsity and the config used."""

    layers: list[LayerSparsity]
    sparsity: float
    config: PruneConfig


def prunable_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """Every ``Linear`` / ``Conv2d`` of ``model`` in forward-definition order."""
    return [(n, m) for n, m in model.named_modules() if isinstance(m, (nn.Linear, nn.Conv2d))]


def _weight(mod: nn.Module) -> torch.Tensor:
    """The effective weight (mask applied) without relying on a forward pass having run."""
    if prune.is_pruned(mod) and hasattr(mod, "weight_mask"):
        return (mod.weight_orig * mod.weight_mask).detach()
    return mod.weight.detach()


def _refresh(mod: nn.Module) -> None:
    """Recompute ``mod.weight`` from ``weight_orig ⊙ weight_mask`` as a leaf (no graph)."""
    with torch.no_grad():
        mod.weight = mod.weight_orig * mod.weight_mask


def importance_scores(model: nn.Module, criterion: Criterion = "magnitude",
                      data: tuple[torch.Tensor, torch.Tensor] | None = None, batches: int = 8,
                      batch_size: int = 128) -> dict[str, torch.Tensor]:
    """Importance of every weight, same shape as the weight; pruned weights score ``-inf``.

    Args:
        criterion: ``"magnitude"`` → ``|w|``; ``"taylor"`` → ``|w ⊙ mean_b ∂L_b/∂w|`` over
            ``batches`` batches of ``data`` (cross-entropy loss).
        data: ``(x, y)`` training tensors (needed for ``"taylor"``).
    """
    check_choice("criterion", criterion, CRITERIA)
    layers = prunable_layers(model)
    grads: dict[str, torch.Tensor] = {}
    if criterion == "taylor":
        if data is None:
            raise ValueError("criterion 'taylor' needs data=(x, y) to compute gradients")
        x, y = data
        was = model.training
        model.eval()  # gradients of the deployed function (no dropout noise)
        params = [m.weight_orig if prune.is_pruned(m) and hasattr(m, "weight_orig") else m.weight
                  for _, m in layers]
        req = [p.requires_grad for p in params]
        for p in params:
            p.requires_grad_(True)
        acc = [torch.zeros_like(p) for p in params]
        n = min(batches, max(1, len(x) // batch_size))
        for b in range(n):
            xb, yb = x[b * batch_size:(b + 1) * batch_size], y[b * batch_size:(b + 1) * batch_size]
            loss = F.cross_entropy(model(xb), yb)  # 1. loss of one batch
            gs = torch.autograd.grad(loss, params)  # 2. ∂L/∂w (masked through weight_orig)
            for a, g in zip(acc, gs):
                a += g / n  # 3. running mean over batches
        for p, r in zip(params, req):
            p.requires_grad_(r)
        model.train(was)
        grads = {name: a for (name, _), a in zip(layers, acc)}
    scores: dict[str, torch.Tensor] = {}
    for name, mod in layers:
        w = _weight(mod)
        s = w.abs() if criterion == "magnitude" else (w * grads[name]).abs()
        if prune.is_pruned(mod) and hasattr(mod, "weight_mask"):
            s = torch.where(mod.weight_mask.bool(), s, torch.full_like(s, float("-inf")))
        scores[name] = s
    return scores


def _keep_mask(scores: torch.Tensor, n_prune: int) -> torch.Tensor:
    """Mask keeping all but the ``n_prune`` lowest scores (exact count); already-pruned weights
    (score ``-inf``) stay pruned even when fewer are asked for."""
    n_prune = max(n_prune, int(torch.isneginf(scores).sum()))
    mask = torch.ones(scores.numel())
    if n_prune > 0:
        idx = torch.topk(scores.flatten(), n_prune, largest=False, sorted=False).indices
        mask[idx] = 0.0
    return mask.reshape(scores.shape)


def _apply_mask(mod: nn.Module, mask: torch.Tensor) -> None:
    if prune.is_pruned(mod) and hasattr(mod, "weight_mask"):
        mod.weight_mask.copy_(mask)  # same hook, new mask
    else:
        prune.custom_from_mask(mod, "weight", mask)
    _refresh(mod)


def prune_unstructured(model: nn.Module, config: PruneConfig | None = None,
                       data: tuple[torch.Tensor, torch.Tensor] | None = None,
                       layers: Iterable[str] | None = None) -> PruneReport:
    """Zero the least important weights of ``model`` in place (masks via ``torch.nn.utils.prune``).

    ``round(amount · n)`` weights end at zero: per layer (``scope="layer"``) or across the
    pruned layers (``scope="global"``); weights pruned before stay pruned (an amount below the
    current sparsity changes nothing).

    Args:
        model: modified in place; pass a copy (``zoo.get(name, fresh=True)``).
        config: :class:`PruneConfig` (default: global magnitude, 90 %).
        data: ``(x, y)`` for the Taylor criterion.
        layers: names of the layers to prune (default every Linear/Conv2d).

    Returns:
        :class:`PruneReport` with the per-layer sparsity.
    """
    cfg = config or PruneConfig()
    cfg.validate()
    chosen = prunable_layers(model)
    if layers is not None:
        names = list(layers)
        known = [n for n, _ in chosen]
        for n in names:
            if n not in known:
                raise ValueError(f"layer {n!r} is not a prunable layer of the model: {known}")
        chosen = [(n, m) for n, m in chosen if n in names]
    scores = importance_scores(model, cfg.criterion, data, cfg.taylor_batches)
    if cfg.scope == "layer":
        for name, mod in chosen:
            s = scores[name]
            _apply_mask(mod, _keep_mask(s, round(cfg.amount * s.numel())))
    else:
        flat = torch.cat([scores[n].flatten() for n, _ in chosen])  # (Σ n_l,)
        keep = _keep_mask(flat, round(cfg.amount * flat.numel()))
        start = 0
        for name, mod in chosen:
            k = scores[name].numel()
            _apply_mask(mod, keep[start:start + k].reshape(scores[name].shape))
            start += k
    rep = sparsity_report(model, [n for n, _ in chosen])
    return PruneReport(rep, sum(r.zeros for r in rep) / max(sum(r.total for r in rep), 1), cfg)


def sparsity_report(model: nn.Module, names: Iterable[str] | None = None) -> list[LayerSparsity]:
    """Zeros per layer weight (pruned by a mask or baked in); all layers when ``names`` is None."""
    wanted = None if names is None else set(names)
    out = []
    for name, mod in prunable_layers(model):
        if wanted is None or name in wanted:
            w = _weight(mod)
            out.append(LayerSparsity(name, tuple(w.shape), w.numel(), int((w == 0).sum())))
    return out


def is_pruned(model: nn.Module) -> bool:
    """True if any module carries a ``torch.nn.utils.prune`` mask."""
    return any(prune.is_pruned(m) for m in model.modules() if m is not model) or prune.is_pruned(model)


def copy_pruned(model: nn.Module) -> nn.Module:
    """``copy.deepcopy`` that works on pruned models (masks and hooks kept in the copy).

    ``deepcopy`` raises "Only Tensors created explicitly by the user (graph leaves) support the
    deepcopy protocol" after a training-mode forward, because ``weight`` is then the non-leaf
    product ``weight_orig ⊙ weight_mask``; recomputing it without a graph first fixes that.
    """
    for _, mod in prunable_layers(model):
        if prune.is_pruned(mod) and hasattr(mod, "weight_mask"):
            _refresh(mod)
    return copy.deepcopy(model)


def finalize(model: nn.Module) -> nn.Module:
    """Make pruning permanent in place (``prune.remove``): plain ``weight`` with zeros, no masks,
    no hooks, a normal-size state dict. Returns ``model``."""
    for _, mod in prunable_layers(model):
        if prune.is_pruned(mod) and hasattr(mod, "weight_mask"):
            prune.remove(mod, "weight")
    return model


def pruned_state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    """The state dict a finalized copy would have (``weight`` with zeros; no ``_orig``/``_mask``),
    without changing ``model``: load it into an unpruned model of the same architecture."""
    state, full = {}, model.state_dict()
    for key, value in full.items():
        if key.endswith("_mask"):
            continue
        if key.endswith("_orig"):
            base = key[: -len("_orig")]
            value = value * full[base + "_mask"]
            key = base
        state[key] = value.detach().clone()
    return state
