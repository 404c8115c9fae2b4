"""Shared plumbing for every tab: error handling, queue settings, API declarations.

Each piece exists once here and every tab uses it:

* :func:`guard` wraps an event handler: a ``ValueError`` from ``dlcore`` reaches the user
  as ``gr.Error`` with its own message; anything else is logged with its traceback and
  shown as a short "internal error" message with a reference, never a raw trace.
* :data:`LIGHT` / :data:`HEAVY`: event settings for a 2-core machine. Cheap calculator
  events skip the queue; heavy events (training, sampling, model inference) share one
  ``concurrency_id`` with a small limit so two students cannot starve the CPU together.
* :class:`Endpoint`: what a tab declares about each named API endpoint (example inputs
  that must work, bad inputs that must give a clear error). The API and browser tests
  loop over these, so a new tab is covered without new harness code.
"""

from __future__ import annotations

import functools
import inspect
import logging
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

import gradio as gr

__all__ = ["guard", "LIGHT", "HEAVY", "Endpoint", "SeedRef", "InternalError"]

log = logging.getLogger("dl_lab")

#: Cheap, sub-millisecond-to-millisecond events: no queue, answered at once.
LIGHT: dict[str, Any] = {"queue": False}
#: Heavy events: one shared pool, at most 2 at a time on a 2-core machine.
HEAVY: dict[str, Any] = {"concurrency_id": "heavy", "concurrency_limit": 2}


class InternalError(gr.Error):
    """Shown for unexpected exceptions; carries a reference id that is also in the log."""


def _convert(exc: BaseException) -> gr.Error:
    if isinstance(exc, gr.Error):
        return exc
    if isinstance(exc, ValueError):
        return gr.Error(str(exc), print_exception=False)
    ref = uuid.uuid4().hex[:8]
    log.error("internal error ref=%s", ref, exc_info=exc)
    return InternalError(
        f"Internal error (ref {ref}): {type(exc).__name__}. This is a bug in the lab, not in "
        "your input; the details are in the server log.", print_exception=False)


def guard(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate an event handler (plain function or generator) with the error policy."""
    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def gen_wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                yield from fn(*args, **kwargs)
            except (KeyboardInterrupt, GeneratorExit):
                raise
            except Exception as exc:  # noqa: BLE001 - this is the one place that catches all
                raise _convert(exc) from None
        return gen_wrapper

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001
            raise _convert(exc) from None
    return wrapper


@dataclass(frozen=True)
class SeedRef:
    """A section of the seed notes that a tab teaches (shown on the Start here tab)."""

    seed: str     # seed file name, e.g. "000_5114ce2b17ca1821.txt"
    section: str  # section number or anchor, e.g. "1.2.4" or "dl_1_3"
    title: str    # the section's own title, as in the notes


@dataclass
class Endpoint:
    """A named API endpoint of a tab, with inputs the tests call it with.

    Attributes:
        api_name: the ``api_name`` given to the event (without the leading slash).
        examples: argument lists that must succeed (the first is the tab's default).
        bad: argument lists that must fail with a clear ``gr.Error`` message; each is a
            pair ``(args, fragment)`` where ``fragment`` must appear in the message.
        heavy: True when a call may take more than a second (tests give it more time).
    """

    api_name: str
    examples: list[list[Any]] = field(default_factory=list)
    bad: list[tuple[list[Any], str]] = field(default_factory=list)
    heavy: bool = False
