"""The torch thread count a computation runs with is the one it chose, whichever thread runs it.

CI found the attack tab's black-box and retrain answers differing between a request served alone
and two served together: float reductions are split by the intra-op thread count, the count is
per thread (OpenMP), a new thread starts from the count set last anywhere in the process, and
``torch_threads`` left a thread at 1 when another scope was still open.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import torch

from dlcore.train import runtime
from dlcore.train.runtime import pin_threads, threads_per_step, torch_threads


def _other() -> int:
    """A count that differs from the default."""
    return 1 if runtime.DEFAULT_THREADS != 1 else 2


def _in_thread(fn):
    out: dict[str, object] = {}

    def run() -> None:
        out["v"] = fn()
    t = threading.Thread(target=run)
    t.start()
    t.join()
    return out["v"]


def test_overlapping_scopes_on_two_threads_each_restore_their_own_thread():
    n = _other()
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    seen: dict[str, int] = {}

    def a() -> None:
        pin_threads()
        with torch_threads(n):
            a_in.set()
            b_in.wait(5)
        seen["a_after"] = torch.get_num_threads()       # b's scope is still open
        a_out.set()

    def b() -> None:
        pin_threads()
        a_in.wait(5)
        with torch_threads(n):
            b_in.set()
            a_out.wait(5)
            seen["b_inside"] = torch.get_num_threads()  # a left its scope meanwhile
        seen["b_after"] = torch.get_num_threads()

    ts = [threading.Thread(target=a), threading.Thread(target=b)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert seen == {"a_after": runtime.DEFAULT_THREADS, "b_inside": n, "b_after": runtime.DEFAULT_THREADS}


def test_a_new_thread_inherits_the_last_count_set_and_pin_threads_undoes_it():
    n = _other()
    pin_threads()
    with torch_threads(n):
        inherited = _in_thread(torch.get_num_threads)
        pinned = _in_thread(lambda: (pin_threads(), torch.get_num_threads())[1])
    assert inherited == n        # the hazard: what pin_threads is for
    assert pinned == runtime.DEFAULT_THREADS


def test_threads_per_step_holds_on_whichever_thread_resumes_the_generator():
    n = _other()

    def steps():
        for i in range(4):
            yield i, torch.get_num_threads()

    gen = threads_per_step(steps(), n)
    with ThreadPoolExecutor(2) as pool:                  # each step on a pool thread, as Gradio does
        got, after = [], []
        for _ in range(4):
            def one():
                pin_threads()
                item = next(gen)
                return item, torch.get_num_threads()
            item, back = pool.submit(one).result()
            got.append(item)
            after.append(back)
    assert got == [(i, n) for i in range(4)]
    assert after == [runtime.DEFAULT_THREADS] * 4
    assert list(gen) == []


def test_threads_per_step_with_zero_leaves_the_count_and_closes_the_inner_generator():
    closed = []

    def steps():
        try:
            yield torch.get_num_threads()
            yield torch.get_num_threads()
        finally:
            closed.append(True)
    pin_threads()
    gen = threads_per_step(steps(), 0)
    assert next(gen) == runtime.DEFAULT_THREADS
    gen.close()
    assert closed == [True]


def test_set_default_threads_checks_its_value():
    for bad in (0, -1, 1.5, "2", True):
        with pytest.raises(ValueError, match="an integer ≥ 1"):
            runtime.set_default_threads(bad)  # type: ignore[arg-type]
    old, n = runtime.DEFAULT_THREADS, _other()
    try:
        runtime.set_default_threads(n)
        assert _in_thread(lambda: (pin_threads(), torch.get_num_threads())[1]) == n
    finally:
        runtime.set_default_threads(old)
