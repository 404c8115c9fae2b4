"""The optimizers tab's real-network panel (issue 15 item 4): the zoo CNN's loss along two random
filter-normalised directions (Li et al. 2018), computed row by row with progress and Stop.

Torch-free at import; the work is :mod:`dlcore.optim_viz.landscape`, the figure
:func:`dlcore.plotting.optim_viz.landscape_figure`.
"""

from __future__ import annotations

from typing import Any, Iterator

import gradio as gr

from apps.common import (HEAVY, LATEX, LIGHT, STOPS, STOP_EXAMPLES, Dropdown, Endpoint, Number, Radio, Slider, guard,
                        on, stop_button)
from apps.streaming import FrameBudget
from dlcore.textinput import parse_choice, parse_int

#: The labels on the page, also used to name a bad value.
LL = {"grid": "grid points per side", "seed": "direction seed", "images": "test images", "precision": "arithmetic"}
#: Defaults: an 11×11 grid on 250 images (121 quarter-size forward passes: a few seconds here).
D_LAND = [11, 0, 250, "auto"]
PRECISION_CHOICES = [("auto (bfloat16 where this CPU is faster at it)", "auto"), ("float32 (exact)", "float32"),
                     ("bfloat16", "bfloat16")]
IMAGE_CHOICES = [100, 250, 500, 1000]
TASK = "optim_landscape"

NOTE = ("**A real network's loss landscape** (Li et al. 2018, [Visualizing the Loss Landscape of Neural Nets]"
        "(https://arxiv.org/abs/1712.09913)). The trained zoo CNN's weights θ* (about 420k numbers) and two random "
        "Gaussian directions d₁, d₂ in weight space, each **filter-normalised**: every filter is rescaled to the "
        "norm of the same filter of θ*, $d_{ij} \\leftarrow d_{ij}/\\lVert d_{ij}\\rVert \\cdot \\lVert\\theta_{ij}"
        "\\rVert$ (biases and BatchNorm get zero), so that the plot does not depend on how each layer's weights "
        "happen to be scaled. The picture is $f(\\alpha, \\beta) = L(\\theta^* + \\alpha d_1 + \\beta d_2)$, the "
        "real cross-entropy on the first test images, one full forward pass per grid point (eval mode). It is "
        "one random 2-D slice of a 420k-dimensional function: it shows how sharp or flat the minimum is in "
        "random directions, not the path training took.")


def parse_landscape(grid: Any, seed: Any, images: Any, precision: Any = "auto") -> Any:
    """The settings checked and named; returns a LandscapeConfig."""
    from dlcore.optim_viz.landscape import PRECISIONS, LandscapeConfig

    g = parse_int(grid, LL["grid"], lo=3, hi=25)
    if g % 2 == 0:
        raise ValueError(f"{LL['grid']} = {g} must be odd (the trained weights θ* are the centre point)")
    s = parse_int(seed, LL["seed"], lo=0, hi=10_000)
    n = parse_int(images, LL["images"], lo=10, hi=1000)
    p = parse_choice(precision, LL["precision"], PRECISIONS)
    return LandscapeConfig(grid=g, n_images=n, seed=s, precision=p)


def _arithmetic(land: Any) -> str:
    """One sentence on the arithmetic the grid ran in, with its measured check."""
    if land.precision == "float32":
        return "Arithmetic: float32."
    from dlcore.optim_viz.cnnforward import bf16_speedup

    check = (f"checked: the centre and the four corners computed again in float32 differ by at most "
             f"**{100 * land.check:.2f} %** of the loss" if land.check is not None else "not checked (no finished grid)")
    return (f"Arithmetic: **bfloat16** products with float32 sums (this CPU runs the convolution "
            f"{bf16_speedup():.1f}× faster in it); {check}. Choose float32 for the exact values.")


def _summary(land: Any) -> str:
    import torch

    cfg = land.config
    g = cfg.grid
    z = land.loss[:land.rows]
    done = f"{land.done}/{g * g} points"
    if land.stopped:
        return (f"⏹ stopped after {done} ({land.seconds:.1f} s); only the {land.rows} finished row(s) of {g} are "
                "drawn (the grey band was not computed). A stopped run is not kept.")
    if not land.complete:
        return (f"⏳ {done}: row {land.rows + 1}/{g} of {g} forward passes over {cfg.n_images:,} images is being "
                f"computed, {land.seconds:.1f} s so far {_bar(land.rows, g)}. The trained model's own loss: "
                f"{land.own_loss:.4f}.")
    ring = torch.cat([z[0], z[-1], z[1:-1, 0], z[1:-1, -1]])
    a = land.acc
    ring_acc = torch.cat([a[0], a[-1], a[1:-1, 0], a[1:-1, -1]])
    lo = float(z.min())
    where = "" if lo >= land.center_loss - 1e-9 else " (a lower point than θ* inside the window)"
    how = (f"computed in {land.seconds:.1f} s ({1000 * land.seconds / (g * g):.0f} ms per forward pass of "
           f"{cfg.n_images:,} images; kept, so these settings come back at once)")
    return (f"**{land.model}**, {g}×{g} grid on the first {cfg.n_images:,} test images, seed {cfg.seed} "
            f"(d₁ seed {cfg.seed}, d₂ seed {cfg.seed + 1}), α, β ∈ [−{cfg.span:g}, {cfg.span:g}], {how}.  \n"
            f"Centre f(0, 0) = **{land.center_loss:.4f}** = the trained model's own loss on these images "
            f"({land.own_loss:.4f}, accuracy {100 * land.own_acc:.1f} %). Lowest value {lo:.4f}{where}; on the "
            f"window's edge the loss is {float(ring.min()):.3g} to {float(ring.max()):.3g} "
            f"(accuracy {100 * float(ring_acc.min()):.0f} to {100 * float(ring_acc.max()):.0f} %). "
            + _arithmetic(land))


def _bar(done: int, total: int, width: int = 20) -> str:
    k = round(width * done / max(total, 1))
    return "▰" * k + "▱" * (width - k)


@guard
def landscape(grid: Any, seed: Any, images: Any, precision: Any = "auto",
              request: gr.Request = None  # type: ignore[assignment]
              ) -> Iterator[tuple[str, Any]]:
    """Stream the slice: a frame after every row; Stop ends it after the current point."""
    cfg = parse_landscape(grid, seed, images, precision)
    from dlcore.optim_viz.landscape import zoo_landscape
    from dlcore.plotting.optim_viz import landscape_figure
    from dlcore.train.runtime import threads_per_step

    yield f"⏳ loading the zoo CNN and {cfg.n_images:,} test images …", gr.skip()
    with STOPS.running(request, TASK) as stop:  # 2 points at once, one torch thread each
        budget = FrameBudget()  # the text every row, the figure every few seconds (drawing stalls the workers)
        for land in threads_per_step(zoo_landscape(cfg, stop=stop, workers=2), 1):
            text = _summary(land)
            yield from budget.frame(lambda: (text, landscape_figure(land)), (text, gr.skip()),
                                    final=land.complete or land.stopped)


stop_landscape = stop_button(TASK, "⏹ stopping after the current grid point …",
                              "Nothing is running: press **Compute the landscape** first.")


def landscape_tab() -> None:
    """The panel (called from :func:`apps.optim.build` inside its own ``gr.Tab``)."""
    gr.Markdown(NOTE, latex_delimiters=LATEX)
    grid = Slider(3, 25, D_LAND[0], step=2, label=LL["grid"],
                  info="n×n forward passes on both cores: 11×11 on 250 images takes 2-3 s on two cores, 25×25 on "
                       "1,000 images 30-40 s (about 25 s in bfloat16 where the CPU has bfloat16 matrix units)")
    with gr.Row():
        seed = Number(D_LAND[1], precision=0, label=LL["seed"], min_width=120)
        images = Dropdown(IMAGE_CHOICES, value=D_LAND[2], label=LL["images"], min_width=120)
        arith = Radio(PRECISION_CHOICES, value=D_LAND[3], label=LL["precision"], min_width=240,
                      info="bfloat16 (8-bit mantissa) is about 2× faster on CPUs with bfloat16 units; "
                           "each finished run reports how far it is from float32")
    with gr.Row():
        btn = gr.Button("Compute the landscape", variant="primary", elem_id="optim-landscape-run")
        stop = gr.Button("Stop", elem_id="optim-landscape-stop")
    status = gr.Markdown("Press **Compute the landscape**: the picture fills row by row. A finished result is kept, "
                         "so the same settings come back at once.", latex_delimiters=LATEX,
                         elem_id="optim-landscape-status")
    fig = gr.Plot(show_label=False)
    ins = [grid, seed, images, arith]
    on(btn.click, landscape, ins, [status, fig], api_name="optim_landscape", **HEAVY)
    on(stop.click, stop_landscape, status, status, api_name="optim_landscape_stop", **LIGHT)
    gr.Examples([D_LAND, [11, 1, 250, "auto"], [5, 0, 1000, "float32"], [25, 0, 1000, "auto"]], ins,
                cache_examples=False,
                example_labels=["11×11 on 250 images, seed 0", "another pair of directions (seed 1)",
                                "5×5 on all 1,000 images, float32", "the paper-size 25×25 on 1,000 images"],
                label="Settings (then press the button)")


LANDSCAPE_ENDPOINTS = [
    Endpoint("optim_landscape", heavy=True, stateful=True, examples=[[3, 0, 100, "auto"], [3, 0, 100, "float32"]],
             facts=["= the trained model's own loss", "Arithmetic: float32."],
             bad=[([4, 0, 100, "auto"], "grid points per side = 4 must be odd"),
                  ([27, 0, 100, "auto"], "grid points per side = 27 is above the maximum 25"),
                  ([3, -1, 100, "auto"], "direction seed = -1 is below the minimum 0"),
                  ([3, 0, 5000, "auto"], "test images = 5000 is above the maximum 1000"),
                  ([3, 0, 100, "float16"], "arithmetic 'float16' is not one of: 'float32', 'bfloat16', 'auto'")]),
    Endpoint("optim_landscape_stop", examples=STOP_EXAMPLES, facts=["Nothing is running", "The last run's summary."]),
]
