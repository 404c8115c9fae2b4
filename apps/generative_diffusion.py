"""Handlers of the generative tab's diffusion panels: the forward process q(x_t | x_0) with the
schedules, and the seed's 1-D DDPM (and 2-D toys) trained live (the Fashion-MNIST denoiser's panel is
:mod:`apps.generative_images`).

Thin glue over :mod:`dlcore.generative`; torch-free at import (the choice lists mirror the
library's registries, checked equal by ``tests/apps/test_generative.py``).
"""

from __future__ import annotations

import math
from typing import Any, Iterator

import gradio as gr

from apps.common import STOPS, guard, md_escape, stop_button
from apps.explain_stream import stream
from apps.generative_gan import TOY_TITLES, bar
from apps.streaming import FrameBudget
from dlcore.lazy import LazyCache
from dlcore.textinput import parse_choice, parse_int, parse_number

L = {"image": "test image #", "t": "timestep t", "schedule": "beta schedule", "T": "T (steps of the chain)",
     "beta_start": "β_start", "beta_end": "β_end", "toy": "data set", "train_steps": "training steps",
     "time_input": "time input", "sampler": "sampler", "sample_steps": "sampling steps", "n_points": "samples",
     "seed": "seed", "n_images": "images", "eta": "η (DDIM noise)", "frame": "reverse step (kept frame)",
     "sweep": "step counts to compare"}

BETA_SCHEDULES = {"linear": "linear beta 1e-4 .. 0.02 (Ho et al. 2020; the seed's)",
                  "cosine": "cosine alpha_bar, s = 0.008 (Nichol & Dhariwal 2021)"}
DIFFUSION_TOYS = ("gauss_1d", "swiss_roll", "two_moons", "spiral", "ring")
TIME_INPUTS = ("sinusoidal", "scalar")
SAMPLERS = {"ddpm": "ancestral sampling (Ho et al. 2020), stochastic",
            "ddim": "DDIM (Song et al. 2021): few steps, eta = 0 deterministic"}
MAX_T = 4000            # the library's MAX_TIMESTEPS
MAX_TOY_TRAIN = 20_000  # training steps per click (the library allows 50,000)

TOYS: LazyCache = LazyCache("toy DDPMs", max_extra=6)


# ----------------------------------------------------------------------------- forward
def schedule_config(schedule: Any, T: Any, beta_start: Any, beta_end: Any) -> Any:
    """The page's schedule, every field checked (β in (0, 1), β_end ≥ β_start, T ≤ 4000)."""
    from dlcore.generative import NoiseScheduleConfig

    name = parse_choice(schedule, L["schedule"], list(BETA_SCHEDULES))
    n = parse_int(T, L["T"], lo=2, hi=MAX_T)
    b0 = parse_number(beta_start, L["beta_start"])
    b1 = parse_number(beta_end, L["beta_end"])
    for label, b in ((L["beta_start"], b0), (L["beta_end"], b1)):
        if not 0 < b < 1:
            raise ValueError(f"{label} = {b:g} must be in (0, 1): β_t is the variance of the noise added at step t")
    if b1 < b0:
        raise ValueError(f"{L['beta_end']} = {b1:g} must be ≥ {L['beta_start']} = {b0:g} (β may not decrease)")
    return NoiseScheduleConfig(name, n, b0, b1).validated()  # type: ignore[arg-type]


@guard
def forward(image: Any, t: Any, schedule: Any, T: Any, beta_start: Any, beta_end: Any) -> tuple[str, Any, Any, Any, Any]:
    """x_t = √ᾱ_t x₀ + √(1−ᾱ_t) ε at t (and on the way there) for an image, the 1-D and a 2-D toy;
    ᾱ_t, √ᾱ_t and SNR(t) for the linear and cosine schedules (and yours)."""
    cfg = schedule_config(schedule, T, beta_start, beta_end)
    step = parse_int(t, L["t"], lo=1, hi=cfg.n_timesteps)
    index = parse_int(image, L["image"], lo=0, hi=9999)
    from dlcore.generative import (NoiseScheduleConfig, forward_trajectory, image_forward, make_schedule,
                                   sample_toy, schedule_curves)
    from dlcore.plotting.diffusion import forward_figure, schedules_figure
    from dlcore.zoo.images import test_image

    sch = make_schedule(cfg)
    t0 = step - 1
    ts = sorted({0, round(t0 / 4), round(t0 / 2), round(3 * t0 / 4), t0})
    x0, _, cls = test_image("fmnist_cnn", index)
    img = image_forward(x0[0], ts, seed=0, schedule=sch)
    one = forward_trajectory(sch, sample_toy("gauss_1d", 2000, seed=0), ts, seed=1)
    two = forward_trajectory(sch, sample_toy("swiss_roll", 2000, seed=0), ts, seed=1)
    curves = {f"linear (T = 1000)": make_schedule(), "cosine (T = 1000)": make_schedule(NoiseScheduleConfig("cosine"))}
    default = {("linear", 1000, 1e-4, 0.02), ("cosine", 1000)}
    if (cfg.schedule, cfg.n_timesteps, cfg.beta_start, cfg.beta_end) not in default and \
            (cfg.schedule, cfg.n_timesteps) not in default:
        curves[f"yours ({cfg.schedule}, T = {cfg.n_timesteps})"] = sch
    ab, snr = float(sch.alpha_bars[t0]), float(sch.snr[t0])
    x1 = one.x_t[-1][:, 0]
    what = (f"linear β {cfg.beta_start:g} … {cfg.beta_end:g}" + (", the seed's" if (cfg.n_timesteps, cfg.beta_start,
            cfg.beta_end) == (1000, 1e-4, 0.02) else "") if cfg.schedule == "linear" else
            "cosine ᾱ, s = 0.008, Nichol & Dhariwal 2021")
    md = (f"**t = {step} of T = {cfg.n_timesteps}** ({what}): "
          f"ᾱ_t = **{ab:.4g}**, √ᾱ_t = {math.sqrt(ab):.4f} of the signal kept, √(1−ᾱ_t) = {math.sqrt(1 - ab):.4f} "
          f"noise, SNR = ᾱ_t/(1−ᾱ_t) = {snr:.3g}; at t = T, ᾱ_T = {float(sch.alpha_bars[-1]):.2g} "
          f"({'essentially pure noise' if float(sch.alpha_bars[-1]) < 1e-3 else 'NOT yet pure noise: x_T still shows x₀'}).  \n"
          f"Closed form q(x_t | x₀) = N(√ᾱ_t x₀, (1−ᾱ_t) I), one shared ε for every frame. The seed's N(3, 2²) at t: "
          f"mean {float(x1.mean()):.2f} (√ᾱ_t·3 = {3 * math.sqrt(ab):.2f}), std {float(x1.std()):.2f} "
          f"(√(4ᾱ_t + 1 − ᾱ_t) = {math.sqrt(4 * ab + 1 - ab):.2f}). Image: test image #{index} ({md_escape(cls)}).")
    return (md, forward_figure(img), forward_figure(one), forward_figure(two), schedules_figure(schedule_curves(curves)))


# ----------------------------------------------------------------------------- toy DDPM
def toy_settings(dataset: Any, steps: Any, time_input: Any, sampler: Any, sample_steps: Any, n: Any,
                 seed: Any) -> tuple[Any, Any, int, int]:
    from dlcore.generative import SamplerConfig, ToyDiffusionConfig

    ds = parse_choice(dataset, L["toy"], list(DIFFUSION_TOYS))
    k = parse_int(steps, L["train_steps"], lo=10, hi=MAX_TOY_TRAIN)
    ti = parse_choice(time_input, L["time_input"], list(TIME_INPUTS))
    smp = parse_choice(sampler, L["sampler"], list(SAMPLERS))
    s = parse_int(sample_steps, L["sample_steps"], lo=1, hi=1000)
    m = parse_int(n, L["n_points"], lo=100, hi=20_000)
    sd = parse_int(seed, L["seed"], lo=0, hi=2**31 - 1)
    if m * s > 4_000_000:
        raise ValueError(f"{L['n_points']} {m} × {L['sample_steps']} {s} = {m * s:,} point-steps; the cap is 4,000,000")
    cfg = ToyDiffusionConfig(ds, steps=k, time_input=ti, seed=sd, frame_every=max(10, k // 40))  # type: ignore[arg-type]
    return cfg, SamplerConfig(smp, s), m, sd  # type: ignore[arg-type]


def _toy_md(cfg: Any, losses: list[float], out: Any, sampler: Any, seconds: float) -> str:
    from dlcore.generative import mode_coverage

    x = out.result.samples
    head = (f"**{TOY_TITLES[cfg.dataset]}**: {len(losses)} Adam steps (lr {cfg.lr:g}, full batch of {cfg.n_data}) on "
            f"‖ε − ε_θ(x_t, t)‖², last loss {sum(losses[-50:]) / max(1, len(losses[-50:])):.4f} (mean of 50); "
            f"time input {cfg.time_input}. Then {out.result.model_calls} reverse {sampler.sampler.upper()} steps for "
            f"{len(x)} samples in {seconds:.2f} s.  \n")
    if cfg.dataset == "gauss_1d":
        m, s = float(out.mean[0]), float(out.std[0])
        ok_m, ok_s = abs(m - 3) <= 0.2, abs(s - 2) <= 0.2
        return head + (f"Samples: **mean {m:.2f}** (target 3 ± 0.2 {'✅' if ok_m else '❌'}), **std {s:.2f}** "
                       f"(target 2 ± 0.2 {'✅' if ok_s else '❌'}). The seed's own setting (t/T as a raw input) lands "
                       "near 3.4 / 2.25 with 1,000 steps; DDPM's sinusoidal embedding of t recovers 3 / 2.")
    cov = mode_coverage(x, cfg.dataset)
    return head + (f"Samples cover **{cov.covered} of {cov.n_modes} modes** (k-means centres of the data, 3σ balls), "
                   f"{100 * cov.high_quality:.0f} % of them on a mode.")


@guard
def toy_diffusion(dataset: Any, steps: Any, time_input: Any, sampler: Any, sample_steps: Any, n: Any, seed: Any,
                  request: gr.Request = None) -> Iterator[tuple[str, Any, Any, Any]]:  # type: ignore[assignment]
    """Train the toy DDPM live (loss curve streamed), then run the reverse chain: histogram vs
    N(3, 2²) (or 2-D points over the data) and x_t / x̂₀ at kept steps. Stop ends either phase."""
    cfg, scfg, m, sd = toy_settings(dataset, steps, time_input, sampler, sample_steps, n, seed)
    from dlcore.generative import sample_toy_diffusion, train_toy_diffusion
    from dlcore.plotting.diffusion import (histogram_vs_target_figure, loss_figure, points_figure,
                                           reverse_figure)
    from dlcore.train.runtime import torch_threads

    with STOPS.running(request, "generative_toy") as stop, torch_threads(1):
        trained = TOYS.peek(cfg)
        if trained is None:
            frame, budget = None, FrameBudget(every=1.0)  # a figure per frame doubled the run through the server
            for frame in train_toy_diffusion(cfg, stop_event=stop):
                if frame.status != "running":
                    continue
                text = f"⏳ training: step {frame.step}/{frame.total} {bar(frame.step, frame.total)}"
                yield from budget.frame(lambda: (text, loss_figure(frame.losses, total=frame.total), gr.skip(), gr.skip()),
                                        (text, gr.skip(), gr.skip(), gr.skip()))
            assert frame is not None
            if frame.status != "finished":
                yield (f"⏹ {frame.status} at step {frame.step}/{frame.total}: nothing sampled. {md_escape(frame.message)}",
                       loss_figure(frame.losses, total=frame.total), None, None)
                return
            trained = (frame.model, frame.schedule, frame.losses, frame.data)
            TOYS.put(cfg, trained)
        model, schedule, losses, data = trained
        loss_fig = loss_figure(losses, total=cfg.steps)
        work = lambda cb: sample_toy_diffusion(model, schedule, m, scfg, seed=sd, keep=8, dataset=cfg.dataset,  # noqa: E731
                                               callback=cb, stop_event=stop)
        total, shown = scfg.steps, False
        for p, out in stream(work, stop=stop):
            if out is None:
                i = p.get("step", -1) + 1
                yield (f"⏳ reverse chain: step {i}/{total} {bar(i, total)} (t = {p.get('t', '…')})",
                       gr.skip() if shown else loss_fig, gr.skip(), gr.skip())  # the whole curve, sent once
                shown = True
                continue
            if out.result.status == "stopped":
                yield (f"⏹ stopped the reverse chain after {out.result.model_calls}/{total} steps.", loss_fig, None, None)
                return
            pic = (histogram_vs_target_figure(out, data) if cfg.dataset == "gauss_1d"
                   else points_figure(out.result.samples, data, title=f"{m} DDPM samples over the data"))
            yield (_toy_md(cfg, losses, out, scfg, out.result.seconds), loss_fig, pic, reverse_figure(out.result))


stop_toy = stop_button("generative_toy", "⏹ stopping after the current step…",
                        "Nothing is running: press **Train and sample** first.")
