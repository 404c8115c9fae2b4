"""Loss-function pitfalls run live on the installed torch (seed notes §1.3.4-1.3.6, §2.1.1).

A :class:`PitfallSetup` says which loss, which dtypes, which target form and which shape
mistake to make; :func:`run_setup` builds the seed's tensors that way, makes the real
``torch.nn`` call and reports what happened (the exact exception or warning text, or the
silently wrong value next to the correct one). :data:`PITFALLS` names the classic mistakes,
each with what it means, the one-line fix and what the notes (written for an older torch)
said, so the tab can point out where today's torch behaves differently.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, replace
from typing import Literal

import torch
from torch import nn

__all__ = ["DTYPES", "DTYPE_TABLE", "PitfallSetup", "PitfallOutcome", "Pitfall", "PITFALLS",
           "run_setup", "run_pitfall", "explain", "setup_code", "fixed", "PITFALL_LOSSES"]

DTYPES: dict[str, torch.dtype] = {
    "float64": torch.float64, "float32": torch.float32, "float16": torch.float16,
    "bfloat16": torch.bfloat16, "int64": torch.int64, "int32": torch.int32, "int16": torch.int16,
    "int8": torch.int8, "uint8": torch.uint8, "bool": torch.bool,
}

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
PITFALL_LOSSES: tuple[str, ...] = ("CrossEntropyLoss", "NLLLoss", "BCEWithLogitsLoss", "BCELoss", "MSELoss")
Transform = Literal["none", "softmax", "log_softmax", "sigmoid"]
TargetForm = Literal["indices", "one_hot"]
ShapeMistake = Literal["none", "target_extra_dim", "target_missing_dim", "batch_mismatch"]

# The seed's tensors (§1.3.4 logits/indices, §1.3.5 logits/labels, §1.3.1 regression column).
CE_X = [[2.0, 1.0, 0.5, -1.0], [1.0, 2.0, -0.5, 0.5], [-0.5, 1.0, 1.5, 2.0]]
CE_Y = [0, 1, 3]
BIN_X = [[2.0, 1.0], [1.0, 2.0], [-0.5, 1.0]]
BIN_Y = [[1, 0], [0, 1], [0, 1]]
REG_X = [[0.5], [0.2], [0.7]]
REG_Y = [[0.6], [0.4], [0.3]]

#: What each loss should be given (the setup :func:`run_setup` compares against).
CORRECT: dict[str, tuple[str, str, str]] = {  # loss -> (input dtype, target dtype, transform)
    "CrossEntropyLoss": ("float32", "int64", "none"), "NLLLoss": ("float32", "int64", "log_softmax"),
    "BCEWithLogitsLoss": ("float32", "float32", "none"), "BCELoss": ("float32", "float32", "sigmoid"),
    "MSELoss": ("float32", "float32", "none"),
}


@dataclass(frozen=True)
class PitfallSetup:
    """How to call the loss (defaults: the correct call for CrossEntropyLoss)."""

    loss: PitfallLoss = "CrossEntropyLoss"
    input_dtype: str = "float32"
    target_dtype: str = "int64"
    transform: Transform = "none"       # applied to the logits before the loss
    target_form: TargetForm = "indices"  # CrossEntropyLoss / NLLLoss only
    shape: ShapeMistake = "none"


@dataclass
class PitfallOutcome:
    """What the real torch call did."""

    outcome: Literal["raises", "warns", "silent", "ok"]  # warns/silent: ran, but wrong or flagged
    code: str                 # Python that reproduces the call
    error_type: str = ""
    message: str = ""         # the exact exception (or first warning) text from torch
    warnings: list[str] | None = None
    value: str = ""           # the loss torch returned, if any
    correct: str = ""         # the loss of the correct call
    meaning: str = ""
    fix: str = ""


def _tensors(s: PitfallSetup) -> tuple[torch.Tensor, torch.Tensor]:
    if s.loss in ("CrossEntropyLoss", "NLLLoss"):
        x = torch.tensor(CE_X)
        y = torch.tensor(CE_Y) if s.target_form == "indices" else nn.functional.one_hot(torch.tensor(CE_Y), 4)
    elif s.loss == "MSELoss":
        x, y = torch.tensor(REG_X), torch.tensor(REG_Y)
    else:
        x, y = torch.tensor(BIN_X), torch.tensor(BIN_Y)
    if s.transform == "softmax":
        x = x.softmax(-1)
    elif s.transform == "log_softmax":
        x = x.log_softmax(-1)
    elif s.transform == "sigmoid":
        x = x.sigmoid()
    if s.shape == "target_extra_dim":
        y = y.unsqueeze(-1)
    elif s.shape == "target_missing_dim":
        y = y[..., 0] if y.ndim > 1 else y
    elif s.shape == "batch_mismatch":
        y = y[:2]
    return x.to(DTYPES[s.input_dtype]), y.to(DTYPES[s.target_dtype])


def setup_code(s: PitfallSetup) -> str:
    """Python source that reproduces the call of ``s``."""
    x, y = _tensors(s)
    def lit(t: torch.Tensor) -> str:
        v = t.to(torch.float64).tolist() if t.is_floating_point() else t.to(torch.int64).tolist()
        txt = re.sub(r"(\d\.\d{4})\d+", r"\1", str(v))
        return f"torch.tensor({txt}, dtype=torch.{s.input_dtype if t is x else s.target_dtype})"
    return (f"import torch\nfrom torch import nn\nx = {lit(x)}\ny = {lit(y)}\n"
            f"loss = nn.{s.loss}()(x, y)\nprint(loss)")


# (pattern in torch's message, what it means, the one-line fix)
EXPLANATIONS: list[tuple[str, str, str]] = [
    (r"expected target dtype to be Long or Byte|expected scalar type Long",
     "Class-index targets must be int64 (Long) (uint8 is also accepted now); yours have another dtype.",
     "y = y.long()"),
    (r"Expected floating point type for target with class probabilities",
     "The target has the same shape as the logits, so torch reads it as class probabilities, which must "
     "be float. A one-hot Long tensor is neither indices nor float probabilities.",
     "y = y.argmax(dim=1)   # one-hot -> class indices (or y = y.float())"),
    (r"can't be cast to the desired output type",
     "BCEWithLogitsLoss computes in the input's float type and writes into a tensor of the target's "
     "type; an integer target cannot hold the float result.", "y = y.float()"),
    (r"with two bool tensors is not supported",
     "Boolean targets: torch computes (1 - y), which is not defined for bool tensors.", "y = y.float()"),
    (r"Found dtype (\w+) but expected (\w+)",
     "BCELoss needs the input and the target to have the same floating dtype.", "y = y.to(x.dtype)"),
    (r"all elements of input should be between 0 and 1",
     "BCELoss takes probabilities; raw logits (or any value outside [0, 1]) are rejected.",
     "loss = nn.BCEWithLogitsLoss()(logits, y)   # or nn.BCELoss()(torch.sigmoid(logits), y)"),
    (r"not implemented for '(Int|Long|Short|Char|Byte|Bool)'",
     "The model output (the input of the loss) is an integer tensor; log_softmax needs floats.", "x = x.float()"),
    (r"not implemented for 'Half'",
     "This operation has no float16 kernel on this device.", "x = x.float()"),
    (r"out of bounds",
     "A class index is >= C (or negative): with C classes the indices are 0 .. C-1.",
     "check y.min() >= 0 and y.max() < C (labels starting at 1? use y - 1)"),
    (r"0D or 1D target tensor expected|multi-target not supported",
     "Class-index targets must have shape (N,); yours has an extra dimension, e.g. (N, 1).",
     "y = y.squeeze(1)   # (N, 1) -> (N,)"),
    (r"Expected input batch_size \((\d+)\) to match target batch_size",
     "The logits and the targets have different batch sizes.", "check len(x) == len(y) (same batch)"),
    (r"(Target size|target size).*(must be the same|different to the input size)",
     "The target's shape differs from the input's; element-wise losses need identical shapes "
     "(MSE/L1 only warn and broadcast, which gives a wrong loss).", "y = y.view_as(x)"),
    (r"must match the size of tensor",
     "The two tensors cannot be broadcast together: their sizes differ.", "y = y.view_as(x)   # same shape"),
]


def explain(message: str) -> tuple[str, str]:
    """(meaning, fix) for a torch error/warning message, or generic text if no pattern matches."""
    for pat, meaning, fix in EXPLANATIONS:
        if re.search(pat, message):
            return meaning, fix
    return ("torch rejected this combination; compare the dtypes and shapes with the correct call.",
            "make the call match the correct one shown below")


def _call(s: PitfallSetup) -> torch.Tensor:
    x, y = _tensors(s)
    return getattr(nn, s.loss)()(x, y)


def _correct(loss: str) -> PitfallSetup:
    idt, tdt, tr = CORRECT[loss]
    return PitfallSetup(loss, idt, tdt, tr)  # type: ignore[arg-type]


def run_setup(s: PitfallSetup) -> PitfallOutcome:
    """Make the real torch call described by ``s`` and report the outcome."""
    for d in (s.input_dtype, s.target_dtype):
        if d not in DTYPES:
            raise ValueError(f"dtype {d!r} is not one of {', '.join(DTYPES)}")
    if s.loss not in PITFALL_LOSSES:
        raise ValueError(f"loss {s.loss!r} is not one of {', '.join(PITFALL_LOSSES)}")
    correct = float(_call(_correct(s.loss)))
    out = PitfallOutcome("ok", setup_code(s), correct=f"{correct:.4f}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            v = _call(s)
        except Exception as exc:  # noqa: BLE001 - showing torch's own error is the point here
            out.outcome, out.error_type, out.message = "raises", type(exc).__name__, str(exc).strip()[:600]
            out.meaning, out.fix = explain(out.message)
            return out
    out.warnings = [str(w.message) for w in caught]
    vals = v.detach().to(torch.float64).reshape(-1)
    out.value = f"{float(v):.4f} ({str(v.dtype).replace('torch.', '')})" if v.ndim == 0 else str(vals.tolist())
    wrong = vals.numel() != 1 or abs(float(vals[0]) - correct) > 5e-3
    if out.warnings:
        out.outcome, out.message = "warns", out.warnings[0]
        out.meaning, out.fix = explain(out.message)
    if wrong:
        out.outcome = "silent" if not out.warnings else "warns"
        if not out.meaning:
            out.meaning, out.fix = _silent_explanation(s)
    elif s.input_dtype in ("float16", "bfloat16") and not out.warnings:
        out.meaning = (f"This works on the installed torch (CPU), but the loss is computed in {s.input_dtype}: "
                       f"{out.value} against {correct:.4f} in float32, only about 3 significant digits.")
        out.fix = "x = x.float()   # keep losses in float32 (mixed precision: torch.autocast)"
    else:
        out.meaning = out.meaning or "This call works on the installed torch and gives the correct loss."
    return out


def _silent_explanation(s: PitfallSetup) -> tuple[str, str]:
    if s.transform == "softmax":
        return ("CrossEntropyLoss applies log_softmax itself; feeding it probabilities applies softmax twice, "
                "squashing the scores, so the loss is wrong (too close to ln C) and gradients are tiny — no error "
                "is raised.", "loss = nn.CrossEntropyLoss()(logits, y)   # pass raw logits")
    if s.loss == "NLLLoss" and s.transform == "none":
        return ("NLLLoss expects log-probabilities; on raw logits it returns -x[y], which can be negative and "
                "is not a cross entropy.", "loss = nn.NLLLoss()(torch.log_softmax(logits, dim=1), y)")
    if s.transform == "sigmoid" and s.loss == "BCEWithLogitsLoss":
        return ("BCEWithLogitsLoss applies sigmoid itself; passing probabilities applies it twice.",
                "loss = nn.BCEWithLogitsLoss()(logits, y)")
    return ("The call runs but the loss differs from the correct one.", "match the correct call's dtypes and shapes")


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
    expect: Literal["raises", "warns", "silent", "ok"]
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


def run_pitfall(key: str) -> tuple[Pitfall, PitfallOutcome, str]:
    """Run a named pitfall; also return a sentence comparing torch's behaviour with the notes."""
    if key not in PITFALLS:
        raise ValueError(f"pitfall {key!r} is not one of {', '.join(PITFALLS)}")
    p = PITFALLS[key]
    out = run_setup(p.setup)
    cmp = ""
    if p.notes_message:
        if out.outcome != "raises":
            cmp = (f"The notes (older PyTorch) say this raises \"{p.notes_message}\". The installed torch "
                   f"{torch.__version__} does not raise: it returns {out.value}. The notes differ here.")
        elif p.notes_message not in out.message:
            cmp = (f"The notes (older PyTorch) quote \"{p.notes_message}\"; torch {torch.__version__} now says "
                   f"\"{out.message}\". Same mistake, different wording: the notes differ here.")
        else:
            cmp = f"Same message as in the notes: torch {torch.__version__} still behaves as they describe."
    return p, out, cmp


def fixed(s: PitfallSetup) -> PitfallSetup:
    """The setup with the mistake corrected (dtypes, transform, target form, shape)."""
    idt, tdt, tr = CORRECT[s.loss]
    return replace(s, input_dtype=idt, target_dtype=tdt, transform=tr, target_form="indices",  # type: ignore[arg-type]
                   shape="none")
