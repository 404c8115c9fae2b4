"""Passive shields behave as their definitions say; BPDA/EOT are exact stand-ins; and the
honest part: the adaptive attack beats every shield that plain PGD does not."""

from __future__ import annotations

import pytest
import scipy.ndimage
import torch

from dlcore.attacks import PGD, robust_accuracy
from dlcore.defenses import (BPDA, DEFENSES, EOT, JPEG, BitDepth, Defended, GaussianBlur, MedianBlur, RandomNoise,
                             RandomResizePad, adaptive_attack, adaptive_model, defend, defense_cost, defense_report,
                             make_defense, seed_shield)
from tests.dlcore.attacks.fixtures import TinyCNN, digits_cnn, digits_data


@pytest.mark.parametrize("k", [2, 3, 4, 5])
def test_median_blur_equals_scipy(k):
    x = torch.rand(2, 1, 9, 11, generator=torch.Generator().manual_seed(k))
    want = scipy.ndimage.median_filter(x.numpy(), size=(1, 1, k, k), mode="reflect")
    torch.testing.assert_close(MedianBlur(k)(x), torch.from_numpy(want), rtol=0, atol=0)


def test_blur_jpeg_and_bit_depth_do_what_they_say():
    x = torch.rand(4, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    flat = torch.full((1, 1, 28, 28), 0.4)
    torch.testing.assert_close(GaussianBlur(1.0)(flat), flat)  # a blur keeps constant images
    assert float(GaussianBlur(1.0)(x).std()) < float(x.std())  # and smooths noise
    err = {q: float((JPEG(q)(x) - x).abs().mean()) for q in (10, 50, 100)}
    assert err[10] > err[50] > err[100] and err[100] < 0.02
    out = JPEG(75)(x)
    torch.testing.assert_close(out * 255, (out * 255).round(), rtol=0, atol=1e-4)  # 8-bit pixels
    for b in (1, 2, 3):
        assert len(torch.unique(BitDepth(b)(x))) <= 2 ** b
    torch.testing.assert_close(BitDepth(8)(torch.tensor([[[[0.2]]]])), torch.tensor([[[[51 / 255]]]]))


def test_random_shields_draw_afresh_and_keep_shapes():
    x = torch.rand(3, 1, 28, 28)
    for t in (RandomResizePad(), RandomNoise()):
        a, b = t(x), t(x)
        assert a.shape == x.shape and not torch.equal(a, b)
        assert float(a.min()) >= 0 and float(a.max()) <= 1
    torch.testing.assert_close(RandomResizePad(1.0)(x), x, rtol=0, atol=1e-5)  # scale 1 = identity


def test_a_seeded_random_shield_repeats_its_draws_whatever_the_global_rng_does():
    x = torch.rand(3, 1, 28, 28)
    for name in ("random_resize", "random_noise"):
        first = seed_shield(make_defense(name), 7)
        a1, a2 = first(x), first(x)
        torch.manual_seed(123)  # another thread using torch's global RNG in between
        second = seed_shield(make_defense(name), 7)
        torch.testing.assert_close(second(x), a1, rtol=0, atol=0)
        torch.testing.assert_close(second(x), a2, rtol=0, atol=0)
        assert not torch.equal(a1, a2)  # still a fresh draw per call
    assert seed_shield(make_defense("jpeg"), 7).__class__ is JPEG  # deterministic shields are left as they are
    m = digits_cnn()
    xd, yd = digits_data()
    costs = {defense_cost(m, xd, yd, "random_noise", sigma=0.5).defended_accuracy for _ in range(3)}
    assert len(costs) == 1


def test_registry_and_errors():
    for name, spec in DEFENSES.items():
        t = make_defense(name)
        assert isinstance(t, spec.cls) and spec.display_name
        assert spec.differentiable == t.differentiable and spec.random == t.random
    assert [n for n, s in DEFENSES.items() if not s.differentiable] == ["jpeg", "bit_depth"]
    assert [n for n, s in DEFENSES.items() if s.random] == ["random_resize", "random_noise"]
    with pytest.raises(ValueError, match="defence 'gan' is not one of"):
        make_defense("gan")
    with pytest.raises(ValueError, match="JPEG quality 0 must be in"):
        make_defense("jpeg", quality=0)
    with pytest.raises(ValueError, match="kernel size 4 must be odd"):
        GaussianBlur(1.0, 4)
    with pytest.raises(ValueError, match=r"option\(s\) \['q'\]"):
        make_defense("jpeg", q=50)


def test_defended_model_and_its_clean_accuracy_cost():
    m = digits_cnn()
    x, y = digits_data()
    d = defend(m, "bit_depth", bits=1)
    torch.testing.assert_close(d(x), m(BitDepth(1)(x)))
    cost = defense_cost(m, x, y, "bit_depth", bits=1)
    with torch.no_grad():
        assert cost.clean_accuracy == pytest.approx(float((m(x).argmax(1) == y).float().mean()))
        assert cost.defended_accuracy == pytest.approx(float((d(x).argmax(1) == y).float().mean()))
    assert cost.cost == pytest.approx(cost.clean_accuracy - cost.defended_accuracy)
    assert cost.options == {"bits": 1}


def test_bpda_is_the_defence_forward_and_the_identity_backward():
    m = TinyCNN().eval()
    d = Defended(m, JPEG(50))
    x, _ = digits_data()
    x = x[:4]
    b = BPDA(d)
    torch.testing.assert_close(b(x), d(x))
    xr = x.clone().requires_grad_(True)
    b(xr)[:, 3].sum().backward()
    z = JPEG(50)(x).requires_grad_(True)
    m(z)[:, 3].sum().backward()
    torch.testing.assert_close(xr.grad, z.grad)  # ∂/∂x f(g(x)) ≈ f'(g(x)) · I


def test_eot_averages_draws_and_auto_picks_the_right_stand_in():
    m = TinyCNN().eval()
    x, _ = digits_data()
    torch.manual_seed(0)
    draws = [Defended(m, RandomNoise(0.2))(x[:3]) for _ in range(4)]
    torch.manual_seed(0)
    torch.testing.assert_close(EOT(Defended(m, RandomNoise(0.2)), 4)(x[:3]), torch.stack(draws).mean(0))
    assert isinstance(adaptive_model(defend(m, "jpeg")), BPDA)
    assert isinstance(adaptive_model(defend(m, "random_noise")), EOT)
    assert isinstance(adaptive_model(defend(m, "gaussian_blur")), Defended)
    both = adaptive_model(defend(m, "jpeg"), "bpda+eot", samples=3)
    assert isinstance(both, EOT) and isinstance(both.model, BPDA) and both.samples == 3
    with pytest.raises(ValueError, match="adaptive mode 'magic'"):
        adaptive_model(defend(m, "jpeg"), "magic")  # type: ignore[arg-type]


def test_plain_pgd_sees_no_gradient_through_jpeg_and_says_so():
    x, y = digits_data()
    res = PGD(defend(digits_cnn(), "jpeg"), eps=0.2, alpha=0.02, steps=5, seed=0)(x[:8], y[:8])
    assert res.zero_grad_fraction == 1.0 and any("obfuscated" in n for n in res.notes)
    adaptive = adaptive_attack(defend(digits_cnn(), "jpeg"), "pgd", eps=0.2, alpha=0.02, steps=5, seed=0)(x[:8], y[:8])
    assert adaptive.zero_grad_fraction == 0.0


@pytest.fixture(scope="module")
def report():
    x, y = digits_data(120)
    return defense_report(digits_cnn(), x, y, eps=0.2, steps=15, eot_samples=4)


def test_bpda_and_eot_beat_every_shield_plain_pgd_does_not(report):
    assert [r.defense for r in report] == list(DEFENSES)
    for r in report:
        assert r.adaptive <= r.defended_clean and r.plain <= r.defended_clean  # robust ≤ clean
        if r.plain > 0.3:  # the shield seems to hold against plain PGD ...
            assert r.adaptive < r.plain - 0.2, r  # ... until the adaptive attack
            assert r.broken
    by = {r.defense: r for r in report}
    assert by["jpeg"].plain > 0.5 and by["jpeg"].mode == "BPDA"  # the false sense of security
    assert by["gaussian_blur"].mode == "true gradient"
    assert by["random_noise"].mode == "EOT"


def test_the_adaptive_attack_beats_the_plain_one_on_the_random_shield():
    x, y = digits_data(120)
    shield = defend(digits_cnn(), "random_noise", sigma=0.3)
    torch.manual_seed(0)
    plain = robust_accuracy(shield, x, y, PGD(shield, eps=0.15, alpha=0.015, steps=20, seed=0))
    torch.manual_seed(0)
    eot = robust_accuracy(shield, x, y, adaptive_attack(shield, "pgd", samples=8, eps=0.15, alpha=0.015, steps=20,
                                                        seed=0))
    assert eot < plain, (eot, plain)
