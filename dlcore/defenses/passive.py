"""Passive defences (seed 000 §9.1.2): a shield in front of an unchanged model.

"Training stays the same, but before the model is used a shield is added: a light filter that
blurs or smooths the attack signal, conversion to a lossy format such as JPEG, or regenerating
the input with a GAN. The drawback: the model's accuracy drops." Each shield here is an
``nn.Module`` transform ``(N, C, H, W) -> (N, C, H, W)`` in [0, 1], wrapped round the model with
:class:`Defended`:

==================  =====================================================  ===============  ======
name                transform                                              differentiable   random
==================  =====================================================  ===============  ======
``gaussian_blur``   convolution with a Gaussian (σ), torchvision           yes              no
``median_blur``     median of each k×k window (Xu et al. 2018)             almost (sparse)  no
``jpeg``            encode/decode at quality q (torchvision.io)            no               no
``bit_depth``       ``round(x·(2^b − 1)) / (2^b − 1)`` (Xu et al. 2018)    no (zero grad)   no
``random_resize``   resize to r×r, r random, pad randomly (Xie et al. 2018) yes             yes
``random_noise``    ``clip(x + N(0, σ²))``                                  yes              yes
==================  =====================================================  ===============  ======

A non-differentiable shield *hides* the gradient rather than removing adversarial examples:
plain PGD gets a zero (or useless) gradient and reports a high robust accuracy, and BPDA
(:mod:`dlcore.defenses.adaptive`) breaks it (Athalye, Carlini & Wagner 2018,
https://arxiv.org/abs/1802.00420). :func:`defense_cost` measures the clean-accuracy price.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from dlcore.attacks.base import check_inputs, check_number, frozen, model_device
from dlcore.attacks.names import DEFENSE_DISPLAY

__all__ = ["GaussianBlur", "MedianBlur", "JPEG", "BitDepth", "RandomResizePad", "RandomNoise", "Defended",
           "DefenseSpec", "DEFENSES", "make_defense", "defend", "DefenseCost", "defense_cost", "seed_shield"]


class GaussianBlur(nn.Module):
    """Gaussian blur (torchvision's ``gaussian_blur``, reflect padding). Differentiable: a convolution.

    Args: sigma: standard deviation in pixels (default 1.0, a light blur on 28×28; no canonical
    value in the literature); kernel_size: odd window (default 5 ≈ ±2σ).
    """

    differentiable, random = True, False

    def __init__(self, sigma: float = 1.0, kernel_size: int = 5) -> None:
        super().__init__()
        self.sigma = check_number("blur σ", sigma, 0.0, 10.0, open_lo=True)
        self.kernel_size = int(check_number("kernel size", kernel_size, 1, 15, integer=True))
        if self.kernel_size % 2 == 0:
            raise ValueError(f"kernel size {kernel_size} must be odd")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        from torchvision.transforms.v2 import functional as TF

        k = self.kernel_size
        return TF.gaussian_blur(x, [k, k], [self.sigma, self.sigma])


class MedianBlur(nn.Module):
    """Median of every k×k window, as ``scipy.ndimage.median_filter(size=k, mode="reflect")``
    (for an even k the window is ``[i − k/2, i + k/2 − 1]`` and the upper median is taken).

    Xu, Evans & Qi 2018 (feature squeezing, https://arxiv.org/abs/1704.01155) use 2×2 on MNIST
    (default). The gradient flows only to the selected pixel of each window (sparse).
    """

    differentiable, random = True, False

    def __init__(self, kernel_size: int = 2) -> None:
        super().__init__()
        self.kernel_size = int(check_number("kernel size", kernel_size, 2, 7, integer=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k = self.kernel_size
        lo, hi = k // 2, k - 1 - k // 2  # padding before / after (scipy's window origin)
        # symmetric padding (scipy "reflect": d c b a | a b c d | d c b a)
        x_p = torch.cat([x[..., :lo, :].flip(-2), x, x[..., x.shape[-2] - hi:, :].flip(-2)], dim=-2)
        x_p = torch.cat([x_p[..., :lo].flip(-1), x_p, x_p[..., x_p.shape[-1] - hi:].flip(-1)], dim=-1)
        n, c, h, w = x.shape
        patches = F.unfold(x_p.reshape(n * c, 1, *x_p.shape[-2:]), k)  # (N·C, k², H·W)
        med = patches.sort(dim=1).values[:, (k * k) // 2]  # rank k²/2 (scipy's median_filter)
        return med.reshape(n, c, h, w)


class JPEG(nn.Module):
    """JPEG compression at quality q: 8-bit quantise, ``torchvision.io.encode_jpeg``, decode.

    Not differentiable (the output has no gradient path). Default q = 75 (Guo et al. 2018,
    https://arxiv.org/abs/1711.00117, broken by BPDA in Athalye et al. 2018).
    """

    differentiable, random = False, False

    def __init__(self, quality: int = 75) -> None:
        super().__init__()
        self.quality = int(check_number("JPEG quality", quality, 1, 100, integer=True))

    @torch.no_grad()
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        from torchvision.io import decode_jpeg, encode_jpeg

        u8 = (x.detach().cpu().clamp(0, 1) * 255).round().to(torch.uint8)  # (N, C, H, W)
        decoded = decode_jpeg(encode_jpeg(list(u8), quality=self.quality))  # list of (C, H, W) uint8
        return torch.stack(decoded).to(x.device, x.dtype) / 255.0


class BitDepth(nn.Module):
    """Bit-depth reduction ``round(x·(2^b − 1)) / (2^b − 1)`` (Xu et al. 2018 feature squeezing;
    1 bit on MNIST, default). Its gradient is zero almost everywhere."""

    differentiable, random = False, False

    def __init__(self, bits: int = 1) -> None:
        super().__init__()
        self.bits = int(check_number("bit depth", bits, 1, 8, integer=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        levels = 2 ** self.bits - 1
        return torch.round(x * levels) / levels


class RandomResizePad(nn.Module):
    """Random resizing and padding (Xie et al. 2018, https://arxiv.org/abs/1711.01991): each image
    is shrunk to ``r × r`` with r uniform in ``[⌈min_scale·S⌉, S]`` and placed at a random offset on
    a black ``S × S`` canvas (bilinear, one affine ``grid_sample``; a fresh draw per image and
    call). Xie et al. resize 299 -> [299, 331) and pad to 331, a ratio of 0.9 (default
    ``min_scale``). Differentiable, but random: plain PGD follows one draw's gradient."""

    differentiable, random = True, True

    def __init__(self, min_scale: float = 0.9) -> None:
        super().__init__()
        self.min_scale = check_number("smallest scale", min_scale, 0.25, 1.0)
        self.generator: torch.Generator | None = None  # None = torch's global RNG; see :func:`seed_shield`

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, s = x.shape[0], x.shape[-1]
        lo = min(math.ceil(self.min_scale * s - 1e-9), s)
        g, where = _draws(self.generator, x)
        r = torch.randint(lo, s + 1, (n,), generator=g, device=where).to(x.device, x.dtype)  # 1. sizes  (N,)
        scale = r / s  # the image spans [c - scale, c + scale] of [-1, 1]
        c = (torch.rand(n, 2, generator=g, device=where, dtype=x.dtype).to(x.device) * 2 - 1) \
            * (1 - scale).unsqueeze(1)  # 2. offsets (N, 2)
        theta = torch.zeros(n, 2, 3, device=x.device, dtype=x.dtype)  # output -> input coordinates
        theta[:, 0, 0] = theta[:, 1, 1] = 1 / scale
        theta[:, :, 2] = -c / scale.unsqueeze(1)
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)  # (N, S, S, 2)
        return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


class RandomNoise(nn.Module):
    """Additive Gaussian noise ``clip(x + σ·N(0, I), 0, 1)``, a fresh draw each call (default σ = 0.1)."""

    differentiable, random = True, True

    def __init__(self, sigma: float = 0.1) -> None:
        super().__init__()
        self.sigma = check_number("noise σ", sigma, 0.0, 1.0, open_lo=True)
        self.generator: torch.Generator | None = None  # None = torch's global RNG; see :func:`seed_shield`

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        g, where = _draws(self.generator, x)
        noise = torch.randn(x.shape, generator=g, device=where, dtype=x.dtype).to(x.device)
        return torch.clamp(x + self.sigma * noise, 0, 1)


def _draws(generator: torch.Generator | None, x: torch.Tensor) -> tuple[torch.Generator | None, torch.device]:
    """The generator a random shield draws from and the device it draws on (the generator's own)."""
    return generator, (x.device if generator is None else generator.device)


def seed_shield(transform: nn.Module, seed: int) -> nn.Module:
    """Give a random shield a generator of its own seeded with ``seed`` (a deterministic shield is
    returned as it is). Its draws then repeat run after run and do not depend on other threads,
    which share torch's global RNG."""
    if hasattr(transform, "generator"):
        transform.generator = torch.Generator().manual_seed(int(seed))
    return transform


class Defended(nn.Module):
    """``model(transform(x))``: the shield in front of the model.

    Shape: ``(N, C, H, W)`` in [0, 1] -> logits ``(N, K)``.
    """

    def __init__(self, model: nn.Module, transform: nn.Module) -> None:
        super().__init__()
        if not isinstance(model, nn.Module) or not isinstance(transform, nn.Module):
            raise ValueError("Defended needs a model and a transform that are torch.nn.Modules")
        self.model, self.transform = model, transform

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(self.transform(x))


@dataclass(frozen=True)
class DefenseSpec:
    """One registry entry: display name, the transform's class and its options with defaults;
    whether gradients pass (``differentiable``) and whether it draws randomness (``random``)
    come from the class."""

    display_name: str
    cls: type[nn.Module]
    options: dict[str, Any]
    paper: str = ""

    @property
    def differentiable(self) -> bool:
        return bool(getattr(self.cls, "differentiable", True))

    @property
    def random(self) -> bool:
        return bool(getattr(self.cls, "random", False))


#: name -> spec, read by the code and the tests (the names and display names are
#: :data:`dlcore.attacks.names.DEFENSE_DISPLAY`, read by the UI without torch).
DEFENSES: dict[str, DefenseSpec] = {
    "gaussian_blur": DefenseSpec(DEFENSE_DISPLAY["gaussian_blur"], GaussianBlur, {"sigma": 1.0, "kernel_size": 5}),
    "median_blur": DefenseSpec(DEFENSE_DISPLAY["median_blur"], MedianBlur, {"kernel_size": 2},
                               "https://arxiv.org/abs/1704.01155"),
    "jpeg": DefenseSpec(DEFENSE_DISPLAY["jpeg"], JPEG, {"quality": 75}, "https://arxiv.org/abs/1711.00117"),
    "bit_depth": DefenseSpec(DEFENSE_DISPLAY["bit_depth"], BitDepth, {"bits": 1}, "https://arxiv.org/abs/1704.01155"),
    "random_resize": DefenseSpec(DEFENSE_DISPLAY["random_resize"], RandomResizePad, {"min_scale": 0.9},
                                 "https://arxiv.org/abs/1711.01991"),
    "random_noise": DefenseSpec(DEFENSE_DISPLAY["random_noise"], RandomNoise, {"sigma": 0.1}),
}


def make_defense(name: str, **options: Any) -> nn.Module:
    """The transform ``name`` of :data:`DEFENSES` with ``options`` over its defaults.

    Raises:
        ValueError: unknown name or option, or a bad option value.
    """
    if name not in DEFENSES:
        raise ValueError(f"defence {name!r} is not one of {tuple(DEFENSES)}")
    spec = DEFENSES[name]
    unknown = sorted(set(options) - set(spec.options))
    if unknown:
        raise ValueError(f"option(s) {unknown} are not options of {spec.display_name}; choose from "
                         f"{sorted(spec.options)}")
    return spec.cls(**{**spec.options, **options})


def defend(model: nn.Module, name: str, **options: Any) -> Defended:
    """``Defended(model, make_defense(name, **options))``."""
    return Defended(model, make_defense(name, **options))


@dataclass
class DefenseCost:
    """Clean accuracy without and with the shield, on the same images."""

    defense: str
    options: dict[str, Any]
    clean_accuracy: float
    defended_accuracy: float

    @property
    def cost(self) -> float:
        """Accuracy lost to the shield (percentage points / 100)."""
        return self.clean_accuracy - self.defended_accuracy


@torch.no_grad()
def defense_cost(model: nn.Module, x: torch.Tensor, y: torch.Tensor, name: str, batch_size: int = 1000,
                 seed: int = 0, **options: Any) -> DefenseCost:
    """Clean accuracy of ``model`` with and without the shield ``name`` on ``(x, y)`` (a random shield
    draws from a generator seeded with ``seed``, so the figure repeats)."""
    x, y = check_inputs(x, y)
    shield = Defended(model, seed_shield(make_defense(name, **options), seed))
    dev = model_device(model)
    with frozen(model):
        acc = []
        for m in (model, shield):
            pred = torch.cat([m(x[i:i + batch_size].to(dev)).argmax(1).cpu() for i in range(0, len(x), batch_size)])
            acc.append(float((pred == y).float().mean()))
    opts = {**DEFENSES[name].options, **options}
    return DefenseCost(name, opts, acc[0], acc[1])
