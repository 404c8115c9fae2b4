"""Stream a library loop that reports through ``callback(step, metrics)``: run it in a worker
thread and hand its latest progress to a generator handler about twice a second.

The explain family's long loops (the sanity check, activation maximisation) take a
``callback`` and a ``stop`` event but are plain functions, not iterators; a Gradio generator
handler wraps them with :func:`stream` and yields a status line per progress report.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Iterator, TypeVar

from apps.streaming import progress_stream

__all__ = ["stream", "EVERY_S"]

T = TypeVar("T")
#: Seconds between progress reports (the status line updates about twice a second).
EVERY_S = 0.5


def stream(run: Callable[[Callable[[int, dict[str, Any]], None]], T], every: float = EVERY_S,
           stop: threading.Event | None = None) -> Iterator[tuple[dict[str, Any], T | None]]:
    """Yield ``(latest progress, None)`` while ``run(callback)`` works, then ``(progress, result)``.

    ``progress`` is ``{"step": step, **metrics}`` from the last callback. An exception in
    ``run`` is raised here (in the handler's thread, where the error policy catches it). If
    the consumer stops early (a closed generator), ``stop`` is set so the loop ends soon.
    """
    inner = progress_stream(run, stop, every, name="explain-stream")
    try:
        for snapshot, result, _ in inner:
            yield snapshot, result
    finally:
        inner.close()  # a closed consumer closes the worker's stream now (it sets ``stop``)
