"""Break a classifier, then defend it honestly (seed 000 §9.1): white-box and black-box attacks,
passive shields and the adaptive attacks that break them, adversarial training, accuracy vs ε,
and the Madry et al. 2018 paper check.

Layout and declarations only; the handlers are in :mod:`apps.attacks_white`,
:mod:`apps.attacks_black`, :mod:`apps.attacks_defend` and :mod:`apps.attacks_curves`, the maths
in :mod:`dlcore.attacks` and :mod:`dlcore.defenses`.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from apps import attacks_black as B
from apps import attacks_curves as C
from apps import attacks_defend as D
from apps import attacks_white as W
from apps.attacks_run import L, UNTARGETED, quick as _quick
from apps.common import (HEAVY, LIGHT, STOP_EXAMPLES, CheckboxGroup, Dropdown, Endpoint, ErrorDemo, Number, Radio,
                        SeedRef, on, on_first_open)
from dlcore.attacks.names import CURVE_ATTACKS, DEFENSE_DISPLAY, DEFENSE_NAMES

TITLE = "Adversarial attack and defense"
RUN_BUTTON = "attacks-run"
SEED = "000_5114ce2b17ca1821.txt"
SEEDS = [SeedRef(SEED, "9.1", "对抗攻击 (adversarial attacks)"),
         SeedRef(SEED, "9.1.1", "如何攻击网络 (how to attack a network)"),
         SeedRef(SEED, "9.1.2", "如何防御网络 (how to defend a network)")]

INTRO = ("**Adversarial attack** (对抗攻击, seed 000 §9.1): a perturbation δ too small to see, ‖δ‖ ≤ ε, that "
         "changes the answer. Attack the zoo's classifiers white-box (gradients) and black-box (queries only, or a "
         "substitute), put passive shields in front of them and watch the adaptive attack break the shields, then "
         "see what adversarial training buys. Defaults: ε = 0.1 on Fashion-MNIST; each attack names the paper's own "
         "setting. Long runs stream their progress and stop with **Stop**.")



def _run_stop(run_label: str, run_id: str, stop_id: str) -> tuple[Any, Any]:
    with gr.Row():
        return (gr.Button(run_label, variant="primary", elem_id=run_id), gr.Button("Stop", elem_id=stop_id))


def _defence_tab() -> Any:
    gr.Markdown("**Passive defence** (被动防御): the model is unchanged; a shield (blur, JPEG, fewer bits, random "
                "resizing or noise) cleans its input first. What does each shield cost on clean images?")
    with gr.Row():
        model = Dropdown(W.MODELS, value=W.MODEL, label=L["d_model"])
        names = CheckboxGroup([(DEFENSE_DISPLAY[d], d) for d in DEFENSE_NAMES], value=list(DEFENSE_NAMES),
                              label=L["defenses"])
    with gr.Row():
        cost_n, preview = Number(500, precision=0, label=L["cost_n"]), Number(0, precision=0, label=L["preview"])
        cbtn = gr.Button("Show the price of each shield", elem_id="attacks-cost-run")
    cstatus = gr.Markdown()
    gallery = gr.Gallery(label="the preview image through each shield", columns=7, height=170, object_fit="contain")
    cins = [model, names, cost_n, preview]
    on(cbtn.click, D.shields, cins, [cstatus, gallery], api_name="attacks_shields", **HEAVY)
    on_first_open(D.shields, cins, [cstatus, gallery], **HEAVY)
    gr.Markdown("**Then attack through the shield**, plainly and adaptively (BPDA for the shields without a gradient, "
                "EOT for the random ones; Athalye et al. 2018). All six on 200 images take about 1–3 min here.")
    abtn, astop = _run_stop("Attack the shields", "attacks-shields-run", "attacks-shields-stop")
    with gr.Row():
        vals = [Number(0.1, label=L["d_eps"]), Number(20, precision=0, label=L["d_steps"]),
                Number(10, precision=0, label=L["eot"]), Number(200, precision=0, label=L["d_n"])]
    astatus, afig = gr.Markdown(), gr.Plot(show_label=False)
    ains = [model, names, *vals]
    on(abtn.click, D.attack_shields, ains, [astatus, afig], api_name="attacks_shield_attack", **HEAVY)
    on(astop.click, D.stop_shields, astatus, astatus, api_name="attacks_shield_stop", **LIGHT)
    on_first_open(_quick(D.attack_shields, D.QUICK_SHIELDS), None, [astatus, afig], **HEAVY)
    gr.Examples([D.D_SHIELDS, D.QUICK_SHIELDS, [W.MODEL, ["random_resize", "random_noise"], 0.1, 10, 10, 100]],
                ains, [astatus, afig], fn=D.attack_shields, run_on_click=True, cache_examples=False,
                example_labels=["all six shields, PGD-20, ε = 0.1, 200 images (1–3 min)",
                                "JPEG and 1-bit depth vs BPDA (seconds)", "the random shields vs EOT"],
                label="Examples")
    return model


def _training_tab() -> None:
    card = gr.Markdown()
    on_first_open(D.adv_card, None, card, **LIGHT)
    gr.Markdown("**Active defence** (主动防御), the notes' loop: *attack the current network → add the adversarial set "
                "D_adv to the data → retrain → repeat*, on a fresh copy of the natural CNN and a small subset "
                "(the default takes about 30–90 s here).")
    rbtn, rstop = _run_stop("Run the loop", "attacks-retrain-run", "attacks-retrain-stop")
    with gr.Row():
        vals = [Number(D.D_RETRAIN[0], precision=0, label=L["r_rounds"]),
                Radio([(a.upper(), a) for a in CURVE_ATTACKS], value="pgd", label=L["r_attack"]),
                Number(D.D_RETRAIN[2], label=L["r_eps"]), Number(D.D_RETRAIN[3], precision=0, label=L["r_steps"])]
    with gr.Row():
        vals += [Number(D.D_RETRAIN[4], precision=0, label=L["r_epochs"]),
                 Number(D.D_RETRAIN[5], precision=0, label=L["r_train"]),
                 Number(D.D_RETRAIN[6], precision=0, label=L["r_test"])]
    rstatus, rfig = gr.Markdown(), gr.Plot(show_label=False)
    on(rbtn.click, D.retrain, vals, [rstatus, rfig], api_name="attacks_retrain", **HEAVY)
    on(rstop.click, D.stop_retrain, rstatus, rstatus, api_name="attacks_retrain_stop", **LIGHT)
    on_first_open(_quick(D.retrain, D.QUICK_RETRAIN), None, [rstatus, rfig], **HEAVY)
    gr.Examples([D.D_RETRAIN, D.QUICK_RETRAIN, [3, "fgsm", 0.1, 7, 2, 1000, 300]], vals, [rstatus, rfig], fn=D.retrain,
                run_on_click=True, cache_examples=False,
                example_labels=["3 rounds of PGD-7 on 1000 images", "1 quick round", "built with FGSM instead"],
                label="Examples")


def _curves_tab() -> None:
    gr.Markdown("**Accuracy vs ε** on one fixed test subset: the natural CNN, the same CNN behind a passive shield "
                "(attacked plainly and adaptively) and the adversarially trained CNN, under FGSM and PGD. The "
                "issue's figure (8 ε × 500 images, PGD-20, four models) takes about 1–3 min here.")
    cbtn, cstop = _run_stop("Draw the curves", "attacks-curves-run", "attacks-curves-stop")
    with gr.Row():
        models = CheckboxGroup([(v, k) for k, v in C.CURVE_MODELS.items()], value=list(C.CURVE_MODELS),
                               label=L["c_models"])
        shield = Dropdown([(DEFENSE_DISPLAY[d], d) for d in DEFENSE_NAMES], value="jpeg", label=L["c_shield"])
    with gr.Row():
        attacks = CheckboxGroup([(a.upper(), a) for a in CURVE_ATTACKS], value=list(CURVE_ATTACKS),
                                label=L["c_attacks"])
        n, steps = Number(500, precision=0, label=L["c_n"]), Number(20, precision=0, label=L["c_steps"])
    eps = gr.Textbox(C.EPS_TEXT, label=L["c_eps"])
    status, fig = gr.Markdown(), gr.Plot(show_label=False)
    ins = [models, shield, attacks, n, steps, eps]
    on(cbtn.click, C.curves, ins, [status, fig], api_name="attacks_curves", **HEAVY)
    on(cstop.click, C.stop_curves, status, status, api_name="attacks_curves_stop", **LIGHT)
    on_first_open(_quick(C.curves, C.QUICK_CURVES), None, [status, fig], **HEAVY)
    gr.Examples([C.D_CURVES, C.QUICK_CURVES, [["natural", "robust"], "jpeg", ["pgd"], 500, 40, C.EPS_TEXT]],
                ins, [status, fig], fn=C.curves, run_on_click=True, cache_examples=False,
                example_labels=["the issue's figure: 8 ε × 500 images, PGD-20", "a quick look (50 images)",
                                "natural vs adversarially trained, PGD-40"], label="Examples")


def _paper_tab() -> None:
    gr.Markdown("**Paper check: Madry et al. 2018** ([arXiv:1706.06083](https://arxiv.org/abs/1706.06083)) — on "
                "MNIST at ε = 0.3 the adversarially trained network keeps 98.8 % clean, 93.2 % under PGD-40 and "
                "89.3 % under PGD-100, while a naturally trained one falls to a few percent. Here, on Fashion-MNIST "
                "at ε = 0.1 with the zoo's CPU-sized models, the rules are: the natural CNN < 10 % under PGD; the "
                "adversarially trained one keeps ≥ half its clean accuracy and ≥ 40 points (and 5×) more than the "
                "natural one. Measured when built: natural 5.0 %, adversarially trained 68.1 % of its 80.3 % "
                "(PGD-20, 1000 images; about 20–60 s here).")
    pbtn, pstop = _run_stop("Run the paper check", "attacks-paper-run", "attacks-paper-stop")
    with gr.Row():
        n, steps = Number(1000, precision=0, label=L["p_n"]), Number(20, precision=0, label=L["p_steps"])
    status, fig = gr.Markdown(), gr.Plot(show_label=False)
    on(pbtn.click, C.paper_check, [n, steps], [status, fig], api_name="attacks_paper", **HEAVY)
    on(pstop.click, C.stop_paper, status, status, api_name="attacks_paper_stop", **LIGHT)
    on_first_open(_quick(C.paper_check, C.QUICK_PAPER), None, [status, fig], **HEAVY)
    gr.Examples([C.D_PAPER, C.QUICK_PAPER, [1000, 40]], [n, steps], [status, fig], fn=C.paper_check, run_on_click=True,
                cache_examples=False, example_labels=["1000 images, PGD-20 (the zoo's figure)", "100 images (seconds)",
                                                      "1000 images, PGD-40 (Madry et al.'s training attack)"],
                label="Examples")


def build() -> None:
    gr.Markdown(INTRO)
    with gr.Tab("White-box (§9.1.1)"):
        model_w, target = W.panel()
    with gr.Tab("Black-box"):
        model_b, model_t = B.panel()
    with gr.Tab("Passive defences (§9.1.2)"):
        model_d = _defence_tab()
    with gr.Tab("Adversarial training"):
        _training_tab()
    with gr.Tab("Accuracy vs ε"):
        _curves_tab()
    with gr.Tab("Paper check"):
        _paper_tab()
    models = [model_w, model_b, model_t, model_d]
    on_first_open(W.model_choices, None, [*models, target], **LIGHT)


#: The browser test types a step size of 0 on the white-box panel and reads the message in place.
ERROR_DEMO = ErrorDemo(fill={L["alpha"]: "0"}, click=RUN_BUTTON, expect="must be above 0")
_W, _P = W.D_WHITE, W.D_WHITE[:5]
ENDPOINTS = [
    Endpoint("attacks_whitebox",
             examples=[_W, [*_P, "pgd", 0.1, 0.01, 40, UNTARGETED, True, "gradient", True],
                       [*_P, "pgd", 0.1, 0.01, 40, 5, True, "gradient", True],
                       [*_P, "notes", 0.1, 1.0, 20, UNTARGETED, True, "gradient", True],
                       ["fmnist_cnn_adv", *_P[1:], "fgsm", 0.1, 0.01, 1, UNTARGETED, True, "gradient", True]],
             facts=["‖δ‖∞ = 0.100", "40 step(s)", "reached the target Sandal", "sign slip", "against `fmnist_cnn_adv`"],
             bad=[([*_P, "fgsm", 2, *_W[7:]], f"{L['eps']} = 2 is above the maximum 1"),
                  ([*_P, "fgsm", 0.1, 0, *_W[8:]], "must be above 0"),
                  ([*_P, "pgd", 0.1, 0.01, 0, *_W[9:]], f"{L['steps']} = 0 is below the minimum 1"),
                  ([*_P, "fgsm", 0.1, 0.01, 1, 12, *_W[10:]], "target class 12 does not exist"),
                  ([*_P, "cw", *_W[6:]], "attack 'cw' is not one of"),
                  ([W.MODEL, "test image", 12000, None, "auto", *_W[5:]], "test image #"),
                  ([W.MODEL, "your picture", 0, None, "auto", *_W[5:]], "no picture uploaded"),
                  (["../../etc/passwd", *_W[1:]], "model")]),
    Endpoint("attacks_pick", examples=[["pgd"], ["notes"]], facts=["Madry et al. 2018", "sign slip"],
             bad=[(["deepfool"], "attack 'deepfool' is not one of")]),
    Endpoint("attacks_whitebox_figures", heavy=True, examples=[_W], facts=["Figures of"]),
    Endpoint("attacks_blackbox", heavy=True, stateful=True, examples=[B.D_BLACK], facts=["queries spent"],
             bad=[([*_P, "zoo", 0.1, 0.01, 100, 10_000], "gradient estimate 'zoo' is not one of"),
                  ([*_P, "finite_difference", 0.1, 0.01, 20, 100], "query budget 100 is below the 785 queries")]),
    Endpoint("attacks_blackbox_stop", examples=STOP_EXAMPLES, facts=["Nothing is running", "The last run's summary."]),
    Endpoint("attacks_transfer", heavy=True, stateful=True, examples=[B.QUICK_TRANSFER], facts=["label queries"],
             bad=[([W.MODEL, "resnet", *B.QUICK_TRANSFER[2:]], "substitute network 'resnet' is not one of"),
                  ([W.MODEL, "lenet5", 9, *B.QUICK_TRANSFER[3:]], f"{L['rounds']} = 9 is above the maximum 6")]),
    Endpoint("attacks_transfer_stop", examples=STOP_EXAMPLES, facts=["Nothing is running", "The last run's summary."]),
    Endpoint("attacks_shields", heavy=True, examples=[D.D_COST], facts=["The price of each shield"],
             bad=[([W.MODEL, [], 500, 0], "tick at least one"), ([W.MODEL, ["jpeg", "gan"], 500, 0], "'gan'")]),
    Endpoint("attacks_shield_attack", heavy=True, stateful=True, examples=[D.QUICK_SHIELDS], facts=["BPDA"],
             bad=[([W.MODEL, ["jpeg"], 0.1, 5, 0, 50], f"{L['eot']} = 0 is below the minimum 1")]),
    Endpoint("attacks_shield_stop", examples=STOP_EXAMPLES, facts=["Nothing is running", "The last run's summary."]),
    Endpoint("attacks_retrain", heavy=True, stateful=True, examples=[D.QUICK_RETRAIN], facts=["1 round(s) of attack → add D_adv → retrain"],
             bad=[([0, *D.QUICK_RETRAIN[1:]], f"{L['r_rounds']} = 0 is below the minimum 1"),
                  ([1, "deepfool", *D.QUICK_RETRAIN[2:]], "'deepfool' is not one of")]),
    Endpoint("attacks_retrain_stop", examples=STOP_EXAMPLES, facts=["Nothing is running", "The last run's summary."]),
    Endpoint("attacks_curves", heavy=True, stateful=True, examples=[C.QUICK_CURVES],
             facts=["robust accuracy ≤ clean accuracy was checked"],
             bad=[([*C.QUICK_CURVES[:5], "0, 2"], "is above the maximum 1"),
                  ([[], *C.QUICK_CURVES[1:]], "tick at least one")]),
    Endpoint("attacks_curves_stop", examples=STOP_EXAMPLES, facts=["Nothing is running", "The last run's summary."]),
    Endpoint("attacks_paper", heavy=True, stateful=True, examples=[C.QUICK_PAPER], facts=["PASS"],
             bad=[([10, 20], f"{L['p_n']} = 10 is below the minimum 50")]),
    Endpoint("attacks_paper_stop", examples=STOP_EXAMPLES, facts=["Nothing is running", "The last run's summary."]),
]


def warmup() -> None:
    """Pay the first click's one-off costs (autograd, the attack code, the colour maps, pandas) on a tiny
    untrained CNN: no zoo weights, no data."""
    import pandas  # noqa: F401 - the loss plot's frame
    import torch
    import torchvision.io  # noqa: F401 - the JPEG shield
    import torchvision.transforms.v2.functional  # noqa: F401 - the blur shield (its first import takes seconds)

    from dlcore.attacks import FGSM
    from dlcore.plotting.attacks import attack_arrays

    net = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.Flatten(),
                              torch.nn.Linear(4 * 28 * 28, 10)).eval()
    x = torch.rand(1, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    attack_arrays(FGSM(net, eps=0.1)(x, torch.tensor([0])), 0, scale=8)


if __name__ == "__main__":
    import launch

    launch.main(["--tabs", "attacks"])
