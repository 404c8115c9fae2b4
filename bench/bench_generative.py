"""Generative figures (issue 13): reverse chains, the scheduler arithmetic vs diffusers, DDIM on
images, one live GAN frame, and the zoo image models' build time and sample score.

    PYTHONPATH=. .venv/bin/python bench/bench_generative.py [--build]

Prints JSON lines (``bench.common.emit``). Targets:

* 1,000 DDPM reverse steps for 2,000 2-D points (MLP denoiser) <= 3 s;
* the scheduler arithmetic alone (1,000 ``ddpm_step`` calls on (2000, 2), fixed eps) <= 1.0x
  diffusers' ``DDPMScheduler.step`` loop on the same tensors, measured in the same run;
* DDIM-50 on 16 Fashion-MNIST images with the shipped ``fmnist_ddpm`` <= 5 s;
* one live 2-D GAN frame (``frame_every`` = 25 generator steps + the frame's pictures), per
  objective, library side <= 250 ms (the browser round trip is measured with the tab);
* each zoo image model: build time and sample score from the manifest (``--build`` rebuilds
  them here, one after the other, 1 thread).

The CPU is shared; ``load_avg`` (1-minute) is printed with every figure.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import emit, load_avg  # noqa: E402


def _best(fn, n: int = 3) -> float:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def reverse_chain() -> None:
    import torch

    from dlcore.generative import SamplerConfig, make_schedule, sample
    from dlcore.models.denoisers import MLPDenoiser

    torch.manual_seed(0)
    model, sched = MLPDenoiser(2, 128, 2).eval(), make_schedule()
    s = _best(lambda: sample(model, sched, (2000, 2), SamplerConfig("ddpm"), keep=10), 2)
    emit("ddpm_1000_steps_2000_points", round(s, 3), "s", target="<= 3 s", model="MLPDenoiser(2, 128, 2), sinusoidal t",
         load_avg=load_avg())


def scheduler_arithmetic() -> None:
    import torch
    from diffusers import DDPMScheduler

    from dlcore.generative import ddpm_step, make_schedule

    sched = make_schedule()
    ref = DDPMScheduler(1000, clip_sample=False)
    ref.set_timesteps(1000)
    x0, eps = torch.randn(2000, 2), torch.randn(2000, 2)

    def ours() -> None:
        g, x = torch.Generator().manual_seed(0), x0
        for t in range(999, -1, -1):
            x = ddpm_step(sched, eps, t, x, generator=g).prev_sample

    def theirs() -> None:
        g, x = torch.Generator().manual_seed(0), x0
        for t in ref.timesteps:
            x = ref.step(eps, t, x, generator=g).prev_sample

    a, b = [], []
    for _ in range(5):  # interleaved, so both see the same load
        a.append(_best(ours, 1))
        b.append(_best(theirs, 1))
    mine, peer = min(a), min(b)
    emit("ddpm_step_loop_1000x(2000,2)", round(mine, 3), "s", peer="diffusers DDPMScheduler.step loop",
         peer_value=round(peer, 3), ratio=round(mine / peer, 2), target="ratio <= 1.0", load_avg=load_avg())


def ddim_images() -> None:
    import torch

    from dlcore.generative import IMAGE_SAMPLER, ddpm_image_samples, load_ddpm

    torch.set_num_threads(1)
    model = load_ddpm()
    ddpm_image_samples(2, 0, IMAGE_SAMPLER, keep=1, model=model)  # warm-up
    s = _best(lambda: ddpm_image_samples(16, 0, IMAGE_SAMPLER, keep=10, model=model), 2)
    emit("ddim50_16_fmnist_images", round(s, 2), "s", target="<= 5 s", model="zoo fmnist_ddpm", threads=1,
         load_avg=load_avg())


def gan_frame() -> None:
    import torch

    from dlcore.generative import OBJECTIVES, GANLiveConfig, train_gan_2d

    torch.set_num_threads(1)
    for name in OBJECTIVES:
        cfg = GANLiveConfig("ring", name, steps=25 * 21, frame_every=25)
        secs = [f.seconds for f in train_gan_2d(cfg)][1:]
        emit(f"gan_live_frame_{name}", round(statistics.median(secs) * 1000, 1), "ms", p95=round(
            sorted(secs)[int(0.95 * (len(secs) - 1))] * 1000, 1), n=len(secs), target="<= 250 ms (library part)",
             steps_per_frame=25, n_critic=OBJECTIVES[name].n_critic, threads=1, load_avg=load_avg())


def zoo_models(build: bool) -> None:
    from dlcore import zoo
    from dlcore.generative.scores import reference_score

    for name in ("fmnist_dcgan", "fmnist_ddpm"):
        entry = zoo.build(name) if build else zoo.info(name)
        m = entry.get("metrics", {})
        emit(f"zoo_build_{name}", entry.get("train_seconds"), "s", threads=entry.get("threads"),
             mean_confidence=m.get("mean_confidence"), inception_score=m.get("inception_score"),
             classes_covered=m.get("classes_covered"), bytes=entry.get("bytes"), rebuilt_here=build,
             target="< 30 min CPU, < 3 MB", load_avg=load_avg())
    ref = reference_score(1000)
    emit("fmnist_test_images_score", round(ref.mean_confidence, 4), "", inception_score=round(ref.inception_score, 3),
         note="the same classifier score for 1,000 real test images (the scale)", load_avg=load_avg())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", action="store_true", help="rebuild the zoo image models here (slow)")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(1)
    scheduler_arithmetic()
    reverse_chain()
    ddim_images()
    gan_frame()
    zoo_models(args.build)


if __name__ == "__main__":
    main()
