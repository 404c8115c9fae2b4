"""The real app in a real browser: Debian's Chromium driven by Playwright.

For every tab: open it, click its run button (the tab's default example), wait until the
app is idle, fail on any error toast, error badge or error panel, and save a screenshot to
``artifacts/screenshots/<tab>.png`` (copied to ``docs/screenshots/`` when
``DL_LAB_UPDATE_SCREENSHOTS=1``, which is how the README's pictures are made). Then provoke the
tab's declared error (``ERROR_DEMO``) and read its message on the page: shown once, readable,
never a bare "Error" badge. At phone width (414 px) the run button is reachable without
scrolling past every setting. Also checks that loading the page fetches nothing from outside
this machine.
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
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def browser_page(app_server, browser):
    page = browser.new_page(viewport={"width": 1360, "height": 900})
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    console_errors: list[str] = []
    page.on("pageerror", lambda e: console_errors.append(str(e)))
    page.goto(app_server.url)
    page.wait_for_load_state("load")
    page.wait_for_selector("[role=tab]")
    yield page, requests, console_errors
    page.close()


def open_tab(page, title: str) -> None:
    """Click the top-level tab ``title``, through Gradio's "More tabs" menu when the tab row
    overflows (its folded entries are plain buttons, not role=tab)."""
    tab = page.get_by_role("tab", name=title, exact=True)
    if tab.count() and tab.first.is_visible():
        tab.first.click()
        return
    page.locator(".overflow-menu button[aria-label='More tabs']").first.click()
    page.locator(".overflow-dropdown").get_by_role("button", name=title, exact=True).first.click()


def _error_badges(page) -> int:
    """Visible "Error" badges of Gradio's status trackers (a failure with no message)."""
    return page.locator('[data-testid="status-tracker"]:visible', has_text="Error").count()


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
    open_tab(page, mod.TITLE)
    panel = page.locator(f"#tab-{name}")
    panel.wait_for(state="visible")
    assert page.locator(f"#tab-error-{name}").count() == 0, f"tab {name} failed to build"
    heavy = any(ep.heavy for ep in mod.ENDPOINTS)
    button = page.locator(f"#{mod.RUN_BUTTON}")
    button.scroll_into_view_if_needed()
    button.click()
    _wait_idle(page, 240 if heavy else 60)
    toasts = page.locator('[data-testid="toast-body"].error')
    if toasts.count() or _error_badges(page):
        text = toasts.first.inner_text() if toasts.count() else "(an Error badge)"
        page.screenshot(path=str(ARTIFACTS / f"error-{name}.png"), full_page=True)
        pytest.fail(f"error on tab {name}: {text}")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    shot = SHOTS / f"{name}.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    if os.environ.get("DL_LAB_UPDATE_SCREENSHOTS") == "1":
        DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, DOCS_SHOTS / shot.name)
    assert not console_errors, console_errors


def test_a_stop_pressed_after_the_run_keeps_its_summary(browser_page):
    """Every Stop button is apps.common.stop_button: pressed when nothing runs, it keeps the
    finished run's status and adds its note once (the landscape stands for all of them)."""
    from apps import optim

    page, _, _ = browser_page
    open_tab(page, optim.TITLE)
    page.get_by_role("tab", name="A real network's landscape", exact=True).click()
    try:
        _late_stop_keeps_the_summary(page)
    finally:  # the next tests expect the tab's first panel
        page.get_by_role("tab", name="Race on a surface", exact=True).click()


def _late_stop_keeps_the_summary(page) -> None:
    page.get_by_text("5×5 on all 1,000 images, float32", exact=True).click()
    page.locator("#optim-landscape-run").click()
    status = page.locator("#optim-landscape-status")
    deadline = time.time() + 240
    while "5×5 grid" not in status.inner_text() and time.time() < deadline:
        time.sleep(0.5)
    summary = status.inner_text()
    assert "5×5 grid on the first 1,000 test images" in summary, summary
    page.locator("#optim-landscape-stop").click()
    deadline = time.time() + 30
    while "Nothing is running" not in status.inner_text() and time.time() < deadline:
        time.sleep(0.3)
    page.locator("#optim-landscape-stop").click()       # again: the note is not repeated
    time.sleep(2)
    after = status.inner_text()
    assert after.startswith(summary.strip()) and after.count("Nothing is running") == 1, after


@pytest.mark.parametrize("name,mod", tab_modules(), ids=[n for n, _ in tab_modules()])
def test_tab_shows_an_error_once_and_readably(browser_page, name, mod):
    """Issue 10: errors from quick buttons showed a bare red "Error" badge and often no message."""
    page, _, console_errors = browser_page
    demo = mod.ERROR_DEMO
    open_tab(page, mod.TITLE)
    panel = page.locator(f"#tab-{name}")
    panel.wait_for(state="visible")
    if demo.subtab:
        panel.get_by_role("tab", name=demo.subtab, exact=True).click()
    for label, text in demo.fill.items():
        box = panel.get_by_label(label, exact=False).first
        box.scroll_into_view_if_needed()
        box.fill(text)
    time.sleep(0.3)
    button = page.locator(f"#{demo.click}")
    button.scroll_into_view_if_needed()
    button.click()
    heavy = any(ep.heavy for ep in mod.ENDPOINTS)
    # The message may wait in the heavy queue behind the panel's own first-open examples (a subtab
    # opened just now starts them): poll for it as long as a heavy event may take, then for idle.
    deadline = time.time() + (240 if heavy else 60)
    while time.time() < deadline and demo.expect.lower() not in page.locator("body").inner_text().lower():
        time.sleep(0.3)
    _wait_idle(page, 240 if heavy else 60)
    body = page.locator("body").inner_text()
    page.screenshot(path=str(ARTIFACTS / f"error-demo-{name}.png"), full_page=True)
    assert demo.expect.lower() in body.lower(), f"{name}: the message {demo.expect!r} is not on the page"
    assert body.lower().count(demo.expect.lower()) == 1, f"{name}: the message is shown more than once"
    assert _error_badges(page) == 0, f"{name}: a bare Error badge is visible"
    assert not console_errors, console_errors


@pytest.fixture(scope="module")
def phone_page(app_server, browser):
    ctx = browser.new_context(viewport={"width": 414, "height": 896}, is_mobile=True, has_touch=True)
    page = ctx.new_page()
    page.goto(app_server.url)
    page.wait_for_selector("[role=tab]")
    yield page
    ctx.close()


#: At 414 px the main button must be within this distance of the top of its tab's panel.
PHONE_REACH_PX = 1400


@pytest.mark.parametrize("name,mod", tab_modules(), ids=[n for n, _ in tab_modules()])
def test_main_action_is_reachable_at_phone_width(phone_page, name, mod):
    """Issue 10: at 414 px the Train button was 1,650 px down, below every setting."""
    page = phone_page
    open_tab(page, mod.TITLE)
    panel = page.locator(f"#tab-{name}")
    panel.wait_for(state="visible")
    top = panel.bounding_box()["y"]
    button = page.locator(f"#{mod.RUN_BUTTON}").bounding_box()
    assert button is not None and button["y"] - top <= PHONE_REACH_PX, \
        f"{name}: the run button is {button and round(button['y'] - top)} px below the top of the tab"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"phone-{name}.png"), full_page=False)
