"""Compression figures (issue 14): every quantization path vs fp32 on LeNet-300-100, structured vs
unstructured pruning of the CNN, the iterative prune → fine-tune loop, and the paper checks.

    PYTHONPATH=. .venv/bin/python bench/bench_compression.py [--threads 1,2] [--quick]

Prints JSON lines (``bench.common.emit``). The peer of every latency is the fp32 model measured
*in the same run, interleaved* (round robin, so load spikes from other processes hit both).
Latency = median per-forward CPU time (steady on a shared CPU; ``wall_ms`` is reported too) at
fixed torch threads: with 1 thread it is the calling thread's CPU time, i.e. the latency of an
idle core; with more threads it is the process's total CPU time (work, not latency; read
``wall_ms`` then). ``load_avg`` is attached to every line.

Targets: the best int8 CPU path ≥ 1.5× faster than fp32 at batch 1024, ≥ 3.5× smaller on disk,
≤ 1 point accuracy drop (batch 1 reported as measured); structured 50 % of the CNN's channels:
latency ratio vs dense (Torch-Pruning measured 0.30×); iterative pruning to 90 % sparsity with
fine-tuning ≤ 60 s, with progress.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import emit, load_avg  # noqa: E402


def _emit(name: str, value: object, unit: str = "", **extra: object) -> None:
    emit(name, value, unit, load_avg=load_avg(), **extra)


def quantization(threads: int, repeats: int) -> None:
    """Every path of QUANT_PATHS on LeNet-300-100: latency b=1/1024, size, accuracy vs fp32."""
    import torch

    from dlcore.compression import QUANT_PATHS, QuantUnavailable, accuracy, load_base, measure_latency, model_size, quantize

    b = load_base("mlp")
    xt, yt = b.split.x_test, b.split.y_test
    models, skipped = {"fp32": b.model}, {}
    for p in QUANT_PATHS:
        try:
            models[p] = quantize(b.model, p, calibration=b.split.x_train[:2048])  # type: ignore[arg-type]
        except QuantUnavailable as exc:
            skipped[p] = str(exc)
    lat = measure_latency(models, b.example_shape, (1, 1024), repeats, threads)
    size = {n: model_size(m).disk_bytes for n, m in models.items()}
    acc = {n: accuracy(m, xt, yt) for n, m in models.items()}
    ref = lat["fp32"]
    rows = []
    for n in models:
        sp1, sp1024 = ref[1].cpu_ms / lat[n][1].cpu_ms, ref[1024].cpu_ms / lat[n][1024].cpu_ms
        drop = acc["fp32"] - acc[n]
        rows.append((n, sp1024, size["fp32"] / size[n], drop))
        _emit(f"quant_{n}_b1024_speedup", round(sp1024, 2), "x", path=n, threads=threads, repeats=repeats,
              b1_cpu_ms=lat[n][1].cpu_ms, b1024_cpu_ms=lat[n][1024].cpu_ms, b1_wall_ms=lat[n][1].wall_ms,
              b1024_wall_ms=lat[n][1024].wall_ms, b1_speedup=round(sp1, 2), peer="fp32 (same run, interleaved)",
              peer_b1_cpu_ms=ref[1].cpu_ms, peer_b1024_cpu_ms=ref[1024].cpu_ms, disk_bytes=size[n],
              size_ratio=round(size["fp32"] / size[n], 2), accuracy=acc[n], accuracy_drop_points=round(100 * drop, 2),
              deprecated=QUANT_PATHS[n].deprecated if n in QUANT_PATHS else False,
              note=QUANT_PATHS[n].note if n in QUANT_PATHS else "reference")
    for p, why in skipped.items():
        _emit(f"quant_{p}_b1024_speedup", None, "x", path=p, threads=threads, status="unavailable", reason=why)
    int8 = [r for r in rows if r[0] != "fp32" and QUANT_PATHS[r[0]].bits == 8]
    best = max(int8, key=lambda r: r[1])
    _emit("quant_best_int8_b1024_speedup", round(best[1], 2), "x", path=best[0], threads=threads, target=1.5,
          size_ratio=round(best[2], 2), size_target=3.5, accuracy_drop_points=round(100 * best[3], 2), drop_target=1.0,
          passed=bool(best[1] >= 1.5 and best[2] >= 3.5 and best[3] <= 0.01))
    del torch


def structured_cnn(repeats: int) -> None:
    """50 % of the CNN's channels removed (Torch-Pruning) vs dense vs 50 % unstructured zeros."""
    from dlcore.compression import (PruneConfig, StructuredConfig, copy_pruned, finalize, load_base, measure_latency,
                                    prune_structured, prune_unstructured)

    b = load_base("cnn")
    res = prune_structured(copy_pruned(b.model), b.example_shape, StructuredConfig(0.5))
    zeros = copy_pruned(b.model)
    prune_unstructured(zeros, PruneConfig(0.5, scope="layer"))
    finalize(zeros)
    lat = measure_latency({"dense": b.model, "structured_50": res.model, "unstructured_50": zeros}, b.example_shape,
                          (1, 256, 1024), repeats, 1)
    for n in ("structured_50", "unstructured_50"):
        for bs in (1, 256, 1024):
            ratio = lat[n][bs].cpu_ms / lat["dense"][bs].cpu_ms
            _emit(f"cnn_{n}_latency_ratio_b{bs}", round(ratio, 3), "x of dense", threads=1, repeats=repeats,
                  cpu_ms=lat[n][bs].cpu_ms, wall_ms=lat[n][bs].wall_ms, peer="dense CNN (same run, interleaved)",
                  peer_cpu_ms=lat["dense"][bs].cpu_ms, reference="Torch-Pruning measured 0.30x at batch 256",
                  param_ratio=round(res.param_ratio, 3) if n == "structured_50" else 1.0,
                  mac_ratio=round(res.mac_ratio, 3) if n == "structured_50" else 1.0)


def unstructured_lenet(repeats: int) -> None:
    """LeNet-300-100 at 90 % zeros: dense vs masked vs baked vs CSR (no speed-up without kernels)."""
    from dlcore.compression import PruneConfig, copy_pruned, load_base, prune_unstructured, unstructured_latency

    b = load_base("mlp")
    p = copy_pruned(b.model)
    prune_unstructured(p, PruneConfig(0.9))
    lat = unstructured_latency(b.model, p, b.example_shape, (1, 1024), repeats, 1)
    for n, per in lat.items():
        _emit(f"lenet_unstructured90_{n}_b1024", per[1024].cpu_ms, "ms", b1_cpu_ms=per[1].cpu_ms,
              ratio_b1024=round(per[1024].cpu_ms / lat["dense"][1024].cpu_ms, 3),
              ratio_b1=round(per[1].cpu_ms / lat["dense"][1].cpu_ms, 3), peer="dense (same run)", threads=1)


def iterative(target: float) -> None:
    """The notes' loop on LeNet-300-100 to ``target`` sparsity, with progress, timed end to end."""
    import torch

    from dlcore.compression import IterativeConfig, iterative_prune, load_base

    torch.set_num_threads(1)
    events = {"steps": 0, "rounds": 0}

    def progress(step: int, metrics: dict) -> None:
        events["rounds" if "acc_finetuned" in metrics else "steps"] += 1

    b = load_base("mlp")
    t0, c0 = time.perf_counter(), time.thread_time()
    res = iterative_prune(b.model, b.split, IterativeConfig(target=target), callback=progress)
    sec, cpu = time.perf_counter() - t0, time.thread_time() - c0
    assert res.size is not None
    _emit(f"iterative_prune_{round(target * 100)}pct_seconds", round(sec, 1), "s", target=60, passed=sec <= 60,
          cpu_passed=cpu <= 60,
          rounds=len(res.rounds), progress_step_events=events["steps"], progress_round_events=events["rounds"],
          dense_accuracy=res.base_accuracy, pruned_accuracy=res.final_accuracy,
          accuracy_drop_points=round(100 * (res.base_accuracy - res.final_accuracy), 2),
          compression=round(res.size.compression, 2), nonzero=res.size.nonzero, threads=1,
          cpu_s=round(cpu, 1), note="wall time on a shared CPU; cpu_s (this thread's CPU time) is what an idle "
                                    "1-core run would take")


def checks() -> None:
    from dlcore.compression import paper_checks

    for c in paper_checks():
        _emit(f"paper_check_{c.name}", c.passed, "pass", claim=c.claim, paper=c.paper, detail=c.detail,
              measured={k: round(v, 4) if isinstance(v, float) else v for k, v in c.measured.items()})


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", default="1", help="comma-separated torch thread counts for the quantization figures")
    ap.add_argument("--repeats", type=int, default=25)
    ap.add_argument("--quick", action="store_true", help="skip the training figures (iterative pruning, checks)")
    args = ap.parse_args(argv)
    for t in (int(s) for s in args.threads.split(",")):
        quantization(t, args.repeats)
    structured_cnn(max(5, args.repeats // 3))
    unstructured_lenet(args.repeats)
    if not args.quick:
        iterative(0.90)
        checks()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
