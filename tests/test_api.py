"""Every named endpoint of every tab, through the real Gradio API.

Generic over the tab registry: a new tab is covered by declaring ``ENDPOINTS`` (and
``ERROR_DEMO`` for the browser test). For every endpoint:

* each example succeeds **and its answer contains the declared fact** (an example cannot
  pass by answering something empty or wrong);
* each bad input fails with a message containing the declared fragment, never an internal error;
* a type-and-size fuzz sends junk (None, numbers, NaN, lists, dicts, huge and unicode strings)
  in every parameter: every answer is a success or a clear message, never "Internal error",
  and the server logs no traceback.
"""

from __future__ import annotations

import math

import pytest

from tests.apiclient import SOLO, call, solo_key, text_of
from tests.conftest import IMPORT_ERRORS, tab_modules

CASES = [(name, ep) for name, mod in tab_modules() for ep in getattr(mod, "ENDPOINTS", [])]
EXAMPLES = [pytest.param(ep, i, args, id=f"{name}:{ep.api_name}:{i}")
            for name, ep in CASES for i, args in enumerate(ep.examples)]
BAD = [pytest.param(ep, args, frag, id=f"{name}:{ep.api_name}:bad{i}")
       for name, ep in CASES for i, (args, frag) in enumerate(ep.bad)]

#: What an arbitrary HTTP caller may send in place of any one parameter.
JUNK: list[object] = [None, "", "x" * 100_000, "[" * 5000, "🙂 ünïcödé 中文 \u202e", 0, -1, 2.5, 10 ** 30,
                      1e308, math.nan, math.inf, True, [], [1, 2, 3], {"a": 1}, [["nested"]]]
#: Sent in every parameter: the junk most likely to break parsing (no value, a huge string, NaN,
#: a list and a dict where a scalar belongs).
CORE_JUNK: list[object] = [None, "x" * 100_000, math.nan, [1, 2, 3], {"a": 1}]
#: Heavy endpoints get the core junk and a huge integer, not every value (keeps CI short).
HEAVY_JUNK: list[object] = [*CORE_JUNK, 10 ** 30]


def junk_for(n_params: int, heavy: bool) -> list[list[object]]:
    """The junk for each of an endpoint's ``n_params`` parameters. Light endpoints: the core junk
    in every parameter, and the rest of :data:`JUNK` dealt out in turn, at least 2 a parameter,
    so that every value reaches every endpoint (sending all 17 in every parameter made the fuzz
    the largest part of CI: 4,800 calls at 0.1-0.3 s each, for paths the core junk already takes)."""
    if heavy:
        return [list(HEAVY_JUNK) for _ in range(n_params)]
    rest = [v for v in JUNK if v not in CORE_JUNK]
    k = max(2, -(-len(rest) // max(n_params, 1)))
    return [[*CORE_JUNK, *(rest[(i * k + j) % len(rest)] for j in range(k))] for i in range(n_params)]


def _session(ep) -> str | None:
    """One Gradio session for all calls to an endpoint that keeps no per-session state (a fresh
    session per call only repeats the server's per-session set-up); a fresh one per call for the
    stateful endpoints, whose answers may depend on what the session did before."""
    return None if ep.stateful else f"api-test-{ep.api_name}"


def _fuzz_session(ep) -> str:
    """The fuzz sends every junk call of an endpoint in one session, stateful endpoints included: it
    asserts no internal error, not an answer, and junk after junk in one session is the harder case.
    (A fresh session per call cost the server a copy of every component's config, 0.3-0.5 s a call
    on the loaded CI machine: about 1,200 of the fuzz's 4,500 calls are to stateful endpoints.)"""
    return f"api-fuzz-{ep.api_name}"


def test_every_tab_imports():
    from apps import TABS

    tab_modules()
    assert [n for n, _ in tab_modules()] == TABS, f"tabs that fail to import: {IMPORT_ERRORS}"


def _dependencies(mod):
    import gradio as gr

    with gr.Blocks() as demo:
        with gr.Tab("t"):
            mod.build()
    cfg = demo.get_config_file()
    return demo, cfg


@pytest.mark.parametrize("name,mod", tab_modules(), ids=[n for n, _ in tab_modules()])
def test_tab_declares_its_contract(name, mod):
    from apps.common import ErrorDemo

    assert isinstance(mod.TITLE, str) and mod.TITLE
    assert mod.ENDPOINTS, f"{name} declares no API endpoint"
    assert mod.ENDPOINTS[0].examples, f"{name}: the first endpoint needs a default example"
    assert isinstance(mod.RUN_BUTTON, str) and mod.RUN_BUTTON
    assert isinstance(getattr(mod, "ERROR_DEMO", None), ErrorDemo), f"{name} declares no ERROR_DEMO"
    if name != "start":
        assert mod.SEEDS, f"{name} names no seed section"
    for ep in mod.ENDPOINTS:
        assert len(ep.facts) == len(ep.examples), f"{name}:{ep.api_name}: one fact per example"
    # Built alone: the run button exists and every declared endpoint is an event of the tab.
    _, cfg = _dependencies(mod)
    assert mod.RUN_BUTTON in {c.get("props", {}).get("elem_id") for c in cfg["components"]}
    assert {ep.api_name for ep in mod.ENDPOINTS} <= {d.get("api_name") for d in cfg["dependencies"]}
    # Runnable on its own: python -m apps.<name>
    src = open(mod.__file__, encoding="utf-8").read()
    assert 'if __name__ == "__main__":' in src and f'"--tabs", "{name}"' in src


@pytest.mark.parametrize("name,mod", tab_modules(), ids=[n for n, _ in tab_modules()])
def test_every_event_has_the_failure_policy(name, mod):
    """Every documented event is registered through ``apps.common.on`` (its failure follow-up shows
    the message in place and clears stale outputs); live events never raise (``live``)."""
    _, cfg = _dependencies(mod)
    deps = cfg["dependencies"]
    followed = {d.get("trigger_after") for d in deps if d.get("trigger_only_on_failure")}
    missing = [d.get("api_name") for d in deps
               if d.get("api_visibility", "public") == "public" and d.get("backend_fn") and d["id"] not in followed
               and d.get("trigger_after") is None]
    assert missing == [], f"{name}: events not registered through apps.common.on: {missing}"


@pytest.mark.parametrize("ep,i,args", EXAMPLES)
def test_example_succeeds_and_says_what_it_must(app_server, ep, i, args):
    ans = call(app_server.url, ep.api_name, args, session=_session(ep))
    assert ans.ok, f"/{ep.api_name} example {i} failed: {ans.message}"
    if ep.stateful:  # a fresh session: tests/test_concurrency.py compares concurrent answers with this one
        SOLO[solo_key(ep.api_name, args)] = ans.data
    text = text_of(ans.data)
    assert text.strip(), f"/{ep.api_name} example {i} answered nothing"
    if ep.facts:
        assert ep.facts[i] in text, f"/{ep.api_name} example {i}: {ep.facts[i]!r} not in the answer:\n{text[:1500]}"


@pytest.mark.parametrize("ep,args,fragment", BAD)
def test_bad_input_gives_a_clear_message(app_server, ep, args, fragment):
    ans = call(app_server.url, ep.api_name, args, session=_session(ep))
    assert not ans.ok, f"/{ep.api_name} accepted {args!r}"
    assert "Internal error" not in ans.message, ans.message
    assert "Traceback" not in ans.message
    assert fragment.lower() in ans.message.lower(), f"expected {fragment!r} in {ans.message!r}"


def _fuzz_cases():
    for name, ep in CASES:
        if not ep.examples:
            continue
        base = ep.examples[0]
        junk = junk_for(len(base), ep.heavy)
        yield pytest.param(ep, base, junk, id=f"{name}:{ep.api_name}")


def test_the_fuzz_deals_every_junk_value_to_every_light_endpoint():
    for n in range(1, 13):
        cols = junk_for(n, heavy=False)
        assert len(cols) == n
        for col in cols:
            assert all(any(v is c for v in col) for c in CORE_JUNK), "the core junk goes into every parameter"
        sent = [v for col in cols for v in col]
        missing = [v for v in JUNK if not any(v is s or (v == s and type(v) is type(s)) for s in sent)]
        assert missing == [], f"{n} parameters: {missing!r} never sent"
    assert junk_for(3, heavy=True) == [HEAVY_JUNK] * 3


@pytest.mark.parametrize("ep,base,junk", list(_fuzz_cases()))
def test_junk_of_any_type_and_size_never_gives_an_internal_error(app_server, ep, base, junk):
    """Issue 10: 86 internal errors from non-string names, huge names, None as a layer, ..."""
    log_start = len(app_server.log())
    problems = []
    for i in range(len(base)):
        for value in junk[i]:
            args = list(base)
            args[i] = value
            ans = call(app_server.url, ep.api_name, args, session=_fuzz_session(ep))
            if not ans.ok and ("Internal error" in ans.message or "Traceback" in ans.message
                               or not ans.message.strip()):
                problems.append(f"arg {i} = {str(value)[:40]!r}: {ans.message[:200]!r}")
    log = app_server.log()[log_start:]
    assert problems == [], f"/{ep.api_name}:\n" + "\n".join(problems[:20])
    assert "Traceback" not in log and "internal error ref=" not in log, log[-3000:]


def test_rejected_inputs_log_one_line_each(app_server):
    """Issue 10: each rejected input wrote a full traceback (6.7 MB for 3,300 calls)."""
    name, ep = next((n, e) for n, e in CASES if e.bad)
    start = len(app_server.log())
    args, _ = ep.bad[0]
    for _ in range(3):
        assert not call(app_server.url, ep.api_name, args).ok
    new = app_server.log()[start:]
    assert "Traceback" not in new
    assert new.count("rejected input") == 3, new
