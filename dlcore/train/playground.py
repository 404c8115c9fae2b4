"""The training playground: turn a handful of plain settings into data + model + trainer.

This is what the "Train a network" tab (and ``bench/bench_train.py``) runs; it has no UI
code, so it is testable and usable from Python::

    pg = build_playground(PlaygroundSpec(dataset="seed_multiclass", hidden="128,64,32",
                                         batchnorm=True, dropout=0.2, lr=0.05, epochs=100))
    history = pg.trainer.fit()

The seeds' experiments are presets of :class:`PlaygroundSpec` (:data:`PRESETS`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from dlcore.lazy import LazyCache
from dlcore.models.layers import own_dropout_rng
from dlcore.train.loop import TrainConfig, Trainer, seed_everything
from dlcore.train.runtime import RNG_LOCK
from dlcore.train.names import ARCHITECTURES, MAX_LAYERS, MAX_TRAIN_STEPS, PLAYGROUND_DATA
from dlcore.train.schedules import ScheduleConfig
from dlcore.train.spec import PRESETS, PlaygroundSpec, parse_hidden, spec_from_values
from dlcore.train.verdict import Verdict, constant_baseline, judge

__all__ = ["PlaygroundSpec", "Playground", "PLAYGROUND_DATA", "ARCHITECTURES", "PRESETS", "parse_hidden",
           "spec_from_values", "load_playground_data", "build_playground", "MAX_LAYERS", "MAX_TRAIN_STEPS",
           "FMNIST_SUBSET"]

#: Fashion-MNIST in the playground: a fixed (train, val) subset, so an epoch takes about a second.
FMNIST_SUBSET = (6000, 1000)


@dataclass
class Playground:
    """A built run: the data, the model, a ready :class:`Trainer` and the constant-guess baseline."""

    spec: PlaygroundSpec
    split: Any           # dlcore.data.DataSplit
    model: nn.Module
    trainer: Trainer
    baseline: float      # validation loss of the best constant guess (dlcore.train.verdict)

    def verdict(self) -> Verdict:
        """Did the run learn (so far)? See :func:`dlcore.train.verdict.judge`."""
        return judge(self.trainer.history, self.baseline)


#: The playground's data sets, loaded once each (the one loader cache, :mod:`dlcore.lazy`).
_DATA: LazyCache[str, Any] = LazyCache("playground data", max_extra=len(PLAYGROUND_DATA))


def _load(name: str) -> Any:
    from dlcore.data import load_dataset

    if name == "fashion_mnist":
        return load_dataset("fashion_mnist").subset(*FMNIST_SUBSET, seed=0)
    return load_dataset(name)


def load_playground_data(name: str) -> Any:
    """The ``DataSplit`` for a :data:`PLAYGROUND_DATA` entry (Fashion-MNIST as a fixed subset), cached."""
    if not isinstance(name, str) or name not in PLAYGROUND_DATA:
        raise ValueError(f"data set {name!r} is not one of {list(PLAYGROUND_DATA)}")
    return _DATA.get(name, lambda: _load(name))


def build_playground(spec: PlaygroundSpec) -> Playground:
    """Validate ``spec``, load the data, build the MLP (seeded) and the trainer.

    Raises:
        ValueError: for any setting out of range (the message names it and the rule).
    """
    spec = spec.validated()
    hidden = parse_hidden(spec.hidden)
    split = load_playground_data(spec.dataset)
    n_train = len(split.x_train)
    bs = min(int(spec.batch_size), n_train)
    steps = int(spec.epochs) * (n_train // bs + (1 if n_train % bs > 1 else 0))
    if steps > MAX_TRAIN_STEPS:
        raise ValueError(f"{spec.epochs} epochs × {steps // int(spec.epochs)} batches = {steps} steps exceed the "
                         f"playground's cap of {MAX_TRAIN_STEPS}; use fewer epochs or a larger batch size")
    # The seed's loop draws initial weights, then per epoch the DataLoader's shuffle seeds and
    # the dropout masks, all from torch's global RNG. Here only the initial weights do (a few ms,
    # under the lock no seeded run re-seeds it in); the rest continue that very stream in a
    # private generator, so the run equals the seed's loop *and* two users training at once get
    # the same run.
    with RNG_LOCK:
        seed_everything(int(spec.seed))
        model = _build_model(spec, split, hidden)
        rng = torch.Generator()
        rng.set_state(torch.get_rng_state())
    own_dropout_rng(model, rng)
    config = TrainConfig(task=split.task, optimizer=spec.optimizer, lr=float(spec.lr),
                         weight_decay=float(spec.weight_decay), batch_size=bs, epochs=int(spec.epochs),
                         schedule=ScheduleConfig(spec.schedule, int(spec.warmup_steps)),  # type: ignore[arg-type]
                         clip_grad_norm=float(spec.clip_grad_norm),
                         num_threads=1)  # small MLPs: 1 thread beats 2 on a shared CPU
    trainer = Trainer(model, (split.x_train, split.y_train), (split.x_test, split.y_test), config, rng=rng)
    baseline = constant_baseline(split.task, split.y_train, split.y_test, split.n_classes)
    return Playground(spec, split, model, trainer, baseline)


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
