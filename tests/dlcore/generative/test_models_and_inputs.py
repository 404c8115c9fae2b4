"""Generators, discriminators and denoisers: shapes, ranges, time embedding; schedules and samplers refuse bad input."""

from __future__ import annotations

import math
import threading

import pytest
import torch

from dlcore.generative import (BETA_SCHEDULES, MAX_TIMESTEPS, NoiseScheduleConfig, SamplerConfig, forward_trajectory,
                               make_schedule, q_sample, sample, schedule_curves, schedule_from_betas)
from dlcore.models.denoisers import MLPDenoiser, SmallUNet, timestep_embedding
from dlcore.models.generative import DCGAN, MLPDiscriminator, MLPGenerator


def test_gan_mlps_and_dcgan_shapes_and_pixel_range() -> None:
    torch.manual_seed(0)
    assert MLPGenerator(3, 2)(torch.randn(5, 3)).shape == (5, 2)
    assert MLPDiscriminator(2)(torch.randn(5, 2)).shape == (5, 1)
    gan = DCGAN(latent_dim=16, g_base=8, d_base=8).eval()
    imgs = gan.sample(6, seed=2)
    assert imgs.shape == (6, 1, 28, 28) and imgs.min() >= 0 and imgs.max() <= 1
    torch.testing.assert_close(imgs, gan.sample(6, seed=2))              # a seed gives the same grid
    assert not torch.equal(imgs, gan.sample(6, seed=3))
    assert gan.discriminator(imgs).shape == (6, 1)
    with pytest.raises(ValueError, match="hidden 0 must be an integer"):
        MLPGenerator(hidden=0)


def test_denoisers_predict_noise_shaped_like_the_input() -> None:
    torch.manual_seed(0)
    t = torch.tensor([0, 10, 999])
    for time_input in ("sinusoidal", "scalar"):
        net = MLPDenoiser(2, 32, 2, time_input)
        assert net(torch.randn(3, 2), t).shape == (3, 2)
    unet = SmallUNet(channels=(8, 16, 16), t_dim=16)
    out = unet(torch.randn(3, 1, 28, 28), t)
    assert out.shape == (3, 1, 28, 28)
    out.sum().backward()
    assert all(p.grad is not None for p in unet.parameters())
    # the network does depend on t (through every residual block)
    x = torch.randn(1, 1, 28, 28)
    assert not torch.allclose(unet(x, torch.tensor([0])), unet(x, torch.tensor([900])))
    with pytest.raises(ValueError, match="divisible by 4"):
        unet(torch.randn(1, 1, 30, 30), torch.tensor([0]))


def test_sinusoidal_embedding_formula() -> None:
    t = torch.tensor([0, 1, 500])
    e = timestep_embedding(t, 8)
    freqs = torch.tensor([10000 ** (-i / 4) for i in range(4)])
    torch.testing.assert_close(e, torch.cat([torch.sin(t[:, None] * freqs), torch.cos(t[:, None] * freqs)], 1))
    with pytest.raises(ValueError, match="even"):
        timestep_embedding(t, 7)


def test_closed_form_forward_equals_the_step_by_step_chain() -> None:
    """x_t = sqrt(ab_t) x0 + sqrt(1 - ab_t) eps has the same law as t one-step updates (seed §dl_8_1)."""
    s = make_schedule(NoiseScheduleConfig(n_timesteps=200))
    g = torch.Generator().manual_seed(0)
    x0 = torch.full((20000, 1), 3.0)
    x = x0.clone()
    for t in range(120):
        x = (1 - s.betas[t]).sqrt() * x + s.betas[t].sqrt() * torch.randn(x.shape, generator=g)
    direct = q_sample(s, x0, 119, generator=g)
    assert float(x.mean()) == pytest.approx(float(direct.mean()), abs=0.02)
    assert float(x.std()) == pytest.approx(float(direct.std()), abs=0.02)
    assert float(direct.mean()) == pytest.approx(3 * float(s.sqrt_alpha_bars[119]), abs=0.02)


def test_schedule_curves_and_cosine_keeps_more_signal_early() -> None:
    c = schedule_curves()
    assert set(c) == set(BETA_SCHEDULES)
    for k in ("t", "beta", "alpha_bar", "sqrt_alpha_bar", "sqrt_one_minus_alpha_bar", "snr"):
        assert c["linear"][k].shape == (1000,)
    torch.testing.assert_close(c["linear"]["sqrt_alpha_bar"] ** 2, c["linear"]["alpha_bar"])
    assert float(c["cosine"]["alpha_bar"][300]) > float(c["linear"]["alpha_bar"][300])


def test_forward_trajectory_reuses_one_noise() -> None:
    s = make_schedule()
    x0 = torch.randn(5, 2)
    tr = forward_trajectory(s, x0, [0, 499, 999], seed=3)
    assert tr.x_t.shape == (3, 5, 2) and tr.timesteps == [0, 499, 999]
    torch.testing.assert_close(tr.x_t[1], q_sample(s, x0, 499, tr.noise))


@pytest.mark.parametrize("cfg, match", [
    (NoiseScheduleConfig(beta_start=0.0), "beta_start 0 must be in \\(0, 1\\)"),
    (NoiseScheduleConfig(beta_end=1.0), "beta_end 1 must be in \\(0, 1\\)"),
    (NoiseScheduleConfig(beta_start=0.02, beta_end=1e-4), "beta_end 0.0001 must be >= beta_start 0.02"),
    (NoiseScheduleConfig(n_timesteps=MAX_TIMESTEPS + 1), f"T \\(n_timesteps\\) {MAX_TIMESTEPS + 1} must be in"),
    (NoiseScheduleConfig(n_timesteps=0), "T \\(n_timesteps\\) 0 must be in"),
    (NoiseScheduleConfig(n_timesteps="1000"), "T \\(n_timesteps\\) '1000' must be an integer"),
    (NoiseScheduleConfig(schedule="sigmoid"), "beta schedule 'sigmoid' is not one of"),
    (NoiseScheduleConfig(beta_end=float("nan")), "beta_end nan must be a finite number"),
])
def test_schedules_that_make_no_sense_are_refused(cfg: NoiseScheduleConfig, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        make_schedule(cfg)


def test_explicit_betas_are_checked() -> None:
    assert schedule_from_betas([0.1, 0.2]).n_timesteps == 2
    with pytest.raises(ValueError, match="beta 1.5 must be in \\(0, 1\\)"):
        schedule_from_betas([0.1, 1.5])
    with pytest.raises(ValueError, match="beta must not decrease"):
        schedule_from_betas([0.2, 0.1], increasing=True)
    with pytest.raises(ValueError, match="must be in \\[1, 4000\\]"):
        schedule_from_betas([0.01] * 5000)


class _Zero(torch.nn.Module):
    dim = 2

    def __init__(self) -> None:
        super().__init__()
        self.p = torch.nn.Parameter(torch.zeros(()))

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return torch.zeros_like(x) + self.p


@pytest.mark.parametrize("cfg, shape, match", [
    (SamplerConfig("ddpm", steps=5000), (4, 2), "sampling steps 5000 must be in \\[1, 1000\\]"),
    (SamplerConfig("ddim", steps=0), (4, 2), "sampling steps 0 must be in"),
    (SamplerConfig("euler"), (4, 2), "sampler 'euler' is not one of"),
    (SamplerConfig("ddim", eta=2.0), (4, 2), "eta 2 must be in \\[0, 1\\]"),
    (SamplerConfig("ddim", spacing="karras"), (4, 2), "timestep spacing 'karras' is not one of"),
    (SamplerConfig("ddpm", variance="learned"), (4, 2), "variance 'learned' is not one of"),
    (SamplerConfig(), (10**6, 2), "number of samples 1000000 must be in"),
    (SamplerConfig(), (5000, 1, 28, 28), "number of samples 5000 must be in \\[1, 1024\\]"),
])
def test_sampler_caps_and_bad_configs(cfg: SamplerConfig, shape: tuple, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        sample(_Zero(), make_schedule(), shape, cfg)


def test_sampling_stops_on_request_and_keeps_frames() -> None:
    stop = threading.Event()
    res = sample(_Zero(), make_schedule(), (8, 2), SamplerConfig("ddpm"), keep=5,
                 callback=lambda i, m: stop.set() if i == 99 else None, stop_event=stop)
    assert res.status == "stopped" and res.model_calls == 100
    assert res.kept == [0] and res.trajectory.shape == (1, 8, 2)
    full = sample(_Zero(), make_schedule(), (8, 2), SamplerConfig("ddim", steps=20), keep=5)
    assert full.status == "finished" and full.kept == [0, 5, 10, 14, 19] and len(full.stds) == 20
    assert all(s == 0.0 for s in full.stds)  # eta = 0: deterministic
    assert math.isfinite(full.seconds)
