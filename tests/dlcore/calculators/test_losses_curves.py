"""Chance level, CE curves, regression curves and the BCE stability demo."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from dlcore.calculators.losses_base import LossOptions
from dlcore.calculators.losses_curves import (
    bce_stability, ce_of_margin, chance_level, ln_c_table, regression_curves, true_class_stats,
)

CE_X = "[[2.0, 1.0, 0.5, -1.0], [1.0, 2.0, -0.5, 0.5], [-0.5, 1.0, 1.5, 2.0]]"


def test_ln_c_table_matches_the_notes():
    table = dict(ln_c_table())
    assert len(table) == 999 and min(table) == 2 and max(table) == 1000
    notes = [0.6931, 1.0986, 1.3863, 1.6094, 1.7918, 1.9459, 2.0794, 2.1972, 2.3026]
    assert [round(table[c], 4) for c in range(2, 11)] == notes


@pytest.mark.parametrize("target,opts", [("[0, 1, 3]", LossOptions()),
                                         ("[0, 1, 3]", LossOptions(weight=torch.tensor([1., 2, 3, 4]))),
                                         ("[0, 1, 3]", LossOptions(label_smoothing=0.2))])
def test_uniform_guess_is_ln_c(target, opts):
    r = chance_level("CrossEntropyLoss", CE_X, target, opts)
    assert r.chance == pytest.approx(math.log(4)) and r.num_classes == 4
    assert r.loss == pytest.approx(0.5769533, abs=1e-4) if opts.label_smoothing == 0 and opts.weight is None else True
    assert "below the guessing baseline" in r.verdict


def test_true_class_stats_reproduce_ce():
    x = torch.randn(6, 5, dtype=torch.float64)
    y = torch.randint(0, 5, (6,))
    p, m = true_class_stats(x, y)
    ref = F.cross_entropy(x, y, reduction="none")
    torch.testing.assert_close(-p.log(), ref)
    torch.testing.assert_close(ce_of_margin(m), ref)


def test_regression_curves_against_formulas():
    e = torch.linspace(-3, 3, 61, dtype=torch.float64)
    cur = regression_curves(e, delta=0.5, beta=0.5)
    loss, grad = cur["MSELoss"]
    torch.testing.assert_close(loss, e ** 2)
    torch.testing.assert_close(grad, 2 * e)
    hl, hg = cur["HuberLoss (δ=0.5)"]
    assert hg.abs().max().item() == pytest.approx(0.5)  # bounded gradient = robustness
    sl, sg = cur["SmoothL1Loss (β=0.5)"]
    torch.testing.assert_close(sl, hl / 0.5)


def test_bce_stability_shows_saturation():
    r = bce_stability(torch.tensor([-100.0, 0.0, 20.0, 100.0]), target=0.0)
    assert r["bce_on_sigmoid"][-1].item() == 100.0  # clamped, true value 100 only by coincidence
    assert r["bce_on_sigmoid"][2].item() == 100.0 and r["exact"][2].item() == pytest.approx(20.0)
    torch.testing.assert_close(r["bce_with_logits"], r["exact"], atol=1e-4, rtol=1e-6)
