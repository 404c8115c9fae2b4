"""Handlers and layout of the generative tab's Fashion-MNIST DDPM panel: the shipped denoiser sampled
step by step (kept x_t / x̂₀ frames on a slider), DDIM steps vs quality, and our chain checked
against diffusers' scheduler loop on demand.

Thin glue over :mod:`dlcore.generative`; torch-free at import.
"""

from __future__ import annotations

from typing import Any, Iterator

import gradio as gr

from apps.common import HEAVY, LIGHT, STOPS, Number, Radio, Slider, guard, on, on_first_open, stop_button
from apps.explain_stream import stream
from apps.generative_diffusion import L as D
from apps.generative_diffusion import SAMPLERS
from apps.generative_gan import DDPM, bar, recorded_line, require_model, verdicts
from dlcore.lazy import LazyCache
from dlcore.textinput import parse_choice, parse_int, parse_literal, parse_number

__all__ = ["ddpm_tab", "ddpm_images", "ddpm_frame", "ddpm_default", "ddpm_sweep", "diffusers_check", "stop_ddpm",
           "parse_counts", "image_settings", "RUNS", "D_IMG", "D_SWEEP"]

MAX_IMAGES, MAX_SWEEP_IMAGES = 32, 16
KEEP = 11
RUNS: LazyCache = LazyCache("DDPM image runs", max_extra=16)
L = D
D_IMG = [0, 16, "ddim", 50, 0.0]
D_SWEEP = ["5, 10, 20, 50", 8, 0]

def image_settings(seed: Any, n: Any, sampler: Any, steps: Any, eta: Any) -> tuple[int, int, Any]:
    from dlcore.generative import IMAGE_SAMPLER, SamplerConfig

    sd = parse_int(seed, L["seed"], lo=0, hi=2**31 - 1)
    k = parse_int(n, L["n_images"], lo=1, hi=MAX_IMAGES)
    smp = parse_choice(sampler, L["sampler"], list(SAMPLERS))
    s = parse_int(steps, L["sample_steps"], lo=1, hi=1000)
    e = parse_number(eta, L["eta"], lo=0.0, hi=1.0)
    if k * s > 16_000:
        raise ValueError(f"{L['n_images']} {k} × {L['sample_steps']} {s} = {k * s:,} image-steps; the cap is 16,000 "
                         "(about a minute on a laptop CPU)")
    return sd, k, SamplerConfig(smp, s, e, clip_sample=IMAGE_SAMPLER.clip_sample)  # type: ignore[arg-type]


def _image_run(sd: int, k: int, cfg: Any, callback: Any = None, stop: Any = None) -> Any:
    from dlcore.generative import classifier_score, ddpm_image_samples

    res = ddpm_image_samples(k, sd, cfg, keep=min(KEEP, cfg.steps), callback=callback, stop_event=stop)
    return res, (classifier_score(res.samples) if res.status == "finished" else None)


def _image_md(sd: int, k: int, cfg: Any, res: Any, sc: Any) -> str:
    how = (f"DDIM, η = {cfg.eta:g}" if cfg.sampler == "ddim" else "DDPM ancestral (σ² = β̃_t)")
    return (f"**{k} DDPM samples, seed {seed_text(sd)}**: {res.model_calls} steps of {how} in {res.seconds:.2f} s "
            f"(U-Net ε-predictor, T = 1000 linear 1e-4 … 0.02). The zoo classifier calls them: {verdicts(sc)}; mean "
            f"confidence **{sc.mean_confidence:.2f}**. {recorded_line(DDPM)}  \n"
            f"Drag **{L['frame']}** to step through x_t and the predicted x̂₀ = (x_t − √(1−ᾱ_t) ε_θ)/√ᾱ_t.")


def seed_text(sd: int) -> str:
    return str(sd)


@guard
def ddpm_images(seed: Any, n: Any, sampler: Any, steps: Any, eta: Any,
                request: gr.Request = None) -> Iterator[tuple[str, Any, Any, Any]]:  # type: ignore[assignment]
    """Sample the shipped Fashion-MNIST DDPM, streaming the step count; the grid with verdicts,
    the x_t / x̂₀ strip and the step-through slider set to the last kept frame."""
    sd, k, cfg = image_settings(seed, n, sampler, steps, eta)
    require_model(DDPM)
    from dlcore.plotting.diffusion import reverse_figure
    from dlcore.plotting.generative import sample_grid_figure
    from dlcore.train.runtime import torch_threads

    key = (sd, k, cfg)
    run = RUNS.peek(key)
    if run is None:
        with STOPS.running(request, "generative_ddpm") as stop, torch_threads(1):
            for p, out in stream(lambda cb: _image_run(sd, k, cfg, cb, stop), stop=stop):
                if out is None:
                    i = p.get("step", -1) + 1
                    yield (f"⏳ {cfg.sampler.upper()} step {i}/{cfg.steps} {bar(i, cfg.steps)} (t = {p.get('t', '…')})",
                           gr.skip(), gr.skip(), gr.skip())
                else:
                    run = out
        res, sc = run
        if sc is None:
            yield (f"⏹ stopped after {res.model_calls}/{cfg.steps} steps: the last x_t is below (still noisy).",
                   sample_grid_figure(res.samples, None, ncols=8), reverse_figure(res),
                   gr.update(maximum=max(1, len(res.kept) - 1), value=len(res.kept) - 1))
            return
        RUNS.put(key, run)
    res, sc = run
    last = len(res.kept) - 1
    yield (_image_md(sd, k, cfg, res, sc), sample_grid_figure(res.samples, sc, ncols=8),
           reverse_figure(res), gr.update(maximum=max(1, last), value=last))


@guard
def ddpm_frame(seed: Any, n: Any, sampler: Any, steps: Any, eta: Any, frame: Any) -> tuple[str, Any]:
    """One kept reverse step large: x_t (top) and the predicted x̂₀ (bottom) of the images."""
    sd, k, cfg = image_settings(seed, n, sampler, steps, eta)
    require_model(DDPM)
    from dlcore.plotting.diffusion import reverse_figure

    res, sc = RUNS.get((sd, k, cfg), lambda: _image_run(sd, k, cfg))
    f = parse_int(frame, L["frame"], lo=0, hi=len(res.kept) - 1)
    i = res.kept[f]
    t = res.timesteps[i]
    gap = float((res.pred_x0[f] - res.samples).abs().mean())
    md = (f"Kept frame {f} of {len(res.kept) - 1}: reverse step {i + 1} of {len(res.timesteps)}, **t = {t + 1}** "
          f"(ᾱ_t = {_alpha_bar(t):.4g}). Top: x_t; bottom: x̂₀ predicted from it — on average {gap:.3f} (pixels in "
          "[0, 1]) away from the final sample: early guesses are blurry class averages, late ones are the sample.")
    return md, reverse_figure(res, frame=f, n_images=min(8, k))


@guard
def ddpm_default(seed: Any, n: Any, sampler: Any, steps: Any, eta: Any) -> tuple[Any, ...]:
    """The default run when the panel first opens: the grid, the strip and the last kept frame large."""
    sd, k, cfg = image_settings(seed, n, sampler, steps, eta)
    require_model(DDPM)
    from dlcore.plotting.diffusion import reverse_figure
    from dlcore.plotting.generative import sample_grid_figure
    from dlcore.train.runtime import torch_threads

    with torch_threads(1):
        res, sc = RUNS.get((sd, k, cfg), lambda: _image_run(sd, k, cfg))
    last = len(res.kept) - 1
    fmd, ffig = ddpm_frame(seed, n, sampler, steps, eta, last)
    return (_image_md(sd, k, cfg, res, sc), sample_grid_figure(res.samples, sc, ncols=8), reverse_figure(res),
            gr.update(maximum=max(1, last), value=last), fmd, ffig)


def _alpha_bar(t: int) -> float:
    from dlcore.generative import schedule_of

    return float(schedule_of(DDPM).alpha_bars[t])


stop_ddpm = stop_button("generative_ddpm", "⏹ stopping after the current step…",
                         "Nothing is running: press **Sample** first.")


def parse_counts(value: Any) -> list[int]:
    """'5, 10, 20, 50' (or a list) -> distinct step counts, ascending (1..8 of them, each 1..1000)."""
    v = value
    if isinstance(v, str):
        s = v.strip()
        v = parse_literal(s if s.startswith(("[", "(")) else f"[{s}]", L["sweep"], max_chars=200)
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        v = [v]
    if not isinstance(v, (list, tuple)) or not v:
        raise ValueError(f"{L['sweep']} must be a list of step counts such as 5, 10, 20, 50")
    if len(v) > 8:
        raise ValueError(f"{L['sweep']}: {len(v)} counts given; compare at most 8")
    return sorted({parse_int(x, L["sweep"], lo=1, hi=1000) for x in v})


@guard
def ddpm_sweep(counts: Any, n: Any, seed: Any, request: gr.Request = None  # type: ignore[assignment]
               ) -> Iterator[tuple[str, Any, Any]]:
    """DDIM (η = 0) with each step count from the same x_T: time taken and the classifier score."""
    steps = parse_counts(counts)
    k = parse_int(n, L["n_images"], lo=1, hi=MAX_SWEEP_IMAGES)
    sd = parse_int(seed, L["seed"], lo=0, hi=2**31 - 1)
    if sum(steps) * k > 8_000:
        raise ValueError(f"{sum(steps)} steps × {k} images = {sum(steps) * k:,} image-steps; the cap is 8,000")
    require_model(DDPM)
    import torch

    from dlcore.generative import classifier_score, ddpm_image_samples, SamplerConfig
    from dlcore.plotting.diffusion import sampler_steps_figure
    from dlcore.plotting.generative import sample_grid_figure
    from dlcore.train.runtime import torch_threads

    pts = []
    with STOPS.running(request, "generative_ddpm") as stop, torch_threads(1):
        for j, s in enumerate(steps):
            yield (f"⏳ DDIM with {s} steps ({j + 1}/{len(steps)}) {bar(j, len(steps))}", gr.skip(), gr.skip())
            res = ddpm_image_samples(k, sd, SamplerConfig("ddim", s, 0.0), keep=1, stop_event=stop)
            if res.status == "stopped":
                break
            pts.append((s, res.seconds, res.samples, classifier_score(res.samples)))
    if not pts:
        yield "⏹ stopped before the first run finished.", None, None
        return
    rows = [f"| {s} | {sec:.2f} s | {sc.mean_confidence:.2f} | {sc.inception_score:.2f} | {sc.classes_covered} |"
            for s, sec, _, sc in pts]
    md = ("**DDIM steps vs quality** on the same x_T (seed " + str(sd) + f", {k} images, η = 0). Time measured on this "
          "machine now; the score is the zoo classifier's mean confidence on these few images (noisy at this size: the "
          "manifest's 1,000-sample score is the reliable one).\n\n| steps | time | confidence | IS analogue | classes |\n"
          "|---|---|---|---|---|\n" + "\n".join(rows) + ("\n\n⏹ stopped early." if len(pts) < len(steps) else ""))
    grid = torch.cat([imgs[:8] for _, _, imgs, _ in pts])
    return_fig = sampler_steps_figure([p[0] for p in pts], [p[1] for p in pts], [p[3].mean_confidence for p in pts])
    yield md, return_fig, sample_grid_figure(grid, None, ncols=min(8, k),
                                             title="rows: " + ", ".join(f"{p[0]}" for p in pts) + " DDIM steps")


@guard
def diffusers_check(sampler: Any, steps: Any, eta: Any) -> str:
    """Run our reverse chain and diffusers' scheduler loop on the same network, x_T and random
    generator, and report the largest difference (0 = bit for bit)."""
    sd, _, cfg = image_settings(0, 2, sampler, steps, eta)
    import torch

    from dlcore.generative import make_schedule, sample

    try:
        import diffusers
    except ImportError:
        return ("diffusers is not installed here (it is in requirements.txt: `make demo` installs it), so this check "
                "cannot run now; the test suite runs it too: tests/dlcore/generative/test_diffusion_vs_diffusers.py.")
    from dlcore import zoo

    if zoo.verify(DDPM).ok:
        net, what = zoo.get(DDPM), "the shipped U-Net on 2 images"
        shape = (2, 1, 28, 28)
    else:
        class Eps(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.w = torch.nn.Parameter(torch.ones(()))

            def forward(self, x: Any, t: Any) -> Any:
                return torch.tanh(x) * self.w * (1 + t.float().view(-1, *([1] * (x.ndim - 1))) / 1000)
        net, what, shape = Eps(), "a fixed test network ε = tanh(x)(1 + t/T) on 64 2-D points", (64, 2)
    sch = make_schedule()
    ours = sample(net, sch, shape, cfg, seed=5, keep=1).samples
    if cfg.sampler == "ddpm":
        ref = diffusers.DDPMScheduler(num_train_timesteps=1000, beta_schedule="linear", variance_type="fixed_small",
                                      clip_sample=False, prediction_type="epsilon", timestep_spacing="leading")
    else:
        ref = diffusers.DDIMScheduler(num_train_timesteps=1000, beta_schedule="linear", clip_sample=False,
                                      prediction_type="epsilon", set_alpha_to_one=True, steps_offset=0,
                                      timestep_spacing="leading")
    ref.set_timesteps(cfg.steps)
    g = torch.Generator().manual_seed(5)
    x = torch.randn(shape, generator=g)
    with torch.no_grad():
        for t in ref.timesteps:
            eps = net(x, torch.full((shape[0],), int(t), dtype=torch.long))
            out = ref.step(eps, t, x, generator=g) if cfg.sampler == "ddpm" else ref.step(eps, t, x, eta=cfg.eta,
                                                                                         generator=g)
            x = out.prev_sample
    diff = float((ours - x).abs().max())
    same = "**bit for bit equal** (max |Δ| = 0)" if diff == 0 else f"max |Δ| = {diff:.3g}"
    return (f"Our {cfg.sampler.upper()} chain ({cfg.steps} steps{', η = ' + format(cfg.eta, 'g') if cfg.sampler == 'ddim' else ''}) "
            f"vs diffusers {diffusers.__version__} `{type(ref).__name__}.step` loop, same network ({what}), same x_T and "
            f"random generator: {same}.")


def ddpm_tab() -> None:
    """The panel's layout (built inside its sub-tab)."""
    gr.Markdown("**The shipped DDPM** (Ho et al. 2020): a small U-Net ε_θ trained on Fashion-MNIST with T = 1000, β "
                "linear 1e-4 … 0.02, EMA weights. Sample from x_T ~ N(0, I) by DDPM (all 1,000 steps, stochastic) or "
                "DDIM (Song et al. 2021: few steps, η = 0 deterministic), then step through x_t and the predicted x̂₀.")
    with gr.Row():
        seed = Number(D_IMG[0], precision=0, label=D["seed"])
        n = Number(D_IMG[1], precision=0, label=D["n_images"])
        smp = Radio([(v, k) for k, v in SAMPLERS.items()], value=D_IMG[2], label=D["sampler"])
    with gr.Row():
        steps = Slider(1, 1000, D_IMG[3], step=1, label=D["sample_steps"], scale=2)
        eta = Slider(0, 1, D_IMG[4], step=0.05, label=D["eta"], scale=1)
    with gr.Row():
        btn = gr.Button("Sample", variant="primary", elem_id="generative-ddpm-run")
        stop = gr.Button("Stop", elem_id="generative-ddpm-stop")
        check = gr.Button("Check against diffusers", elem_id="generative-diffusers-run")
    status = gr.Markdown()
    grid = gr.Plot(show_label=False)
    strip = gr.Plot(show_label=False)
    frame = Slider(0, 10, 10, step=1, label=D["frame"])
    fstatus, ffig = gr.Markdown(), gr.Plot(show_label=False)
    ins = [seed, n, smp, steps, eta]
    outs = [status, grid, strip, frame]
    dep = on(btn.click, ddpm_images, ins, outs, api_name="generative_ddpm", **HEAVY)
    dep.success(ddpm_frame, [*ins, frame], [fstatus, ffig], api_visibility="private", **HEAVY)
    on(frame.release, ddpm_frame, [*ins, frame], [fstatus, ffig], api_name="generative_ddpm_frame",
       trigger_mode="always_last", **HEAVY)
    on(stop.click, stop_ddpm, status, status, api_name="generative_ddpm_stop", **LIGHT)
    on(check.click, diffusers_check, [smp, steps, eta], status, api_name="generative_diffusers", **HEAVY)
    on_first_open(ddpm_default, ins, [*outs, fstatus, ffig], **HEAVY)
    gr.Examples([D_IMG, [0, 16, "ddpm", 1000, 0.0], [0, 16, "ddim", 10, 0.0], [0, 16, "ddim", 50, 1.0]], ins, outs,
                fn=ddpm_images, run_on_click=True, cache_examples=False, label="Examples", example_labels=[
                    "DDIM, 50 steps, η = 0 (how the manifest scores it)", "DDPM, all 1,000 steps (the seed's reverse chain)",
                    "DDIM, 10 steps", "DDIM, 50 steps, η = 1 (stochastic)"])
    gr.Markdown("**Steps vs quality**: DDIM with several step counts from the same x_T — the time taken here and the "
                "zoo classifier's confidence on the samples.")
    with gr.Row():
        counts = gr.Textbox(D_SWEEP[0], label=D["sweep"], max_lines=1)
        sn = Number(D_SWEEP[1], precision=0, label=D["n_images"] + " per count")
        sseed = Number(D_SWEEP[2], precision=0, label=D["seed"] + " ")
    sbtn = gr.Button("Compare step counts", elem_id="generative-sweep-run")
    sstatus = gr.Markdown()
    with gr.Row():
        sfig, sgrid = gr.Plot(show_label=False), gr.Plot(show_label=False)
    on(sbtn.click, ddpm_sweep, [counts, sn, sseed], [sstatus, sfig, sgrid], api_name="generative_sweep", **HEAVY)
