"""Shared glue of the Bayes tab's panels: stream a trainer with a Stop key, and write a run's
honest numbers (coverage, band widths in and out of the data range)."""

from __future__ import annotations

from typing import Any, Iterator

import gradio as gr

from apps.common import STOPS, guard
from apps.streaming import paced


def stream(trainer: Any, request: Any, key: str, label: str, total: int, n_out: int) -> Iterator[tuple]:
    """Run the ``trainer`` generator under this session's Stop ``key``; yield a progress tuple (text,
    then ``n_out - 1`` skips) about twice a second and, last, ``("run", Run)``."""
    from dlcore.bayes.training import Frame

    with STOPS.running(request, key) as stop:
        run = None
        for item, due in paced(trainer(stop)):
            if not isinstance(item, Frame):
                run = item
            elif due:
                kl = f" = likelihood {item.likelihood:.3f} + λ·KL (KL {item.kl:.1f})" if item.kl else ""
                yield (f"⏳ {label}: epoch {item.epoch}/{total} · loss {item.loss:.4f}{kl}", *[gr.skip()] * (n_out - 1))
    yield ("run", run)


@guard
def preview(noise: Any, seed: Any) -> Any:
    """The band plot before the panel's first run: the data it will train on (nothing is trained)."""
    import torch

    from dlcore.bayes.models import sine_data
    from dlcore.bayes.names import MAX_NOISE, MAX_SEED
    from dlcore.plotting.bayes import data_figure
    from dlcore.textinput import parse_int, parse_number

    sigma = parse_number(noise, "noise σ_y", lo=0, hi=MAX_NOISE)
    x, y = sine_data(sigma, torch.Generator().manual_seed(parse_int(seed, "seed", lo=0, hi=MAX_SEED)))
    return data_figure(x, y, sigma)


def status_prefix(run: Any) -> str:
    return {"stopped": f"⏹ **stopped** after {run.epochs_run} epochs — ",
            "diverged": "💥 **diverged** (the loss is not finite; lower the learning rate) — "}.get(run.status, "")


def honesty_md(s: Any, with_noise: bool) -> str:
    """The measured limits of the band, in words a learner can check against the picture."""
    grows = s.width_out / s.width_in if s.width_in > 0 else float("nan")
    verdict = ("grows" if grows > 1.2 else "barely changes" if grows > 0.9 else "shrinks")
    lines = [f"**Coverage** (of the 100 noisy training points inside mean ± 2 std): **{100 * s.coverage_epistemic:.0f} %** "
             f"with the notes' band; a calibrated 95 % band would hold ≈ 95 %. The band is *epistemic* only (the "
             f"spread of f(x; ŵ) over weight samples): the sum-of-squares likelihood has no noise term, so the "
             f"model never learns the observation noise. Adding the known σ_y = {s.noise:g} in quadrature, "
             f"std = √(std² + σ_y²), gives **{100 * s.coverage_total:.0f} %**"
             + (" (the light band)." if with_noise else " (tick *add σ_y* to draw it)."),
             f"**Outside the data** (|x| > 3, grey): mean band width 2·std = {s.width_out:.3f} vs {s.width_in:.3f} "
             f"inside — the uncertainty **{verdict}** ({grows:.2f}×) where there is no data."]
    return "\n\n".join(lines)
