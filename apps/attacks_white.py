"""The white-box panel of the attack tab (seed 000 §9.1.1): one attack on one picture — a test
image or your own (converted, the conversion shown) — with the original, the amplified
perturbation and its norms, the adversarial image, the top-5 before and after and the loss per step.

The live pictures are RGB arrays (:func:`dlcore.plotting.attacks.attack_arrays`, a few ms) so an
FGSM answers well within 200 ms; the matplotlib figures are drawn only on request.
"""

from __future__ import annotations

import time
from typing import Any

import gradio as gr

from apps.attacks_run import L, UNTARGETED, caption, clear_loss_on_failure, conversion, load, pct, positive
from apps.common import (HEAVY, LIGHT, Checkbox, Dropdown, Number, Radio, Slider, guard, on, on_first_open,
                         with_failure_policy)
from apps.imaging import image_picker
from dlcore.attacks.names import ATTACK_DISPLAY, LAB_DEFAULTS, UPDATES, WHITE_BOX
from dlcore.textinput import parse_bool, parse_choice, parse_int, parse_number

__all__ = ["D_WHITE", "whitebox", "whitebox_figures", "pick_attack", "model_choices", "panel", "SIGN_NOTE"]

MODEL = "fmnist_cnn"
MODELS = ["fmnist_cnn", "fmnist_lenet300", "fmnist_cnn_adv"]  # the examples' models; first open sets the real list
D_IMG = [MODEL, "test image", 0, None, "auto"]
#: attack, ε, α, steps, target, random start, update, push away
D_WHITE = [*D_IMG, "fgsm", 0.1, 0.01, 1, UNTARGETED, True, "gradient", True]
#: Largest L2 budget offered (‖δ‖₂ of a 28×28 image is at most 28).
EPS_L2_MAX = 28.0
SIGN_NOTE = ("⚠ **The notes' loop has a sign slip.** It writes `x = x + lr * grad(L(x))`, but the same notes "
             "define x* = argmin L(x) with L(x) = −e(y, ŷ) + e(y, y_target): a `+` step climbs L and pulls the "
             "image back towards its true class. The code follows the argmin and steps **x − lr·∇L(x)** "
             "(then clips to [x₀ − ε, x₀ + ε] and to [0, 1]).")


def options_of(attack: Any, eps: Any, alpha: Any, steps: Any, random_start: Any, update: Any,
               push_away: Any) -> tuple[str, dict[str, Any]]:
    """(registry name, the attack's options) from the page's values, each checked by its label."""
    name = parse_choice(attack, L["attack"], WHITE_BOX)
    e = parse_number(eps, L["eps"], lo=0, hi=EPS_L2_MAX if name == "pgd_l2" else 1.0)
    a = positive(alpha, L["alpha"], hi=1000.0 if name == "notes" else EPS_L2_MAX)
    t = parse_int(steps, L["steps"], lo=1, hi=200)
    rs, up, push = (parse_bool(random_start, L["random_start"]), parse_choice(update, L["update"], UPDATES),
                    parse_bool(push_away, L["push_away"]))
    if name != "notes" and a > 1.0 and name != "pgd_l2":
        raise ValueError(f"{L['alpha']} = {a:g} is above the maximum 1 for {ATTACK_DISPLAY[name]} "
                         "(pixels live in [0, 1])")
    opts: dict[str, Any] = {"eps": e}
    if name in ("bim", "pgd", "pgd_l2"):
        opts.update(alpha=a, steps=t)
    if name in ("pgd", "pgd_l2"):
        opts.update(random_start=rs, seed=0)
    if name == "notes":
        opts.update(lr=a, steps=t, update=up, push_away=push)
    return name, opts


def run_attack(model: Any, source: Any, index: Any, upload: Any, invert: Any, attack: Any, eps: Any, alpha: Any,
               steps: Any, target: Any, random_start: Any, update: Any, push_away: Any) -> tuple[Any, ...]:
    """(result, picked image, class names, registry name, target or None), every value checked first."""
    name, opts = options_of(attack, eps, alpha, steps, random_start, update, push_away)
    tgt = parse_int(target, L["target"], lo=UNTARGETED, hi=999)
    import torch

    from dlcore.attacks import attack_prediction, make_attack

    net, picked, classes = load(model, source, index, upload, invert)
    if tgt >= len(classes):
        raise ValueError(f"{L['target']} {tgt} does not exist: this model has classes 0 … {len(classes) - 1}")
    t = None if tgt == UNTARGETED else tgt
    if picked.label is None:  # your picture: the model's own answer is the label
        res = attack_prediction(net, picked.x, name, target=t, **opts)
    else:
        res = make_attack(name, net, **opts)(picked.x, torch.tensor([picked.label]), target=t)
    return res, picked, classes, name, t


def _verdict(res: Any, classes: tuple[str, ...], t: int | None, picked: Any) -> str:
    y, before, after = int(res.y[0]), int(res.pred_before[0]), int(res.pred_after[0])
    if t is not None and t == before:
        return f"ℹ the model already says {classes[t]}: pick another target"
    if picked.label is not None and before != y:
        return f"ℹ the model already got this image wrong (true: {classes[y]})"
    if bool(res.success[0]):
        return f"✅ reached the target {classes[t]}" if t is not None else "✅ fooled"
    return f"❌ not fooled: still {classes[after]}" if t is None else f"❌ target {classes[t]} not reached"


def status_md(res: Any, picked: Any, classes: tuple[str, ...], name: str, t: int | None, ms: float,
              amp: float, model: str) -> str:
    pb, pa = res.probs_before[0], res.probs_after[0]
    b, a = int(pb.argmax()), int(pa.argmax())
    loss = res.loss_per_step
    goal = "untargeted" if t is None else f"targeted at {classes[t]}"
    lines = [f"**{ATTACK_DISPLAY[name]}** against `{model}` on {caption(picked)}, {goal}: "
             f"**{classes[b]} ({pct(float(pb[b]))}) → {classes[a]} ({pct(float(pa[a]))})** · "
             f"{_verdict(res, classes, t, picked)}",
             f"‖δ‖∞ = {float(res.linf[0]):.3f}, ‖δ‖₂ = {float(res.l2[0]):.3f} (ε = {res.config['eps']:g}) · "
             f"{res.steps_done} step(s) · {res.loss_name}: {float(loss[0]):.3f} → {float(loss[-1]):.3f} · the "
             f"perturbation is shown ×{amp:.3g} (red = brighter, blue = darker) · {ms:.0f} ms"]
    if picked.label is None:
        lines.append("Your picture has no label: the model's own answer is taken as the label, so *fooled* "
                     "means the answer changed.")
    if name == "notes":
        lines.append(SIGN_NOTE)
    lines += [f"ℹ {n}" for n in res.notes]
    return "\n\n".join(lines)


def _top5(probs: Any, classes: tuple[str, ...]) -> dict[str, float]:
    p, i = probs.topk(min(5, len(classes)))
    return {classes[int(k)]: float(v) for v, k in zip(p, i)}


@guard
def whitebox(model: Any, source: Any, index: Any, upload: Any, invert: Any, attack: Any, eps: Any, alpha: Any,
             steps: Any, target: Any, random_start: Any, update: Any, push_away: Any) -> tuple[Any, ...]:
    """One white-box attack: (status, original, perturbation, adversarial, top-5 before, after, loss, conversion)."""
    import pandas as pd

    from dlcore.plotting.attacks import attack_arrays

    t0 = time.perf_counter()
    res, picked, classes, name, t = run_attack(model, source, index, upload, invert, attack, eps, alpha, steps,
                                               target, random_start, update, push_away)
    side = int(res.x.shape[-1])
    arr = attack_arrays(res, 0, scale=max(1, min(32, 224 // side)))
    loss = pd.DataFrame({"step": list(range(len(res.loss_per_step))), "loss": res.loss_per_step.tolist()})
    ms = 1000 * (time.perf_counter() - t0)
    return (status_md(res, picked, classes, name, t, ms, float(arr["amplify"]), str(model)), arr["original"],
            arr["perturbation"], arr["adversarial"], _top5(res.probs_before[0], classes),
            _top5(res.probs_after[0], classes), loss, conversion(picked))


@guard
def whitebox_figures(model: Any, source: Any, index: Any, upload: Any, invert: Any, attack: Any, eps: Any,
                     alpha: Any, steps: Any, target: Any, random_start: Any, update: Any, push_away: Any
                     ) -> tuple[str, Any, Any, Any]:
    """The same attack (deterministic: seeded) as matplotlib figures for a report."""
    from dlcore.plotting.attacks import attack_images, loss_per_step, topk_bars

    res, picked, classes, name, _ = run_attack(model, source, index, upload, invert, attack, eps, alpha, steps,
                                               target, random_start, update, push_away)
    return (f"Figures of **{ATTACK_DISPLAY[name]}** on {caption(picked)} (ε = {res.config['eps']:g}).",
            attack_images(res, 0, classes), topk_bars(res, 0, 5, classes), loss_per_step(res))


@guard
def pick_attack(attack: Any) -> tuple[Any, ...]:
    """The lab's settings for this attack (ε, α, steps, options) and what the paper used."""
    name = parse_choice(attack, L["attack"], WHITE_BOX)
    o = LAB_DEFAULTS[name]["options"]
    alpha = o.get("lr", o.get("alpha", 0.01))
    used = {"fgsm": "ε only (one step of size ε)", "bim": "ε, α, steps", "pgd": "ε, α, steps, random start",
            "pgd_l2": "ε (an L2 radius), α, steps, random start", "notes": "ε, lr (= α), steps, update, −e(y, ŷ)"}
    md = (f"**{ATTACK_DISPLAY[name]}** uses {used[name]}. Paper: {LAB_DEFAULTS[name]['paper']}."
          + ("\n\n" + SIGN_NOTE if name == "notes" else ""))
    return (gr.update(value=o["eps"], maximum=EPS_L2_MAX if name == "pgd_l2" else 1.0), alpha,
            o.get("steps", 1), o.get("random_start", True), o.get("update", "gradient"), o.get("push_away", True), md)


@guard
def model_choices() -> tuple[Any, ...]:
    """The allow-list of this machine (Fashion-MNIST models, or the digits twins) and its class names."""
    from apps.attacks_run import classes_of, natural_and_robust
    from dlcore import zoo

    names = zoo.classifier_names()
    classes = classes_of(names[0])
    targets = [("untargeted", UNTARGETED)] + [(f"{i}: {c}", i) for i, c in enumerate(classes)]
    natural, _ = natural_and_robust()
    pick = gr.update(choices=names, value=natural if natural in names else names[0])
    return pick, pick, pick, pick, gr.update(choices=targets)


def target_choices() -> list[tuple[str, int]]:
    return [("untargeted", UNTARGETED)] + [(f"class {i}", i) for i in range(10)]


def panel() -> tuple[Any, Any]:
    """Build the white-box panel; returns (model dropdown, target dropdown) for the tab's first open."""
    choices = [(ATTACK_DISPLAY[n], n) for n in WHITE_BOX]
    with gr.Row():
        model = Dropdown(MODELS, value=MODEL, label=L["model"], scale=1)
        attack = Dropdown(choices, value="fgsm", label=L["attack"], scale=2)
    picker = image_picker(default_index=0)
    with gr.Row():
        eps = Slider(0, 1, 0.1, step=0.005, label=L["eps"], scale=2)
        btn = gr.Button("Attack", variant="primary", elem_id="attacks-run", scale=1)
    with gr.Row():
        alpha = Number(0.01, label=L["alpha"], minimum=0)
        steps = Number(1, precision=0, label=L["steps"], minimum=1)
        target = Dropdown(target_choices(), value=UNTARGETED, label=L["target"])
    with gr.Accordion("PGD and notes-loop options", open=False):
        with gr.Row():
            rs = Checkbox(True, label=L["random_start"])
            update = Radio(list(UPDATES), value="gradient", label=L["update"])
            push = Checkbox(True, label=L["push_away"])
    about = gr.Markdown(pick_attack.__wrapped__("fgsm")[-1])
    status = gr.Markdown()
    with gr.Row(equal_height=True):
        imgs = [gr.Image(type="numpy", interactive=False, label=lab, height=230, buttons=[])
                for lab in ("original", "perturbation δ (amplified)", "adversarial x + δ")]
    with gr.Row():
        before = gr.Label(num_top_classes=5, label="top-5 before the attack")
        after = gr.Label(num_top_classes=5, label="top-5 after the attack")
    loss = gr.LinePlot(x="step", y="loss", label="the attack's loss per step", height=220, x_title="step")
    conv = gr.Plot(label="how your picture was converted", visible=False)
    ins = [model, *picker.inputs, attack, eps, alpha, steps, target, rs, update, push]
    outs = [status, *imgs, before, after, loss, conv]
    dep = on([btn.click, eps.release], whitebox, ins, outs, api_name="attacks_whitebox", trigger_mode="always_last",
             **HEAVY)
    clear_loss_on_failure(dep, loss)
    on_first_open(whitebox, ins, outs, **HEAVY)
    picked = on(attack.change, pick_attack, attack, [eps, alpha, steps, rs, update, push, about],
                api_name="attacks_pick", message=about, **LIGHT)
    rerun = picked.success(whitebox, ins, outs, api_visibility="private", **HEAVY)
    clear_loss_on_failure(with_failure_policy(rerun, outs), loss)  # e.g. "your picture" with none uploaded
    with gr.Accordion("Figures for a report (matplotlib, a few seconds)", open=False):
        fbtn = gr.Button("Draw the figures", elem_id="attacks-figures-run")
        fstatus = gr.Markdown()
        figs = [gr.Plot(show_label=False) for _ in range(3)]
        on(fbtn.click, whitebox_figures, ins, [fstatus, *figs], api_name="attacks_whitebox_figures", **HEAVY)
    gr.Examples([D_WHITE, [*D_IMG, "pgd", 0.1, 0.01, 40, UNTARGETED, True, "gradient", True],
                 [*D_IMG, "pgd", 0.1, 0.01, 40, 5, True, "gradient", True],
                 [*D_IMG, "notes", 0.1, 1.0, 20, UNTARGETED, True, "gradient", True],
                 [*D_IMG, "notes", 0.1, 0.01, 20, 5, True, "sign", False],
                 [*D_IMG, "pgd_l2", 1.5, 0.1, 40, UNTARGETED, True, "gradient", True],
                 ["fmnist_cnn_adv", *D_IMG[1:], "pgd", 0.1, 0.01, 40, UNTARGETED, True, "gradient", True]],
                ins, outs, fn=whitebox, run_on_click=True, cache_examples=False,
                example_labels=["FGSM, ε = 0.1 (Goodfellow et al.: one step)", "PGD-40, ε = 0.1 (Madry et al.)",
                                "targeted PGD: make the boot a Sandal (class 5)",
                                "the notes' loop: L(x) = −e(y, ŷ), raw gradient, argmin sign",
                                "the notes' targeted loss, sign step, no push-away (= targeted BIM)",
                                "PGD in L2, ε = 1.5", "PGD-40 on the adversarially trained CNN: it holds"],
                label="Examples")
    return model, target
