"""8 clients at once on one endpoint: every one answered, and answered correctly."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

from tests.conftest import tab_modules


def _pick_endpoint():
    """A deterministic calculator endpoint (first non-heavy endpoint of a topic tab)."""
    for name, mod in tab_modules():
        if name == "start":
            continue
        for ep in getattr(mod, "ENDPOINTS", []):
            if not ep.heavy and ep.examples:
                return ep
    return next(ep for _, mod in tab_modules() for ep in mod.ENDPOINTS)


def _strip_files(value):
    """Drop per-request file/plot payloads (temp paths, base64), keep the numbers and text."""
    if isinstance(value, dict):
        if value.get("type") in ("matplotlib", "plotly", "altair", "bokeh") or "path" in value or "url" in value:
            return "<file/plot>"
        return {k: _strip_files(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_strip_files(v) for v in value]
    if isinstance(value, str) and (value.startswith("/tmp") or "gradio" in value and "/" in value):
        return "<file/plot>"
    return value


def test_eight_clients_at_once(app_server):
    from gradio_client import Client

    ep = _pick_endpoint()
    args = ep.examples[0]
    expected = json.dumps(_strip_files(Client(app_server.url, verbose=False).predict(*args, api_name=f"/{ep.api_name}")),
                          sort_keys=True, default=str)

    def call(_):
        c = Client(app_server.url, verbose=False)
        return json.dumps(_strip_files(c.predict(*args, api_name=f"/{ep.api_name}")), sort_keys=True, default=str)

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(call, range(8)))
    assert len(results) == 8
    assert all(r == expected for r in results)
