"""SmoothGrad's convergence and σ sweep reuse their samples; the similarity metrics match references."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import ndimage, stats

from dlcore.explain import (
    explain, smoothgrad_convergence, smoothgrad_sigma_sweep, spearman, ssim, topk_overlap,
)
from dlcore.explain.smoothgrad import SmoothGradConfig, reduce_noisy, smoothgrad


@pytest.mark.parametrize("kind", ["smoothgrad", "smoothgrad_sq", "vargrad"])
def test_convergence_last_map_is_smoothgrad_with_that_many_samples(cnn, image, kind) -> None:
    _, model, _ = cnn
    cfg = {"sigma_pct": 15.0, "batch_size": 64, "seed": 2}
    conv = smoothgrad_convergence(model, image, ns=(1, 5, 20, 40), config=cfg, kind=kind)
    assert conv.ns == [1, 5, 20, 40] and conv.maps.shape == (4, 28, 28) and conv.kind == kind
    direct = explain(model, image, kind, {**cfg, "n_samples": 40})
    torch.testing.assert_close(conv.maps[-1], direct.map, rtol=1e-4, atol=1e-7)
    assert conv.spearman_to_final[-1] == pytest.approx(1.0) and conv.change[0] == 0.0
    # the first map is one noisy gradient: for SmoothGrad its |g|; for VarGrad exactly 0
    if kind == "vargrad":
        assert float(conv.maps[0].abs().max()) == 0.0
    torch.testing.assert_close(conv.vanilla, explain(model, image, "gradient").map)


def test_convergence_sharpens_towards_the_average(cnn, image) -> None:
    _, model, _ = cnn
    conv = smoothgrad_convergence(model, image, ns=(1, 10, 50, 100))
    rho = conv.spearman_to_final
    assert rho[0] < rho[1] < rho[2] < rho[3]  # the average settles: closer and closer to n = 100


def test_sigma_sweep_shares_draws_and_zero_noise_is_the_gradient(cnn, image) -> None:
    _, model, _ = cnn
    sw = smoothgrad_sigma_sweep(model, image, (0.0, 10.0, 50.0), {"n_samples": 16, "seed": 4})
    assert sw.maps.shape == (3, 28, 28)
    torch.testing.assert_close(sw.maps[0], explain(model, image, "gradient").map, rtol=1e-4, atol=1e-7)
    assert sw.noisy_accuracy[0] == 1.0 and sw.noisy_probability[0] == pytest.approx(sw.probability, rel=1e-4)
    assert sw.noisy_accuracy[-1] <= sw.noisy_accuracy[0]
    # common random numbers: σ = 10 % with the sweep's ε equals a direct average over x + σ ε
    g = torch.Generator().manual_seed(4)
    eps = torch.randn((16, 1, 28, 28), generator=g)
    from dlcore.explain.smoothgrad import noisy_gradients, sigma_absolute

    grads, _ = noisy_gradients(model, image, sw.target, sigma_absolute(image, 10.0), 16, eps=eps)
    torch.testing.assert_close(sw.maps[1], reduce_noisy(grads, "smoothgrad").sum(0).abs())


@pytest.mark.parametrize("ns,message", [((), "non-empty"), ((0, 5), r"\[1, 1000\]"), ((5000,), r"\[1, 1000\]"),
                                        ("50", "non-empty list"), ((2.5,), "whole numbers")])
def test_convergence_refuses_bad_ns(cnn, image, ns, message) -> None:
    _, model, _ = cnn
    with pytest.raises(ValueError, match=message):
        smoothgrad_convergence(model, image, ns=ns)


def test_sweep_refuses_bad_sigmas_and_caps_the_work(cnn, image) -> None:
    _, model, _ = cnn
    with pytest.raises(ValueError, match=r"\[0, 100\]"):
        smoothgrad_sigma_sweep(model, image, (10, 150))
    with pytest.raises(ValueError, match="exceed the limit"):
        smoothgrad_sigma_sweep(model, image, tuple(range(0, 100, 10)), {"n_samples": 1000})
    with pytest.raises(ValueError, match="kind 'vargrad2'"):
        smoothgrad(model, image, 0, SmoothGradConfig(n_samples=2), kind="vargrad2")  # type: ignore[arg-type]


def test_spearman_matches_scipy_with_ties() -> None:
    g = torch.Generator().manual_seed(0)
    a = torch.randint(0, 5, (12, 12), generator=g).float()  # many ties
    b = a + torch.randn(12, 12, generator=g)
    assert spearman(a, b) == pytest.approx(stats.spearmanr(a.flatten(), b.flatten()).statistic, abs=1e-10)
    assert spearman(a, a) == pytest.approx(1.0) and spearman(a, -a) == pytest.approx(-1.0)
    assert spearman(torch.zeros(4, 4), a[:4, :4]) == 0.0
    with pytest.raises(ValueError, match="cannot be compared"):
        spearman(a, a[:3])


def test_topk_overlap() -> None:
    a = torch.arange(100.0).view(10, 10)
    assert topk_overlap(a, a, 10) == 1.0
    assert topk_overlap(a, -a, 10) == 0.0
    b = a.clone()
    b.view(-1)[95:] = -1  # half of a's top 10 leave b's top set
    assert topk_overlap(a, b, 10) == 0.5
    with pytest.raises(ValueError, match="k_pct 0"):
        topk_overlap(a, a, 0)


def _ssim_reference(a: np.ndarray, b: np.ndarray, sigma: float = 1.5) -> float:
    """scikit-image's structural_similarity(gaussian_weights=True, data_range=1) written with scipy."""
    a = (a - a.min()) / (a.max() - a.min())
    b = (b - b.min()) / (b.max() - b.min())
    r = int(3.5 * sigma + 0.5)
    f = lambda z: ndimage.gaussian_filter(z, sigma, truncate=3.5)  # noqa: E731
    ux, uy = f(a), f(b)
    vx, vy, vxy = f(a * a) - ux * ux, f(b * b) - uy * uy, f(a * b) - ux * uy
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux ** 2 + uy ** 2 + c1) * (vx + vy + c2))
    return float(s[r:-r, r:-r].mean())


def test_ssim_matches_the_scikit_image_recipe(image) -> None:
    g = torch.Generator().manual_seed(3)
    a = image[0, 0].double()
    b = (a + 0.2 * torch.randn(28, 28, generator=g, dtype=torch.float64)).clamp(0, 1)
    assert ssim(a, b) == pytest.approx(_ssim_reference(a.numpy(), b.numpy()), abs=1e-9)
    assert ssim(a, a) == pytest.approx(1.0)
    assert ssim(a, b) < 0.9
    assert -1 <= ssim(torch.rand(8, 8, generator=g), torch.rand(8, 8, generator=g)) <= 1  # small maps work
