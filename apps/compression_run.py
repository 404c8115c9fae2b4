"""Shared wiring of the compression tab (not a tab): stream a library run, stop it, format numbers.

:func:`stream` runs a :mod:`dlcore.compression` call (which takes ``callback`` and
``stop_event``) in a worker thread and yields a :class:`Run` snapshot about twice a second, so
a generator handler can show progress in its status line while the run goes on; the last
snapshot carries the result. Stopping is the tab's :data:`apps.common.STOPS` event, passed to
the library as ``stop_event`` (the run ends its current step and returns what it has).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import gradio as gr

from apps.common import STOPS, stop_button
from apps.streaming import progress_stream

__all__ = ["KINDS", "KIND_VALUES", "POLL_S", "Run", "stream", "stopper", "kib", "pct", "points", "bar", "table_md"]

#: The two base models of the panels (label, value); LeNet-300-100 is the papers' model.
KINDS = [("LeNet-300-100 (MLP)", "mlp"), ("CNN (2 conv blocks)", "cnn")]
KIND_VALUES = ("mlp", "cnn")
KIND_LABEL = dict((v, k) for k, v in KINDS)
#: seconds between two progress frames
POLL_S = 0.5


@dataclass
class Run:
    """One snapshot of a running call: the progress metrics (merged over all events so far, and
    ``last``: the latest event's alone), how many events arrived, the seconds since the start,
    and the result once ``done``."""

    progress: dict[str, Any] = field(default_factory=dict)
    last: dict[str, Any] = field(default_factory=dict)
    events: int = 0
    seconds: float = 0.0
    done: bool = False
    result: Any = None


def stream(work: Callable[[Callable[[int, dict], None], threading.Event], Any],
           stop: threading.Event) -> Iterator[Run]:
    """Run ``work(callback, stop)`` in a worker thread (:func:`apps.streaming.progress_stream`);
    yield a snapshot every :data:`POLL_S` seconds and a last one with ``done=True`` and the result
    (an exception is re-raised here)."""
    last: list[dict[str, Any]] = [{}]
    count = [0]
    t0 = time.perf_counter()

    def job(progress: Callable[[int, dict[str, Any]], None]) -> Any:
        def callback(step: int, metrics: dict) -> None:
            last[0] = {**metrics, "step": step}
            count[0] += 1
            progress(step, metrics)
        return work(callback, stop)

    inner = progress_stream(job, stop, POLL_S, accumulate=True, name="compression-run")
    try:
        for merged, result, done in inner:
            yield Run(merged, dict(last[0]), count[0], time.perf_counter() - t0, done, result if done else None)
    finally:
        inner.close()  # the page went away mid-run: the library stops at its next step


def stopper(task: str, what: str) -> Callable[..., str]:
    """The Stop button's handler for ``task`` (a LIGHT event; :func:`apps.common.stop_button`)."""
    return stop_button(task, f"⏹ Stopping {what} after the current step…",
                       f"Nothing is running right now: press the button to start {what}.")


def kib(n: int | None) -> str:
    """Bytes as KiB with a thousands separator (``—`` for None)."""
    return "—" if n is None else f"{n / 1024:,.1f} KiB"


def pct(x: float | None, digits: int = 2) -> str:
    return "—" if x is None else f"{100 * x:.{digits}f}%"


def points(drop: float) -> str:
    """An accuracy change in points, signed (a drop of 0.0033 is "−0.33 points")."""
    v = -100 * drop
    return f"{'+' if v >= 0 else '−'}{abs(v):.2f} points"


def bar(done: float, width: int = 16) -> str:
    """A text progress bar for a fraction in [0, 1]."""
    k = max(0, min(width, round(width * done)))
    return "▰" * k + "▱" * (width - k)


def table_md(header: list[str], rows: list[list[Any]], align: str | None = None) -> str:
    """A Markdown table (``align``: one of l/r per column, default left then right)."""
    al = align or "l" + "r" * (len(header) - 1)
    sep = ["---:" if a == "r" else "---" for a in al]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(sep) + "|"]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)
