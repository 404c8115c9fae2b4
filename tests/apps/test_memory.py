"""apps/memory.py: the idle trim decides from CPU time alone, trims once per burst of work, and
every call is harmless where glibc is absent."""

from __future__ import annotations

import threading

import pytest

import apps.memory as M


class FakeClocks:
    """Wall and CPU clocks the test moves by hand."""

    def __init__(self) -> None:
        self.t, self.c = 0.0, 0.0

    def tick(self, seconds: float = 1.0, cpu: float = 0.0) -> None:
        self.t += seconds
        self.c += cpu


@pytest.fixture
def fake():
    clocks, calls = FakeClocks(), []
    trimmer = M.IdleTrimmer(idle_s=3.0, idle_load=0.1, min_work_s=1.0, cpu=lambda: clocks.c,
                            clock=lambda: clocks.t, release=lambda: calls.append(clocks.t))
    return clocks, trimmer, calls


def test_no_trim_without_work(fake):
    clocks, trimmer, calls = fake
    for _ in range(20):
        clocks.tick(1.0, cpu=0.07)  # an idle server's event loop only
        assert not trimmer.step()
    assert calls == []


def test_one_trim_after_a_burst_once_quiet(fake):
    clocks, trimmer, calls = fake
    for _ in range(5):  # a request computing: never trimmed mid-way
        clocks.tick(1.0, cpu=0.9)
        assert not trimmer.step()
    quiet = []
    for _ in range(10):
        clocks.tick(1.0, cpu=0.07)
        quiet.append(trimmer.step())
    assert quiet.count(True) == 1 and quiet.index(True) == 2  # 3 s quiet (samples at +1, +2, +3 s)
    assert trimmer.trims == 1 and len(calls) == 1


def test_next_burst_trims_again_and_own_cpu_is_not_work(fake):
    clocks, trimmer, calls = fake
    clocks.tick(1.0, cpu=2.0)
    trimmer.step()
    for _ in range(4):
        clocks.tick(1.0)
        trimmer.step()
    assert len(calls) == 1
    clocks.tick(1.0, cpu=0.5)  # a small event: less than min_work_s, no trim for it
    for _ in range(5):
        clocks.tick(1.0)
        trimmer.step()
    assert len(calls) == 1
    clocks.tick(1.0, cpu=1.5)
    for _ in range(5):
        clocks.tick(1.0)
        trimmer.step()
    assert len(calls) == 2


def test_a_failing_release_is_logged_not_raised(caplog):
    def boom() -> None:
        raise RuntimeError("no")

    clocks = FakeClocks()
    trimmer = M.IdleTrimmer(cpu=lambda: clocks.c, clock=lambda: clocks.t, release=boom)
    clocks.tick(1.0, cpu=5.0)
    trimmer.step()
    results = []
    for _ in range(5):
        clocks.tick(1.0)
        results.append(trimmer.step())
    assert True in results and "idle memory trim failed" in caplog.text


def test_real_trim_and_tune_are_harmless():
    assert isinstance(M.trim(), bool)
    assert M.trim() is (M.libc() is not None)
    bytearray(50_000_000)  # something to give back
    M.trim()


def test_without_glibc_everything_is_a_no_op(monkeypatch):
    monkeypatch.setattr(M, "_LIBC", None)
    assert M.libc() is None
    assert M.trim() is False
    assert M.tune_malloc() is False
    assert M.start_idle_trim() is None


def test_explicit_env_wins_and_switch_turns_it_off(monkeypatch):
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert M.tune_malloc() is False
    monkeypatch.setenv(M.ENV_IDLE_TRIM, "0")
    assert M.start_idle_trim() is None


def test_the_thread_trims_after_work_then_stops(monkeypatch):
    if M.libc() is None:
        pytest.skip("no glibc")
    done = threading.Event()
    clocks = FakeClocks()
    trimmer = M.IdleTrimmer(idle_s=0.05, idle_load=0.1, min_work_s=1.0, cpu=lambda: clocks.c,
                            release=done.set)
    clocks.c = 2.0  # work happened after it was created
    trimmer.start(interval=0.01)
    try:
        assert done.wait(10)
    finally:
        trimmer.stop()
    assert not trimmer._thread.is_alive()

