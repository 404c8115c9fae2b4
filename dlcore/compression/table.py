"""One table for every compressed variant: size, latency, accuracy, robustness (issue 14 §6).

For each :data:`~dlcore.compression.variants.VARIANTS` entry: the measured file size
(``torch.save`` of the state dict) and its ratio to the fp32 parent, the weights left (nonzero),
the latency at batch 1 and 1024 (median thread-CPU time, torch threads fixed, every variant of a
base measured interleaved with its fp32 parent) and the speed-up, the clean test accuracy, and
the accuracy under one fixed attack — does compression cost robustness?

The attack is an argument, ``attack(model, x, y) -> x_adv`` (e.g. ``dlcore.attacks``' PGD), run
on the same first ``attack_examples`` test images for every variant, white-box through the
variant's ``grad_model`` (the fp32 parent for integer kernels without autograd).
A variant that cannot run here (no kernel) is a row with ``status`` saying why.
"""

from __future__ import annotations

import csv
import io
import os
import threading
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from dlcore.compression._validate import check_int
from dlcore.compression.iterative import ProgressCallback
from dlcore.compression.measure import accuracy, measure_latency, model_size
from dlcore.compression.variants import DEFAULT_VARIANTS, VARIANTS, Built, VariantContext

__all__ = ["Attack", "TableConfig", "TableRow", "CompressionTable", "compression_table", "cached_table", "write_csv"]

#: ``attack(model, x, y) -> x_adv``
Attack = Callable[[nn.Module, torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass
class TableConfig:
    """Measurement settings.

    Args:
        repeats: latency repeats (median), default 7. threads: torch threads, default 1.
        eval_examples: test images for clean accuracy (default 10000, the whole test set).
        attack_examples: test images attacked (default 500).
    """

    repeats: int = 7
    threads: int = 1
    eval_examples: int = 10_000
    attack_examples: int = 500

    def validate(self) -> None:
        check_int("repeats", self.repeats, 1, 200)
        check_int("threads", self.threads, 1, 64)
        check_int("eval_examples", self.eval_examples, 1, 100_000)
        check_int("attack_examples", self.attack_examples, 1, 10_000)


@dataclass(frozen=True)
class TableRow:
    """One variant. Sizes in bytes, latencies in ms (thread CPU time; ``*_wall_ms`` wall clock),
    ratios relative to the fp32 parent (``size_ratio`` = parent bytes / bytes, ``speedup_*`` =
    parent ms / ms), accuracies in [0, 1] (``robust_accuracy`` None when no attack was given)."""

    variant: str
    label: str
    family: str
    base: str
    status: str
    deprecated: bool
    params: int | None = None
    nonzero: int | None = None
    disk_bytes: int | None = None
    sparse_bytes: int | None = None
    size_ratio: float | None = None
    latency_b1_ms: float | None = None
    latency_b1024_ms: float | None = None
    latency_b1_wall_ms: float | None = None
    latency_b1024_wall_ms: float | None = None
    speedup_b1: float | None = None
    speedup_b1024: float | None = None
    accuracy: float | None = None
    robust_accuracy: float | None = None
    note: str = ""


@dataclass
class CompressionTable:
    """The rows plus how they were measured (threads, repeats, load average, examples, attack)."""

    rows: list[TableRow]
    threads: int
    repeats: int
    load_avg: float
    eval_examples: int
    attack_examples: int
    attack: str
    seconds: float = 0.0
    status: str = "finished"

    @property
    def columns(self) -> list[str]:
        return [f.name for f in fields(TableRow)]

    def records(self) -> list[list[object]]:
        """Rows as lists in :attr:`columns` order (for a Dataframe)."""
        return [[getattr(r, c) for c in self.columns] for r in self.rows]

    def row(self, variant: str) -> TableRow:
        for r in self.rows:
            if r.variant == variant:
                return r
        raise KeyError(f"variant {variant!r} is not in the table")

    def to_csv(self) -> str:
        """The table as CSV text (header = :attr:`columns`), with a comment line of conditions."""
        buf = io.StringIO()
        buf.write(f"# threads={self.threads} repeats={self.repeats} load_avg={self.load_avg} "
                  f"eval_examples={self.eval_examples} attack={self.attack} attack_examples={self.attack_examples}\n")
        w = csv.DictWriter(buf, fieldnames=self.columns, lineterminator="\n")
        w.writeheader()
        for r in self.rows:
            w.writerow(asdict(r))
        return buf.getvalue()


def write_csv(table: CompressionTable, path: str | Path) -> Path:
    """Write :meth:`CompressionTable.to_csv` to ``path``; returns the path."""
    p = Path(path)
    p.write_text(table.to_csv())
    return p


def compression_table(variants: tuple[str, ...] | list[str] | None = None, attack: Attack | None = None,
                      config: TableConfig | None = None, attack_name: str = "",
                      callback: ProgressCallback | None = None,
                      stop_event: threading.Event | None = None) -> CompressionTable:
    """Build every variant, then measure size, latency, accuracy and robust accuracy.

    Args:
        variants: names from :data:`VARIANTS` (default all); each base's fp32 row is added if missing.
        attack: ``attack(model, x, y) -> x_adv``; None leaves ``robust_accuracy`` empty.
        config: :class:`TableConfig`.
        attack_name: how the attack is described in the table (e.g. "PGD-20 ε=0.1").
        callback: ``callback(i, {"variant": name, "stage": "build" | "measure"})`` per variant and
            stage; the builders' training runs report through it too (``{"run": ..., "loss": ...}``).
        stop_event: set to stop (the rows done so far are returned, ``status="stopped"``).
    """
    cfg = config or TableConfig()
    cfg.validate()
    if isinstance(variants, str) or not (variants is None or isinstance(variants, (list, tuple))):
        raise ValueError(f"variants {variants!r} must be a list of names from {list(VARIANTS)}")
    names = list(DEFAULT_VARIANTS if variants is None else variants)
    for n in names:
        if n not in VARIANTS:
            raise ValueError(f"variant {n!r} is not one of {list(VARIANTS)}")
    parents = {"mlp": "fp32", "cnn": "cnn_fp32", "multi_exit": "multiexit_full"}
    for n in list(names):
        p = parents[VARIANTS[n].base]
        if p not in names:
            names.insert(0, p)
    stop_event = stop_event or threading.Event()
    ctx = VariantContext(callback, stop_event)
    t0 = time.perf_counter()
    live: dict[str, Built] = {}
    failed: dict[str, str] = {}
    for i, n in enumerate(names):  # 1. build
        if stop_event.is_set():
            break
        if callback is not None:
            callback(i, {"variant": n, "stage": "build"})
        try:
            live[n] = VARIANTS[n].build(ctx)
        except Exception as exc:  # noqa: BLE001 - a variant without a kernel here becomes a row saying why
            failed[n] = f"unavailable: {type(exc).__name__}: {str(exc).splitlines()[0][:160]}"
    stopped = stop_event.is_set()
    lat: dict[str, dict] = {}
    for kind, parent in parents.items():  # 2. latency, interleaved per base
        group = {n: lv.model for n, lv in live.items() if VARIANTS[n].base == kind}
        if group and not stopped:
            shape = ctx.base(kind).example_shape
            lat.update(measure_latency(group, shape, (1, 1024), cfg.repeats, cfg.threads))
    adv_cache: dict[int, torch.Tensor] = {}
    rows: list[TableRow] = []
    for i, n in enumerate(names):  # 3. size, accuracy, robustness
        spec = VARIANTS[n]
        if n in failed or n not in live:
            rows.append(TableRow(n, spec.label, spec.family, ctx.base(spec.base).name,
                                 failed.get(n, "not built (stopped)"), spec.deprecated, note=spec.note))
            continue
        if callback is not None:
            callback(i, {"variant": n, "stage": "measure"})
        b, m = ctx.base(spec.base), live[n].model
        xt, yt = b.split.x_test[:cfg.eval_examples], b.split.y_test[:cfg.eval_examples]
        size = model_size(m)
        robust = None
        if attack is not None and not stop_event.is_set():
            g = live[n].grad_model or m
            xa, ya = b.split.x_test[:cfg.attack_examples], b.split.y_test[:cfg.attack_examples]
            if id(g) not in adv_cache:
                adv_cache[id(g)] = attack(g, xa, ya).detach()
            robust = accuracy(m, adv_cache[id(g)], ya)
        rows.append(TableRow(n, spec.label, spec.family, b.name, "ok", spec.deprecated, size.params, size.nonzero,
                             size.disk_bytes, size.sparse_bytes, note=live[n].note or spec.note,
                             accuracy=accuracy(m, xt, yt), robust_accuracy=robust,
                             **_latency_fields(lat, n, parents[spec.base])))
    base_disk = {r.variant: r.disk_bytes for r in rows}
    rows = [r if r.disk_bytes is None else
            _with(r, size_ratio=(base_disk.get(parents[VARIANTS[r.variant].base]) or r.disk_bytes) / r.disk_bytes)
            for r in rows]
    load = round(os.getloadavg()[0], 2)
    return CompressionTable(rows, cfg.threads, cfg.repeats, load, cfg.eval_examples, cfg.attack_examples,
                            attack_name or ("none" if attack is None else getattr(attack, "__name__", "attack")),
                            time.perf_counter() - t0, "stopped" if stopped or stop_event.is_set() else "finished")


def _latency_fields(lat: dict, name: str, parent: str) -> dict:
    if name not in lat:
        return {}
    me, ref = lat[name], lat.get(parent, lat[name])
    return dict(latency_b1_ms=me[1].cpu_ms, latency_b1024_ms=me[1024].cpu_ms, latency_b1_wall_ms=me[1].wall_ms,
                latency_b1024_wall_ms=me[1024].wall_ms, speedup_b1=ref[1].cpu_ms / max(me[1].cpu_ms, 1e-9),
                speedup_b1024=ref[1024].cpu_ms / max(me[1024].cpu_ms, 1e-9))


def _with(row: TableRow, **changes: object) -> TableRow:
    d = asdict(row)
    d.update(changes)
    return TableRow(**d)


def cached_table(variants: tuple[str, ...] | list[str] | None = None, attack: Attack | None = None,
                 config: TableConfig | None = None, attack_name: str = "",
                 callback: ProgressCallback | None = None, stop_event: threading.Event | None = None,
                 cache: bool = True) -> CompressionTable:
    """:func:`compression_table`, kept in the in-process result cache keyed by the variants, the
    config and ``attack_name`` (name the attack by its settings, e.g. "PGD-20 ε=0.1 α=0.01": two
    different attacks under one name would share a cached table). A stopped build is not kept."""
    from dlcore.compression.experiments import RESULTS

    cfg = config or TableConfig()
    if isinstance(variants, str) or not (variants is None or isinstance(variants, (list, tuple))):
        raise ValueError(f"variants {variants!r} must be a list of names from {list(VARIANTS)}")
    names = tuple(DEFAULT_VARIANTS if variants is None else variants)
    key = ("table", names, attack_name if attack is not None else "none", cfg.repeats, cfg.threads,
           cfg.eval_examples, cfg.attack_examples)

    def build() -> CompressionTable:
        return compression_table(names, attack, cfg, attack_name, callback, stop_event)

    if not cache:
        return build()
    table = RESULTS.get(key, build)
    if table.status != "finished":
        RESULTS.discard(key)
    return table
