"""Honest measurements for compressed models: size on disk, nonzeros, latency, accuracy.

* **Size**: every size is *measured* by serialising (``torch.save`` into memory and counting
  bytes), besides the arithmetic ``params × 4 B`` of a dense fp32 model. A pruned model also
  gets its nonzero count and the bytes of a compact CSR encoding (values fp32, column indices
  int16 when they fit, row pointers int32), because zeros stored densely cost as much as any
  other number.
* **Latency**: median over repeats of the wall time *and* of the thread CPU time per forward
  pass, at fixed torch threads (default 1), with the models measured *interleaved* (round
  robin), so a load spike from another process hits every model alike. On a shared CPU the
  CPU time is the steadier figure; both are returned.
* **Accuracy**: top-1 on a test split, batched, in eval mode, for any module (quantized
  modules have no parameters to read a device from).
"""

from __future__ import annotations

import io
import os
import statistics
import time
import warnings
from dataclasses import dataclass
from typing import Any, Literal, Mapping

import torch
from torch import nn

from dlcore.compression._validate import check_int
from dlcore.data import DataSplit

__all__ = ["BaseModel", "load_base", "accuracy", "ModelSize", "model_size", "serialized_bytes",
           "sparse_state_dict", "Latency", "measure_latency", "MAX_BATCH", "MAX_REPEATS"]

MAX_BATCH = 4096
MAX_REPEATS = 200


@dataclass(eq=False)
class BaseModel:
    """A private trainable copy of a zoo classifier with the split it was trained on."""

    name: str
    model: nn.Module
    split: DataSplit

    @property
    def example_shape(self) -> tuple[int, ...]:
        """Shape of one input, e.g. ``(1, 28, 28)``."""
        return tuple(self.split.x_test.shape[1:])


def load_base(kind: Literal["mlp", "cnn"] = "mlp") -> BaseModel:
    """``fmnist_lenet300`` (``"mlp"``) or ``fmnist_cnn`` (``"cnn"``) as a fresh copy (the shared
    cached zoo model is never modified), or its digits twin when Fashion-MNIST is absent."""
    from dlcore import zoo

    if kind not in ("mlp", "cnn"):
        raise ValueError(f"kind {kind!r} is not 'mlp' or 'cnn'")
    name = "fmnist_lenet300" if kind == "mlp" else "fmnist_cnn"
    try:
        split = zoo.load_data(name)
    except zoo.ZooDataUnavailable:
        name = zoo.TWINS[name]
        split = zoo.load_data(name)
    return BaseModel(name, zoo.get(name, fresh=True).eval(), split)


@torch.no_grad()
def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 128) -> float:
    """Top-1 accuracy ``mean(argmax f(x) == y)`` in eval mode (works for quantized modules).

    Batches of 128 (default): several times faster on this CPU than 1024 (the activations stay in
    cache). Dynamic int8 quantizes activations per batch, so its accuracy may move by ±0.01 point.
    """
    if len(x) == 0:
        raise ValueError("accuracy needs at least one example")
    was = model.training
    model.eval()
    correct = 0
    for i in range(0, len(x), batch_size):
        correct += int((model(x[i:i + batch_size]).argmax(1) == y[i:i + batch_size]).sum())
    model.train(was)
    return correct / len(x)


def serialized_bytes(obj: Any) -> int:
    """Bytes of ``torch.save(obj)`` (a state dict, a tensor dict or a module's state dict)."""
    if isinstance(obj, nn.Module):
        obj = obj.state_dict()
    buf = io.BytesIO()
    torch.save(obj, buf)
    return len(buf.getvalue())


def _weight_tensors(model: nn.Module) -> list[tuple[str, torch.Tensor]]:
    """Effective (mask-applied) weights and biases of every layer, float or quantized."""
    out: list[tuple[str, torch.Tensor]] = []
    for name, mod in model.named_modules():
        for attr in ("weight", "bias"):
            t = getattr(mod, attr, None)
            if callable(t) and not isinstance(t, torch.Tensor):  # quantized modules: weight()
                try:
                    t = t()
                except Exception:  # noqa: BLE001 - not a weight accessor
                    continue
            if isinstance(t, torch.Tensor) and (t.is_floating_point() or t.is_quantized):
                if not any(t is s for _, s in out):
                    out.append((f"{name}.{attr}".lstrip("."), t))
    return [(n, _plain(t)) for n, t in out]


def _plain(t: torch.Tensor) -> torch.Tensor:
    """A plain float tensor for a weight: dequantized if it is a quantized or torchao tensor."""
    t = t.detach()
    if t.is_quantized:
        return t.dequantize()
    if type(t) not in (torch.Tensor, nn.Parameter) and hasattr(t, "dequantize"):  # tensor subclass
        return t.dequantize()
    return t


def sparse_state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    """The model's weights in a compact CSR encoding (for measuring a sparse file's size).

    Each ≥ 2-D weight ``W`` (flattened to ``(rows, cols)``) becomes ``values`` (fp32, the
    nonzeros), ``col`` (int16 if ``cols ≤ 32767`` else int32) and ``crow`` (int32 row
    pointers, ``rows + 1``); 1-D tensors stay dense.
    """
    out: dict[str, torch.Tensor] = {}
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        for name, t in _weight_tensors(model):
            _encode(out, name, t)
    return out


def _encode(out: dict[str, torch.Tensor], name: str, t: torch.Tensor) -> None:
    """Add one tensor to a CSR state dict: 1-D stays dense, ≥ 2-D becomes values/col/crow."""
    if t.ndim < 2:
        out[name] = t.clone()
        return
    w = t.reshape(t.shape[0], -1)  # (rows, cols)
    csr = w.to_sparse_csr()
    idx = torch.int16 if w.shape[1] <= 32767 else torch.int32
    out[f"{name}.values"] = csr.values().clone()  # (nnz,) fp32
    out[f"{name}.col"] = csr.col_indices().to(idx)  # (nnz,)
    out[f"{name}.crow"] = csr.crow_indices().to(torch.int32)  # (rows + 1,)


@dataclass(frozen=True)
class ModelSize:
    """True size of a model.

    Attributes:
        params: weight + bias values of every layer (a pruned zero still counts here).
        nonzero: of those, how many are not zero.
        dense_bytes: ``params × 4`` (fp32 dense arithmetic).
        disk_bytes: measured ``torch.save(state_dict)`` bytes (a pruned module's state dict
            holds ``weight_orig`` *and* ``weight_mask``: twice the dense size).
        sparse_bytes: measured bytes of :func:`sparse_state_dict` (CSR).
    """

    params: int
    nonzero: int
    dense_bytes: int
    disk_bytes: int
    sparse_bytes: int

    @property
    def compression(self) -> float:
        """``params / nonzero``: how many times fewer weights are left."""
        return self.params / max(self.nonzero, 1)


def model_size(model: nn.Module, disk_bytes: int | None = None) -> ModelSize:
    """Parameters, nonzeros, dense and measured on-disk bytes of ``model``.

    Args:
        disk_bytes: a measured file size to use instead of ``torch.save(state_dict)`` (for
            formats with their own packing, e.g. k-means codebooks + packed indices).
    """
    ws = [t for _, t in _weight_tensors(model)]
    params = sum(t.numel() for t in ws)
    nonzero = sum(int(torch.count_nonzero(t)) for t in ws)
    disk = serialized_bytes(model) if disk_bytes is None else int(disk_bytes)
    return ModelSize(params, nonzero, 4 * params, disk, serialized_bytes(sparse_state_dict(model)))


@dataclass(frozen=True)
class Latency:
    """Per-forward latency at one batch size: medians over ``repeats`` of wall and CPU time.

    ``cpu_ms`` is the calling thread's CPU time when ``threads == 1`` (the latency an idle core
    would see, unaffected by other processes), else the whole process's CPU time (total work).
    """

    batch: int
    wall_ms: float
    cpu_ms: float
    repeats: int
    threads: int
    load_avg: float


def _cpu_clock(threads: int):
    # one intra-op thread runs on the caller's thread: its CPU time excludes other processes
    return time.thread_time if threads == 1 else time.process_time


@torch.inference_mode()
def measure_latency(models: Mapping[str, nn.Module] | nn.Module, example_shape: tuple[int, ...],
                    batch_sizes: tuple[int, ...] = (1, 1024), repeats: int = 15, threads: int = 1,
                    seed: int = 0) -> dict[str, dict[int, Latency]]:
    """Median latency of each model at each batch size, measured interleaved.

    Each repeat runs every model once per batch size (round robin); a batch of 1 is timed
    over 20 calls per repeat (a single call is below the timer's resolution). Inputs are
    uniform [0, 1] pixels from a fixed seed.

    Args:
        models: ``{name: module}`` or one module (then the name is ``"model"``).
        example_shape: shape of one input, e.g. ``(1, 28, 28)``.
        batch_sizes: default ``(1, 1024)``; each in ``[1, 4096]``.
        repeats: median over this many repeats (default 15, at most 200).
        threads: torch intra-op threads while measuring (default 1; restored afterwards).

    Returns:
        ``{name: {batch: Latency}}``.
    """
    from dlcore.train.runtime import torch_threads

    if isinstance(models, nn.Module):
        models = {"model": models}
    repeats = check_int("repeats", repeats, 1, MAX_REPEATS)
    threads = check_int("threads", threads, 1, os.cpu_count() or 1)
    for b in batch_sizes:
        check_int("batch size", b, 1, MAX_BATCH)
    gen = torch.Generator().manual_seed(seed)
    xs = {b: torch.rand((b, *example_shape), generator=gen) for b in batch_sizes}
    wall: dict[tuple[str, int], list[float]] = {(n, b): [] for n in models for b in batch_sizes}
    cpu: dict[tuple[str, int], list[float]] = {k: [] for k in wall}
    clock = _cpu_clock(threads)
    with torch_threads(threads):
        for m in models.values():  # warm-up (first-call allocations, lazy packing)
            m.eval()
            for x in xs.values():
                m(x)
        for _ in range(repeats):
            for name, m in models.items():
                for b, x in xs.items():
                    inner = 20 if b == 1 else 1
                    t, c = time.perf_counter(), clock()
                    for _ in range(inner):
                        m(x)
                    wall[(name, b)].append((time.perf_counter() - t) * 1e3 / inner)
                    cpu[(name, b)].append((clock() - c) * 1e3 / inner)
    load = round(os.getloadavg()[0], 2)
    return {n: {b: Latency(b, round(statistics.median(wall[(n, b)]), 4),
                           round(statistics.median(cpu[(n, b)]), 4), repeats, threads, load)
                for b in batch_sizes} for n in models}
