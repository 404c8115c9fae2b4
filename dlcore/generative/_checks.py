"""Checks for values that may arrive from a web form (any type): one clear ValueError each.

Every public entry point of :mod:`dlcore.generative` passes its user-facing numbers
through these, so a string, a bool, NaN or a huge value is refused with a message that
names the value and the rule, and no loop can be asked to run unbounded.
"""

from __future__ import annotations

import math
from typing import Any, Iterable

__all__ = ["as_int", "as_float", "as_choice"]


def as_int(name: str, value: Any, lo: int, hi: int) -> int:
    """``value`` as an int in ``[lo, hi]`` (an integral float such as 50.0 is accepted).

    Raises:
        ValueError: for a non-number, a bool, a fraction, NaN or a value outside the range.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} {value!r} must be an integer in [{lo}, {hi}]")
    if isinstance(value, float) and (not math.isfinite(value) or value != int(value)):
        raise ValueError(f"{name} {value!r} must be an integer in [{lo}, {hi}]")
    v = int(value)
    if not lo <= v <= hi:
        raise ValueError(f"{name} {v} must be in [{lo}, {hi}]")
    return v


def as_float(name: str, value: Any, lo: float = -math.inf, hi: float = math.inf, *,
             lo_open: bool = False, hi_open: bool = False) -> float:
    """``value`` as a finite float in the interval ``lo..hi`` (open ends where asked).

    Raises:
        ValueError: for a non-number, a bool, NaN/inf or a value outside the interval.
    """
    left, right = "(" if lo_open else "[", ")" if hi_open else "]"
    rule = f"in {left}{lo:g}, {hi:g}{right}"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} {value!r} must be a number {rule}")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{name} {v} must be a finite number {rule}")
    if v < lo or v > hi or (lo_open and v == lo) or (hi_open and v == hi):
        raise ValueError(f"{name} {v:g} must be {rule}")
    return v


def as_choice(name: str, value: Any, options: Iterable[str]) -> str:
    """``value`` if it is one of ``options``.

    Raises:
        ValueError: naming the value and the allowed options.
    """
    opts = tuple(options)
    if not isinstance(value, str) or value not in opts:
        raise ValueError(f"{name} {value!r} is not one of {opts}")
    return value
