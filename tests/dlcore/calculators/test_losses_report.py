"""The loss tab's panels as dlcore functions: torch check, chance table, ln C selection, registries."""

import math
import subprocess
import sys


import pytest
import torch

from dlcore.calculators.losses import LOSSES, parse_options
from dlcore.calculators.losses_base import LossOptions
from dlcore.calculators.losses_examples import CE_X, CE_Y, SEED_EXAMPLES
from dlcore.calculators.losses_registry import (ALL_REDUCTIONS, DTYPE_NAMES, LOSS_INFO, LOSS_NAMES, PITFALLS,
                                                reductions_for)
from dlcore.calculators.losses_report import (LN_C_EXAMPLES, MATCH_TOL, MAX_ROWS, bce_stability_rows,
                                              chance_report, check_against_torch, curve_summary, ln_c_rows,
                                              loss_report, parse_class_counts, value_text)
from tests.conftest import ROOT


def test_registries_are_torch_free_and_match_the_torch_side():
    code = ("import sys, dlcore.calculators.losses_registry, dlcore.calculators.losses_examples; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "False", out.stderr[-1000:]
    from dlcore.calculators.pitfalls import DTYPES
    assert tuple(LOSSES) == LOSS_NAMES == tuple(LOSS_INFO)
    assert all(LOSSES[n].options == LOSS_INFO[n].options for n in LOSSES)
    assert tuple(DTYPES) == DTYPE_NAMES and len(PITFALLS) == 17
    assert reductions_for("KLDivLoss") == ALL_REDUCTIONS and "batchmean" not in reductions_for("MSELoss")
    assert all(e.loss in LOSS_NAMES and e.reduction in reductions_for(e.loss) for e in SEED_EXAMPLES)


@pytest.mark.parametrize("ex", SEED_EXAMPLES, ids=[e.label for e in SEED_EXAMPLES])
def test_every_seed_example_matches_torch_and_holds_its_fact(ex):
    a = ex.args()
    o = parse_options(a[0], reduction=a[3], delta=a[4], beta=a[5], weight=a[6], ignore_index=a[7],
                      label_smoothing=a[8], pos_weight=a[9], log_target=a[10])
    rep = loss_report(a[0], a[1], a[2], o)
    assert rep.check.matches and rep.check.max_diff <= MATCH_TOL
    shown = value_text(rep.result.value)
    if ex.fact != "matches":
        assert ex.fact in shown or ex.fact in str(rep.result.per_element.tolist()) or \
            ex.fact in value_text(rep.result.per_element), (ex.fact, shown)


def test_the_check_fails_when_ours_is_off():
    rep = loss_report("MSELoss", "[1.0, 2.0]", "[0.0, 0.0]")
    bumped = type(rep.result)(rep.result.name, rep.result.value + 1e-3, rep.result.per_element, rep.result.steps,
                              rep.result.options)
    chk = check_against_torch(bumped, torch.tensor([1.0, 2.0], dtype=torch.float64), torch.zeros(2, dtype=torch.float64))
    assert not chk.matches and chk.max_diff == pytest.approx(1e-3)


def test_baseline_missing_is_reported_not_raised():
    rep = loss_report("CrossEntropyLoss", CE_X, "[-100, -100, -100]")
    assert rep.chance is None and rep.chance_error


def test_chance_report_rows_and_cap():
    r = chance_report(CE_X, CE_Y)
    assert r.num_classes == 4 and r.ln_c == pytest.approx(math.log(4)) and len(r.rows) == 3
    assert r.rows[0].true_class == 0 and r.rows[0].ce == pytest.approx(0.4952, abs=1e-4)
    assert r.uniform_margin == pytest.approx(-math.log(3))
    many = chance_report(torch.zeros(50, 3, dtype=torch.float64), torch.zeros(50, dtype=torch.int64))
    assert len(many.rows) == MAX_ROWS and many.n_rows == 50 and many.ce == pytest.approx(math.log(3))
    probs = chance_report(CE_X, "[[0.7, 0.1, 0.1, 0.1], [0, 1, 0, 0], [0, 0, 0.5, 0.5]]")
    assert probs.rows == [] and probs.p_true is None
    with pytest.raises(ValueError, match="class index 9 in target"):
        chance_report(CE_X, "[0, 1, 9]")


def test_ln_c_rows_is_a_readable_selection_plus_the_learners_c():
    rows = ln_c_rows()
    assert len(rows) == len(LN_C_EXAMPLES) <= 12 and rows[0].c == 2
    assert all(r.ln_c == pytest.approx(math.log(r.c)) for r in rows)
    mine = ln_c_rows([7, 10], "yours")
    assert [r.c for r in mine] == sorted(r.c for r in mine)
    assert next(r for r in mine if r.c == 7).example == "yours"
    assert next(r for r in mine if r.c == 10).example.startswith("yours; digits")
    with pytest.raises(ValueError, match="number of classes C = 1 is below the minimum 2"):
        ln_c_rows([1])


@pytest.mark.parametrize("text,out", [("", []), ("7", [7]), ("7, 21843", [7, 21843]), ("[3, 4]", [3, 4])])
def test_parse_class_counts(text, out):
    assert parse_class_counts(text) == out


@pytest.mark.parametrize("text,fragment", [("1", "below the minimum 2"), ("2.5", "whole number"),
                                          (", ".join(["3"] * 21), "the limit is 20"), ([3], "must be text")])
def test_parse_class_counts_bad(text, fragment):
    with pytest.raises(ValueError, match=fragment):
        parse_class_counts(text)


def test_curve_summary_and_stability_rows():
    e = torch.linspace(-3, 3, 61, dtype=torch.float64)
    _, rows = curve_summary(e, 0.5, 0.5)
    assert rows[0].name == "MSELoss" and rows[0].loss == pytest.approx(9.0) and rows[0].grad == pytest.approx(6.0)
    st = {r.z: r for r in bce_stability_rows(0.0)}
    assert st[20.0].bce_on_sigmoid == pytest.approx(100.0) and st[20.0].bce_with_logits == pytest.approx(20.0)
    assert st[0.0].exact == pytest.approx(math.log(2))


@pytest.mark.parametrize("kw,fragment", [
    ({"reduction": ["mean"]}, "reduction a list"), ({"reduction": "batchmean"}, "not allowed for MSELoss"),
    ({"weight": 3}, "weight must be text"), ({"ignore_index": 2.5}, "whole number"),
    ({"log_target": "yes"}, "log_target must be true or false"), ({"delta": float("nan")}, "delta must be finite"),
])
def test_parse_options_checks_every_type(kw, fragment):
    with pytest.raises(ValueError, match=fragment):
        parse_options("MSELoss", **kw)
    assert isinstance(parse_options("MSELoss"), LossOptions)
