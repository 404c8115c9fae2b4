"""Every generative figure renders legibly; image helpers work with any DCGAN / denoiser (no zoo needed)."""

from __future__ import annotations

import pytest
import torch
from matplotlib.figure import Figure
from matplotlib.text import Text

from dlcore.generative import (GANLiveConfig, SamplerConfig, ToyDiffusionConfig, classifier_score, ddpm_image_samples,
                               dcgan_interpolation, dcgan_samples, divergence_at, divergence_sweep, fit_toy_diffusion,
                               forward_trajectory, image_forward, inception_score, interpolate_latents, make_schedule,
                               nearest_training_images, sample_toy, sample_toy_diffusion, schedule_curves, train_gan_2d)
from dlcore.models.denoisers import SmallUNet
from dlcore.models.generative import DCGAN
from dlcore.plotting import figure_to_png
from dlcore.plotting import diffusion as dp
from dlcore.plotting import generative as gp


class _Clf(torch.nn.Module):
    """A fixed 'classifier': class = mean brightness bucket."""

    def __init__(self) -> None:
        super().__init__()
        self.w = torch.nn.Parameter(torch.ones(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m = x.mean((1, 2, 3))
        return -((m[:, None] * 10 - torch.arange(10.0)) ** 2) * self.w * 4


@pytest.fixture(scope="module")
def gan() -> DCGAN:
    torch.manual_seed(0)
    return DCGAN(16, 8, 8).eval()


@pytest.fixture(scope="module")
def ddpm() -> tuple[torch.nn.Module, object]:
    torch.manual_seed(0)
    return SmallUNet(channels=(8, 8, 8), t_dim=16).eval(), make_schedule()


def _legible(fig: Figure) -> None:
    assert isinstance(fig, Figure)
    png = figure_to_png(fig)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    small = [t.get_text() for t in fig.findobj(Text) if t.get_text() and t.get_fontsize() < gp.MIN_PT]
    assert not small, small


def test_gan_and_divergence_figures() -> None:
    frames = list(train_gan_2d(GANLiveConfig("ring", "wgan_gp", steps=4, frame_every=2, grid=10, arrows=3,
                                             n_show=50, hidden=8)))
    _legible(gp.gan_frame_figure(frames[-1]))
    _legible(gp.gan_frame_figure(frames[0], show_arrows=False, show_surface=False))
    _legible(gp.gan_curves_figure(frames[-1].curves, n_modes=8, critic=True))
    _legible(gp.divergence_figure(divergence_sweep("lines", 2.0, 11, 500), divergence_at("lines", 1.0, 500)))
    _legible(gp.divergence_figure(divergence_sweep("gaussian", 2.0, 5, 500)))


def test_diffusion_figures() -> None:
    s = make_schedule()
    _legible(dp.schedules_figure(schedule_curves()))
    for name in ("gauss_1d", "swiss_roll"):
        _legible(dp.forward_figure(forward_trajectory(s, sample_toy(name, 300), [0, 100, 500, 999])))
    _legible(dp.forward_figure(image_forward(torch.rand(1, 28, 28), [0, 10, 500, 999])))
    run = fit_toy_diffusion(ToyDiffusionConfig(n_data=100, steps=5))
    out = sample_toy_diffusion(run.model, run.schedule, 200, SamplerConfig("ddim", 10), keep=4)
    _legible(dp.histogram_vs_target_figure(out, run.data))
    _legible(dp.reverse_figure(out.result))
    _legible(dp.reverse_figure(out.result, frame=2))
    _legible(dp.loss_figure(run.losses, total=5))
    _legible(dp.loss_figure([]))
    _legible(dp.points_figure(sample_toy("spiral", 100), sample_toy("spiral", 100, 1)))
    _legible(dp.sampler_steps_figure([5, 10, 50], [0.1, 0.2, 1.0], [0.5, 0.6, 0.7]))


def test_image_helpers_and_figures(gan: DCGAN, ddpm) -> None:
    clf = _Clf()
    a = dcgan_samples(6, seed=4, model=gan)
    assert a.images.shape == (6, 1, 28, 28) and a.latents.shape == (6, 16)
    torch.testing.assert_close(a.images, dcgan_samples(6, seed=4, model=gan).images)
    score = classifier_score(a.images, clf)
    assert score.class_counts.sum() == 6 and 0 < score.mean_confidence <= 1 and 1 <= score.inception_score <= 10
    _legible(gp.sample_grid_figure(a.images, score, ncols=3, title="seed 4"))
    _legible(gp.class_histogram_figure(score, score))
    res = ddpm_image_samples(3, seed=0, config=SamplerConfig("ddim", 5, clip_sample=1.0), keep=3, model=ddpm)
    assert res.samples.shape == (3, 1, 28, 28) and 0 <= float(res.samples.min()) and float(res.samples.max()) <= 1
    assert res.trajectory.shape == (3, 3, 1, 28, 28) and res.model_calls == 5
    _legible(dp.reverse_figure(res))
    _legible(dp.reverse_figure(res, frame=1, n_images=3))
    train = torch.rand(50, 1, 28, 28)
    nb = nearest_training_images(a.images[:2], k=2, train=train, labels=torch.arange(50))
    d = torch.cdist(a.images[:2].flatten(1), train.flatten(1))
    torch.testing.assert_close(nb.distances, d.topk(2, largest=False).values)
    torch.testing.assert_close(nb.images[:, 0], train[nb.indices[:, 0]])
    _legible(gp.neighbours_figure(a.images[:2], nb))


def test_interpolation_walks_from_one_sample_to_the_other(gan: DCGAN, monkeypatch) -> None:
    import dlcore.generative.image_models as im

    monkeypatch.setattr(im, "classifier_score", lambda imgs: classifier_score(imgs, _Clf()))
    walk = dcgan_interpolation(1, 2, steps=5, mode="slerp", model=gan)
    torch.testing.assert_close(walk.images[0], dcgan_samples(1, 1, gan).images[0])
    torch.testing.assert_close(walk.images[-1], dcgan_samples(1, 2, gan).images[0])
    assert walk.score.n == 5 and walk.fractions.tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    _legible(gp.interpolation_figure(walk))
    z0, z1 = torch.randn(16), torch.randn(16)
    zs, _ = interpolate_latents(z0, z1, 9, "slerp")
    lin, _ = interpolate_latents(z0, z1, 9, "linear")
    assert zs[4].norm() > lin[4].norm()  # the great circle keeps a typical norm, the chord dips
    with pytest.raises(ValueError, match="interpolation 'cubic' is not one of"):
        interpolate_latents(z0, z1, 3, "cubic")  # type: ignore[arg-type]


def test_inception_score_bounds() -> None:
    eye = torch.eye(10)
    assert inception_score(eye) == pytest.approx(10.0)                     # confident and balanced
    assert inception_score(eye[[3] * 10]) == pytest.approx(1.0)             # one class only (collapse)
    assert inception_score(torch.full((10, 10), 0.1)) == pytest.approx(1.0)  # no confidence
