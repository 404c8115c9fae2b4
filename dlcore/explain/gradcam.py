"""Grad-CAM on the last convolutional layer (a thin wrapper of Captum's ``LayerGradCam``).

Selvaraju et al. 2017 (https://arxiv.org/abs/1610.02391): weight each feature map ``A^k``
of a late convolutional layer by the average gradient of the class score over it, sum, and
keep the positive part::

    α_k = 1/Z Σ_ij ∂S_c/∂A^k_ij            L = ReLU(Σ_k α_k A^k)

then upsample ``L`` bilinearly to the image size. The map is coarse (14 × 14 on the zoo CNN)
but class-discriminative. ``layer="auto"`` takes the output of the last ``nn.Conv2d`` after
its activation when the activation follows it in the same block (the paper's ``A^k`` are
rectified feature maps), else the convolution's output. Runs on a private copy: Captum hooks
the layer.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from dlcore.explain.base import captum_attr, check_config, hook_safe, option

__all__ = ["GradCamConfig", "conv_layers", "gradcam_layer", "gradcam_unavailable", "gradcam"]

_ACTIVATIONS = (nn.ReLU, nn.LeakyReLU, nn.ELU, nn.GELU, nn.SiLU, nn.Tanh, nn.Sigmoid)


@dataclass(frozen=True)
class GradCamConfig:
    """Options of Grad-CAM (Selvaraju et al. 2017, https://arxiv.org/abs/1610.02391).

    Args:
        layer: module name (from :func:`conv_layers`) or ``"auto"`` (default: the last conv block).
        relu: keep only the positive part of the weighted sum (default True, the paper's).
    """

    layer: str = option("auto", "layer (name or auto)")
    relu: bool = option(True, "ReLU on the map")

    def __post_init__(self) -> None:
        check_config(self)


def conv_layers(model: nn.Module) -> list[str]:
    """Names of every ``nn.Conv2d`` and of an activation right after one (candidate layers)."""
    names: list[str] = []
    mods = list(model.named_modules())
    for i, (name, m) in enumerate(mods):
        if isinstance(m, nn.Conv2d):
            names.append(name)
            follow = _activation_after(mods, i)
            if follow:
                names.append(follow)
    return names


def _activation_after(mods: list[tuple[str, nn.Module]], i: int) -> str | None:
    """The first activation after conv ``i`` in the same parent block (skipping BatchNorm)."""
    name = mods[i][0]
    parent = name.rsplit(".", 1)[0] if "." in name else ""
    for nxt, m in mods[i + 1:]:
        if (nxt.rsplit(".", 1)[0] if "." in nxt else "") != parent:
            return None
        if isinstance(m, _ACTIVATIONS):
            return nxt
        if not isinstance(m, (nn.BatchNorm2d, nn.GroupNorm, nn.Identity)):
            return None
    return None


def gradcam_unavailable(model: nn.Module) -> str | None:
    """Why Grad-CAM cannot run (no convolution), or None."""
    if not any(isinstance(m, nn.Conv2d) for m in model.modules()):
        return f"Grad-CAM needs a convolutional layer; {type(model).__name__} has none"
    return None


def gradcam_layer(model: nn.Module, layer: str = "auto") -> str:
    """Resolve ``"auto"`` to the last conv block's (activation) output; check a given name.

    Raises:
        ValueError: no convolution, or ``layer`` is not one of :func:`conv_layers`.
    """
    why = gradcam_unavailable(model)
    if why:
        raise ValueError(why)
    names = conv_layers(model)
    if layer == "auto":
        mods = list(model.named_modules())
        last = max(i for i, (_, m) in enumerate(mods) if isinstance(m, nn.Conv2d))
        return _activation_after(mods, last) or mods[last][0]
    if layer not in names:
        raise ValueError(f"layer {layer!r} is not one of {names}")
    return layer


def gradcam(model: nn.Module, x: torch.Tensor, target: int | torch.Tensor,
            config: GradCamConfig | None = None) -> tuple[torch.Tensor, torch.Tensor, str]:
    """Grad-CAM map upsampled to the input size.

    Returns:
        ``(map (N, 1, H, W), coarse map (N, 1, h, w), layer name)``.
    """
    cfg = config or GradCamConfig()
    name = gradcam_layer(model, cfg.layer)
    m = hook_safe(model)
    ca = captum_attr()
    cam = ca.LayerGradCam(m, m.get_submodule(name)).attribute(
        x.detach().clone().requires_grad_(True), target=target, relu_attributions=cfg.relu).detach()  # (N, 1, h, w)
    up = ca.LayerAttribution.interpolate(cam, tuple(x.shape[-2:]), interpolate_mode="bilinear")  # (N, 1, H, W)
    return up.detach(), cam, name
