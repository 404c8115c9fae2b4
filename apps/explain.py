"""Why did it say that? Explainable AI (seed 000 §9.4): local maps side by side, SmoothGrad
converging, faithfulness and the sanity check, the global view, and attack-then-explain.

Layout and declarations only; the handlers are in :mod:`apps.explain_local` and
:mod:`apps.explain_global`, the maths in :mod:`dlcore.explain`.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from apps.common import (HEAVY, LIGHT, STOP_EXAMPLES, Checkbox, CheckboxGroup, Dropdown, Endpoint, ErrorDemo, Number,
                        Radio, SeedRef, Slider, on, on_first_open)
from apps.explain_global import (ATTACK_CHOICES, COLOR_BY, actmax, actmax_default, attack_explain, clicked, embedding,
                                 model_choices, nearest, stop_actmax)
from apps.explain_global import L as G
from apps.explain_global import warmup  # noqa: F401  (launch runs it after start-up)
from apps.explain_local import (L, N_MAX, PREDICTED, faithfulness, local_maps, sanity, sanity_default, smoothgrad_frame,
                                smoothgrad_strips, stop_sanity)
from apps.imaging import image_picker
from dlcore.explain.names import (ATTACK_TARGETS, BASELINES, EMBEDDING_METHODS, FEATURE_LAYERS, METHOD_DISPLAY,
                                  METHOD_NAMES, NOISE_KINDS, OCCLUSION_BASELINES, SANITY_METHODS, SANITY_MODES, UNITS)

TITLE = "Why did it say that? (explainable AI)"
RUN_BUTTON = "explain-run"
SEED = "000_5114ce2b17ca1821.txt"
SEEDS = [SeedRef(SEED, "9.4", "可解释性人工智能"), SeedRef(SEED, "9.4.1", "局部解释"), SeedRef(SEED, "9.4.2", "全局解释")]
MODEL = "fmnist_cnn"



def _methods(value: list[str], label: str = "methods") -> CheckboxGroup:
    return CheckboxGroup([(METHOD_DISPLAY[m], m) for m in METHOD_NAMES], value=value, label=label)


# defaults = the papers' (tests/apps/test_explain.py checks them against the library's configs)
D_OPTS = [15.0, 50, "black", 50, 4, 2, "black", 1000]  # σ %, n, IG baseline, IG steps, patch, stride, fill, LIME n
D_IMG = [MODEL, "test image", 0, None, "auto"]
D_LOCAL = [*D_IMG, list(METHOD_NAMES), PREDICTED, "abs", False, *D_OPTS]
FAITH_METHODS = ["gradient", "gradient_x_input", "smoothgrad", "integrated_gradients", "occlusion", "gradcam"]
D_FAITH = [*D_IMG, FAITH_METHODS, 28, "black", *D_OPTS]
D_SANITY = [*D_IMG, list(SANITY_METHODS), "cascading"]
D_ACTMAX = [MODEL, "class", 1, "auto", 200, 0.05, 0.02, 0.2, 0.5, 4, 1, "black"]
D_EMB = [MODEL, "pca", "penultimate", 1000, 30.0, "label", 0]
ATTACK_METHODS = ["gradient", "smoothgrad", "integrated_gradients", "occlusion", "gradcam"]
D_ATTACK = [*D_IMG, "pgd", 0.1, 20, 0.01, ATTACK_METHODS, "own", 10.0]

INTRO = ("**Which pixels made the model say that?** (局部解释, seed 000 §9.4.1) and **what does it look for in "
         "general?** (全局解释, §9.4.2). Pick a zoo model and a test image (or your own picture); every panel "
         "below explains the same image. Built on Captum and checked against it; the defaults are the papers'.")
SANITY_TEXT = ("**Sanity check** (Adebayo et al. 2018, [arXiv:1810.03292](https://arxiv.org/abs/1810.03292)): "
               "re-initialise the layers one by one from the top (logits) down and watch each map. A map that "
               "stays the same while the weights become random cannot be explaining what the model learned. "
               "**The paper found guided backprop and gradient × input barely change** (they fail); the gradient, "
               "SmoothGrad and Grad-CAM change. Verdict here: the mean rank correlation ρ over the steps > 0.5 = fails.")


def _local_tab(img: list[Any]) -> tuple[Any, list[Any]]:
    methods = _methods(list(METHOD_NAMES))
    with gr.Row():
        target = Dropdown([("the predicted class", PREDICTED)] + [(f"class {i}", i) for i in range(10)],
                          value=PREDICTED, label=L["target"])
        scale = Radio([("magnitude |map|", "abs"), ("signed: for (+) / against (−)", "signed")], value="abs",
                      label=L["scale"])
        overlay = Checkbox(False, label=L["overlay"])
    btn = gr.Button("Explain", variant="primary", elem_id=RUN_BUTTON)
    with gr.Accordion("Method options (defaults = the papers')", open=False):
        gr.Markdown("SmoothGrad: Smilkov et al. 2017 use σ = 10–20 % of the input range and n ≈ 50. Integrated "
                    "Gradients: 50 steps from a black image. Occlusion: a 4×4 patch moved by 2 px (Zeiler & Fergus "
                    "slide a grey square). LIME: 1000 random on/off patterns of superpixels.")
        with gr.Row():
            opts = [Slider(0, 50, D_OPTS[0], step=0.5, label=L["sigma"]), Slider(1, 500, D_OPTS[1], step=1, label=L["n"])]
        with gr.Row():
            opts += [Radio(list(BASELINES), value=D_OPTS[2], label=L["ig_baseline"]),
                     Slider(2, 300, D_OPTS[3], step=1, label=L["ig_steps"])]
        with gr.Row():
            opts += [Slider(1, 14, D_OPTS[4], step=1, label=L["patch"]), Slider(1, 14, D_OPTS[5], step=1, label=L["stride"]),
                     Radio(list(OCCLUSION_BASELINES), value=D_OPTS[6], label=L["fill"])]
        opts.append(Slider(10, 5000, D_OPTS[7], step=10, label=L["lime_n"]))
    status = gr.Markdown()
    fig = gr.Plot(show_label=False)
    table = gr.Markdown()
    conv = gr.Plot(label="how your picture was converted", visible=False)
    ins = [*img, methods, target, scale, overlay, *opts]
    outs = [status, fig, table, conv]
    on(btn.click, local_maps, ins, outs, api_name="explain_local", **HEAVY)
    on_first_open(local_maps, ins, outs, **HEAVY)
    gr.Examples([D_LOCAL, ["fmnist_lenet300", *D_LOCAL[1:]],
                 [*D_IMG, ["gradient", "integrated_gradients"], PREDICTED, "signed", False, 15.0, 50, "blurred", 50, 4,
                  2, "black", 1000],
                 [*D_IMG[:2], 2, *D_IMG[3:], ["occlusion", "lime"], PREDICTED, "signed", True, 15.0, 50, "black", 50, 4, 2,
                  "gray", 1000],
                 ["fmnist_cnn_adv", *D_LOCAL[1:5], ["gradient", "smoothgrad", "gradcam"], *D_LOCAL[6:]]],
                ins, outs, fn=local_maps, run_on_click=True, cache_examples=False,
                example_labels=["every method, the papers' defaults (IG completeness checked)",
                                "the MLP: Grad-CAM and guided backprop cannot run (why is shown)",
                                "Integrated Gradients from a blurred baseline, signed",
                                "occlusion with Zeiler & Fergus' grey square, and LIME, over the trousers",
                                "an adversarially trained CNN: its plain gradient already looks like the object"],
                label="Examples")
    return target, opts


def _smoothgrad_tab(img: list[Any]) -> None:
    gr.Markdown("The notes: a gradient is sharp and noisy, so **average the gradients of many noisy copies** "
                "(SmoothGrad). Drag n to watch one running average sharpen; change σ to see too little and too much "
                "noise. SmoothGrad² averages g², VarGrad takes the variance.")
    with gr.Row():
        n = Slider(1, N_MAX, 50, step=1, label=L["frame_n"])
        sigma = Slider(0, 50, 15.0, step=0.5, label=L["sigma"])
        kind = Radio([(METHOD_DISPLAY[k], k) for k in NOISE_KINDS], value="smoothgrad", label=L["kind"])
    btn = gr.Button("Show n = 1 … 100 and the σ sweep", variant="primary", elem_id="explain-sg-run")
    fstatus = gr.Markdown()
    frame = gr.Image(type="numpy", format="png", interactive=False, show_label=False, height=300)
    sstatus = gr.Markdown()
    conv_fig, sweep_fig = gr.Plot(show_label=False), gr.Plot(show_label=False)
    fins = [*img, n, sigma, kind]
    on([n.release, sigma.release, kind.change], smoothgrad_frame, fins, [fstatus, frame], api_name="explain_smoothgrad",
       trigger_mode="always_last", **HEAVY)
    sins, souts = [*img, sigma, kind], [sstatus, conv_fig, sweep_fig]
    on(btn.click, smoothgrad_strips, sins, souts, api_name="explain_smoothgrad_strips", **HEAVY).then(
        smoothgrad_frame, fins, [fstatus, frame], api_visibility="private", **HEAVY)
    on_first_open(smoothgrad_strips, sins, souts, **HEAVY)
    on_first_open(smoothgrad_frame, fins, [fstatus, frame], **HEAVY)
    gr.Examples([[*D_IMG, 50, 15.0, "smoothgrad"], [*D_IMG, 1, 15.0, "smoothgrad"],
                 [*D_IMG[:2], 2, *D_IMG[3:], 50, 15.0, "smoothgrad"], [*D_IMG, 50, 5.0, "vargrad"]],
                fins, [fstatus, frame], fn=smoothgrad_frame, run_on_click=True, cache_examples=False,
                example_labels=["the paper's n = 50, σ = 15 %", "n = 1: one noisy gradient",
                                "trousers: noise-robust, so σ = 15 % is fine", "VarGrad at σ = 5 %"], label="Examples")


def _faith_tab(img: list[Any], opts: list[Any]) -> None:
    gr.Markdown("**Is the map faithful?** (Petsiuk et al. 2018) Delete the most salient pixels first and watch the "
                "class probability fall (low area = faithful), or insert them into a blurred image and watch it "
                "rise (high area = faithful). A random map is the reference. Maps use the options of *Local maps*.")
    methods = _methods(FAITH_METHODS)
    with gr.Row():
        steps = Number(28, precision=0, label=L["curve_steps"], minimum=2)
        dfill = Radio(["black", "gray", "blurred"], value="black", label=L["deletion_fill"])
    fbtn = gr.Button("Deletion and insertion", variant="primary", elem_id="explain-faith-run")
    fstatus, ffig = gr.Markdown(), gr.Plot(show_label=False)
    fins = [*img, methods, steps, dfill, *opts]
    on(fbtn.click, faithfulness, fins, [fstatus, ffig], api_name="explain_faithfulness", **HEAVY)
    on_first_open(faithfulness, fins, [fstatus, ffig], **HEAVY)
    gr.Markdown(SANITY_TEXT)
    smethods = _methods(list(SANITY_METHODS))
    mode = Radio(list(SANITY_MODES), value="cascading", label=L["sanity_mode"])
    with gr.Row():
        sbtn = gr.Button("Run the sanity check", variant="primary", elem_id="explain-sanity-run")
        stop = gr.Button("Stop", elem_id="explain-sanity-stop")
    sstatus = gr.Markdown()
    sfig, scurve = gr.Plot(show_label=False), gr.Plot(show_label=False)
    sins, souts = [*img, smethods, mode], [sstatus, sfig, scurve]
    on(sbtn.click, sanity, sins, souts, api_name="explain_sanity", **HEAVY)
    on(stop.click, stop_sanity, sstatus, sstatus, api_name="explain_sanity_stop", **LIGHT)
    on_first_open(sanity_default, sins, souts, **HEAVY)
    gr.Examples([D_SANITY, [*D_IMG, list(SANITY_METHODS), "independent"], ["fmnist_lenet300", *D_SANITY[1:]]],
                sins, souts, fn=sanity_default, run_on_click=True, cache_examples=False,
                example_labels=["the paper's cascading randomisation", "one layer at a time (independent)",
                                "the MLP (no Grad-CAM, no guided backprop)"], label="Examples")


def _global_tab(model: Any) -> Any:
    gr.Markdown("**Activation maximisation** (§9.4.2): find the X\\* that maximises a class score (logit), a channel "
                "or a neuron by gradient ascent — once without and once with the notes' prior R(X) = λ₂ΣX² + "
                "λ_tv Σ|∇X|² (plus blur and jitter). Without a prior X\\* is noise the network loves.")
    with gr.Row():
        unit = Radio(list(UNITS), value="class", label=G["unit"])
        index = Number(D_ACTMAX[2], precision=0, label=G["index"], minimum=0)
        layer = Dropdown(["auto"], value="auto", label=G["layer"])
    with gr.Row():
        steps = Slider(10, 1000, 200, step=10, label=G["steps"], scale=2)
        abtn = gr.Button("Maximise", variant="primary", elem_id="explain-actmax-run", scale=1)
        astop = gr.Button("Stop", elem_id="explain-actmax-stop", scale=1)
    with gr.Accordion("The prior R(X) and the search", open=False):
        with gr.Row():
            prior = [Number(v, label=G[k]) for k, v in zip(("lr", "l2", "tv", "blur_sigma"), D_ACTMAX[5:9])]
        with gr.Row():
            prior += [Number(D_ACTMAX[9], precision=0, label=G["blur_every"]),
                      Number(D_ACTMAX[10], precision=0, label=G["jitter"]),
                      Radio(["black", "gray", "noise"], value="black", label=G["init"])]
    astatus, afig = gr.Markdown(), gr.Plot(show_label=False)
    ains = [model, unit, index, layer, steps, *prior]
    on(abtn.click, actmax, ains, [astatus, afig], api_name="explain_actmax", **HEAVY)
    on(astop.click, stop_actmax, astatus, astatus, api_name="explain_actmax_stop", **LIGHT)
    on_first_open(actmax_default, ains, [astatus, afig], **HEAVY)
    gr.Examples([D_ACTMAX, [MODEL, "class", 8, *D_ACTMAX[3:]], [MODEL, "channel", 5, *D_ACTMAX[3:]],
                 ["fmnist_lenet300", "neuron", 7, *D_ACTMAX[3:]]], ains, [astatus, afig], fn=actmax_default,
                run_on_click=True, cache_examples=False,
                example_labels=["class 1 (Trouser)", "class 8 (Bag)", "channel 5 of the last conv block",
                                "neuron 7 of the MLP's hidden layer"], label="Examples")
    gr.Markdown("**What the features look like** (§9.4.1 可视化): the penultimate layer of 1000 test images, "
                "projected to 2-D and coloured by class. **Click a point** to see its image.")
    with gr.Row():
        method = Radio(list(EMBEDDING_METHODS), value="pca", label=G["emb_method"])
        flayer = Radio(list(FEATURE_LAYERS), value="penultimate", label=G["emb_layer"])
        color = Radio(list(COLOR_BY), value="label", label=G["color_by"])
    with gr.Row():
        points = Slider(100, 5000, 1000, step=100, label=G["points"])
        perplexity = Slider(5, 50, 30, step=1, label=G["perplexity"])
        point = Number(0, precision=0, label=G["point"], minimum=0)
    with gr.Row():
        ebtn = gr.Button("Embed", variant="primary", elem_id="explain-embed-run")
        x, y = Number(0.0, label=G["x"]), Number(0.0, label=G["y"])
        nbtn = gr.Button("Nearest point to (x, y)", elem_id="explain-nearest-run")
    estatus = gr.Markdown()
    eimg = gr.Image(type="numpy", format="png", interactive=False, show_label=False)
    pixmap = gr.State(None)
    base = [model, method, flayer, points, perplexity, color]
    eouts = [estatus, eimg, pixmap, point]
    on(ebtn.click, embedding, [*base, point], eouts, api_name="explain_embedding", **HEAVY)
    on(nbtn.click, nearest, [*base, x, y], eouts, api_name="explain_nearest", **HEAVY)
    on(eimg.select, clicked, [*base, pixmap], eouts, api_name="explain_click", api_visibility="undocumented", **HEAVY)
    on_first_open(embedding, [*base, point], eouts, **HEAVY)
    gr.Examples([D_EMB, [MODEL, "tsne", "penultimate", 1000, 30.0, "label", 0],
                 [MODEL, "pca", "pixels", 1000, 30.0, "label", 0]], [*base, point], eouts, fn=embedding,
                run_on_click=True, cache_examples=False,
                example_labels=["PCA of the penultimate features", "t-SNE (about 10 s the first time)",
                                "PCA of the raw pixels: the reference"], label="Examples")
    return unit, layer


def _attack_tab(img: list[Any]) -> None:
    gr.Markdown("**Attack, then explain**: the same image clean and after an adversarial attack (dlcore.attacks), "
                "each method's maps side by side on one scale, and how far they moved (Spearman ρ, top-k overlap).")
    with gr.Row():
        attack = Radio([(a.upper(), a) for a in ATTACK_CHOICES], value="pgd", label=G["attack"])
        eps = Slider(0, 0.5, 0.1, step=0.005, label=G["eps"])
        steps = Slider(1, 200, 20, step=1, label=G["attack_steps"])
        alpha = Number(0.01, label=G["alpha"])
    methods = _methods(ATTACK_METHODS)
    with gr.Row():
        target = Radio(list(zip(("its own prediction", "the clean prediction"), ATTACK_TARGETS)), value="own",
                       label=G["attack_target"])
        k = Slider(1, 50, 10, step=1, label=G["k_pct"])
    btn = gr.Button("Attack, then explain", variant="primary", elem_id="explain-attack-run")
    status, fig, table = gr.Markdown(), gr.Plot(show_label=False), gr.Markdown()
    conv = gr.Plot(label="how your picture was converted", visible=False)
    ins, outs = [*img, attack, eps, steps, alpha, methods, target, k], [status, fig, table, conv]
    on(btn.click, attack_explain, ins, outs, api_name="explain_attack", **HEAVY)
    on_first_open(attack_explain, ins, outs, **HEAVY)
    gr.Examples([D_ATTACK, [*D_IMG, "fgsm", 0.1, 1, 0.01, ATTACK_METHODS, "own", 10.0],
                 ["fmnist_cnn_adv", *D_ATTACK[1:]], [*D_ATTACK[:-2], "clean", 10.0]], ins, outs, fn=attack_explain,
                run_on_click=True, cache_examples=False,
                example_labels=["PGD-20, ε = 0.1 (Madry et al.)", "FGSM, ε = 0.1 (Goodfellow et al.)",
                                "PGD on the adversarially trained CNN", "explain the clean class on the attacked image"],
                label="Examples")


def build() -> None:
    gr.Markdown(INTRO)
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=200):
            # the examples' models; this machine's allow-list (dlcore.zoo.classifier_names) comes on first open
            model = Dropdown([MODEL, "fmnist_lenet300", "fmnist_cnn_adv"], value=MODEL, label=L["model"])
        with gr.Column(scale=3):
            picker = image_picker(default_index=0)
    img = [model, *picker.inputs]
    with gr.Tab("Local maps (§9.4.1)"):
        target, opts = _local_tab(img)
    with gr.Tab("SmoothGrad converging"):
        _smoothgrad_tab(img)
    with gr.Tab("Faithful? Sane?"):
        _faith_tab(img, opts)
    with gr.Tab("Global (§9.4.2)"):
        unit, layer = _global_tab(model)
    with gr.Tab("Attack, then explain"):
        _attack_tab(img)
    pick = [model, target, layer]
    on_first_open(model_choices, [model, unit], pick, **HEAVY)
    on([model.change, unit.change], model_choices, [model, unit], pick, api_name="explain_model", message=None,
       **HEAVY)


#: The browser test asks for class 99 of a 10-class model and reads the message in place.
ERROR_DEMO = ErrorDemo(fill={G["index"]: "99"}, click="explain-actmax-run", expect="must be < 10",
                       subtab="Global (§9.4.2)")
_L0 = D_LOCAL
ENDPOINTS = [
    Endpoint("explain_local", heavy=True,
             examples=[D_LOCAL, ["fmnist_lenet300", *D_LOCAL[1:]],
                       [*D_IMG, ["integrated_gradients"], PREDICTED, "signed", False, 15.0, 50, "blurred", 50, 4, 2,
                        "black", 1000]],
             facts=["The model says Ankle boot", "Grad-CAM needs a convolutional layer", "blurred baseline"],
             bad=[([*_L0[:5], [], *_L0[6:]], "tick at least one method"),
                  ([*_L0[:5], ["saliency"], *_L0[6:]], "methods 'saliency' is not one of"),
                  ([*_L0[:6], 12, *_L0[7:]], "class to explain 12 does not exist"),
                  ([*_L0[:9], 150, *_L0[10:]], "noise σ (% of the image range) = 150 is above the maximum 100"),
                  ([*_L0[:13], 2, 3, *_L0[15:]], "must be at most the occlusion patch"),
                  ([MODEL, "test image", 12000, None, "auto", *_L0[5:]], "test image #"),
                  ([MODEL, "your picture", 0, None, "auto", *_L0[5:]], "no picture uploaded"),
                  (["../../etc/passwd", *_L0[1:]], "model")]),
    Endpoint("explain_smoothgrad", examples=[[*D_IMG, 50, 15.0, "smoothgrad"], [*D_IMG, 1, 15.0, "smoothgrad"],
                                             [*D_IMG, 20, 5.0, "vargrad"]],
             facts=["after n = 50 noisy copies", "after n = 1 noisy copy", "VarGrad after n = 20"],
             bad=[([*D_IMG, 0, 15.0, "smoothgrad"], "n: noisy copies averaged so far = 0 is below the minimum 1"),
                  ([*D_IMG, 50, -1, "smoothgrad"], "noise σ"), ([*D_IMG, 50, 15.0, "mean"], "average of")]),
    Endpoint("explain_smoothgrad_strips", heavy=True, examples=[[*D_IMG, 15.0, "smoothgrad"]],
             facts=["n = 50 is enough"], bad=[([*D_IMG, "lots", "smoothgrad"], "noise σ")]),
    Endpoint("explain_faithfulness", heavy=True, examples=[D_FAITH], facts=["beats a random map"],
             bad=[([*D_FAITH[:6], 1, *D_FAITH[7:]], "curve points = 1 is below the minimum 2"),
                  ([*D_FAITH[:7], "white", *D_FAITH[8:]], "deleted pixels become")]),
    Endpoint("explain_sanity", heavy=True, stateful=True, examples=[D_SANITY],
             facts=["Guided backprop fails the sanity check"],
             bad=[([*D_IMG, list(SANITY_METHODS), "shuffled"], "randomisation")]),
    Endpoint("explain_sanity_stop", examples=STOP_EXAMPLES, facts=["Nothing is running", "The last run's summary."]),
    Endpoint("explain_actmax", heavy=True, stateful=True, examples=[D_ACTMAX], facts=["smoothness prior R(X)"],
             bad=[([MODEL, "class", 99, *D_ACTMAX[3:]], "index 99 must be < 10"),
                  ([MODEL, "channel", 0, "nowhere", *D_ACTMAX[4:]], "layer 'nowhere' has no channels"),
                  ([*D_ACTMAX[:4], 5000, *D_ACTMAX[5:]], "steps = 5000 is above the maximum 2000")]),
    Endpoint("explain_actmax_stop", examples=STOP_EXAMPLES, facts=["Nothing is running", "The last run's summary."]),
    Endpoint("explain_embedding", heavy=True, stateful=True,
             examples=[D_EMB, [MODEL, "pca", "pixels", 1000, 30.0, "predicted", 3]],
             facts=["PCA of the penultimate-layer features", "point 3"],
             bad=[([*D_EMB[:6], 1000], "point # = 1000 is above the maximum 999"),
                  ([MODEL, "umap", *D_EMB[2:]], "projection")]),
    Endpoint("explain_nearest", heavy=True, examples=[[*D_EMB[:6], 0.0, 0.0]], facts=["the model says"],
             bad=[([*D_EMB[:6], "left", 0.0], "x could not be read")]),
    Endpoint("explain_attack", heavy=True, examples=[D_ATTACK, [*D_IMG, "fgsm", 0.1, 1, 0.01, ATTACK_METHODS, "own", 10.0]],
             facts=["the attack changes the answer", "FGSM, one step"],
             bad=[([*D_ATTACK[:5], "cw", *D_ATTACK[6:]], "attack 'cw' is not one of"),
                  ([*D_ATTACK[:6], 2.0, *D_ATTACK[7:]], "ε (L∞ budget) = 2 is above the maximum 1")]),
]


if __name__ == "__main__":
    import launch

    launch.main(["--tabs", "explain"])
