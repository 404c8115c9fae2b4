"""A faster twin of a model for the batched, hook-free explanations: Conv + BatchNorm fused.

In evaluation mode a ``BatchNorm2d`` after a convolution is a fixed per-channel affine map,
``y = γ (z - μ) / √(σ² + ε) + β``, so it folds into the convolution's weights and bias::

    W' = W · γ / √(σ² + ε)          b' = (b - μ) · γ / √(σ² + ε) + β

(what ``torch.nn.utils.fusion.fuse_conv_bn_eval`` computes). The twin gives the same outputs
and input gradients up to float rounding (~1e-7 relative) and skips two passes over every
activation, forward and backward: SmoothGrad's 50 noisy gradients, occlusion's 169 windows,
LIME's 1000 samples and the deletion curves run ~10-15 % faster on the zoo CNN.

Only a ``Conv2d`` directly followed by a ``BatchNorm2d`` inside an ``nn.Sequential`` is fused
(there the order of the children is the order of the forward pass). The twin is a private
copy, cached per model and rebuilt when any of the model's parameters or buffers changes
(their version counters move on every in-place update); the model itself is never touched.
It is only used where nothing hooks the model (Grad-CAM and guided backprop hook their own
copies of the original).
"""

from __future__ import annotations

import copy
import itertools
import threading
import weakref

from torch import nn

__all__ = ["fused_twin", "fuse_conv_bn"]

_CACHE: "weakref.WeakKeyDictionary[nn.Module, tuple[tuple, nn.Module | None]]" = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def fuse_conv_bn(model: nn.Module) -> int:
    """Fold every ``Conv2d -> BatchNorm2d`` pair of every ``nn.Sequential`` in place (eval only).

    Returns:
        the number of pairs fused (the BatchNorms become ``nn.Identity``).
    """
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    n = 0
    for seq in [m for m in model.modules() if isinstance(m, nn.Sequential)]:
        keys = list(seq._modules)
        for a, b in zip(keys[:-1], keys[1:]):
            conv, bn = seq._modules[a], seq._modules[b]
            if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d) and bn.track_running_stats:
                seq._modules[a] = fuse_conv_bn_eval(conv, bn)
                seq._modules[b] = nn.Identity()
                n += 1
    return n


def _signature(model: nn.Module) -> tuple:
    return tuple((id(t), t._version) for t in itertools.chain(model.parameters(), model.buffers()))


def fused_twin(model: nn.Module) -> nn.Module:
    """The model with its Conv + BatchNorm pairs fused (a cached private copy), or the model
    itself when there is nothing to fuse or it is in training mode."""
    if model.training or not any(isinstance(m, nn.BatchNorm2d) for m in model.modules()):
        return model
    sig = _signature(model)
    with _LOCK:
        hit = _CACHE.get(model)
    if hit is not None and hit[0] == sig:
        return hit[1] if hit[1] is not None else model
    twin: nn.Module | None = copy.deepcopy(model)
    if fuse_conv_bn(twin) == 0:  # BatchNorms elsewhere: nothing to gain
        twin = None
    else:
        twin.requires_grad_(False).eval()
    with _LOCK:
        _CACHE[model] = (sig, twin)
    return twin if twin is not None else model
