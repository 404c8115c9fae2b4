"""Input checks shared by the compression entry points (values may arrive from a web form).

Every check raises a :class:`ValueError` that names the value and the rule, and rejects the
wrong type (a string where a number belongs, ``bool``, NaN, inf) before any arithmetic.
"""

from __future__ import annotations

import math
from typing import Any, Iterable

__all__ = ["check_fraction", "check_int", "check_float", "check_choice"]


def check_float(name: str, value: Any, lo: float, hi: float, *, lo_open: bool = False,
                hi_open: bool = False) -> float:
    """``value`` as a float in the interval ``[lo, hi]`` (``(`` / ``)`` where open).

    Raises:
        ValueError: for a non-number, NaN/inf, or a value outside the interval.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} {value!r} must be a number, not {type(value).__name__}")
    v = float(value)
    left, right = ("(" if lo_open else "["), (")" if hi_open else "]")
    rule = f"{left}{lo:g}, {hi:g}{right}"
    if not math.isfinite(v):
        raise ValueError(f"{name} {value!r} must be a finite number in {rule}")
    if v < lo or v > hi or (lo_open and v == lo) or (hi_open and v == hi):
        raise ValueError(f"{name} {value!r} must be in {rule}")
    return v


def check_fraction(name: str, value: Any) -> float:
    """A pruning/compression amount in ``[0, 1)`` (1 would remove everything)."""
    return check_float(name, value, 0.0, 1.0, hi_open=True)


def check_int(name: str, value: Any, lo: int, hi: int) -> int:
    """``value`` as an int in ``[lo, hi]``; floats are accepted only when integral (``3.0``).

    Raises:
        ValueError: for a non-integer, or a value outside ``[lo, hi]``.
    """
    if isinstance(value, bool):
        raise ValueError(f"{name} {value!r} must be an integer, not bool")
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if not isinstance(value, int):
        raise ValueError(f"{name} {value!r} must be an integer in [{lo}, {hi}]")
    if not lo <= value <= hi:
        raise ValueError(f"{name} {value} must be in [{lo}, {hi}]")
    return value


def check_choice(name: str, value: Any, choices: Iterable[str]) -> str:
    """``value`` if it is one of ``choices`` (a registry tuple), else a ValueError listing them."""
    options = tuple(choices)
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{name} {value!r} is not one of {list(options)}")
    return value
