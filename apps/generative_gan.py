"""Handlers of the generative tab's GAN panels: the shipped DCGAN (samples, latent walk), JS vs
Wasserstein as a picture, the live 2-D GAN, and "is it any good?" for both image generators.

Thin glue over :mod:`dlcore.generative`. Torch-free at import: the choice lists below mirror the
library's registries (``tests/apps/test_generative.py`` checks they are equal), and every
handler checks every parameter by the name the learner sees before any heavy work.
"""

from __future__ import annotations

import math
from typing import Any, Iterator

import gradio as gr

from apps.common import STOPS, guard, md_escape, stop_button
from dlcore.lazy import LazyCache
from dlcore.textinput import parse_choice, parse_int, parse_number

#: The labels on the page, also used to name a bad value (one spelling for both).
L = {"seed": "seed", "n_images": "images", "seed_a": "seed A", "seed_b": "seed B", "walk_steps": "images on the walk",
     "walk_mode": "path", "pair": "the two distributions", "shift": "shift θ", "dataset": "data set",
     "objective": "objective", "gan_steps": "generator steps", "frame_every": "steps per frame",
     "generator": "generator", "n_score": "samples to score", "arrows": "gradient arrows"}

# Mirrors of the library's registries (torch-free; equality is tested).
GAN_TOYS = ("ring", "grid", "two_moons", "spiral", "swiss_roll")
TOY_TITLES = {"ring": "ring of 8 Gaussians", "grid": "grid of 25 Gaussians", "two_moons": "two moons",
              "spiral": "two-arm spiral", "swiss_roll": "swiss roll", "gauss_1d": "N(3, 2²) (the seed's 1-D example)"}
OBJECTIVES = {"minimax": "original minimax (saturating)", "non_saturating": "non-saturating (-log D(G(z)))",
              "wgan": "WGAN (weight clipping)", "wgan_gp": "WGAN-GP (gradient penalty)"}
PAIRS = {"uniform": "U[0, 1] vs U[θ, θ+1] (overlap shrinks, then none)",
         "lines": "two parallel segments (Arjovsky et al. 2017, Example 1)",
         "gaussian": "N(0, 1) vs N(θ, 1) (always overlapping)"}
INTERPOLATIONS = {"slerp": "spherical (keeps |z| typical of N(0, I))", "linear": "straight line"}
DCGAN, DDPM = "fmnist_dcgan", "fmnist_ddpm"
IMAGE_MODELS = {DCGAN: "DCGAN (Fashion-MNIST)", DDPM: "DDPM denoiser (Fashion-MNIST)"}
#: Caps of this page (the library's are larger; these keep one click short on a laptop CPU).
MAX_GRID, MAX_WALK, MAX_GAN_STEPS, MAX_SHIFT = 64, 16, 20_000, 20.0
MAX_SCORE = {DCGAN: 1000, DDPM: 256}
LOG2 = math.log(2.0)

SWEEPS: LazyCache = LazyCache("JS vs W1 sweeps", max_extra=8)
SCORES: LazyCache = LazyCache("generator scores", max_extra=8)


def require_model(name: str) -> None:
    """Refuse (with what to do) when a shipped generator's checkpoint is missing: loading would
    otherwise *build* it, which takes half an hour and must never start from a click."""
    from dlcore import zoo

    st = zoo.verify(name)
    if not st.ok:
        raise ValueError(f"the shipped model {name!r} is not available here ({st.problem}); build it once with "
                         f"`python -m dlcore.zoo build {name}` (tens of minutes on a laptop CPU)")


def bar(done: float, total: float, width: int = 20) -> str:
    """A text progress bar ``▰▰▰▱▱ 40 %``."""
    f = 0.0 if total <= 0 else max(0.0, min(1.0, done / total))
    k = round(f * width)
    return "▰" * k + "▱" * (width - k) + f" {100 * f:.0f} %"


def recorded_line(name: str) -> str:
    """The manifest's sample score of a zoo generator, as a sentence."""
    from dlcore.generative import recorded_score

    m = recorded_score(name)
    if not m:
        return ""
    return (f"Recorded when it was built, on 1,000 seeded samples: mean confidence **{m['mean_confidence']:.2f}**, "
            f"IS analogue **{m['inception_score']:.2f}**, **{int(m['classes_covered'])}/10** classes "
            "(re-measured by the test suite, so the manifest cannot drift).")


def verdicts(score: Any) -> str:
    """'3 T-shirt/top, 2 Trouser, ...' from a SampleScore, most frequent first."""
    counts = [(int(c), score.classes[i]) for i, c in enumerate(score.class_counts.tolist()) if c]
    counts.sort(key=lambda x: -x[0])
    return ", ".join(f"{c} {md_escape(name)}" for c, name in counts)


# ----------------------------------------------------------------------------- DCGAN
@guard
def dcgan_grid(seed: Any, n: Any) -> tuple[str, Any]:
    """A grid of DCGAN samples for a seed, each titled with the zoo classifier's verdict."""
    seed = parse_int(seed, L["seed"], lo=0, hi=2**31 - 1)
    n = parse_int(n, L["n_images"], lo=1, hi=MAX_GRID)
    require_model(DCGAN)
    from dlcore.generative import classifier_score, dcgan_samples
    from dlcore.plotting.generative import sample_grid_figure

    imgs = dcgan_samples(n, seed).images
    sc = classifier_score(imgs)
    md = (f"**{n} DCGAN samples, seed {seed}** (z ~ N(0, I) in 64 dimensions → 28×28). The zoo classifier "
          f"(fmnist_cnn) calls them: {verdicts(sc)}; mean confidence **{sc.mean_confidence:.2f}**. "
          + recorded_line(DCGAN))
    return md, sample_grid_figure(imgs, sc, ncols=8, title=f"DCGAN, seed {seed}: verdict and confidence")


@guard
def dcgan_walk(seed_a: Any, seed_b: Any, steps: Any, mode: Any) -> tuple[str, Any]:
    """A latent walk between the first samples of two seeds' grids, with the verdict on every image."""
    a = parse_int(seed_a, L["seed_a"], lo=0, hi=2**31 - 1)
    b = parse_int(seed_b, L["seed_b"], lo=0, hi=2**31 - 1)
    k = parse_int(steps, L["walk_steps"], lo=2, hi=MAX_WALK)
    mode = parse_choice(mode, L["walk_mode"], list(INTERPOLATIONS))
    require_model(DCGAN)
    from dlcore.generative import dcgan_interpolation
    from dlcore.plotting.generative import interpolation_figure

    walk = dcgan_interpolation(a, b, k, mode)
    norms = walk.latents.norm(dim=1)
    names = [walk.score.classes[int(p)] for p in walk.score.predictions]
    runs = [x for i, x in enumerate(names) if i == 0 or x != names[i - 1]]
    changes = len(runs) - 1
    md = (f"**{k} images from seed {a} to seed {b}, {mode}**: {INTERPOLATIONS[mode]}. |z| along the path: "
          f"{float(norms.min()):.2f} … {float(norms.max()):.2f} (a typical code of N(0, I) in 64-D has |z| ≈ 8.0; a "
          f"straight line sags towards the origin, slerp does not). The verdict changes {changes} time(s): "
          f"{md_escape(' → '.join(runs))}.")
    return md, interpolation_figure(walk)


# ----------------------------------------------------------------------------- JS vs W1
def _sweep(pair: str, top: float) -> Any:
    from dlcore.generative import divergence_sweep

    return SWEEPS.get((pair, top), lambda: divergence_sweep(pair, top, 61, 5000))  # type: ignore[arg-type]


@guard
def divergence(pair: Any, shift: Any) -> tuple[str, Any]:
    """JS and W1 at one shift (the slider), drawn over the sweep from 0 to the slider's end."""
    pair = parse_choice(pair, L["pair"], list(PAIRS))
    s = parse_number(shift, L["shift"], lo=0.0, hi=MAX_SHIFT)
    from dlcore.generative import divergence_at
    from dlcore.plotting.generative import divergence_figure

    top = 3.0 if s <= 3.0 else float(math.ceil(s))
    pt = divergence_at(pair, s)  # type: ignore[arg-type]
    sweep = _sweep(pair, top)
    if pair == "gaussian":
        why = "the supports always overlap, so JS creeps towards log 2 but never reaches it"
    elif pair == "uniform":
        why = "JS = min(θ, 1)·log 2: it grows while the supports overlap and is stuck at log 2 from θ = 1 on"
    else:
        why = "two parallel segments never overlap for θ ≠ 0: JS jumps to log 2 at once (Arjovsky et al., Example 1)"
    sat = "**JS = log 2**" if abs(pt.js - LOG2) < 1e-9 else f"JS = {pt.js:.4f}"
    md = (f"**θ = {s:g}** ({md_escape(PAIRS[pair])}): {sat} nats (log 2 = {LOG2:.4f}), **W1 = {pt.w1:.3f}** "
          f"(the shift itself). From {5000:,} samples: JS ≈ {pt.js_hist:.4f} (histogram, 200 bins), "
          f"W1 ≈ {pt.w1_samples:.3f} (sorted samples). The original GAN's best discriminator reaches "
          f"max_D V = 2·JS − log 4 = {pt.gan_value:.4f} (Goodfellow et al. 2014, Theorem 1; the notes write "
          f"log 4 − 2·JS, the same relation with the sign flipped). Here {why}. A generator trained on JS gets **no gradient** "
          "once it saturates; W1 still says how far to move (the WGAN's point, seed 000 §8.5.1).")
    return md, divergence_figure(sweep, pt)


# ----------------------------------------------------------------------------- live 2-D GAN
def gan_settings(dataset: Any, objective: Any, steps: Any, frame_every: Any, seed: Any) -> tuple[str, str, int, int, int]:
    ds = parse_choice(dataset, L["dataset"], list(GAN_TOYS))
    obj = parse_choice(objective, L["objective"], list(OBJECTIVES))
    n = parse_int(steps, L["gan_steps"], lo=1, hi=MAX_GAN_STEPS)
    every = parse_int(frame_every, L["frame_every"], lo=1, hi=max(n, 1))
    if n / every > 400:
        raise ValueError(f"{L['gan_steps']} {n} / {L['frame_every']} {every} = {math.ceil(n / every)} frames; "
                         f"at most 400 per run (raise {L['frame_every']} to at least {math.ceil(n / 400)})")
    return ds, obj, n, every, parse_int(seed, L["seed"], lo=0, hi=2**31 - 1)


def _gan_md(frame: Any, cfg: Any, paper: str) -> str:
    c = frame.curves
    d, g = c.d_loss[-1], c.g_loss[-1]
    losses = "" if math.isnan(d) else f" · D loss {d:.3f} · G loss {g:.3f}"
    if frame.objective in ("wgan", "wgan_gp") and c.wasserstein and not math.isnan(c.wasserstein[-1]):
        losses += f" · critic's W1 estimate E[D(real)] − E[D(fake)] = {c.wasserstein[-1]:.3f}"
    head = {"running": "⏳ training", "finished": "✅ finished", "stopped": "⏹ stopped",
            "diverged": "⚠ diverged"}.get(frame.status, frame.status)
    best = max(c.modes) if c.modes else 0
    collapse = ""
    if frame.status != "running" and best > frame.modes_covered:
        collapse = (f" **Mode collapse seen:** {best} modes were covered at some point, {frame.modes_covered} at the "
                    "end (the generator hops between modes instead of covering them).")
    return (f"{head}: step **{frame.step}/{cfg.steps}** {bar(frame.step, cfg.steps, 16)}{losses}  \n"
            f"**{frame.modes_covered} of {frame.n_modes} modes covered** · {100 * frame.high_quality:.0f} % of the "
            f"samples on a mode (within 3σ; a mode counts with ≥ 0.8 % of 1,000 samples).{collapse}  \n"
            f"Settings ({md_escape(paper)}): {md_escape(cfg.optimizer_text)}. "
            + (md_escape(frame.message) if frame.message else ""))


class _Cfg:
    """What the status line says about a run's settings."""

    def __init__(self, gan_cfg: Any, steps: int, optimizer: str) -> None:
        o = gan_cfg
        extra = []
        if o.n_critic > 1:
            extra.append(f"n_critic {o.n_critic}")
        if o.clip is not None:
            extra.append(f"clip {o.clip:g}")
        if o.gp_lambda is not None:
            extra.append(f"λ {o.gp_lambda:g}")
        opt = "RMSprop" if optimizer == "rmsprop" else f"Adam β {tuple(o.betas)}"
        self.optimizer_text = f"{opt}, lr {o.lr:g}" + (", " + ", ".join(extra) if extra else "") + f", batch {o.batch_size}"
        self.steps = steps


@guard
def gan_live(dataset: Any, objective: Any, steps: Any, frame_every: Any, seed: Any,
             request: gr.Request = None) -> Iterator[tuple[str, Any, Any]]:  # type: ignore[assignment]
    """Train a 2-D GAN and stream a frame (samples over the data, D's surface, G's gradient arrows)
    and the loss / modes-covered curves; Stop keeps the last frame."""
    ds, obj, n, every, sd = gan_settings(dataset, objective, steps, frame_every, seed)
    from dlcore.generative import OBJECTIVES as LIB, GANLiveConfig, train_gan_2d
    from dlcore.plotting.generative import gan_curves_figure, gan_frame_figure
    from dlcore.train.runtime import torch_threads

    cfg = GANLiveConfig(ds, obj, steps=n, frame_every=every, seed=sd)  # type: ignore[arg-type]
    info = _Cfg(cfg.gan_config(), n, LIB[obj].optimizer)
    critic = LIB[obj].critic
    with STOPS.running(request, "generative_gan") as stop, torch_threads(1):
        for frame in train_gan_2d(cfg, stop_event=stop):
            md = _gan_md(frame, info, LIB[obj].paper)
            yield (md, gan_frame_figure(frame), gan_curves_figure(frame.curves, n_modes=frame.n_modes, critic=critic))


stop_gan = stop_button("generative_gan", "⏹ stopping after the current step…",
                        "Nothing is running: press **Train the GAN** first.")


# ----------------------------------------------------------------------------- is it any good?
def score_settings(name: Any, n: Any, seed: Any) -> tuple[str, int, int]:
    name = parse_choice(name, L["generator"], list(IMAGE_MODELS))
    cap = MAX_SCORE[name]
    why = "" if name == DCGAN else " (each DDPM sample costs 50 network calls)"
    try:
        k = parse_int(n, L["n_score"], lo=16, hi=cap)
    except ValueError as exc:
        raise ValueError(f"{exc} for the {IMAGE_MODELS[name]}{why}") from None
    return name, k, parse_int(seed, L["seed"], lo=0, hi=2**31 - 1)


@guard
def score(name: Any, n: Any, seed: Any, request: gr.Request = None  # type: ignore[assignment]
          ) -> Iterator[tuple[str, Any, Any]]:
    """The zoo classifier's verdicts on n samples (confidence, class histogram, IS analogue) beside
    real test images, and the nearest training image of the first samples (memorisation check).

    Samples are drawn exactly as the manifest's score draws them (batches of 256, seed + batch), so
    1,000 samples at seed 1234 re-measure the recorded numbers."""
    name, n, seed = score_settings(name, n, seed)
    require_model(name)
    import torch

    from apps.explain_stream import stream
    from dlcore.generative import IMAGE_SAMPLER, classifier_score, dcgan_samples, ddpm_image_samples
    from dlcore.generative import nearest_training_images, reference_score
    from dlcore.plotting.generative import class_histogram_figure, neighbours_figure
    from dlcore.train.runtime import torch_threads

    key = (name, n, seed)
    cached = SCORES.peek(key)
    if cached is None:
        imgs = []
        with STOPS.running(request, "generative_score") as stop, torch_threads(1):
            for i, start in enumerate(range(0, n, 256)):
                m = min(256, n - start)
                if name == DCGAN:
                    yield f"⏳ sampling {IMAGE_MODELS[name]}: {start}/{n} {bar(start, n)}", gr.skip(), gr.skip()
                    imgs.append(dcgan_samples(m, seed + i).images)
                    continue
                work = lambda cb: ddpm_image_samples(m, seed + i, IMAGE_SAMPLER, keep=1, callback=cb,  # noqa: E731
                                                     stop_event=stop)
                for p, res in stream(work, stop=stop):
                    j = p.get("step", -1) + 1
                    done = start + m * j / 50
                    if res is None:
                        yield (f"⏳ sampling {IMAGE_MODELS[name]}: images {start}–{start + m} of {n}, DDIM step {j}/50 "
                               f"{bar(done, n)}", gr.skip(), gr.skip())
                    elif res.status == "stopped":
                        yield f"⏹ stopped while sampling images {start}–{start + m}: nothing scored.", None, None
                        return
                    else:
                        imgs.append(res.samples)
            if stop.is_set():
                yield "⏹ stopped: nothing scored.", None, None
                return
        yield "⏳ scoring and looking for the nearest training images…", gr.skip(), gr.skip()
        x = torch.cat(imgs)
        cached = (x, classifier_score(x), nearest_training_images(x[:6]))
        SCORES.put(key, cached)
    x, sc, nb = cached
    ref = reference_score()
    d1 = nb.distances[:, 0]
    copied = int((d1 < 0.5 * nb.typical).sum())
    how = "" if name == DCGAN else " (DDIM, 50 steps, η = 0: the sampler the manifest was scored with)"
    same = (" These are **the manifest's own 1,000 samples**, so the numbers below re-measure the recorded ones."
            if (n, seed) == (1000, 1234) else "")
    md = (f"**{n} samples of the {IMAGE_MODELS[name]}, seed {seed}**{how}: mean confidence **{sc.mean_confidence:.2f}**, "
          f"IS analogue **{sc.inception_score:.2f}**, **{sc.classes_covered}/10** classes with ≥ 2 % of the samples. "
          f"Real test images with the same classifier: {ref.mean_confidence:.2f}, IS {ref.inception_score:.2f}, "
          f"{ref.classes_covered}/10 — the scale to read these on.{same} {recorded_line(name)}  \n"
          f"**Memorisation check**: the first {len(d1)} samples' nearest training images are at L2 "
          f"{float(d1.min()):.2f} … {float(d1.max()):.2f}; real test images sit at a median {nb.typical:.2f} from "
          f"their nearest training image. {copied} sample(s) closer than half of that (a near copy would be).  \n"
          "*What this is:* an Inception-score analogue built from the shipped Fashion-MNIST CNN (IS = exp E KL(p(y|x) ‖ "
          "p(y)), Salimans et al. 2016) — not the Inception network, not FID; it rewards confident, class-balanced "
          "samples and cannot see blur the classifier tolerates.")
    yield md, class_histogram_figure(sc, ref), neighbours_figure(x[:6], nb, max_rows=6)


stop_score = stop_button("generative_score", "⏹ stopping after the current step…",
                          "Nothing is running: press **Score** first.")
