"""The optimizers tab's "SGD vs Adam from one start" panel (issue 15 item 4, second half): the zoo CNN's
network trained twice from the same random weights on the same batches, once with SGD-momentum and once
with Adam, then the line between the two minima and one filter-normalised slice through each.

Torch-free at import; the work is :mod:`dlcore.optim_viz.minima`, the figure
:func:`dlcore.plotting.optim_viz.minima_figure`.
"""

from __future__ import annotations

from typing import Any, Iterator

import gradio as gr

from apps.common import HEAVY, LATEX, LIGHT, STOPS, STOP_EXAMPLES, Endpoint, Number, Slider, guard, on, stop_button
from dlcore.textinput import parse_int, parse_number

#: The labels on the page, also used to name a bad value.
LM = {"steps": "steps", "sgd_lr": "SGD-momentum learning rate", "adam_lr": "Adam learning rate", "seed": "seed"}
#: Defaults: 200 steps of batch 64 for each optimizer, losses on 500 test images (91 s with the machine busy
#: running the test suite; ≈ 0.1-0.2 s a step for the pair).
D_MIN = [200, 0.05, 0.001, 0]
TASK = "optim_minima"

NOTE = ("**The minima SGD and Adam find from one start.** Two copies of the zoo CNN's network start from the "
        "*same* random weights θ₀ and train on the *same* mini-batches with the *same* dropout masks; only the "
        "optimizer differs: SGD with momentum 0.9 and Adam, both `torch.optim` from the registry. Then: how far "
        "each went (‖θ − θ₀‖) and how far apart they ended; the test loss along the straight line "
        "$(1-t)\\,\\theta_{SGD} + t\\,\\theta_{Adam}$ (Goodfellow et al. 2015): a bump between $t = 0$ and $1$ "
        "is a **barrier**, two separate valleys; and one random **filter-normalised** direction through each "
        "minimum, scaled to that minimum's own weights (Li et al. 2018), so the two curves compare how "
        "**sharp** each minimum is. One seed and a few hundred steps: a demonstration, not a study; change the "
        "seed to see what is robust.")


def parse_minima(steps: Any, sgd_lr: Any, adam_lr: Any, seed: Any) -> Any:
    """The settings checked and named; returns a MinimaConfig."""
    from dlcore.optim_viz.minima import MinimaConfig

    return MinimaConfig(steps=parse_int(steps, LM["steps"], lo=10, hi=2000),
                        sgd_lr=parse_number(sgd_lr, LM["sgd_lr"], lo=1e-5, hi=1.0),
                        adam_lr=parse_number(adam_lr, LM["adam_lr"], lo=1e-5, hi=1.0),
                        seed=parse_int(seed, LM["seed"], lo=0, hi=10_000))


def _summary(res: Any) -> str:
    cfg = res.config
    if not res.complete:
        losses = ", ".join(f"{r.label} {float(r.train_loss[res.step - 1]):.3f}" for r in res.runs) if res.step else ""
        return (f"⏳ step {res.step}/{cfg.steps} of both runs ({res.seconds:.0f} s so far). Mini-batch loss now: "
                f"{losses or '…'}. The line and the slices follow when training ends.")
    head = ("| optimizer | lr | test loss | test accuracy | ‖θ − θ₀‖ | sharpness (rise at α = ±0.5) |\n"
            "|---|---|---|---|---|---|\n")
    rows = "".join(f"| {r.label} | {r.lr:g} | {r.test_loss:.4f} | {100 * r.test_acc:.1f} % | {r.travelled:.2f} | "
                   f"{r.sharpness:.3f} |\n" for r in res.runs)
    sharper = max(res.runs, key=lambda r: r.sharpness)
    barrier = res.barrier
    basin = (f"a **barrier** of {barrier:.3f} above the higher end: the two minima sit in different valleys"
             if barrier > 0.01 else f"no barrier ({barrier:+.3f}): one connected valley along this line")
    stopped = f"⏹ stopped at step {res.step}/{cfg.steps}; measured at the weights reached.  \n" if res.stopped else ""
    return (f"{stopped}**{res.model}**'s network from one random start (seed {cfg.seed}), {res.step} steps of batch "
            f"{cfg.batch} from {res.n_train:,} training images, losses on {cfg.n_eval:,} test images; "
            f"{res.seconds:.0f} s. At θ₀ the test loss was {res.start_loss:.3f}.\n\n{head}{rows}\n"
            f"The minima are **{res.distance:.2f}** apart (‖θ_SGD − θ_Adam‖). Along the line between them: {basin}. "
            f"On its own filter-normalised slice, {sharper.label}'s minimum is the sharper here.")


@guard
def minima(steps: Any, sgd_lr: Any, adam_lr: Any, seed: Any, request: gr.Request = None  # type: ignore[assignment]
           ) -> Iterator[tuple[str, Any]]:
    """Stream both runs' training, then the line and the slices; Stop ends training early."""
    cfg = parse_minima(steps, sgd_lr, adam_lr, seed)
    from apps.streaming import FrameBudget, progress_stream
    from dlcore.optim_viz.minima import compare_minima
    from dlcore.plotting.optim_viz import minima_figure
    from dlcore.train.runtime import torch_threads

    yield "⏳ loading the data and drawing θ₀ …", None
    with STOPS.running(request, TASK) as stop:
        def work(cb: Any) -> Any:
            with torch_threads(1):
                return compare_minima(cfg, stop, progress=lambda r: cb(r.step, {"res": r}))
        budget = FrameBudget()  # drawing holds the GIL the training thread needs (apps/streaming.py)
        for prog, res, done in progress_stream(work, stop, 1.0, name="optim-minima"):
            cur = res if done else prog.get("res")
            if cur is not None:
                text = _summary(cur)
                yield from budget.frame(lambda: (text, minima_figure(cur)), (text, gr.skip()), final=done)


stop_minima = stop_button(TASK, "⏹ stopping after the current step; the minima are then measured where the runs are …",
                           "Nothing is running: press **Train both from one start** first.")


def minima_tab() -> None:
    """The panel (called from :func:`apps.optim.build` inside its own ``gr.Tab``)."""
    gr.Markdown(NOTE, latex_delimiters=LATEX)
    with gr.Row():
        steps = Slider(10, 2000, D_MIN[0], step=10, label=LM["steps"], info="of each optimizer, batch 64")
        seed = Number(D_MIN[3], precision=0, label=LM["seed"], min_width=100)
    with gr.Row():
        sgd = Number(D_MIN[1], label=LM["sgd_lr"], min_width=120)
        adam = Number(D_MIN[2], label=LM["adam_lr"], min_width=120)
    with gr.Row():
        btn = gr.Button("Train both from one start", variant="primary", elem_id="optim-minima-run")
        stop = gr.Button("Stop", elem_id="optim-minima-stop")
    status = gr.Markdown("Press **Train both from one start**: the training curves stream, then the line and the "
                         "slices are measured.", latex_delimiters=LATEX)
    fig = gr.Plot(show_label=False)
    ins = [steps, sgd, adam, seed]
    on(btn.click, minima, ins, [status, fig], api_name="optim_minima", **HEAVY)
    on(stop.click, stop_minima, status, status, api_name="optim_minima_stop", **LIGHT)
    gr.Examples([D_MIN, [200, 0.05, 0.001, 1], [600, 0.05, 0.001, 0], [200, 0.2, 0.001, 0]], ins,
                cache_examples=False,
                example_labels=["200 steps each, seed 0", "another start (seed 1)", "600 steps each (a few minutes)",
                                "SGD with a 4× larger step"],
                label="Settings (then press the button)")


MINIMA_ENDPOINTS = [
    Endpoint("optim_minima", heavy=True, stateful=True, examples=[[10, 0.05, 0.001, 0]],
             facts=["sharper here"],
             bad=[([5, 0.05, 0.001, 0], "steps = 5 is below the minimum 10"),
                  ([10, 2.0, 0.001, 0], "SGD-momentum learning rate = 2 is above the maximum 1"),
                  ([10, 0.05, 0.0, 0], "Adam learning rate = 0 is below the minimum 1e-05"),
                  ([10, 0.05, 0.001, -3], "seed = -3 is below the minimum 0")]),
    Endpoint("optim_minima_stop", examples=STOP_EXAMPLES, facts=["Nothing is running", "The last run's summary."]),
]
