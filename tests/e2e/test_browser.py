"""The real app in a real browser: Debian's Chromium driven by Playwright.

For every tab: open it, click its run button (the tab's default example), wait until the
app is idle, fail on any error toast or error panel, and save a screenshot to
``artifacts/screenshots/<tab>.png`` (copied to ``docs/screenshots/`` when
``DL_LAB_UPDATE_SCREENSHOTS=1``, which is how the README's pictures are made).
Also checks that loading the page fetches nothing from outside this machine.
"""

from __future__ import annotations

import os
import shutil
import time
from urllib.parse import urlparse

import pytest

from tests.conftest import ARTIFACTS, ROOT, tab_modules

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]
SHOTS = ARTIFACTS / "screenshots"
DOCS_SHOTS = ROOT / "docs" / "screenshots"

pytestmark = pytest.mark.e2e

if not os.path.exists(CHROMIUM):
    if os.environ.get("CI"):
        raise RuntimeError(f"{CHROMIUM} is missing in CI: scripts/setup.sh should have installed it")
    pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def browser_page(app_server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1360, "height": 900})
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        console_errors: list[str] = []
        page.on("pageerror", lambda e: console_errors.append(str(e)))
        page.goto(app_server.url)
        page.wait_for_load_state("load")
        page.wait_for_selector("[role=tab]")
        yield page, requests, console_errors
        browser.close()


def _wait_idle(page, timeout_s: float) -> None:
    """Wait until no output is pending/generating (Gradio's own status classes)."""
    deadline = time.time() + timeout_s
    time.sleep(0.5)
    while time.time() < deadline:
        busy = page.locator(".pending, .generating, .eta-bar").count()
        if busy == 0:
            return
        time.sleep(0.3)
    raise TimeoutError(f"the tab was still busy after {timeout_s} s")


def test_first_page_load_fetches_nothing_from_outside(browser_page):
    _, requests, _ = browser_page
    outside = [u for u in requests if urlparse(u).hostname not in ("127.0.0.1", "localhost", None)
               and not u.startswith(("data:", "blob:"))]
    assert outside == []


@pytest.mark.parametrize("name,mod", tab_modules(), ids=[n for n, _ in tab_modules()])
def test_tab_runs_its_default_example(browser_page, name, mod):
    page, _, console_errors = browser_page
    page.get_by_role("tab", name=mod.TITLE, exact=True).click()
    panel = page.locator(f"#tab-{name}")
    panel.wait_for(state="visible")
    assert page.locator(f"#tab-error-{name}").count() == 0, f"tab {name} failed to build"
    heavy = any(ep.heavy for ep in mod.ENDPOINTS)
    button = page.locator(f"#{mod.RUN_BUTTON}")
    button.scroll_into_view_if_needed()
    button.click()
    _wait_idle(page, 240 if heavy else 60)
    toasts = page.locator('[data-testid="toast-body"].error')
    if toasts.count():
        text = toasts.first.inner_text()
        page.screenshot(path=str(ARTIFACTS / f"error-{name}.png"), full_page=True)
        pytest.fail(f"error toast on tab {name}: {text}")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    shot = SHOTS / f"{name}.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    if os.environ.get("DL_LAB_UPDATE_SCREENSHOTS") == "1":
        DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, DOCS_SHOTS / shot.name)
    assert not console_errors, console_errors
