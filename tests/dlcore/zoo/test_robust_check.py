"""The Madry et al. 2018 check on the shipped models (the tab shows it as pass/fail)."""

from __future__ import annotations

import pytest

from dlcore.zoo.robust_check import PAPER, madry_check


@pytest.mark.slow
def test_madry_check_passes_on_the_shipped_models():
    seen = []
    check = madry_check(n=300, callback=lambda s, m: seen.append(m["progress"]))
    assert check.passed, [(r.label, r.measured, r.rule, r.passed) for r in check.rows]
    by = {r.rule: r for r in check.rows if r.passed is not None}
    assert by["< 10 %"].measured < 0.10
    assert check.rows[3].paper.startswith(PAPER["robust_pgd40"])
    assert seen and seen[-1] == pytest.approx(1.0) and check.n == min(300, check.n)


def test_madry_check_rejects_bad_settings():
    with pytest.raises(ValueError, match="number of test images 5 must be in"):
        madry_check(n=5)
    with pytest.raises(ValueError, match="steps 'many' must be a number"):
        madry_check(steps="many")  # type: ignore[arg-type]


def test_madry_check_falls_back_to_the_digits_twins(monkeypatch):
    from dlcore.data import load_digits
    from dlcore.zoo import recipes

    monkeypatch.setattr(recipes, "load_fashion_mnist", lambda: load_digits())  # no Fashion-MNIST here
    check = madry_check(n=200)
    assert (check.natural, check.robust, check.eps) == ("digits_cnn", "digits_cnn_adv", 0.2)
    assert check.passed, [(r.label, r.measured, r.passed) for r in check.rows]
    assert check.rows[1].measured < 0.10 < check.rows[3].measured
