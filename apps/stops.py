"""The one stop mechanism of the app: a per-session ``threading.Event`` that a long loop polls
(re-exported by :mod:`apps.common`)."""

from __future__ import annotations

import threading
from typing import Any

__all__ = ["StopRegistry", "STOPS", "session_key"]


def session_key(request: Any) -> str:
    """A stable key for one browser tab or API client (Gradio's session hash)."""
    return getattr(request, "session_hash", None) or "anonymous"


class StopRegistry:
    """The one stop mechanism: a ``threading.Event`` per (session, task) that a loop polls.

    A handler runs ``with STOPS.running(request, "train") as stop: ... if stop.is_set(): ...``;
    the Stop button calls ``STOPS.stop(request, "train")``. The loop then finishes its step and
    ends with a status that says it stopped (nothing is killed mid-step).
    """

    def __init__(self) -> None:
        self._events: dict[tuple[str, str], threading.Event] = {}
        self._lock = threading.Lock()

    class _Running:
        def __init__(self, reg: "StopRegistry", key: tuple[str, str]) -> None:
            self.reg, self.key, self.event = reg, key, threading.Event()

        def __enter__(self) -> threading.Event:
            with self.reg._lock:
                old = self.reg._events.get(self.key)
                if old is not None:  # a second run in the same session replaces the first
                    old.set()
                self.reg._events[self.key] = self.event
            return self.event

        def __exit__(self, *exc: Any) -> None:
            with self.reg._lock:
                if self.reg._events.get(self.key) is self.event:
                    del self.reg._events[self.key]

    def running(self, request: Any, task: str) -> "StopRegistry._Running":
        """Context manager giving the stop Event of this session's run of ``task``."""
        return StopRegistry._Running(self, (session_key(request), task))

    def stop(self, request: Any, task: str) -> bool:
        """Ask this session's running ``task`` to stop; False when nothing is running."""
        with self._lock:
            ev = self._events.get((session_key(request), task))
        if ev is None:
            return False
        ev.set()
        return True

    def is_running(self, request: Any, task: str) -> bool:
        with self._lock:
            return (session_key(request), task) in self._events


STOPS = StopRegistry()


