"""Run-time chores: seeding, device choice, and scoped torch thread count."""

from __future__ import annotations

import contextlib
import random
import threading
from typing import Iterator

import numpy as np
import torch

__all__ = ["seed_everything", "default_device", "torch_threads"]


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and CUDA) so a run is reproducible."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # also seeds every CUDA device


#: Held while a run seeds torch's global RNG and draws from it (a model's initial weights), so a
#: concurrent run's ``manual_seed`` cannot land in the middle of another's initialisation.
RNG_LOCK = threading.RLock()

_THREADS_LOCK = threading.Lock()
_THREADS_USERS = 0
_THREADS_SAVED = 0


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Temporarily run torch with ``n`` intra-op threads (process-wide; restored when the last
    run that asked for it ends)."""
    global _THREADS_USERS, _THREADS_SAVED
    if n <= 0:
        yield
        return
    with _THREADS_LOCK:
        if _THREADS_USERS == 0:
            _THREADS_SAVED = torch.get_num_threads()
        _THREADS_USERS += 1
        torch.set_num_threads(n)
    try:
        yield
    finally:
        with _THREADS_LOCK:
            _THREADS_USERS -= 1
            if _THREADS_USERS == 0:
                torch.set_num_threads(_THREADS_SAVED)


def default_device() -> torch.device:
    """CUDA when present, else CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
