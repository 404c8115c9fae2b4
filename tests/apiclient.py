"""A small raw-HTTP client for the Gradio API (the queue protocol a browser uses), for the fuzz.

``gradio_client`` polls every 50 ms, so thousands of calls would take minutes; this posts to
``/gradio_api/call/<api_name>`` and reads the server-sent events of the answer directly.
Arguments go out as JSON exactly as given (NaN and infinity included), so the server sees the
same junk an arbitrary HTTP caller could send.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Sequence


@dataclass
class Answer:
    """``ok`` with the final ``data``, or not ``ok`` with the error ``message``."""

    ok: bool
    data: Any = None
    message: str = ""


def _dumps(args: Sequence[Any], session: str | None = None) -> bytes:
    # NaN and Infinity are written as such (not valid JSON, but Python's parser on the server
    # accepts them, so an HTTP caller can send them)
    body: dict[str, Any] = {"data": list(args)}
    if session is not None:
        body["session_hash"] = session
    return json.dumps(body, allow_nan=True).encode()


def call(url: str, api_name: str, args: Sequence[Any], timeout: float = 180.0,
         session: str | None = None) -> Answer:
    """Call ``/api_name`` with ``args`` and wait for its final answer.

    Without ``session`` every call is a new Gradio session, which costs the server a copy of
    every component's config (``SessionState.__init__``: about 80 % of the server's CPU in the
    fuzz; a trivial call took 0.5-0.7 s in a new session vs 0.07-0.12 s in a reused one on the
    loaded 2-core CI machine). Callers that make many calls to an endpoint that keeps no
    per-session state pass one ``session`` for all of them, as one browser tab does."""
    base = url.rstrip("/")
    req = urllib.request.Request(f"{base}/gradio_api/call/{api_name}", data=_dumps(args, session),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            event_id = json.loads(r.read())["event_id"]
    except urllib.error.HTTPError as exc:  # rejected before it ran (e.g. wrong number of arguments)
        body = exc.read().decode(errors="replace")
        try:
            body = json.loads(body).get("detail") or json.loads(body).get("error") or body
        except (ValueError, AttributeError):
            pass
        return Answer(False, message=f"HTTP {exc.code}: {body}")
    event, data = "", None
    with urllib.request.urlopen(f"{base}/gradio_api/call/{api_name}/{event_id}", timeout=timeout) as r:
        for raw in r:
            line = raw.decode("utf-8", errors="replace").rstrip("\n")
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                payload = line[5:].strip()
                try:
                    data = json.loads(payload)
                except ValueError:
                    data = payload
                if event == "complete":
                    return Answer(True, data)
                if event == "error":
                    msg = data.get("error") if isinstance(data, dict) else data
                    return Answer(False, message="" if msg is None else str(msg))
    return Answer(False, message=f"the stream ended without an answer (last event {event!r})")


#: Answers of calls made in a fresh session, by (api_name, JSON of the arguments): the concurrency
#: test compares its concurrent answers with the one the example test already got alone.
SOLO: dict[tuple[str, str], Any] = {}


def solo_key(api_name: str, args: Sequence[Any]) -> tuple[str, str]:
    return api_name, json.dumps(list(args), allow_nan=True, sort_keys=True, default=str)


def text_of(value: Any) -> str:
    """Every string and number in an answer, joined (to look for an example's fact)."""
    parts: list[str] = []

    def walk(v: Any) -> None:
        if isinstance(v, dict):
            if v.get("type") == "matplotlib" or "plot" in v and isinstance(v.get("plot"), str):
                # a base64 PNG: only its header is text ("data:image/png;base64"), so a plot-only
                # answer is not empty and a fact "data:image" can name it
                parts.append(str(v.get("plot", "")).split(",", 1)[0])
                return
            for k, x in v.items():
                if k not in ("path", "url", "orig_name", "mime_type", "meta"):
                    walk(x)
        elif isinstance(v, (list, tuple)):
            for x in v:
                walk(x)
        elif isinstance(v, (str, int, float)) and not isinstance(v, bool):
            parts.append(str(v))
    walk(value)
    return "\n".join(parts)
