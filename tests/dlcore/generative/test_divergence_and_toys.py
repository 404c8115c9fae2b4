"""JS = log 2 for disjoint supports, W1 = the shift; toys, modes covered and their caps."""

from __future__ import annotations

import math

import pytest
import torch

from dlcore.generative import (GAN_TOYS, LOG2, PAIRS, TOYS, divergence_at, divergence_sweep, js_divergence,
                               js_exact, js_histogram, mode_coverage, sample_toy, wasserstein_1d)


def test_js_of_disjoint_supports_is_log_2() -> None:
    assert js_divergence(torch.tensor([0.2, 0.8, 0, 0]), torch.tensor([0, 0, 0.5, 0.5])) == pytest.approx(LOG2)
    x, y = torch.rand(5000), torch.rand(5000) + 3.0           # U[0,1] vs U[3,4]: no overlap
    assert js_histogram(x, y, bins=100) == pytest.approx(LOG2, abs=1e-12)
    for shift in (1.0, 1.5, 7.0):
        assert js_exact("uniform", shift) == pytest.approx(LOG2)
    for shift in (0.01, 2.0):
        assert js_exact("lines", shift) == pytest.approx(LOG2)
    assert js_divergence(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 2.0])) == pytest.approx(0.0, abs=1e-15)


def test_w1_of_shifted_copies_is_the_shift() -> None:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(3000, generator=g, dtype=torch.float64)
    for s in (0.0, 0.3, 2.5, 10.0):
        assert wasserstein_1d(x, x + s) == pytest.approx(s, abs=1e-12)
        assert wasserstein_1d(x + s, x) == pytest.approx(s, abs=1e-12)
    assert wasserstein_1d(x, x[:1000] + 1.0) == pytest.approx(1.0, abs=0.1)  # unequal sizes


def test_uniform_js_grows_linearly_then_saturates_while_w1_keeps_growing() -> None:
    sw = divergence_sweep("uniform", max_shift=3.0, n_shifts=31, n_samples=4000)
    s = sw.shifts
    torch.testing.assert_close(sw.js, torch.clamp(s, max=1.0) * LOG2)
    torch.testing.assert_close(sw.w1, s)
    torch.testing.assert_close(sw.w1_samples, s, atol=0.06, rtol=0)
    after = s > 1.05
    assert torch.all(sw.js_hist[after] > LOG2 - 1e-9) and torch.all(sw.js_slope[after].abs() < 1e-9)
    torch.testing.assert_close(sw.gan_value, 2 * sw.js - math.log(4))


def test_gaussian_js_is_below_log_2_and_increasing() -> None:
    sw = divergence_sweep("gaussian", max_shift=6.0, n_shifts=13)
    assert torch.all(sw.js[1:] > sw.js[:-1]) and float(sw.js[-1]) < LOG2 and float(sw.js[-1]) > 0.6
    torch.testing.assert_close(sw.js_hist, sw.js, atol=0.03, rtol=0)


@pytest.mark.parametrize("pair", sorted(PAIRS))
def test_divergence_point_for_the_slider(pair: str) -> None:
    p = divergence_at(pair, 2.0, n_samples=2000)
    assert p.w1 == 2.0 and p.x.shape == p.p.shape == p.q.shape and p.js <= LOG2 + 1e-12
    assert abs(p.w1_samples - 2.0) < 0.1


@pytest.mark.parametrize("bad, match", [
    (dict(pair="kl"), "pair 'kl' is not one of"), (dict(shift=1e9), "shift 1e\\+09 must be in"),
    (dict(shift="1"), "shift '1' must be a number"), (dict(n_samples=10**9), "n_samples 1000000000 must be in"),
    (dict(bins=0), "bins 0 must be in"),
])
def test_bad_divergence_inputs(bad: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        divergence_at(**bad)
    with pytest.raises(ValueError, match="n_shifts 5000 must be in"):
        divergence_sweep(n_shifts=5000)


@pytest.mark.parametrize("name", sorted(TOYS))
def test_every_toy_samples_reproducibly_and_the_data_covers_all_its_modes(name: str) -> None:
    x = sample_toy(name, 4000, seed=1)
    assert x.shape == (4000, TOYS[name].dim) and x.dtype == torch.float32
    torch.testing.assert_close(x, sample_toy(name, 4000, seed=1))
    cov = mode_coverage(x, name)
    assert cov.covered == cov.n_modes  # the real data covers every mode
    assert cov.high_quality > 0.9


def test_a_collapsed_generator_covers_one_mode() -> None:
    centres, _ = TOYS["ring"].modes()
    collapsed = centres[3] + 0.01 * torch.randn(2000, 2)
    cov = mode_coverage(collapsed, "ring")
    assert (cov.covered, cov.n_modes) == (1, 8) and cov.high_quality == 1.0
    far = mode_coverage(torch.zeros(100, 2), "ring")   # the centre of the ring is on no mode
    assert far.covered == 0 and far.high_quality == 0.0


def test_one_d_toy_is_the_seeds_gaussian() -> None:
    x = sample_toy("gauss_1d", 20000, seed=0)
    assert abs(float(x.mean()) - 3) < 0.05 and abs(float(x.std()) - 2) < 0.05
    assert "gauss_1d" not in GAN_TOYS


@pytest.mark.parametrize("bad, match", [(("moons", 10), "data set 'moons' is not one of"),
                                        (("ring", 10**8), "number of samples 100000000 must be in"),
                                        (("ring", 2.5), "number of samples 2.5 must be an integer")])
def test_bad_toy_requests(bad: tuple, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        sample_toy(*bad)
