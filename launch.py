"""Hands-On DL Lab: assemble every tab into one Gradio app.

    python launch.py                 # serve all tabs on http://127.0.0.1:7860 (or the next free port)
    python launch.py --tabs layers   # serve a subset
    python launch.py --list-tabs     # list tab names and titles
    python launch.py --share         # also ask Gradio for a public *.gradio.live link

The module-level ``demo`` is what ``gradio launch.py`` (reload mode) and Hugging Face
Spaces look for. Building it loads no model weights, no dataset and trains nothing:
every tab loads what it needs lazily, on first use.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import socket
import sys
import threading
import time
import traceback
from types import ModuleType
from typing import Sequence

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
# Idle OpenMP threads sleep instead of spinning: on a 2-core laptop (or a busy one) spinning
# threads steal the CPU from each other and small models decode ~5x slower (bench/bench_gpt.py).
# Must be set before torch is imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from apps.memory import start_idle_trim, tune_malloc  # noqa: E402
from apps.streaming import pin_threads  # noqa: E402

# At most 2 malloc arenas (glibc), before Gradio and torch start their threads: memory freed by
# one request's threads is not stranded in a per-thread heap (apps/memory.py, bench/bench_memory.py).
tune_malloc()


def headless_matplotlib() -> None:
    """Select Agg and import ``matplotlib.pyplot`` whole, here in the main thread, before any
    request or warm-up thread exists.

    Gradio wraps every event in ``matplotlib.use("agg")`` and a restore (``gradio.utils.
    MatplotlibBackendMananger``), and ``matplotlib.use`` calls ``switch_backend`` on whatever
    ``sys.modules["matplotlib.pyplot"]`` holds. Captum's first import (a tab's warm-up thread)
    imports pyplot; a click landing in those milliseconds met a half-imported pyplot and failed
    with "partially initialized module 'matplotlib.pyplot' has no attribute 'switch_backend'"
    (seen in CI; tests/test_launch.py reproduces it). Imported once here (~25 ms after
    matplotlib itself), pyplot is never half-imported again. No figure goes through pyplot:
    dlcore/plotting builds ``Figure`` objects.
    """
    os.environ.setdefault("MPLBACKEND", "Agg")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401


headless_matplotlib()

import gradio as gr  # noqa: E402

from apps import TABS  # noqa: E402
from apps.firstopen import protect_panels  # noqa: E402

log = logging.getLogger("dl_lab")

APP_TITLE = "Hands-On DL Lab"
CSS = """
.formula-box { font-size: 0.95em; }
/* phones: a wide Markdown table scrolls sideways instead of squeezing its columns to a letter a line */
@media (max-width: 640px) {
  .prose table { display: block; overflow-x: auto; max-width: 100%; }
  .prose th, .prose td { min-width: 4.5em; overflow-wrap: normal; word-break: normal; }
}

"""


#: Browser/API sessions whose Gradio state is kept in memory (least recently used dropped first).
#: Gradio keeps every session's copy of the page's component configs, ~2.4 MB for this app's
#: ~1,400 components, and its default bound is 10,000 sessions (~24 GB): every API call without a
#: session is one more (bench/bench_memory.py). 100 keeps a class of 100 learners' state and
#: at most ~240 MB of it. ``DL_LAB_MAX_SESSIONS`` overrides.
MAX_SESSIONS = 100
ENV_MAX_SESSIONS = "DL_LAB_MAX_SESSIONS"


def max_sessions() -> int:
    """:data:`MAX_SESSIONS`, or a positive integer from ``DL_LAB_MAX_SESSIONS`` (anything else is ignored)."""
    raw = os.environ.get(ENV_MAX_SESSIONS, "").strip()
    if raw.isdigit() and int(raw) > 0:
        return int(raw)
    if raw:
        log.warning("%s=%r is not a positive integer; keeping %d sessions", ENV_MAX_SESSIONS, raw, MAX_SESSIONS)
    return MAX_SESSIONS


def load_tab(name: str) -> ModuleType:
    """Import ``apps.<name>`` (raises whatever the import raises)."""
    return importlib.import_module(f"apps.{name}")


def _error_panel(name: str, exc: BaseException) -> None:
    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__, limit=-3))
    log.error("tab %r failed to build:\n%s", name, tb)
    gr.Markdown(
        f"### This tab failed to start\n"
        f"`apps/{name}.py` raised **{type(exc).__name__}: {exc}** while it was built. "
        "The other tabs are unaffected.\n\n"
        f"<details><summary>Traceback (last frames)</summary>\n\n```\n{tb}\n```\n</details>",
        elem_id=f"tab-error-{name}",
    )


def build_demo(tabs: Sequence[str] | None = None) -> gr.Blocks:
    """Build the app with ``tabs`` (default: all of :data:`apps.TABS`), isolating faults.

    A tab whose module fails to import, or whose ``build()`` raises, becomes a panel that
    shows the error; every other tab still starts.
    """
    names = list(TABS if tabs is None else tabs)
    unknown = [n for n in names if n not in TABS]
    if unknown:
        raise ValueError(f"unknown tab(s) {unknown}; choose from {TABS}")
    with gr.Blocks(title=APP_TITLE, analytics_enabled=False) as demo:
        for name in names:
            try:
                mod = load_tab(name)
                title = getattr(mod, "TITLE", name)
            except Exception as exc:  # noqa: BLE001 - fault isolation is the point
                with gr.Tab(name, id=name, elem_id=f"tab-{name}"):
                    _error_panel(name, exc)
                continue
            with gr.Tab(title, id=name, elem_id=f"tab-{name}"):
                try:
                    mod.build()
                except Exception as exc:  # noqa: BLE001
                    _error_panel(name, exc)
    protect_panels(demo)  # after every event exists: no default example paints over a click
    return demo


def warm_up(names: Sequence[str]) -> threading.Thread:
    """After the server is up, in a background thread: remove temporary folders that an
    interrupted run left in the cache, import torch (the page is served before it, so start-up
    stays close to a bare Gradio app's), then call each tab's optional ``warmup()``.

    Warm-ups only import modules and compile code paths that the first click would otherwise
    pay for (scikit-learn, torch's optimizer machinery, the first matplotlib draw); they load
    no weights and no data and train nothing, so they stay fast and offline.
    """
    def run() -> None:
        try:
            from dlcore.paths import clean_stale_temp

            for p in clean_stale_temp():
                log.info("removed a stale temporary folder left by an interrupted run: %s", p)
            import torch  # noqa: F401 - the one big import, paid here rather than at the first click

            import dlcore.plotting  # noqa: F401 - matplotlib
            import dlcore.train.runtime  # noqa: F401 - reads the default thread count before any request changes it
        except Exception:  # noqa: BLE001 - a failed warm-up only costs speed
            log.warning("warm-up failed", exc_info=True)
        for name in names:
            fn = getattr(sys.modules.get(f"apps.{name}"), "warmup", None)
            if fn is None:
                continue
            try:
                pin_threads()  # what a warm-up caches is computed as a request would compute it
                fn()
            except Exception:  # noqa: BLE001 - a failed warm-up only costs speed
                log.warning("warm-up of tab %r failed", name, exc_info=True)

    t = threading.Thread(target=run, name="dl-lab-warmup", daemon=True)
    t.start()
    return t


def free_port(host: str, start: int, tries: int = 100) -> int:
    """First port >= ``start`` on which ``host`` can bind.

    The probe sets ``SO_REUSEADDR`` like the server itself (uvicorn) does, so the TIME-WAIT
    sockets a stopped server leaves behind do not make its port look taken: a restart gets
    the same port.
    """
    for port in range(start, start + tries):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind((host, port))
                return port
            except OSError:
                continue
    raise OSError(f"no free port in {start}..{start + tries - 1} on {host}")


def default_host() -> str:
    """0.0.0.0 on Hugging Face Spaces (``SPACE_ID`` set), else loopback only."""
    return "0.0.0.0" if os.environ.get("SPACE_ID") else "127.0.0.1"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="launch.py",
        description="Hands-On DL Lab: interactive deep-learning lessons, one tab per topic. "
                    "Runs offline on a CPU; models load lazily on first use.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--host", default=None,
                   help="address to bind (default: 127.0.0.1 locally, 0.0.0.0 when SPACE_ID is set)")
    p.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", 7860)),
                   help="port to serve on; if it is taken, the next free port is used")
    p.add_argument("--share", action="store_true",
                   help="also create a public gradio.live link (needs internet; without it the app "
                        "says so and keeps serving locally)")
    p.add_argument("--tabs", nargs="+", metavar="NAME", default=None,
                   help="serve only these tabs (see --list-tabs), e.g. --tabs start layers")
    p.add_argument("--list-tabs", action="store_true", help="print the tab names and titles, then exit")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # Gradio's own start-up probes are not news
    args = parse_args(argv)
    if args.list_tabs:
        for name in TABS:
            try:
                title = getattr(load_tab(name), "TITLE", name)
            except Exception as exc:  # noqa: BLE001
                title = f"(fails to import: {type(exc).__name__}: {exc})"
            print(f"{name:12s} {title}")
        return
    if args.tabs:
        unknown = [n for n in args.tabs if n not in TABS]
        if unknown:
            sys.exit(f"launch.py: unknown tab(s) {', '.join(unknown)}; choose from: {', '.join(TABS)}")
    global demo
    app = demo = build_demo(args.tabs)
    host = args.host or default_host()
    port = free_port(host, args.port)
    if port != args.port:
        print(f"Port {args.port} is taken; using {port}.", flush=True)
    t0 = time.perf_counter()
    app.queue(default_concurrency_limit=2)
    _patient_self_check()
    app.launch(server_name=host, server_port=port, share=args.share, prevent_thread_lock=True,
               show_error=True, quiet=True, footer_links=["api"], css=CSS,
               state_session_capacity=max_sessions())
    warm_up(args.tabs or TABS)
    start_idle_trim()  # freed memory goes back to the OS once the server is quiet again
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    print(f"Hands-On DL Lab is serving at http://{shown}:{port}  (started in {time.perf_counter() - t0:.1f} s; "
          "Ctrl+C to stop)", flush=True)
    if args.share:
        if app.share_url:
            print(f"Public link: {app.share_url}", flush=True)
        else:
            print("No public link could be made (no way out to the internet from here, or the share "
                  "server refused). The app keeps serving locally at the address above.", flush=True)
    try:
        app.block_thread()
    except KeyboardInterrupt:
        pass


def _patient_self_check(deadline_s: float = 60.0) -> None:
    """Make Gradio's start-up check of its own URL patient.

    ``Blocks.launch`` sends HEAD / with a 3 s timeout and, on the first timeout, refuses to start
    ("When localhost is not accessible, a shareable link must be created"). On a loaded 2-core
    machine the first render of this many tabs can take longer than 3 s, so the app died at start
    (seen in the test harness at load 11). This retries for up to ``deadline_s``.
    """
    from gradio import networking

    def url_ok(url: str) -> bool:
        import httpx

        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            try:
                r = httpx.head(url, timeout=10, verify=False)
                if r.status_code in (200, 401, 301, 302, 303, 307, 308):
                    return True
            except (httpx.TransportError, OSError):
                pass
            time.sleep(0.5)
        return False

    networking.url_ok = url_ok


def __getattr__(name: str) -> gr.Blocks:
    """``launch.demo`` for importers (notebooks, ``gradio`` tooling): the full app, built on first
    access, so ``python -m apps.<tab>`` (which imports this module) builds only its own tab."""
    if name == "demo":
        global demo
        demo = build_demo()
        return demo
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if __name__ == "__main__":
    main()
