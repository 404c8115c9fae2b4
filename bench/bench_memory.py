"""Memory of the whole app with every tab used: peak and steady-state RSS of the server.

Serves ``launch.py`` (all tabs), calls every declared example of every endpoint once through the
real API (so every model, data set and figure path has been loaded), then waits until the
process is idle and reads its resident memory a few times (after the server's idle trim,
apps/memory.py, has had its chance). Per tab: RSS before, peak during and right after its calls.
A bare one-Textbox Gradio app is the peer (what the framework alone costs).

Target (issue 10): steady-state RSS <= 2.5 GB with every tab used.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import emit, load_avg, serve  # noqa: E402


def _rss_mb(pid: int) -> float:
    import psutil

    p = psutil.Process(pid)
    return sum(q.memory_info().rss for q in [p, *p.children(recursive=True)]) / 1e6


def _server_pid(url: str) -> int:
    import psutil

    port = int(url.rstrip("/").rsplit(":", 1)[1])
    for c in psutil.net_connections(kind="tcp"):
        if c.laddr and c.laddr.port == port and c.status == psutil.CONN_LISTEN and c.pid:
            return c.pid
    raise RuntimeError(f"no process listens on port {port}")


def _steady(pid: int, settle_s: float = 15.0, samples: int = 5) -> float:
    time.sleep(settle_s)
    vals = []
    for _ in range(samples):
        vals.append(_rss_mb(pid))
        time.sleep(1.0)
    return statistics.median(vals)


def main() -> None:
    from tests.apiclient import call
    from tests.conftest import tab_modules

    with serve(peer=True) as url:
        bare = _steady(_server_pid(url), settle_s=3)
    with serve() as url:
        pid = _server_pid(url)
        start = _steady(pid, settle_s=10, samples=3)
        peak, calls, failed, per_tab = start, 0, [], {}
        for name, mod in tab_modules():
            before, tab_peak = _rss_mb(pid), 0.0
            for ep in getattr(mod, "ENDPOINTS", []):
                for args in ep.examples:
                    ans = call(url, ep.api_name, args, timeout=600)
                    calls += 1
                    if not ans.ok:
                        failed.append(f"{ep.api_name}: {ans.message[:80]}")
                    tab_peak = max(tab_peak, _rss_mb(pid))
            peak = max(peak, tab_peak)
            per_tab[name] = {"before": round(before), "peak": round(tab_peak), "after": round(_rss_mb(pid))}
        after = _steady(pid)
    emit("rss_after_start", round(start), "MB", note="all tabs built, nothing used yet",
         peer="bare one-Textbox Gradio app", peer_value=round(bare))
    emit("rss_peak_every_tab_used", round(peak), "MB", calls=calls, failed=failed[:5])
    emit("rss_per_tab", per_tab, "MB", note="tabs used in order; 'after' is read right after the tab's last "
         "call (the idle trim of apps/memory.py waits for a few quiet seconds), so it includes what malloc kept")
    emit("rss_steady_every_tab_used", round(after), "MB", target="<= 2500 MB", calls=calls,
         load_avg=load_avg())


if __name__ == "__main__":
    main()
