"""The seed notes' worked numbers (§1.3, §3.1) and the bad-input messages."""

from __future__ import annotations

import pytest
import torch

from dlcore.calculators.losses import calculate, parse_options

X = "[[0.5, 0.2], [0.7, 0.9]]"
Y = "[[0.6, 0.4], [0.3, 0.5]]"
CE_X = "[[2.0, 1.0, 0.5, -1.0], [1.0, 2.0, -0.5, 0.5], [-0.5, 1.0, 1.5, 2.0]]"
BIN_X = "[[2.0, 1.0], [1.0, 2.0], [-0.5, 1.0]]"
BIN_Y = "[[1, 0], [0, 1], [0, 1]]"
ONE_HOT = "[[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1]]"
BIG = "[" + ",".join(["1"] * 5000) + "]"


def run(loss, x, y, **opts):
    return calculate(loss, x, y, parse_options(loss, **opts))


@pytest.mark.parametrize("loss,x,y,opts,expected", [
    ("MSELoss", X, Y, {}, 0.0925),
    ("MSELoss", X, Y, {"reduction": "sum"}, 0.37),
    ("MSELoss", X, Y, {"reduction": "none"}, [[0.01, 0.04], [0.16, 0.16]]),
    ("L1Loss", X, Y, {}, 0.275),
    ("L1Loss", X, Y, {"reduction": "sum"}, 1.1),
    ("HuberLoss", X, Y, {}, 0.04625),
    ("HuberLoss", X, Y, {"delta": 0.2}, 0.03625),
    ("CrossEntropyLoss", CE_X, "[0, 1, 3]", {}, 0.5769),
    ("CrossEntropyLoss", CE_X, "[0, 1, 3]", {"reduction": "none"}, [0.4952, 0.5147, 0.7210]),
    ("CrossEntropyLoss", CE_X, ONE_HOT, {}, 0.5769),
    ("BCEWithLogitsLoss", BIN_X, BIN_Y, {}, 0.6113),
    ("BCEWithLogitsLoss", BIN_X, BIN_Y, {"reduction": "none"}, [[0.1269, 1.3133], [1.3133, 0.1269], [0.4741, 0.3133]]),
    ("BCEWithLogitsLoss", CE_X, ONE_HOT, {"reduction": "none"},
     [[0.1269, 1.3133, 0.9741, 0.3133], [1.3133, 0.1269, 0.4741, 0.9741], [0.4741, 1.3133, 1.7014, 0.1269]]),
    ("BCELoss", "[[0.8808, 0.7311], [0.7311, 0.8808], [0.3755, 0.7311]]", BIN_Y, {}, 0.6108),
    ("CrossEntropyLoss", "[0.2, 0.1, -0.1]", "0", {}, 0.9729),
])
def test_seed_numbers(loss, x, y, opts, expected):
    res = run(loss, x, y, **opts)
    torch.testing.assert_close(res.value, torch.tensor(expected, dtype=torch.float64), atol=1e-4, rtol=0)


def test_seed_softmax_rows_and_multilabel_mean():
    res = run("CrossEntropyLoss", CE_X, "[0, 1, 3]")
    torch.testing.assert_close(res.intermediates["softmax"], torch.tensor(
        [[0.6095, 0.2242, 0.1360, 0.0303], [0.2199, 0.5977, 0.0491, 0.1334], [0.0399, 0.1789, 0.2949, 0.4863]],
        dtype=torch.float64), atol=1e-4, rtol=0)
    ml = run("BCEWithLogitsLoss", CE_X, ONE_HOT)
    assert ml.value.item() == pytest.approx(ml.per_element.sum().item() / 12)


def test_steps_substitute_the_users_numbers():
    res = run("MSELoss", X, Y)
    text = " ".join(s.detail for s in res.steps)
    assert "0.5 - 0.6" in text and "(-0.1)^2" in text and "0.0925" in text
    huber = run("HuberLoss", X, Y, delta=0.2)
    assert r"0.2\,(0.4 - \tfrac12 \cdot 0.2)" in " ".join(s.detail for s in huber.steps)
    ce = run("CrossEntropyLoss", CE_X, "[0, 1, 3]")
    assert r"-\ln 0.6095 = 0.4952" in " ".join(s.detail for s in ce.steps)


@pytest.mark.parametrize("loss,x,y,opts,fragment", [
    ("MSELoss", "[[0.5, 0.2], [0.7", Y, {}, "could not be read"),
    ("MSELoss", "[[0.5, 0.2], [0.7]]", Y, {}, "ragged"),
    ("MSELoss", "[1, 2, 3]", "[1, 2]", {}, "same shape"),
    ("MSELoss", "[1, NaN]", "[1, 2]", {}, "NaN or infinity"),
    ("MSELoss", "[1, Infinity]", "[1, 2]", {}, "NaN or infinity"),
    pytest.param("MSELoss", BIG, BIG, {}, "has 5000 elements; the limit is 4096", id="oversize"),
    ("MSELoss", "abc", "[1]", {}, "could not be read"),
    ("CrossEntropyLoss", CE_X, "[0, 1, 4]", {}, "class index 4 in target[2] is out of range for C = 4"),
    ("CrossEntropyLoss", CE_X, "[0, 1.5, 3]", {}, "not a whole number"),
    ("CrossEntropyLoss", CE_X, "[0, 1]", {}, "must be class indices of shape (3,)"),
    ("CrossEntropyLoss", CE_X, "[0, 1, 3]", {"weight": "[1, 2]"}, "there are C = 4 classes"),
    ("CrossEntropyLoss", CE_X, "[0, 1, 3]", {"label_smoothing": 1.5}, "above the maximum"),
    ("NLLLoss", CE_X, ONE_HOT, {}, "needs class indices"),
    ("BCELoss", BIN_X, BIN_Y, {}, "outside [0, 1]"),
    ("BCEWithLogitsLoss", BIN_X, "[[2, 0], [0, 1], [0, 1]]", {}, "target 2 at index [0, 0] is outside [0, 1]"),
    ("BCEWithLogitsLoss", BIN_X, BIN_Y, {"pos_weight": "[1, 2, 3]"}, "pos_weight has 3 entries"),
    ("KLDivLoss", "[-1.0, -0.5]", "[-0.2, 1.2]", {}, "is negative"),
    ("HuberLoss", X, Y, {"delta": 0}, "below the minimum"),
    ("MSELoss", X, Y, {"reduction": "batchmean"}, "not allowed for MSELoss"),
])
def test_bad_input_names_value_and_rule(loss, x, y, opts, fragment):
    with pytest.raises(ValueError) as err:
        run(loss, x, y, **opts)
    assert fragment in str(err.value)


def test_ignore_index_and_all_ignored():
    res = run("CrossEntropyLoss", CE_X, "[0, -100, 3]")
    assert res.per_element[1].item() == 0.0
    assert res.value.item() == pytest.approx((res.per_element[0] + res.per_element[2]).item() / 2)
    assert any("ignore_index" in n for n in res.notes)
    res = run("CrossEntropyLoss", CE_X, "[1, 1, 1]", ignore_index=1)
    assert torch.isnan(res.value) and any("nan" in n for n in res.notes)
