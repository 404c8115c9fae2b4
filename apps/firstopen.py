"""First-open events: a panel shows its default example when its tab is first opened, and never
paints over what the learner's own click has already shown there.

:func:`on_first_open` registers the panel (the set of its outputs). :func:`apps.common.on` wraps
every later event with an output in that panel (:func:`touching`) so that, when it starts, it marks
the panel as touched in this browser session; a first-open result that arrives after that is dropped
(the slow default example used to overwrite a quick click's result, or its error message).
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections import OrderedDict
from typing import Any, Callable

import gradio as gr

__all__ = ["on_first_open", "protect_panels", "panels_of", "touching", "touched", "leaves_panel"]

#: output component id -> the panel (frozenset of the first-open event's output ids) it belongs to
_PANELS: dict[int, frozenset[int]] = {}
_TOUCHED: OrderedDict[tuple[str, frozenset[int]], bool] = OrderedDict()
_LOCK = threading.Lock()
_MAX_TOUCHED = 4096
#: set on the first-open handlers themselves: their own start is not the learner's
_FIRST_OPEN = "_dl_lab_first_open"
#: set on the wrappers of :func:`touching`: never wrapped twice
_TOUCHING = "_dl_lab_touching"
#: set on handlers that only annotate a panel (Stop): they do not count as the learner's result
_LEAVES = "_dl_lab_leaves_panel"


def _ids(outputs: Any) -> list[int]:
    outs = [] if outputs is None else (list(outputs) if isinstance(outputs, (list, tuple)) else [outputs])
    return [o._id for o in outs if not isinstance(o, gr.State)]


def panels_of(outputs: Any) -> set[frozenset[int]]:
    """The first-open panels that an event with these outputs writes into."""
    return {_PANELS[i] for i in _ids(outputs) if i in _PANELS}


def _mark(panels: set[frozenset[int]]) -> None:
    from apps.common import _current_session

    session = _current_session()
    if session is None:
        return
    with _LOCK:
        for p in panels:
            _TOUCHED[(session, p)] = True
            _TOUCHED.move_to_end((session, p))
        while len(_TOUCHED) > _MAX_TOUCHED:
            _TOUCHED.popitem(last=False)


def touched(session: str | None, panel: frozenset[int]) -> bool:
    """Has an event of ``session`` other than the first-open one started in ``panel``?"""
    with _LOCK:
        return session is not None and (session, panel) in _TOUCHED


def touching(fn: Callable[..., Any], panels: set[frozenset[int]]) -> Callable[..., Any]:
    """``fn`` that marks ``panels`` touched when it starts (same signature, generator or not)."""
    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def gen(*args: Any, **kwargs: Any) -> Any:
            _mark(panels)
            yield from fn(*args, **kwargs)
        wrapped: Callable[..., Any] = gen
    else:
        @functools.wraps(fn)
        def plain(*args: Any, **kwargs: Any) -> Any:
            _mark(panels)
            return fn(*args, **kwargs)
        wrapped = plain
    setattr(wrapped, _TOUCHING, True)
    return wrapped


def leaves_panel(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Mark ``fn`` as an event that does not replace a panel's result (a Stop button: pressed while
    the default example runs, it stops that run, whose "stopped" summary should then be shown)."""
    setattr(fn, _LEAVES, True)
    return fn


def protect_panels(blocks: gr.Blocks) -> int:
    """After every event of ``blocks`` is registered, wrap each one that writes into a first-open
    panel with :func:`touching`, whatever the order it was registered in: buttons, live inputs and
    the runs of ``gr.Examples``. Left alone: the first-open events themselves, failure follow-ups
    (their event has marked the panel already), :func:`leaves_panel` handlers such as Stop, and
    events wrapped before. Gradio inspects ``fn`` (generator or not, a ``gr.Request`` parameter)
    when it calls it, and the wrapper keeps both. Returns how many events were wrapped."""
    count = 0
    for block_fn in blocks.fns.values():
        fn = block_fn.fn
        if (fn is None or block_fn.trigger_only_on_failure
                or any(getattr(fn, flag, False) for flag in (_FIRST_OPEN, _TOUCHING, _LEAVES))):
            continue
        panels = panels_of(block_fn.outputs)
        if panels:
            block_fn.fn = touching(fn, panels)
            count += 1
    return count


def on_first_open(fn: Callable[..., Any], inputs: Any, outputs: Any, **settings: Any) -> None:
    """Run ``fn`` the first time this browser session opens the current tab (or, outside a tab,
    when the page loads), to show a panel's default example without a click.

    Nothing runs at start-up: the page is served first, and a tab nobody opens costs nothing. If an
    event of the panel itself (a button, an example) starts first, the default example is not shown
    over it; that needs :func:`protect_panels` on the finished app (``launch.build_demo`` calls it).
    """
    from gradio.context import Context

    from apps.common import _current_session, guard, on

    opened = gr.State(False)
    outs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
    ins = list(inputs) if isinstance(inputs, (list, tuple)) else ([] if inputs is None else [inputs])
    panel = frozenset(_ids(outs))
    wants_request = "request" in inspect.signature(fn).parameters

    def first(done: bool, *args: Any) -> Any:
        session = _current_session()
        if done or touched(session, panel):
            return (True, *[gr.skip()] * len(outs))
        kwargs: dict[str, Any] = {}
        if wants_request:  # the handler's Stop and per-session state belong to this browser session
            from gradio.context import LocalContext

            kwargs["request"] = LocalContext.request.get(None)
        result = fn(*args, **kwargs)
        if inspect.isgenerator(result):
            for result in result:  # noqa: B007 - only the last frame is shown
                pass
        if touched(session, panel):  # the learner clicked while the default example ran
            return (True, *[gr.skip()] * len(outs))
        vals = result if isinstance(result, tuple) else (result,)
        return (True, *vals)

    first.__qualname__ = f"first_open.{getattr(fn, '__qualname__', 'handler')}"
    setattr(first, _FIRST_OPEN, True)  # kept by guard's functools.wraps
    on(_open_triggers(Context.block, Context.root_block), guard(first), [opened, *ins], [opened, *outs],
       api_visibility="private", **settings)
    for i in panel:
        _PANELS[i] = panel


def _open_triggers(block: Any, root: Any) -> list[Any]:
    """The events that make ``block`` visible: the ``select`` of each enclosing tab, walking up
    while the tab is the first of its siblings (shown by default); the page load at the top."""
    triggers: list[Any] = []
    b = block
    while b is not None and b is not root:
        if isinstance(b, gr.Tab):
            triggers.append(b.select)
            parent = b.parent
            siblings = [c for c in getattr(parent, "children", []) if isinstance(c, gr.Tab)]
            if siblings and siblings[0] is not b:  # a later tab: hidden until selected
                return triggers
        b = b.parent
    triggers.append(root.load)
    return triggers
