"""Worked arithmetic from typed text, and the notes' §1.2 examples as one-click presets.

:func:`worked_from_text` is what the UI and API call: the layer name, the input/weight/bias
tensors as text (``[[1.0, 2.0, 3.0]]``) and options written like keyword arguments
(``stride=2, padding=1``). :data:`SEED_EXAMPLES` holds the notes' own numbers with the value
they print, so tests and the tab can check the reproduction exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dlcore.calculators.spec import ACTIVATION_KINDS, parse_call
from dlcore.textinput import parse_tensor

if TYPE_CHECKING:  # the arithmetic (and torch) is imported on first use: the tab builds without torch
    import torch

    from dlcore.calculators.arithmetic import WorkedResult

__all__ = ["WORKED_KINDS", "SeedExample", "SEED_EXAMPLES", "worked_from_text", "parse_options"]

#: Layers the worked view can write out, and the options each accepts.
WORKED_KINDS: dict[str, tuple[str, ...]] = {
    "Linear": (), "Conv1d": ("stride", "padding", "dilation", "groups"),
    "Conv2d": ("stride", "padding", "dilation", "groups"),
    "MaxPool1d": ("kernel_size", "stride", "padding", "dilation", "ceil_mode"),
    "MaxPool2d": ("kernel_size", "stride", "padding", "dilation", "ceil_mode"),
    "AvgPool1d": ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad"),
    "AvgPool2d": ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad"),
    "BatchNorm": ("eps",), "LayerNorm": ("normalized_dims", "eps"),
    **{k: () for k in ACTIVATION_KINDS}, "Flatten": ("start_dim", "end_dim"),
}
_NEEDS_W = {"Linear", "Conv1d", "Conv2d"}
_OPTIONAL_W = {"BatchNorm", "LayerNorm"}


def parse_options(kind: str, text: str) -> dict[str, Any]:
    """``"stride=2, padding=1"`` -> ``{"stride": 2, "padding": 1}``, checked against the layer."""
    if text is None:
        return {}
    if not isinstance(text, str):
        raise ValueError(f"{kind} options must be text such as stride=2, padding=1, got {type(text).__name__}")
    text = text.strip()
    if not text:
        return {}
    try:
        _, args, kwargs = parse_call(f"Options({text})")
    except ValueError:
        raise ValueError(f"{kind} options {text[:60]!r} could not be read: write them as name=value pairs "
                         "separated by commas, e.g. stride=2, padding=1") from None
    if args:
        raise ValueError(f"{kind} options must be named, e.g. stride=2, padding=1 (got a bare value {args[0]!r})")
    allowed = WORKED_KINDS[kind]
    for k in kwargs:
        if k not in allowed:
            raise ValueError(f"{kind} has no option {k!r}; allowed: {', '.join(allowed) or 'none'}")
    return {k: _check_option(kind, k, v) for k, v in kwargs.items()}


# option -> (kind, minimum); "ints" accepts an int or a tuple of ints
_OPTION_RULES: dict[str, tuple[str, float]] = {
    "stride": ("ints", 1), "padding": ("ints", 0), "dilation": ("ints", 1), "kernel_size": ("ints", 1),
    "groups": ("int", 1), "normalized_dims": ("int", 1), "start_dim": ("int", -6), "end_dim": ("int", -6),
    "ceil_mode": ("bool", 0), "count_include_pad": ("bool", 0), "eps": ("float", 0.0),
}


def _check_option(kind: str, name: str, v: Any) -> Any:
    rule, lo = _OPTION_RULES[name]
    if rule == "bool":
        if not isinstance(v, bool):
            raise ValueError(f"{kind}: {name} must be True or False, got {v!r}")
        return v
    if rule == "float":
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 1:
            raise ValueError(f"{kind}: {name} must be a number between 0 and 1, got {v!r}")
        return float(v)
    items = list(v) if rule == "ints" and isinstance(v, (list, tuple)) else [v]
    if not 1 <= len(items) <= 2:
        raise ValueError(f"{kind}: {name} must be a whole number or a pair, got {v!r}")
    for x in items:
        if isinstance(x, bool) or not isinstance(x, int):
            raise ValueError(f"{kind}: {name} must be a whole number, got {x!r}")
        if not lo <= x <= 1000:
            raise ValueError(f"{kind}: {name} = {x} must be between {lo:g} and 1000")
    return tuple(items) if isinstance(v, (list, tuple)) else v


def _opt_tensor(text: str | None, name: str) -> "torch.Tensor | None":
    if text is None or not str(text).strip() or str(text).strip().lower() == "none":
        return None
    return parse_tensor(text, name)


def worked_from_text(kind: str, x_text: str, w_text: str = "", b_text: str = "", options: str = "") -> "WorkedResult":
    """Parse the typed tensors and options, then run the matching worked computation.

    Args:
        kind: one of :data:`WORKED_KINDS` (``"Conv2d"``, ``"MaxPool2d"``, ``"Sigmoid"`` …).
        x_text: the input tensor, e.g. ``"[[[[1, 2, 3], [4, 5, 6], [7, 8, 9]]]]"``.
        w_text / b_text: weight and bias (Linear/Conv: weight required, bias optional; norms:
            γ and β, optional; others: ignored).
        options: keyword options, e.g. ``"stride=2, padding=1"`` or ``"kernel_size=2"``.
    """
    from dlcore.calculators.arithmetic import worked_conv, worked_linear, worked_pool
    from dlcore.calculators.arithmetic_norm import (worked_activation, worked_batchnorm, worked_flatten,
                                                    worked_layernorm)

    if not isinstance(kind, str) or kind not in WORKED_KINDS:
        raise ValueError(f"worked arithmetic for {str(kind)[:40]!r} is not available; choose one of {', '.join(WORKED_KINDS)}")
    opts = parse_options(kind, options)
    x = parse_tensor(x_text, "input x")
    w = b = None
    if kind in _NEEDS_W or kind in _OPTIONAL_W:
        w = _opt_tensor(w_text, "weight W" if kind in _NEEDS_W else "weight γ")
        b = _opt_tensor(b_text, "bias b" if kind in _NEEDS_W else "bias β")
        if w is None and kind in _NEEDS_W:
            raise ValueError(f"{kind} needs a weight tensor W")
    if kind == "Linear":
        if x.ndim < 1:
            raise ValueError("Linear input must have at least 1 dimension (*, in_features)")
        return worked_linear(x, w, b)  # type: ignore[arg-type]
    if kind in ("Conv1d", "Conv2d"):
        n = int(kind[4])
        if w.ndim != n + 2:  # type: ignore[union-attr]
            raise ValueError(f"{kind} weight must be {n + 2}-D (C_out, C_in/groups, {'k' if n == 1 else 'k_h, k_w'}), "
                             f"got shape {tuple(w.shape)}")  # type: ignore[union-attr]
        return worked_conv(x, w, b, **opts)  # type: ignore[arg-type]
    if "Pool" in kind:
        if "kernel_size" not in opts:
            raise ValueError(f"{kind} needs kernel_size in the options, e.g. kernel_size=2")
        return worked_pool(x, "max" if kind.startswith("Max") else "avg", dims=int(kind[-2]), **opts)
    if kind == "BatchNorm":
        return worked_batchnorm(x, w, b, **opts)
    if kind == "LayerNorm":
        return worked_layernorm(x, weight=w, bias=b, **opts)
    if kind == "Flatten":
        return worked_flatten(x, **opts)
    return worked_activation(x, kind)  # type: ignore[arg-type]


@dataclass(frozen=True)
class SeedExample:
    """A worked example from the notes (or continuing them): inputs and the printed result."""

    label: str
    section: str
    kind: str
    x: str
    w: str = ""
    b: str = ""
    options: str = ""
    expected: tuple[float, ...] = ()  # the output as the notes print it, flattened


_X33 = "[[[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]]]"
_W1 = "[[0.1, 0.2, 0.3], [0.4, 0.5, 0.6], [0.7, 0.8, 0.9]]"
_W2 = "[[0.1, -0.1, 0.1], [0.2, -0.2, 0.2], [0.3, -0.3, 0.3]]"
_X3D = ("[[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], [[7.0, 8.0, 9.0], [10.0, 11.0, 12.0]], "
        "[[13.0, 14.0, 15.0], [16.0, 17.0, 18.0]]]")
_WL = "[[0.1, 0.2, 0.3], [0.4, 0.5, 0.6], [0.7, 0.8, 0.9], [1.0, 1.1, 1.2]]"

SEED_EXAMPLES: list[SeedExample] = [
    SeedExample("Conv2d 3×3 → 29.5 (§1.2.4.1)", "1.2.4.1", "Conv2d", _X33, f"[[{_W1}]]", "[1.0]", "",
                (29.5,)),
    SeedExample("Linear 2-D input → 3.4 … 21.7 (§1.2.3.1)", "1.2.3.1", "Linear", "[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]",
                _WL, "[2.0, 3.0, 4.0, 5.0]", "", (3.4, 6.2, 9.0, 11.8, 5.2, 10.7, 16.2, 21.7)),
    SeedExample("Linear 3-D input (§1.2.3.2)", "1.2.3.2", "Linear", _X3D, _WL, "[2.0, 3.0, 4.0, 5.0]", "",
                (3.4, 6.2, 9.0, 11.8, 5.2, 10.7, 16.2, 21.7, 7.0, 15.2, 23.4, 31.6, 8.8, 19.7, 30.6, 41.5,
                 10.6, 24.2, 37.8, 51.4, 12.4, 28.7, 45.0, 61.3)),
    SeedExample("Conv1d → 2.4 3.0 3.6 (§1.2.4.2)", "1.2.4.2", "Conv1d", "[[[1.0, 2.0, 3.0, 4.0, 5.0]]]",
                "[[[0.1, 0.2, 0.3]]]", "[1.0]", "", (2.4, 3.0, 3.6)),
    SeedExample("Conv2d out_channels = 2 → 29.5 and 2.6 (§1.2.4.3)", "1.2.4.3", "Conv2d", _X33,
                f"[[{_W1}], [{_W2}]]", "[1.0, -1.0]", "", (29.5, 2.6)),
    SeedExample("Conv2d in_channels = 2 → 33.1 (§1.2.4.4)", "1.2.4.4", "Conv2d",
                "[[[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]], [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]]]",
                f"[[{_W1}, {_W2}]]", "[1.0]", "", (33.1,)),
    SeedExample("ReLU (§1.2.1)", "1.2.1", "ReLU", "[[1.0, 2.0, -3.0], [4.0, 5.0, -6.0]]", "", "", "",
                (1.0, 2.0, 0.0, 4.0, 5.0, 0.0)),
    SeedExample("Sigmoid → 0.7311 … 0.0025 (§1.2.1)", "1.2.1", "Sigmoid", "[[1.0, 2.0, -3.0], [4.0, 5.0, -6.0]]",
                "", "", "", (0.7311, 0.8808, 0.0474, 0.9820, 0.9933, 0.0025)),
    SeedExample("Flatten (2, 2, 3) → (2, 6) (§1.2.2)", "1.2.2", "Flatten",
                "[[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], [[7.0, 8.0, 9.0], [10.0, 11.0, 12.0]]]", "", "", "",
                tuple(float(i) for i in range(1, 13))),
    SeedExample("MaxPool2d 2×2 on the 3×3 input (continues §1.2.5)", "1.2.5", "MaxPool2d", _X33, "", "",
                "kernel_size=2, stride=1", (5.0, 6.0, 8.0, 9.0)),
    SeedExample("AvgPool2d 2×2 (continues §1.2.5)", "1.2.5", "AvgPool2d", _X33, "", "", "kernel_size=2, stride=1",
                (3.0, 4.0, 6.0, 7.0)),
    SeedExample("BatchNorm over a batch of 2 (continues §1.2.6)", "1.2.6", "BatchNorm",
                "[[1.0, 2.0, -3.0], [4.0, 5.0, -6.0]]", "", "", "", ()),
    SeedExample("LayerNorm per sample (continues §1.2.6)", "1.2.6", "LayerNorm",
                "[[1.0, 2.0, -3.0], [4.0, 5.0, -6.0]]", "", "", "", ()),
]
