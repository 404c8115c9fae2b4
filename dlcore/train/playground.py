"""The training playground: turn a handful of plain settings into data + model + trainer.

This is what the "Train a network" tab (and ``bench/bench_train.py``) runs; it has no UI
code, so it is testable and usable from Python::

    pg = build_playground(PlaygroundSpec(dataset="seed_multiclass", hidden="128,64,32",
                                         batchnorm=True, dropout=0.2, lr=0.05, epochs=100))
    history = pg.trainer.fit()

The seeds' experiments are presets of :class:`PlaygroundSpec` (:data:`PRESETS`).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

from torch import nn

from dlcore.train.loop import MAX_EPOCHS, TrainConfig, Trainer, seed_everything
from dlcore.train.schedules import ScheduleConfig

__all__ = ["PlaygroundSpec", "Playground", "PLAYGROUND_DATA", "ARCHITECTURES", "PRESETS", "parse_hidden",
           "load_playground_data", "build_playground", "MAX_LAYERS", "MAX_TRAIN_STEPS"]

#: architecture value -> label shown in the dropdown (CNNs need image data).
ARCHITECTURES: dict[str, str] = {
    "mlp": "MLP (hidden widths, activation, BatchNorm, Dropout, residual below)",
    "lenet5": "LeNet-5 CNN (images only; uses the activation)",
    "small_cnn": "Small CNN, 2 conv blocks + BatchNorm (images only; uses Dropout)",
}
#: dataset value -> label shown in the dropdown.
PLAYGROUND_DATA: dict[str, str] = {
    "moons": "2-D moons (decision boundary)",
    "circles": "2-D circles (decision boundary)",
    "spirals": "2-D spirals (decision boundary)",
    "blobs": "2-D blobs, 3 classes (decision boundary)",
    "seed_binary": "Seed §dl_2_2: make_classification, binary (2,000 × 10)",
    "seed_multiclass": "Seed §dl_2_3: make_classification, 5 classes (2,000 × 10)",
    "sine": "1-D regression: y = sin(x) + noise",
    "seed_linear": "Seed §dl_2_1: linear regression (100 × 2)",
    "fashion_mnist": "Fashion-MNIST subset (6,000 train / 1,000 val images)",
}
MAX_LAYERS = 30
#: A run may take at most this many optimizer steps (epochs × batches), to stay interactive.
MAX_TRAIN_STEPS = 30_000
FMNIST_SUBSET = (6000, 1000)


def parse_hidden(text: str | int | tuple[int, ...] | list[int]) -> tuple[int, ...]:
    """Hidden widths from ``"128, 64, 32"``, ``"10x32"`` (10 layers of 32) or mixes ``"2x64, 32"``.

    An empty string means no hidden layer (logistic/linear regression).
    """
    if isinstance(text, int):
        return (text,)
    if isinstance(text, (tuple, list)):
        return tuple(int(t) for t in text)
    widths: list[int] = []
    for part in filter(None, (p.strip() for p in str(text).replace(";", ",").split(","))):
        m = re.fullmatch(r"(-?\d+)\s*[x×*]\s*(-?\d+)", part) or re.fullmatch(r"(-?\d+)", part)
        if m is None:
            raise ValueError(f"hidden layers {text!r}: {part!r} is not a width like 64 or a block like 10x32")
        n, w = (int(m.group(1)), int(m.group(2))) if m.lastindex == 2 else (1, int(m.group(1)))
        if n < 1:
            raise ValueError(f"hidden layers {text!r}: repeat count {n} must be ≥ 1")
        if w < 1:
            raise ValueError(f"hidden layers {text!r}: width {w} must be ≥ 1")
        widths += [w] * n
        if len(widths) > MAX_LAYERS:
            raise ValueError(f"hidden layers {text!r}: more than {MAX_LAYERS} layers")
    return tuple(widths)


@dataclass
class PlaygroundSpec:
    """All settings of one playground run (the tab's inputs, in order).

    Defaults are the tab's default example: a small ReLU net on 2-D moons with Adam.
    """

    dataset: str = "moons"
    hidden: str = "16, 16"
    activation: str = "relu"
    batchnorm: bool = False
    dropout: float = 0.0
    residual: bool = False
    optimizer: str = "Adam"
    lr: float = 0.01
    schedule: str = "constant"
    warmup_steps: int = 0
    weight_decay: float = 0.0
    batch_size: int = 32
    epochs: int = 30
    clip_grad_norm: float = 0.0
    seed: int = 0
    architecture: str = "mlp"

    def label(self) -> str:
        """Short description for run comparisons, e.g. ``"Adam lr=0.01 16,16 relu"``."""
        extras = "".join(s for s, on in (("+BN", self.batchnorm), ("+res", self.residual),
                                         (f"+drop{self.dropout:g}", self.dropout > 0)) if on)
        sched = "" if self.schedule == "constant" and not self.warmup_steps else \
            f" {self.schedule}" + (f" wu{self.warmup_steps}" if self.warmup_steps else "")
        if self.architecture != "mlp":
            return f"{self.optimizer} lr={self.lr:g}{sched} {self.architecture}"
        return f"{self.optimizer} lr={self.lr:g}{sched} [{self.hidden}] {self.activation}{extras}"


@dataclass
class Playground:
    """A built run: the data, the model and a ready :class:`Trainer`."""

    spec: PlaygroundSpec
    split: Any           # dlcore.data.DataSplit
    model: nn.Module
    trainer: Trainer


_FMNIST_CACHE: dict[str, Any] = {}


def load_playground_data(name: str) -> Any:
    """The ``DataSplit`` for a :data:`PLAYGROUND_DATA` entry (Fashion-MNIST as a fixed subset)."""
    from dlcore.data import load_dataset

    if name not in PLAYGROUND_DATA:
        raise ValueError(f"data set {name!r} is not one of {list(PLAYGROUND_DATA)}")
    if name == "fashion_mnist":
        if name not in _FMNIST_CACHE:
            _FMNIST_CACHE[name] = load_dataset("fashion_mnist").subset(*FMNIST_SUBSET, seed=0)
        return _FMNIST_CACHE[name]
    return load_dataset(name)


def build_playground(spec: PlaygroundSpec) -> Playground:
    """Validate ``spec``, load the data, build the MLP (seeded) and the trainer.

    Raises:
        ValueError: for any setting out of range (the message names it and the rule).
    """
    hidden = parse_hidden(spec.hidden)
    if not 1 <= int(spec.epochs) <= MAX_EPOCHS:
        raise ValueError(f"epochs {spec.epochs} is outside 1..{MAX_EPOCHS}")
    if int(spec.batch_size) < 1:
        raise ValueError(f"batch size {spec.batch_size} must be ≥ 1")
    split = load_playground_data(spec.dataset)
    n_train = len(split.x_train)
    bs = min(int(spec.batch_size), n_train)
    steps = int(spec.epochs) * (n_train // bs + (1 if n_train % bs > 1 else 0))
    if steps > MAX_TRAIN_STEPS:
        raise ValueError(f"{spec.epochs} epochs × {steps // int(spec.epochs)} batches = {steps} steps exceed the "
                         f"playground's cap of {MAX_TRAIN_STEPS}; use fewer epochs or a larger batch size")
    seed_everything(int(spec.seed))
    model = _build_model(spec, split, hidden)
    config = TrainConfig(task=split.task, optimizer=spec.optimizer, lr=float(spec.lr),
                         weight_decay=float(spec.weight_decay), batch_size=bs, epochs=int(spec.epochs),
                         schedule=ScheduleConfig(spec.schedule, int(spec.warmup_steps)),  # type: ignore[arg-type]
                         clip_grad_norm=float(spec.clip_grad_norm),  # seeded above, before the model
                         num_threads=1)  # small MLPs: 1 thread beats 2 on a shared CPU
    trainer = Trainer(model, (split.x_train, split.y_train), (split.x_test, split.y_test), config)
    return Playground(spec, split, model, trainer)


def _build_model(spec: PlaygroundSpec, split: Any, hidden: tuple[int, ...]) -> nn.Module:
    """The MLP (logits out: the loss applies sigmoid/softmax) or a CNN for image data."""
    from dlcore.models import build_mlp, build_model

    if spec.architecture not in ARCHITECTURES:
        raise ValueError(f"architecture {spec.architecture!r} is not one of {list(ARCHITECTURES)}")
    if spec.architecture == "mlp":
        return build_mlp(in_features=split.in_features, out_features=split.out_features, hidden=hidden,
                         activation=spec.activation, batchnorm=bool(spec.batchnorm), dropout=float(spec.dropout),
                         residual=bool(spec.residual))
    if len(split.feature_shape) != 3:
        raise ValueError(f"architecture {spec.architecture!r} needs image data; {spec.dataset!r} has examples of "
                         f"shape {split.feature_shape}: pick Fashion-MNIST or the MLP")
    x = split.x_train
    norm = {"mean": float(x.mean()), "std": float(x.std())}  # standardise pixels inside the model
    if spec.architecture == "lenet5":
        return build_model("lenet5", split.feature_shape, split.out_features, activation=spec.activation, **norm)
    return build_model("small_cnn", split.feature_shape, split.out_features, dropout=float(spec.dropout), **norm)


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
    "Fashion-MNIST: LeNet-5 CNN, Adam, 3 epochs": _preset(
        dataset="fashion_mnist", architecture="lenet5", optimizer="Adam", lr=0.002, batch_size=64, epochs=3),
    "Regression: sine curve with a tanh MLP": _preset(
        dataset="sine", hidden="2x32", activation="tanh", optimizer="Adam", lr=0.01, batch_size=16, epochs=150),
}
