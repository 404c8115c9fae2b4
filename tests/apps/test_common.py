from __future__ import annotations

import gradio as gr
import pytest

from apps.common import InternalError, guard


def test_value_error_becomes_gr_error_with_its_message():
    @guard
    def f():
        raise ValueError("kernel_size 5 is larger than padded input 4")

    with pytest.raises(gr.Error) as info:
        f()
    assert not isinstance(info.value, InternalError)
    assert "kernel_size 5 is larger than padded input 4" in str(info.value.message)


def test_other_exceptions_are_logged_and_shown_short(caplog):
    @guard
    def f():
        raise KeyError("secret internals")

    with pytest.raises(InternalError) as info:
        f()
    msg = str(info.value.message)
    assert msg.startswith("Internal error (ref ") and "secret internals" not in msg
    ref = msg.split("ref ")[1][:8]
    assert any(ref in r.getMessage() for r in caplog.records)


def test_generators_are_guarded_too():
    @guard
    def g():
        yield 1
        raise ValueError("epochs 10000 is above the cap 200")

    it = g()
    assert next(it) == 1
    with pytest.raises(gr.Error) as info:
        next(it)
    assert info.value.message == "epochs 10000 is above the cap 200"


def test_gr_error_passes_through():
    @guard
    def f():
        raise gr.Error("already friendly")

    with pytest.raises(gr.Error) as info:
        f()
    assert info.value.message == "already friendly"
