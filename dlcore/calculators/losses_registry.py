"""The loss calculator's registries, torch-free: loss names and what their inputs mean, the
reductions, and the classic mistakes of :mod:`dlcore.calculators.pitfalls` (seed notes §1.3, §2.1.1).

Importing this module imports no torch, so the Loss calculator tab can build its dropdowns (and
declare its API) before torch is loaded. :mod:`dlcore.calculators.losses` builds ``LOSSES`` from
:data:`LOSS_INFO` (same keys, tested) and :mod:`dlcore.calculators.pitfalls` runs the cases of
:data:`PITFALLS` on the installed torch.
"""

from __future__ import annotations

import importlib.metadata
from dataclasses import dataclass
from typing import Literal, get_args

__all__ = ["LossName", "LOSS_NAMES", "LossInfo", "LOSS_INFO", "Reduction", "REDUCTIONS", "ALL_REDUCTIONS",
           "reductions_for", "DTYPE_NAMES", "DTYPE_TABLE", "PitfallLoss", "PITFALL_LOSSES", "Transform",
           "TRANSFORMS", "TargetForm", "TARGET_FORMS", "ShapeMistake", "SHAPE_MISTAKES", "PitfallSetup",
           "Outcome", "Pitfall", "PITFALLS", "torch_version"]

LossName = Literal["MSELoss", "L1Loss", "HuberLoss", "SmoothL1Loss", "CrossEntropyLoss", "NLLLoss",
                   "BCEWithLogitsLoss", "BCELoss", "KLDivLoss"]
LOSS_NAMES: tuple[str, ...] = get_args(LossName)


@dataclass(frozen=True)
class LossInfo:
    """What a loss reads: its option fields (besides reduction) and what its inputs mean."""

    name: str
    kind: Literal["regression", "classification"]
    options: tuple[str, ...]       # LossOptions fields this loss reads
    input_meaning: str
    target_meaning: str
    target_is_index: bool = False  # the target may be class indices (parsed as integers)


LOSS_INFO: dict[str, LossInfo] = {i.name: i for i in [
    LossInfo("MSELoss", "regression", (), "prediction x", "target y (same shape)"),
    LossInfo("L1Loss", "regression", (), "prediction x", "target y (same shape)"),
    LossInfo("HuberLoss", "regression", ("delta",), "prediction x", "target y (same shape)"),
    LossInfo("SmoothL1Loss", "regression", ("beta",), "prediction x", "target y (same shape)"),
    LossInfo("CrossEntropyLoss", "classification", ("weight", "ignore_index", "label_smoothing"),
             "logits (N, C) or (C,)", "class indices (N,) / scalar, or class probabilities (N, C)", True),
    LossInfo("NLLLoss", "classification", ("weight", "ignore_index"), "log-probabilities (N, C) or (C,)",
             "class indices (N,) / scalar", True),
    LossInfo("BCEWithLogitsLoss", "classification", ("pos_weight",), "logits (any shape)",
             "0/1 labels or probabilities (same shape)"),
    LossInfo("BCELoss", "classification", (), "probabilities in [0, 1] (any shape)",
             "0/1 labels or probabilities (same shape)"),
    LossInfo("KLDivLoss", "classification", ("log_target",), "log-probabilities (any shape)",
             "probabilities (or log-probabilities with log_target)"),
]}

Reduction = Literal["none", "mean", "sum", "batchmean"]
#: Reductions every loss supports (``batchmean`` exists for KLDivLoss only).
REDUCTIONS: tuple[str, ...] = ("none", "mean", "sum")
ALL_REDUCTIONS: tuple[str, ...] = get_args(Reduction)


def reductions_for(loss: str) -> tuple[str, ...]:
    """The reductions ``loss`` accepts."""
    return ALL_REDUCTIONS if loss == "KLDivLoss" else REDUCTIONS


#: dtype names of the pitfall lab (torch.<name>), most common first.
DTYPE_NAMES: tuple[str, ...] = ("float64", "float32", "float16", "bfloat16", "int64", "int32", "int16", "int8",
                                "uint8", "bool")
#: The dtype table of seed §2.1.1: (data type, dtype, CPU tensor, GPU tensor).
DTYPE_TABLE: list[list[str]] = [
    ["32-bit floating point", "torch.float32 or torch.float", "torch.FloatTensor", "torch.cuda.FloatTensor"],
    ["64-bit floating point", "torch.float64 or torch.double", "torch.DoubleTensor", "torch.cuda.DoubleTensor"],
    ["16-bit floating point", "torch.float16 or torch.half", "torch.HalfTensor", "torch.cuda.HalfTensor"],
    ["8-bit integer (unsigned)", "torch.uint8", "torch.ByteTensor", "torch.cuda.ByteTensor"],
    ["8-bit integer (signed)", "torch.int8", "torch.CharTensor", "torch.cuda.CharTensor"],
    ["16-bit integer (signed)", "torch.int16 or torch.short", "torch.ShortTensor", "torch.cuda.ShortTensor"],
    ["32-bit integer (signed)", "torch.int32 or torch.int", "torch.IntTensor", "torch.cuda.IntTensor"],
    ["64-bit integer (signed)", "torch.int64 or torch.long", "torch.LongTensor", "torch.cuda.LongTensor"],
    ["Boolean", "torch.bool", "torch.BoolTensor", "torch.cuda.BoolTensor"],
]

PitfallLoss = Literal["CrossEntropyLoss", "NLLLoss", "BCEWithLogitsLoss", "BCELoss", "MSELoss"]
PITFALL_LOSSES: tuple[str, ...] = get_args(PitfallLoss)
Transform = Literal["none", "softmax", "log_softmax", "sigmoid"]
TRANSFORMS: tuple[str, ...] = get_args(Transform)
TargetForm = Literal["indices", "one_hot"]
TARGET_FORMS: tuple[str, ...] = get_args(TargetForm)
ShapeMistake = Literal["none", "target_extra_dim", "target_missing_dim", "batch_mismatch"]
SHAPE_MISTAKES: tuple[str, ...] = get_args(ShapeMistake)
Outcome = Literal["raises", "warns", "silent", "ok"]


@dataclass(frozen=True)
class PitfallSetup:
    """How to call the loss (defaults: the correct call for CrossEntropyLoss)."""

    loss: PitfallLoss = "CrossEntropyLoss"
    input_dtype: str = "float32"
    target_dtype: str = "int64"
    transform: Transform = "none"       # applied to the logits before the loss
    target_form: TargetForm = "indices"  # CrossEntropyLoss / NLLLoss only
    shape: ShapeMistake = "none"


@dataclass(frozen=True)
class Pitfall:
    """A named classic mistake.

    Attributes:
        expect: what the installed torch does (the tests fail if this stops being true).
        notes: what the seed notes say happens (written for an older torch), with the section.
        notes_message: the exact message the notes quote, if any (compared with torch's own).
    """

    key: str
    title: str
    setup: PitfallSetup
    expect: Outcome
    notes: str = ""
    notes_message: str = ""


_S = PitfallSetup
PITFALLS: dict[str, Pitfall] = {p.key: p for p in [
    Pitfall("ce_int32_target", "CrossEntropyLoss with int32 class indices",
            _S("CrossEntropyLoss", target_dtype="int32"), "raises",
            "§1.3.4: targets must be int64; int32 fails with the message quoted here.",
            "expected scalar type Long but found Int"),
    Pitfall("ce_uint8_target", "CrossEntropyLoss with uint8 class indices",
            _S("CrossEntropyLoss", target_dtype="uint8"), "ok",
            "§1.3.4: targets must be int64 (\"int32 etc. all fail\").", "expected scalar type Long"),
    Pitfall("ce_float16_input", "CrossEntropyLoss with float16 logits",
            _S("CrossEntropyLoss", input_dtype="float16"), "ok",
            "§1.3.4: float16 logits fail on CPU (\"nll_loss_out_frame\" not implemented for 'Half').",
            "\"nll_loss_out_frame\" not implemented for 'Half'"),
    Pitfall("ce_int_input", "CrossEntropyLoss with integer logits",
            _S("CrossEntropyLoss", input_dtype="int32"), "raises",
            "§1.3.4: integer inputs fail in log_softmax.",
            "\"log_softmax_lastdim_kernel_impl\" not implemented for 'Int'"),
    Pitfall("ce_onehot_long", "CrossEntropyLoss with one-hot Long targets where indices are expected",
            _S("CrossEntropyLoss", target_form="one_hot"), "raises",
            "§2.1.1: the error below; check the outputs are logits and the labels are Long indices.",
            "Expected floating point type for target with class probabilities, got Long"),
    Pitfall("ce_after_softmax", "CrossEntropyLoss on probabilities (softmax applied twice)",
            _S("CrossEntropyLoss", transform="softmax"), "silent",
            "§1.3.4: x must be the logits, before softmax."),
    Pitfall("ce_target_extra_dim", "CrossEntropyLoss with targets of shape (N, 1)",
            _S("CrossEntropyLoss", shape="target_extra_dim"), "raises"),
    Pitfall("ce_batch_mismatch", "CrossEntropyLoss with fewer targets than rows",
            _S("CrossEntropyLoss", shape="batch_mismatch"), "raises"),
    Pitfall("nll_on_logits", "NLLLoss on raw logits (log_softmax forgotten)",
            _S("NLLLoss", transform="none"), "silent"),
    Pitfall("bcewl_long_target", "BCEWithLogitsLoss with Long 0/1 targets",
            _S("BCEWithLogitsLoss", target_dtype="int64"), "raises",
            "§1.3.5 note 2: targets must be float; int64/32/16/8 fail with the message quoted here.",
            "result type Float can't be cast to the desired output type Long"),
    Pitfall("bcewl_shape", "BCEWithLogitsLoss with a target of another shape",
            _S("BCEWithLogitsLoss", target_dtype="float32", shape="target_missing_dim"), "raises"),
    Pitfall("bce_on_logits", "BCELoss on raw logits (values outside [0, 1])",
            _S("BCELoss", target_dtype="float32", transform="none"), "raises",
            "§1.3.6: the input must be sigmoid output.", "all elements of input should be between 0 and 1"),
    Pitfall("bce_float32", "BCELoss with float32 input and target",
            _S("BCELoss", target_dtype="float32", transform="sigmoid"), "ok",
            "§1.3.6: BCELoss accepts only float64; float32 fails with \"Found dtype Double but expected Float\".",
            "Found dtype Double but expected Float"),
    Pitfall("bce_half_target", "BCELoss with float64 input and float16 target",
            _S("BCELoss", input_dtype="float64", target_dtype="float16", transform="sigmoid"), "raises",
            "§1.3.6: the target must be float64; float16 fails with the message quoted here.",
            "Found dtype Half but expected Double"),
    Pitfall("bce_mixed_float", "BCELoss with float32 input and float64 target",
            _S("BCELoss", input_dtype="float32", target_dtype="float64", transform="sigmoid"), "raises"),
    Pitfall("mse_broadcast", "MSELoss with predictions (N, 1) and targets (N,)",
            _S("MSELoss", target_dtype="float32", shape="target_missing_dim"), "warns"),
    Pitfall("mse_batch_mismatch", "MSELoss with 3 predictions and 2 targets",
            _S("MSELoss", target_dtype="float32", shape="batch_mismatch"), "raises"),
]}


def torch_version() -> str:
    """The installed torch's version, read without importing torch."""
    try:
        return importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        return "(not installed)"
