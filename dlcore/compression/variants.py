"""The registry of compressed variants: what the one table lists and a dropdown offers.

Each :class:`VariantSpec` names its family (a key of :data:`METHODS`), the fp32 model it is
compared with (``base``: LeNet-300-100 ``"mlp"``, the CNN ``"cnn"``, the multi-exit CNN), and a
builder that returns a :class:`Built`: the model to measure, the model to take gradients from
for a white-box attack (itself when differentiable; the fp32 parent for integer kernels, which
have no autograd — the BPDA/identity approximation of quantization, Athalye et al. 2018), and,
for packed formats, nothing else: sizes are always measured by serialising the state dict.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable, Literal

from torch import nn

from dlcore.compression.iterative import ProgressCallback, fine_tune
from dlcore.compression.measure import BaseModel, load_base
from dlcore.compression.pruning import copy_pruned, finalize
from dlcore.compression.quantization import QUANT_PATHS

__all__ = ["METHODS", "VARIANTS", "VariantSpec", "Built", "VariantContext", "BaseKind", "DEFAULT_VARIANTS"]

BaseKind = Literal["mlp", "cnn", "multi_exit"]

#: family -> the methods (option values) a panel's dropdown offers.
METHODS: dict[str, tuple[str, ...]] = {
    "baseline": ("fp32",),
    "pruning": ("magnitude", "taylor"),
    "structured": ("l1", "l2", "taylor", "random"),
    "quantization": ("ao_dynamic_int8", "ao_static_int8", "torchao_int8_weight_only", "torchao_int8_dynamic",
                     "torchao_int4_weight_only", "torchao_intx_int4", "fake_int4"),
    "sharing": ("kmeans",),
    "binary": ("binaryconnect",),
    "distillation": ("mlp_128", "mlp_32", "cnn_tiny"),
    "low_rank": ("svd",),
    "early_exit": ("max_prob", "entropy"),
}


@dataclass
class Built:
    """A variant ready to measure: ``model``; ``grad_model`` for attacks (None = ``model``)."""

    model: nn.Module
    grad_model: nn.Module | None = None
    note: str = ""


class VariantContext:
    """Shared state of one table build: base models loaded once, progress and stop."""

    def __init__(self, callback: ProgressCallback | None = None, stop_event: threading.Event | None = None) -> None:
        self.callback, self.stop_event = callback, stop_event or threading.Event()
        self._bases: dict[str, BaseModel] = {}

    def base(self, kind: BaseKind) -> BaseModel:
        """The fp32 base (loaded once per table; builders must copy before changing it)."""
        if kind not in self._bases:
            if kind == "multi_exit":
                from dlcore import zoo
                from dlcore.compression.experiments import load_base_name

                name = load_base_name("multi_exit")
                self._bases[kind] = BaseModel(name, zoo.get(name, fresh=True).eval(), zoo.load_data(name))
            else:
                self._bases[kind] = load_base(kind)
        return self._bases[kind]


@dataclass(frozen=True)
class VariantSpec:
    """One row of the table: name, family, label, base, builder, note, whether deprecated."""

    name: str
    family: str
    label: str
    base: BaseKind
    build: Callable[[VariantContext], Built]
    note: str = ""
    deprecated: bool = False


def _fp32(kind: BaseKind) -> Callable[[VariantContext], Built]:
    return lambda ctx: Built(ctx.base(kind).model)


def _iterative(ctx: VariantContext) -> Built:
    from dlcore.compression.experiments import run_iterative

    res = run_iterative("mlp", callback=ctx.callback, stop_event=ctx.stop_event)
    return Built(finalize(copy_pruned(res.model)).eval(), note=f"{res.rounds[-1].sparsity:.0%} zeros, dense storage")


def _structured(kind: BaseKind, steps: int) -> Callable[[VariantContext], Built]:
    def build(ctx: VariantContext) -> Built:
        from dlcore.compression.structured import StructuredConfig, prune_structured

        b = ctx.base(kind)
        res = prune_structured(copy_pruned(b.model), b.example_shape, StructuredConfig(0.5))
        fine_tune(res.model, b.split, steps, lr=1e-3, callback=ctx.callback, stop_event=ctx.stop_event,
                  extra={"run": f"{kind} structured"})
        return Built(res.model.eval(), note=f"{res.param_ratio:.2f}× params, {res.mac_ratio:.2f}× MACs; "
                                            f"fine-tuned {steps} steps")
    return build


def _quant(kind: BaseKind, path: str) -> Callable[[VariantContext], Built]:
    def build(ctx: VariantContext) -> Built:
        from dlcore.compression.quantization import quantize

        b = ctx.base(kind)
        q = quantize(b.model, path, calibration=b.split.x_train[:2048])  # type: ignore[arg-type]
        own = path == "fake_int4"  # decoded fp32 weights: differentiable
        return Built(q, None if own else b.model, QUANT_PATHS[path].note)
    return build


def _kmeans(k: int) -> Callable[[VariantContext], Built]:
    def build(ctx: VariantContext) -> Built:
        from dlcore.compression.sharing import KMeansConfig, share_weights

        res = share_weights(ctx.base("mlp").model, KMeansConfig(k=k))
        return Built(res.model, note=f"codebook of {k} per layer + {res.layers[0].bits}-bit indices")
    return build


def _binary(ctx: VariantContext) -> Built:
    from dlcore.compression.binary import binarize

    b = ctx.base("mlp")
    res = binarize(b.model, b.split, callback=ctx.callback, stop_event=ctx.stop_event)
    return Built(res.model, note=f"±α per layer; {res.acc_binarized:.1%} before the STE fine-tune")


def _low_rank(k: int) -> Callable[[VariantContext], Built]:
    def build(ctx: VariantContext) -> Built:
        from dlcore.compression.lowrank import low_rank_model

        return Built(low_rank_model(ctx.base("mlp").model, "fc1", k), note=f"fc1 = U·V through {k} neurons, no retraining")
    return build


def _student(run: str) -> Callable[[VariantContext], Built]:
    def build(ctx: VariantContext) -> Built:
        from dlcore.compression.experiments import run_distillation

        res = run_distillation(callback=ctx.callback, stop_event=ctx.stop_event)
        cfg = res.config
        return Built(res.students[run], note=f"{res.student_params:,} params; T={cfg.temperature:g}, α={cfg.alpha:g}"
                     if cfg else "")
    return build


def _early_exit(threshold: float) -> Callable[[VariantContext], Built]:
    def build(ctx: VariantContext) -> Built:
        from dlcore.compression.early_exit import EarlyExitModel

        full = ctx.base("multi_exit").model
        return Built(EarlyExitModel(full, threshold), full, f"exit when max softmax ≥ {threshold:g}; attacked through "
                                                            "the full-depth net (the exit rule has no gradient)")
    return build


_SPECS = [
    VariantSpec("fp32", "baseline", "LeNet-300-100 fp32", "mlp", _fp32("mlp")),
    VariantSpec("pruned_92", "pruning", "iterative magnitude pruning 92 % + fine-tune", "mlp", _iterative),
    VariantSpec("structured_50", "structured", "structured: 50 % neurons removed + fine-tune", "mlp",
                _structured("mlp", 300)),
    *[VariantSpec(p, "quantization", lbl, "mlp", _quant("mlp", p), QUANT_PATHS[p].note, QUANT_PATHS[p].deprecated)
      for p, lbl in (("ao_dynamic_int8", "dynamic int8 (torch.ao, deprecated)"),
                     ("ao_static_int8", "static int8 calibrated (torch.ao FX, deprecated)"),
                     ("torchao_int8_weight_only", "int8 weight-only (torchao)"),
                     ("torchao_int8_dynamic", "int8 dyn. act + int8 weight (torchao)"),
                     ("torchao_int4_weight_only", "int4 weight-only (torchao)"),
                     ("torchao_intx_int4", "int4 in int8 bytes (torchao Intx)"),
                     ("fake_int4", "int4 packed, fp32 compute (fake-quant)"))],
    VariantSpec("kmeans_16", "sharing", "k-means weight sharing, k = 16", "mlp", _kmeans(16)),
    VariantSpec("binary", "binary", "binary weights (BinaryConnect + STE)", "mlp", _binary),
    VariantSpec("lowrank_50", "low_rank", "low rank: SVD of fc1, K = 50", "mlp", _low_rank(50)),
    VariantSpec("cnn_fp32", "baseline", "CNN fp32", "cnn", _fp32("cnn")),
    VariantSpec("cnn_structured_50", "structured", "CNN structured: 50 % filters removed + fine-tune", "cnn",
                _structured("cnn", 200)),
    VariantSpec("cnn_ao_static_int8", "quantization", "CNN static int8 (torch.ao FX, deprecated)", "cnn",
                _quant("cnn", "ao_static_int8"), deprecated=True),
    VariantSpec("cnn_ao_dynamic_int8", "quantization", "CNN dynamic int8 (torch.ao, deprecated)", "cnn",
                _quant("cnn", "ao_dynamic_int8"), deprecated=True),
    VariantSpec("student_alone", "distillation", "student MLP-128 trained alone", "cnn", _student("alone")),
    VariantSpec("student_distilled", "distillation", "student MLP-128 distilled from the CNN", "cnn",
                _student("distilled")),
    VariantSpec("multiexit_full", "baseline", "multi-exit CNN, all blocks", "multi_exit", _fp32("multi_exit")),
    VariantSpec("early_exit_90", "early_exit", "early exit at max softmax ≥ 0.9", "multi_exit", _early_exit(0.9)),
]
#: name -> :class:`VariantSpec`, in table order.
VARIANTS: dict[str, VariantSpec] = {s.name: s for s in _SPECS}
#: every variant (the table's default).
DEFAULT_VARIANTS: tuple[str, ...] = tuple(VARIANTS)
