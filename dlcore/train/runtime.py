"""Run-time chores: seeding, device choice, and scoped torch thread count."""

from __future__ import annotations

import contextlib
import random
import threading
from typing import Iterable, Iterator, TypeVar

import numpy as np
import torch

__all__ = ["seed_everything", "default_device", "torch_threads", "threads_per_step", "pin_threads",
           "set_default_threads"]

T = TypeVar("T")


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and CUDA) so a run is reproducible."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # also seeds every CUDA device


#: Held while a run seeds torch's global RNG and draws from it (a model's initial weights), so a
#: concurrent run's ``manual_seed`` cannot land in the middle of another's initialisation.
RNG_LOCK = threading.RLock()

#: The intra-op thread count every request and worker thread starts from: torch's setting when this
#: module is first imported (its default for this machine, or ``OMP_NUM_THREADS``), before any
#: scope below changed it. :func:`set_default_threads` moves it.
DEFAULT_THREADS = torch.get_num_threads()


def set_default_threads(n: int) -> None:
    """Make ``n`` (≥ 1) the count :func:`pin_threads` gives every thread, and give it to this one."""
    global DEFAULT_THREADS
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"the default thread count must be an integer ≥ 1, got {n!r}")
    DEFAULT_THREADS = n
    torch.set_num_threads(n)


def pin_threads() -> None:
    """Give the calling thread :data:`DEFAULT_THREADS` intra-op threads.

    With torch's OpenMP backend the count is per thread (OpenMP's nthreads ICV and MKL's local
    setting), and a new thread starts from whatever count was set last anywhere in the process.
    Float reductions (a GEMM's, a convolution's backward) are split by that count, so a result
    depends on it: the same attack on the zoo CNN spent 1,479 queries on 2 threads and 1,377 on 1
    (measured here). A server thread that ran another request, or a worker started while another
    request held :func:`torch_threads`, would otherwise compute with a count it did not choose.
    Called where a request's work starts: every event handler and each of its resumes
    (``apps.common.guard``), each streamed work thread, the warm-up thread.
    """
    if torch.get_num_threads() != DEFAULT_THREADS:
        torch.set_num_threads(DEFAULT_THREADS)


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run the enclosed torch ops of the *calling thread* on ``n`` intra-op threads (``n`` ≤ 0:
    leave the count alone); the thread's own count is restored on exit.

    Enter and leave it on one thread: do not hold it across a ``yield`` that a server may resume
    on another thread; wrap the generator in :func:`threads_per_step` instead.
    """
    old = torch.get_num_threads()
    if n <= 0 or n == old:
        yield
        return
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def threads_per_step(items: Iterable[T], n: int) -> Iterator[T]:
    """Iterate ``items`` with each step computed on ``n`` intra-op threads.

    The scope is entered and left inside every ``next``, so it holds on whichever thread resumes
    the generator (Gradio runs each step of a streamed handler on a free worker thread), and the
    thread is left as it was between steps.
    """
    it = iter(items)
    try:
        while True:
            with torch_threads(n):
                try:
                    item = next(it)
                except StopIteration:
                    return
            yield item
    finally:
        close = getattr(it, "close", None)
        if close is not None:
            with torch_threads(n):
                close()


def default_device() -> torch.device:
    """CUDA when present, else CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
