"""Zoo recipes of the sequence family: the seeds' sine predictors, trained exactly as the seeds do.

* ``sine_lstm``: seed 003 §dl_3_2 verbatim (sine + N(0, 0.1), windows of 20, ``LSTM(1, 64)`` +
  ``Linear(64, 1)``, Adam 1e-3, batch 32 with ``shuffle=True, drop_last=True``, 50 epochs,
  ``torch.manual_seed(42)``): its losses equal the seed's loop step for step (tested).
* ``sine_rnn`` / ``sine_gru``: the same data, settings and seed with the other two cells (the tab's
  inside view and gradient panels show trained weights of every cell).
* ``noisy_sines_gru``: seed 003 §dl_4_2 verbatim (300 noisy sines of 30 points, ``GRU(1, 32)``, Adam
  5e-3, 100 full-batch epochs).

Kind ``"sine_predictor"``: built by :class:`dlcore.sequence.models.SequenceRegressor`, trained by
:func:`dlcore.sequence.predictors.race_sines` (the one Trainer), measured by
:func:`~dlcore.sequence.predictors.seed_test_error` (the error as the seed prints it) and the plain
test MSE; the tests re-measure both from the stored weights.
"""

from __future__ import annotations

import time
from typing import Any

from torch import nn

from dlcore.zoo.recipes import Recipe, RecipeKind, TrainedModel, register_kind, register_recipe

__all__ = ["SEQUENCE_RECIPES", "sine_config"]


def _sine(cell: str, data: str = "sine") -> Recipe:
    seed_dl3 = data == "sine"
    hidden = 64 if seed_dl3 else 32
    return Recipe(
        "sequence_regressor", f"seed_{data}", epochs=50 if seed_dl3 else 100, lr=1e-3 if seed_dl3 else 5e-3,  # type: ignore[arg-type]
        batch_size=32 if seed_dl3 else 0, optimizer="Adam", schedule="constant", warmup_steps=0, seed=42,
        arch_kwargs=dict(cell=cell, hidden_size=hidden, num_layers=1), kind="sine_predictor",
        options=dict(data=data, window=20 if seed_dl3 else 30, noise=0.1, target_in_input=True),
        description=(f"{cell.upper()}({1}, {hidden}) + Linear, seed 003 "
                     + ("§dl_3_2 sine predictor (window 20, 50 epochs)" if seed_dl3 else
                        "§dl_4_2 noisy-sine predictor (30 points, 100 full-batch epochs)")))


SEQUENCE_RECIPES: dict[str, Recipe] = {
    "sine_lstm": _sine("lstm"),
    "sine_rnn": _sine("rnn"),
    "sine_gru": _sine("gru"),
    "noisy_sines_gru": _sine("gru", "noisy_sines"),
}


def sine_config(recipe: Recipe) -> Any:
    """The :class:`dlcore.sequence.names.SineConfig` a recipe trains with."""
    from dlcore.sequence.names import SineConfig

    o, a = recipe.options, recipe.arch_kwargs
    return SineConfig(data=o["data"], window=o["window"], hidden_size=a["hidden_size"], num_layers=a["num_layers"],
                      lr=recipe.lr, epochs=recipe.epochs, batch_size=recipe.batch_size, noise=o["noise"],
                      target_in_input=o["target_in_input"], seed=recipe.seed).validate()


def _build(recipe: Recipe, shape: tuple[int, ...]) -> nn.Module:
    from dlcore.sequence.models import SequenceRegressor

    a = recipe.arch_kwargs
    return SequenceRegressor(a["cell"], 1, a["hidden_size"], a["num_layers"])


def _evaluate(model: nn.Module, recipe: Recipe) -> dict[str, float]:
    from dlcore.sequence.data import sine_task
    from dlcore.sequence.predictors import seed_test_error
    from dlcore.train import predict

    cfg = sine_config(recipe)
    task = sine_task(cfg)
    p = predict(model, task.x_test).reshape(-1)
    return {"seed_test_error": seed_test_error(model, task, cfg),
            "test_mse": float(((p - task.y_test.reshape(-1)) ** 2).mean())}


def _train(name: str, recipe: Recipe, progress: bool) -> TrainedModel:
    from tqdm.auto import tqdm

    from dlcore.sequence.predictors import race_sines
    from dlcore.train.runtime import torch_threads

    cfg = sine_config(recipe)
    cell = recipe.arch_kwargs["cell"]
    bar = tqdm(total=cfg.epochs, desc=f"building {name}", unit="epoch", disable=not progress, mininterval=1.0)
    t0 = time.perf_counter()
    with torch_threads(recipe.threads):
        try:
            for race in race_sines(cfg, [cell]):
                bar.n = race.runs[cell].history.epochs.__len__()
                bar.refresh()
        finally:
            bar.close()
        if race.status != "finished":
            raise RuntimeError(f"building {name} did not finish: {race.message}")
        model = race.runs[cell].model.cpu().eval()
        metrics = _evaluate(model, recipe)
    return TrainedModel(model, None, len(race.task.y_test), race.task.source, time.perf_counter() - t0,
                        recipe.threads, metrics)


register_kind("sine_predictor", RecipeKind(build=_build, train=_train, evaluate=_evaluate))
for _name, _recipe in SEQUENCE_RECIPES.items():
    register_recipe(_name, _recipe)
