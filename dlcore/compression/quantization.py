"""Fewer bits per number (notes §9.2.3): every int8/int4 path PyTorch offers on a CPU, honestly.

=============================  ==================================================================
path                           what it does here (torch 2.14.1, torchao 0.18, x86 with VNNI)
=============================  ==================================================================
``ao_dynamic_int8``            ``torch.ao.quantization.quantize_dynamic``: int8 weights, activations
                               quantized per batch on the fly (Linear only). Fast at large batch.
                               **Deprecated** (torch.ao.quantization warns it will be removed).
``ao_static_int8``             ``torch.ao`` FX graph mode: observers calibrated on training images
                               fix the activation scales; Conv+BN+ReLU fused; int8 kernels end to
                               end. Same deprecated namespace.
``torchao_int8_weight_only``   torchao ``Int8WeightOnlyConfig``: int8 weights, fp32 compute.
``torchao_int8_dynamic``       torchao ``Int8DynamicActivationInt8WeightConfig``: *slower* than
                               fp32 in eager mode on CPU (no fused kernel without
                               ``torch.compile``; pytorch/ao#4365).
``torchao_int4_weight_only``   torchao ``Int4WeightOnlyConfig``: no CPU kernel here (needs the
                               ``mslk`` package or CUDA); also skips layers whose input size is
                               not a multiple of ``group_size`` (784, 300, 100 are not).
``torchao_intx_int4``          torchao ``IntxWeightOnlyConfig(torch.int4)``: int4 *values* stored
                               one per int8 byte (no 4-bit packing), dequantized every call.
``fake_int4``                  ours: symmetric per-channel int4 codes packed two per byte, decoded
                               once to fp32 (:class:`~dlcore.compression.packing.PackedLayer`):
                               the true 4-bit file size, fp32 speed.
=============================  ==================================================================

torchao is imported lazily (never at ``dlcore`` import time), with its one import-time log line
(a ``torch.utils._pytree`` deprecation notice) silenced for the import only, and every config is
built with ``set_inductor_config=False`` so ``quantize_`` does not flip process-wide
``torch._inductor.config`` flags (by default it sets five: ``coordinate_descent_tuning``,
``coordinate_descent_check_all_directions``, ``force_fuse_int_mm_with_mul``, ``fx_graph_cache``,
``triton.unique_kernel_names``; the tests check they stay as they were). ``torch.ao``'s deprecation warnings
are silenced inside these calls only; the path is labelled ``deprecated`` instead.

**Threads.** ``torch.fx`` tracing (inside ``prepare_fx``) replaces ``torch.nn.Module.__call__`` and
``__getattr__`` *process-wide* while it runs, so a model run by another thread meanwhile (another
user of the app) fails with "module is not installed as a submodule". :func:`fx_patches_in_this_thread`
makes those two patches act only in the tracing thread, one trace at a time.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import logging
import threading
import warnings
from dataclasses import dataclass
from typing import Any, Iterator, Literal

import torch
from torch import nn

from dlcore.compression._validate import check_choice, check_int
from dlcore.compression.packing import PackedLayer, replace_layers

__all__ = ["QuantPath", "QUANT_PATHS", "QuantPathInfo", "QuantConfig", "QuantUnavailable", "quantize",
           "import_torchao", "path_available", "int4_codes", "silence_ao_deprecation", "fx_patches_in_this_thread"]

QuantPath = Literal["ao_dynamic_int8", "ao_static_int8", "torchao_int8_weight_only", "torchao_int8_dynamic",
                    "torchao_int4_weight_only", "torchao_intx_int4", "fake_int4"]


@dataclass(frozen=True)
class QuantPathInfo:
    """What one quantization path is: label, library, bits, whether deprecated, and why it is fast/slow."""

    label: str
    library: str
    bits: int
    deprecated: bool
    note: str


QUANT_PATHS: dict[str, QuantPathInfo] = {
    "ao_dynamic_int8": QuantPathInfo("dynamic int8 (torch.ao, deprecated)", "torch.ao", 8, True,
                                     "int8 weights, activations quantized per batch; fbgemm/x86 int8 GEMM"),
    "ao_static_int8": QuantPathInfo("static int8, calibrated (torch.ao FX, deprecated)", "torch.ao", 8, True,
                                    "observers fix activation scales; fused int8 kernels end to end"),
    "torchao_int8_weight_only": QuantPathInfo("int8 weight-only (torchao)", "torchao", 8, False,
                                              "int8 storage, fp32 compute: about fp32 speed"),
    "torchao_int8_dynamic": QuantPathInfo("int8 dynamic act + int8 weight (torchao)", "torchao", 8, False,
                                          "slower than fp32 in eager mode on CPU (pytorch/ao#4365)"),
    "torchao_int4_weight_only": QuantPathInfo("int4 weight-only (torchao)", "torchao", 4, False,
                                              "no CPU kernel in torchao 0.18 (needs mslk or CUDA)"),
    "torchao_intx_int4": QuantPathInfo("int4 values in int8 bytes (torchao Intx)", "torchao", 4, False,
                                       "int4 values stored unpacked (1 byte each), dequantized per call"),
    "fake_int4": QuantPathInfo("int4 packed, decoded to fp32 (fake-quant)", "dlcore", 4, False,
                               "true 4-bit storage; fp32 compute after decoding once"),
}


class QuantUnavailable(RuntimeError):
    """A quantization path has no working kernel on this machine (the message says why)."""


@dataclass
class QuantConfig:
    """Options shared by the paths.

    Args:
        backend: ``torch.ao`` engine, ``"x86"`` (default; fbgemm + onednn) or ``"fbgemm"``/``"qnnpack"``.
        calibration_batches: batches of 256 training images for static calibration (default 8).
    """

    backend: Literal["x86", "fbgemm", "qnnpack", "onednn"] = "x86"
    calibration_batches: int = 8

    def validate(self) -> None:
        check_choice("backend", self.backend, ("x86", "fbgemm", "qnnpack", "onednn"))
        check_int("calibration_batches", self.calibration_batches, 1, 64)


@contextlib.contextmanager
def silence_ao_deprecation() -> Iterator[None]:
    """Hide torch.ao.quantization's deprecation warnings inside this block only."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*torch\.ao\.quantization is deprecated.*")
        warnings.filterwarnings("ignore", message=r".*quantized tensor creation functions.*")
        warnings.filterwarnings("ignore", message=r"Please use quant_min and quant_max.*")
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"torch\.ao\..*")
        yield


@functools.lru_cache(maxsize=1)
def import_torchao() -> Any:
    """``import torchao.quantization`` once, with its import-time pytree log line silenced."""
    log = logging.getLogger("torch.utils._pytree")
    old = log.level
    log.setLevel(logging.ERROR)
    try:
        import torchao.quantization as tq
    finally:
        log.setLevel(old)
    return tq


@contextlib.contextmanager
def _engine(backend: str) -> Iterator[None]:
    old = torch.backends.quantized.engine
    torch.backends.quantized.engine = backend
    try:
        yield
    finally:
        torch.backends.quantized.engine = old


def _ao_dynamic(model: nn.Module) -> nn.Module:
    from torch.ao.quantization import quantize_dynamic

    return quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8)


_FX_LOCK = threading.Lock()


@contextlib.contextmanager
def fx_patches_in_this_thread() -> Iterator[None]:
    """Inside this block (one thread at a time), the class-method patches ``torch.fx`` makes while
    tracing (``nn.Module.__call__``, ``nn.Module.__getattr__``) apply only in the thread that made
    them; every other thread keeps calling the originals, so its models run normally."""
    from torch.fx import _symbolic_trace as st

    with _FX_LOCK:
        orig = st._Patcher.patch_method

        def patch_method(self: Any, cls: type, name: str, new_fn: Any, deduplicate: bool = True) -> None:
            owner, before = threading.get_ident(), getattr(cls, name)

            @functools.wraps(new_fn)
            def gated(*args: Any, **kwargs: Any) -> Any:
                return (new_fn if threading.get_ident() == owner else before)(*args, **kwargs)

            return orig(self, cls, name, gated, deduplicate)

        st._Patcher.patch_method = patch_method
        try:
            yield
        finally:
            st._Patcher.patch_method = orig


def _ao_static(model: nn.Module, calib: torch.Tensor, cfg: QuantConfig) -> nn.Module:
    from torch.ao.quantization import get_default_qconfig_mapping
    from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

    model.eval()
    with fx_patches_in_this_thread():  # tracing must not break models running in other threads
        prepared = prepare_fx(model, get_default_qconfig_mapping(cfg.backend), example_inputs=(calib[:1],))
    with torch.inference_mode():  # calibration: observers record activation ranges
        for i in range(cfg.calibration_batches):
            prepared(calib[i * 256:(i + 1) * 256])
    with fx_patches_in_this_thread():
        return convert_fx(prepared)


def _torchao(model: nn.Module, path: str) -> nn.Module:
    tq = import_torchao()
    if path == "torchao_int8_weight_only":
        cfg = tq.Int8WeightOnlyConfig(set_inductor_config=False)
    elif path == "torchao_int8_dynamic":
        cfg = tq.Int8DynamicActivationInt8WeightConfig(set_inductor_config=False)
    elif path == "torchao_int4_weight_only":
        cfg = tq.Int4WeightOnlyConfig(group_size=32, set_inductor_config=False)
    else:
        from torchao.quantization.granularity import PerAxis

        cfg = tq.IntxWeightOnlyConfig(weight_dtype=torch.int4, granularity=PerAxis(0))
    before = [type(m.weight) for m in model.modules() if isinstance(m, nn.Linear)]
    tq.quantize_(model, cfg)
    after = [type(m.weight) for m in model.modules() if isinstance(m, nn.Linear)]
    if before == after:
        sizes = sorted({m.in_features for m in model.modules() if isinstance(m, nn.Linear)})
        raise QuantUnavailable(f"{path}: torchao skipped every layer (input sizes {sizes} are not "
                               "multiples of its group size 32)")
    return model


def int4_codes(weight: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Symmetric per-output-channel int4: ``q = clamp(round(W / s), −8, 7)``, ``s = max|W_i| / 7``.

    Returns ``(codes = q + 8 in [0, 16), scales (C_out,))``.
    """
    w = weight.detach().reshape(weight.shape[0], -1)  # (C_out, fan_in)
    s = (w.abs().amax(1) / 7).clamp_min(1e-12)  # (C_out,)
    q = torch.clamp(torch.round(w / s[:, None]), -8, 7)
    return (q + 8).to(torch.int64).reshape(weight.shape), s


def _fake_int4(model: nn.Module) -> nn.Module:
    def swap(_: str, layer: nn.Module) -> nn.Module:
        codes, scales = int4_codes(layer.weight)
        return PackedLayer(layer, codes, 4, "scale", scales)

    return replace_layers(model, swap)


@functools.lru_cache(maxsize=None)
def path_available(path: str) -> tuple[bool, str]:
    """Whether ``path`` runs on this machine, probed once on a tiny model: ``(ok, reason)``."""
    check_choice("path", path, QUANT_PATHS)
    probe = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10)).eval()
    try:
        q = quantize(probe, path, calibration=torch.rand(256, 64))  # type: ignore[arg-type]
        with torch.inference_mode():
            q(torch.rand(4, 64))
    except Exception as exc:  # noqa: BLE001 - the reason is the answer
        return False, f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
    return True, ""


def quantize(model: nn.Module, path: QuantPath, calibration: torch.Tensor | None = None,
             config: QuantConfig | None = None) -> nn.Module:
    """A quantized copy of ``model`` (eval mode) by one of :data:`QUANT_PATHS`.

    Args:
        model: float model (not modified).
        path: a key of :data:`QUANT_PATHS`.
        calibration: training inputs ``(N, ...)`` (``ao_static_int8`` uses
            ``calibration_batches × 256`` of them).
        config: :class:`QuantConfig`.

    Raises:
        ValueError: unknown path / missing calibration data. QuantUnavailable: no kernel here.
    """
    check_choice("path", path, QUANT_PATHS)
    cfg = config or QuantConfig()
    cfg.validate()
    m = copy.deepcopy(model).eval()
    with silence_ao_deprecation(), _engine(cfg.backend):
        if path == "ao_dynamic_int8":
            return _ao_dynamic(m)
        if path == "ao_static_int8":
            if calibration is None or len(calibration) == 0:
                raise ValueError("path 'ao_static_int8' needs calibration inputs (training images)")
            return _ao_static(m, calibration, cfg)
        if path == "fake_int4":
            return _fake_int4(m)
        try:
            return _torchao(m, path).eval()
        except (ImportError, NotImplementedError, RuntimeError, AssertionError) as exc:
            if isinstance(exc, QuantUnavailable):
                raise
            raise QuantUnavailable(f"{path}: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}") from exc
