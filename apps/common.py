"""Shared plumbing for every tab: errors, events, inputs, stopping, API declarations.

Each piece exists once here and every tab uses it:

* :func:`guard` wraps a handler: a ``ValueError`` from ``dlcore`` becomes a ``gr.Error`` with
  its own message (one log line, no traceback); anything else is logged with its traceback
  and shown as a short "internal error" with a reference, never a raw trace.
* :func:`on` registers an event with the house policy for failures: the message is shown
  **once, in place** (in the event's message Markdown; a toast only when it has none), the
  other outputs are cleared so no stale result sits beside an error, and API callers still
  get an error (``AppError`` with the same message).
* :func:`live`: the on-change variant of a handler: a half-typed input shows its message in
  place instead of failing.
* :data:`LIGHT` / :data:`HEAVY`: event settings for a 2-core machine. Cheap events skip the
  queue; heavy ones share one ``concurrency_id`` with a small limit.
* Input components (:class:`Number`, :class:`Slider`, :class:`Dropdown`, :class:`Radio`,
  :class:`Checkbox`) that pass whatever arrives through to the handler, which validates it
  with ``dlcore.textinput`` and names the field; Gradio's own checks would answer API junk
  with unnamed messages ("Value 0 is less than minimum value 1") or a ``TypeError``.
* :data:`STOPS`: the one stop mechanism (a per-session ``threading.Event`` a loop polls).
* :func:`on_first_open`: compute a panel's default example when its tab is first opened, so
  no panel is empty before the first click and nothing heavy runs before the page is served.
* :class:`Endpoint` / :class:`SeedRef`: what a tab declares for the API tests and the Start tab.
"""

from __future__ import annotations

import functools
import inspect
import logging
import threading
import time
import uuid
from collections import OrderedDict
from typing import Any, Callable, Sequence

import gradio as gr

from apps.contract import Endpoint, ErrorDemo, SeedRef, iter_outputs
from apps.stops import STOPS, StopRegistry, session_key
from apps.streaming import pin_threads
from dlcore.textinput import MAX_TEXT_CHARS

__all__ = ["guard", "on", "with_failure_policy", "live", "md_escape", "LIGHT", "HEAVY", "LATEX", "Endpoint", "SeedRef", "InternalError",
           "Number", "Slider", "Dropdown", "Radio", "Checkbox", "CheckboxGroup", "STOPS", "StopRegistry",
           "on_first_open", "session_key", "ErrorDemo", "iter_outputs", "stop_button", "STOP_EXAMPLES"]

log = logging.getLogger("dl_lab")

#: Cheap, sub-millisecond-to-millisecond events: no queue, answered at once.
LIGHT: dict[str, Any] = {"queue": False}
#: Heavy events: one shared pool, at most 2 at a time on a 2-core machine.
HEAVY: dict[str, Any] = {"concurrency_id": "heavy", "concurrency_limit": 2}
#: LaTeX delimiters for every Markdown that shows formulas.
LATEX: list[dict[str, Any]] = [{"left": "$$", "right": "$$", "display": True},
                               {"left": "$", "right": "$", "display": False}]


# ----------------------------------------------------------------------------- errors
class InternalError(gr.Error):
    """Shown for unexpected exceptions; carries a reference id that is also in the log."""


class _Messages:
    """The last error message per browser session, for the failure follow-up of :func:`on`."""

    def __init__(self, size: int = 2048, ttl: float = 120.0) -> None:
        self._items: OrderedDict[tuple[str, str | None], tuple[float, str, str]] = OrderedDict()
        self._lock = threading.Lock()
        self.size, self.ttl = size, ttl

    def put(self, session: str, where: str, message: str) -> None:
        """Keep ``message`` for the failure follow-up of handler ``where`` in ``session`` (and as
        the session's latest, for a follow-up that does not know its handler)."""
        with self._lock:
            for key in ((session, where), (session, None)):
                self._items[key] = (time.monotonic(), message, where)
                self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def pop(self, session: str, where: str | None = None) -> str | None:
        """The message of handler ``where`` (two events of one session failing at once each get
        their own), else the session's latest (which is then gone for its handler too)."""
        with self._lock:
            item = self._items.pop((session, where), None) if where else None
            if item is None:
                item = self._items.pop((session, None), None)
                if item is not None:
                    self._items.pop((session, item[2]), None)
            elif (latest := self._items.get((session, None))) is not None and latest[2] == where:
                del self._items[(session, None)]
        if item is None or time.monotonic() - item[0] > self.ttl:
            return None
        return item[1]


_MESSAGES = _Messages()


def _current_session() -> str | None:
    try:
        from gradio.context import LocalContext

        req = LocalContext.request.get(None)
    except (ImportError, LookupError):
        return None
    return None if req is None else session_key(req)


def _convert(exc: BaseException, where: str) -> gr.Error:
    if isinstance(exc, gr.Error):
        msg = str(exc.message)
        err = exc
    elif isinstance(exc, ValueError):
        msg = str(exc)
        log.info("rejected input in %s: %s", where, msg[:300])
        err = gr.Error(msg, print_exception=False)
    else:
        ref = uuid.uuid4().hex[:8]
        log.error("internal error ref=%s in %s", ref, where, exc_info=exc)
        msg = (f"Internal error (ref {ref}): {type(exc).__name__}. This is a bug in the lab, not in "
               "your input; the details are in the server log.")
        err = InternalError(msg, print_exception=False)
    session = _current_session()
    if session is not None:  # inside an event: the failure follow-up of `on` shows it in place
        _MESSAGES.put(session, where, msg)
        err.visible = False
    return err


def guard(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate an event handler (plain function or generator) with the error policy.

    Each call, and each resume of a generator (Gradio runs every step on a free worker thread),
    starts from the default torch thread count, so an answer never depends on what that server
    thread ran before.
    """
    where = getattr(fn, "__qualname__", "handler")
    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def gen_wrapper(*args: Any, **kwargs: Any) -> Any:
            it = fn(*args, **kwargs)
            try:
                while True:
                    pin_threads()
                    try:
                        item = next(it)
                    except StopIteration:
                        return
                    yield item
            except (KeyboardInterrupt, GeneratorExit):
                raise
            except Exception as exc:  # noqa: BLE001 - this is the one place that catches all
                raise _convert(exc, where) from None
            finally:
                it.close()
        return gen_wrapper

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        pin_threads()
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001
            raise _convert(exc, where) from None
    return wrapper


#: The API examples of every Stop endpoint: no status shown yet, and a finished run's summary to keep.
STOP_EXAMPLES: list[list[Any]] = [[""], ["**Finished.** The last run's summary."]]


def stop_button(task: str, stopping: str, idle: str) -> Callable[..., str]:
    """The Stop button's handler for ``task``: ``(the status now shown, request) -> the new status``.

    Wire it with the run's status as both input and output. While this session's ``task`` runs, it
    sets the stop event (:data:`STOPS`) and says ``stopping``; the loop ends its step and reports.
    Otherwise it keeps the status and adds ``idle`` under it (once), so a Stop pressed after the run
    finished, or on a result that came from the cache, does not wipe that run's summary; with no
    status to keep it says ``idle`` alone.
    """
    note = f"\n\n*{idle}*"

    def stop(current: Any = "", request: gr.Request = None) -> str:  # type: ignore[assignment]
        if STOPS.stop(request, task):
            return stopping
        kept = current.strip() if isinstance(current, str) and len(current) <= MAX_TEXT_CHARS else ""  # else not ours
        if not kept or kept == idle:
            return idle
        return kept if kept.endswith(note.strip()) else kept + note
    stop.__name__ = stop.__qualname__ = f"stop_{task}"
    stop.__doc__ = f"Stop this session's {task!r} after its current step, or keep the finished status."
    from apps.firstopen import leaves_panel

    return leaves_panel(guard(stop))


def _blank(comp: Any) -> Any:
    """What an output shows after its event failed: cleared if it displays a result."""
    if isinstance(comp, (gr.Markdown, gr.HTML)):
        return ""
    if isinstance(comp, (gr.Plot, gr.Image, gr.Gallery, gr.HighlightedText, gr.JSON, gr.Label,
                         gr.File, gr.Dataframe)):
        return None
    if isinstance(comp, gr.Textbox) and not comp.interactive:
        return ""
    return gr.skip()  # inputs used as outputs (sliders, dropdowns), buttons, state: left alone


def _failure_handler(outputs: Sequence[Any], message: Any, where: str | None = None) -> Callable[..., Any]:
    def show_failure(request: gr.Request) -> Any:
        msg = _MESSAGES.pop(session_key(request), where) or "That did not work (no message was recorded)."
        if message is None:  # no place for it on the page: a toast
            raise gr.Error(msg, print_exception=False)
        vals = [f"⚠ {msg}" if o is message else _blank(o) for o in outputs]
        return vals[0] if len(vals) == 1 else tuple(vals)
    return show_failure


def on(triggers: Any, fn: Callable[..., Any], inputs: Any, outputs: Any, *, api_name: str | None = None,
       message: Any = "auto", **settings: Any) -> Any:
    """Register ``fn`` on ``triggers`` (one event or a list) with the house failure policy.

    Args:
        triggers: e.g. ``button.click`` or ``[button.click, slider.release]``.
        fn: the handler (decorate it with :func:`guard`).
        inputs, outputs: components, as for ``gr.on``.
        api_name: the endpoint name (declared in the tab's ``ENDPOINTS``).
        message: the output that shows an error message in place: ``"auto"`` (default) = the
            first ``gr.Markdown`` among the outputs; ``None`` = show errors as a toast.
        **settings: ``LIGHT`` / ``HEAVY`` and other ``gr.on`` options.

    Returns:
        The dependency (chain ``.then`` / ``.success`` as usual).
    """
    dep = gr.on(triggers, fn, inputs, outputs, api_name=api_name, **settings)
    return with_failure_policy(dep, outputs, message=message, queue=settings.get("queue", True),
                               where=getattr(fn, "__qualname__", None))


def with_failure_policy(dep: Any, outputs: Any, *, message: Any = "auto", queue: bool = True,
                        where: str | None = None) -> Any:
    """Give an existing dependency (e.g. a ``.success(...)`` step of a chain) the failure policy of
    :func:`on`: on failure, its message in ``message`` (default: the first ``gr.Markdown`` of
    ``outputs``; None = a toast) and the other display outputs cleared. ``where``: the handler's
    ``__qualname__`` (its own message, when two events of one session fail at once). Returns ``dep``."""
    outs = [] if outputs is None else (list(outputs) if isinstance(outputs, (list, tuple)) else [outputs])
    if message == "auto":
        message = next((o for o in outs if isinstance(o, gr.Markdown)), None)
    shown = [o for o in outs if not isinstance(o, gr.State)]
    dep.failure(_failure_handler(shown, message, where), None, shown or None, queue=queue,
                show_progress="hidden", api_visibility="private",
                **({"concurrency_limit": None} if queue else {}))
    return dep


def live(fn: Callable[..., Any], n_out: int = 1) -> Callable[..., Any]:
    """On-change variant of a guarded handler: a half-typed input shows its message in place
    (first output), the other outputs are cleared; nothing raises."""
    def live_handler(*args: Any) -> Any:
        try:
            return fn(*args)
        except gr.Error as exc:
            session = _current_session()
            if session is not None:
                _MESSAGES.pop(session)
            msg = f"⚠ {exc.message}"
            return msg if n_out == 1 else (msg, *[None] * (n_out - 1))
    live_handler.__name__ = f"{getattr(fn, '__name__', 'handler')}_live"
    return live_handler


def md_escape(text: str) -> str:
    """Make library text safe inside Markdown: ``*`` and ``_`` in shapes such as ``(*, in_features)``
    would otherwise turn into italics and vanish."""
    return str(text).replace("\\", "\\\\").replace("*", "\\*").replace("_", "\\_")


# ----------------------------------------------------------------------------- inputs
def _pass_through(self: Any, payload: Any) -> Any:
    """Give the raw payload to the handler, which validates it and names the field."""
    return payload


# ``is_template`` makes the frontend render the parent class (the first base): Number -> "number".
class Number(gr.Number):
    """``gr.Number`` whose value reaches the handler unchecked and unrounded (validate it there)."""

    is_template = True
    preprocess = _pass_through


class Slider(gr.Slider):
    """``gr.Slider`` whose value reaches the handler unchecked (validate it there)."""

    is_template = True
    preprocess = _pass_through


class Dropdown(gr.Dropdown):
    """``gr.Dropdown`` whose value reaches the handler unchecked (check it against the registry)."""

    is_template = True
    preprocess = _pass_through


class Radio(gr.Radio):
    """``gr.Radio`` whose value reaches the handler unchecked (check it against the registry)."""

    is_template = True
    preprocess = _pass_through


class Checkbox(gr.Checkbox):
    """``gr.Checkbox`` whose value reaches the handler unchecked (``parse_bool`` it there)."""

    is_template = True
    preprocess = _pass_through


class CheckboxGroup(gr.CheckboxGroup):
    """``gr.CheckboxGroup`` whose value reaches the handler unchecked (it checks the registry names)."""

    is_template = True
    preprocess = _pass_through


from apps.firstopen import _open_triggers, on_first_open  # noqa: E402,F401 - re-exported (it uses on() above)
