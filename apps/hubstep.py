"""The "fetch the model first" step of the language tabs (BERT, GPT): network waits never hold a HEAVY slot.

A button runs two events: (1) in the ``HUB`` group, make sure every hub model the panel needs is
on disk (:func:`dlcore.hub.iter_fetch`: a download with deadlines, its progress streamed into the
panel's status); (2) on success only, the heavy handler in the ``HEAVY`` pool, which reads from
disk and never touches the network. Both have :func:`apps.common.on`'s failure policy (message once
in place, other outputs cleared, through :func:`apps.common.with_failure_policy`).
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Iterator

import gradio as gr

from apps.common import HEAVY, guard, md_escape, on

__all__ = ["HUB", "fetch_messages", "chain", "from_disk"]

#: The fetch step's own queue: waiting on the network costs no CPU. dlcore.hub caps real downloads
#: (2 at a time); callers of one model join its download.
HUB: dict[str, Any] = {"concurrency_id": "hub", "concurrency_limit": 16}


def fetch_messages(refs: Iterable[Any]) -> Iterator[str]:
    """Status lines while the hub models among ``refs`` (:class:`dlcore.nlp.registry.ModelRef`) are fetched.

    Raises:
        dlcore.hub.HubUnreachable: at the first deadline (the same message in every case).
    """
    from dlcore.hub import iter_fetch

    refs = list(refs)
    for ref in refs:
        for st in iter_fetch(ref.location) if ref.source == "hub" else ():
            if st.state != "done":
                yield f"⏳ {md_escape(st.describe())}"
    yield "✔ " + md_escape(", ".join(r.label for r in refs)) + " on this machine."


def from_disk(load: Callable[[Any], Any], ref: Any, fetch_api: str) -> Any:
    """``load(ref)`` without the network: a hub model not on disk is a message that names the fetch endpoint."""
    from dlcore.hub import NotFetched

    try:
        return load(ref)
    except NotFetched as exc:
        raise ValueError(f"{exc} (API: call {fetch_api} with this model name first)") from None


def chain(trigger: Any, fetch: Callable[..., Iterator[str]], fetch_inputs: Any, fn: Callable[..., Any],
          inputs: list[Any], outputs: list[Any], api_name: str, fetch_api: str | None = None) -> Any:
    """``trigger`` → ``fetch(*fetch_inputs)`` (``HUB`` group) → ``fn(*inputs)`` (``HEAVY``) on success.

    Args:
        fetch: a generator of status lines (e.g. over :func:`fetch_messages`); it validates the names.
        outputs: ``fn``'s outputs; the first must be the panel's status ``gr.Markdown``.
        api_name: the heavy endpoint; fetch_api: the fetch step's endpoint (None = private).
    """
    from apps.common import with_failure_policy

    shown = [o for o in outputs if not isinstance(o, gr.State)]

    @guard
    def fetch_step(*names: Any) -> Iterator[tuple[Any, ...]]:
        for line in fetch(*names):
            yield (line, *[gr.skip()] * (len(shown) - 1))

    fetch_step.__name__ = fetch.__name__
    dep = on(trigger, fetch_step, fetch_inputs, shown, api_name=fetch_api,
             api_visibility="public" if fetch_api else "private", message=shown[0], **HUB)
    heavy = dep.success(fn, inputs, outputs, api_name=api_name, **HEAVY)
    return with_failure_policy(heavy, outputs, message=shown[0])
