"""Give freed memory back to the operating system (glibc), so the server's RSS comes down after use.

What a tab frees (a request's activations, a 200 MB temporary while a data set is converted, a
figure) goes back to glibc's malloc, which keeps most of it: in the main heap and in up to
8 x cores per-thread arenas, only the top of a heap is returned. With every tab used once, the
server stayed at its peak, 3.1-3.6 GB (bench/bench_memory.py); these two general mechanisms, no
per-tab code, brought that to ~2.65 GB (the bound on Gradio's sessions in launch.py does the rest):

* :func:`tune_malloc`: at most :data:`ARENA_MAX` malloc arenas (``mallopt(M_ARENA_MAX)``, the
  in-process equivalent of ``MALLOC_ARENA_MAX``; set before the worker threads start, so
  ``python launch.py``, ``gradio launch.py`` and a Space all get it without a wrapper script).
  Fewer arenas = less memory stranded in half-empty per-thread heaps. An explicit
  ``MALLOC_ARENA_MAX`` in the environment wins.
* :class:`IdleTrimmer`: a daemon thread that, once the process has done some work and then gone
  idle (little CPU for a few seconds), runs ``gc.collect()`` and ``malloc_trim(0)``, which
  returns the free pages of every arena. It never runs while a request is computing, and runs
  once per burst of work, not periodically.

Both are no-ops where glibc is absent (musl, macOS, Windows): :func:`trim` returns False.
``DL_LAB_IDLE_TRIM=0`` turns the idle trim off. No torch, no gradio here.
"""

from __future__ import annotations

import ctypes
import gc
import logging
import os
import threading
import time
from typing import Callable

__all__ = ["ARENA_MAX", "ENV_IDLE_TRIM", "libc", "trim", "tune_malloc", "IdleTrimmer", "start_idle_trim"]

log = logging.getLogger("dl_lab")

#: Most malloc arenas (glibc's default is 8 per core; 2 keeps the measured saving on a 2-core Space).
ARENA_MAX = 2
#: Environment switch: ``0`` / ``false`` / ``no`` / ``off`` disables the idle trim.
ENV_IDLE_TRIM = "DL_LAB_IDLE_TRIM"
_M_ARENA_MAX = -8  # glibc malloc.h

_LIBC: ctypes.CDLL | None | bool = False  # False = not looked up yet


def libc() -> ctypes.CDLL | None:
    """glibc, if this process runs on it (it has ``malloc_trim`` and ``mallopt``), else None."""
    global _LIBC
    if _LIBC is False:
        found = None
        try:
            lib = ctypes.CDLL(None)  # the C library this process already runs on
            if hasattr(lib, "malloc_trim") and hasattr(lib, "mallopt"):
                lib.malloc_trim.argtypes, lib.malloc_trim.restype = [ctypes.c_size_t], ctypes.c_int
                lib.mallopt.argtypes, lib.mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
                found = lib
        except (OSError, TypeError):  # TypeError: Windows has no CDLL(None)
            pass
        _LIBC = found
    return _LIBC


def trim() -> bool:
    """Return the free memory of every malloc arena to the OS (``malloc_trim(0)``).

    Returns True when glibc did it, False where there is no glibc (nothing happens then).
    """
    lib = libc()
    if lib is None:
        return False
    lib.malloc_trim(0)
    return True


def tune_malloc(arena_max: int = ARENA_MAX) -> bool:
    """Cap the malloc arenas at ``arena_max`` (call before threads start). True if applied;
    False without glibc or when ``MALLOC_ARENA_MAX`` is already set in the environment."""
    if os.environ.get("MALLOC_ARENA_MAX"):
        return False
    lib = libc()
    if lib is None:
        return False
    return bool(lib.mallopt(_M_ARENA_MAX, int(arena_max)))


class IdleTrimmer:
    """Trim once after each burst of work, when the process has gone quiet.

    The decision (:meth:`step`) reads only the process's CPU time, so it knows nothing about
    Gradio: *work* = at least ``min_work_s`` CPU seconds since the last trim, counted only over
    sampling intervals busier than ``idle_load`` (an idle server's own polling never adds up to
    work); *quiet* = at most ``idle_load`` of one core used over the last ``idle_s`` seconds (an
    idle Gradio server uses ~7 %: its event loop polls; a computing request a core or more).

    Args:
        idle_s: how long the process must be quiet.
        idle_load: CPU seconds per second still counted as quiet.
        min_work_s: CPU seconds of work since the last trim that make a trim worth it.
        cpu: CPU-time clock (all threads); clock: wall clock. Injected in tests.
        release: what a trim does (default: ``gc.collect()`` then :func:`trim`).
    """

    def __init__(self, idle_s: float = 3.0, idle_load: float = 0.25, min_work_s: float = 1.0,
                 cpu: Callable[[], float] = time.process_time, clock: Callable[[], float] = time.monotonic,
                 release: Callable[[], object] | None = None) -> None:
        self.idle_s, self.idle_load, self.min_work_s = idle_s, idle_load, min_work_s
        self._cpu, self._clock = cpu, clock
        self._release = release or self._gc_and_trim
        self._samples: list[tuple[float, float]] = [(clock(), cpu())]  # (wall, cpu) over idle_s
        self._work = 0.0  # CPU seconds of busy intervals since the last trim
        self.trims = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @staticmethod
    def _gc_and_trim() -> None:
        gc.collect()
        trim()

    def step(self) -> bool:
        """Take one sample; trim if there was work since the last trim and it is quiet now.
        Returns True when it trimmed."""
        now, cpu = self._clock(), self._cpu()
        last_t, last_cpu = self._samples[-1]
        if cpu - last_cpu > self.idle_load * (now - last_t):
            self._work += cpu - last_cpu
        self._samples.append((now, cpu))
        while len(self._samples) > 1 and now - self._samples[1][0] >= self.idle_s:
            self._samples.pop(0)  # keep the newest sample that is at least idle_s old
        first_t, first_cpu = self._samples[0]
        if now - first_t < self.idle_s:  # not watched long enough to call it quiet
            return False
        if cpu - first_cpu > self.idle_load * (now - first_t) or self._work < self.min_work_s:
            return False
        t0 = time.perf_counter()
        try:
            self._release()
        except Exception:  # noqa: BLE001 - a failed trim only costs memory
            log.warning("idle memory trim failed", exc_info=True)
        self.trims += 1
        self._work = 0.0
        self._samples = [(self._clock(), self._cpu())]  # the trim's own CPU is not new work
        log.debug("idle memory trim took %.0f ms", (time.perf_counter() - t0) * 1000)
        return True

    def start(self, interval: float = 1.0) -> "IdleTrimmer":
        """Run :meth:`step` every ``interval`` seconds in a daemon thread."""
        def run() -> None:
            while not self._stop.wait(interval):
                self.step()

        self._thread = threading.Thread(target=run, name="dl-lab-idle-trim", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


def start_idle_trim() -> IdleTrimmer | None:
    """Start the idle trim for this server process (None where glibc is absent or
    ``DL_LAB_IDLE_TRIM`` turns it off)."""
    if os.environ.get(ENV_IDLE_TRIM, "1").strip().lower() in ("0", "false", "no", "off"):
        return None
    if libc() is None:
        return None
    return IdleTrimmer().start()
