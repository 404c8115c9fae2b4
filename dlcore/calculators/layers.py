"""Layer calculator: output shape (formula substituted step by step), parameters and MACs.

Every layer of the notes' table §1.1.1 and what they list as missing (dilated, depthwise
and transposed convolutions, pooling with ``ceil_mode``, norms, embeddings, recurrent and
attention layers). A layer is written as in PyTorch::

    >>> r = analyze("Conv2d(1, 6, kernel_size=3, stride=2, padding=1)", (1, 1, 28, 28))
    >>> r.output_shape
    (1, 6, 14, 14)
    >>> r.shape_steps[0]
    'H_out = ⌊(L_in + 2·padding − dilation·(kernel_size − 1) − 1)/stride + 1⌋ = ⌊(28 + 2·1 − 1·(3 − 1) − 1)/2 + 1⌋ = ⌊27/2 + 1⌋ = ⌊14.5⌋ = 14'

Conventions: MACs are multiply-accumulates of the matrix products and convolutions of one
forward pass (``torch.utils.flop_counter.FlopCounterMode`` FLOPs / 2); recurrent layers
count every cell's products at every time step (see :mod:`dlcore.calculators.recurrent`).
Nothing is allocated: a (64, 3, 4096, 4096) input is analysed in microseconds.
"""

from __future__ import annotations

from typing import Any, Sequence

from dlcore.calculators import basic, conv, recurrent  # noqa: F401 - fill the registry
from dlcore.calculators.spec import (REGISTRY, LayerReport, call_text, normalize_args, parse_call,
                                     parse_shapes)

__all__ = ["LAYER_NAMES", "FAMILIES", "analyze", "build_torch", "check_with_torch", "layer_signature", "LayerReport"]

#: Every layer the calculator knows, in the order the UI lists them.
LAYER_NAMES: list[str] = basic.BASIC_LAYERS[:7] + conv.CONV_LAYERS + basic.BASIC_LAYERS[7:] + recurrent.RECURRENT_LAYERS
FAMILIES: dict[str, str] = {n: REGISTRY[n].family for n in LAYER_NAMES}


def _resolve(layer: str | tuple[str, Sequence[Any], dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    if isinstance(layer, tuple) and len(layer) == 3 and isinstance(layer[0], str):
        name, args, kwargs = layer
    else:
        name, args, kwargs = parse_call(layer)  # type: ignore[arg-type]  # raises for non-text
    if name not in REGISTRY:
        close = [n for n in LAYER_NAMES if n.lower() == name.lower()]
        hint = f" — did you mean {close[0]}?" if close else f"; known layers: {', '.join(LAYER_NAMES)}"
        raise ValueError(f"unknown layer {name!r}{hint}")
    return name, normalize_args(REGISTRY[name], list(args), dict(kwargs))


def analyze(layer: str | tuple[str, Sequence[Any], dict[str, Any]],
            input_shape: str | Sequence[int] | Sequence[Sequence[int]]) -> LayerReport:
    """Analyse one layer applied to an input of the given shape.

    Args:
        layer: the layer as PyTorch code, e.g. ``"Conv2d(1, 6, 5, padding=2)"`` or
            ``"nn.LSTM(1, 64, batch_first=True)"``, or ``(name, args, kwargs)``.
        input_shape: ``(1, 1, 28, 28)`` (text or sequence); attention layers also take
            several shapes, ``[(L, N, E), (S, N, E), (S, N, E)]``, and ``Transformer`` takes
            ``[src, tgt]``.

    Returns:
        a :class:`LayerReport` with output shape(s), substituted formulas, params and MACs.

    Raises:
        ValueError: an unknown layer, a bad argument, or an input the layer cannot take;
            the message names the value and the rule.
    """
    name, a = _resolve(layer)
    shapes = parse_shapes(input_shape)
    rep = REGISTRY[name].fn(a, shapes)
    rep.call = call_text(REGISTRY[name], a)
    rep.kind = name
    return rep


def layer_signature(name: str) -> str:
    """``"Conv2d(in_channels, out_channels, kernel_size, stride=1, …)"`` for help text.

    Raises:
        ValueError: for a name that is not in :data:`LAYER_NAMES`.
    """
    if not isinstance(name, str) or name not in REGISTRY:
        raise ValueError(f"layer type {str(name)[:40]!r} is not one of: {', '.join(LAYER_NAMES)}")
    d = REGISTRY[name]
    return f"{name}(" + ", ".join(p.name if p.required else f"{p.name}={p.default!r}" for p in d.params) + ")"


def build_torch(layer: str | tuple[str, Sequence[Any], dict[str, Any]], device: str = "cpu") -> Any:
    """Build the real ``torch.nn`` module for a layer (used to check the calculator and to
    obtain torch's own error message). Arguments are checked by :func:`analyze`'s rules first."""
    import torch.nn as nn

    name, a = _resolve(layer)
    kwargs = {k: v for k, v in a.items() if v is not None}
    if name.startswith("AdaptiveAvgPool"):
        kwargs["output_size"] = a["output_size"]
    if name in ("RNN", "GRU") and "proj_size" in kwargs:  # pragma: no cover - not a param of theirs
        kwargs.pop("proj_size")
    if name == "LayerNorm" and not a["bias"]:
        kwargs["bias"] = False
    import torch

    with torch.device(device):  # built directly on the device: a meta Transformer costs no memory
        return getattr(nn, name)(**kwargs)


def check_with_torch(layer: str, input_shape: str | Sequence[int] | Sequence[Sequence[int]]) -> tuple[bool, str]:
    """Build the real ``torch.nn`` layer on the ``meta`` device (no memory, no arithmetic), run it
    on meta tensors of the input shape(s), and compare output shape(s) and parameter count with
    :func:`analyze`. Returns ``(agrees, one-line message)``; never raises for torch's own errors."""
    import warnings

    import torch

    rep = analyze(layer, input_shape)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m = build_torch(layer, device="meta").eval()
            dtype = torch.long if rep.kind == "Embedding" else torch.float32
            xs = [torch.empty(s, device="meta", dtype=dtype) for s in rep.input_shapes]
            if rep.kind == "MultiheadAttention" and len(xs) == 1:
                xs = xs * 3
            if rep.kind == "Transformer" and len(xs) == 1:
                xs = xs * 2
            out = m(*xs)
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        return False, f"torch raised {type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
    main = out[0] if isinstance(out, tuple) else out
    got = {"output": tuple(main.shape), "params": sum(p.numel() for p in m.parameters())}
    want = {"output": rep.output_shape, "params": rep.params}
    if isinstance(out, tuple) and "h_n" in rep.extra:
        h = out[1][0] if isinstance(out[1], tuple) else out[1]
        got["h_n"], want["h_n"] = tuple(h.shape), rep.extra["h_n"]
    if got != want:
        return False, f"torch gives {got}, the calculator {want}"
    return True, f"torch {torch.__version__.split('+')[0]} agrees: nn.{rep.call} → " + ", ".join(
        f"{k} {v}" for k, v in got.items())
