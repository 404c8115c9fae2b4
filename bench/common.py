"""Helpers shared by the bench_*.py scripts: JSON-line output, percentiles, timing, and
serving the app (or a bare Gradio peer) on a free loopback port."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import socket
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
