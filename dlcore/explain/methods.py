"""The registry of local methods, one entry point per method, and all of them side by side.

:data:`METHODS` is the one list both the code and a UI dropdown read: display name, config
class (whose fields are the options, see :func:`dlcore.explain.base.options_of`), how the map
is made, the paper and the Captum class behind it. :func:`explain` runs one method on one
image; :func:`explain_all` runs several on the same image and returns their maps on one
colour scale together with the prediction. SmoothGrad, SmoothGrad² and VarGrad with the same
settings share one batch of noisy gradients.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Mapping, Sequence

import torch
from torch import nn

from dlcore.explain.base import (
    Attribution, MapRule, OptionSpec, check_image, check_model, check_target, class_probabilities, make_config,
    options_of,
)
from dlcore.explain.fast import fused_twin
from dlcore.explain.gradcam import GradCamConfig, gradcam, gradcam_unavailable
from dlcore.explain.gradients import GradientConfig, gradient, gradient_x_input, guided_backprop, \
    guided_backprop_unavailable
from dlcore.explain.integrated import IGConfig, integrated_gradients
from dlcore.explain.lime import LimeConfig, lime
from dlcore.explain.metrics import NORM_MODES, NormMode, normalize_maps
from dlcore.explain.names import METHOD_DISPLAY
from dlcore.explain.occlusion import OcclusionConfig, occlusion
from dlcore.explain.smoothgrad import SmoothGradConfig, noisy_gradients, reduce_noisy, sigma_absolute

__all__ = ["MethodSpec", "METHODS", "METHOD_NAMES", "method_options", "method_spec", "available_methods", "explain",
           "Explanation", "explain_all", "attribution_map"]


@dataclass(frozen=True)
class MethodSpec:
    """One local explanation method.

    Attributes:
        name: registry key. display: the label a dropdown shows. family: what kind of method.
        config: its config dataclass (defaults = the paper's values). rule: :data:`MapRule`.
        paper: link. captum: the Captum class it wraps or is checked against. summary: one line.
        unavailable: ``model -> reason or None`` (e.g. Grad-CAM on an MLP).
    """

    name: str
    display: str
    family: str
    config: type
    rule: MapRule
    paper: str
    captum: str
    summary: str
    unavailable: Callable[[nn.Module], str | None] | None = None

    @property
    def options(self) -> tuple[OptionSpec, ...]:
        return options_of(self.config)


_SG = "https://arxiv.org/abs/1706.03825"
_D = METHOD_DISPLAY  # display names: the torch-free list a UI reads (dlcore.explain.names)
METHODS: dict[str, MethodSpec] = {s.name: s for s in (
    MethodSpec("gradient", _D["gradient"], "gradient", GradientConfig, "abs", "https://arxiv.org/abs/1312.6034",
               "Saliency", "|∂ score / ∂ pixel|: which pixels the class score is most sensitive to"),
    MethodSpec("gradient_x_input", _D["gradient_x_input"], "gradient", GradientConfig, "signed",
               "https://arxiv.org/abs/1605.01713", "InputXGradient", "pixel × gradient: first-order contribution"),
    MethodSpec("guided_backprop", _D["guided_backprop"], "gradient", GradientConfig, "abs",
               "https://arxiv.org/abs/1412.6806", "GuidedBackprop",
               "only positive gradients pass each ReLU: crisp, but fails the sanity check",
               guided_backprop_unavailable),
    MethodSpec("smoothgrad", _D["smoothgrad"], "noise", SmoothGradConfig, "abs", _SG, "NoiseTunnel(Saliency)",
               "mean gradient over noisy copies of the image"),
    MethodSpec("smoothgrad_sq", _D["smoothgrad_sq"], "noise", SmoothGradConfig, "positive",
               "https://arxiv.org/abs/1806.10758", "NoiseTunnel(Saliency, smoothgrad_sq)",
               "mean squared gradient over noisy copies"),
    MethodSpec("vargrad", _D["vargrad"], "noise", SmoothGradConfig, "positive", "https://arxiv.org/abs/1810.03292",
               "NoiseTunnel(Saliency, vargrad)", "variance of the gradient over noisy copies"),
    MethodSpec("integrated_gradients", _D["integrated_gradients"], "path", IGConfig, "signed",
               "https://arxiv.org/abs/1703.01365", "IntegratedGradients",
               "gradients summed along the path from a baseline; they add up to the score difference"),
    MethodSpec("occlusion", _D["occlusion"], "perturbation", OcclusionConfig, "signed", "https://arxiv.org/abs/1311.2901",
               "Occlusion", "cover a patch, watch the class probability drop"),
    MethodSpec("gradcam", _D["gradcam"], "cam", GradCamConfig, "positive", "https://arxiv.org/abs/1610.02391",
               "LayerGradCam", "last conv layer's feature maps weighted by their mean gradient",
               gradcam_unavailable),
    MethodSpec("lime", _D["lime"], "surrogate", LimeConfig, "signed", "https://arxiv.org/abs/1602.04938", "Lime",
               "a linear model of the output on random on/off superpixels"),
)}
METHOD_NAMES: tuple[str, ...] = tuple(METHODS)
if METHOD_NAMES != tuple(METHOD_DISPLAY):  # pragma: no cover - the two lists are one
    raise ImportError(f"METHODS {METHOD_NAMES} and names.METHOD_DISPLAY {tuple(METHOD_DISPLAY)} differ")


def method_options(name: str) -> tuple[OptionSpec, ...]:
    """The options of one method (for its UI controls).

    Raises:
        ValueError: unknown method.
    """
    return method_spec(name).options


def method_spec(name: Any) -> MethodSpec:
    """The registry entry of ``name``.

    Raises:
        ValueError: unknown method.
    """
    if not isinstance(name, str) or name not in METHODS:
        raise ValueError(f"method {name!r} is not one of {list(METHODS)}")
    return METHODS[name]


def available_methods(model: nn.Module) -> dict[str, str | None]:
    """Every method -> None if it runs on ``model``, else the reason it does not."""
    return {n: (s.unavailable(model) if s.unavailable else None) for n, s in METHODS.items()}


def attribution_map(raw: torch.Tensor, rule: MapRule) -> torch.Tensor:
    """``(C, H, W)`` raw attribution -> ``(H, W)`` map: the channel sum, made absolute for ``abs``."""
    m = raw.sum(-3)
    return m.abs() if rule == "abs" else m


def _run(name: str, model: nn.Module, x: torch.Tensor, t: int, cfg: Any, memo: dict
         ) -> tuple[torch.Tensor, float | None, dict[str, Any]]:
    """(raw (1, C, H, W), delta, extra settings) of one method.

    Hook-free methods run on the Conv + BatchNorm fused twin (:mod:`dlcore.explain.fast`);
    Grad-CAM and guided backprop hook a private copy of the model itself.
    """
    extra: dict[str, Any] = {}
    delta = None
    if name not in ("guided_backprop", "gradcam"):
        model = fused_twin(model)
    if name == "gradient":
        raw = gradient(model, x, t)
    elif name == "gradient_x_input":
        raw = gradient_x_input(model, x, t)
    elif name == "guided_backprop":
        raw = guided_backprop(model, x, t)
    elif name in ("smoothgrad", "smoothgrad_sq", "vargrad"):
        sigma = sigma_absolute(x, cfg.sigma_pct)
        if cfg in memo:
            grads, first = memo[cfg]
            extra["samples_shared_with"] = first
        else:
            grads, _ = noisy_gradients(model, x, t, sigma, cfg.n_samples, cfg.batch_size, cfg.seed)
            memo[cfg] = (grads, name)
        raw = reduce_noisy(grads, name)[None]
        extra["sigma"] = sigma
    elif name == "integrated_gradients":
        raw, d, _ = integrated_gradients(model, x, t, cfg)
        delta = float(d[0])
    elif name == "occlusion":
        raw = occlusion(model, x, t, cfg)
    elif name == "gradcam":
        raw, coarse, layer = gradcam(model, x, t, cfg)
        extra.update(layer_used=layer, coarse_shape=list(coarse.shape[-2:]))
    elif name == "lime":
        raw, seg = lime(model, x, t, cfg)
        extra["n_superpixels"] = int(seg.max()) + 1
    else:  # pragma: no cover - guarded by method_spec
        raise ValueError(f"method {name!r} is not one of {list(METHODS)}")
    return raw, delta, extra


def explain(model: nn.Module, image: Any, method: str = "smoothgrad", config: Any = None,
            target: int | None = None) -> Attribution:
    """Explain one image with one method.

    Args:
        model: a classifier in eval mode taking ``(1, C, H, W)`` pixels in [0, 1] (never modified).
        image: ``(H, W)``, ``(C, H, W)`` or ``(1, C, H, W)`` in [0, 1] (e.g. ``convert_image(...).tensor``).
        method: a key of :data:`METHODS` (default ``"smoothgrad"``).
        config: the method's config, a dict of its options, or None for the paper's defaults.
        target: class to explain (default: the predicted class).

    Raises:
        ValueError: bad model, image, method, options or target; or the method cannot run on this
        model (e.g. Grad-CAM without a convolution).
    """
    return _explain_one(check_model(model), check_image(image), method_spec(method), config, target, {})


def _explain_one(model: nn.Module, x: torch.Tensor, spec: MethodSpec, config: Any, target: Any, memo: dict,
                 probs: torch.Tensor | None = None) -> Attribution:
    cfg = make_config(spec.config, config)
    if spec.unavailable and (why := spec.unavailable(model)):
        raise ValueError(why)
    if probs is None:
        probs = class_probabilities(model, x)[0]
    pred = int(probs.argmax())
    t = check_target(target, probs.numel(), pred)
    t0 = time.perf_counter()
    raw, delta, extra = _run(spec.name, model, x, t, cfg, memo)
    seconds = time.perf_counter() - t0
    return Attribution(spec.name, attribution_map(raw[0], spec.rule), raw[0], t, float(probs[t]), pred,
                       float(probs[pred]), delta, seconds, {**asdict(cfg), **extra}, spec.rule)


@dataclass
class Explanation:
    """Several methods on one image, side by side.

    Attributes:
        image: ``(C, H, W)`` the input. names: methods that ran, in order.
        attributions: name -> :class:`Attribution`.
        maps: ``(len(names), H, W)`` every map on one scale (:func:`normalize_maps`, ``mode``).
        probs: ``(n_classes,)`` softmax of the clean image. target / probability: class explained.
        predicted / predicted_probability: the model's answer.
        skipped: name -> why it did not run (unavailable for this model).
        seconds: total wall time.
    """

    image: torch.Tensor
    names: list[str]
    attributions: dict[str, Attribution]
    maps: torch.Tensor
    mode: str
    probs: torch.Tensor
    target: int
    probability: float
    predicted: int
    predicted_probability: float
    skipped: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


def explain_all(model: nn.Module, image: Any, methods: Sequence[str] | None = None,
                configs: Mapping[str, Any] | None = None, target: int | None = None, mode: NormMode = "abs",
                callback: Callable[[int, dict[str, Any]], None] | None = None) -> Explanation:
    """Every (or the chosen) local method on the same image, on one colour scale.

    Args:
        methods: keys of :data:`METHODS` (default: all that can run on this model, in registry order).
        configs: method name -> config or dict of options (others use their defaults).
        target: class explained by every method (default: the predicted class).
        mode: ``"abs"`` (magnitudes in [0, 1]) or ``"signed"`` ([-1, 1]); see :func:`normalize_maps`.
        callback: ``callback(i, {"method", "seconds"})`` after each method (progress).

    Raises:
        ValueError: unknown method or option names, bad values, or a method asked for explicitly
        that cannot run on this model.
    """
    t_start = time.perf_counter()
    check_model(model)
    x = check_image(image)
    if mode not in NORM_MODES:
        raise ValueError(f"mode {mode!r} is not one of {NORM_MODES}")
    if methods is not None and (isinstance(methods, str) or not isinstance(methods, Sequence)):
        raise ValueError(f"methods {methods!r} must be a list of method names")
    asked = list(methods) if methods is not None else list(METHODS)
    for n in asked:
        method_spec(n)
    configs = dict(configs or {})
    for n in configs:
        method_spec(n)
    avail = available_methods(model)
    skipped = {n: avail[n] for n in asked if avail[n]}
    if methods is not None and skipped:
        n = next(iter(skipped))
        raise ValueError(skipped[n])
    probs = class_probabilities(model, x)[0]
    target = check_target(target, probs.numel(), int(probs.argmax()))
    memo: dict = {}
    out: dict[str, Attribution] = {}
    for i, n in enumerate(a for a in asked if a not in skipped):
        out[n] = _explain_one(model, x, METHODS[n], configs.get(n), target, memo, probs)
        if callback is not None:
            callback(i, {"method": n, "seconds": out[n].seconds})
    names = list(out)
    maps = normalize_maps([out[n].map for n in names], mode) if names else torch.zeros(0, *x.shape[-2:])
    pred = int(probs.argmax())
    return Explanation(x[0], names, out, maps, mode, probs, target, float(probs[target]), pred, float(probs[pred]),
                       {k: str(v) for k, v in skipped.items()}, time.perf_counter() - t_start)
