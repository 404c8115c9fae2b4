"""Layer calculator figures (issue 4).

* dlcore call alone: one layer (``analyze``) for a few layer types, p50; the peer is torch
  building the same layer on the ``meta`` device and running a meta forward (shape only);
* a 12-layer stack (the LeNet-style preset) through ``analyze_stack``, p50, with the same
  torch-on-meta peer for the whole ``nn.Sequential``;
* the worked Conv2d arithmetic of the notes (§1.2.4.1) and its picture;
* one calculator update through ``gradio_client`` (``/layers_shape``) against a server started
  here on a free port: p50 / p95, with a no-op endpoint on a bare Gradio server as the peer.

Targets: single layer <= 5 ms p50, 10-layer stack <= 20 ms p50, round trip <= 50 ms.
Run: ``PYTHONPATH=. .venv/bin/python bench/bench_layers.py``.
"""

from __future__ import annotations

import statistics
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import api_update_figures, browser_edit_ms, emit, emit_ms, pct, serve, timeit  # noqa: E402













def bench_dlcore() -> None:
    import torch

    from dlcore.calculators.layers import analyze, build_torch
    from dlcore.calculators.stack import PRESETS, analyze_stack, parse_stack
    from dlcore.calculators.worked import SEED_EXAMPLES, worked_from_text
    from dlcore.plotting.layers import sliding_window_figure

    def meta_peer(lines: list[str], shape: tuple[int, ...]) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            x = torch.empty(shape, device="meta")
            for line in lines:
                out = build_torch(line, device="meta")(x)
                x = out[0] if isinstance(out, tuple) else out

    cases = [("Conv2d(1, 6, kernel_size=3, stride=2, padding=1)", (1, 1, 28, 28)),
             ("LSTM(10, 20, num_layers=2, bidirectional=True)", (5, 3, 10)),
             ("Linear(3, 4)", (3, 2, 3)),
             ("TransformerEncoderLayer(512, 8)", (10, 32, 512))]
    worst = 0.0
    for call, shape in cases:
        analyze(call, shape)
        ms = timeit(lambda: analyze(call, shape), 300)
        peer = timeit(lambda: meta_peer([call], shape), 30)
        worst = max(worst, statistics.median(ms))
        emit(name="layers_single_layer_p50", layer=call, value=round(statistics.median(ms), 4), unit="ms",
             p95=round(pct(ms, 0.95), 4), peer="torch builds the layer on meta + meta forward",
             peer_value=round(statistics.median(peer), 3), target="<= 5 ms")
    emit(name="layers_single_layer_p50_worst", value=round(worst, 4), unit="ms", target="<= 5 ms")

    spec, shape = list(PRESETS.values())[0]
    lines = parse_stack(spec)
    analyze_stack(spec, shape)
    ms = timeit(lambda: analyze_stack(spec, shape), 200)
    peer = timeit(lambda: meta_peer(lines, eval_shape(shape)), 30)
    emit(name="layers_stack_p50", layers=len(lines), value=round(statistics.median(ms), 3), unit="ms",
         p95=round(pct(ms, 0.95), 3), peer="torch nn layers on meta, forward (shapes only)",
         peer_value=round(statistics.median(peer), 3), target="<= 20 ms for 10 layers")

    ex = SEED_EXAMPLES[0]
    ms = timeit(lambda: worked_from_text(ex.kind, ex.x, ex.w, ex.b, ex.options), 200)
    emit(name="layers_worked_conv2d_seed_p50", value=round(statistics.median(ms), 3), unit="ms")
    r = worked_from_text(ex.kind, ex.x, ex.w, ex.b, ex.options)
    x = torch.tensor(eval_shape(ex.x)).tolist()
    ms = timeit(lambda: sliding_window_figure(r, x, 0), 20)
    emit(name="layers_sliding_window_figure_p50", value=round(statistics.median(ms), 2), unit="ms",
         note="Figure object only (no PNG encoding)")


def eval_shape(text: str):
    import ast

    return ast.literal_eval(text)


def bench_roundtrip(n: int = 60) -> None:
    from gradio_client import Client

    import apps.layers as tab

    with serve("--tabs", "layers") as url, serve(peer=True) as peer_url:
        c = Client(url, verbose=False)
        pc = Client(peer_url, verbose=False)
        api_update_figures("layers_update", c, pc, url, "layers_shape", tab.ENDPOINTS[0].examples, n)
        stack_args = tab.ENDPOINTS[2].examples[0]
        st = timeit(lambda: c.predict(*stack_args, api_name="/layers_stack"), 30)
        emit(name="layers_stack_gradio_client_p50", value=round(statistics.median(st), 1), unit="ms",
             p95=round(pct(st, 0.95), 1), n=30)
        wk = tab.ENDPOINTS[1].examples[0]
        wt = timeit(lambda: c.predict(*wk, api_name="/layers_worked"), 20)
        emit(name="layers_worked_with_figure_gradio_client_p50", value=round(statistics.median(wt), 1), unit="ms",
             p95=round(pct(wt, 0.95), 1), n=20, note="worked Conv2d (§1.2.4.1) + sliding-window figure")


def bench_browser() -> None:
    sizes = [(28, 14), (32, 16), (64, 32), (30, 15)]
    times = browser_edit_ms("layers", "input shape", [(f"(1, 1, {h}, {h})", f"(1, 6, {o}, {o})") for h, o in sizes])
    if times:
        emit_ms("layers_update_in_browser_p50", times, target="<= 50 ms (the API round trip)",
                note="Chromium: fill the input-shape box -> new output shape on the page (on-change event)")


if __name__ == "__main__":
    import os

    emit(name="load_average_1min", value=os.getloadavg()[0], unit="", cpus=os.cpu_count())
    bench_dlcore()
    bench_roundtrip()
    bench_browser()
