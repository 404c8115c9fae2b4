"""Global explanation: the input a class or a neuron likes most (activation maximisation).

Seed 000 §9.4.2: find the ``X*`` that maximises an output ``y_i`` (a class score) or a hidden
unit, and look at it. Unconstrained, ``X*`` is noise the network happens to love (an
adversarial pattern); adding a prior ``R(X)`` that prefers natural, smooth images makes it
readable. Gradient ascent on

    X* = argmax_X  y_i(X) - λ₂ Σ X² - λ_tv Σ |∇X|²

(the notes' ``R(X)`` = squared pixel values + squared image gradient; it enters with a minus
sign because it measures roughness) with ``X`` kept in [0, 1]. ``y_i`` is a class **logit**
(Simonyan et al. 2014, https://arxiv.org/abs/1312.6034: the unnormalised score, not the
softmax, which could also rise by pushing the other classes down), the mean of one **channel**
of a convolutional layer, or one **neuron** of a linear layer (Erhan et al. 2009). Two more
priors act between steps: **blur** the image every few steps (Yosinski et al. 2015,
https://arxiv.org/abs/1506.06579) and **jitter** it by a random shift before each step
(Mordvintsev et al. 2015; Olah et al. 2017, https://distill.pub/2017/feature-visualization/).
The notes' third way — search the latent space of a generator, ``z* = argmax_z y_i(G(z))`` — is
the ``generator`` argument.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Literal

import torch
from torch import nn

from dlcore.explain.base import (
    check_config, check_model, class_probabilities, gaussian_blur, hook_safe, make_config, option,
)
from dlcore.explain.names import UNITS

__all__ = ["ActMaxConfig", "ActMaxResult", "MAX_STEPS", "unit_layers", "activation_maximization",
           "without_prior", "compare_priors", "Unit", "UNITS"]

MAX_STEPS = 2000
Unit = Literal["class", "channel", "neuron"]


@dataclass(frozen=True)
class ActMaxConfig:
    """Options of activation maximisation.

    The prior weights were chosen on the zoo's Fashion-MNIST CNN so that every class's ``X*``
    reads as the garment (and is classified as it with p > 0.99); the papers tune them per network.

    Args:
        unit: ``"class"`` (a logit, default), ``"channel"`` (conv) or ``"neuron"`` (linear).
        index: which class / channel / neuron (default 0).
        layer: module name for channel/neuron (see :func:`unit_layers`), ``"auto"`` = the last
            conv block (channel) or the hidden layer before the output (neuron).
        steps: gradient-ascent steps (default 200, at most :data:`MAX_STEPS`).
        lr: Adam step size in pixel units (default 0.05).
        init: start from ``"black"`` (default: the background of the training data), ``"gray"``
            (0.5) or uniform ``"noise"``.
        l2: λ₂ of the squared-pixel prior (default 0.02).
        tv: λ_tv of the squared-gradient (smoothness) prior (default 0.2).
        blur_sigma / blur_every: Gaussian blur σ (px) every k steps (default 0.5 every 4;
            Yosinski et al. 2015 blur every 4 steps; 0 = never).
        jitter: largest random shift in pixels before each step (default 1).
        seed: seed of the noise start and the jitter.
        record_every: keep the image every k steps (default 1).
    """

    unit: Unit = option("class", "maximise")
    index: int = option(0, "class / channel / neuron index", lo=0, hi=100_000, step=1)
    layer: str = option("auto", "layer (channel / neuron)")
    steps: int = option(200, "steps", lo=1, hi=MAX_STEPS, step=1)
    lr: float = option(0.05, "step size", lo=1e-4, hi=1.0, step=0.005)
    init: Literal["black", "gray", "noise"] = option("black", "start from")
    l2: float = option(0.02, "λ₂ Σ X² (pixel size)", lo=0.0, hi=10.0, step=0.001)
    tv: float = option(0.2, "λ_tv Σ |∇X|² (smoothness)", lo=0.0, hi=10.0, step=0.005)
    blur_sigma: float = option(0.5, "blur σ (px)", lo=0.0, hi=5.0, step=0.1)
    blur_every: int = option(4, "blur every k steps (0 = never)", lo=0, hi=100, step=1)
    jitter: int = option(1, "jitter (px)", lo=0, hi=8, step=1)
    seed: int = option(0, "seed", lo=0, hi=2**31 - 1, step=1)
    record_every: int = option(1, "keep the image every k steps", lo=1, hi=MAX_STEPS, step=1)

    def __post_init__(self) -> None:
        check_config(self)


def without_prior(config: ActMaxConfig) -> ActMaxConfig:
    """The same search with every prior switched off (no L2, TV, blur or jitter)."""
    return dataclasses.replace(config, l2=0.0, tv=0.0, blur_every=0, jitter=0)


def unit_layers(model: nn.Module) -> dict[str, tuple[str, int]]:
    """Layers whose units can be maximised: name -> (``"channel"`` or ``"neuron"``, count)."""
    from dlcore.explain.gradcam import conv_layers

    out: dict[str, tuple[str, int]] = {}
    mods = dict(model.named_modules())
    convs = [n for n, m in mods.items() if isinstance(m, nn.Conv2d)]
    for name in conv_layers(model):  # a conv, or the activation after it (same channels)
        src = name if name in convs else max((c for c in convs if list(mods).index(c) < list(mods).index(name)),
                                             key=lambda c: list(mods).index(c))
        out[name] = ("channel", mods[src].out_channels)
    for name, m in mods.items():
        if isinstance(m, nn.Linear):
            out[name] = ("neuron", m.out_features)
    return out


def _resolve_layer(model: nn.Module, unit: str, layer: str) -> str:
    layers = unit_layers(model)
    names = [n for n, (k, _) in layers.items() if k == unit]
    if not names:
        raise ValueError(f"{type(model).__name__} has no layer with {unit}s to maximise")
    if layer == "auto":
        if unit == "channel":
            from dlcore.explain.gradcam import gradcam_layer

            return gradcam_layer(model, "auto")
        return names[-2] if len(names) > 1 else names[-1]  # the hidden layer before the output
    if layer not in names:
        raise ValueError(f"layer {layer!r} has no {unit}s; choose one of {names}")
    return layer


class _Adam:
    """Adam (Kingma & Ba 2015, https://arxiv.org/abs/1412.6980) on one tensor, as gradient *ascent*::

        m ← β₁ m + (1 - β₁) g,   v ← β₂ v + (1 - β₂) g²,   X ← X + lr · m̂ / (√v̂ + ε)

    with the bias-corrected ``m̂ = m / (1 - β₁ᵗ)``, ``v̂ = v / (1 - β₂ᵗ)``: the same steps as
    ``torch.optim.Adam`` on ``-objective`` (checked in the tests), written out because the first
    ``torch.optim`` optimizer of a process imports ``torch._dynamo`` (seconds).
    """

    def __init__(self, var: torch.Tensor, lr: float, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8) -> None:
        self.var, self.lr, (self.b1, self.b2), self.eps = var, lr, betas, eps
        self.m, self.v, self.t = torch.zeros_like(var), torch.zeros_like(var), 0

    @torch.no_grad()
    def ascend(self, g: torch.Tensor) -> None:
        self.t += 1
        self.m.mul_(self.b1).add_(g, alpha=1 - self.b1)
        self.v.mul_(self.b2).addcmul_(g, g, value=1 - self.b2)
        m_hat = self.m / (1 - self.b1 ** self.t)
        v_hat = self.v / (1 - self.b2 ** self.t)
        self.var.add_(self.lr * m_hat / (v_hat.sqrt() + self.eps))


def _tv2(x: torch.Tensor) -> torch.Tensor:
    """Σ |∇X|²: squared differences of neighbouring pixels (Mahendran & Vedaldi 2015, β = 2)."""
    return ((x[..., 1:, :] - x[..., :-1, :]) ** 2).sum() + ((x[..., :, 1:] - x[..., :, :-1]) ** 2).sum()


@dataclass
class ActMaxResult:
    """The search, step by step.

    Attributes:
        images: ``(R, C, H, W)`` the image at the recorded steps (``recorded``, 0 = the start).
        objective: per step, ``y_i - λ R(X)`` (what was maximised). activation: ``y_i`` alone.
        probability: softmax probability of the class (``unit="class"``) or of the top class.
        final: ``(C, H, W)``. predicted / predicted_probability: the model's answer on ``final``.
        target: a description (``"class 3"``, ``"channel 5 of block2.2"``). stopped: ended early.
    """

    images: torch.Tensor
    recorded: list[int]
    objective: list[float]
    activation: list[float]
    probability: list[float]
    final: torch.Tensor
    predicted: int
    predicted_probability: float
    target: str
    settings: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    stopped: bool = False


def activation_maximization(model: nn.Module, config: ActMaxConfig | dict | None = None,
                            image_shape: tuple[int, int, int] = (1, 28, 28),
                            callback: Callable[[int, dict[str, float]], None] | None = None,
                            stop: threading.Event | None = None,
                            generator: Callable[[torch.Tensor], torch.Tensor] | None = None,
                            z_dim: int = 0) -> ActMaxResult:
    """Gradient ascent on the input (or a generator's latent) to maximise one unit.

    Args:
        model: classifier in eval mode (never modified; a private copy carries the hook).
        config: :class:`ActMaxConfig` or a dict of its options.
        image_shape: ``(C, H, W)`` of the model input (default ``(1, 28, 28)``; ``(1, 8, 8)`` for digits).
        callback: ``callback(step, {"objective", "activation", "probability"})`` after each step.
        stop: a ``threading.Event``; when set, the search ends after the current step.
        generator: optional ``z (1, z_dim) -> image (1, C, H, W)`` in [0, 1]; then ``z`` is
            optimised (with the L2 prior on ``z``; blur is skipped) instead of the pixels.

    Raises:
        ValueError: bad config, an index beyond the unit's count, a bad layer or shape.
    """
    t0 = time.perf_counter()
    cfg = make_config(ActMaxConfig, config)
    check_model(model)
    if (not isinstance(image_shape, (tuple, list)) or len(image_shape) != 3
            or not all(isinstance(s, int) and 1 <= s <= 256 for s in image_shape)):
        raise ValueError(f"image_shape {image_shape!r} must be (C, H, W) with sides in [1, 256]")
    class_probabilities(model, torch.zeros((1, *image_shape)))  # the shape fits the model (else ValueError)
    m = model
    captured: dict[str, torch.Tensor] = {}
    if cfg.unit == "class":
        n_units, desc = None, f"class {cfg.index}"
    else:
        name = _resolve_layer(model, cfg.unit, cfg.layer)
        n_units = unit_layers(model)[name][1]
        desc = f"{cfg.unit} {cfg.index} of {name}"
        m = hook_safe(model)
        m.get_submodule(name).register_forward_hook(lambda mod, inp, out: captured.__setitem__("a", out))
    if n_units is not None and cfg.index >= n_units:
        raise ValueError(f"index {cfg.index} must be < {n_units} ({cfg.unit}s of that layer)")
    gen = torch.Generator().manual_seed(cfg.seed)
    shape = (1, *image_shape)
    if generator is not None:
        if isinstance(z_dim, bool) or not isinstance(z_dim, int) or not 1 <= z_dim <= 4096:
            raise ValueError(f"z_dim {z_dim!r} must be a whole number in [1, 4096] with a generator")
        var = torch.randn((1, z_dim), generator=gen)
    else:
        var = {"gray": torch.full(shape, 0.5), "black": torch.zeros(shape),
               "noise": torch.rand(shape, generator=gen)}[cfg.init]
    var.requires_grad_(True)
    opt = _Adam(var, cfg.lr)

    def image() -> torch.Tensor:
        return generator(var) if generator is not None else var

    with torch.no_grad():
        x0 = image().detach().clone()
    if generator is not None and tuple(x0.shape) != shape:
        raise ValueError(f"the generator returned shape {tuple(x0.shape)}, expected {shape}")
    images, recorded, objective, activation, probability = [x0[0]], [0], [], [], []
    stopped = False
    for step in range(1, cfg.steps + 1):
        x = image()  # (1, C, H, W)
        # 1. jitter: look at a randomly shifted copy
        if cfg.jitter:
            dy, dx = (int(v) for v in torch.randint(-cfg.jitter, cfg.jitter + 1, (2,), generator=gen))
            x = torch.roll(x, (dy, dx), (2, 3))
        with torch.enable_grad():
            logits = m(x)  # (1, K)
            if cfg.unit == "class":
                if cfg.index >= logits.shape[1]:
                    raise ValueError(f"index {cfg.index} must be < {logits.shape[1]} (classes)")
                act = logits[0, cfg.index]
            else:
                a = captured["a"][0, cfg.index]
                act = a.mean()  # a channel (H', W') -> its mean; a neuron is a scalar
            # 2. the priors: R(X) = λ₂ Σ X² + λ_tv Σ |∇X|² (on z: λ₂ Σ z²)
            reg = cfg.l2 * (var ** 2).sum() + (cfg.tv * _tv2(image()) if cfg.tv else 0.0)
            obj = act - reg
            (grad,) = torch.autograd.grad(obj, var)
        opt.ascend(grad)
        with torch.no_grad():
            # 3. stay a valid image; blur every k steps
            if generator is None:
                var.clamp_(0, 1)
                if cfg.blur_every and cfg.blur_sigma > 0 and step % cfg.blur_every == 0:
                    var.copy_(gaussian_blur(var, cfg.blur_sigma))
            pr = torch.softmax(logits.detach(), 1)[0]
        objective.append(float(obj.detach()))
        activation.append(float(act.detach()))
        probability.append(float(pr[cfg.index] if cfg.unit == "class" else pr.max()))
        if step % cfg.record_every == 0 or step == cfg.steps:
            with torch.no_grad():
                images.append(image().detach()[0].clone())
            recorded.append(step)
        if callback is not None:
            callback(step, {"objective": objective[-1], "activation": activation[-1], "probability": probability[-1]})
        if stop is not None and stop.is_set():
            stopped = True
            break
    with torch.no_grad():
        final = image().detach()
        pf = torch.softmax(model(final), 1)[0]
    return ActMaxResult(torch.stack(images), recorded, objective, activation, probability, final[0],
                        int(pf.argmax()), float(pf.max()), desc, dataclasses.asdict(cfg), time.perf_counter() - t0,
                        stopped)


def compare_priors(model: nn.Module, config: ActMaxConfig | dict | None = None,
                   image_shape: tuple[int, int, int] = (1, 28, 28),
                   callback: Callable[[int, dict[str, float]], None] | None = None,
                   stop: threading.Event | None = None) -> dict[str, ActMaxResult]:
    """The same unit maximised ``{"without prior": ..., "with prior": ...}`` (what the prior changes).

    ``callback`` receives steps ``1 .. 2·steps`` across both runs.
    """
    cfg = make_config(ActMaxConfig, config)
    cb0 = callback
    cb1 = (lambda s, m: callback(cfg.steps + s, m)) if callback is not None else None
    plain = activation_maximization(model, without_prior(cfg), image_shape, cb0, stop)
    prior = activation_maximization(model, cfg, image_shape, cb1, stop)
    return {"without prior": plain, "with prior": prior}
