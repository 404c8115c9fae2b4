"""Compression zoo models: recipe kind ``"multi_exit"`` (a CNN with an early exit after every block).

The multi-exit network of notes §9.2.5 (:class:`dlcore.compression.early_exit.MultiExitCNN`,
three conv blocks of 16/32/64 channels, a pooled linear head after each) trained with the joint
loss ``Σ_i CE(head_i, y) / 3`` (MSDNet's equal weights) through the one Trainer (its
``objective`` hook). Training it takes a few minutes on one thread, so it is shipped.

Metrics (re-measured from the stored weights by :func:`dlcore.zoo.evaluate` and the tests):
``test_accuracy`` (the last exit, whole test set) and ``exit{i}_accuracy`` of every head.

    python -m dlcore.zoo build fmnist_multiexit     # and digits_multiexit (the 8×8 digits twin)
"""

from __future__ import annotations

from torch import nn

from dlcore.data import DataSplit
from dlcore.data.fashion_mnist import FASHION_MEAN, FASHION_STD
from dlcore.zoo.recipes import (DIGITS_MEAN, DIGITS_STD, Recipe, RecipeKind, TrainedModel, ZooDataUnavailable,
                                load_recipe_data, register_kind, register_recipe, train_recipe)

__all__ = ["multi_exit_metrics", "multi_exit_classifier"]


def _build(recipe: Recipe, shape: tuple[int, ...]) -> nn.Module:
    from dlcore.compression.early_exit import MultiExitCNN

    kw = dict(recipe.arch_kwargs)
    kw["channels"] = tuple(kw["channels"])
    kw["pools"] = tuple(kw["pools"])
    return MultiExitCNN(in_channels=shape[0], n_classes=10, image_size=shape[1], **kw)


def multi_exit_metrics(model: nn.Module, split: DataSplit) -> dict[str, float]:
    """``test_accuracy`` (last exit) and ``exit{i}_accuracy`` on the whole test set."""
    from dlcore.compression.early_exit import all_exit_logits

    logits = all_exit_logits(model, split.x_test)  # (E, N, C)
    acc = (logits.argmax(-1) == split.y_test[None]).float().mean(1)  # (E,)
    out = {f"exit{i + 1}_accuracy": float(a) for i, a in enumerate(acc)}
    out["test_accuracy"] = float(acc[-1])
    return out


def _train(name: str, recipe: Recipe, progress: bool) -> TrainedModel:
    from dlcore.compression.early_exit import joint_objective

    weights = tuple(float(w) for w in recipe.options["exit_weights"])
    result = train_recipe(name, recipe, progress, objective=joint_objective(weights))
    metrics = multi_exit_metrics(result.model, load_recipe_data(recipe))
    result.test_accuracy = metrics.pop("test_accuracy")
    result.metrics = metrics
    return result


def _evaluate(model: nn.Module, recipe: Recipe) -> dict[str, float]:
    return multi_exit_metrics(model, load_recipe_data(recipe))


def multi_exit_classifier() -> tuple[str, nn.Module, DataSplit]:
    """``("fmnist_multiexit", shared model, split)``, or the digits twin when Fashion-MNIST is absent."""
    from dlcore import zoo

    try:
        name, split = "fmnist_multiexit", zoo.load_data("fmnist_multiexit")
    except ZooDataUnavailable:
        name, split = "digits_multiexit", zoo.load_data("digits_multiexit")
    return name, zoo.get(name), split


register_kind("multi_exit", RecipeKind(build=_build, train=_train, evaluate=_evaluate))
register_recipe("fmnist_multiexit", Recipe(
    "multi_exit_cnn", "fashion_mnist", epochs=2, lr=2e-3,
    arch_kwargs=dict(channels=[16, 32, 64], pools=[4, 4, 3], mean=FASHION_MEAN, std=FASHION_STD),
    description="Fashion-MNIST multi-exit CNN (16, 32, 64) with a head after every block (early exit)",
    kind="multi_exit", options=dict(exit_weights=[1.0, 1.0, 1.0])))
register_recipe("digits_multiexit", Recipe(
    "multi_exit_cnn", "digits", epochs=30, lr=2e-3, batch_size=64, warmup_steps=20,
    arch_kwargs=dict(channels=[16, 32, 64], pools=[4, 4, 3], mean=DIGITS_MEAN, std=DIGITS_STD),
    description="8x8 digits multi-exit CNN (fallback twin of fmnist_multiexit)",
    kind="multi_exit", options=dict(exit_weights=[1.0, 1.0, 1.0])))
