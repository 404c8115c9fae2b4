"""Start-up figures: cold start of launch.py to the first HTTP 200 next to a bare one-Textbox
Gradio app measured in the same run (alternating, so load changes hit both), dlcore import time,
and the first page load's weight (bytes, requests, and requests leaving the machine).

Targets: cold start <= 1.5x the bare Gradio app (issue 10; torch and the models are imported in
the background after the page is served); no request leaves the machine.
"""

from __future__ import annotations

import pkgutil
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import PEER_APP, emit, free_port, load_avg  # noqa: E402


def cold_start_once(peer: bool = False) -> tuple[float, subprocess.Popen, str]:
    """Seconds from process start to the first HTTP 200 of the full app (or the bare peer)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    cmd = [sys.executable, "-c", PEER_APP, str(port)] if peer else [sys.executable, "launch.py", "--port", str(port)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while True:
        if proc.poll() is not None:
            raise RuntimeError("launch.py exited")
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return time.perf_counter() - t0, proc, url
        except OSError:
            time.sleep(0.05)
        if time.perf_counter() - t0 > 120:
            proc.kill()
            raise TimeoutError("no HTTP 200 within 120 s")


def page_weight(url: str) -> None:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return
    if not Path("/usr/bin/chromium").exists():
        return
    args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-dev-shm-usage"]
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=args)
        page = b.new_page()
        sizes: list[int] = []
        urls: list[str] = []

        def on_response(resp):
            urls.append(resp.url)
            try:
                sizes.append(len(resp.body()))
            except Exception:  # noqa: BLE001 - redirects / aborted bodies
                pass

        page.on("response", on_response)
        t0 = time.perf_counter()
        page.goto(url)
        page.wait_for_load_state("load")
        page.wait_for_selector("[role=tab]")
        load_s = time.perf_counter() - t0
        b.close()
    outside = [u for u in urls if urlparse(u).hostname not in ("127.0.0.1", "localhost", None)]
    emit(name="first_page_load", value=round(load_s, 2), unit="s", browser="chromium headless")
    emit(name="first_page_bytes", value=sum(sizes), unit="bytes", requests=len(urls))
    emit(name="first_page_requests_outside_machine", value=len(outside), unit="requests", target=0,
         urls=outside[:10])


def dlcore_import_time() -> None:
    import dlcore

    mods = sorted(m.name for m in pkgutil.walk_packages(dlcore.__path__, "dlcore.") if not m.name.endswith("__main__"))
    code = ("import time, importlib; t=time.perf_counter(); "
            f"[importlib.import_module(m) for m in {mods!r}]; print(time.perf_counter()-t)")
    code_torch = "import time; t=time.perf_counter(); import torch; print(time.perf_counter()-t)"
    runs, torch_runs = [], []
    for _ in range(3):
        runs.append(float(subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                                         check=True).stdout))
        torch_runs.append(float(subprocess.run([sys.executable, "-c", code_torch], cwd=ROOT, capture_output=True,
                                               text=True, check=True).stdout))
    emit(name="dlcore_import_all_modules", value=round(statistics.median(runs), 3), unit="s", modules=len(mods),
         peer="import torch alone", peer_value=round(statistics.median(torch_runs), 3))


def main(runs: int = 5) -> None:
    times, peer_times = [], []
    for i in range(runs):
        for peer in (False, True):  # alternate: a load change affects both series alike
            t, proc, url = cold_start_once(peer)
            (peer_times if peer else times).append(t)
            if i == runs - 1 and not peer:
                page_weight(url)
            proc.terminate()
            proc.wait(10)
    app, bare = statistics.median(times), statistics.median(peer_times)
    emit(name="cold_start_to_first_http_200", value=round(app, 2), unit="s",
         runs=[round(t, 2) for t in times], peer="bare one-Textbox Gradio app, same run",
         peer_value=round(bare, 2), peer_runs=[round(t, 2) for t in peer_times],
         ratio=round(app / bare, 2), target="<= 1.5x the bare app", load_avg=load_avg())
    dlcore_import_time()


if __name__ == "__main__":
    main()
