"""What a tab declares for the Start tab and the generic API, browser and concurrency tests
(re-exported by :mod:`apps.common`; no gradio here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

__all__ = ["SeedRef", "Endpoint", "ErrorDemo", "iter_outputs"]


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
        facts: for each example (same index), a text that its answer must contain (checked by
            the API test on the answer's text and numbers, so an example cannot "pass" empty).
        heavy: True when a call may take more than a second (tests give it more time).
        stateful: True when the endpoint keeps per-session state or streams; the concurrency
            test runs such endpoints from several clients and compares with sequential answers.
    """

    api_name: str
    examples: list[list[Any]] = field(default_factory=list)
    bad: list[tuple[list[Any], str]] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)
    heavy: bool = False
    stateful: bool = False


@dataclass(frozen=True)
class ErrorDemo:
    """How the browser test provokes one error on a tab and reads its message on the page.

    Attributes:
        fill: ``{label: text}`` typed into the boxes with these labels (first match, in order).
        click: ``elem_id`` of the button to press.
        expect: a fragment the page must then show (in place, or in a toast).
        subtab: title of the sub-tab to open first, if the panel is not on the first one.
    """

    fill: dict[str, str]
    click: str
    expect: str
    subtab: str | None = None


def iter_outputs(result: Any) -> Iterator[Any]:
    """Flatten an API answer (tuples, lists, dicts) into its leaves (for tests and benches)."""
    if isinstance(result, dict):
        for v in result.values():
            yield from iter_outputs(v)
    elif isinstance(result, (list, tuple)):
        for v in result:
            yield from iter_outputs(v)
    else:
        yield result
