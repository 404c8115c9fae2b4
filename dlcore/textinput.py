"""Parse numbers, lists and tensors that a learner types as text.

Text is parsed with :func:`json.loads` first and :func:`ast.literal_eval` second (so Python
literals such as ``(1, 2)`` or ``1e-3`` work), never with ``eval``. Size and depth are
capped *before* parsing, so a pasted megabyte of brackets cannot hang the server.
Every failure is a :class:`ValueError` that names the field, the value and the rule.
"""

from __future__ import annotations

import ast
import json
import math
from typing import TYPE_CHECKING, Any, Sequence

if TYPE_CHECKING:  # torch is imported by the two functions that build tensors, not at import
    import torch

__all__ = [
    "MAX_TEXT_CHARS",
    "MAX_ELEMENTS",
    "MAX_DEPTH",
    "parse_literal",
    "parse_number",
    "parse_int",
    "parse_int_tuple",
    "parse_tensor",
    "format_tensor",
    "parse_text",
    "parse_choice",
    "parse_choices",
    "parse_bool",
]

MAX_TEXT_CHARS = 20_000
MAX_ELEMENTS = 4_096
MAX_DEPTH = 6


def _short(text: str, n: int = 40) -> str:
    text = text.strip()
    return text if len(text) <= n else text[: n - 1] + "…"


def parse_literal(text: str, name: str = "input", *, max_chars: int = MAX_TEXT_CHARS,
                  max_depth: int = MAX_DEPTH) -> Any:
    """Parse ``text`` as a JSON or Python literal (numbers, lists, tuples), safely.

    Raises:
        ValueError: empty text, text longer than ``max_chars``, nesting deeper than
            ``max_depth``, or text that is not a literal.
    """
    if not isinstance(text, str):
        return text
    s = text.strip()
    if not s:
        raise ValueError(f"{name} is empty: type a number or a list such as [1.0, 2.0]")
    if len(s) > max_chars:
        raise ValueError(f"{name} has {len(s)} characters; the limit is {max_chars}")
    # Depth check on the raw text (cheap, before any parser recursion).
    depth = best = 0
    for ch in s:
        if ch in "[(":
            depth += 1
            best = max(best, depth)
        elif ch in "])":
            depth -= 1
    if best > max_depth:
        raise ValueError(f"{name} is nested {best} levels deep; the limit is {max_depth}")
    try:
        return json.loads(s)
    except (json.JSONDecodeError, RecursionError):
        pass
    try:
        return ast.literal_eval(s)
    except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError) as exc:
        where = ""
        if isinstance(exc, SyntaxError) and exc.offset:
            where = f" at character {exc.offset}"
        raise ValueError(
            f"{name} could not be read{where}: {_short(s)!r} is not a number or a list "
            "of numbers (use the form [[1, 2], [3, 4]])"
        ) from None


def _describe(v: Any) -> str:
    """A short, safe description of any value for a message (never the whole of a huge one)."""
    if isinstance(v, str):
        return repr(_short(v, 60)) if len(v) <= 60 else f"a text of {len(v):,} characters ({_short(v, 30)!r})"
    if isinstance(v, (list, tuple, dict, set)):
        return f"a {type(v).__name__} of {len(v)} item(s)"
    r = repr(v)
    return r if len(r) <= 60 else r[:59] + "…"


def parse_text(value: Any, name: str = "text", *, max_chars: int = MAX_TEXT_CHARS,
               allow_empty: bool = False) -> str:
    """Check that ``value`` is a string of at most ``max_chars`` characters (stripped of nothing).

    Raises:
        ValueError: not a string, empty (unless ``allow_empty``), or too long.
    """
    if value is None and allow_empty:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"{name} must be text, got {_describe(value)}")
    if not allow_empty and not value.strip():
        raise ValueError(f"{name} is empty: type something first")
    if len(value) > max_chars:
        raise ValueError(f"{name} has {len(value):,} characters; the limit is {max_chars:,}")
    return value


def parse_choice(value: Any, name: str, choices: Sequence[Any]) -> Any:
    """Check that ``value`` is one of ``choices`` (the registry a dropdown was built from).

    Raises:
        ValueError: naming the value and listing the choices.
    """
    options = list(choices)
    try:
        ok = value in options
    except TypeError:  # unhashable junk compared against the options
        ok = False
    if not ok or isinstance(value, bool) != any(isinstance(o, bool) for o in options if o == value):
        shown = ", ".join(repr(o) for o in options[:12]) + (" …" if len(options) > 12 else "")
        raise ValueError(f"{name} {_describe(value)} is not one of: {shown}")
    return value


def parse_choices(value: Any, name: str, choices: Sequence[str], noun: str = "") -> list[str]:
    """A non-empty list of registry names (a checkbox group's value): registry order kept,
    duplicates dropped.

    Raises:
        ValueError: not a list, empty ("tick at least one <noun>"), too long, or a name not in ``choices``.
    """
    options = list(choices)
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"{name} must be a list of {noun + ' ' if noun else ''}names such as {options[:2]}")
    if not value:
        raise ValueError(f"{name}: tick at least one{' ' + noun if noun else ''}")
    if len(value) > 2 * len(options):
        raise ValueError(f"{name} has {len(value)} entries; there are only {len(options)}")
    chosen = {parse_choice(v, name, options) for v in value}
    return [c for c in options if c in chosen]


def parse_bool(value: Any, name: str) -> bool:
    """Accept True/False (and 0/1) only.

    Raises:
        ValueError: for anything else (a string, a list, None, ...).
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    raise ValueError(f"{name} must be true or false, got {_describe(value)}")


def parse_number(text: str | float | int, name: str = "value", *, lo: float | None = None,
                 hi: float | None = None, allow_nonfinite: bool = False) -> float:
    """Parse one real number and check ``lo <= x <= hi``."""
    v = parse_literal(text, name, max_chars=100) if isinstance(text, str) else text
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ValueError(f"{name} must be a number, got {_describe(v)}")
    v = float(v)
    if not allow_nonfinite and not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {v}")
    if lo is not None and v < lo:
        raise ValueError(f"{name} = {v:g} is below the minimum {lo:g}")
    if hi is not None and v > hi:
        raise ValueError(f"{name} = {v:g} is above the maximum {hi:g}")
    return v


def parse_int(text: str | float | int, name: str = "value", *, lo: int | None = None,
              hi: int | None = None) -> int:
    """Parse one integer (``3`` or ``3.0``, not ``3.5``) and check its range."""
    v = parse_number(text, name)
    if v != int(v):
        raise ValueError(f"{name} must be a whole number, got {v:g}")
    v = int(v)
    if lo is not None and v < lo:
        raise ValueError(f"{name} = {v} is below the minimum {lo}")
    if hi is not None and v > hi:
        raise ValueError(f"{name} = {v} is above the maximum {hi}")
    return v


def parse_int_tuple(text: str | int | Sequence[int], n: int, name: str = "value", *,
                    lo: int | None = None, hi: int | None = None) -> tuple[int, ...]:
    """Parse ``3`` or ``(3, 5)`` / ``[3, 5]`` into an ``n``-tuple of ints (a scalar is repeated)."""
    v = parse_literal(text, name) if isinstance(text, str) else text
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        items = [v] * n
    elif isinstance(v, (list, tuple)):
        items = list(v)
        if len(items) != n:
            raise ValueError(f"{name} needs 1 or {n} numbers, got {len(items)}: {v!r}")
    else:
        raise ValueError(f"{name} must be a whole number or a list of {n}, got {v!r}")
    return tuple(parse_int(x, f"{name}[{i}]", lo=lo, hi=hi) for i, x in enumerate(items))


def _shape_of(v: Any, name: str, path: str = "") -> list[int]:
    if isinstance(v, bool):
        raise ValueError(f"{name}{path} is {v!r}; only numbers are allowed")
    if isinstance(v, (int, float)):
        return []
    if isinstance(v, (list, tuple)):
        if len(v) == 0:
            raise ValueError(f"{name}{path} is an empty list; every list needs at least one number")
        shapes = [_shape_of(x, name, f"{path}[{i}]") for i, x in enumerate(v)]
        for i, sh in enumerate(shapes[1:], start=1):
            if sh != shapes[0]:
                raise ValueError(
                    f"{name} is ragged: {name}{path}[0] has shape {tuple(shapes[0])} but "
                    f"{name}{path}[{i}] has shape {tuple(sh)}; every row must have the same length"
                )
        return [len(v)] + shapes[0]
    raise ValueError(f"{name}{path} is {v!r}; only numbers and lists of numbers are allowed")


def parse_tensor(text: str | Sequence[Any] | float, name: str = "tensor", *,
                 dtype: "torch.dtype | None" = None, max_elements: int = MAX_ELEMENTS,
                 ndim: int | Sequence[int] | None = None,
                 shape: Sequence[int] | None = None, allow_nonfinite: bool = False
                 ) -> "torch.Tensor":
    """Parse text such as ``[[0.5, 0.2], [0.7, 0.9]]`` into a tensor.

    Args:
        text: the typed text (or an already parsed nested list / number).
        name: what the user calls this field; used in every message.
        dtype: result dtype (default ``torch.float64``, the reference precision of the calculators).
        max_elements: cap on the number of elements (default 4,096).
        ndim: allowed number of dimensions (an int or a collection of ints).
        shape: exact shape required (``-1`` matches any size).
        allow_nonfinite: accept NaN / inf (default False).

    Raises:
        ValueError: with the field name, the value and the rule that was broken.
    """
    import torch

    dtype = torch.float64 if dtype is None else dtype
    v = parse_literal(text, name) if isinstance(text, str) else text
    if isinstance(v, str):
        raise ValueError(f"{name} must be numbers, got the string {v!r}")
    sh = _shape_of(v, name)
    numel = math.prod(sh) if sh else 1
    if numel > max_elements:
        raise ValueError(f"{name} has {numel} elements; the limit is {max_elements}")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if len(sh) not in allowed:
            want = " or ".join(str(a) for a in allowed)
            raise ValueError(f"{name} must have {want} dimension(s), got shape {tuple(sh)}")
    if shape is not None:
        if len(shape) != len(sh) or any(w not in (-1, g) for w, g in zip(shape, sh)):
            want = tuple("*" if w == -1 else w for w in shape)
            raise ValueError(f"{name} must have shape {want}, got {tuple(sh)}")
    t = torch.tensor(v, dtype=dtype)
    if not allow_nonfinite and t.is_floating_point() and not bool(torch.isfinite(t).all()):
        bad = torch.nonzero(~torch.isfinite(t))[0].tolist()
        raise ValueError(f"{name} contains a NaN or infinity at index {bad}; use finite numbers")
    return t


def format_tensor(t: "torch.Tensor", decimals: int = 4) -> str:
    """Format a tensor as a nested list with ``decimals`` places (for Markdown/LaTeX text)."""
    def fmt(x: Any) -> str:
        if isinstance(x, list):
            return "[" + ", ".join(fmt(y) for y in x) + "]"
        if isinstance(x, float):
            r = round(x, decimals)
            return f"{r:.{decimals}f}".rstrip("0").rstrip(".") if r == r else "nan"
        return str(x)
    return fmt(t.detach().cpu().tolist())
