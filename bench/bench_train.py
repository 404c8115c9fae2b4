"""Train-a-network figures: one playground epoch on the seed's 2,000-sample set, and the time
from pressing Train to the first plotted update (through gradio_client on a real server).

    PYTHONPATH=. .venv/bin/python bench/bench_train.py

Prints JSON lines. Peers measured in the same run: the seed's own plain loop (DataLoader +
TensorDataset, no gradient norms) for the epoch time, and the same trainer with torch's
default thread count (the playground trains small nets on 1 thread).
"""

from __future__ import annotations

import dataclasses
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import emit, serve  # noqa: E402

def epoch_times(spec, epochs: int = 8, threads: int | None = None) -> list[float]:
    from dlcore.train.playground import build_playground

    pg = build_playground(dataclasses.replace(spec, epochs=epochs + 1))
    if threads is not None:
        pg.trainer.config.num_threads = threads
    h = pg.trainer.fit()
    return [e.seconds for e in h.epochs[1:]]  # drop the first (warm-up) epoch

def seed_loop_epoch(epochs: int = 8) -> list[float]:
    """The seed's §dl_2_3 loop verbatim (DataLoader, Adam lr 0.05), as the peer."""
    import torch
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset

    from dlcore.data import seed_classification

    s = seed_classification(5)
    torch.manual_seed(123)
    model = nn.Sequential(nn.Linear(10, 128), nn.ReLU(), nn.BatchNorm1d(128), nn.Dropout(0.2),
                          nn.Linear(128, 64), nn.ReLU(), nn.BatchNorm1d(64), nn.Dropout(0.2),
                          nn.Linear(64, 32), nn.ReLU(), nn.BatchNorm1d(32), nn.Dropout(0.2), nn.Linear(32, 5))
    loader = DataLoader(TensorDataset(s.x_train, s.y_train), batch_size=64, shuffle=True)
    crit, opt = nn.CrossEntropyLoss(), torch.optim.Adam(model.parameters(), lr=0.05)
    times = []
    for _ in range(epochs + 1):
        t0 = time.perf_counter()
        model.train()
        for bx, by in loader:
            out = model(bx)
            loss = crit(out, by)
            opt.zero_grad()
            loss.backward()
            opt.step()
            (out.argmax(1) == by).sum().item()
        model.eval()
        with torch.no_grad():
            crit(model(s.x_test), s.y_test).item()
        times.append(time.perf_counter() - t0)
    return times[1:]

def bench_epoch() -> None:
    import torch

    from dlcore.train.playground import PRESETS

    spec = PRESETS["Seed §dl_2_3: 5-class net, BatchNorm + Dropout, Adam lr 0.05"]
    ours = epoch_times(spec)
    emit(name="playground epoch, seed §dl_2_3 set (1,600 train + 400 val, 25 steps of 64)",
         value=round(statistics.median(ours), 4), unit="s", target="<= 0.5", min=round(min(ours), 4),
         threads=1, cpu_threads=torch.get_num_threads())
    default = epoch_times(spec, threads=0)
    emit(name="peer: same trainer, torch default threads", value=round(statistics.median(default), 4), unit="s",
         threads=torch.get_num_threads())
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    seed = seed_loop_epoch()
    torch.set_num_threads(old)
    emit(name="peer: the seed's plain loop (DataLoader, no grad norms), 1 thread",
         value=round(statistics.median(seed), 4), unit="s")
    binary = epoch_times(PRESETS["Seed §dl_2_2: binary net, BatchNorm + Dropout, SGD lr 0.05"])
    emit(name="playground epoch, seed §dl_2_2 binary set", value=round(statistics.median(binary), 4), unit="s",
         target="<= 0.5")

def bench_generator() -> None:
    """Time to the first and second yielded frames, calling the handler directly (warm process)."""
    from apps import train as tab

    list(tab.train(*tab.D, None, None))  # warm: imports, sklearn data, torch._dynamo (first optimizer)
    firsts, seconds, totals = [], [], []
    for _ in range(3):
        t0 = time.perf_counter()
        stamps = [time.perf_counter() - t0 for _ in tab.train(*tab.D, None, None)]
        firsts.append(stamps[1])  # stamps[0] is the text-only "preparing" frame
        seconds.append(stamps[2])
        totals.append(stamps[-1])
    emit(name="handler: first plotted frame (warm, direct generator call)", value=round(min(firsts), 3),
         unit="s", target="<= 1", median=round(statistics.median(firsts), 3))
    emit(name="handler: default example, whole run incl. final figures (warm)", value=round(min(totals), 3),
         unit="s", median=round(statistics.median(totals), 3))

def bench_server() -> None:
    """Through gradio_client.submit() on a server started here: cold (first press) and warm."""
    from gradio_client import Client

    from apps import train as tab

    def press(client, label: str) -> None:
        t0 = time.perf_counter()
        job = client.submit(*tab.D, api_name="/train")
        first = plotted = None
        while not job.done():
            outs = job.outputs()
            if first is None and outs:
                first = time.perf_counter() - t0
            if plotted is None and any(isinstance(o[1], dict) and o[1].get("plot") for o in outs):  # curves
                plotted = time.perf_counter() - t0
            time.sleep(0.005)
        total = time.perf_counter() - t0
        job.result()
        emit(name=f"gradio_client submit -> first plotted update, {label}",
             value=round(plotted if plotted is not None else total, 3), unit="s", target="<= 1",
             first_text_update=round(first if first is not None else total, 3), whole_run=round(total, 3))

    # Pressed the moment the server answers: races the background warm-up (worst case).
    with serve("--tabs", "train") as url:
        client = Client(url, verbose=False)
        for label in ("cold (first press after start)", "warm (second press)", "warm (third press)"):
            press(client, label)
    # Pressed 3 s after the server answers, about when a person has the page open and clicks.
    with serve("--tabs", "train") as url:
        time.sleep(3)
        press(Client(url, verbose=False), "cold, first press 3 s after start (page opened first)")

if __name__ == "__main__":
    bench_epoch()
    bench_generator()
    bench_server()
