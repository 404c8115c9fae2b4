"""Every loss, reduction and option: step-by-step result == torch (float64) on random inputs."""

from __future__ import annotations

import warnings

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dlcore.calculators.losses import LOSSES, calculate
from dlcore.calculators.losses_base import REDUCTIONS, LossOptions

SETTINGS = settings(max_examples=20, deadline=None)
F64 = torch.float64


def close(a: torch.Tensor, b: torch.Tensor) -> None:
    torch.testing.assert_close(a.to(F64), b.to(F64), atol=1e-6, rtol=1e-6, equal_nan=True)


def tensor(draw, shape, lo=-5.0, hi=5.0) -> torch.Tensor:
    n = 1
    for s in shape:
        n *= s
    vals = draw(st.lists(st.floats(lo, hi, allow_nan=False, allow_infinity=False), min_size=n, max_size=n))
    return torch.tensor(vals, dtype=F64).reshape(shape)


@st.composite
def regression_case(draw):
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=0, max_size=3)))
    return tensor(draw, shape), tensor(draw, shape)


def check(name: str, x, y, opts: LossOptions, module: torch.nn.Module) -> None:
    res = calculate(name, x, y, opts)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = module(x, y)
        ref_none = type(module)(**{**_kwargs(module), "reduction": "none"})(x, y)
    close(res.value, ref)
    close(res.per_element, ref_none)
    assert res.per_element.shape == ref_none.shape
    assert res.steps and all(s.title for s in res.steps)


def _kwargs(m: torch.nn.Module) -> dict:
    out = {}
    for k in ("delta", "beta", "ignore_index", "label_smoothing", "log_target"):
        if hasattr(m, k):
            out[k] = getattr(m, k)
    for k in ("weight", "pos_weight"):
        if getattr(m, k, None) is not None:
            out[k] = getattr(m, k)
    return out


@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(case=regression_case(), delta=st.floats(0.05, 3.0), beta=st.floats(0.0, 3.0))
@SETTINGS
def test_regression_losses_equal_torch(reduction, case, delta, beta):
    x, y = case
    o = LossOptions(reduction=reduction, delta=delta, beta=beta)
    check("MSELoss", x, y, o, torch.nn.MSELoss(reduction=reduction))
    check("L1Loss", x, y, o, torch.nn.L1Loss(reduction=reduction))
    check("HuberLoss", x, y, o, torch.nn.HuberLoss(reduction=reduction, delta=delta))
    check("SmoothL1Loss", x, y, o, torch.nn.SmoothL1Loss(reduction=reduction, beta=beta))


@st.composite
def ce_case(draw):
    n, c = draw(st.integers(1, 5)), draw(st.integers(2, 6))
    unbatched = draw(st.booleans()) and n == 1
    x = tensor(draw, (c,) if unbatched else (n, c))
    probs = draw(st.booleans())
    if probs:
        y = torch.softmax(tensor(draw, x.shape), dim=-1)
    else:
        y = torch.tensor(draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)), dtype=torch.int64)
        y = y.reshape(()) if unbatched else y
    weight = tensor(draw, (c,), 0.1, 3.0) if draw(st.booleans()) else None
    ignore = draw(st.sampled_from([-100, 0, 1])) if not probs else -100
    eps = draw(st.sampled_from([0.0, 0.0, 0.1, 0.35]))
    return x, y, weight, ignore, eps


@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(case=ce_case())
@SETTINGS
def test_cross_entropy_equals_torch(reduction, case):
    x, y, w, ii, eps = case
    o = LossOptions(reduction=reduction, weight=w, ignore_index=ii, label_smoothing=eps)
    check("CrossEntropyLoss", x, y, o,
          torch.nn.CrossEntropyLoss(weight=w, ignore_index=ii, label_smoothing=eps, reduction=reduction))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(case=ce_case())
@SETTINGS
def test_nll_equals_torch(reduction, case):
    x, y, w, ii, _ = case
    if y.is_floating_point():  # NLLLoss takes indices only
        y = y.argmax(-1)
    logp = torch.log_softmax(x, dim=-1)
    o = LossOptions(reduction=reduction, weight=w, ignore_index=ii)
    check("NLLLoss", logp, y, o, torch.nn.NLLLoss(weight=w, ignore_index=ii, reduction=reduction))


@st.composite
def binary_case(draw):
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    x = tensor(draw, shape, -30.0, 30.0)
    y = tensor(draw, shape, 0.0, 1.0) if draw(st.booleans()) else torch.randint(0, 2, shape).to(F64)
    pw = tensor(draw, (shape[-1],), 0.0, 4.0) if draw(st.booleans()) else None
    return x, y, pw


@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(case=binary_case())
@SETTINGS
def test_bce_with_logits_and_bce_equal_torch(reduction, case):
    x, y, pw = case
    check("BCEWithLogitsLoss", x, y, LossOptions(reduction=reduction, pos_weight=pw),
          torch.nn.BCEWithLogitsLoss(reduction=reduction, pos_weight=pw))
    p = torch.sigmoid(x / 6)  # probabilities in (0, 1); some near the ends
    check("BCELoss", p, y, LossOptions(reduction=reduction), torch.nn.BCELoss(reduction=reduction))


@pytest.mark.parametrize("reduction", REDUCTIONS + ("batchmean",))
@pytest.mark.parametrize("log_target", [False, True])
@given(case=binary_case())
@SETTINGS
def test_kl_div_equals_torch(reduction, log_target, case):
    x, y, _ = case
    logp = torch.log_softmax(x, dim=-1)
    q = torch.softmax(y * 3, dim=-1)
    q = torch.where(q < 0.05, torch.zeros_like(q), q)  # exercise 0·log 0 = 0
    t = torch.log(q.clamp_min(1e-12)) if log_target else q
    check("KLDivLoss", logp, t, LossOptions(reduction=reduction, log_target=log_target),
          torch.nn.KLDivLoss(reduction=reduction, log_target=log_target))


def test_bce_clamps_like_torch_at_zero_and_one():
    x = torch.tensor([0.0, 1.0, 1.0, 0.0], dtype=F64)
    y = torch.tensor([1.0, 0.0, 1.0, 0.0], dtype=F64)
    res = calculate("BCELoss", x, y, LossOptions(reduction="none"))
    close(res.per_element, torch.nn.BCELoss(reduction="none")(x, y))
    assert res.per_element.tolist() == [100.0, 100.0, 0.0, 0.0]
    assert any("-100 clamp" in n for n in res.notes)


def test_registry_covers_the_issue_list():
    assert set(LOSSES) == {"MSELoss", "L1Loss", "HuberLoss", "SmoothL1Loss", "CrossEntropyLoss", "NLLLoss",
                           "BCEWithLogitsLoss", "BCELoss", "KLDivLoss"}
    for name, spec in LOSSES.items():
        assert hasattr(torch.nn, name), name
        assert spec.fn.__doc__ and "torch.nn." in spec.fn.__doc__


def test_huber_branches_are_reported():
    res = calculate("HuberLoss", "[[0.5, 0.2], [0.7, 0.9]]", "[[0.6, 0.4], [0.3, 0.5]]", LossOptions(delta=0.2))
    assert res.intermediates["quadratic_branch"].tolist() == [[True, True], [False, False]]
    assert "2 of 4 elements use the quadratic branch" in res.notes[0]
