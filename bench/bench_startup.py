"""Start-up figures: cold start of launch.py to the first HTTP 200, dlcore import time,
and the first page load's weight (bytes, requests, and requests leaving the machine).

Targets (issue 3): cold start <= 8 s on the 2-core CPU; no request leaves the machine.
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

from bench.common import emit, free_port  # noqa: E402






def cold_start_once() -> tuple[float, subprocess.Popen, str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "launch.py", "--port", str(port)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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


def main() -> None:
    times = []
    url = None
    for i in range(3):
        t, proc, url = cold_start_once()
        times.append(t)
        if i == 2:
            page_weight(url)
        proc.terminate()
        proc.wait(10)
    emit(name="cold_start_to_first_http_200", value=round(statistics.median(times), 2), unit="s", target=8.0,
         runs=[round(t, 2) for t in times])
    dlcore_import_time()


if __name__ == "__main__":
    main()
