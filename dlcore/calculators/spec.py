"""The layer registry's plumbing: argument specs, safe parsing of ``Conv2d(1, 6, 5)`` calls,
the :class:`LayerReport` every calculator returns, and the substituted output-size formulas.

A layer is described the way PyTorch spells it, e.g. ``Conv2d(1, 6, kernel_size=5, padding=2)``.
The text is parsed with :mod:`ast` and every argument with :func:`ast.literal_eval` (never
``eval``); each value is checked against the layer's :class:`Param` list, so a bad value
raises a ``ValueError`` that names the layer, the argument, the value and the rule.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Literal, Sequence

#: Activations the worked arithmetic writes out (here, torch-free, so registries load without torch).
ACTIVATION_KINDS: tuple[str, ...] = ("ReLU", "Sigmoid", "Tanh", "GELU", "Softmax")

__all__ = [
    "MAX_INT", "MAX_DIM", "Param", "LayerDef", "LayerReport", "REGISTRY", "register",
    "parse_call", "normalize_args", "fmt_shape", "conv_out_len", "pool_out_len",
    "tconv_out_len", "parse_shapes", "prod",
]

#: Largest integer argument (channels, features, sizes) a calculator accepts.
MAX_INT = 10_000_000
#: Largest size of one input dimension.
MAX_DIM = 10_000_000
MAX_CALL_CHARS = 2_000

ParamKind = Literal["int", "ints", "float", "bool", "str", "int_or_none", "ints_or_none", "padding", "shape"]


@dataclass(frozen=True)
class Param:
    """One constructor argument of a layer, as in ``torch.nn``.

    ``kind`` "ints" accepts an int or a tuple of ``n`` ints (``n`` = spatial dims);
    "padding" additionally accepts the strings ``"same"`` / ``"valid"``.
    """

    name: str
    kind: ParamKind
    default: Any = None
    required: bool = False
    lo: float | None = None
    hi: float | None = None
    choices: tuple[str, ...] = ()


@dataclass
class LayerReport:
    """What the calculator says about one layer applied to one input.

    Attributes:
        kind: layer class name (``"Conv2d"``).
        call: the normalized constructor call (``"Conv2d(1, 6, kernel_size=5, padding=2)"``).
        input_shapes: the input shape(s) the layer was applied to.
        output_shape: the main output's shape.
        extra: other outputs by name (``h_n``, ``c_n``, ``attn_weights``).
        shape_steps: the output-size formulas, written out with the numbers substituted.
        params: number of trainable parameters; ``params_formula`` shows how.
        buffers: number of non-trainable buffer elements (BatchNorm running stats).
        macs: multiply-accumulates of one forward pass; ``macs_formula`` shows how.
        notes: conventions and warnings torch would print.
        corrections: places where the seed notes are wrong, with the correct value.
    """

    kind: str
    call: str
    input_shapes: list[tuple[int, ...]]
    output_shape: tuple[int, ...]
    extra: dict[str, tuple[int, ...]] = field(default_factory=dict)
    shape_steps: list[str] = field(default_factory=list)
    params: int = 0
    params_formula: str = "0 (no weights)"
    buffers: int = 0
    macs: int = 0
    macs_formula: str = "0 (no multiply-accumulates with weights)"
    notes: list[str] = field(default_factory=list)
    corrections: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class LayerDef:
    """A registered layer: its arguments (torch's order) and its analysis function."""

    name: str
    family: str
    params: tuple[Param, ...]
    fn: Callable[[dict[str, Any], list[tuple[int, ...]]], LayerReport]
    spatial: int = 1  # n for "ints" arguments
    doc: str = ""


REGISTRY: dict[str, LayerDef] = {}


def register(name: str, family: str, params: Sequence[Param], spatial: int = 1, doc: str = ""
             ) -> Callable[[Callable[..., LayerReport]], Callable[..., LayerReport]]:
    def deco(fn: Callable[..., LayerReport]) -> Callable[..., LayerReport]:
        REGISTRY[name] = LayerDef(name, family, tuple(params), fn, spatial, doc)
        return fn
    return deco


def prod(xs: Sequence[int]) -> int:
    return math.prod(xs) if xs else 1


def fmt_shape(shape: Sequence[int]) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _literal(node: ast.AST, where: str) -> Any:
    try:
        return ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError, RecursionError, MemoryError):
        src = ast.unparse(node) if hasattr(ast, "unparse") else "?"
        raise ValueError(f"{where}: {src!r} is not a literal (use numbers, True/False, "
                         "None, strings in quotes or tuples such as (3, 3))") from None


def parse_call(text: str) -> tuple[str, list[Any], dict[str, Any]]:
    """Parse ``"nn.Conv2d(1, 6, kernel_size=5)"`` into ``("Conv2d", [1, 6], {"kernel_size": 5})``.

    A bare name (``"ReLU"``) means a call with no arguments.

    Raises:
        ValueError: not text, empty, too long, not a call, or arguments that are not literals.
    """
    if not isinstance(text, str):
        raise ValueError(f"layer must be text such as Conv2d(1, 6, kernel_size=5), got {type(text).__name__}")
    s = text.strip()
    if not s:
        raise ValueError("layer is empty: write it as in PyTorch, e.g. Conv2d(1, 6, kernel_size=5)")
    if len(s) > MAX_CALL_CHARS:
        raise ValueError(f"layer text has {len(s)} characters; the limit is {MAX_CALL_CHARS}")
    for prefix in ("torch.nn.", "nn."):
        if s.startswith(prefix):
            s = s[len(prefix):]
    try:
        tree = ast.parse(s, mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise ValueError(f"layer {text.strip()[:60]!r} could not be read: write it as in PyTorch, "
                         "e.g. Conv2d(1, 6, kernel_size=5, padding=2)") from None
    if isinstance(tree, ast.Name):
        return tree.id, [], {}
    if not (isinstance(tree, ast.Call) and isinstance(tree.func, ast.Name)):
        raise ValueError(f"layer {text.strip()[:60]!r} is not a call such as Linear(3, 4)")
    name = tree.func.id
    args = [_literal(a, f"{name} argument {i + 1}") for i, a in enumerate(tree.args)]
    kwargs: dict[str, Any] = {}
    for kw in tree.keywords:
        if kw.arg is None:
            raise ValueError(f"{name}: **kwargs are not supported; name each argument")
        kwargs[kw.arg] = _literal(kw.value, f"{name}({kw.arg}=...)")
    return name, args, kwargs


def _check_int(layer: str, p: Param, v: Any, label: str) -> int:
    if isinstance(v, float) and not math.isfinite(v):
        raise ValueError(f"{layer}: {label} must be a whole number, got {v!r}")
    if isinstance(v, bool) or not isinstance(v, (int, float)) or (isinstance(v, float) and v != int(v)):
        raise ValueError(f"{layer}: {label} must be a whole number, got {v!r}")
    v = int(v)
    lo = p.lo if p.lo is not None else -MAX_INT
    hi = p.hi if p.hi is not None else MAX_INT
    if v < lo:
        raise ValueError(f"{layer}: {label} = {v} is below the minimum {lo:g}")
    if v > hi:
        raise ValueError(f"{layer}: {label} = {v} is above the maximum {hi:g}")
    return v


def _check(layer: str, p: Param, v: Any, n: int) -> Any:
    k = p.kind
    if v is None:
        if k.endswith("_or_none") or (p.default is None and not p.required):
            return None
        raise ValueError(f"{layer}: {p.name} must be given a value, got None")
    if k == "int" or k == "int_or_none":
        return _check_int(layer, p, v, p.name)
    if k in ("ints", "ints_or_none", "padding"):
        if k == "padding" and isinstance(v, str):
            if v not in ("same", "valid"):
                raise ValueError(f"{layer}: padding = {v!r} is not allowed; use a number, a tuple, "
                                 "'valid' or 'same'")
            return v
        if isinstance(v, (list, tuple)):
            if len(v) != n:
                raise ValueError(f"{layer}: {p.name} needs 1 or {n} numbers, got {len(v)}: {tuple(v)!r}")
            return tuple(_check_int(layer, p, x, f"{p.name}[{i}]") if not (x is None and k == "ints_or_none")
                         else None for i, x in enumerate(v))
        return (_check_int(layer, p, v, p.name),) * n
    if k == "shape":
        items = list(v) if isinstance(v, (list, tuple)) else [v]
        if not 1 <= len(items) <= 6:
            raise ValueError(f"{layer}: {p.name} needs 1 to 6 sizes, got {v!r}")
        return tuple(_check_int(layer, p, x, f"{p.name}[{i}]") for i, x in enumerate(items))
    if k == "float":
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise ValueError(f"{layer}: {p.name} must be a finite number, got {v!r}")
        if p.lo is not None and v < p.lo or p.hi is not None and v > p.hi:
            raise ValueError(f"{layer}: {p.name} = {v:g} must be between {p.lo:g} and {p.hi:g}")
        return float(v)
    if k == "bool":
        if not isinstance(v, bool):
            raise ValueError(f"{layer}: {p.name} must be True or False, got {v!r}")
        return v
    if k == "str":
        if not isinstance(v, str) or (p.choices and v not in p.choices):
            raise ValueError(f"{layer}: {p.name} = {v!r} is not one of {', '.join(map(repr, p.choices))}")
        return v
    raise AssertionError(k)  # pragma: no cover - registry bug


def normalize_args(d: LayerDef, args: Sequence[Any], kwargs: dict[str, Any]) -> dict[str, Any]:
    """Bind positional and keyword arguments like Python would, check them, fill defaults."""
    names = [p.name for p in d.params]
    if len(args) > len(names):
        raise ValueError(f"{d.name} takes at most {len(names)} arguments ({', '.join(names)}), got {len(args)}")
    bound: dict[str, Any] = dict(zip(names, args))
    for k, v in kwargs.items():
        if k not in names:
            raise ValueError(f"{d.name} has no argument {k!r}; its arguments are {', '.join(names)}")
        if k in bound:
            raise ValueError(f"{d.name} got {k!r} twice (by position and by name)")
        bound[k] = v
    out: dict[str, Any] = {}
    for p in d.params:
        if p.name in bound:
            out[p.name] = _check(d.name, p, bound[p.name], d.spatial)
        elif p.required:
            raise ValueError(f"{d.name} needs the argument {p.name!r}")
        else:
            out[p.name] = _check(d.name, p, p.default, d.spatial) if p.default is not None else None
    return out


def call_text(d: LayerDef, a: dict[str, Any]) -> str:
    """The normalized constructor call: required arguments by position, changed defaults by name."""
    def show(v: Any) -> str:
        if isinstance(v, tuple) and len(set(v)) == 1 and d.spatial > 1:
            return repr(v[0])
        if isinstance(v, tuple) and len(v) == 1:
            return repr(v[0])
        return repr(v)
    parts: list[str] = []
    for p in d.params:
        v = a[p.name]
        if p.required:
            parts.append(show(v))
        else:
            dflt = _check(d.name, p, p.default, d.spatial) if p.default is not None else None
            if v != dflt:
                parts.append(f"{p.name}={show(v)}")
    return f"{d.name}({', '.join(parts)})"


def parse_shapes(text: str | Sequence[Any], name: str = "input shape") -> list[tuple[int, ...]]:
    """``"(1, 1, 28, 28)"`` -> ``[(1, 1, 28, 28)]``; ``"(10, 2, 8), (7, 2, 8)"`` -> two shapes."""
    if isinstance(text, str):
        s = text.strip()
        if not s:
            raise ValueError(f"{name} is empty: type a shape such as (1, 1, 28, 28)")
        if len(s) > MAX_CALL_CHARS:
            raise ValueError(f"{name} has {len(s)} characters; the limit is {MAX_CALL_CHARS}")
        try:
            v = ast.literal_eval(s)
        except (ValueError, SyntaxError, TypeError, RecursionError, MemoryError):
            raise ValueError(f"{name} {s[:40]!r} could not be read: type a shape such as (1, 1, 28, 28)") from None
    else:
        v = text
    if isinstance(v, int) and not isinstance(v, bool):
        v = (v,)
    if not isinstance(v, (list, tuple)) or not v:
        raise ValueError(f"{name} must be a tuple of sizes such as (1, 1, 28, 28), got {v!r}")
    groups = list(v) if all(isinstance(x, (list, tuple)) for x in v) else [v]
    if len(groups) > 3:
        raise ValueError(f"{name}: at most 3 input shapes (query, key, value), got {len(groups)}")
    out = []
    for g in groups:
        if not isinstance(g, (list, tuple)) or not g or len(g) > 6:
            raise ValueError(f"{name} {g!r} must have 1 to 6 sizes")
        for x in g:
            if isinstance(x, bool) or not isinstance(x, int):
                raise ValueError(f"{name} {tuple(g)!r}: size {x!r} is not a whole number")
            if x < 1:
                raise ValueError(f"{name} {tuple(g)!r}: size {x} must be at least 1")
            if x > MAX_DIM:
                raise ValueError(f"{name} {tuple(g)!r}: size {x} is above the limit {MAX_DIM}")
        out.append(tuple(g))
    return out


def _floor_step(lhs: str, sym: str, num_parts: str, num: int, den: int, res: int) -> str:
    if den == 1:
        return f"{lhs} = ⌊{sym}⌋ = ⌊{num_parts}/1 + 1⌋ = {num} + 1 = {res}"
    q = num / den
    return f"{lhs} = ⌊{sym}⌋ = ⌊{num_parts}/{den} + 1⌋ = ⌊{num}/{den} + 1⌋ = ⌊{q + 1:g}⌋ = {res}"


def conv_out_len(lhs: str, L: int, k: int, s: int, p_l: int, p_r: int, d: int) -> tuple[int, str]:
    """Conv output size ``⌊(L + 2p − d(k−1) − 1)/s + 1⌋`` with the numbers substituted.

    ``p_l``/``p_r`` differ only for ``padding="same"`` with an odd total padding.
    """
    num = L + p_l + p_r - d * (k - 1) - 1
    res = num // s + 1
    pad = f"2·{p_l}" if p_l == p_r else f"{p_l} + {p_r}"
    sym = f"({lhs[:-4]}_in + 2·padding − dilation·(kernel_size − 1) − 1)/stride + 1"
    return res, _floor_step(lhs, sym, f"({L} + {pad} − {d}·({k} − 1) − 1)", num, s, res)


def pool_out_len(lhs: str, L: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> tuple[int, str]:
    """Pooling output size (torch's ``pooling_output_shape``), floor or ceil mode."""
    num = L + 2 * p - d * (k - 1) - 1
    if not ceil_mode:
        res = num // s + 1
        sym = f"({lhs[:-4]}_in + 2·padding − dilation·(kernel_size − 1) − 1)/stride + 1"
        return res, _floor_step(lhs, sym, f"({L} + 2·{p} − {d}·({k} − 1) − 1)", num, s, res)
    res = -(-num // s) + 1
    step = (f"{lhs} = ⌈({lhs[:-4]}_in + 2·padding − dilation·(kernel_size − 1) − 1)/stride⌉ + 1 = "
            f"⌈({L} + 2·{p} − {d}·({k} − 1) − 1)/{s}⌉ + 1 = ⌈{num}/{s}⌉ + 1 = {res}")
    if (res - 1) * s >= L + p:
        start = (res - 1) * s
        res -= 1
        step += (f"; the last window would start at {start} ≥ L_in + padding = {L + p} "
                 f"(only padding), so it is dropped: {res}")
    return res, step


def tconv_out_len(lhs: str, L: int, k: int, s: int, p: int, op: int, d: int) -> tuple[int, str]:
    """Transposed-conv output size ``(L − 1)·s − 2p + d(k − 1) + output_padding + 1``."""
    res = (L - 1) * s - 2 * p + d * (k - 1) + op + 1
    return res, (f"{lhs} = ({lhs[:-4]}_in − 1)·stride − 2·padding + dilation·(kernel_size − 1) + output_padding + 1"
                 f" = ({L} − 1)·{s} − 2·{p} + {d}·({k} − 1) + {op} + 1 = {res}")
