"""What every explanation method shares: the result type, option specs, and input checks.

An explanation answers "which part of *this* input mattered for *this* output" (seed 000
§9.4.1). Every local method here returns an :class:`Attribution`: the raw attribution
``(C, H, W)`` (what Captum returns), a display map ``(H, W)``, the class it explains with
its probability, and the settings and time it took.

Configs are frozen dataclasses whose fields carry their UI label and range
(:func:`option`); :func:`check_config` validates them from the same metadata, so the
dropdowns/sliders a tab builds from :func:`options_of` and the errors a bad value raises
can never disagree.
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import dataclasses
import math
import typing
from dataclasses import dataclass, field
from typing import Any, Iterator, Literal, Mapping, TypeVar

import torch
from torch import nn

__all__ = ["Attribution", "OptionSpec", "option", "options_of", "check_config", "make_config",
           "check_image", "check_model", "check_target", "class_probabilities", "hook_safe",
           "assume_private", "captum_attr", "MapRule", "MAX_SIDE", "gaussian_blur"]

#: Largest accepted image side (pixels): the zoo models read 28x28 or 8x8.
MAX_SIDE = 256
#: How a method's raw attribution becomes its (H, W) map: ``abs`` = magnitude (Simonyan et al.
#: 2014 show |gradient|), ``signed`` = evidence for (+) and against (-) the class,
#: ``positive`` = already >= 0 (SmoothGrad², VarGrad, Grad-CAM after its ReLU).
MapRule = Literal["abs", "signed", "positive"]
C = TypeVar("C")


@dataclass
class Attribution:
    """One method's explanation of one image.

    Attributes:
        method: key of :data:`dlcore.explain.METHODS` (e.g. ``"smoothgrad"``).
        map: ``(H, W)`` float map (sum over channels, then the method's :data:`MapRule`).
        raw: ``(C, H, W)`` attribution as the method computes it (Captum's output).
        target: the class explained.
        probability: softmax probability of ``target`` on the clean input.
        predicted: the model's top class; ``predicted_probability`` its probability.
        delta: convergence delta (Integrated Gradients: ``sum(raw) - (f(x) - f(x'))``), else None.
        seconds: wall time of this method.
        settings: the config used, as a dict (plus derived values such as the absolute sigma).
        rule: how ``map`` was made from ``raw`` (:data:`MapRule`).
    """

    method: str
    map: torch.Tensor
    raw: torch.Tensor
    target: int
    probability: float
    predicted: int
    predicted_probability: float
    delta: float | None = None
    seconds: float = 0.0
    settings: dict[str, Any] = field(default_factory=dict)
    rule: MapRule = "abs"


@dataclass(frozen=True)
class OptionSpec:
    """One option of a method, as a UI control (read by the future dropdown/sliders).

    ``kind`` is ``"choice"`` (``choices`` set), ``"int"``, ``"float"``, ``"bool"`` or ``"text"``;
    ``minimum``/``maximum`` bound numbers (inclusive), ``step`` is a slider step.
    """

    name: str
    label: str
    kind: Literal["choice", "int", "float", "bool", "text"]
    default: Any
    choices: tuple[Any, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    step: float | None = None
    help: str = ""


def option(default: Any, label: str, *, lo: float | None = None, hi: float | None = None,
           step: float | None = None, help: str = "") -> Any:
    """A config field with its UI label and (inclusive) range; see :func:`check_config`."""
    return field(default=default, metadata={"label": label, "lo": lo, "hi": hi, "step": step, "help": help})


def _kind(tp: Any) -> tuple[str, tuple[Any, ...], bool]:
    """Field type -> (kind, choices, optional)."""
    args = typing.get_args(tp)
    if typing.get_origin(tp) is typing.Union or type(tp).__name__ == "UnionType":
        inner = [a for a in args if a is not type(None)]
        kind, choices, _ = _kind(inner[0])
        return kind, choices, True
    if typing.get_origin(tp) is Literal:
        return "choice", args, False
    return {bool: "bool", int: "int", float: "float", str: "text"}.get(tp, "text"), (), False


def options_of(config_cls: type) -> tuple[OptionSpec, ...]:
    """Every option of a config class, in field order (for building UI controls)."""
    hints = typing.get_type_hints(config_cls)
    out = []
    for f in dataclasses.fields(config_cls):
        kind, choices, _ = _kind(hints[f.name])
        md = f.metadata
        out.append(OptionSpec(f.name, md.get("label", f.name), kind, f.default, choices,  # type: ignore[arg-type]
                              md.get("lo"), md.get("hi"), md.get("step"), md.get("help", "")))
    return tuple(out)


def check_config(cfg: Any) -> None:
    """Validate (and coerce whole floats to int) every field of a config dataclass in place.

    Raises:
        ValueError: naming the field, the value and the rule (type, choices, range).
    """
    hints = typing.get_type_hints(type(cfg))
    for f in dataclasses.fields(cfg):
        v = getattr(cfg, f.name)
        kind, choices, optional = _kind(hints[f.name])
        if v is None and optional:
            continue
        if kind == "choice":
            if v not in choices:
                raise ValueError(f"{f.name} {v!r} is not one of {list(choices)}")
            continue
        if kind == "text":
            if not isinstance(v, str) or len(v) > 200:
                raise ValueError(f"{f.name} {v!r} must be a text of at most 200 characters")
            continue
        if kind == "bool":
            if not isinstance(v, bool):
                raise ValueError(f"{f.name} {v!r} must be true or false")
            continue
        if kind in ("int", "float"):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise ValueError(f"{f.name} {v!r} must be a finite number")
            if kind == "int":
                if v != int(v):
                    raise ValueError(f"{f.name} {v!r} must be a whole number")
                v = int(v)
            else:
                v = float(v)
            object.__setattr__(cfg, f.name, v)
            lo, hi = f.metadata.get("lo"), f.metadata.get("hi")
            if (lo is not None and v < lo) or (hi is not None and v > hi):
                fmt = (lambda a: str(int(a))) if kind == "int" else (lambda a: f"{a:g}")
                raise ValueError(f"{f.name} {fmt(v)} must be in [{fmt(lo)}, {fmt(hi)}]" if lo is not None and hi is not None
                                 else f"{f.name} {fmt(v)} must be >= {fmt(lo)}" if lo is not None
                                 else f"{f.name} {fmt(v)} must be <= {fmt(hi)}")


def make_config(config_cls: type[C], config: C | Mapping[str, Any] | None) -> C:
    """``None`` -> defaults; a dict (from a UI) -> validated config; a config -> itself.

    Raises:
        ValueError: unknown option names, or a bad value (see :func:`check_config`).
    """
    if config is None:
        return config_cls()
    if isinstance(config, config_cls):
        return config
    if isinstance(config, Mapping):
        names = {f.name for f in dataclasses.fields(config_cls)}  # type: ignore[arg-type]
        unknown = sorted(str(k) for k in config if k not in names)
        if unknown:
            raise ValueError(f"unknown option(s) {unknown} for {config_cls.__name__}; known: {sorted(names)}")
        return config_cls(**config)
    raise ValueError(f"config must be a {config_cls.__name__} or a dict, got {type(config).__name__}")


def check_image(image: Any, name: str = "image") -> torch.Tensor:
    """One image as a ``(1, C, H, W)`` float tensor in [0, 1] (a detached copy).

    Accepts ``(H, W)``, ``(C, H, W)`` or ``(1, C, H, W)`` tensors or arrays.

    Raises:
        ValueError: not a tensor/array, wrong shape, a side over :data:`MAX_SIDE`, NaN, or
        values outside [0, 1].
    """
    if not isinstance(image, torch.Tensor):
        try:
            import numpy as np

            if not isinstance(image, np.ndarray):
                raise TypeError
            image = torch.from_numpy(np.asarray(image, dtype=np.float32))
        except TypeError:
            raise ValueError(f"{name} must be a tensor or array of pixels, got {type(image).__name__}") from None
    x = image.detach().float()
    if x.ndim == 2:
        x = x[None]
    if x.ndim == 3:
        x = x[None]
    if x.ndim != 4 or x.shape[0] != 1 or x.shape[1] not in (1, 3):
        raise ValueError(f"{name} shape {tuple(image.shape)} must be (H, W), (C, H, W) or (1, C, H, W) "
                         "with C = 1 or 3 (one image)")
    if max(x.shape[2:]) > MAX_SIDE or min(x.shape[2:]) < 4:
        raise ValueError(f"{name} size {tuple(x.shape[2:])} must be between 4 and {MAX_SIDE} pixels a side")
    if not torch.isfinite(x).all():
        raise ValueError(f"{name} contains NaN or infinite pixels")
    lo, hi = float(x.min()), float(x.max())
    if lo < -1e-6 or hi > 1 + 1e-6:
        raise ValueError(f"{name} pixels span [{lo:.3g}, {hi:.3g}]; they must be in [0, 1]")
    return x.clamp(0, 1).clone()


def check_model(model: Any) -> nn.Module:
    """The model itself, if it is an ``nn.Module`` in evaluation mode.

    Raises:
        ValueError: not a module, or in training mode (dropout would make every map random).
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch nn.Module, got {type(model).__name__}")
    if model.training:
        raise ValueError("model is in training mode; explanations need model.eval() (dropout and "
                         "batch-norm statistics would change every map)")
    return model


@torch.no_grad()
def class_probabilities(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Softmax probabilities ``(N, n_classes)`` of a batch ``(N, C, H, W)``.

    Raises:
        ValueError: the image does not fit the model (e.g. a 28 x 28 image for the 8 x 8 digits
        model), or the model does not return ``(N, n_classes)`` logits.
    """
    try:
        out = model(x)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise ValueError(f"an image of shape {tuple(x.shape[1:])} does not fit this model ({first})") from None
    if not isinstance(out, torch.Tensor) or out.ndim != 2 or out.shape[0] != x.shape[0] or out.shape[1] < 2:
        raise ValueError(f"the model must return (N, n_classes) logits, got "
                         f"{tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__}")
    return torch.softmax(out.float(), dim=1)


def check_target(target: Any, n_classes: int, predicted: int) -> int:
    """``None`` -> the predicted class; else a class index in ``[0, n_classes)``.

    Raises:
        ValueError: not a whole number or out of range.
    """
    if target is None:
        return predicted
    if isinstance(target, bool) or not isinstance(target, (int, float)) or target != int(target):
        raise ValueError(f"target {target!r} must be a class index (a whole number) or None")
    t = int(target)
    if not 0 <= t < n_classes:
        raise ValueError(f"target {t} must be in [0, {n_classes - 1}]")
    return t


_PRIVATE: contextvars.ContextVar[frozenset[int]] = contextvars.ContextVar("explain_private", default=frozenset())


@contextlib.contextmanager
def assume_private(model: nn.Module) -> Iterator[None]:
    """Within this block, :func:`hook_safe` may hook ``model`` directly (it is our own copy)."""
    token = _PRIVATE.set(_PRIVATE.get() | {id(model)})
    try:
        yield
    finally:
        _PRIVATE.reset(token)


def hook_safe(model: nn.Module) -> nn.Module:
    """A model that may carry hooks: a private deep copy, unless :func:`assume_private` says so.

    Grad-CAM, guided backprop and feature capture register hooks; on a model shared between
    requests (the zoo's), a hook would also fire in another request's forward pass.
    """
    if id(model) in _PRIVATE.get():
        return model
    return copy.deepcopy(model)


def captum_attr() -> Any:
    """``captum.attr``, imported on first use (it takes ~1 s and imports pyplot).

    :mod:`dlcore.plotting` is imported first: it selects the headless Agg backend (the one place
    that does), so Captum's import of pyplot never picks a GUI backend. No figure is ever made
    through pyplot.
    """
    import dlcore.plotting  # noqa: F401 - Agg before Captum imports pyplot
    import captum.attr

    return captum.attr


def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of ``(N, C, H, W)`` with reflect padding (radius ``3 sigma``)."""
    if sigma <= 0:
        return x.clone()
    r = max(1, min(int(math.ceil(3 * sigma)), min(x.shape[-2:]) - 1))
    t = torch.arange(-r, r + 1, dtype=x.dtype, device=x.device)
    k = torch.exp(-0.5 * (t / sigma) ** 2)
    k = k / k.sum()
    c = x.shape[1]
    y = torch.nn.functional.pad(x, (r, r, 0, 0), mode="reflect")
    y = torch.nn.functional.conv2d(y, k.view(1, 1, 1, -1).repeat(c, 1, 1, 1), groups=c)  # (N, C, H, W)
    y = torch.nn.functional.pad(y, (0, 0, r, r), mode="reflect")
    return torch.nn.functional.conv2d(y, k.view(1, 1, -1, 1).repeat(c, 1, 1, 1), groups=c)
