"""The settings of one playground run, as one dataclass the UI and the API are derived from.

:class:`PlaygroundSpec` has one field per setting; each field's ``metadata["ui"]`` is a
:class:`FieldUI` (label, kind, range, group), so a UI builds one widget per field and
:func:`spec_from_values` validates what arrives (any type, from a browser or the API) field by
field, naming the field as the learner sees it. Option fields are typed with the registries'
``Literal`` s (:mod:`dlcore.train.names`); their choices are read from those Literals.

Torch-free: importing this module loads neither torch nor scikit-learn.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any, Literal, Mapping, Sequence, get_args, get_type_hints

from dlcore.textinput import parse_bool, parse_choice, parse_int, parse_number, parse_text
from dlcore.train.names import (ARCHITECTURES, MAX_EPOCHS, MAX_LAYERS, MAX_LR, MAX_TRAIN_STEPS, PLAYGROUND_DATA,
                                ActivationName, ArchitectureName, OptimizerName, PlaygroundData, ScheduleName)

__all__ = ["FieldUI", "PlaygroundSpec", "SPEC_FIELDS", "field_ui", "field_choices", "spec_from_values",
           "spec_values", "parse_hidden", "PRESETS"]

FieldKind = Literal["choice", "text", "bool", "number", "int"]
Group = Literal["main", "model", "optim"]


@dataclass(frozen=True)
class FieldUI:
    """How one :class:`PlaygroundSpec` field is shown and checked.

    Attributes:
        label: the name the learner sees (also used in every error message).
        kind: ``choice`` (one of the field's Literal), ``text``, ``bool``, ``number`` or ``int``
            (a whole number: 2.5 is refused, never rounded).
        group: ``main`` (next to the Train button), ``model`` or ``optim`` (settings folds).
        lo, hi: inclusive range for numbers; ``lo_open`` makes ``lo`` exclusive.
        step: a slider's step (numbers only; None = a number box).
        info: a one-line hint under the widget.
    """

    label: str
    kind: FieldKind
    group: Group
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    step: float | None = None
    info: str = ""


def _f(default: Any, label: str, kind: FieldKind, group: Group, **kw: Any) -> Any:
    return field(default=default, metadata={"ui": FieldUI(label, kind, group, **kw)})


@dataclass
class PlaygroundSpec:
    """All settings of one playground run, in the order the tab shows them.

    Defaults are the tab's default example: a small ReLU net on 2-D moons with Adam
    (η = 0.01, a rate that works for this toy; Adam's paper default 1e-3 needs more epochs).
    """

    dataset: PlaygroundData = _f("moons", "Data", "choice", "main")
    architecture: ArchitectureName = _f("mlp", "Model", "choice", "main")
    optimizer: OptimizerName = _f("Adam", "Optimizer (优化器)", "choice", "main")
    lr: float = _f(0.01, "Learning rate η", "number", "main", lo=0.0, hi=MAX_LR, lo_open=True,
                   info=f"0 < η ≤ {MAX_LR:g}")
    epochs: int = _f(30, "Epochs", "int", "main", lo=1, hi=MAX_EPOCHS, info=f"1 … {MAX_EPOCHS}")
    hidden: str = _f("16, 16", "Hidden layer widths", "text", "model",
                     info="e.g. 128, 64, 32 — or 10x32 for ten layers of 32; empty = no hidden layer")
    activation: ActivationName = _f("relu", "Activation", "choice", "model")
    batchnorm: bool = _f(False, "BatchNorm", "bool", "model")
    residual: bool = _f(False, "Residual", "bool", "model", info="skip connection where widths match")
    dropout: float = _f(0.0, "Dropout p", "number", "model", lo=0.0, hi=0.9, step=0.05)
    schedule: ScheduleName = _f("constant", "LR schedule", "choice", "optim",
                                info="warmup_linear = the seed's lr_lambda")
    warmup_steps: int = _f(0, "Warm-up steps (预热)", "int", "optim", lo=0, hi=MAX_TRAIN_STEPS)
    weight_decay: float = _f(0.0, "Weight decay λ", "number", "optim", lo=0.0, hi=1.0)
    batch_size: int = _f(32, "Batch size", "int", "optim", lo=1, hi=100_000)
    clip_grad_norm: float = _f(0.0, "Clip grad norm (0 = off)", "number", "optim", lo=0.0, hi=1e6)
    seed: int = _f(0, "Seed", "int", "optim", lo=0, hi=2**31 - 1)

    def label(self) -> str:
        """Short description for run comparisons, e.g. ``"Adam lr=0.01 [16, 16] relu"``."""
        extras = "".join(s for s, on in (("+BN", self.batchnorm), ("+res", self.residual),
                                         (f"+drop{self.dropout:g}", self.dropout > 0)) if on)
        sched = "" if self.schedule == "constant" and not self.warmup_steps else \
            f" {self.schedule}" + (f" wu{self.warmup_steps}" if self.warmup_steps else "")
        if self.architecture != "mlp":
            return f"{self.optimizer} lr={self.lr:g}{sched} {self.architecture}"
        return f"{self.optimizer} lr={self.lr:g}{sched} [{self.hidden}] {self.activation}{extras}"

    def validated(self) -> "PlaygroundSpec":
        """The same spec after :func:`spec_from_values` (raises ValueError naming the field)."""
        return spec_from_values(spec_values(self))


#: The fields in order (the tab's inputs and the API's parameters).
SPEC_FIELDS: tuple[dataclasses.Field, ...] = dataclasses.fields(PlaygroundSpec)
_HINTS = get_type_hints(PlaygroundSpec)
_LABELS: dict[str, dict[str, str]] = {"dataset": PLAYGROUND_DATA, "architecture": ARCHITECTURES}


def field_ui(name: str) -> FieldUI:
    """The :class:`FieldUI` of field ``name``."""
    return next(f for f in SPEC_FIELDS if f.name == name).metadata["ui"]


def field_choices(name: str) -> list[tuple[str, str]]:
    """``(label, value)`` pairs of a ``choice`` field, read from its Literal type (and the
    registry's labels where it has them)."""
    values = get_args(_HINTS[name])
    labels = _LABELS.get(name, {})
    return [(labels.get(v, v), v) for v in values]


def parse_hidden(text: str | int | Sequence[int]) -> tuple[int, ...]:
    """Hidden widths from ``"128, 64, 32"``, ``"10x32"`` (10 layers of 32) or mixes ``"2x64, 32"``.

    An empty string means no hidden layer (logistic/linear regression).

    Raises:
        ValueError: a part that is not a width, a width or repeat count < 1, or more than
            :data:`MAX_LAYERS` layers.
    """
    if isinstance(text, bool):
        raise ValueError(f"Hidden layer widths {text!r} must be widths like 64, 32")
    if isinstance(text, int):
        text = str(text)
    elif isinstance(text, (tuple, list)):
        text = ", ".join(str(t) for t in text)
    text = parse_text(text, "Hidden layer widths", max_chars=300, allow_empty=True)
    widths: list[int] = []
    for part in filter(None, (p.strip() for p in text.replace(";", ",").split(","))):
        m = re.fullmatch(r"(-?\d{1,7})\s*[x×*]\s*(-?\d{1,7})", part) or re.fullmatch(r"(-?\d{1,7})", part)
        if m is None:
            raise ValueError(f"Hidden layer widths {text!r}: {part!r} is not a width like 64 or a block like 10x32")
        n, w = (int(m.group(1)), int(m.group(2))) if m.lastindex == 2 else (1, int(m.group(1)))
        if n < 1:
            raise ValueError(f"Hidden layer widths {text!r}: repeat count {n} must be ≥ 1")
        if not 1 <= w <= 4096:
            raise ValueError(f"Hidden layer widths {text!r}: width {w} must be in 1..4096")
        widths += [w] * n
        if len(widths) > MAX_LAYERS:
            raise ValueError(f"Hidden layer widths {text!r}: more than {MAX_LAYERS} layers")
    return tuple(widths)


def _check(f: dataclasses.Field, value: Any) -> Any:
    ui: FieldUI = f.metadata["ui"]
    if ui.kind == "choice":
        return parse_choice(value, ui.label, get_args(_HINTS[f.name]))
    if ui.kind == "bool":
        return parse_bool(value, ui.label)
    if ui.kind == "text":
        text = parse_text(value, ui.label, max_chars=300, allow_empty=value is not None)
        parse_hidden(text)  # fail on a typo before anything is built
        return text
    if ui.kind == "int":
        return parse_int(value, ui.label, lo=None if ui.lo is None else int(ui.lo),
                         hi=None if ui.hi is None else int(ui.hi))
    v = parse_number(value, ui.label, lo=ui.lo, hi=ui.hi)
    if ui.lo_open and v <= (ui.lo or 0.0):
        raise ValueError(f"{ui.label} = {v:g} must be above {ui.lo:g}")
    return v


def spec_from_values(values: Mapping[str, Any] | Sequence[Any]) -> PlaygroundSpec:
    """Validate raw values (a mapping by field name, or a sequence in field order) into a spec.

    Each value may arrive as any type (a browser's number, an API caller's string, None, a
    list...): every field is checked with :mod:`dlcore.textinput` and a failure is a
    ``ValueError`` naming the field's label and the rule.
    """
    if isinstance(values, Mapping):
        unknown = sorted(set(map(str, values)) - {f.name for f in SPEC_FIELDS})
        if unknown:
            raise ValueError(f"unknown setting(s) {unknown}; the settings are {[f.name for f in SPEC_FIELDS]}")
        raw = {f.name: values.get(f.name, f.default) for f in SPEC_FIELDS}
    else:
        if len(values) != len(SPEC_FIELDS):
            raise ValueError(f"expected {len(SPEC_FIELDS)} settings, got {len(values)}")
        raw = {f.name: v for f, v in zip(SPEC_FIELDS, values)}
    return PlaygroundSpec(**{f.name: _check(f, raw[f.name]) for f in SPEC_FIELDS})


def spec_values(spec: PlaygroundSpec) -> list[Any]:
    """The spec's values in field order (the tab's inputs; an API example)."""
    return [getattr(spec, f.name) for f in SPEC_FIELDS]


def _preset(**kw: Any) -> PlaygroundSpec:
    return dataclasses.replace(PlaygroundSpec(), **kw)


#: Named presets reproducing the seeds' experiments (label -> spec).
PRESETS: dict[str, PlaygroundSpec] = {
    "Default: small ReLU net on moons": PlaygroundSpec(),
    "Seed §dl_2_3: 5-class net, BatchNorm + Dropout, Adam lr 0.05": _preset(
        dataset="seed_multiclass", hidden="128, 64, 32", batchnorm=True, dropout=0.2, optimizer="Adam",
        lr=0.05, batch_size=64, epochs=100, seed=123),
    "Seed §dl_2_2: binary net, BatchNorm + Dropout, SGD lr 0.05": _preset(
        dataset="seed_binary", hidden="64, 32", batchnorm=True, dropout=0.2, optimizer="SGD",
        lr=0.05, batch_size=64, epochs=100, seed=123),
    "Over-fitting (§2.2.2): wide net, no regularisation": _preset(
        dataset="seed_multiclass", hidden="3x512", optimizer="Adam", lr=0.001, batch_size=64, epochs=60),
    "Over-fitting cured: same net + Dropout 0.5 + weight decay": _preset(
        dataset="seed_multiclass", hidden="3x512", dropout=0.5, optimizer="AdamW", lr=0.001,
        weight_decay=0.05, batch_size=64, epochs=60),
    "Too deep (§2.2.3): 10-layer plain sigmoid net": _preset(
        dataset="moons", hidden="10x32", activation="sigmoid", optimizer="Momentum", lr=0.05, epochs=40),
    "Too deep, fixed: 10-layer ReLU + BatchNorm + residual": _preset(
        dataset="moons", hidden="10x32", activation="relu", batchnorm=True, residual=True,
        optimizer="Momentum", lr=0.05, epochs=40),
    "Warm-up (§2.2.1): Adam with the seed's linear warm-up + decay": _preset(
        dataset="spirals", hidden="3x64", optimizer="Adam", lr=0.01, schedule="warmup_linear",
        warmup_steps=100, epochs=80),
    "Fashion-MNIST: LeNet-5 CNN, Adam, 10 epochs": _preset(
        dataset="fashion_mnist", architecture="lenet5", optimizer="Adam", lr=0.002, batch_size=64, epochs=10),
    "Too large a step: SGD with η = 10 on moons": _preset(optimizer="SGD", lr=10.0, epochs=20),
    "Regression: sine curve with a tanh MLP": _preset(
        dataset="sine", hidden="2x32", activation="tanh", optimizer="Adam", lr=0.01, batch_size=16, epochs=150),
}
