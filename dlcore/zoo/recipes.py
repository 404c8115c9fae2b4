"""Recipes: how each zoo checkpoint is trained, as data, and the one function that runs them.

A recipe names a model from :data:`dlcore.models.MODELS`, a data set, and a
:class:`dlcore.train.TrainConfig`. :func:`train_recipe` seeds everything, builds the model,
trains it with the shared :class:`dlcore.train.Trainer` (no second training loop) under a
tqdm progress bar, and measures test accuracy. Same recipe + same machine + same thread
count -> the same weights, bit for bit.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import torch
from torch import nn

from dlcore.data import DataSplit, load_digits, load_fashion_mnist
from dlcore.data.fashion_mnist import FASHION_MEAN, FASHION_STD
from dlcore.models import build_model

__all__ = ["Recipe", "RECIPES", "TrainedModel", "load_recipe_data", "build_from_recipe",
           "train_recipe", "evaluate_accuracy", "ZooDataUnavailable", "DIGITS_MEAN", "DIGITS_STD"]

DIGITS_MEAN, DIGITS_STD = 0.3054, 0.3761  # pixel statistics of the digits training split


class ZooDataUnavailable(RuntimeError):
    """The data a recipe trains on is not available on this machine."""


@dataclass(frozen=True)
class Recipe:
    """How to (re)build one checkpoint.

    Attributes:
        arch: key of :data:`dlcore.models.MODELS`.
        arch_kwargs: options for the builder (JSON-serialisable).
        data: ``"fashion_mnist"`` (needs the real thing: Debian files or torchvision)
            or ``"digits"`` (scikit-learn's bundled 8x8 digits, always available).
        optimizer, lr, batch_size, epochs, schedule, warmup_steps, weight_decay, seed:
            the :class:`dlcore.train.TrainConfig` fields used.
        threads: torch CPU threads while building (default 1: float reductions then do
            not depend on the machine's core count, and a shared CPU is not oversubscribed).
        description: one line for the UI.
    """

    arch: str
    data: Literal["fashion_mnist", "digits"]
    epochs: int
    lr: float
    batch_size: int = 128
    optimizer: str = "Adam"
    schedule: str = "cosine"
    warmup_steps: int = 100
    weight_decay: float = 0.0
    seed: int = 0
    threads: int = 1
    arch_kwargs: dict[str, Any] = field(default_factory=dict)
    description: str = ""

    def to_json(self) -> dict[str, Any]:
        """The recipe as a JSON-ready dict (stored in the manifest)."""
        return asdict(self)


RECIPES: dict[str, Recipe] = {
    "fmnist_cnn": Recipe(
        "small_cnn", "fashion_mnist", epochs=3, lr=2e-3,
        arch_kwargs=dict(channels=[32, 64], hidden=128, dropout=0.25,
                         mean=FASHION_MEAN, std=FASHION_STD),
        description="Fashion-MNIST CNN: 2 conv blocks (32, 64) + BatchNorm + Dropout"),
    "fmnist_lenet300": Recipe(
        "lenet_300_100", "fashion_mnist", epochs=10, lr=1e-3,
        arch_kwargs=dict(mean=FASHION_MEAN, std=FASHION_STD),
        description="Fashion-MNIST LeNet-300-100 (784-300-100-10 MLP)"),
    "digits_cnn": Recipe(
        "small_cnn", "digits", epochs=30, lr=2e-3, batch_size=64, warmup_steps=20,
        arch_kwargs=dict(channels=[16, 32], hidden=64, dropout=0.25,
                         mean=DIGITS_MEAN, std=DIGITS_STD),
        description="8x8 digits CNN (fallback twin of fmnist_cnn)"),
    "digits_mlp": Recipe(
        "lenet_300_100", "digits", epochs=30, lr=1e-3, batch_size=64, warmup_steps=20,
        arch_kwargs=dict(mean=DIGITS_MEAN, std=DIGITS_STD),
        description="8x8 digits LeNet-300-100 (64-300-100-10; fallback twin of fmnist_lenet300)"),
}


@dataclass
class TrainedModel:
    """Result of :func:`train_recipe`."""

    model: nn.Module
    test_accuracy: float
    n_test: int
    data_source: str
    seconds: float
    threads: int


def load_recipe_data(recipe: Recipe) -> DataSplit:
    """The data set a recipe trains on.

    Raises:
        ZooDataUnavailable: if the recipe needs Fashion-MNIST and only the digits fallback
            is available here.
    """
    if recipe.data == "digits":
        return load_digits()
    split = load_fashion_mnist()
    if split.source not in ("debian", "torchvision"):
        raise ZooDataUnavailable(
            "this checkpoint is trained on Fashion-MNIST, which is not available here "
            "(install Debian's dataset-fashion-mnist or go online); " + split.detail)
    return split


def build_from_recipe(recipe: Recipe, split: DataSplit | None = None) -> nn.Module:
    """An untrained model of the recipe's architecture (for loading a state dict)."""
    kwargs = dict(recipe.arch_kwargs)
    if "channels" in kwargs:
        kwargs["channels"] = tuple(kwargs["channels"])
    shape = split.feature_shape if split is not None else (
        (1, 28, 28) if recipe.data == "fashion_mnist" else (1, 8, 8))
    return build_model(recipe.arch, shape, 10, **kwargs)


@torch.no_grad()
def evaluate_accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor,
                      batch_size: int = 2048) -> float:
    """Top-1 accuracy ``mean(argmax f(x) == y)`` in eval mode."""
    was = model.training
    model.eval()
    device = next(model.parameters()).device
    correct = 0
    for i in range(0, len(x), batch_size):
        out = model(x[i:i + batch_size].to(device))  # (B, C)
        correct += int((out.argmax(1).cpu() == y[i:i + batch_size]).sum())
    model.train(was)
    return correct / len(x)


def train_recipe(name: str, recipe: Recipe, progress: bool = True) -> TrainedModel:
    """Train a recipe from scratch with :class:`dlcore.train.Trainer` (tqdm progress bar).

    Raises:
        ZooDataUnavailable: when the recipe's data set is missing.
        RuntimeError: if the run diverges or stops early.
    """
    from tqdm.auto import tqdm

    from dlcore.train import ScheduleConfig, TrainConfig, Trainer, seed_everything

    split = load_recipe_data(recipe)
    seed_everything(recipe.seed)
    model = build_from_recipe(recipe, split)
    cfg = TrainConfig(task="multiclass", optimizer=recipe.optimizer, lr=recipe.lr,  # type: ignore[arg-type]
                      weight_decay=recipe.weight_decay, batch_size=recipe.batch_size,
                      epochs=recipe.epochs, seed=recipe.seed, device="cpu",
                      num_threads=recipe.threads,
                      schedule=ScheduleConfig(recipe.schedule,  # type: ignore[arg-type]
                                              warmup_steps=recipe.warmup_steps))
    t0 = time.perf_counter()
    trainer = Trainer(model, (split.x_train, split.y_train), None, cfg)
    bar = tqdm(total=trainer.history.total_steps, desc=f"building {name}", unit="step",
               disable=not progress, mininterval=1.0)
    try:
        for log in trainer.steps():
            bar.update(1)
            bar.set_postfix(epoch=log.epoch, loss=f"{log.loss:.3f}", refresh=False)
    finally:
        bar.close()
    if trainer.history.status != "finished":
        raise RuntimeError(f"building {name} did not finish: {trainer.history.message}")
    seconds = time.perf_counter() - t0
    model = model.cpu().eval()
    acc = evaluate_accuracy(model, split.x_test, split.y_test)
    return TrainedModel(model, acc, len(split.x_test), split.source, seconds, recipe.threads)
