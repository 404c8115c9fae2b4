"""Handler-level tests of the generative tab: real behaviour, numbers against the library and diffusers."""

from __future__ import annotations

import math
from typing import Any

import gradio as gr
import pytest
import torch

from apps import generative_diffusion as D
from apps import generative_gan as G
from apps import generative_images as I


class _Req:
    """A stand-in for gr.Request: the stop registry only reads the session hash."""

    def __init__(self, key: str) -> None:
        self.session_hash = key


def _msg(exc: pytest.ExceptionInfo) -> str:
    return str(exc.value.message if hasattr(exc.value, "message") else exc.value)


def test_choice_lists_mirror_the_library_registries() -> None:
    import dlcore.generative as lib
    from dlcore.generative.schedules import MAX_TIMESTEPS
    from dlcore.models.denoisers import TIME_INPUTS

    assert G.GAN_TOYS == lib.GAN_TOYS and D.DIFFUSION_TOYS == lib.DIFFUSION_TOYS
    assert G.OBJECTIVES == {k: v.title for k, v in lib.OBJECTIVES.items()}
    assert G.PAIRS == lib.PAIRS and G.INTERPOLATIONS == lib.INTERPOLATIONS and G.IMAGE_MODELS == lib.IMAGE_MODELS
    assert (G.DCGAN, G.DDPM) == (lib.DCGAN_NAME, lib.DDPM_NAME)
    assert D.BETA_SCHEDULES == lib.BETA_SCHEDULES and D.SAMPLERS == lib.SAMPLERS and D.TIME_INPUTS == TIME_INPUTS
    assert G.TOY_TITLES == {k: t.title for k, t in lib.TOYS.items()} and D.MAX_T == MAX_TIMESTEPS


def test_dcgan_grid_reports_the_classifier_on_the_library_samples() -> None:
    from dlcore.generative import classifier_score, dcgan_samples

    md, fig = G.dcgan_grid(3, 8)
    ref = classifier_score(dcgan_samples(8, 3).images)
    assert "**8 DCGAN samples, seed 3**" in md and f"mean confidence **{ref.mean_confidence:.2f}**" in md
    assert fig is not None and "IS analogue **4.30**" in md  # the manifest's recorded score


def test_interpolation_slerp_keeps_the_norm_and_linear_sags() -> None:
    s, _ = G.dcgan_walk(0, 1, 9, "slerp")
    lin, _ = G.dcgan_walk(0, 1, 9, "linear")
    lo_s = float(s.split("|z| along the path: ")[1].split(" …")[0])
    lo_l = float(lin.split("|z| along the path: ")[1].split(" …")[0])
    assert lo_l < lo_s - 1.0  # the straight line passes through codes of small norm


@pytest.mark.parametrize("pair,shift,js", [("uniform", 1.0, math.log(2)), ("uniform", 2.5, math.log(2)),
                                           ("uniform", 0.5, 0.5 * math.log(2)), ("lines", 0.3, math.log(2))])
def test_js_saturates_at_log2_and_w1_is_the_shift(pair: str, shift: float, js: float) -> None:
    md, fig = G.divergence(pair, shift)
    assert f"**W1 = {shift:.3f}**" in md
    if js == math.log(2):
        assert "**JS = log 2**" in md
    else:
        assert f"JS = {js:.4f}" in md
    assert fig is not None


def test_forward_numbers_equal_diffusers_schedule() -> None:
    diffusers = pytest.importorskip("diffusers")
    ref = diffusers.DDPMScheduler(num_train_timesteps=1000, beta_schedule="linear")
    md, img, one, two, sch = G_forward = D.forward(0, 500, "linear", 1000, 1e-4, 0.02)
    assert f"ᾱ_t = **{float(ref.alphas_cumprod[499]):.4g}**" in md
    assert "essentially pure noise" in md and all(f is not None for f in G_forward[1:])
    md, *_ = D.forward(0, 100, "linear", 100, 1e-4, 0.02)
    assert "NOT yet pure noise" in md


@pytest.mark.parametrize("args,fragment", [
    ((0, 500, "linear", 1000, 1.5, 0.02), "β_start = 1.5 must be in (0, 1)"),
    ((0, 500, "linear", 1000, 0.0, 0.02), "β_start = 0 must be in (0, 1)"),
    ((0, 500, "linear", 1000, 0.02, 1e-4), "must be ≥ β_start"),
    ((0, 500, "linear", 5000, 1e-4, 0.02), "above the maximum 4000"),
    ((0, 1001, "linear", 1000, 1e-4, 0.02), "timestep t = 1001 is above the maximum 1000"),
    ((10_000, 500, "linear", 1000, 1e-4, 0.02), "test image # = 10000"),
])
def test_forward_refuses_schedules_that_make_no_sense(args: tuple, fragment: str) -> None:
    with pytest.raises(gr.Error) as exc:
        D.forward(*args)
    assert fragment in _msg(exc)


def test_live_gan_streams_frames_and_finishes() -> None:
    frames = list(G.gan_live("ring", "wgan", 20, 5, 0))
    assert len(frames) == 5  # step 0 and every 5 steps
    md = frames[-1][0]
    assert "✅ finished" in md and "modes covered" in md and "RMSprop, lr 5e-05, n\\_critic 5, clip 0.01" in md


def test_live_gan_stops_on_request() -> None:
    req = _Req("gan-stop-test")
    run = G.gan_live("ring", "non_saturating", 4000, 10, 0, request=req)
    first = next(run)
    assert "⏳ training" in first[0]
    assert "stopping" in G.stop_gan(request=req)
    last = list(run)[-1]
    assert "⏹ stopped" in last[0]
    assert "Nothing is running" in G.stop_gan(request=req)


@pytest.mark.parametrize("args,fragment", [
    (("moons", "wgan", 100, 50, 0), "data set 'moons' is not one of"),
    (("ring", "lsgan", 100, 50, 0), "objective 'lsgan' is not one of"),
    (("ring", "wgan", 20000, 1, 0), "at most 400 per run"),
    (("ring", "wgan", 10**6, 50, 0), "above the maximum 20000"),
])
def test_live_gan_bad_inputs(args: tuple, fragment: str) -> None:
    with pytest.raises(gr.Error) as exc:
        next(G.gan_live(*args))
    assert fragment in _msg(exc)


def test_toy_diffusion_reports_the_library_moments() -> None:
    from dlcore.generative import SamplerConfig, sample_toy_diffusion

    args = ("gauss_1d", 150, "sinusoidal", "ddim", 40, 1000, 0)
    outs = list(D.toy_diffusion(*args))
    md = outs[-1][0]
    cfg, scfg, n, seed = D.toy_settings(*args)
    model, schedule, losses, data = D.TOYS.peek(cfg)
    ref = sample_toy_diffusion(model, schedule, n, SamplerConfig("ddim", 40), seed=seed, keep=8)
    assert f"**mean {float(ref.mean[0]):.2f}**" in md and f"**std {float(ref.std[0]):.2f}**" in md
    assert len(losses) == 150 and outs[-1][2] is not None and outs[-1][3] is not None


def test_toy_diffusion_sends_the_loss_curve_within_a_frame_budget(monkeypatch) -> None:
    """A loss figure per training frame, and the unchanged one again with every sampling frame, doubled
    the run through the server (28.7 s against 12 s in-process): now at most a tenth of the time is
    spent drawing, and sampling sends the finished curve once."""
    import time

    import dlcore.plotting.diffusion as PD

    drawn = object()

    def slow_loss_figure(*a: Any, **k: Any) -> object:
        time.sleep(0.3)  # what building and sending one costs through the server
        return drawn

    monkeypatch.setattr(PD, "loss_figure", slow_loss_figure)
    outs = list(D.toy_diffusion("gauss_1d", 200, "sinusoidal", "ddpm", 400, 2000, 7))
    training = [o for o in outs if o[0].startswith("⏳ training")]
    sampling = [o for o in outs if o[0].startswith("⏳ reverse chain")]
    assert len(training) >= 15 and sum(o[1] is drawn for o in training) <= 3
    assert sum(o[1] is drawn for o in sampling) <= 1 and outs[-1][1] is drawn


def test_toy_diffusion_caps() -> None:
    with pytest.raises(gr.Error) as exc:
        next(D.toy_diffusion("gauss_1d", 1000, "sinusoidal", "ddpm", 1000, 20000, 0))
    assert "point-steps; the cap is 4,000,000" in _msg(exc)


def test_ddpm_images_equal_the_library_sampler_and_step_through() -> None:
    from dlcore.generative import SamplerConfig, classifier_score, ddpm_image_samples

    outs = list(I.ddpm_images(2, 3, "ddim", 10, 0.0))
    md, grid, strip, upd = outs[-1]
    ref = ddpm_image_samples(3, 2, SamplerConfig("ddim", 10, 0.0), keep=10)
    sc = classifier_score(ref.samples)
    assert "**3 DDPM samples, seed 2**: 10 steps of DDIM" in md and f"confidence **{sc.mean_confidence:.2f}**" in md
    assert upd["maximum"] == 9 and upd["value"] == 9
    md0, _ = I.ddpm_frame(2, 3, "ddim", 10, 0.0, 0)
    assert "t = 901" in md0  # leading spacing: the first of 10 DDIM steps is t = 900 (0-based)
    with pytest.raises(gr.Error) as exc:
        I.ddpm_frame(2, 3, "ddim", 10, 0.0, 10)
    assert "reverse step (kept frame) = 10 is above the maximum 9" in _msg(exc)


def test_our_chain_is_bit_equal_to_diffusers_in_the_ui_check() -> None:
    pytest.importorskip("diffusers")
    assert "**bit for bit equal**" in I.diffusers_check("ddim", 8, 0.5)
    assert "**bit for bit equal**" in I.diffusers_check("ddpm", 8, 0.0)


def test_sweep_parses_counts_and_caps() -> None:
    assert I.parse_counts("20, 5, 5") == [5, 20] and I.parse_counts([10]) == [10] and I.parse_counts(7) == [7]
    for bad, frag in (("five", "step counts to compare"), ("1, 2, 3, 4, 5, 6, 7, 8, 9", "at most 8"),
                      ("[]", "must be a list"), ("0", "below the minimum 1")):
        with pytest.raises(ValueError) as exc:
            I.parse_counts(bad)
        assert frag in str(exc.value)
    md, fig, grid = list(I.ddpm_sweep("2, 4", 2, 0))[-1]
    assert "| 2 |" in md and "| 4 |" in md and fig is not None


def test_score_caps_the_ddpm_and_names_the_generator() -> None:
    with pytest.raises(gr.Error) as exc:
        next(G.score(G.DDPM, 1000, 0))
    assert "samples to score = 1000 is above the maximum 256" in _msg(exc)
    with pytest.raises(gr.Error) as exc:
        next(G.score("fmnist_cnn", 100, 0))
    assert "generator 'fmnist_cnn' is not one of" in _msg(exc)


def test_missing_checkpoint_is_refused_not_built(monkeypatch: pytest.MonkeyPatch) -> None:
    from dlcore import zoo
    from dlcore.zoo.store import Status

    monkeypatch.setattr(zoo, "verify", lambda name: Status(name, False, "file missing", None))
    with pytest.raises(ValueError) as exc:
        G.require_model(G.DDPM)
    assert "python -m dlcore.zoo build fmnist_ddpm" in str(exc.value)


def test_score_matches_the_classifier_on_the_same_samples() -> None:
    from dlcore.generative import classifier_score, generate_images

    md = list(G.score(G.DCGAN, 32, 5))[-1][0]
    imgs = torch.cat([generate_images(G.DCGAN, 32, 5)])
    assert f"mean confidence **{classifier_score(imgs).mean_confidence:.2f}**" in md


def test_score_of_the_manifest_samples_re_measures_the_manifest() -> None:
    from dlcore.generative import recorded_score

    md = list(G.score(G.DCGAN, 1000, 1234))[-1][0]
    rec = recorded_score(G.DCGAN)
    assert "the manifest's own 1,000 samples" in md
    assert md.count(f"IS analogue **{rec['inception_score']:.2f}**") == 2  # measured here and recorded
    assert md.count(f"mean confidence **{rec['mean_confidence']:.2f}**") == 2


def test_score_stops_on_request() -> None:
    req = _Req("score-stop-test")
    run = G.score(G.DDPM, 64, 3, request=req)
    first = next(run)
    assert "⏳ sampling" in first[0]
    G.stop_score(request=req)
    assert "⏹ stopped" in list(run)[-1][0]


def test_a_chain_stopped_before_its_first_kept_step_still_returns() -> None:
    """keep=1 keeps only the last step; a stop before it used to fail on an empty frame list."""
    import threading

    from dlcore.generative import SamplerConfig, make_schedule, sample

    class Eps(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lin = torch.nn.Linear(2, 2)

        def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
            return self.lin(x)

    res = sample(Eps(), make_schedule(), (8, 2), SamplerConfig("ddim", 20), keep=1,
                 callback=lambda i, m: i == 3, stop_event=threading.Event())
    assert res.status == "stopped" and res.model_calls == 4 and res.kept == [4] and res.trajectory.shape == (1, 8, 2)


def test_live_gans_started_together_train_alike() -> None:
    """The initial weights are drawn under a lock from a forked, seeded RNG: threads cannot interleave."""
    from concurrent.futures import ThreadPoolExecutor

    def final(i: int) -> str:  # one session each (a second run in one session stops the first)
        return list(G.gan_live("ring", "non_saturating", 10, 10, 0, request=_Req(f"together-{i}")))[-1][0]

    alone = final(0)
    with ThreadPoolExecutor(3) as pool:
        assert list(pool.map(final, range(3))) == [alone] * 3
