"""Our wrappers give Captum's numbers (same seeds), and the methods' defining properties hold."""

from __future__ import annotations

import math

import pytest
import torch
from captum.attr import (
    GuidedBackprop, InputXGradient, IntegratedGradients, LayerAttribution, LayerGradCam, Lime, NoiseTunnel, Occlusion,
    Saliency,
)

from dlcore.explain import explain, make_baseline
from dlcore.explain.gradcam import GradCamConfig, gradcam
from dlcore.explain.integrated import IGConfig, integrated_gradients
from dlcore.explain.lime import LimeConfig, lime, superpixels
from dlcore.explain.occlusion import OcclusionConfig, occlusion
from dlcore.explain.smoothgrad import SmoothGradConfig, smoothgrad


def _target(model, x) -> int:
    with torch.no_grad():
        return int(model(x).argmax())


def test_gradient_family_equals_captum(tiny) -> None:
    model, x = tiny
    t = _target(model, x)
    a = explain(model, x, "gradient")
    torch.testing.assert_close(a.map, Saliency(model).attribute(x.clone().requires_grad_(), target=t)[0, 0])
    a = explain(model, x, "gradient_x_input")
    torch.testing.assert_close(a.raw, InputXGradient(model).attribute(x.clone().requires_grad_(), target=t)[0])
    a = explain(model, x, "guided_backprop")
    ref = GuidedBackprop(model).attribute(x.clone().requires_grad_(), target=t)[0]
    torch.testing.assert_close(a.raw, ref)
    assert not torch.allclose(ref, Saliency(model).attribute(x.clone().requires_grad_(), target=t, abs=False)[0])


@pytest.mark.parametrize("kind", ["smoothgrad", "smoothgrad_sq", "vargrad"])
@pytest.mark.parametrize("n,batch,sigma_pct", [(20, 64, 15.0), (23, 8, 10.0), (5, 1, 40.0)])
def test_noise_tunnel_equals_captum(tiny, kind: str, n: int, batch: int, sigma_pct: float) -> None:
    model, x = tiny
    t = _target(model, x)
    cfg = SmoothGradConfig(sigma_pct=sigma_pct, n_samples=n, batch_size=batch, seed=7)
    ours = smoothgrad(model, x, t, cfg, kind)
    torch.manual_seed(7)
    sigma = sigma_pct / 100 * float(x.max() - x.min())
    ref = NoiseTunnel(Saliency(model)).attribute(x.clone(), nt_type=kind, nt_samples=n, nt_samples_batch_size=batch,
                                                 stdevs=sigma, target=t, abs=False)
    torch.testing.assert_close(ours, ref, rtol=1e-4, atol=1e-6)


def test_smoothgrad_with_one_sample_and_no_noise_is_the_gradient(cnn, image) -> None:
    _, model, _ = cnn
    sg = explain(model, image, "smoothgrad", {"sigma_pct": 0.0, "n_samples": 1})
    g = explain(model, image, "gradient")
    torch.testing.assert_close(sg.raw, g.raw)
    torch.testing.assert_close(sg.map, g.map)


@pytest.mark.parametrize("baseline", ["black", "blurred", "uniform"])
def test_integrated_gradients_equals_captum_and_is_complete(cnn, image, baseline: str) -> None:
    _, model, _ = cnn
    t = _target(model, image)
    cfg = IGConfig(baseline=baseline, n_steps=64, seed=3)
    attr, delta, base = integrated_gradients(model, image, t, cfg)
    torch.testing.assert_close(base, make_baseline(image, baseline, cfg.blur_sigma, 3))
    ref, ref_delta = IntegratedGradients(model).attribute(image.clone(), baselines=base, target=t, n_steps=64,
                                                          return_convergence_delta=True)
    torch.testing.assert_close(attr, ref, rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(delta, ref_delta, rtol=1e-3, atol=1e-5)
    # completeness: sum of attributions = f(x) - f(x'), up to the quadrature's convergence delta
    with torch.no_grad():
        diff = float(model(image)[0, t] - model(base)[0, t])
    total = float(attr.sum())
    assert abs(total - diff) <= abs(float(delta)) + 1e-4
    assert abs(float(delta)) < 0.05 * abs(diff) + 1e-3  # 64 Gauss-Legendre points: nearly exact


def test_integrated_gradients_explain_reports_delta(cnn, image) -> None:
    _, model, _ = cnn
    a = explain(model, image, "integrated_gradients", {"n_steps": 300})
    with torch.no_grad():
        diff = float(model(image)[0, a.target] - model(torch.zeros_like(image))[0, a.target])
    assert a.delta is not None and abs(float(a.raw.sum()) - diff) <= abs(a.delta) + 1e-4
    assert abs(a.delta) < 1e-2 * abs(diff)


@pytest.mark.parametrize("patch,stride,baseline", [(4, 2, "black"), (5, 2, "gray"), (3, 3, "black"), (2, 1, "blurred"),
                                                   (12, 5, "gray")])
@pytest.mark.parametrize("score", ["probability", "logit"])
def test_occlusion_equals_captum(tiny, patch: int, stride: int, baseline: str, score: str) -> None:
    model, x = tiny
    t = _target(model, x)
    cfg = OcclusionConfig(patch=patch, stride=stride, baseline=baseline, score=score, perturbations_per_eval=7)
    ours = occlusion(model, x, t, cfg)
    f = (lambda z: torch.softmax(model(z), 1)) if score == "probability" else model
    from dlcore.explain.base import gaussian_blur

    fill = {"black": 0.0, "gray": 0.5, "blurred": gaussian_blur(x, patch / 2)}[baseline]
    ref = Occlusion(f).attribute(x, sliding_window_shapes=(1, patch, patch), strides=(1, stride, stride),
                                 baselines=fill, target=t, perturbations_per_eval=16)
    torch.testing.assert_close(ours, ref, rtol=1e-4, atol=1e-6)


def test_occlusion_finds_the_one_pixel_the_model_looks_at(one_pixel) -> None:
    x = 0.2 + 0.8 * torch.rand(1, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    a = explain(one_pixel, x, "occlusion", {"patch": 1, "stride": 1})
    assert a.target == 0
    assert divmod(int(a.map.argmax()), 28) == (9, 17)
    assert float(a.map.flatten().topk(2).values[1]) == 0.0  # nothing else matters
    a = explain(one_pixel, x, "occlusion")  # 4x4 windows, stride 2: the pixel is in the peak, the rest is 0 far away
    peak = a.map == a.map.max()
    assert bool(peak[9, 17])
    far = torch.ones(28, 28, dtype=torch.bool)
    far[9 - 3:9 + 4, 17 - 3:17 + 4] = False
    assert float(a.map[far].abs().max()) == 0.0


def test_occlusion_caps_the_masks_it_holds() -> None:
    from dlcore.explain.occlusion import MAX_MASK_PIXELS

    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(256 * 256, 2)).eval()
    x = torch.rand(1, 1, 256, 256)
    with pytest.raises(ValueError, match="65536 windows"):
        occlusion(model, x, 0, OcclusionConfig(patch=1, stride=1))
    assert 256 ** 2 * 16 ** 2 < MAX_MASK_PIXELS  # 16 x 16 windows of a 256 x 256 image are fine
    assert occlusion(model, x, 0, OcclusionConfig(patch=16, stride=16)).shape == x.shape


def test_gradcam_equals_captum(cnn, image) -> None:
    _, model, _ = cnn
    t = _target(model, image)
    up, coarse, layer = gradcam(model, image, t, GradCamConfig())
    assert layer == "block2.2"  # the ReLU after the last convolution (rectified A^k)
    ref = LayerGradCam(model, model.get_submodule(layer)).attribute(image.clone().requires_grad_(), target=t,
                                                                    relu_attributions=True)
    torch.testing.assert_close(coarse, ref)
    torch.testing.assert_close(up, LayerAttribution.interpolate(ref, (28, 28), "bilinear"))
    assert float(up.min()) >= 0.0 and tuple(coarse.shape[-2:]) == (14, 14)


def test_lime_equals_captum_lime_set_up_like_the_lime_package(tiny) -> None:
    from captum._utils.models.linear_model import SkLearnRidge

    model, x = tiny
    t = _target(model, x)
    cfg = LimeConfig(n_samples=300, seed=5, n_segments=9)
    ours, seg = lime(model, x, t, cfg)
    k = int(seg.max()) + 1
    gen = torch.Generator().manual_seed(5)

    def perturb(original, **kw):
        return torch.bernoulli(torch.full((1, k), 0.5), generator=gen).long()

    def kernel(original, perturbed, z, **kw):  # lime package: cosine distance in the interpretable space
        z = z.float().flatten()
        if not z.any():
            return math.exp(-1 / (2 * 0.25 ** 2))
        d = 1 - float(torch.nn.functional.cosine_similarity(z, torch.ones_like(z), dim=0))
        return math.exp(-d * d / (2 * 0.25 ** 2))

    ref = Lime(lambda z: torch.softmax(model(z), 1), SkLearnRidge(alpha=1.0), similarity_func=kernel,
               perturb_func=perturb).attribute(x, baselines=torch.zeros_like(x), target=t,
                                               feature_mask=seg[None, None], n_samples=300)
    torch.testing.assert_close(ours, ref.float(), rtol=1e-4, atol=1e-6)
    # one weight per superpixel, spread over its pixels
    for s in range(k):
        vals = ours[0, 0][seg == s]
        assert torch.all(vals == vals[0])


@pytest.mark.parametrize("method", ["slic", "grid"])
@pytest.mark.parametrize("side,n", [(28, 49), (28, 16), (8, 49), (12, 9)])
def test_superpixels_cover_the_image_with_consecutive_labels(image, method: str, side: int, n: int) -> None:
    x = torch.nn.functional.interpolate(image, size=(side, side), mode="bilinear") if side != 28 else image
    seg = superpixels(x, n, method)
    assert seg.shape == (side, side) and seg.dtype == torch.int64
    k = int(seg.max()) + 1
    assert set(seg.unique().tolist()) == set(range(k))
    assert 2 <= k <= min(n, side * side // 4)


def test_slic_follows_the_object_better_than_the_grid(image) -> None:
    """A SLIC segment is mostly object or mostly background; grid cells straddle the outline."""
    obj = image[0, 0] > 0.1

    def purity(seg: torch.Tensor) -> float:
        p = [max(float(obj[seg == s].float().mean()), 1 - float(obj[seg == s].float().mean()))
             for s in range(int(seg.max()) + 1)]
        return sum(p) / len(p)

    assert purity(superpixels(image, 49, "slic")) > purity(superpixels(image, 49, "grid"))
