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


def test_inside_an_event_the_error_is_recorded_for_the_in_place_display(monkeypatch):
    """Within an event, guard hides the toast (visible=False) and records the message; the
    failure follow-up registered by ``on`` shows it in place and clears the other outputs."""
    from types import SimpleNamespace

    from apps import common

    monkeypatch.setattr(common, "_current_session", lambda: "s1")

    @guard
    def f():
        raise ValueError("top_k -3 must be at least 1")

    with pytest.raises(gr.Error) as info:
        f()
    assert info.value.visible is False
    md, plot, state_like = gr.Markdown("old"), gr.Plot(), gr.Slider()
    show = common._failure_handler([md, plot, state_like], md)
    out = show(SimpleNamespace(session_hash="s1"))
    assert out[0] == "⚠ top_k -3 must be at least 1" and out[1] is None
    assert out[2].__class__.__name__ == "skip" or isinstance(out[2], dict)  # inputs are left alone
    # no message recorded -> still a status, never a crash
    assert show(SimpleNamespace(session_hash="other"))[0].startswith("⚠ ")


def test_on_adds_a_failure_follow_up_and_live_never_raises():
    from apps.common import live, on

    @guard
    def f(x):
        raise ValueError(f"x {x!r} is not allowed")

    with gr.Blocks() as demo:
        t = gr.Textbox("a")
        md = gr.Markdown()
        b = gr.Button()
        on(b.click, f, t, md, api_name="f")
    deps = demo.get_config_file()["dependencies"]
    assert any(d.get("trigger_only_on_failure") and d.get("trigger_after") == deps[0]["id"] for d in deps)
    assert live(f)("b") == "⚠ x 'b' is not allowed"


def test_lenient_inputs_render_as_their_gradio_parents_and_pass_junk_through():
    from apps.common import Checkbox, Dropdown, Number, Radio, Slider

    with gr.Blocks():
        comps = [Number(1, precision=0, minimum=1), Slider(1, 5, 2), Dropdown(["a", "b"], value="a"),
                 Radio(["a", "b"], value="a"), Checkbox(False)]
    for c in comps:
        assert c.get_block_name() == type(c).__mro__[1].__name__.lower()
        assert c.preprocess([1, "junk"]) == [1, "junk"]  # the handler validates and names the field
    assert comps[0].preprocess(2.5) == 2.5  # no silent rounding


def test_stops_are_per_session_and_per_task():
    from types import SimpleNamespace

    from apps.common import StopRegistry

    reg = StopRegistry()
    a, b = SimpleNamespace(session_hash="a"), SimpleNamespace(session_hash="b")
    assert reg.stop(a, "train") is False  # nothing running
    with reg.running(a, "train") as ev_a, reg.running(b, "train") as ev_b:
        assert reg.stop(a, "train") is True
        assert ev_a.is_set() and not ev_b.is_set()
        assert reg.is_running(b, "train") and not reg.is_running(a, "gpt")
    assert not reg.is_running(a, "train")


def test_first_open_triggers_follow_the_tab_nesting():
    from apps.common import _open_triggers

    with gr.Blocks() as demo:
        with gr.Tab("first") as t1:
            with gr.Tab("inner-first") as i1:
                pass
            with gr.Tab("inner-second") as i2:
                pass
        with gr.Tab("second") as t2:
            pass
    assert len(_open_triggers(i1, demo)) == 3   # inner-first's select, first's select, the page load
    assert len(_open_triggers(i2, demo)) == 1   # only when inner-second is selected
    assert len(_open_triggers(t2, demo)) == 1
    assert len(_open_triggers(t1, demo)) == 2


def test_md_escape_keeps_stars_and_underscores():
    from apps.common import md_escape

    assert md_escape("(*, in_features)") == "(\\*, in\\_features)"


def test_two_events_of_one_session_failing_at_once_each_show_their_own_message():
    from apps.common import _Messages

    box = _Messages()
    box.put("s1", "race", "η = 5 is above the maximum 1")
    box.put("s1", "step", "t = 0 is below the minimum 1")
    assert box.pop("s1", "race") == "η = 5 is above the maximum 1"
    assert box.pop("s1", "step") == "t = 0 is below the minimum 1"
    box.put("s1", "race", "again")
    assert box.pop("s1") == "again" and box.pop("s1", "race") is None  # a follow-up without its handler


def test_first_open_never_paints_over_the_panels_own_click(monkeypatch):
    """The slow default example of a panel arrives after the learner's quick click: it is dropped,
    whether the button was registered before or after the first-open event, and for an example's
    run too (CI: a Maximise registered before its panel's first open lost its error message)."""
    import apps.common as common
    import apps.firstopen as firstopen
    from apps.common import on, on_first_open

    session = {"id": "s1"}
    monkeypatch.setattr(common, "_current_session", lambda: session["id"])
    with gr.Blocks() as demo:
        with gr.Tab("panel"):
            md, other, pick = gr.Markdown(), gr.Markdown(), gr.Textbox()
            btn, early = gr.Button(), gr.Button()
            on(early.click, guard(lambda: "early"), None, md)  # registered before the panel exists
            on_first_open(guard(lambda: "default"), None, md)
            on(btn.click, guard(lambda: "clicked"), None, md)
            on(btn.click, guard(lambda: "elsewhere"), None, other)
            gr.Examples([["x"]], [pick], md, fn=guard(lambda x: f"example {x}"), run_on_click=True,
                        cache_examples=False)
    assert firstopen.protect_panels(demo) == 3  # early, clicked and the example's run; not "elsewhere"
    assert firstopen.protect_panels(demo) == 0  # never wrapped twice
    fns = [f.fn for f in demo.fns.values() if f.fn is not None and "failure" not in f.name]
    first = next(f for f in fns if f.__qualname__.startswith("first_open."))
    handlers = {}
    with monkeypatch.context() as m:  # find each handler by its answer, without marking anything
        m.setattr(firstopen, "_mark", lambda panels: None)
        for fn in fns:
            if "<lambda>" in fn.__qualname__ and fn is not first:
                handlers[_call(fn)] = fn
    assert set(handlers) == {"early", "clicked", "elsewhere", "example x"}
    assert first(False) == (True, "default")                        # nobody clicked yet: the default shows
    for answer, fn in handlers.items():
        session["id"] = f"fresh session for {answer}"
        assert _call(fn) == answer
        done, shown = first(False)
        if answer == "elsewhere":                                   # another panel's event does not count
            assert shown == "default"
        else:                                                       # the panel's own event started first ...
            assert done is True and not isinstance(shown, str)      # ... and the default is skipped


def _call(fn):
    """Call a test handler, with the example's one value if it takes one."""
    import inspect

    return fn("x") if len(inspect.signature(fn).parameters) == 1 else fn()


def _left_at(count: int, fn):
    """Run ``fn`` on a new thread that a previous request left at ``count`` torch threads (which also
    makes ``count`` what threads started later begin with)."""
    import threading

    import torch

    from dlcore.train.runtime import pin_threads

    out = {}

    def run():
        torch.set_num_threads(count)
        try:
            out["v"] = fn()
        finally:
            pin_threads()
    t = threading.Thread(target=run)
    t.start()
    t.join()
    return out["v"]


def test_every_call_and_every_resume_starts_from_the_default_thread_count():
    """A result depends on the intra-op thread count (CI: one attack, 1,479 queries on 2 threads and
    1,377 on 1), so a handler must not inherit whatever its server thread ran before."""
    import torch

    from apps.streaming import progress_stream
    from dlcore.train import runtime

    other = 1 if runtime.DEFAULT_THREADS != 1 else 2

    @guard
    def plain():
        return torch.get_num_threads()

    @guard
    def streamed():
        for _ in range(3):
            yield torch.get_num_threads()

    @guard
    def worker():  # a streamed library run: its work thread is new and inherits the last count set
        for _, res, done in progress_stream(lambda cb: torch.get_num_threads(), None, 0.01):
            if done:
                yield res

    assert _left_at(other, plain) == runtime.DEFAULT_THREADS
    gen = streamed()
    assert [_left_at(other, lambda: next(gen)) for _ in range(3)] == [runtime.DEFAULT_THREADS] * 3
    assert _left_at(other, lambda: list(worker())) == [runtime.DEFAULT_THREADS]


def test_a_stop_with_nothing_running_keeps_the_finished_status_and_says_so_once() -> None:
    """A Stop pressed after the run ended (or on a cached result) must not wipe that run's summary."""
    from types import SimpleNamespace

    from apps.common import STOPS, stop_button

    stop = stop_button("unit_stop", "⏹ stopping after the current step…", "Nothing is running: press **Go** first.")
    req = SimpleNamespace(session_hash="stop-keeps")
    summary = "**Done**: loss 0.25 after 40 steps."
    kept = stop(summary, request=req)
    assert kept == summary + "\n\n*Nothing is running: press **Go** first.*"
    assert stop(kept, request=req) == kept                       # pressed again: the note once
    for junk in ("", "   ", None, 3.5, ["x"], {"a": 1}, "x" * 20_001):
        assert stop(junk, request=req) == "Nothing is running: press **Go** first.", repr(junk)[:40]
    assert stop("Nothing is running: press **Go** first.", request=req) == "Nothing is running: press **Go** first."
    with STOPS.running(req, "unit_stop") as ev:
        assert stop(summary, request=req) == "⏹ stopping after the current step…" and ev.is_set()
    assert stop(request=req) == "Nothing is running: press **Go** first."
    assert stop.__name__ == "stop_unit_stop"
