"""GAN and diffusion (seed 000 §8.5.1, §8.5.3; seed 003 §dl_8): the shipped DCGAN and DDPM
sampled, a 2-D GAN trained live with four objectives, JS vs Wasserstein as a picture, the forward
process and its schedules, the seed's 1-D DDPM trained live, steps vs quality, and a score.

Layout and declarations only; the handlers are in :mod:`apps.generative_gan` and
:mod:`apps.generative_diffusion`, the maths in :mod:`dlcore.generative`.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from apps.common import (HEAVY, LATEX, LIGHT, STOP_EXAMPLES, Dropdown, Endpoint, ErrorDemo, Number, Radio, SeedRef,
                        Slider, guard, on, on_first_open)
from apps.generative_diffusion import BETA_SCHEDULES, DIFFUSION_TOYS, SAMPLERS
from apps.generative_diffusion import L as D
from apps.generative_diffusion import forward, stop_toy, toy_diffusion
from apps.generative_images import ddpm_tab
from apps.generative_gan import (DCGAN, DDPM, GAN_TOYS, IMAGE_MODELS, INTERPOLATIONS, L, OBJECTIVES, PAIRS, TOY_TITLES,
                                 dcgan_grid, dcgan_walk, divergence, gan_live, score, stop_gan,
                                 stop_score)

TITLE = "GAN and diffusion: sample, train, compare"
RUN_BUTTON = "generative-run"
S0, S3 = "000_5114ce2b17ca1821.txt", "003_1dbce9a3816ea850.txt"
SEEDS = [SeedRef(S0, "8.5.1", "GAN"), SeedRef(S0, "8.5.3", "扩散模型diffusion (diffusion models)"),
         SeedRef(S3, "dl_8", "Diffusion Model"), SeedRef(S3, "dl_8_1", "原理 (principle)"),
         SeedRef(S3, "dl_8_2", "示例 (example)")]

INTRO = ("**Generative models** (生成式模型, seed 000 §8.5): a **GAN** (生成对抗网络) plays a minimax game between a "
         "generator and a discriminator; a **diffusion model** (扩散模型, DDPM) learns to undo noise added step by step. "
         "Everything runs here, on the CPU, offline: a DCGAN and a small DDPM U-Net shipped for Fashion-MNIST, and toys "
         "trained live. **Checked against a reference:** our schedules, q(x_t | x₀) and every DDPM/DDIM step equal "
         "diffusers' `DDPMScheduler` / `DDIMScheduler` bit for bit (the test suite; the *DDPM on Fashion-MNIST* panel "
         "re-runs the check on demand).")

D_GRID = [0, 16]
D_WALK = [0, 1, 9, "slerp"]
D_DIV = ["uniform", 1.0]
D_GAN = ["ring", "wgan_gp", 3000, 50, 0]
D_FWD = [0, 500, "linear", 1000, 1e-4, 0.02]
D_TOY = ["gauss_1d", 1000, "sinusoidal", "ddpm", 1000, 2000, 0]
D_SCORE = [DCGAN, 1000, 1234]


def _choices(d: dict[str, str]) -> list[tuple[str, str]]:
    return [(v, k) for k, v in d.items()]


def _dcgan_tab() -> None:
    gr.Markdown("**The shipped DCGAN** (Radford et al. 2016): z ~ N(0, I) in 64-D → transposed convolutions → a 28×28 "
                "image; 8 epochs of the non-saturating loss on Fashion-MNIST. Each sample is titled with what the zoo "
                "classifier thinks it is and how sure it is. Same seed, same grid.")
    with gr.Row():
        seed = Number(D_GRID[0], precision=0, label=L["seed"])
        n = Number(D_GRID[1], precision=0, label=L["n_images"])
        btn = gr.Button("Sample", variant="primary", elem_id=RUN_BUTTON)
    status, fig = gr.Markdown(), gr.Plot(show_label=False)
    on(btn.click, dcgan_grid, [seed, n], [status, fig], api_name="generative_dcgan", **HEAVY)
    on_first_open(dcgan_grid, [seed, n], [status, fig], **HEAVY)
    gr.Examples([D_GRID, [7, 32], [1234, 64]], [seed, n], [status, fig], fn=dcgan_grid, run_on_click=True,
                cache_examples=False, label="Examples",
                example_labels=["16 samples, seed 0", "32 samples, seed 7", "64 samples, the manifest's seed 1234"])
    gr.Markdown("**Latent interpolation**: walk from the first sample of seed A's grid to seed B's. A smooth walk "
                "(no jumps, plausible images all the way) says the generator learned a continuous map, not a lookup table.")
    with gr.Row():
        a = Number(D_WALK[0], precision=0, label=L["seed_a"])
        b = Number(D_WALK[1], precision=0, label=L["seed_b"])
        k = Number(D_WALK[2], precision=0, label=L["walk_steps"])
        mode = Radio(_choices(INTERPOLATIONS), value="slerp", label=L["walk_mode"])
    wbtn = gr.Button("Walk", elem_id="generative-walk-run")
    wstatus, wfig = gr.Markdown(), gr.Plot(show_label=False)
    on(wbtn.click, dcgan_walk, [a, b, k, mode], [wstatus, wfig], api_name="generative_walk", **HEAVY)
    on_first_open(dcgan_walk, [a, b, k, mode], [wstatus, wfig], **HEAVY)
    gr.Examples([D_WALK, [0, 1, 9, "linear"], [3, 11, 12, "slerp"]], [a, b, k, mode], [wstatus, wfig], fn=dcgan_walk,
                run_on_click=True, cache_examples=False, label="Examples",
                example_labels=["seed 0 → 1, slerp", "the same on a straight line", "seed 3 → 11, 12 images"])


def _gan_tab() -> None:
    gr.Markdown("**A GAN on 2-D data, live** (seed 000 §8.5.1): green = real data, purple = G(z); the background is "
                "the discriminator (P(real) for the original objectives, the raw critic value for the WGANs); arrows "
                "= −∂L_G/∂x at G(z) for a grid of latent codes, where the generator's loss pushes each sample. Each "
                "objective runs with its paper's settings. Watch the **modes covered** curve: a drop while the samples "
                "still sit on the data is **mode collapse**.")
    with gr.Row():
        ds = Dropdown([(TOY_TITLES[t], t) for t in GAN_TOYS], value=D_GAN[0], label=L["dataset"])
        obj = Radio(_choices(OBJECTIVES), value=D_GAN[1], label=L["objective"])
    with gr.Row():
        steps = Number(D_GAN[2], precision=0, label=L["gan_steps"])
        every = Number(D_GAN[3], precision=0, label=L["frame_every"])
        seed = Number(D_GAN[4], precision=0, label=L["seed"])
    with gr.Row():
        btn = gr.Button("Train the GAN", variant="primary", elem_id="generative-gan-run")
        stop = gr.Button("Stop", elem_id="generative-gan-stop")
    status = gr.Markdown()
    with gr.Row():
        frame, curves = gr.Plot(show_label=False), gr.Plot(show_label=False)
    ins, outs = [ds, obj, steps, every, seed], [status, frame, curves]
    on(btn.click, gan_live, ins, outs, api_name="generative_gan", **HEAVY)
    on(stop.click, stop_gan, status, status, api_name="generative_gan_stop", **LIGHT)
    on_first_open(gan_preview, ins, outs, **HEAVY)
    gr.Examples([D_GAN, ["ring", "non_saturating", 3000, 50, 0], ["ring", "minimax", 3000, 50, 0],
                 ["ring", "wgan", 3000, 50, 0], ["two_moons", "non_saturating", 3000, 50, 0],
                 ["grid", "wgan_gp", 4000, 100, 0]], ins, outs,
                fn=gan_live, run_on_click=True, cache_examples=False, label="Examples (seed 000 §8.5.1)",
                example_labels=["ring of 8, WGAN-GP (λ 10, Adam 1e-4, β (0, 0.9)): 8/8 modes by step 2,500 here",
                                "ring, non-saturating −log D(G(z)) (Adam 2e-4, β (0.5, 0.999))",
                                "the notes' minimax game as written (saturating)",
                                "WGAN, weight clipping (RMSprop 5e-5, clip 0.01, n_critic 5)", "two moons, non-saturating",
                                "grid of 25 with WGAN-GP"])


@guard
def gan_preview(*args: Any) -> tuple[str, Any, Any]:
    """The step-0 frame of the default run (untrained G and D), shown when the panel opens."""
    frames = gan_live(*args)
    md, fig, curves = next(frames)
    frames.close()
    return ("Untrained G and D (step 0). Press **Train the GAN**: the default is WGAN-GP on the ring, 3,000 steps, a "
            "frame every 50.",
            fig, curves)


def _js_tab() -> None:
    gr.Markdown("**JS vs Wasserstein, the proof as a picture** (seed 000 §8.5.1): move Q away from P. "
                "$\\mathrm{JS}(P\\|Q)=\\tfrac12\\mathrm{KL}(P\\|M)+\\tfrac12\\mathrm{KL}(Q\\|M)$ is stuck at $\\log 2$ "
                "as soon as the supports stop overlapping — a constant, so no gradient for the generator — while "
                "$W_1=\\inf_\\gamma \\mathbb{E}\\|x-y\\|$ keeps growing with the gap. Both are computed exactly and "
                "estimated from samples.", latex_delimiters=LATEX)
    with gr.Row():
        pair = Radio(_choices(PAIRS), value=D_DIV[0], label=L["pair"])
        shift = Slider(0, 5, D_DIV[1], step=0.05, label=L["shift"])
    status, fig = gr.Markdown(latex_delimiters=LATEX), gr.Plot(show_label=False)
    on([shift.release, pair.change], divergence, [pair, shift], [status, fig], api_name="generative_divergence",
       trigger_mode="always_last", **LIGHT)
    on_first_open(divergence, [pair, shift], [status, fig], **LIGHT)
    gr.Examples([D_DIV, ["uniform", 0.5], ["lines", 0.5], ["gaussian", 3.0]], [pair, shift], [status, fig],
                fn=divergence, run_on_click=True, cache_examples=False, label="Examples",
                example_labels=["θ = 1: the supports just stop overlapping, JS = log 2", "θ = 0.5: half overlap",
                                "the notes' two lines in a plane (Arjovsky et al.)", "Gaussians: always overlapping"])


def _forward_tab() -> None:
    gr.Markdown("**The forward process** (seed 003 §dl_8_1): $q(x_t\\mid x_0)=\\mathcal N(\\sqrt{\\bar\\alpha_t}\\,x_0,"
                "(1-\\bar\\alpha_t)I)$ with $\\bar\\alpha_t=\\prod_{s\\le t}(1-\\beta_s)$ — any step in one shot. "
                "Drag t: a Fashion-MNIST image, the seed's N(3, 2²) and a swiss roll dissolve into N(0, I).",
                latex_delimiters=LATEX)
    with gr.Row():
        t = Slider(1, 1000, D_FWD[1], step=1, label=D["t"], scale=3)
        img = Number(D_FWD[0], precision=0, label=D["image"], scale=1)
    with gr.Row():
        sch = Radio(_choices(BETA_SCHEDULES), value=D_FWD[2], label=D["schedule"])
        T = Number(D_FWD[3], precision=0, label=D["T"])
        b0 = Number(D_FWD[4], label=D["beta_start"])
        b1 = Number(D_FWD[5], label=D["beta_end"])
    btn = gr.Button("Noise it", elem_id="generative-forward-run")
    status = gr.Markdown()
    with gr.Row():
        fimg = gr.Plot(show_label=False)
    with gr.Row():
        f1, f2 = gr.Plot(show_label=False), gr.Plot(show_label=False)
    fsch = gr.Plot(show_label=False)
    ins, outs = [img, t, sch, T, b0, b1], [status, fimg, f1, f2, fsch]
    on([btn.click, t.release, sch.change], forward, ins, outs, api_name="generative_forward",
       trigger_mode="always_last", **HEAVY)
    on_first_open(forward, ins, outs, **HEAVY)
    gr.Examples([D_FWD, [0, 500, "cosine", 1000, 1e-4, 0.02], [3, 1000, "linear", 1000, 1e-4, 0.02],
                 [0, 100, "linear", 100, 1e-4, 0.02]], ins, outs, fn=forward, run_on_click=True, cache_examples=False,
                label="Examples (seed 003 §dl_8)", example_labels=[
                    "the seed's schedule (T = 1000, β 1e-4 … 0.02), t = 500", "cosine schedule at t = 500",
                    "t = T: pure noise", "T = 100 with the same βs: x_T is NOT noise yet"])


def _toy_tab() -> None:
    gr.Markdown("**The seed's DDPM, trained live** (seed 003 §dl_8_2): x₀ = randn(1000, 1)·2 + 3, T = 1000, β linear "
                "1e-4 … 0.02, an MLP ε_θ(x_t, t) trained by Adam (lr 1e-3) on the MSE to the noise, then the reverse "
                "chain from N(0, 1). Goal: samples with mean 3 and std 2. Or a 2-D toy (swiss roll, moons, …). "
                "Training runs through the lab's one Trainer.")
    with gr.Row():
        ds = Dropdown([(TOY_TITLES[t], t) for t in DIFFUSION_TOYS], value=D_TOY[0], label=D["toy"])
        steps = Number(D_TOY[1], precision=0, label=D["train_steps"])
        ti = Radio([("DDPM's sinusoidal embedding of t", "sinusoidal"), ("t/T as a number (the seed's)", "scalar")],
                   value=D_TOY[2], label=D["time_input"])
    with gr.Row():
        smp = Radio(_choices(SAMPLERS), value=D_TOY[3], label=D["sampler"])
        ss = Number(D_TOY[4], precision=0, label=D["sample_steps"])
        n = Number(D_TOY[5], precision=0, label=D["n_points"])
        seed = Number(D_TOY[6], precision=0, label=D["seed"])
    with gr.Row():
        btn = gr.Button("Train and sample", variant="primary", elem_id="generative-toy-run")
        stop = gr.Button("Stop", elem_id="generative-toy-stop")
    status = gr.Markdown("Press **Train and sample**: 1,000 training steps and 1,000 reverse steps take a few "
                         "seconds to a minute depending on the machine; a trained model is kept, so re-sampling is quick.")
    with gr.Row():
        loss, pic = gr.Plot(show_label=False), gr.Plot(show_label=False)
    strip = gr.Plot(show_label=False)
    ins, outs = [ds, steps, ti, smp, ss, n, seed], [status, loss, pic, strip]
    on(btn.click, toy_diffusion, ins, outs, api_name="generative_toy", **HEAVY)
    on(stop.click, stop_toy, status, status, api_name="generative_toy_stop", **LIGHT)
    gr.Examples([D_TOY, ["gauss_1d", 1000, "scalar", "ddpm", 1000, 2000, 0], ["gauss_1d", 1000, "sinusoidal", "ddim", 50,
                                                                              2000, 0],
                 ["swiss_roll", 3000, "sinusoidal", "ddpm", 1000, 2000, 0]], ins, outs, fn=toy_diffusion,
                run_on_click=True, cache_examples=False, label="Examples (seed 003 §dl_8_2)",
                example_labels=["N(3, 2²), 1,000 steps, sinusoidal t, 1,000 DDPM steps",
                                "the seed's code exactly: t/T as the input (lands near 3.4 / 2.25)",
                                "the same model, 50 DDIM steps", "swiss roll, 3,000 steps"])


def _score_tab() -> None:
    gr.Markdown("**Is it any good?** A score built from what ships: the zoo's Fashion-MNIST classifier looks at every "
                "sample — its mean confidence, the class histogram (a collapsed generator piles into a few classes) "
                "and an Inception-score analogue — beside real test images; and the nearest training image of a few "
                "samples (a memorisation check).")
    with gr.Row():
        gen = Radio(_choices(IMAGE_MODELS), value=D_SCORE[0], label=L["generator"])
        n = Number(D_SCORE[1], precision=0, label=L["n_score"])
        seed = Number(D_SCORE[2], precision=0, label=L["seed"])
    with gr.Row():
        btn = gr.Button("Score", variant="primary", elem_id="generative-score-run")
        stop = gr.Button("Stop", elem_id="generative-score-stop")
    status = gr.Markdown()
    with gr.Row():
        hist, nb = gr.Plot(show_label=False), gr.Plot(show_label=False)
    on(btn.click, score, [gen, n, seed], [status, hist, nb], api_name="generative_score", **HEAVY)
    on(stop.click, stop_score, status, status, api_name="generative_score_stop", **LIGHT)
    on_first_open(score, [gen, n, seed], [status, hist, nb], **HEAVY)
    gr.Examples([D_SCORE, [DDPM, 256, 1234]], [gen, n, seed], [status, hist, nb], fn=score, run_on_click=True,
                cache_examples=False, label="Examples",
                example_labels=["DCGAN, 1,000 samples", "DDPM, 256 samples (DDIM 50)"])


def build() -> None:
    gr.Markdown(INTRO)
    with gr.Tab("Image GAN (DCGAN)"):
        _dcgan_tab()
    with gr.Tab("GAN on 2-D data, live"):
        _gan_tab()
    with gr.Tab("JS vs Wasserstein"):
        _js_tab()
    with gr.Tab("Forward q(x_t | x₀)"):
        _forward_tab()
    with gr.Tab("DDPM on toys (the seed's)"):
        _toy_tab()
    with gr.Tab("DDPM on Fashion-MNIST"):
        ddpm_tab()
    with gr.Tab("Is it any good?"):
        _score_tab()


#: The browser test asks the toy DDPM for 5 training steps (the minimum is 10) and reads the message in place
#: (a panel with no first-open event, so nothing else of the session is queued on its button).
ERROR_DEMO = ErrorDemo(fill={D["train_steps"]: "5"}, click="generative-toy-run",
                       expect="training steps = 5 is below the minimum 10", subtab="DDPM on toys (the seed's)")
_FAST_GAN = ["ring", "non_saturating", 100, 50, 0]
_TOY = ["gauss_1d", 200, "sinusoidal", "ddim", 50, 2000, 0]
_IMG = [0, 4, "ddim", 20, 0.0]
ENDPOINTS = [
    Endpoint("generative_dcgan", heavy=True, examples=[D_GRID, [7, 4]],
             facts=["16 DCGAN samples, seed 0", "4 DCGAN samples, seed 7"],
             bad=[([0, 500], "images = 500 is above the maximum 64"), (["many", 16], "seed"),
                  ([-1, 16], "seed = -1 is below the minimum 0")]),
    Endpoint("generative_walk", heavy=True, examples=[D_WALK, [0, 1, 5, "linear"]], facts=["slerp", "straight line"],
             bad=[([0, 1, 9, "cubic"], "path 'cubic' is not one of"),
                  ([0, 1, 100, "slerp"], "images on the walk = 100 is above the maximum 16")]),
    Endpoint("generative_divergence", examples=[D_DIV, ["lines", 0.5], ["gaussian", 3.0]],
             facts=["JS = log 2", "JS = log 2", "W1 = 3.000"],
             bad=[(["uniform", 25], "shift θ = 25 is above the maximum 20"),
                  (["circle", 1.0], "the two distributions 'circle' is not one of")]),
    Endpoint("generative_gan", heavy=True, stateful=True, examples=[_FAST_GAN, ["ring", "wgan_gp", 20, 10, 0]],
             facts=["modes covered", "WGAN-GP"],
             bad=[(["ring", "lsgan", 100, 50, 0], "objective 'lsgan' is not one of"),
                  (["moons", "wgan", 100, 50, 0], "data set 'moons' is not one of"),
                  (["ring", "wgan", 10**6, 50, 0], "generator steps = 1000000 is above the maximum 20000"),
                  (["ring", "wgan", 20000, 1, 0], "at most 400 per run")]),
    Endpoint("generative_gan_stop", examples=STOP_EXAMPLES, facts=["Nothing is running", "The last run's summary."]),
    Endpoint("generative_forward", heavy=True, examples=[D_FWD, [0, 1000, "cosine", 1000, 1e-4, 0.02]],
             facts=["t = 500 of T = 1000", "essentially pure noise"],
             bad=[([0, 500, "linear", 1000, 1.5, 0.02], "β_start = 1.5 must be in (0, 1)"),
                  ([0, 500, "linear", 1000, 0.02, 1e-4], "must be ≥ β_start"),
                  ([0, 500, "linear", 5000, 1e-4, 0.02], "T (steps of the chain) = 5000 is above the maximum 4000"),
                  ([0, 1200, "linear", 1000, 1e-4, 0.02], "timestep t = 1200 is above the maximum 1000"),
                  ([0, 500, "sigmoid", 1000, 1e-4, 0.02], "beta schedule 'sigmoid' is not one of")]),
    Endpoint("generative_toy", heavy=True, stateful=True, examples=[_TOY], facts=["mean"],
             bad=[(["mnist", *_TOY[1:]], "data set 'mnist' is not one of"),
                  (["gauss_1d", 10**6, *_TOY[2:]], "training steps = 1000000 is above the maximum 20000"),
                  ([*_TOY[:4], 5000, *_TOY[5:]], "sampling steps = 5000 is above the maximum 1000")]),
    Endpoint("generative_toy_stop", examples=STOP_EXAMPLES, facts=["Nothing is running", "The last run's summary."]),
    Endpoint("generative_ddpm", heavy=True, stateful=True, examples=[_IMG], facts=["4 DDPM samples, seed 0"],
             bad=[([0, 100, "ddim", 20, 0.0], "images = 100 is above the maximum 32"),
                  ([0, 4, "ddim", 20, 2.0], "η (DDIM noise) = 2 is above the maximum 1"),
                  ([0, 4, "euler", 20, 0.0], "sampler 'euler' is not one of")]),
    Endpoint("generative_ddpm_frame", heavy=True, examples=[[*_IMG, 0]], facts=["Kept frame 0"],
             bad=[([*_IMG, 99], "reverse step (kept frame) = 99 is above the maximum")]),
    Endpoint("generative_ddpm_stop", examples=STOP_EXAMPLES, facts=["Nothing is running", "The last run's summary."]),
    Endpoint("generative_sweep", heavy=True, examples=[["5, 10", 4, 0]], facts=["DDIM steps vs quality"],
             bad=[(["5, 2000", 4, 0], "step counts to compare = 2000 is above the maximum 1000"),
                  (["five", 4, 0], "step counts to compare")]),
    Endpoint("generative_diffusers", heavy=True, examples=[["ddim", 10, 0.0]], facts=["diffusers"],
             bad=[(["ddim", 0, 0.0], "sampling steps = 0 is below the minimum 1")]),
    Endpoint("generative_score", heavy=True, stateful=True, examples=[[DCGAN, 100, 0]], facts=["IS analogue"],
             bad=[([DDPM, 1000, 0], "samples to score = 1000 is above the maximum 256"),
                  (["fmnist_cnn", 100, 0], "generator 'fmnist_cnn' is not one of")]),
    Endpoint("generative_score_stop", examples=STOP_EXAMPLES, facts=["Nothing is running", "The last run's summary."]),
]


def warmup() -> None:
    """Pay the one-off costs of the first click (the generative package, the first figure) without
    loading weights or data."""
    import dlcore.generative  # noqa: F401
    from dlcore.plotting import figure_to_png
    from dlcore.plotting.generative import divergence_figure  # noqa: F401
    from dlcore.plotting.diffusion import schedules_figure
    from dlcore.generative import schedule_curves

    figure_to_png(schedules_figure(schedule_curves()))


if __name__ == "__main__":
    import launch

    launch.main(["--tabs", "generative"])
