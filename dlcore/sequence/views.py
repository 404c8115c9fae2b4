"""What the sequence tab shows, from raw widget or API values: settings checked by the name on the
page, and small view objects the UI renders (no gradio here).

Every ``*_settings`` function accepts anything (an API caller may send any type) and raises
``ValueError`` naming the field and its rule; the configs then validate their own ranges.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from dlcore.sequence.names import (ATTENTIONS, CELLS, GRU_RESETS, MAX_EPOCHS, MAX_HIDDEN, MAX_SEQ_LEN, MAX_WINDOW,
                                   MODEL_SOURCES, NORMS, PLAYS, SEQ2SEQ_TASKS, SINE_DATA, CharConfig, ClipConfig,
                                   Seq2SeqConfig, SineConfig, LABELS)
from dlcore.textinput import parse_bool, parse_choice, parse_choices, parse_int, parse_number, parse_text

__all__ = ["LABELS", "sine_settings", "SineView", "zoo_sines", "race_view", "inside_settings", "jacobian_view",
           "JacobianView", "clip_settings", "char_settings", "seq2seq_settings"]

L = LABELS  # the page's label of every field (messages name fields by these)


def sine_settings(data: Any = "sine", cells: Any = ("rnn", "lstm", "gru"), epochs: Any = 50, hidden: Any = 64,
                  lr: Any = 1e-3, batch: Any = 32, window: Any = 20, leak: Any = True,
                  seed: Any = 42) -> tuple[SineConfig, list[str]]:
    """A sine race's :class:`SineConfig` and the cells to race."""
    cfg = SineConfig(data=parse_choice(data, L["data"], SINE_DATA),
                     window=parse_int(window, L["window"], lo=2, hi=MAX_WINDOW),
                     hidden_size=parse_int(hidden, L["hidden"], lo=1, hi=MAX_HIDDEN), num_layers=1,
                     lr=parse_number(lr, L["lr"], lo=1e-6, hi=1.0),
                     epochs=parse_int(epochs, L["epochs"], lo=1, hi=MAX_EPOCHS),
                     batch_size=parse_int(batch, L["batch"], lo=0, hi=1024), noise=0.1,
                     target_in_input=parse_bool(leak, L["leak"]), seed=parse_int(seed, L["seed"], lo=0, hi=2**31 - 1))
    return cfg.validate(), parse_choices(cells, L["cells"], CELLS, noun="cell")


@dataclass
class SineView:
    """A sine comparison ready to draw: the test split, each cell's prediction, the numbers."""

    config: SineConfig
    t: np.ndarray
    truth: torch.Tensor
    predictions: dict[str, torch.Tensor]
    rows: list[Any]  # dlcore.sequence.predictors.SineRow, one per cell
    reference: tuple[float, str] | None
    baselines: dict[str, float]
    source: str
    corrections: tuple[str, ...] = ()
    curves: dict[str, tuple[list[float], list[float]]] = field(default_factory=dict)
    rolling: dict[str, torch.Tensor] = field(default_factory=dict)


def _baselines(task: Any, cfg: SineConfig) -> dict[str, float]:
    y = task.y_test.reshape(-1)
    return {"repeat the last input value": float(((task.x_test[:, -1, 0] - y) ** 2).mean()),
            "noise floor σ²": cfg.noise ** 2}


@torch.no_grad()
def zoo_sines(data: Any = "sine") -> SineView:
    """The zoo's seed-trained predictors on the seed's test split (no training): ``sine_rnn/lstm/gru``
    for §dl_3's data, ``noisy_sines_gru`` for §dl_4's."""
    from dlcore import zoo
    from dlcore.sequence.data import sine_task
    from dlcore.sequence.predictors import rolling_forecast, seed_reference, sine_row
    from dlcore.train import predict
    from dlcore.zoo.recipes_sequence import SEQUENCE_RECIPES, sine_config

    data = parse_choice(data, L["data"], SINE_DATA)
    names = {"sine": {c: f"sine_{c}" for c in CELLS}, "noisy_sines": {"gru": "noisy_sines_gru"}}[data]
    cfg = sine_config(SEQUENCE_RECIPES[next(iter(names.values()))])
    task = sine_task(cfg)
    ref = seed_reference(cfg)
    preds, rows, rolling = {}, [], {}
    for cell, name in names.items():
        model = zoo.get(name)
        preds[cell] = predict(model, task.x_test).reshape(-1)
        rows.append(sine_row(cell, model, preds[cell], task, cfg, ref, cfg.epochs))
        if task.series is not None:
            rolling[cell] = rolling_forecast(model, task, cfg.window)
    return SineView(cfg, task.t_test, task.y_test.reshape(-1), preds, rows, ref, _baselines(task, cfg), task.source,
                    task.corrections, {}, rolling)


@torch.no_grad()
def race_view(race: Any, with_rolling: bool = False) -> SineView:
    """A :class:`~dlcore.sequence.predictors.SineRace` (running or done) as a :class:`SineView`."""
    from dlcore.sequence.predictors import rolling_forecast

    cfg, task = race.config, race.task
    preds = race.predictions()
    curves, rolling = {}, {}
    for cell, run in race.runs.items():
        h = run.history
        curves[cell] = ([e.train_loss for e in h.epochs], [e.val_loss for e in h.epochs])
        if with_rolling and task.series is not None:
            rolling[cell] = rolling_forecast(run.model, task, cfg.window)
    return SineView(cfg, task.t_test, task.y_test.reshape(-1), preds, race.rows(preds), race.reference, race.baselines,
                    task.source, task.corrections, curves, rolling)


def inside_settings(cell: Any = "lstm", source: Any = "trained", index: Any = 1, step: Any = 20, unit: Any = 1,
                    reset: Any = "after") -> Any:
    """:func:`~dlcore.sequence.inside.inside_view` of test window ``index`` (1-based), step and unit
    (1-based, as on the page) of the zoo's (or an untrained) sine predictor."""
    from dlcore.sequence.data import sine_windows
    from dlcore.sequence.inside import inside_view, sine_model

    cell = parse_choice(cell, L["cell"], CELLS)
    source = parse_choice(source, L["source"], MODEL_SOURCES)
    reset = parse_choice(reset, L["reset"], GRU_RESETS)
    task = sine_windows()
    i = parse_int(index, L["index"], lo=1, hi=len(task.x_test))
    T = task.x_test.shape[1]
    t = parse_int(step, L["step"], lo=1, hi=T)
    j = parse_int(unit, L["unit"], lo=1, hi=64)
    return inside_view(sine_model(cell, source), task.x_test[i - 1], t=t - 1, unit=j - 1, reset=reset)


@dataclass
class JacobianView:
    """‖∂h_T/∂h_t‖ of every cell over one sequence of the seed's sine series."""

    source: str
    x: torch.Tensor
    results: dict[str, Any]


def jacobian_view(source: Any = "trained", length: Any = 50, norm: Any = "spectral",
                  cells: Any = ("rnn", "lstm", "gru")) -> JacobianView:
    """Hand-derived and autograd norms for each cell's layer, on the first ``length`` points of the
    seed's noisy sine (the zoo's trained weights, or torch's default initialisation)."""
    from dlcore.sequence.cells import CellWeights
    from dlcore.sequence.data import sine_windows
    from dlcore.sequence.gradients import hidden_jacobians
    from dlcore.sequence.inside import sine_model

    source = parse_choice(source, L["source"], MODEL_SOURCES)
    T = parse_int(length, L["length"], lo=2, hi=MAX_SEQ_LEN)
    norm = parse_choice(norm, L["norm"], NORMS)
    chosen = parse_choices(cells, L["cells"], CELLS, noun="cell")
    x = torch.tensor(sine_windows().series[:T], dtype=torch.float64).view(T, 1)
    results = {c: hidden_jacobians(CellWeights.from_module(sine_model(c, source).rnn), x, norm=norm)
               for c in chosen}
    return JacobianView(source, x[:, 0], results)


def clip_settings(cell: Any = "rnn", scale: Any = 2.0, tau: Any = 1.0, lr: Any = 0.05, epochs: Any = 3) -> ClipConfig:
    """A :class:`ClipConfig` (SGD, windows of 50, hidden 64) from the page's fields."""
    return ClipConfig(cell=parse_choice(cell, L["cell"], CELLS),
                      recurrent_scale=parse_number(scale, L["scale"], lo=0.0, hi=10.0),
                      threshold=parse_number(tau, L["tau"], lo=1e-6, hi=1e6),
                      lr=parse_number(lr, L["sgd_lr"], lo=1e-6, hi=10.0),
                      epochs=parse_int(epochs, L["epochs"], lo=1, hi=20)).validate()


def char_settings(play: Any = "hamlet", cell: Any = "lstm", steps: Any = 300, temperature: Any = 0.8,
                  hidden: Any = 128, prime: Any = "HAMLET.", seed: Any = 0) -> CharConfig:
    """A :class:`CharConfig` from the page's fields (samples every ``steps // 6`` steps)."""
    n = parse_int(steps, L["steps"], lo=1, hi=5_000)
    return CharConfig(play=parse_choice(play, L["play"], PLAYS), cell=parse_choice(cell, L["cell"], CELLS),
                      steps=n, temperature=parse_number(temperature, L["temperature"], lo=0.01, hi=10.0),
                      hidden_size=parse_int(hidden, L["hidden"], lo=1, hi=MAX_HIDDEN),
                      prime=parse_text(prime, L["prime"], max_chars=200), seed=parse_int(seed, L["seed"], lo=0,
                                                                                         hi=2**31 - 1),
                      sample_every=max(1, n // 6)).validate()


def seq2seq_settings(task: Any = "reverse", attentions: Any = ("none", "dot"), teacher: Any = 1.0, epochs: Any = 4,
                     seed: Any = 0) -> list[Seq2SeqConfig]:
    """One :class:`Seq2SeqConfig` per ticked attention, otherwise the same run."""
    task = parse_choice(task, L["task"], SEQ2SEQ_TASKS)
    chosen = parse_choices(attentions, L["attentions"], ATTENTIONS, noun="variant")
    tf = parse_number(teacher, L["teacher"], lo=0.0, hi=1.0)
    e = parse_int(epochs, L["epochs"], lo=1, hi=30)
    s = parse_int(seed, L["seed"], lo=0, hi=2**31 - 1)
    return [Seq2SeqConfig(task=task, attention=a, teacher_forcing=tf, epochs=e, seed=s).validate()  # type: ignore[arg-type]
            for a in chosen]
