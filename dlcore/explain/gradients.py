"""Gradient maps: vanilla gradient, gradient × input, guided backprop (thin Captum wrappers).

The notes' saliency map (seed 000 §9.4.1, "梯度"): how much the class score ``S_c`` moves
when one pixel moves,

    M_c(x) = |∂S_c / ∂x|                        (Simonyan et al. 2014, https://arxiv.org/abs/1312.6034)

Gradient × input multiplies it by the pixel, ``x ⊙ ∂S_c/∂x`` (Shrikumar et al. 2016,
https://arxiv.org/abs/1605.01713): a first-order estimate of each pixel's contribution
``S_c(x) - S_c(0)``. Guided backprop (Springenberg et al. 2015,
https://arxiv.org/abs/1412.6806) lets only positive gradients flow back through each ReLU;
its maps look crisp, but Adebayo et al. 2018 (https://arxiv.org/abs/1810.03292) found they
barely change when the model's weights are randomised (see :mod:`dlcore.explain.sanity`).

``S_c`` is the logit of class ``c`` (before the softmax), as in every paper above.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import torch
from torch import nn

from dlcore.explain.base import captum_attr, check_config, hook_safe

# Captum warns on every GuidedBackprop call that it hooks the ReLUs (it removes them after);
# we run it on a private copy, so the note is noise for a learner's console.
warnings.filterwarnings("ignore", message="Setting backward hooks on ReLU activations", category=UserWarning)

__all__ = ["GradientConfig", "gradient", "gradient_x_input", "guided_backprop", "guided_backprop_unavailable",
           "batch_gradients"]


@dataclass(frozen=True)
class GradientConfig:
    """The plain gradient methods have no options (Simonyan et al. 2014)."""

    def __post_init__(self) -> None:
        check_config(self)


def _req(x: torch.Tensor) -> torch.Tensor:
    return x.detach().clone().requires_grad_(True)


def gradient(model: nn.Module, x: torch.Tensor, target: int | torch.Tensor,
             config: GradientConfig | None = None) -> torch.Tensor:
    """Signed input gradient ``∂S_c/∂x`` (Captum ``Saliency(abs=False)``); its map is ``|·|``.

    Shape: ``x (N, C, H, W)`` -> ``(N, C, H, W)``.
    """
    return captum_attr().Saliency(model).attribute(_req(x), target=target, abs=False).detach()


def gradient_x_input(model: nn.Module, x: torch.Tensor, target: int | torch.Tensor,
                     config: GradientConfig | None = None) -> torch.Tensor:
    """``x ⊙ ∂S_c/∂x`` (Captum ``InputXGradient``). Shape: ``(N, C, H, W)`` -> same."""
    return captum_attr().InputXGradient(model).attribute(_req(x), target=target).detach()


def guided_backprop_unavailable(model: nn.Module) -> str | None:
    """Why guided backprop cannot run on ``model`` (None if it can).

    Captum hooks ``nn.ReLU`` modules; a model that calls ``torch.relu`` as a function would
    silently get the plain gradient instead.
    """
    if not any(isinstance(m, nn.ReLU) for m in model.modules()):
        return (f"guided backprop needs nn.ReLU modules to hook; {type(model).__name__} applies ReLU as a "
                "function, so it would silently give the plain gradient")
    return None


def guided_backprop(model: nn.Module, x: torch.Tensor, target: int | torch.Tensor,
                    config: GradientConfig | None = None) -> torch.Tensor:
    """Guided backprop (Captum ``GuidedBackprop``) on a private copy (it hooks every ReLU).

    Raises:
        ValueError: the model has no ``nn.ReLU`` module (see :func:`guided_backprop_unavailable`).
    """
    why = guided_backprop_unavailable(model)
    if why:
        raise ValueError(why)
    m = hook_safe(model)
    return captum_attr().GuidedBackprop(m).attribute(_req(x), target=target).detach()


def batch_gradients(model: nn.Module, xs: torch.Tensor, target: int | torch.Tensor
                    ) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-example gradients of the target logit and the logits, in one forward/backward.

    The examples of a batch are independent in evaluation mode, so the gradient of
    ``sum_i S_c(x_i)`` with respect to ``x_i`` is each example's own ``∂S_c/∂x_i`` (what
    Captum's ``Saliency`` computes); the logits come for free from the same forward pass.

    Shape: ``xs (B, C, H, W)`` -> ``(grads (B, C, H, W), logits (B, n_classes))``.
    """
    xs = _req(xs)
    with torch.enable_grad():
        logits = model(xs)  # (B, K)
        idx = target if isinstance(target, torch.Tensor) else torch.full((len(xs),), int(target))
        score = logits.gather(1, idx.view(-1, 1).to(logits.device)).sum()
        (g,) = torch.autograd.grad(score, xs)
    return g.detach(), logits.detach()
