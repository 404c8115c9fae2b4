"""The seeds' sine predictors: the lab's runs equal the seeds' code step for step and reach its error."""

from __future__ import annotations

import threading

import pytest
import torch

from dlcore import zoo
from dlcore.sequence.data import SeedShuffleLoader, noisy_sines, sine_windows
from dlcore.sequence.names import SEED_FIGURES, SINE_PRESETS, SineConfig
from dlcore.sequence.predictors import race_sines, rolling_forecast, seed_reference, seed_test_error
from dlcore.zoo.recipes_sequence import SEQUENCE_RECIPES, sine_config
from tests.dlcore.sequence import seedcode
from tests.streams import last as _last

DL3, DL4 = list(SINE_PRESETS.values())[:2]


@pytest.mark.slow
def test_the_lstm_sine_race_is_the_seeds_loop_step_for_step():
    train, test, _ = seedcode.dl_3_2()
    race = _last(race_sines(DL3, ["lstm"]))
    assert race.status == "finished" and race.epoch == 50
    ours = [e.train_loss for e in race.runs["lstm"].history.epochs]
    assert ours == pytest.approx(train, abs=1e-6)
    row = race.rows()[0]
    assert row.seed_error == pytest.approx(test[-1], abs=1e-6)         # the seed's last 'Test Loss'
    assert SEED_FIGURES[("sine", "lstm")][0] == pytest.approx(test[-1], abs=1e-6)
    assert row.reached and row.reference == SEED_FIGURES[("sine", "lstm")][0]


@pytest.mark.slow
def test_the_gru_noisy_sines_run_is_the_seeds_loop():
    train, mse, mae = seedcode.dl_4_2()
    race = _last(race_sines(DL4, ["gru"]))
    ours = [e.train_loss for e in race.runs["gru"].history.epochs]
    assert ours == pytest.approx(train, abs=1e-6)
    row = race.rows()[0]
    assert row.test_mse == pytest.approx(mse, abs=1e-6) and row.test_mae == pytest.approx(mae, abs=1e-6)
    assert SEED_FIGURES[("noisy_sines", "gru")][0] == pytest.approx(mse, abs=1e-6)


def test_the_data_are_the_seeds():
    t = sine_windows()
    assert t.x_train.shape == (780, 20, 1) and t.x_test.shape == (180, 20, 1)
    torch.testing.assert_close(t.x_train[1, :, 0], t.x_train[0, 1:, 0].new_tensor(
        list(t.x_train[0, 1:, 0]) + [float(t.y_train[0])]))           # sliding windows, next value as target
    n = noisy_sines()
    assert n.x_train.shape == (240, 30, 1) and n.x_test.shape == (60, 30, 1)
    torch.testing.assert_close(n.y_test[:, 0], n.x_test[:, -1, 0])    # the notes' leak: target is the last input
    m = noisy_sines(target_in_input=False)
    assert m.x_train.shape == (240, 29, 1) and not m.corrections
    torch.testing.assert_close(m.y_test, n.y_test)


def test_three_cells_race_in_turns_and_turns_do_not_change_results():
    cfg = SineConfig(epochs=2)
    race = _last(race_sines(cfg))
    alone = _last(race_sines(cfg, ["gru"]))
    assert set(race.runs) == {"rnn", "lstm", "gru"}
    assert [e.train_loss for e in race.runs["gru"].history.epochs] == \
        [e.train_loss for e in alone.runs["gru"].history.epochs]
    rows = {r.cell: r for r in race.rows()}
    assert rows["lstm"].params == 4 * (64 * 1 + 64 * 64 + 2 * 64) + 65
    assert set(race.baselines) == {"repeat the last input value", "noise floor σ²"}
    assert race.baselines["noise floor σ²"] == pytest.approx(0.01)


def test_a_stop_ends_the_race_with_its_models():
    stop = threading.Event()
    it = race_sines(SineConfig(epochs=5), ["rnn"], stop_event=stop)
    next(it)
    stop.set()
    race = _last(it)
    assert race.status == "stopped" and "stopped during epoch" in race.message and race.runs["rnn"].model


def test_bad_configs_are_named():
    with pytest.raises(ValueError, match="window 1 must be between 2 and 100"):
        _last(race_sines(SineConfig(window=1)))
    with pytest.raises(ValueError, match="cells"):
        _last(race_sines(SineConfig(), ["transformer"]))
    with pytest.raises(ValueError, match="batch size 1000 is larger than the 780 training windows"):
        _last(race_sines(SineConfig(batch_size=1000, epochs=1)))
    with pytest.raises(ValueError, match="learning rate"):
        SineConfig(lr=float("nan")).validate()


def test_the_seed_loader_draws_the_dataloader_stream():
    """Same global state, same permutation as DataLoader(shuffle=True, drop_last=True)."""
    from torch.utils.data import DataLoader, TensorDataset

    x, y = torch.arange(70.0).view(70, 1, 1), torch.arange(70.0).view(70, 1)
    torch.manual_seed(7)
    ref = [b[1][:, 0].tolist() for b in DataLoader(TensorDataset(x, y), 32, shuffle=True, drop_last=True)]
    torch.manual_seed(7)
    ours = [b[1][:, 0].tolist() for b in SeedShuffleLoader(x, y, 32, eval_draws=0)]
    assert ours == ref and len(ours) == 2


@pytest.mark.parametrize("name", list(SEQUENCE_RECIPES))
def test_zoo_sine_predictors_remeasure_and_reach_the_seeds(name):
    from dlcore.sequence.data import sine_task

    recipe = zoo.RECIPES[name]
    cfg = sine_config(recipe)
    model = zoo.get(name)
    err = seed_test_error(model, sine_task(cfg), cfg)
    entry = zoo.info(name)
    assert err == pytest.approx(entry["metrics"]["seed_test_error"], abs=1e-6)
    ref = seed_reference(cfg)
    assert ref is not None
    assert err <= ref[0] * 1.3, (name, err, ref)                   # every cell within 30 % of the seed's own cell


def test_rolling_forecast_feeds_its_guesses_back():
    cfg = SineConfig()
    model = zoo.get("sine_lstm")
    task = sine_windows()
    roll = rolling_forecast(model, task, cfg.window)
    assert roll.shape == (180,)
    with torch.no_grad():
        first = model(torch.tensor(task.series[800:820], dtype=torch.float32).view(1, 20, 1))
    assert float(roll[0]) == pytest.approx(float(first), abs=1e-6)
    with pytest.raises(ValueError, match="one long series"):
        rolling_forecast(model, noisy_sines(), 30)
