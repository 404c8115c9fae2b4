"""Named, versioned, verified checkpoints: ``dlcore.zoo.get("fmnist_cnn")``.

Shipped (trained weights committed next to this file, see ``manifest.json``):

========================  ==============  =================  ==========================
name                      model           data               role
========================  ==============  =================  ==========================
``fmnist_cnn``            SmallCNN        Fashion-MNIST      >= 90 % test accuracy
``fmnist_lenet300``       LeNet-300-100   Fashion-MNIST      >= 88 % (pruning baseline)
``digits_cnn``            SmallCNN        sklearn 8x8 digits fallback twin of fmnist_cnn
``digits_mlp``            LeNet-300-100   sklearn 8x8 digits fallback twin of fmnist_lenet300
========================  ==============  =================  ==========================

Models take raw pixels in [0, 1], shape ``(N, 1, 28, 28)`` (or ``(N, 1, 8, 8)`` for the
digits twins) and return logits ``(N, 10)``. :func:`image_classifier` picks the
Fashion-MNIST model when its data is available here and the digits twin otherwise, so a
tab always gets a model together with matching data.

Rebuild from the recipe (deterministic): ``python -m dlcore.zoo build fmnist_cnn``.
"""

from __future__ import annotations

import functools
import importlib
from pathlib import Path
from typing import Any, Literal

import torch
from torch import nn

from dlcore.data import DataSplit
from dlcore.zoo.recipes import (
    KINDS, RECIPES, Recipe, RecipeKind, ZooDataUnavailable, evaluate_accuracy, evaluate_recipe,
    load_recipe_data, register_kind, register_recipe, train_recipe,
)
from dlcore.zoo.images import classifier_names, image_from_upload, input_side, test_image
from dlcore.zoo.store import Status, Zoo, atomic_write_bytes, sha256_file

__all__ = [
    "ZOO_DIR", "NAMES", "RECIPES", "Recipe", "Zoo", "Status", "ZooDataUnavailable",
    "default_zoo", "get", "info", "verify", "status", "build", "load_data", "evaluate",
    "image_classifier", "evaluate_accuracy", "train_recipe", "sha256_file",
    "atomic_write_bytes", "TWINS", "KINDS", "RecipeKind", "register_kind", "register_recipe",
    "evaluate_recipe", "FAMILIES", "classifier_names", "input_side", "test_image", "image_from_upload",
]

#: Modules that register recipe kinds and recipes of other families (imported below, in order).
#: A new family = one ``dlcore/zoo/recipes_<family>.py`` + its name here.
FAMILIES: tuple[str, ...] = ("dlcore.zoo.recipes_robust", "dlcore.zoo.recipes_compression", "dlcore.zoo.recipes_generative",
                             "dlcore.zoo.recipes_sequence")
for _mod in FAMILIES:
    importlib.import_module(_mod)
NAMES: tuple[str, ...] = tuple(RECIPES)

ZOO_DIR = Path(__file__).resolve().parent
#: Fashion-MNIST model -> its digits fallback twin.
TWINS: dict[str, str] = {"fmnist_cnn": "digits_cnn", "fmnist_lenet300": "digits_mlp", "fmnist_multiexit": "digits_multiexit"}


@functools.lru_cache(maxsize=1)
def default_zoo() -> Zoo:
    """The zoo of checkpoints shipped in this package directory."""
    return Zoo(ZOO_DIR)


def get(name: str, device: str | torch.device = "cpu", fresh: bool = False) -> nn.Module:
    """A trained model in eval mode: cached and frozen (weights ``requires_grad=False``;
    input gradients still flow); ``fresh=True`` gives a private, trainable copy.

    A missing or corrupt checkpoint is rebuilt from its recipe with a progress bar.

    Raises:
        KeyError: unknown name. ZooDataUnavailable: rebuild needed but data missing.
    """
    return default_zoo().get(name, device=device, fresh=fresh)


def info(name: str) -> dict[str, Any]:
    """Manifest entry: sha256, data source, recipe, test accuracy, params, version."""
    return default_zoo().info(name)


def verify(name: str) -> Status:
    """Check one checkpoint's sha256 against the manifest."""
    return default_zoo().verify(name)


def status() -> list[Status]:
    """Verification status of every checkpoint."""
    return default_zoo().status()


def build(name: str, progress: bool = True) -> dict[str, Any]:
    """Retrain ``name`` from its recipe and store it (atomic write); returns the entry."""
    return default_zoo().build(name, progress=progress)


def load_data(name: str) -> DataSplit:
    """The data split ``name`` was trained and tested on."""
    if name not in RECIPES:
        raise KeyError(f"zoo model {name!r} is not one of {list(RECIPES)}")
    return load_recipe_data(RECIPES[name])


def evaluate(name: str) -> dict[str, float]:
    """Re-measure the stored checkpoint's metrics (``test_accuracy`` for classifiers, plus
    whatever its recipe kind records) on its test data."""
    if name not in RECIPES:
        raise KeyError(f"zoo model {name!r} is not one of {list(RECIPES)}")
    return evaluate_recipe(get(name), RECIPES[name])


def image_classifier(kind: Literal["cnn", "mlp"] = "cnn") -> tuple[str, nn.Module, DataSplit]:
    """A trained image classifier together with the data it matches.

    Returns ``("fmnist_cnn", model, fashion split)`` when Fashion-MNIST is available here,
    else the digits twin (``"digits_cnn"``) with the digits split; ``split.detail`` says why.

    Raises:
        ValueError: for an unknown ``kind``.
    """
    if kind not in ("cnn", "mlp"):
        raise ValueError(f"kind {kind!r} is not 'cnn' or 'mlp'")
    name = "fmnist_cnn" if kind == "cnn" else "fmnist_lenet300"
    try:
        split = load_data(name)
    except ZooDataUnavailable:
        name = TWINS[name]
        split = load_data(name)
    return name, get(name), split
