"""The torch-free registries and spec, the learned/failed verdict, the views and the EMA."""

import dataclasses
import math
import subprocess
import sys
from typing import get_args

import pytest
import torch

from dlcore.train import names
from dlcore.train.history import EpochLog, History
from dlcore.train.spec import (PRESETS, SPEC_FIELDS, PlaygroundSpec, field_choices, field_ui, spec_from_values,
                               spec_values)
from dlcore.train.verdict import constant_baseline, judge
from dlcore.train.views import ema, run_curves
from tests.conftest import ROOT


def test_registries_are_torch_free_and_match_the_torch_modules():
    code = "import sys, dlcore.train.spec, dlcore.train.names; print('torch' in sys.modules, 'sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["False", "False"], out.stderr[-1000:]
    from dlcore.models import ACTIVATIONS
    from dlcore.models.layers import Activation
    from dlcore.train.optim import OPTIMIZERS
    from dlcore.train.schedules import SCHEDULES
    assert tuple(OPTIMIZERS) == names.OPTIMIZER_NAMES
    assert all(OPTIMIZERS[n].rule == names.OPTIMIZER_RULES[n][0] for n in OPTIMIZERS)
    assert tuple(SCHEDULES) == names.SCHEDULE_NAMES
    assert names.ACTIVATION_NAMES == tuple(ACTIVATIONS) == get_args(Activation)


def test_choice_fields_read_their_literal_and_registry_labels():
    assert [v for _, v in field_choices("dataset")] == list(names.PLAYGROUND_DATA)
    assert field_choices("architecture")[0] == (names.ARCHITECTURES["mlp"], "mlp")
    assert [v for _, v in field_choices("optimizer")] == list(names.OPTIMIZER_NAMES)
    assert [v for _, v in field_choices("activation")] == list(names.ACTIVATION_NAMES)
    kinds = {f.name: f.metadata["ui"].kind for f in SPEC_FIELDS}
    assert {n for n, k in kinds.items() if k == "choice"} == {"dataset", "architecture", "optimizer", "activation",
                                                              "schedule"}


def test_spec_round_trips_and_every_preset_is_valid():
    for spec in [PlaygroundSpec(), *PRESETS.values()]:
        assert spec_from_values(spec_values(spec)) == spec
        assert spec_from_values({f.name: getattr(spec, f.name) for f in SPEC_FIELDS}) == spec


@pytest.mark.parametrize("name,value,fragment", [
    ("epochs", 2.5, "Epochs must be a whole number, got 2.5"),
    ("batch_size", "2.5", "Batch size must be a whole number, got 2.5"),
    ("seed", True, "Seed must be a number"),
    ("lr", float("nan"), "Learning rate η must be finite"),
    ("lr", "1e-3x", "Learning rate η could not be read"),
    ("dropout", 0.95, "Dropout p = 0.95 is above the maximum 0.9"),
    ("dataset", {"a": 1}, "Data a dict of 1 item(s) is not one of"),
    ("hidden", "4" * 100_000, "Hidden layer widths has 100,000 characters"),
    ("hidden", "9999", "Hidden layer widths '9999': width 9999 must be in 1..4096"),
    ("batchnorm", "true", "BatchNorm must be true or false"),
])
def test_bad_values_name_the_field(name, value, fragment):
    with pytest.raises(ValueError, match=fragment.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        spec_from_values({name: value})
    assert field_ui(name).label.split()[0].lower() in fragment.lower()


def test_spec_from_values_refuses_unknown_and_missing_settings():
    with pytest.raises(ValueError, match="unknown setting"):
        spec_from_values({"learning_rate": 0.1})
    with pytest.raises(ValueError, match="expected 16 settings, got 2"):
        spec_from_values([1, 2])


def _history(val_losses, status="finished"):
    h = History(layer_names=["1"], total_steps=len(val_losses))
    for i, v in enumerate(val_losses, 1):
        h.epochs.append(EpochLog(i, v, 0.5, v, 0.5, 0.1, torch.zeros(1), 0.0))
    h.step_loss = list(val_losses)
    h.status = status
    return h


def test_constant_baseline_is_ln_c_for_balanced_classes_and_the_variance_for_regression():
    y = torch.arange(10).repeat(20)
    assert constant_baseline("multiclass", y, y) == pytest.approx(math.log(10))
    yb = torch.tensor([[1.0], [0.0], [1.0], [1.0]])
    p = 0.75
    assert constant_baseline("binary", yb) == pytest.approx(-(p * math.log(p) + (1 - p) * math.log(1 - p)))
    yr = torch.tensor([[1.0], [3.0]])
    assert constant_baseline("regression", yr, torch.tensor([[0.0], [4.0]])) == pytest.approx(4.0)


@pytest.mark.parametrize("losses,status,kind", [
    ([0.9, 0.5, 0.2], "finished", "learned"),
    ([0.7, 0.69, 0.68], "finished", "failed"),        # 0.68 ≥ 0.95 · ln 2
    ([0.7, 5.0, 9.0], "finished", "exploded"),
    ([0.7], "diverged", "diverged"),
    ([0.5], "stopped", "stopped"),
    ([], "stopped", "stopped"),
    ([0.5], "running", "running"),
])
def test_judge(losses, status, kind):
    v = judge(_history(losses, status), math.log(2))
    assert v.kind == kind and v.learned == (kind == "learned")
    if losses and kind != "diverged":
        assert f"{math.log(2):.4g}" in v.message


def test_sgd_with_a_huge_step_is_not_called_a_success():
    from dlcore.train.playground import build_playground

    pg = build_playground(PRESETS["Too large a step: SGD with η = 10 on moons"])
    pg.trainer.fit()
    assert pg.trainer.history.status == "finished"  # the Trainer ran to the end...
    assert pg.verdict().kind in ("failed", "exploded")  # ...but the verdict says it did not learn
    good = build_playground(dataclasses.replace(PlaygroundSpec(), epochs=10))
    good.trainer.fit()
    assert good.verdict().kind == "learned"


def test_ema_is_bias_corrected_and_skips_nan():
    assert ema([2.0, 2.0, 2.0], 0.9) == pytest.approx([2.0, 2.0, 2.0])
    out = ema([1.0, float("nan"), 3.0], 0.5)
    assert out[0] == 1.0 and out[1] == 1.0 and out[2] == pytest.approx((0.25 * 1 + 0.5 * 3) / 0.75)
    with pytest.raises(ValueError):
        ema([1.0], 1.0)


def test_run_curves_put_steps_and_epochs_on_one_axis():
    h = _history([0.5, 0.4])
    h.step_loss = [1.0, 0.8, 0.6, 0.4]
    c = run_curves("#1", h, steps_per_epoch=2, total_epochs=5)
    assert c.step_x == [0.5, 1.0, 1.5, 2.0] and c.epochs == [1, 2] and len(c.step_loss_ema) == 4
    assert c.total_epochs == 5 and c.val_loss == [0.5, 0.4]
