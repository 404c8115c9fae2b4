"""One call per UI panel: run one method on a zoo base model and measure before and after.

Each function loads the base (:func:`~dlcore.compression.measure.load_base`: a fresh copy of
LeNet-300-100 or the CNN, or their digits twins), applies one method of this package to a copy,
and returns a dataclass with what a learner compares: test accuracy before and after, sizes
measured by serialising, and, where asked, latency measured interleaved with the dense parent
(median thread-CPU time at 1 thread, :func:`~dlcore.compression.measure.measure_latency`).

:func:`compare_quant_paths` (up to eight models quantized and timed) and :func:`binary_outcome`
(a fine-tune) keep finished results in :data:`~dlcore.compression.experiments.RESULTS`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Literal

import torch
from torch import nn

from dlcore.compression._validate import check_choice, check_int
from dlcore.compression.binary import BinaryConfig, BinaryResult, binarize
from dlcore.compression.iterative import ProgressCallback
from dlcore.compression.measure import (BaseModel, Latency, ModelSize, accuracy, load_base, measure_latency, model_size,
                                        serialized_bytes)
from dlcore.compression.pruning import PruneConfig, PruneReport, copy_pruned, finalize, prunable_layers, prune_unstructured
from dlcore.compression.sharing import KMeansConfig, ShareResult, share_weights
from dlcore.compression.structured import StructuredConfig, StructuredResult, prune_structured

__all__ = ["base_accuracy", "PruneOutcome", "prune_once", "StructuredOutcome", "structured_outcome", "QuantRow", "QuantComparison",
           "compare_quant_paths", "ShareOutcome", "share_outcome", "BinaryOutcome", "binary_outcome"]

Kind = Literal["mlp", "cnn"]


def base_accuracy(base: BaseModel, n: int) -> float:
    """Accuracy of the unmodified zoo base on its first ``n`` test images (computed once)."""
    from dlcore.compression.experiments import RESULTS

    return RESULTS.get(("base_accuracy", base.name, n),
                       lambda: accuracy(base.model, base.split.x_test[:n], base.split.y_test[:n]))


@dataclass
class PruneOutcome:
    """One unstructured pruning of a base model.

    Attributes:
        base: zoo name. report: per-layer sparsity. model: the pruned copy (masks kept).
        dense_accuracy, pruned_accuracy: whole test set (or ``eval_examples``), no fine-tuning.
        dense, pruned: :class:`ModelSize` of the dense model and of the pruned one *finalized*
            (zeros baked in: same file size as dense; ``sparse_bytes`` = its CSR encoding).
        masked_disk_bytes: ``torch.save`` of the pruned state dict while the masks are attached
            (``weight_orig`` + ``weight_mask``: about twice the dense file).
    """

    base: str
    report: PruneReport
    model: nn.Module
    dense_model: nn.Module
    example_shape: tuple[int, ...]
    dense_accuracy: float
    pruned_accuracy: float
    dense: ModelSize
    pruned: ModelSize
    masked_disk_bytes: int
    eval_examples: int = 10_000


def prune_once(kind: Kind = "mlp", config: PruneConfig | None = None, eval_examples: int = 10_000) -> PruneOutcome:
    """Prune a copy of the base once (no fine-tuning) and measure accuracy and sizes."""
    cfg = config or PruneConfig()
    cfg.validate()
    n = check_int("eval_examples", eval_examples, 1, 100_000)
    b = load_base(kind)
    xt, yt = b.split.x_test[:n], b.split.y_test[:n]
    pruned = copy_pruned(b.model)
    data = (b.split.x_train[:1024], b.split.y_train[:1024]) if cfg.criterion == "taylor" else None
    rep = prune_unstructured(pruned, cfg, data)
    masked = serialized_bytes(pruned)
    return PruneOutcome(b.name, rep, pruned, b.model, b.example_shape, base_accuracy(b, n),
                        accuracy(pruned, xt, yt), model_size(b.model), model_size(finalize(copy_pruned(pruned))),
                        masked, len(xt))


@dataclass
class StructuredOutcome:
    """Structured pruning vs the dense model vs the same fraction of unstructured zeros.

    ``latency`` has the runs ``"dense"``, ``"structured"`` (smaller tensors) and ``"zeros"``
    (the same fraction of each pruned layer's weights set to zero, dense storage), measured
    interleaved; accuracies are without fine-tuning.
    """

    base: str
    result: StructuredResult
    dense_accuracy: float
    pruned_accuracy: float
    zeros_accuracy: float
    latency: dict[str, dict[int, Latency]] = field(default_factory=dict)
    eval_examples: int = 10_000


def structured_outcome(kind: Kind = "cnn", config: StructuredConfig | None = None, batch_sizes: tuple[int, ...] = (1, 256),
                       repeats: int = 5, eval_examples: int = 10_000) -> StructuredOutcome:
    """Remove channels/neurons with Torch-Pruning and measure accuracy and latency against the
    dense model and against unstructured zeros of the same fraction (layer-wise magnitude)."""
    cfg = config or StructuredConfig()
    if not isinstance(cfg, StructuredConfig):
        raise ValueError(f"config {cfg!r} must be a StructuredConfig")
    cfg.validate()
    n = check_int("eval_examples", eval_examples, 1, 100_000)
    b = load_base(kind)
    xt, yt = b.split.x_test[:n], b.split.y_test[:n]
    data = (b.split.x_train[:256], b.split.y_train[:256]) if cfg.importance == "taylor" else None
    res = prune_structured(copy_pruned(b.model), b.example_shape, cfg, data)
    zeros = copy_pruned(b.model)
    names = [name for name, _ in prunable_layers(zeros)][:-1]  # the same layers structured pruning shrinks
    prune_unstructured(zeros, PruneConfig(cfg.ratio, scope="layer"), layers=names)
    finalize(zeros)
    lat = measure_latency({"dense": b.model, "structured": res.model, "zeros": zeros}, b.example_shape, batch_sizes,
                          repeats, 1)
    return StructuredOutcome(b.name, res, base_accuracy(b, n), accuracy(res.model, xt, yt),
                             accuracy(zeros, xt, yt), lat, len(xt))


@dataclass(frozen=True)
class QuantRow:
    """One quantization path (or ``"fp32"``) on the base: measured size, accuracy, latency.

    ``available`` False means no kernel here (``reason`` says why; the numbers are None).
    ``speedup[b]`` = fp32 ms / this path's ms at batch ``b`` (measured in the same run).
    """

    path: str
    label: str
    library: str
    bits: int
    deprecated: bool
    note: str
    available: bool
    reason: str = ""
    disk_bytes: int | None = None
    size_ratio: float | None = None
    accuracy: float | None = None
    accuracy_drop: float | None = None
    latency: dict[int, Latency] = field(default_factory=dict)
    speedup: dict[int, float] = field(default_factory=dict)


@dataclass
class QuantComparison:
    """fp32 first, then every path asked for, measured interleaved on one base."""

    base: str
    rows: list[QuantRow]
    batch_sizes: tuple[int, ...]
    repeats: int
    status: Literal["finished", "stopped"] = "finished"

    def row(self, path: str) -> QuantRow:
        for r in self.rows:
            if r.path == path:
                return r
        raise KeyError(f"path {path!r} is not in the comparison")

    def best(self, bits: int = 8) -> QuantRow | None:
        """The measured ``bits``-bit path with the largest speed-up at the largest batch (None if none ran)."""
        rows = [r for r in self.rows if r.path != "fp32" and r.bits == bits and r.speedup]
        return max(rows, key=lambda r: r.speedup[max(r.speedup)]) if rows else None

    def latency(self) -> dict[str, dict[int, Latency]]:
        """``{path: {batch: Latency}}`` of the measured rows (for a latency figure)."""
        return {r.path: r.latency for r in self.rows if r.latency}


def compare_quant_paths(paths: tuple[str, ...] | list[str] | None = None, kind: Kind = "mlp",
                        batch_sizes: tuple[int, ...] = (1, 1024), repeats: int = 7,
                        callback: ProgressCallback | None = None, stop_event: threading.Event | None = None,
                        eval_examples: int = 10_000, cache: bool = True, peek: bool = False) -> QuantComparison | None:
    """Quantize the base by each path of :data:`~dlcore.compression.quantization.QUANT_PATHS`
    (default all), then measure size on disk, accuracy and latency against fp32.

    Args:
        paths: path names (fp32 is always the first row).
        callback: ``callback(i, {"path": name, "stage": "quantize" | "latency"})``.
        stop_event: set to stop between paths (a stopped comparison is returned, not cached).
        peek: only look: the finished comparison of an earlier call with these settings, or None.
    """
    from dlcore.compression.experiments import RESULTS, load_base_name
    from dlcore.compression.quantization import QUANT_PATHS, QuantUnavailable, quantize

    if isinstance(paths, str) or not (paths is None or isinstance(paths, (list, tuple))):
        raise ValueError(f"paths {paths!r} must be a list of names from {list(QUANT_PATHS)}")
    names = tuple(QUANT_PATHS if paths is None else paths)
    if not names:
        raise ValueError("paths is empty: name at least one quantization path")
    for p in names:
        check_choice("path", p, QUANT_PATHS)
    repeats = check_int("repeats", repeats, 1, 200)
    n = check_int("eval_examples", eval_examples, 1, 100_000)
    stop_event = stop_event or threading.Event()

    def run() -> QuantComparison:
        b = load_base(kind)
        xt, yt = b.split.x_test[:n], b.split.y_test[:n]
        models: dict[str, nn.Module] = {"fp32": b.model}
        reasons: dict[str, str] = {}
        for i, p in enumerate(names):  # 1. quantize each path (a path without a kernel here says why)
            if stop_event.is_set():
                break
            if callback is not None:
                callback(i, {"path": p, "stage": "quantize"})
            try:
                models[p] = quantize(b.model, p, calibration=b.split.x_train[:2048])  # type: ignore[arg-type]
            except QuantUnavailable as exc:
                reasons[p] = str(exc)
        stopped = stop_event.is_set()
        lat = {}
        if not stopped:  # 2. latency of all, interleaved
            if callback is not None:
                callback(len(names), {"path": "all", "stage": "latency"})
            lat = measure_latency(models, b.example_shape, batch_sizes, repeats, 1)
        acc = {p: accuracy(m, xt, yt) for p, m in models.items()}  # 3. accuracy, size
        disk = {p: serialized_bytes(m) for p, m in models.items()}
        rows = [QuantRow("fp32", "fp32 (the reference)", "torch", 32, False, "dense float32", True,
                         disk_bytes=disk["fp32"], size_ratio=1.0, accuracy=acc["fp32"], accuracy_drop=0.0,
                         latency=lat.get("fp32", {}), speedup={k: 1.0 for k in lat.get("fp32", {})})]
        for p in names:
            info = QUANT_PATHS[p]
            if p not in models:
                rows.append(QuantRow(p, info.label, info.library, info.bits, info.deprecated, info.note, False,
                                     reasons.get(p, "not run (stopped)")))
                continue
            speed = {k: lat["fp32"][k].cpu_ms / max(v.cpu_ms, 1e-9) for k, v in lat.get(p, {}).items()}
            rows.append(QuantRow(p, info.label, info.library, info.bits, info.deprecated, info.note, True, "",
                                 disk[p], disk["fp32"] / disk[p], acc[p], acc["fp32"] - acc[p], lat.get(p, {}), speed))
        return QuantComparison(b.name, rows, tuple(batch_sizes), repeats, "stopped" if stopped else "finished")

    key = ("quant_paths", load_base_name(kind), names, tuple(batch_sizes), repeats, n)
    if peek:
        return RESULTS.peek(key)
    if not cache:
        return run()
    result = RESULTS.get(key, run)
    if result.status != "finished":
        RESULTS.discard(key)
    return result


@dataclass
class ShareOutcome:
    """k-means weight sharing of the base: the packed model, per-layer codebooks, accuracy and
    the measured file sizes; ``first_weight`` / ``first_codebook`` for a histogram."""

    base: str
    result: ShareResult
    dense_accuracy: float
    shared_accuracy: float
    dense_disk_bytes: int
    shared_disk_bytes: int
    first_weight: torch.Tensor
    first_codebook: torch.Tensor
    eval_examples: int = 10_000


def share_outcome(config: KMeansConfig | None = None, kind: Kind = "mlp", callback: ProgressCallback | None = None,
                  stop_event: threading.Event | None = None, eval_examples: int = 10_000) -> ShareOutcome:
    """:func:`~dlcore.compression.sharing.share_weights` on the base, measured."""
    from dlcore.compression.packing import PackedLayer

    cfg = config or KMeansConfig()
    if not isinstance(cfg, KMeansConfig):
        raise ValueError(f"config {cfg!r} must be a KMeansConfig")
    cfg.validate()
    n = check_int("eval_examples", eval_examples, 1, 100_000)
    b = load_base(kind)
    xt, yt = b.split.x_test[:n], b.split.y_test[:n]
    res = share_weights(b.model, cfg, b.split, callback, stop_event)
    name, layer = prunable_layers(b.model)[0]
    packed = dict(res.model.named_modules())[name]
    assert isinstance(packed, PackedLayer)
    return ShareOutcome(b.name, res, base_accuracy(b, n), accuracy(res.model, xt, yt),
                        serialized_bytes(b.model), serialized_bytes(res.model), layer.weight.detach().flatten(),
                        packed.table.detach().clone(), len(xt))


@dataclass
class BinaryOutcome:
    """BinaryConnect on the base: the result, fp32 accuracy and the measured file sizes."""

    base: str
    result: BinaryResult
    dense_accuracy: float
    dense_disk_bytes: int
    binary_disk_bytes: int

    @property
    def status(self) -> str:
        return self.result.status


def binary_outcome(config: BinaryConfig | None = None, kind: Kind = "mlp", callback: ProgressCallback | None = None,
                   stop_event: threading.Event | None = None, cache: bool = True) -> BinaryOutcome:
    """:func:`~dlcore.compression.binary.binarize` on the base (STE fine-tune), measured; cached."""
    from dlcore.compression.experiments import RESULTS, load_base_name

    cfg = config or BinaryConfig()
    if not isinstance(cfg, BinaryConfig):
        raise ValueError(f"config {cfg!r} must be a BinaryConfig")
    cfg.validate()

    def run() -> BinaryOutcome:
        b = load_base(kind)
        res = binarize(b.model, b.split, cfg, callback, stop_event)
        return BinaryOutcome(b.name, res, base_accuracy(b, len(b.split.x_test)),
                             serialized_bytes(b.model), serialized_bytes(res.model))

    if not cache:
        return run()
    key = ("binary", load_base_name(kind), cfg.scaling, cfg.fine_tune_steps, cfg.lr, cfg.keep_last_float, cfg.seed)
    out = RESULTS.get(key, run)
    if out.status != "finished":
        RESULTS.discard(key)
    return out
