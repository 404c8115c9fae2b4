"""Training metrics: per-layer gradient norms, accuracy, confusion matrix, decision grids.

Per-layer gradient norm (seed 000 §2.2.1, 梯度消失和梯度爆炸): for layer ℓ with weight
``W_ℓ``, ``‖∂L/∂W_ℓ‖₂ = sqrt(Σ_ij (∂L/∂W_ℓ,ij)²)``. When the norms shrink by orders of
magnitude from the output layer back to the input layer the early layers barely learn
(vanishing gradients: sigmoid' ≤ 1/4 multiplies in at every layer); when they grow, they
explode.
"""

from __future__ import annotations

import torch
from torch import nn

from dlcore.train.names import TaskName

__all__ = ["TaskName", "layer_names", "grad_norms", "accuracy", "predict_labels", "confusion_matrix",
           "decision_grid", "evaluate_accuracy"]


def _weight_layers(model: nn.Module) -> list[tuple[str, nn.Parameter]]:
    """The (name, weight) of every layer with a ≥2-D weight (Linear, Conv, …), input first.

    A layer pruned with ``torch.nn.utils.prune`` keeps its trainable tensor as ``weight_orig``
    (``weight`` is then a plain tensor, mask applied): that parameter is the one reported.
    """
    out = []
    for mod_name, mod in model.named_modules():
        w = getattr(mod, "weight_orig", None)
        if not isinstance(w, nn.Parameter):
            w = getattr(mod, "weight", None)
        if isinstance(w, nn.Parameter) and w.ndim >= 2 and w.requires_grad:
            out.append((mod_name or type(mod).__name__, w))
    return out


def layer_names(model: nn.Module) -> list[str]:
    """Readable names of the layers :func:`grad_norms` reports, e.g. ``"1: Linear 10→128"``."""
    names = []
    mods = dict(model.named_modules())
    for i, (name, w) in enumerate(_weight_layers(model), 1):
        mod = mods.get(name, model)
        kind = type(mod).__name__
        if isinstance(mod, nn.Linear):
            names.append(f"{i}: {kind} {mod.in_features}→{mod.out_features}")
        elif isinstance(mod, nn.Conv2d):
            names.append(f"{i}: {kind} {mod.in_channels}→{mod.out_channels}")
        else:
            names.append(f"{i}: {kind} {tuple(w.shape)}")
    return names


@torch.no_grad()
def grad_norms(model: nn.Module) -> torch.Tensor:
    """L2 norm of the gradient of every weight layer's weight, input layer first.

    Call after ``loss.backward()``. A layer without a gradient (unused) reports 0.

    Shape: ``(n_layers,)`` on the CPU, float32.
    """
    layers = _weight_layers(model)
    if not layers:
        return torch.zeros(0)
    norms = [w.grad.detach().norm(2) if w.grad is not None else torch.zeros((), device=w.device)
             for _, w in layers]
    return torch.stack(norms).float().cpu()  # (n_layers,)


def predict_labels(output: torch.Tensor, task: TaskName) -> torch.Tensor:
    """Model output -> predicted class: argmax of logits (multiclass) or logit > 0 (binary).

    Shape: output ``(N, C)`` or ``(N, 1)`` -> ``(N,)`` long.
    """
    if task == "multiclass":
        return output.argmax(dim=1)
    if task == "binary":
        return (output.reshape(-1) > 0).long()  # sigmoid(z) > 0.5  ⇔  z > 0
    raise ValueError(f"task {task!r} has no class labels")


def accuracy(output: torch.Tensor, target: torch.Tensor, task: TaskName) -> float:
    """Fraction of correct predictions (NaN for regression)."""
    if task == "regression":
        return float("nan")
    pred = predict_labels(output, task)
    return (pred == target.reshape(-1).long()).sum().item() / max(1, pred.numel())


def confusion_matrix(pred: torch.Tensor, target: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Counts ``C[i, j]`` = number of samples of true class i predicted as j.

    Shape: pred, target ``(N,)`` -> ``(num_classes, num_classes)`` long.
    """
    idx = target.reshape(-1).long() * num_classes + pred.reshape(-1).long()  # (N,)
    return torch.bincount(idx.cpu(), minlength=num_classes * num_classes).reshape(num_classes, num_classes)


@torch.no_grad()
def decision_grid(model: nn.Module, x: torch.Tensor, task: TaskName, steps: int = 120,
                  margin: float = 0.5) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Class probabilities of a 2-D classifier on a grid covering the data (decision boundaries).

    Args:
        model: a classifier taking ``(N, 2)`` inputs (logits out).
        x: the data, shape ``(N, 2)`` (sets the grid's extent).
        task: ``"binary"`` (one logit z: P = [1 − σ(z), σ(z)]) or ``"multiclass"`` (softmax).
        steps: grid points per axis. Default 120.
        margin: padding around the data's bounding box. Default 0.5.

    Returns:
        ``(xs, ys, probs)`` with xs ``(steps,)``, ys ``(steps,)`` and probs
        ``(steps, steps, C)`` (row = y index), C = 2 for binary.
    """
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"decision boundaries need 2-D inputs, got shape {tuple(x.shape)}")
    if task not in ("binary", "multiclass"):
        raise ValueError(f"decision boundaries need a classifier, not task {task!r}")
    device = next(model.parameters()).device
    lo, hi = x.min(0).values - margin, x.max(0).values + margin  # (2,), (2,)
    xs = torch.linspace(lo[0].item(), hi[0].item(), steps)
    ys = torch.linspace(lo[1].item(), hi[1].item(), steps)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")  # (steps, steps) each
    pts = torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1).to(device)  # (steps², 2)
    was_training = model.training
    model.eval()
    out = model(pts).float().cpu()  # (steps², C) or (steps², 1)
    model.train(was_training)
    if task == "binary":
        p1 = torch.sigmoid(out.reshape(-1))  # (steps²,)
        probs = torch.stack([1 - p1, p1], dim=1)  # (steps², 2)
    else:
        probs = torch.softmax(out, dim=1)  # (steps², C)
    return xs, ys, probs.reshape(steps, steps, -1)


@torch.no_grad()
def evaluate_accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 2048) -> float:
    """Top-1 accuracy ``mean(argmax f(x) == y)`` in eval mode (the model's mode is restored)."""
    was = model.training
    model.eval()
    device = next(model.parameters()).device
    correct = 0
    for i in range(0, len(x), batch_size):
        out = model(x[i:i + batch_size].to(device))  # (B, C)
        correct += int((out.argmax(1).cpu() == y[i:i + batch_size]).sum())
    model.train(was)
    return correct / len(x)
