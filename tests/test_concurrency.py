"""Several clients at once: every one answered, and answered exactly as when alone.

Run on the endpoints that keep per-session state or stream (``Endpoint.stateful``): training,
generation, step-through, BERT's inside view — where shared state between requests would show.
A pure calculator endpoint is checked too, with more clients.
"""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.apiclient import call
from tests.conftest import tab_modules

_TIMING = re.compile(r"\d+(?:[.,]\d+)?\s?(?:ms|s|tokens/s|chars/s|it/s|steps/s)\b")


def _normalise(value):
    """Drop per-request payloads (plots, temp files) and wall-clock figures; keep text and numbers."""
    if isinstance(value, dict):
        if value.get("type") in ("matplotlib", "plotly", "altair", "bokeh") or "path" in value or "url" in value:
            return "<file/plot>"
        return {k: _normalise(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_normalise(v) for v in value]
    if isinstance(value, str):
        if value.startswith("/tmp") or ("gradio" in value and "/" in value and " " not in value):
            return "<file/plot>"
        return _TIMING.sub("<t>", value)
    return value


def _stateful():
    return [pytest.param(ep, id=f"{name}:{ep.api_name}") for name, mod in tab_modules()
            for ep in getattr(mod, "ENDPOINTS", []) if ep.stateful and ep.examples]


def _calculator():
    for name, mod in tab_modules():
        if name == "start":
            continue
        for ep in getattr(mod, "ENDPOINTS", []):
            if not ep.heavy and not ep.stateful and ep.examples:
                return ep
    raise AssertionError("no calculator endpoint declared")


def _answer(url, ep):
    """The normalised final answer of ``ep``'s first example, through the raw HTTP API (the
    gradio_client's 5 s config read timed out on a loaded CI machine before a call was made)."""
    ans = call(url, ep.api_name, ep.examples[0], timeout=600)
    assert ans.ok, f"/{ep.api_name} failed: {ans.message}"
    return json.dumps(_normalise(ans.data), sort_keys=True, default=str)


def test_eight_clients_at_once_on_a_calculator(app_server):
    ep = _calculator()
    expected = _answer(app_server.url, ep)
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: _answer(app_server.url, ep), range(8)))
    assert results == [expected] * 8


#: Clients sent together to a stateful endpoint: heavy events run two at a time (apps.common.HEAVY),
#: so three means two running side by side and one waiting in the queue behind them.
CLIENTS = 3


@pytest.mark.parametrize("ep", _stateful())
def test_stateful_endpoints_answer_alike_when_clients_run_together(app_server, ep):
    expected = _answer(app_server.url, ep)
    with ThreadPoolExecutor(CLIENTS) as pool:
        results = list(pool.map(lambda _: _answer(app_server.url, ep), range(CLIENTS)))
    for r in results:
        assert r == expected, f"/{ep.api_name}: a concurrent answer differs from the sequential one"


def test_some_endpoints_are_declared_stateful():
    assert len(_stateful()) >= 3, "train, GPT and BERT endpoints that stream or keep state must say so"
