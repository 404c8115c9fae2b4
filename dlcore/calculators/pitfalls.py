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

from dlcore.calculators.losses_registry import (DTYPE_NAMES, DTYPE_TABLE, PITFALL_LOSSES, PITFALLS, SHAPE_MISTAKES,
                                                TARGET_FORMS, TRANSFORMS, Pitfall, PitfallSetup)
from dlcore.textinput import parse_choice

__all__ = ["DTYPES", "DTYPE_TABLE", "PitfallSetup", "PitfallOutcome", "Pitfall", "PITFALLS",
           "run_setup", "run_pitfall", "explain", "setup_code", "fixed", "PITFALL_LOSSES"]

DTYPES: dict[str, torch.dtype] = {
    "float64": torch.float64, "float32": torch.float32, "float16": torch.float16,
    "bfloat16": torch.bfloat16, "int64": torch.int64, "int32": torch.int32, "int16": torch.int16,
    "int8": torch.int8, "uint8": torch.uint8, "bool": torch.bool,
}
assert tuple(DTYPES) == DTYPE_NAMES

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
    parse_choice(s.loss, "loss", PITFALL_LOSSES)
    parse_choice(s.input_dtype, "input dtype", DTYPE_NAMES)
    parse_choice(s.target_dtype, "target dtype", DTYPE_NAMES)
    parse_choice(s.transform, "apply to logits first", TRANSFORMS)
    parse_choice(s.target_form, "target form", TARGET_FORMS)
    parse_choice(s.shape, "shape mistake", SHAPE_MISTAKES)
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


def run_pitfall(key: str) -> tuple[Pitfall, PitfallOutcome, str]:
    """Run a named pitfall; also return a sentence comparing torch's behaviour with the notes."""
    parse_choice(key, "classic mistake", list(PITFALLS))
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
