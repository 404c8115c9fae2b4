"""Optimizers tab (issue 15): the update rules of seed 003 §dl_1_4_1 racing on 2-D surfaces, one step
written out with its numbers (= torch.optim), the saddle inspector of seed 000 §2.2.5 and warm-up (§2.2.1).

Layout and declarations only; the handlers are in :mod:`apps.optim_panels`, the maths in
:mod:`dlcore.optim_viz`.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from apps.common import (LATEX, LIGHT, CheckboxGroup, Dropdown, Endpoint, ErrorDemo, Number, SeedRef, Slider, live, on,
                         on_first_open)
from apps.optim_landscape import LANDSCAPE_ENDPOINTS, landscape_tab
from apps.optim_minima import MINIMA_ENDPOINTS, minima_tab
from apps.optim_panels import (D_RACE, L, MAX_UI_STEPS, inspect, inspect_click, one_step, pick_surface, race,
                                race_click, warmups)
from dlcore.optim_viz.names import LR_RANGE_LOG10, OPTIMIZER_NAMES, SEED_SIX, SURFACE_NAMES, SURFACES

TITLE = "Optimizers: watch the update rules race"
RUN_BUTTON = "optim-run"
SEEDS = [SeedRef("003_1dbce9a3816ea850.txt", "dl_1_4_1", "优化器"),
         SeedRef("000_5114ce2b17ca1821.txt", "2.2.5", "局部极小值 OR 鞍点？"),
         SeedRef("000_5114ce2b17ca1821.txt", "2.2.1", "梯度消失和梯度爆炸")]
#: The 2-D work is milliseconds to about a second: one shared pool, not the no-queue fast path.
MID: dict[str, Any] = {"concurrency_id": "optim", "concurrency_limit": 2}

SURFACE_CHOICES = [(SURFACES[n].label, n) for n in SURFACE_NAMES]
D_STEP = [*D_RACE, "Adam", 3]
D_HESS = ["saddle", 0.0, 0.0]
D_WARM = ["rosenbrock", -1.5, 2.5, -1.7, 0.9, 0.999, 20, 200]

INTRO = ("**Optimizers** (优化器, seed 003 §dl_1_4_1): each path below is a real `torch.optim` optimizer from the "
         "lab's training registry, walking a 2-D loss from the same start with the η and β's you set. Then one "
         "step written out with its numbers (and checked against what torch did), the **saddle inspector** of "
         "seed 000 §2.2.5 (gradient, Hessian, eigenvalues), **warm-up** (§2.2.1), a real CNN's **loss "
         "landscape** (Li et al. 2018) and the **minima SGD and Adam find from one start** on it. The surfaces are 2-D "
         "toys (one is a real tiny network's slice): they show how the rules move, not which optimizer trains a "
         "big network best.")



def _race_controls() -> list[Any]:
    lo, hi = LR_RANGE_LOG10
    with gr.Row():
        surface = Dropdown(SURFACE_CHOICES, value=D_RACE[0], label=L["surface"], scale=2, min_width=260)
        x = Number(D_RACE[2], label=L["x"], scale=1, min_width=90)
        y = Number(D_RACE[3], label=L["y"], scale=1, min_width=90)
    optimizers = CheckboxGroup(list(OPTIMIZER_NAMES), value=list(SEED_SIX), label=L["optimizers"])
    with gr.Row():
        steps = Slider(10, MAX_UI_STEPS, D_RACE[4], step=10, label=L["steps"])
        lr_sgd = Slider(lo, hi, D_RACE[5], step=0.1, label=L["lr_sgd"])
        lr_ad = Slider(lo, hi, D_RACE[6], step=0.1, label=L["lr_ad"])
    with gr.Accordion("β's and weight decay (defaults: torch's and the papers')", open=False):
        with gr.Row():
            beta1 = Slider(0.0, 0.999, D_RACE[7], step=0.001, label=L["beta1"])
            beta2 = Slider(0.0, 0.9999, D_RACE[8], step=0.0001, label=L["beta2"])
            alpha = Slider(0.0, 0.9999, D_RACE[9], step=0.0001, label=L["alpha"])
            wd = Slider(0.0, 1.0, D_RACE[10], step=0.005, label=L["wd"])
    return [surface, optimizers, x, y, steps, lr_sgd, lr_ad, beta1, beta2, alpha, wd]


def _race_tab(ins: list[Any]) -> None:
    surface, optimizers, x, y, steps, lr_sgd, lr_ad, beta1, beta2, alpha, wd = ins
    btn = gr.Button("Race", variant="primary", elem_id=RUN_BUTTON)
    with gr.Row(equal_height=False):
        picture = gr.Image(type="numpy", format="png", interactive=False, show_label=False, label="paths",
                           min_width=320)
        curve = gr.Image(type="numpy", format="png", interactive=False, show_label=False, label="loss per step",
                         min_width=320)
    status = gr.Markdown(latex_delimiters=LATEX)
    pixmap = gr.State(None)
    outs = [status, picture, curve, pixmap]
    on(btn.click, race, ins, outs, api_name="optim_race", trigger_mode="always_last", **MID)
    on([s.release for s in (steps, lr_sgd, lr_ad, beta1, beta2, alpha, wd)] + [optimizers.input],
       live(race, 4), ins, outs, api_name="optim_race_live", api_visibility="undocumented", trigger_mode="always_last",
       **MID)
    on(surface.input, pick_surface, surface, [x, y, lr_sgd, lr_ad, steps], api_name="optim_surface", message=status,
       **LIGHT).then(live(race, 4), ins, outs, api_visibility="private", **MID)
    click_ins = [surface, optimizers, steps, lr_sgd, lr_ad, beta1, beta2, alpha, wd, pixmap]
    on(picture.select, race_click, click_ins, [x, y, *outs], api_name="optim_click", api_visibility="undocumented",
       message=status, **MID)
    on_first_open(race, ins, outs, **MID)
    six = list(SEED_SIX)
    gr.Examples([D_RACE,
                 ["saddle", six, 1.0, -1.0, 300, -1.3, -1.3, 0.9, 0.999, 0.99, 0.01],
                 ["rosenbrock", six, -1.5, 2.5, 500, -3.3, -1.7, 0.9, 0.999, 0.99, 0.01],
                 ["ill_conditioned", ["SGD", "Momentum", "Adam"], -2.5, 2.0, 100, -1.05, -1.3, 0.9, 0.999, 0.99, 0.01],
                 ["beale", list(OPTIMIZER_NAMES), 1.0, 1.4, 500, -2.5, -1.3, 0.9, 0.999, 0.99, 0.01],
                 ["noisy_quadratic", ["SGD", "Momentum", "Adam"], -2.5, 2.0, 300, -1.3, -1.3, 0.9, 0.999, 0.99, 0.01],
                 ["tiny_net", six, -1.1, 1.2, 150, -1.0, -1.0, 0.9, 0.999, 0.99, 0.01]],
                ins, outs, fn=race, run_on_click=True, cache_examples=False,
                example_labels=["the notes' saddle L = (1 − w₁w₂)² (§2.2.5), started beside w₁ = −w₂",
                                "exactly on w₁ = −w₂: the gradient leads into the saddle and nobody leaves",
                                "Rosenbrock's valley, 500 steps",
                                "ill-conditioned: SGD at η = 0.089 > 2/25 diverges",
                                "Beale, every optimizer of the registry (RAdam included)",
                                "noisy gradients", "a real tiny network's slice (it trains first: several seconds once)"],
                label="Examples")


def _step_tab(ins: list[Any]) -> None:
    gr.Markdown("The same run as *Race* (surface, start, η, β's); pick an optimizer and a step: its update with "
                "this step's numbers in the notes' formulas, recomputed by hand and compared with `torch.optim`.")
    with gr.Row():
        opt = Dropdown(list(OPTIMIZER_NAMES), value=D_STEP[-2], label=L["optimizer"])
        t = Number(D_STEP[-1], precision=0, minimum=1, label=L["t"])
    btn = gr.Button("Write out step t", variant="primary", elem_id="optim-step-run")
    md = gr.Markdown(latex_delimiters=LATEX)
    sins = [*ins, opt, t]
    on(btn.click, one_step, sins, md, api_name="optim_step", **MID)
    on([opt.change, t.change], live(one_step), sins, md, api_name="optim_step_live", api_visibility="undocumented",
       trigger_mode="always_last", **MID)
    on_first_open(one_step, sins, md, **MID)
    gr.Examples([[n, 1] for n in SEED_SIX] + [["Adam", 100], ["RAdam", 6]], [opt, t], cache_examples=False,
                example_labels=[f"{n}, step 1" for n in SEED_SIX] + ["Adam, step 100",
                                                                    "RAdam, step 6: the first rectified step"],
                label="Examples")


def _hessian_tab() -> None:
    gr.Markdown("**Local minimum or saddle point?** (seed 000 §2.2.5) At a point θ′, the Taylor expansion "
                "L(θ) ≈ L(θ′) + (θ−θ′)ᵀg + ½(θ−θ′)ᵀH(θ−θ′): with g = 0 the eigenvalues of the Hessian H decide. "
                "Along the eigenvector u of a negative eigenvalue, L(θ′ + u) < L(θ′): the way out of a saddle.")
    with gr.Row():
        surface = Dropdown(SURFACE_CHOICES, value=D_HESS[0], label=L["surface"], scale=2, min_width=260)
        px = Number(D_HESS[1], label=L["px"], scale=1, min_width=90)
        py = Number(D_HESS[2], label=L["py"], scale=1, min_width=90)
    btn = gr.Button("Inspect the point", variant="primary", elem_id="optim-hessian-run")
    with gr.Row(equal_height=False):
        md = gr.Markdown(latex_delimiters=LATEX)
        picture = gr.Image(type="numpy", format="png", interactive=False, show_label=False, label="window",
                           min_width=320)
    pixmap = gr.State(None)
    ins, outs = [surface, px, py], [md, picture, pixmap]
    on(btn.click, inspect, ins, outs, api_name="optim_hessian", **MID)
    on([px.submit, py.submit, surface.input], live(inspect, 3), ins, outs, api_name="optim_hessian_live",
       api_visibility="undocumented", **MID)
    on(picture.select, inspect_click, [surface, pixmap], [px, py, *outs], api_name="optim_hessian_click",
       api_visibility="undocumented", message=md, **MID)
    on_first_open(inspect, ins, outs, **MID)
    gr.Examples([D_HESS, ["saddle", 1.0, 1.0], ["saddle", 0.3, -0.8], ["rosenbrock", 1.0, 1.0],
                 ["ill_conditioned", 0.0, 0.0], ["beale", 3.0, 0.5]], ins, outs, fn=inspect,
                run_on_click=True, cache_examples=False,
                example_labels=["the notes' example: (0, 0) of L = (1 − w₁w₂)², H = [[0, −2], [−2, 0]], λ = ±2",
                                "(1, 1) on the curve of minima: λ = 0 and 4, the test cannot decide",
                                "a point that is not critical", "Rosenbrock's minimum", "the quadratic's minimum, λ = 1, 25",
                                "Beale's minimum"], label="Examples")


def _warmup_tab() -> None:
    gr.Markdown("**Warm-up** (学习率预热, seed 000 §2.2.1): Adam's first update is about η·sign(g) whatever the "
                "gradient, on a scale estimated from one sample. A warm-up keeps the first steps small.")
    lo, hi = LR_RANGE_LOG10
    with gr.Row():
        surface = Dropdown(SURFACE_CHOICES, value=D_WARM[0], label=L["surface"], scale=2, min_width=260)
        x = Number(D_WARM[1], label=L["x"], scale=1, min_width=90)
        y = Number(D_WARM[2], label=L["y"], scale=1, min_width=90)
    with gr.Row():
        lr = Slider(lo, hi, D_WARM[3], step=0.1, label=L["wlr"])
        w = Slider(1, 200, D_WARM[6], step=1, label=L["warmup"])
        steps = Slider(10, MAX_UI_STEPS, D_WARM[7], step=10, label=L["wsteps"])
    with gr.Accordion("β's", open=False):
        with gr.Row():
            b1 = Slider(0.0, 0.999, D_WARM[4], step=0.001, label=L["beta1"])
            b2 = Slider(0.0, 0.9999, D_WARM[5], step=0.0001, label=L["beta2"])
    btn = gr.Button("Compare warm-ups", variant="primary", elem_id="optim-warmup-run")
    with gr.Row(equal_height=False):
        md = gr.Markdown(latex_delimiters=LATEX)
        fig = gr.Plot(show_label=False, min_width=320)
    ins = [surface, x, y, lr, b1, b2, w, steps]
    on(btn.click, warmups, ins, [md, fig], api_name="optim_warmup", **MID)
    on([lr.release, w.release, steps.release, b1.release, b2.release], live(warmups, 2), ins, [md, fig],
       api_name="optim_warmup_live", api_visibility="undocumented", trigger_mode="always_last", **MID)
    on_first_open(warmups, ins, [md, fig], **MID)
    gr.Examples([D_WARM, ["saddle", 0.5, 0.2, -1.0, 0.9, 0.999, 20, 200],
                 ["beale", 1.0, 1.4, -1.3, 0.9, 0.999, 50, 300]], ins, [md, fig], fn=warmups, run_on_click=True,
                cache_examples=False, example_labels=["Rosenbrock, η = 0.02, W = 20", "the saddle, η = 0.1",
                                                      "Beale, W = 50"], label="Examples")


def build() -> None:
    gr.Markdown(INTRO)
    with gr.Tab("Race on a surface"):
        ins = _race_controls()
        _race_tab(ins)
    with gr.Tab("One step written out"):
        _step_tab(ins)
    with gr.Tab("Saddle inspector (§2.2.5)"):
        _hessian_tab()
    with gr.Tab("Warm-up (§2.2.1)"):
        _warmup_tab()
    with gr.Tab("A real network's landscape"):
        landscape_tab()
    with gr.Tab("SGD vs Adam from one start"):
        minima_tab()


#: The browser test types a start outside the plotted box and presses Race.
ERROR_DEMO = ErrorDemo(fill={L["x"]: "99"}, click=RUN_BUTTON, expect="outside the plotted box")
_R = D_RACE
ENDPOINTS = [
    Endpoint("optim_race", examples=[D_RACE, ["ill_conditioned", ["SGD", "Adam"], -2.5, 2.0, 100, -1.05, -1.3, 0.9,
                                              0.999, 0.99, 0.01]],
             facts=["The origin is a saddle", "diverged at step"],
             bad=[([_R[0], [], *_R[2:]], "tick at least one optimizer"),
                  ([_R[0], ["LBFGS"], *_R[2:]], "optimizers 'LBFGS' is not one of"),
                  ([_R[0], _R[1], 99, *_R[3:]], "start θ₁ (x) = 99 is outside the plotted box"),
                  ([*_R[:4], 5000, *_R[5:]], "steps T = 5000 is above the maximum 1000"),
                  ([*_R[:5], 3.0, *_R[6:]], "log₁₀ η of SGD / Momentum / Nesterov = 3 is above the maximum 0.5"),
                  ([*_R[:7], 1.0, *_R[8:]], "β₁ (momentum, Adam's β₁) = 1 is above the maximum 0.999"),
                  (["himmelblau", *_R[1:]], "surface 'himmelblau' is not one of")]),
    Endpoint("optim_step", examples=[D_STEP, [*D_RACE, "Momentum", 1], [*D_RACE, "RMSprop", 2]],
             facts=["equal to what torch.optim did", "the notes' rule takes torch's step", "√G + ε"],
             bad=[([*D_RACE, "Adam", 0], "step t = 0 is below the minimum 1"),
                  ([*D_RACE, "Adam", 301], "step t = 301 is above the maximum 300"),
                  ([*D_RACE, "Lion", 1], "optimizer to write out 'Lion' is not one of")]),
    Endpoint("optim_hessian", examples=[D_HESS, ["saddle", 1.0, 1.0], ["rosenbrock", 1.0, 1.0]],
             facts=["a saddle point", "cannot decide", "a local minimum"],
             bad=[(["saddle", "1e999", 0.0], "point θ₁ must be finite"),
                  (["saddle", 0.0, 5.0], "point θ₂ = 5 is outside the plotted box")]),
    Endpoint("optim_warmup", examples=[D_WARM], facts=["η·√2"],
             bad=[([*D_WARM[:6], 500, 200], "warm-up steps W = 500 is above the maximum 200"),
                  ([*D_WARM[:7], 5], "run steps = 5 is below the minimum 10")]),
    *LANDSCAPE_ENDPOINTS,
    *MINIMA_ENDPOINTS,
]

def warmup() -> None:
    """Pay the first click's one-off costs (torch.optim's first construction imports torch._dynamo, several
    seconds here; the first contour picture) on a 5-step race: no data, no training."""
    from dlcore.optim_viz import TrajectoryConfig, get_surface, run_optimizers, surface_grid
    from dlcore.plotting.optim_viz import loss_image, surface_image

    s = get_surface("saddle")
    tr = run_optimizers(s, None, TrajectoryConfig(steps=5))
    surface_image(surface_grid(s), tr)
    loss_image(tr)


if __name__ == "__main__":
    import launch

    launch.main(["--tabs", "optim"])
