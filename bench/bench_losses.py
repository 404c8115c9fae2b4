"""Loss calculator figures (issue 5).

* dlcore call alone (parse + step-by-step + reduction) on each seed example: p50, with the
  bare ``torch.nn`` call on the same float64 tensors as the peer;
* the tab's handler without the figure (adds the live torch check and the baseline);
* one loss update through ``gradio_client`` (``/loss_compute``) on a server started here on a
  free port: p50 / p95, with the peer a no-op endpoint on a bare Gradio server in the same run;
* the same update as one plain HTTP POST to ``/gradio_api/run/loss_compute`` (no client protocol);
* the per-element figure event (``/loss_plot``): p50 / p95.

Targets: dlcore call <= 5 ms p50; gradio_client round trip <= 50 ms p50 and p95.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import api_update_figures, browser_edit_ms, emit, emit_ms, pct, serve, timeit  # noqa: E402














def bench_dlcore(threads: int | None = None) -> None:
    import torch

    if threads:
        torch.set_num_threads(threads)
    nt = torch.get_num_threads()

    import apps.losses as tab
    from dlcore.calculators.losses import calculate, parse_options, torch_reference
    from dlcore.textinput import parse_tensor

    all_p50, all_peer = [], []
    for ex in tab.SEED_EXAMPLES[:12]:
        label, a = ex.label, ex.args()

        def call(a=a):
            o = parse_options(a[0], reduction=a[3], delta=a[4], beta=a[5], weight=a[6], ignore_index=a[7],
                              label_smoothing=a[8], pos_weight=a[9], log_target=a[10])
            return calculate(a[0], a[1], a[2], o)
        o = parse_options(a[0], reduction=a[3], delta=a[4], beta=a[5])
        x, y = parse_tensor(a[1]), parse_tensor(a[2])
        call()
        ms = timeit(call, 100)
        peer = timeit(lambda: torch_reference(a[0], x, y, o), 100)
        all_p50.append(statistics.median(ms))
        all_peer.append(statistics.median(peer))
        emit(name="loss_dlcore_call_p50", example=label, torch_threads=nt, value=round(statistics.median(ms), 3), unit="ms",
             peer="torch.nn call alone (float64)", peer_value=round(statistics.median(peer), 3), target="<= 5 ms")
    emit(name="loss_dlcore_call_p50_worst_example", torch_threads=nt, value=round(max(all_p50), 3), unit="ms",
         median_over_examples=round(statistics.median(all_p50), 3), peer_median=round(statistics.median(all_peer), 3),
         target="<= 5 ms")
    hand = []
    for ex in tab.SEED_EXAMPLES[:12]:
        hand += timeit(lambda a=ex.args(): tab.compute(*a), 10)
    emit(name="loss_handler_no_figure_p50", torch_threads=nt, value=round(statistics.median(hand), 2), unit="ms",
         p95=round(pct(hand, 0.95), 2), note="dlcore + live torch check + uniform-guess baseline + Markdown")


def bench_roundtrip(n: int = 60) -> None:
    from gradio_client import Client

    import apps.losses as tab

    with serve("--tabs", "losses") as url, serve(peer=True) as peer_url:
        c = Client(url, verbose=False)
        pc = Client(peer_url, verbose=False)
        examples = [e.args() for e in tab.SEED_EXAMPLES[:12]]
        api_update_figures("loss_update", c, pc, url, "loss_compute", examples, n)
        pl = [timeit(lambda a=examples[i % len(examples)]: c.predict(*a, api_name="/loss_plot"), 1)[0]
              for i in range(min(n, 30))]
        emit(name="loss_plot_gradio_client_p50", value=round(statistics.median(pl), 1), unit="ms",
             p95=round(pct(pl, 0.95), 1), n=len(pl), note="per-element figure, a separate chained event")


def bench_browser() -> None:
    cases = [("[[0.5, 0.2], [0.7, 0.9]]", "MSELoss = 0.0925"), ("[[0.5, 0.4], [0.3, 0.5]]", "MSELoss = 0.0025")]
    times = browser_edit_ms("losses", "prediction x", cases)
    if times:
        emit_ms("loss_update_in_browser_p50", times, target="<= 50 ms (the API round trip)",
                note="Chromium: edit the prediction -> the new loss on the page (incl. Markdown + KaTeX "
                     "rendering; the figure follows)")


if __name__ == "__main__":
    import os

    print(json.dumps({"name": "load_average_1min", "value": os.getloadavg()[0], "unit": "",
                      "cpus": os.cpu_count()}), flush=True)
    bench_roundtrip()  # first, with the server's default torch threads
    bench_browser()
    bench_dlcore()     # default intra-op threads (as the app runs)
    bench_dlcore(1)    # single thread: tiny tensors, no OpenMP wake-ups on a loaded machine
