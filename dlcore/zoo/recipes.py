"""Recipes: how each zoo checkpoint is trained, as data, and the functions that run them.

A recipe names a model from :data:`dlcore.models.MODELS`, a data set, and a
:class:`dlcore.train.TrainConfig`. :func:`train_recipe` seeds everything, builds the model,
trains it with the shared :class:`dlcore.train.Trainer` (no second training loop) under a
tqdm progress bar, and measures test accuracy. Same recipe + same machine + same thread
count -> the same weights, bit for bit.

Recipes of other *kinds* (adversarial training, GANs, diffusion models) register a
:class:`RecipeKind` (how to build the untrained module, train it, and re-measure its metrics)
with :func:`register_kind`, and their recipes with :func:`register_recipe`; they live in
``dlcore/zoo/recipes_<family>.py`` and reuse the one :class:`~dlcore.train.Trainer` (through its
``batch_hook`` / ``objective``) wherever the objective allows.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Literal

import torch
from torch import nn

from dlcore.data import DataSplit, load_digits, load_fashion_mnist
from dlcore.data.fashion_mnist import FASHION_MEAN, FASHION_STD
from dlcore.models import build_model
from dlcore.train.metrics import evaluate_accuracy

__all__ = ["Recipe", "RECIPES", "TrainedModel", "RecipeKind", "KINDS", "register_kind", "register_recipe",
           "load_recipe_data", "build_from_recipe", "train_recipe", "evaluate_accuracy",
           "evaluate_recipe", "ZooDataUnavailable", "DIGITS_MEAN", "DIGITS_STD"]

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
        kind: key of :data:`KINDS` that builds, trains and evaluates it (default
            ``"supervised"``: :func:`train_recipe`).
        options: kind-specific settings (JSON-serialisable), e.g. the attack of an
            adversarially trained model.
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
    kind: str = "supervised"
    options: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The recipe as a JSON-ready dict (stored in the manifest; default kind/options omitted)."""
        d = asdict(self)
        if d["kind"] == "supervised":
            d.pop("kind")
        if not d["options"]:
            d.pop("options")
        return d


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
    """Result of training a recipe.

    ``test_accuracy`` is the top-1 accuracy for classifiers (None for generative models);
    ``metrics`` holds every other figure the manifest records (e.g. ``pgd20_accuracy``, a
    sample score), re-measured by the tests so the manifest cannot lie.
    """

    model: nn.Module
    test_accuracy: float | None
    n_test: int
    data_source: str
    seconds: float
    threads: int
    metrics: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class RecipeKind:
    """How one kind of recipe is built, trained and checked.

    Attributes:
        build: ``(recipe, feature_shape) -> untrained nn.Module`` (to load a state dict into).
        train: ``(name, recipe, progress) -> TrainedModel``.
        evaluate: ``(model, recipe) -> metrics`` re-measured from the stored weights; must
            return the keys the manifest records in ``metrics`` (and ``"test_accuracy"`` for
            classifiers).
    """

    build: Callable[[Recipe, tuple[int, ...]], nn.Module]
    train: Callable[[str, Recipe, bool], TrainedModel]
    evaluate: Callable[[nn.Module, Recipe], dict[str, float]]


KINDS: dict[str, RecipeKind] = {}


def register_kind(name: str, kind: RecipeKind) -> None:
    """Add a recipe kind (idempotent for the same object)."""
    if name in KINDS and KINDS[name] is not kind:
        raise ValueError(f"recipe kind {name!r} is already registered")
    KINDS[name] = kind


def register_recipe(name: str, recipe: Recipe) -> None:
    """Add a zoo recipe (idempotent for an equal recipe)."""
    if recipe.kind not in KINDS:
        raise ValueError(f"recipe {name!r} has unknown kind {recipe.kind!r}; register it first")
    if name in RECIPES and RECIPES[name] != recipe:
        raise ValueError(f"zoo recipe {name!r} is already registered with different settings")
    RECIPES[name] = recipe


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


def _feature_shape(recipe: Recipe, split: DataSplit | None) -> tuple[int, ...]:
    if split is not None:
        return tuple(split.feature_shape)
    return (1, 28, 28) if recipe.data == "fashion_mnist" else (1, 8, 8)


def build_from_recipe(recipe: Recipe, split: DataSplit | None = None) -> nn.Module:
    """An untrained model of the recipe's architecture (for loading a state dict)."""
    return KINDS[recipe.kind].build(recipe, _feature_shape(recipe, split))


def _build_supervised(recipe: Recipe, shape: tuple[int, ...]) -> nn.Module:
    kwargs = dict(recipe.arch_kwargs)
    if "channels" in kwargs:
        kwargs["channels"] = tuple(kwargs["channels"])
    return build_model(recipe.arch, shape, 10, **kwargs)


def train_recipe(name: str, recipe: Recipe, progress: bool = True, *,
                 batch_hook: Any = None, objective: Any = None) -> TrainedModel:
    """Train a recipe from scratch with :class:`dlcore.train.Trainer` (tqdm progress bar).

    ``batch_hook`` / ``objective`` are passed to the Trainer (other recipe kinds use them,
    e.g. adversarial training swaps each batch for its PGD examples).

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
    trainer = Trainer(model, (split.x_train, split.y_train), None, cfg, batch_hook=batch_hook,
                      objective=objective)
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


def _evaluate_supervised(model: nn.Module, recipe: Recipe) -> dict[str, float]:
    split = load_recipe_data(recipe)
    return {"test_accuracy": evaluate_accuracy(model, split.x_test, split.y_test)}


def evaluate_recipe(model: nn.Module, recipe: Recipe) -> dict[str, float]:
    """Re-measure a stored model's metrics with its kind's evaluator."""
    return KINDS[recipe.kind].evaluate(model, recipe)


register_kind("supervised", RecipeKind(build=_build_supervised,
                                       train=lambda name, r, progress: train_recipe(name, r, progress),
                                       evaluate=_evaluate_supervised))
