"""Stream a library loop that reports through ``callback(step, metrics)``: run it in a worker
thread and hand its latest progress to a generator handler about twice a second.

The explain family's long loops (the sanity check, activation maximisation) take a
``callback`` and a ``stop`` event but are plain functions, not iterators; a Gradio generator
handler wraps them with :func:`stream` and yields a status line per progress report.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Iterator, TypeVar

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
    latest: dict[str, Any] = {}
    box: dict[str, Any] = {}
    lock = threading.Lock()

    def callback(step: int, metrics: dict[str, Any]) -> None:
        with lock:
            latest.clear()
            latest.update(metrics, step=step)

    def work() -> None:
        try:
            box["result"] = run(callback)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the handler's thread
            box["error"] = exc

    worker = threading.Thread(target=work, name="explain-stream", daemon=True)
    worker.start()
    try:
        while worker.is_alive():
            worker.join(every)
            if worker.is_alive():
                with lock:
                    snapshot = dict(latest)
                yield snapshot, None
    except GeneratorExit:
        if stop is not None:
            stop.set()
        raise
    if "error" in box:
        raise box["error"]
    with lock:
        snapshot = dict(latest)
    yield snapshot, box["result"]
