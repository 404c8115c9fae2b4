"""Our schedules, forward process and DDPM/DDIM steps equal diffusers' schedulers (test-only oracle)."""

from __future__ import annotations

import pytest
import torch

from dlcore.generative import (NoiseScheduleConfig, SamplerConfig, ddim_step, ddpm_step, inference_timesteps,
                               make_schedule, q_sample, sample)

diffusers = pytest.importorskip("diffusers")
DIFFUSERS_NAME = {"linear": "linear", "cosine": "squaredcos_cap_v2"}


def _ddpm(schedule: str, variance: str = "fixed_small", T: int = 1000):
    return diffusers.DDPMScheduler(num_train_timesteps=T, beta_schedule=DIFFUSERS_NAME[schedule],
                                   variance_type=variance, clip_sample=False, prediction_type="epsilon",
                                   timestep_spacing="leading")


def _ddim(schedule: str, spacing: str = "leading"):
    return diffusers.DDIMScheduler(num_train_timesteps=1000, beta_schedule=DIFFUSERS_NAME[schedule], clip_sample=False,
                                   prediction_type="epsilon", set_alpha_to_one=True, steps_offset=0,
                                   timestep_spacing=spacing)


@pytest.mark.parametrize("name", ["linear", "cosine"])
def test_schedule_tables_equal_diffusers(name: str) -> None:
    ours = make_schedule(NoiseScheduleConfig(name))
    ref = _ddpm(name)
    torch.testing.assert_close(ours.betas, ref.betas, rtol=0, atol=0)
    torch.testing.assert_close(ours.alpha_bars, ref.alphas_cumprod, rtol=0, atol=0)


def test_seed_schedule_ends_in_noise() -> None:
    s = make_schedule()  # T = 1000, linear 1e-4 .. 0.02 (seed 003 §dl_8_2)
    assert s.betas[0].item() == pytest.approx(1e-4) and s.betas[-1].item() == pytest.approx(0.02)
    assert float(s.alpha_bars[-1]) < 1e-4            # ~4.0e-5: x_T is (almost) pure noise
    assert float(s.snr[-1]) < 1e-4 and float(s.snr[0]) > 1e3
    assert (s.alpha_bars[1:] < s.alpha_bars[:-1]).all()


@pytest.mark.parametrize("name", ["linear", "cosine"])
def test_forward_process_equals_add_noise(name: str) -> None:
    g = torch.Generator().manual_seed(0)
    x0, noise = torch.randn(16, 1, 6, 6, generator=g), torch.randn(16, 1, 6, 6, generator=g)
    t = torch.randint(0, 1000, (16,), generator=g)
    ref = _ddpm(name).add_noise(x0, noise, t)
    torch.testing.assert_close(q_sample(make_schedule(NoiseScheduleConfig(name)), x0, t, noise), ref, rtol=0, atol=0)


@pytest.mark.parametrize("name", ["linear", "cosine"])
@pytest.mark.parametrize("variance", ["fixed_small", "fixed_large"])
@pytest.mark.parametrize("steps", [1000, 50])
def test_ddpm_step_equals_diffusers(name: str, variance: str, steps: int) -> None:
    ours, ref = make_schedule(NoiseScheduleConfig(name)), _ddpm(name, variance)
    ref.set_timesteps(steps)
    ts = inference_timesteps(1000, steps, "leading")
    assert ts == ref.timesteps.tolist()
    g = torch.Generator().manual_seed(1)
    for i in list(range(0, len(ts), max(1, len(ts) // 25))) + [len(ts) - 2, len(ts) - 1]:
        t = ts[i]
        x, eps = torch.randn(32, 2, generator=g) * 2, torch.randn(32, 2, generator=g)
        a = ref.step(eps, t, x, generator=torch.Generator().manual_seed(i))
        b = ddpm_step(ours, eps, t, x, prev_t=ts[i + 1] if i + 1 < len(ts) else -1, variance=variance,
                      generator=torch.Generator().manual_seed(i))
        torch.testing.assert_close(b.pred_original_sample, a.pred_original_sample)
        torch.testing.assert_close(b.prev_sample, a.prev_sample)


@pytest.mark.parametrize("name", ["linear", "cosine"])
@pytest.mark.parametrize("eta", [0.0, 0.5, 1.0])
@pytest.mark.parametrize("steps", [50, 10])
def test_ddim_step_equals_diffusers(name: str, eta: float, steps: int) -> None:
    ours, ref = make_schedule(NoiseScheduleConfig(name)), _ddim(name)
    ref.set_timesteps(steps)
    ts = inference_timesteps(1000, steps, "leading")
    assert ts == ref.timesteps.tolist()
    g = torch.Generator().manual_seed(2)
    for i, t in enumerate(ts):
        x, eps = torch.randn(16, 1, 4, 4, generator=g), torch.randn(16, 1, 4, 4, generator=g)
        a = ref.step(eps, t, x, eta=eta, generator=torch.Generator().manual_seed(i))
        b = ddim_step(ours, eps, t, ts[i + 1] if i + 1 < len(ts) else -1, x, eta=eta,
                      generator=torch.Generator().manual_seed(i))
        torch.testing.assert_close(b.pred_original_sample, a.pred_original_sample)
        torch.testing.assert_close(b.prev_sample, a.prev_sample)


@pytest.mark.parametrize("spacing", ["leading", "trailing", "linspace"])
@pytest.mark.parametrize("steps", [1, 7, 50, 1000])
def test_timestep_spacings_equal_diffusers(spacing: str, steps: int) -> None:
    ref = _ddim("linear", spacing)
    ref.set_timesteps(steps)
    assert inference_timesteps(1000, steps, spacing) == ref.timesteps.tolist()


class _Eps(torch.nn.Module):
    """A fixed, deterministic 'network': eps = tanh(x) * (1 + t / T)."""

    def __init__(self) -> None:
        super().__init__()
        self.w = torch.nn.Parameter(torch.ones(()))

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return torch.tanh(x) * self.w * (1 + t.float().view(-1, *([1] * (x.ndim - 1))) / 1000)


@pytest.mark.parametrize("sampler, steps, eta", [("ddpm", 1000, 0.0), ("ddpm", 20, 0.0), ("ddim", 50, 0.0),
                                                 ("ddim", 25, 1.0)])
def test_whole_chain_equals_a_diffusers_loop(sampler: str, steps: int, eta: float) -> None:
    """Our sampler loop = the diffusers loop with the same model, x_T and generator, bit for bit."""
    model, sched = _Eps(), make_schedule()
    res = sample(model, sched, (64, 2), SamplerConfig(sampler, steps, eta), seed=5, keep=3)  # type: ignore[arg-type]
    ref = _ddpm("linear") if sampler == "ddpm" else _ddim("linear")
    ref.set_timesteps(steps)
    g = torch.Generator().manual_seed(5)
    x = torch.randn(64, 2, generator=g)
    with torch.no_grad():
        for t in ref.timesteps:
            eps = model(x, torch.full((64,), int(t)))
            x = (ref.step(eps, t, x, generator=g) if sampler == "ddpm" else ref.step(eps, t, x, eta=eta, generator=g)
                 ).prev_sample
    torch.testing.assert_close(res.samples, x, rtol=0, atol=0)
    assert res.model_calls == steps and res.kept[0] == 0 and res.kept[-1] == steps - 1
    assert res.trajectory.shape == (3, 64, 2) and res.pred_x0.shape == (3, 64, 2)
