"""Black-box attacks: the gradient estimates converge to the true gradient, queries are
counted and capped, and the attacks work with queries only."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from dlcore.attacks import FiniteDifferenceAttack, NESAttack, SPSAAttack, finite_difference, nes, spsa
from tests.dlcore.attacks.fixtures import Linear64, digits_cnn, digits_data


def quadratic(seed: int = 0, d: int = 12):
    """f(x) = a·x + ½ xᵀAx per image (float64), its exact gradient a + Ax, and a batch point x."""
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(d, generator=g, dtype=torch.float64)
    m = torch.randn(d, d, generator=g, dtype=torch.float64)
    A = (m + m.T) / 2
    x = torch.rand(3, d, generator=g, dtype=torch.float64)

    def f(xs: torch.Tensor) -> torch.Tensor:  # (K, B, D) -> (K, B)
        return xs @ a + 0.5 * torch.einsum("kbi,ij,kbj->kb", xs, A, xs)

    return f, x, a + x @ A


def test_finite_differences_converge_to_the_true_gradient():
    f, x, true = quadratic()
    errors = [float((finite_difference(f, x, delta=d)[0] - true).abs().max()) for d in (1e-1, 1e-2, 1e-3)]
    assert errors[0] > errors[1] > errors[2]  # forward differences: error O(δ)
    assert errors[2] < 1e-2
    central = finite_difference(f, x, delta=1e-1, scheme="central")[0]
    torch.testing.assert_close(central, true, rtol=0, atol=1e-10)  # exact on a quadratic
    g, fx, q = finite_difference(f, x, delta=1e-3)
    torch.testing.assert_close(fx, f(x.unsqueeze(0))[0])
    assert q == 12 + 1 and finite_difference(f, x, scheme="central")[2] == 24


@pytest.mark.parametrize("estimator, kw", [(nes, {"sigma": 1e-3}), (spsa, {"delta": 1e-2})])
def test_nes_and_spsa_converge_to_the_true_gradient(estimator, kw):
    f, x, true = quadratic(1)
    gen = torch.Generator().manual_seed(0)
    cos = []
    for n in (10, 100, 10_000):
        g, fx, q = estimator(f, x, samples=n, generator=gen, **kw)
        assert q == n and fx is None
        cos.append(float(F.cosine_similarity(g, true, dim=1).min()))
    assert cos[0] < cos[2] and cos[2] > 0.98
    # unbiased: the mean of many small estimates is the gradient
    mean = torch.stack([estimator(f, x, samples=20, generator=gen, **kw)[0] for _ in range(500)]).mean(0)
    assert float(F.cosine_similarity(mean, true, dim=1).min()) > 0.99


def test_finite_difference_attack_uses_the_models_true_gradient_direction():
    m = Linear64()
    x, y = digits_data()
    x, y = x[:4].double(), y[:4]
    xr = x.clone().requires_grad_(True)
    ce = F.cross_entropy(m(xr), y, reduction="sum")
    true, = torch.autograd.grad(ce, xr)
    probs = m(x).softmax(1)
    closed = ((probs - F.one_hot(y, 10).double()) @ m.fc.weight).view_as(x)  # Wᵀ(softmax − e_y)
    torch.testing.assert_close(true, closed)

    def f(xs):
        k, b = xs.shape[:2]
        return F.cross_entropy(m(xs.reshape(k * b, *xs.shape[2:])), y.repeat(k), reduction="none").view(k, b)

    est = finite_difference(f, x, delta=1e-6, scheme="central")[0]
    torch.testing.assert_close(est, true, rtol=1e-5, atol=1e-7)


def test_query_counts_and_budget():
    x, y = digits_data()
    m = digits_cnn()
    res = FiniteDifferenceAttack(m, eps=0.3, steps=50, max_queries=650, early_stop=False)(x[:4], y[:4])
    assert res.steps_done == 650 // 65 == 10  # 8×8 images: 64 + 1 queries per estimate
    assert torch.all(res.queries == 650)
    res = NESAttack(m, eps=0.3, alpha=0.03, steps=100, max_queries=2000, samples=50, seed=0)(x[:16], y[:16])
    assert int(res.queries.max()) <= 2000
    assert len(set(res.queries.tolist())) > 1  # fooled images stop being queried
    with pytest.raises(ValueError, match="query budget 20 is below the 65 queries"):
        FiniteDifferenceAttack(m, max_queries=20)(x[:2], y[:2])
    with pytest.raises(ValueError, match="samples per estimate 1 must be in"):
        SPSAAttack(m, samples=1)
    with pytest.raises(ValueError, match="update 'adam' must be one of"):
        NESAttack(m, update="adam")


@pytest.mark.parametrize("cls, kw", [
    (FiniteDifferenceAttack, {"steps": 20, "alpha": 0.03}),
    (NESAttack, {"steps": 60, "alpha": 0.03}),
    (SPSAAttack, {"steps": 40, "alpha": 0.03}),
])
def test_black_box_attacks_fool_the_model_with_queries_only(cls, kw):
    x, y = digits_data()
    m = digits_cnn()
    res = cls(m, eps=0.3, seed=0, **kw)(x[:16], y[:16])
    assert res.success_rate >= 0.6, res.success_rate
    assert float(res.linf.max()) <= 0.3 + 1e-6 and res.zero_grad_fraction == 0  # no gradients were taken
    assert res.robust_accuracy <= res.clean_accuracy
    targeted = cls(m, eps=0.3, seed=0, **kw)(x[:8], y[:8], target=(y[:8] + 1) % 10)
    assert float((targeted.pred_after == targeted.target).float().mean()) >= 0.5
