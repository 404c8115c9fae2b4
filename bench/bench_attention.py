"""Attention tab figures (issue 16, attention half).

* the calculator in process (parse + every step + the torch check) on each one-click example:
  p50, with ``F.scaled_dot_product_attention`` alone on the same float64 tensors as the peer;
* one calculator update through the HTTP API (``/attention_calc``) on a server started here:
  ``gradio_client`` (peer: a no-op endpoint on a bare Gradio server) and one plain HTTP POST;
* Nadaraya–Watson at one width (the handler with both figures) and the learned w (d2l's 5 epochs);
* the CNN / RNN / self-attention sweep (7 lengths × 3 layers + the path lengths), uncached.

Targets (issue 16): the attention calculator through the HTTP API <= 50 ms.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import api_update_figures, emit, emit_ms, serve, timeit  # noqa: E402


def bench_in_process() -> None:
    import torch
    import torch.nn.functional as F

    import apps.attention as tab
    import apps.attention_calc as calc
    from dlcore.attention.names import CALC_EXAMPLES
    from dlcore.textinput import parse_tensor

    worst, peers = [], []
    for ex in CALC_EXAMPLES:
        args = calc._example(ex)
        calc._report(*args)
        ms = timeit(lambda a=args: calc._report(*a), 50)
        q, k, v = (parse_tensor(t, "x", ndim=2) for t in (ex.q, ex.k, ex.v))
        peer = timeit(lambda: F.scaled_dot_product_attention(q, k, v), 50) \
            if q.shape[1] == k.shape[1] else [float("nan")]
        worst.append(statistics.median(ms))
        peers.append(statistics.median(peer))
        emit("attention_calc_dlcore_p50", round(statistics.median(ms), 3), "ms", example=ex.label,
             peer="F.scaled_dot_product_attention alone (float64)", peer_value=round(statistics.median(peer), 3))
    emit("attention_calc_dlcore_p50_worst_example", round(max(worst), 3), "ms",
         median_over_examples=round(statistics.median(worst), 3), torch_threads=torch.get_num_threads())
    tab.pool(*tab.NW_DEFAULT)
    emit_ms("attention_pool_handler_p50", timeit(lambda: tab.pool(*tab.NW_DEFAULT), 10),
            note="Nadaraya-Watson at one width, both figures as PNG")
    def train() -> None:
        for _ in tab.train(*tab.TRAIN_DEFAULT):
            pass
    cold = timeit(train, 1)[0]  # the first torch.optim use imports torch._dynamo (the app's warmup() pays it)
    emit_ms("attention_train_w_d2l_5_epochs_p50", timeit(train, 5), cold_first_call_ms=round(cold, 1),
            note="SGD eta 0.5 through the Trainer, then all three figures; the cold call imports torch._dynamo")
    from dlcore.attention.complexity import measure_complexity

    t = time.perf_counter()
    sweep = measure_complexity(d=64, k=3)
    emit("attention_complexity_sweep_uncached", round(time.perf_counter() - t, 2), "s",
         lengths=sweep.lengths, sa_ms_at_1024=round(sweep.times["self-attention"][-1], 3),
         rnn_ms_at_1024=round(sweep.times["RNN"][-1], 3), cnn_ms_at_1024=round(sweep.times["CNN"][-1], 3))


def bench_roundtrip(n: int = 40) -> None:
    from gradio_client import Client

    import apps.attention_calc as calc
    from dlcore.attention.names import CALC_EXAMPLES

    with serve("--tabs", "attention") as url, serve(peer=True) as peer_url:
        c = Client(url, verbose=False)
        pc = Client(peer_url, verbose=False)
        api_update_figures("attention_calc", c, pc, url, "attention_calc", [calc._example(e) for e in CALC_EXAMPLES], n)


if __name__ == "__main__":
    print(json.dumps({"name": "load_average_1min", "value": os.getloadavg()[0], "unit": "",
                      "cpus": os.cpu_count()}), flush=True)
    bench_roundtrip()
    bench_in_process()
