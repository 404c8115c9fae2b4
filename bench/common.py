"""Helpers shared by the bench_*.py scripts: JSON-line output, percentiles, timing, and
serving the app (or a bare Gradio peer) on a free loopback port."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Callable, Iterator, Sequence

ROOT = Path(__file__).resolve().parents[1]

#: A bare Gradio app with one no-op endpoint: the peer for API round-trip figures.
PEER_APP = """
import sys, gradio as gr
with gr.Blocks() as demo:
    t = gr.Textbox(); o = gr.Textbox()
    gr.Button().click(lambda s: s, t, o, api_name="noop", queue=False)
demo.launch(server_name="127.0.0.1", server_port=int(sys.argv[1]))
"""


def emit(name: str, value: object, unit: str = "", **extra: object) -> None:
    """Print one figure as a JSON line ``{"name", "value", "unit", ...}``."""
    print(json.dumps({"name": name, "value": value, "unit": unit, **extra}), flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(xs: Sequence[float], q: float) -> float:
    """The q-quantile (nearest rank) of xs."""
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def timeit(fn: Callable[[], object], n: int) -> list[float]:
    """Run fn n times; return each duration in milliseconds."""
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def load_avg() -> float:
    return round(os.getloadavg()[0], 2)


def wait_http(url: str, proc: subprocess.Popen, timeout: float = 180) -> None:
    t0 = time.time()
    while time.time() - t0 < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(url)


#: Why gradio_client round trips sit near 75 ms even for a no-op endpoint.
CLIENT_FLOOR_NOTE = ("gradio_client waits for results in a loop that sleeps 50 ms between polls "
                     "(gradio_client/utils.py), so no endpoint answers faster through it; the same "
                     "request as one HTTP POST is the *_raw_http figure")


def post_run(url: str, api_name: str, args: Sequence[object], timeout: float = 30) -> object:
    """Call ``api_name`` as one plain HTTP POST to ``/gradio_api/run/<api_name>``; return its data."""
    req = urllib.request.Request(f"{url}gradio_api/run/{api_name}", data=json.dumps({"data": list(args)}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read())["data"]


def emit_ms(name: str, times_ms: Sequence[float], **extra: object) -> None:
    """Emit the median of ``times_ms`` (with p95 and n) as one figure in milliseconds."""
    emit(name, round(statistics.median(times_ms), 1), "ms", p95=round(pct(times_ms, 0.95), 1), n=len(times_ms),
         **extra)


def api_update_figures(prefix: str, client: object, peer_client: object, url: str, api_name: str,
                       examples: Sequence[Sequence[object]], n: int = 60) -> None:
    """One update through the API three ways, in the same run: ``gradio_client`` (with a no-op
    endpoint on a bare Gradio server as the peer) and one plain HTTP POST."""
    for a in examples:  # warm-up: first calls import and compile
        client.predict(*a, api_name=f"/{api_name}")
    peer_client.predict("x", api_name="/noop")
    rt = [timeit(lambda a=examples[i % len(examples)]: client.predict(*a, api_name=f"/{api_name}"), 1)[0]
          for i in range(n)]
    noop = timeit(lambda: peer_client.predict("x", api_name="/noop"), n)
    emit_ms(f"{prefix}_gradio_client_p50", rt, peer="no-op endpoint, bare Gradio server, same client",
            peer_p50=round(statistics.median(noop), 1), peer_p95=round(pct(noop, 0.95), 1), target="<= 50 ms",
            note=CLIENT_FLOOR_NOTE)
    rh = [timeit(lambda a=examples[i % len(examples)]: post_run(url, api_name, a), 1)[0] for i in range(n)]
    emit_ms(f"{prefix}_raw_http_p50", rh, note=f"POST /gradio_api/run/{api_name}, same server", target="<= 50 ms")


def browser_edit_ms(tab: str, label: str, cases: Sequence[tuple[str, str]], n: int = 20) -> list[float] | None:
    """What a learner feels: in Chromium, type each case's text into the box labelled ``label`` on
    ``tab`` and time until the page shows the case's expected text (the on-change event, the
    browser's own Gradio client and the re-render). Two warm-up edits are not counted.
    Returns None where Chromium is not installed."""
    if not Path("/usr/bin/chromium").exists():
        return None
    from playwright.sync_api import sync_playwright

    from tests.e2e.test_browser import CHROMIUM, CHROMIUM_ARGS

    times: list[float] = []
    with serve("--tabs", tab) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(url)
        page.wait_for_selector("[role=tab]")
        box = page.get_by_label(label, exact=False).first
        for i in range(n + 2):
            text, expect = cases[i % len(cases)]
            t0 = time.perf_counter()
            box.fill(text)
            page.wait_for_function("t => document.body.innerText.includes(t)", arg=expect, timeout=10_000)
            if i >= 2:
                times.append((time.perf_counter() - t0) * 1000)
        browser.close()
    return times


@contextlib.contextmanager
def serve(*launch_args: str, peer: bool = False) -> Iterator[str]:
    """Serve ``launch.py *launch_args`` (or the bare :data:`PEER_APP`) and yield its URL."""
    port = free_port()
    cmd = [sys.executable, "-c", PEER_APP, str(port)] if peer else \
        [sys.executable, "launch.py", "--port", str(port), *launch_args]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_http(url, proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
