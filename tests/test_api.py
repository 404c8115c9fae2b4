"""Every named endpoint of every tab, through the real Gradio API (gradio_client).

Generic over the tab registry: a new tab is covered by declaring ``ENDPOINTS``.
"""

from __future__ import annotations

import pytest

from tests.conftest import IMPORT_ERRORS, tab_modules

CASES = [(name, ep) for name, mod in tab_modules() for ep in getattr(mod, "ENDPOINTS", [])]
EXAMPLES = [pytest.param(ep, i, args, id=f"{name}:{ep.api_name}:{i}")
            for name, ep in CASES for i, args in enumerate(ep.examples)]
BAD = [pytest.param(ep, args, frag, id=f"{name}:{ep.api_name}:bad{i}")
       for name, ep in CASES for i, (args, frag) in enumerate(ep.bad)]


def test_every_tab_imports():
    from apps import TABS

    tab_modules()
    assert [n for n, _ in tab_modules()] == TABS, f"tabs that fail to import: {IMPORT_ERRORS}"


@pytest.mark.parametrize("name,mod", tab_modules(), ids=[n for n, _ in tab_modules()])
def test_tab_declares_its_contract(name, mod):
    assert isinstance(mod.TITLE, str) and mod.TITLE
    assert mod.ENDPOINTS, f"{name} declares no API endpoint"
    assert mod.ENDPOINTS[0].examples, f"{name}: the first endpoint needs a default example"
    assert isinstance(mod.RUN_BUTTON, str) and mod.RUN_BUTTON
    if name != "start":
        assert mod.SEEDS, f"{name} names no seed section"
    # Built alone: the run button exists and every declared endpoint is an event of the tab.
    import gradio as gr

    with gr.Blocks() as demo:
        mod.build()
    cfg = demo.get_config_file()
    assert mod.RUN_BUTTON in {c.get("props", {}).get("elem_id") for c in cfg["components"]}
    assert {ep.api_name for ep in mod.ENDPOINTS} <= {d.get("api_name") for d in cfg["dependencies"]}
    # Runnable on its own: python -m apps.<name>
    src = open(mod.__file__, encoding="utf-8").read()
    assert 'if __name__ == "__main__":' in src and f'"--tabs", "{name}"' in src


def test_declared_endpoints_exist(client):
    named = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    declared = {f"/{ep.api_name}" for _, ep in CASES}
    assert declared <= named, f"declared but not served: {sorted(declared - named)}"


def _well_formed(value):
    assert value is not None
    if isinstance(value, (list, tuple)):
        assert len(value) > 0


@pytest.mark.parametrize("ep,i,args", EXAMPLES)
def test_example_succeeds(client, ep, i, args):
    result = client.predict(*args, api_name=f"/{ep.api_name}")
    _well_formed(result)


@pytest.mark.parametrize("ep,args,fragment", BAD)
def test_bad_input_gives_a_clear_message(client, ep, args, fragment):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError) as info:
        client.predict(*args, api_name=f"/{ep.api_name}")
    msg = str(info.value)
    assert "Internal error" not in msg, msg
    assert "Traceback" not in msg
    assert fragment.lower() in msg.lower(), f"expected {fragment!r} in {msg!r}"
