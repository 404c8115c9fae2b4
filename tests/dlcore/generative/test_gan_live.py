"""The live 2-D GAN: frames carry what the panel draws, arrows are -dL_G/dx, runs stop and refuse bad input."""

from __future__ import annotations

import threading

import pytest
import torch

from dlcore.generative import GAN_TOYS, OBJECTIVES, GANLiveConfig, generator_loss, train_gan_2d
from dlcore.generative.gan_live import MAX_FRAMES


@pytest.mark.parametrize("objective", sorted(OBJECTIVES))
def test_frames_of_each_objective(objective: str) -> None:
    cfg = GANLiveConfig("ring", objective, steps=20, frame_every=10, grid=16, arrows=4, n_show=200, hidden=32)
    frames = list(train_gan_2d(cfg))
    assert [f.step for f in frames] == [0, 10, 20] and frames[-1].status == "finished"
    f = frames[-1]
    assert f.samples.shape == (200, 2) and f.real.shape == (200, 2)
    assert f.surface.shape == (16, 16) and f.grid_x.shape == (16,)
    assert f.arrow_from.shape == (16, 2) == f.arrow_dir.shape
    if OBJECTIVES[objective].critic:
        assert f.surface_kind.startswith("critic")
    else:
        assert f.surface_kind.startswith("P(real)") and 0 <= float(f.surface.min()) <= float(f.surface.max()) <= 1
    assert f.curves.step == [0, 10, 20] and len(f.curves.modes) == 3 == len(f.curves.d_loss)
    assert 0 <= f.modes_covered <= f.n_modes == 8 and f.message.startswith("Finished 20 steps")


def test_arrows_are_minus_the_generator_loss_gradient() -> None:
    """Rebuild G and D from the seed and check one arrow by hand: -d/dx L_G(D(x)) at x = G(z)."""
    cfg = GANLiveConfig("two_moons", "non_saturating", steps=1, frame_every=1, arrows=3, hidden=16, layers=1)
    f0 = next(iter(train_gan_2d(cfg)))
    from dlcore.models.generative import MLPDiscriminator, MLPGenerator

    torch.manual_seed(cfg.seed)
    G, D = MLPGenerator(2, 2, 16, 1), MLPDiscriminator(2, 16, 1)
    x = G(f0.arrow_from.new_tensor([[-2.0, -2.0]])).detach().requires_grad_(True)  # first latent grid point
    torch.testing.assert_close(x.detach(), f0.arrow_from[:1])
    generator_loss("non_saturating", D(x)).backward()
    torch.testing.assert_close(f0.arrow_dir[:1], -x.grad)


def test_same_seed_same_frames_and_stop_event() -> None:
    cfg = GANLiveConfig("grid", "wgan", steps=8, frame_every=4, grid=8, arrows=2, n_show=50, hidden=16)
    a, b = list(train_gan_2d(cfg)), list(train_gan_2d(cfg))
    torch.testing.assert_close(a[-1].samples, b[-1].samples)
    stop = threading.Event()
    frames = []
    for f in train_gan_2d(GANLiveConfig(steps=1000, frame_every=5, hidden=16, n_show=50), stop_event=stop):
        frames.append(f)
        stop.set()
    assert len(frames) == 2 and frames[-1].status == "stopped" and frames[-1].step == 1


def test_registry_of_gan_toys_all_run() -> None:
    for name in GAN_TOYS:
        f = list(train_gan_2d(GANLiveConfig(name, steps=2, frame_every=2, grid=8, arrows=2, n_show=20, hidden=8)))[-1]
        assert f.dataset == name and f.extent[0] < f.extent[1]


@pytest.mark.parametrize("bad, match", [
    (dict(dataset="gauss_1d"), "GAN data set 'gauss_1d' is not one of"),
    (dict(objective="hinge"), "objective 'hinge' is not one of"),
    (dict(steps=10**7), "steps 10000000 must be in"),
    (dict(steps=100_000, frame_every=1), f"more than {MAX_FRAMES} frames"),
    (dict(grid=5000), "grid 5000 must be in"),
    (dict(n_show=10**6), "n_show 1000000 must be in"),
    (dict(lr="fast"), "learning rate 'fast' must be a number"),
])
def test_bad_live_configs_are_refused_before_training(bad: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        next(iter(train_gan_2d(GANLiveConfig(**bad))))
