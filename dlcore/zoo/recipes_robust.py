"""Adversarially trained zoo models: recipe kind ``"adversarial"`` (PGD adversarial training).

Madry et al. 2018 (https://arxiv.org/abs/1706.06083) train MNIST with PGD (ε = 0.3, α = 0.01,
40 steps, random start, every batch adversarial) for ~100k steps on a GPU. Scaled to this
2-core CPU (about 10 CPU-minutes on 1 thread): Fashion-MNIST at ε = 0.1 with a 7-step adversary
(α = 0.025: 7α = 1.75ε, enough to cross the ball from a random start), pure adversarial
batches, 2 epochs, a (16, 32)-channel SmallCNN. The training runs through the one
:class:`dlcore.train.Trainer`: the kind passes :func:`dlcore.defenses.training.pgd_batch_hook` as
its ``batch_hook``. The 8×8 digits twin trains at ε = 0.2 (the natural digits CNN is below 1 % under PGD-20 there) for 60 epochs
with α = 0.07 ≈ 2.5·ε/steps (the step rule of Madry's lab).

Metrics (re-measured from the stored weights by :func:`dlcore.zoo.evaluate` and the tests):
``test_accuracy`` on the whole test set, and ``pgd20_accuracy``: robust accuracy under PGD-20
(ε = eval_eps, α = 0.01 on Fashion-MNIST / 0.02 on digits, random start, seed 0) on the first
``eval_n`` test images (1000 / all 360).

    python -m dlcore.zoo build fmnist_cnn_adv      # and digits_cnn_adv (the 8×8 digits twin)
"""

from __future__ import annotations

from typing import Any

from torch import nn

from dlcore.data import DataSplit
from dlcore.data.fashion_mnist import FASHION_MEAN, FASHION_STD
from dlcore.zoo.recipes import (DIGITS_MEAN, DIGITS_STD, KINDS, Recipe, RecipeKind, TrainedModel, ZooDataUnavailable,
                                evaluate_accuracy, load_recipe_data, register_kind, register_recipe, train_recipe)

__all__ = ["ROBUST_TWINS", "robust_metrics", "robust_classifier"]

#: natural zoo model -> its adversarially trained twin.
ROBUST_TWINS: dict[str, str] = {"fmnist_cnn": "fmnist_cnn_adv", "digits_cnn": "digits_cnn_adv"}


def robust_metrics(model: nn.Module, recipe: Recipe, split: DataSplit | None = None) -> dict[str, float]:
    """``pgd{steps}_accuracy`` of ``model`` on the recipe's fixed evaluation subset (1 thread)."""
    from dlcore.attacks import PGD, robust_accuracy
    from dlcore.train.runtime import torch_threads

    o = recipe.options
    split = split or load_recipe_data(recipe)
    n = int(o["eval_n"])
    attack = PGD(model, eps=o["eval_eps"], alpha=o["eval_alpha"], steps=o["eval_steps"], random_start=True,
                 seed=0, batch_size=500)
    with torch_threads(recipe.threads):
        acc = robust_accuracy(model, split.x_test[:n], split.y_test[:n], attack)
    return {f"pgd{o['eval_steps']}_accuracy": acc}


def _train(name: str, recipe: Recipe, progress: bool) -> TrainedModel:
    from dlcore.defenses.training import AdversarialTrainingConfig, pgd_batch_hook

    o = recipe.options
    hook = pgd_batch_hook(AdversarialTrainingConfig(eps=o["eps"], alpha=o["alpha"], steps=o["steps"],
                                                    random_start=o["random_start"], mix=o["mix"]))
    result = train_recipe(name, recipe, progress, batch_hook=hook)
    result.metrics = robust_metrics(result.model, recipe)
    return result


def _evaluate(model: nn.Module, recipe: Recipe) -> dict[str, float]:
    split = load_recipe_data(recipe)
    return {"test_accuracy": evaluate_accuracy(model, split.x_test, split.y_test),
            **robust_metrics(model, recipe, split)}


def robust_classifier() -> tuple[str, nn.Module, DataSplit]:
    """The adversarially trained twin of :func:`dlcore.zoo.image_classifier` ("cnn"), with its data:
    ``fmnist_cnn_adv`` when Fashion-MNIST is here, else ``digits_cnn_adv``."""
    from dlcore import zoo

    try:
        name, split = "fmnist_cnn_adv", zoo.load_data("fmnist_cnn_adv")
    except ZooDataUnavailable:
        name, split = "digits_cnn_adv", zoo.load_data("digits_cnn_adv")
    return name, zoo.get(name), split


def _options(eps: float, alpha: float, eval_alpha: float, eval_n: int) -> dict[str, Any]:
    return dict(eps=eps, alpha=alpha, steps=7, random_start=True, mix=1.0,
                eval_eps=eps, eval_alpha=eval_alpha, eval_steps=20, eval_n=eval_n)


register_kind("adversarial", RecipeKind(build=KINDS["supervised"].build, train=_train, evaluate=_evaluate))
register_recipe("fmnist_cnn_adv", Recipe(
    "small_cnn", "fashion_mnist", epochs=2, lr=2e-3,
    arch_kwargs=dict(channels=[16, 32], hidden=128, dropout=0.25, mean=FASHION_MEAN, std=FASHION_STD),
    description="Fashion-MNIST CNN (16, 32), PGD adversarial training at ε = 0.1 (Madry et al. 2018, scaled)",
    kind="adversarial", options=_options(0.1, 0.025, 0.01, 1000)))
register_recipe("digits_cnn_adv", Recipe(
    "small_cnn", "digits", epochs=60, lr=2e-3, batch_size=64, warmup_steps=20,
    arch_kwargs=dict(channels=[16, 32], hidden=64, dropout=0.25, mean=DIGITS_MEAN, std=DIGITS_STD),
    description="8x8 digits CNN, PGD adversarial training at ε = 0.2 (fallback twin of fmnist_cnn_adv)",
    kind="adversarial", options=_options(0.2, 0.07, 0.02, 360)))
