"""The seed's 1-D DDPM (003 §dl_8_2) trained with the one Trainer recovers N(3, 2^2); frames, stop, caps."""

from __future__ import annotations

import threading

import pytest
import torch

from dlcore.generative import (NoiseScheduleConfig, SamplerConfig, ToyDiffusionConfig, fit_toy_diffusion,
                               sample_toy_diffusion, train_toy_diffusion)


@pytest.fixture(scope="module")
def seed_run():
    torch.set_num_threads(1)
    return fit_toy_diffusion(ToyDiffusionConfig())  # N = 1000, 1000 full-batch Adam steps, T = 1000


def test_seed_example_recovers_mean_3_and_std_2(seed_run) -> None:
    assert seed_run.status == "finished" and seed_run.step == 1000 and len(seed_run.losses) == 1000
    assert sum(seed_run.losses[-100:]) / 100 < sum(seed_run.losses[:100]) / 100  # it learned
    out = sample_toy_diffusion(seed_run.model, seed_run.schedule, n=2000, seed=0)  # the seed's 1000 reverse steps
    assert out.result.model_calls == 1000 and out.result.samples.shape == (2000, 1)
    assert abs(float(out.mean[0]) - 3.0) <= 0.2, float(out.mean[0])
    assert abs(float(out.std[0]) - 2.0) <= 0.2, float(out.std[0])
    assert (out.target_mean, out.target_std) == (3.0, 2.0)
    # the kept frames run from noise (std ~1 around 0) to data
    first = out.result.trajectory[0]
    assert abs(float(first.mean())) < 0.15 and abs(float(first.std()) - 1) < 0.1


def test_ddim_50_samples_the_same_model(seed_run) -> None:
    out = sample_toy_diffusion(seed_run.model, seed_run.schedule, n=2000, config=SamplerConfig("ddim", 50), seed=1)
    assert out.result.model_calls == 50
    assert abs(float(out.mean[0]) - 3.0) <= 0.3 and abs(float(out.std[0]) - 2.0) <= 0.3


def test_frames_stream_the_trainer_losses_and_stop() -> None:
    stop = threading.Event()
    frames = []
    cfg = ToyDiffusionConfig("swiss_roll", n_data=200, steps=60, batch_size=64, frame_every=20,
                             schedule=NoiseScheduleConfig(n_timesteps=100))
    for f in train_toy_diffusion(cfg, stop_event=stop):
        frames.append(f)
        if f.step >= 40:
            stop.set()
    assert [f.step for f in frames][:3] == [0, 20, 40]
    assert frames[-1].status == "stopped" and frames[-1].step < 60
    assert frames[-1].data.shape == (200, 2) and frames[-1].model.dim == 2
    assert frames[-1].losses[:20] == frames[1].losses  # one loss log, growing


def test_callback_sees_every_step_and_can_stop() -> None:
    seen = []
    cfg = ToyDiffusionConfig(n_data=50, steps=30, schedule=NoiseScheduleConfig(n_timesteps=50))
    last = list(train_toy_diffusion(cfg, callback=lambda s, m: (seen.append((s, m["loss"])), s >= 10)[1]))[-1]
    assert [s for s, _ in seen] == list(range(1, 11)) and last.status == "stopped"


def test_same_seed_same_run() -> None:
    cfg = ToyDiffusionConfig(n_data=100, steps=20, schedule=NoiseScheduleConfig(n_timesteps=50), seed=4)
    assert fit_toy_diffusion(cfg).losses == fit_toy_diffusion(cfg).losses


@pytest.mark.parametrize("bad, match", [
    (dict(dataset="mnist"), "diffusion data set 'mnist' is not one of"),
    (dict(steps=10**7), "steps 10000000 must be in"),
    (dict(n_data="1000"), "n_data '1000' must be an integer"),
    (dict(lr=0.0), "learning rate 0 must be in"),
    (dict(time_input="learned"), "time input 'learned' is not one of"),
    (dict(schedule=NoiseScheduleConfig(n_timesteps=10**6)), "T \\(n_timesteps\\) 1000000 must be in"),
    (dict(schedule=NoiseScheduleConfig(beta_end=1.5)), "beta_end 1.5 must be in \\(0, 1\\)"),
])
def test_bad_toy_configs_are_refused(bad: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        next(train_toy_diffusion(ToyDiffusionConfig(**bad)))
