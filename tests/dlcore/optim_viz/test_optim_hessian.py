"""The saddle inspector: gradient, Hessian (vs torch.autograd.functional.hessian and the analytic
formulas), eigenvalues, verdicts, and the notes' worked example of seed 000 §2.2.5."""

from __future__ import annotations

import math

import pytest
import torch
from torch.testing import assert_close

from dlcore.optim_viz import get_surface, inspect_point
from dlcore.optim_viz.hessian import SEED_CORRECTION


def test_the_notes_example_exactly() -> None:
    """x = y = 1, L = (1 − w₁w₂)²: H = [[0, −2], [−2, 0]] at the origin, λ = −2, 2, a saddle, escape (1, 1)/√2."""
    r = inspect_point(get_surface("saddle"), (0.0, 0.0))
    assert r.loss == 1.0 and r.grad_norm == 0.0
    assert torch.equal(r.hessian, torch.tensor([[0.0, -2.0], [-2.0, 0.0]], dtype=torch.float64))
    assert torch.equal(r.eigenvalues, torch.tensor([-2.0, 2.0], dtype=torch.float64))
    assert r.verdict == "saddle"
    assert_close(r.escape, torch.tensor([1.0, 1.0], dtype=torch.float64) / math.sqrt(2), atol=1e-15, rtol=0)
    # the notes' step θ = θ' + u (‖u‖ = 1) lowers the loss: L = (1 − ½)² = 0.25 < 1; Taylor says 1 + ½·(−2) = 0
    assert math.isclose(r.loss_after, 0.25) and math.isclose(r.taylor_after, 0.0, abs_tol=1e-15)
    assert "+λ‖u‖²" in SEED_CORRECTION


@pytest.mark.parametrize("w", [(0.3, -0.8), (1.2, 0.5), (-2.0, 1.5)])
def test_the_notes_hessian_formula_at_any_point(w: tuple[float, float]) -> None:
    """H = [[2w₂², −2 + 4w₁w₂], [−2 + 4w₁w₂, 2w₁²]] (the notes' formula) and g = −2(1 − w₁w₂)(w₂, w₁)."""
    w1, w2 = w
    r = inspect_point(get_surface("saddle"), w)
    h = torch.tensor([[2 * w2 ** 2, -2 + 4 * w1 * w2], [-2 + 4 * w1 * w2, 2 * w1 ** 2]], dtype=torch.float64)
    assert_close(r.hessian, h, atol=1e-12, rtol=0)
    assert_close(r.grad, torch.tensor([-2 * (1 - w1 * w2) * w2, -2 * (1 - w1 * w2) * w1], dtype=torch.float64))
    assert r.verdict == "not critical"


@pytest.mark.parametrize("surface,point", [("rosenbrock", (-1.2, 1.0)), ("beale", (1.0, 1.4)),
                                           ("noisy_quadratic", (0.5, -0.5)), ("ill_conditioned", (1.0, 2.0))])
def test_hessian_and_eigen_equal_torch(surface: str, point: tuple[float, float]) -> None:
    s = get_surface(surface)
    r = inspect_point(s, point)
    ref = torch.autograd.functional.hessian(lambda p: s.expected(p[None])[0], torch.tensor(point, dtype=torch.float64))
    assert_close(r.hessian, ref, atol=1e-10, rtol=1e-12)
    lam = torch.linalg.eigvalsh(ref)
    assert_close(r.eigenvalues, lam, atol=1e-9, rtol=1e-12)
    for k in range(2):  # H u = λ u
        assert_close(ref @ r.eigenvectors[:, k], lam[k] * r.eigenvectors[:, k], atol=1e-8, rtol=1e-10)


def test_rosenbrock_analytic() -> None:
    x, y = -1.2, 1.0
    r = inspect_point(get_surface("rosenbrock"), (x, y))
    h = torch.tensor([[2 - 400 * (y - x ** 2) + 800 * x ** 2, -400 * x], [-400 * x, 200]], dtype=torch.float64)
    assert_close(r.hessian, h)


def test_verdicts() -> None:
    assert inspect_point(get_surface("rosenbrock"), (1.0, 1.0)).verdict == "minimum"
    assert inspect_point(get_surface("beale"), (3.0, 0.5)).verdict == "minimum"
    assert inspect_point(get_surface("ill_conditioned"), (0.0, 0.0)).verdict == "minimum"
    # on the curve of minima w₁w₂ = 1 the loss is flat along the curve: λ = 0, the test cannot decide
    r = inspect_point(get_surface("saddle"), (1.0, 1.0))
    assert r.verdict == "degenerate" and r.escape is None
    assert_close(r.eigenvalues, torch.tensor([0.0, 4.0], dtype=torch.float64), atol=1e-12, rtol=0)
    q = inspect_point(get_surface("ill_conditioned"), (0.0, 0.0))
    assert_close(q.eigenvalues, torch.tensor([1.0, 25.0], dtype=torch.float64), atol=1e-12, rtol=0)


def test_escape_points_downhill_and_taylor_is_exact_on_a_quadratic() -> None:
    r = inspect_point(get_surface("saddle"), (0.1, -0.05), step=0.2)
    assert r.escape is not None and float(r.grad @ r.escape) <= 0
    assert r.loss_after < r.loss
    q = inspect_point(get_surface("ill_conditioned"), (1.0, 2.0))
    xs, ys, real, quad = q.window
    assert_close(real, quad, atol=1e-9, rtol=1e-9)  # a quadratic is its own second-order model


def test_bad_points() -> None:
    s = get_surface("saddle")
    for bad in [(float("nan"), 0.0), (1e9, 0.0), (1.0,)]:
        with pytest.raises(ValueError, match="point"):
            inspect_point(s, bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="step length"):
        inspect_point(s, (0.0, 0.0), step=0)
