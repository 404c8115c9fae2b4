"""Loss calculator: every loss worked out by hand, chance level, curves and live torch pitfalls.

Thin UI glue over :mod:`dlcore.calculators.losses_report` (what each panel shows),
:mod:`dlcore.calculators.pitfalls` and :mod:`dlcore.plotting.losses`; the dropdowns read the
torch-free :mod:`dlcore.calculators.losses_registry`. Seed notes 000 §1.3, §2.1.1, §3.1.
"""

from __future__ import annotations

import math

import gradio as gr

from apps.common import (LATEX, LIGHT, Checkbox, Dropdown, Endpoint, ErrorDemo, Number, Radio, SeedRef, Slider,
                         guard, live, md_escape, on, on_first_open)
from dlcore.calculators.losses_registry import (ALL_REDUCTIONS, DTYPE_NAMES, DTYPE_TABLE, LOSS_NAMES, PITFALL_LOSSES,
                                                PITFALLS, SHAPE_MISTAKES, TARGET_FORMS, TRANSFORMS, torch_version)
from dlcore.calculators.losses_examples import BIN_X, BIN_Y, CE_X, CE_Y, SEED_EXAMPLES, X, Y
from dlcore.textinput import parse_choice, parse_number, parse_text

TITLE = "Loss calculator"
SEED = "000_5114ce2b17ca1821.txt"
SEEDS = [SeedRef(SEED, "1.3", "损失函数的计算"), SeedRef(SEED, "2.1.1", "损失函数的问题"),
         SeedRef(SEED, "3.1", "CrossEntropyLoss")]
RUN_BUTTON = "losses-run"


def _ex(loss, x, y, reduction="mean", delta=1.0, beta=1.0, weight="", ii=-100, ls=0.0, pw="", lt=False):
    return [loss, x, y, reduction, delta, beta, weight, ii, ls, pw, lt]


CALC_LABELS = ["Loss (torch.nn)", "prediction x (logits / probabilities / values)",
               "target y (values, class indices, or probabilities)", "reduction", "δ delta (HuberLoss)",
               "β beta (SmoothL1Loss)", "weight per class (CE / NLL), e.g. [1, 2, 1, 1]", "ignore_index (CE / NLL)",
               "label_smoothing ε (CE)", "pos_weight per class (BCEWithLogits)", "log_target (KLDivLoss)"]


def _report(loss, prediction, target, reduction, delta, beta, weight, ignore_index, label_smoothing, pos_weight,
            log_target):
    from dlcore.calculators.losses import parse_options
    from dlcore.calculators.losses_report import loss_report

    loss = parse_choice(loss, "loss", LOSS_NAMES)
    options = parse_options(loss, reduction=reduction, delta=delta, beta=beta, weight=weight, ignore_index=ignore_index,
                            label_smoothing=label_smoothing, pos_weight=pos_weight, log_target=log_target)
    return loss_report(loss, parse_text(prediction, "prediction"), parse_text(target, "target"), options)


def steps_markdown(res) -> str:
    """The worked steps as Markdown with KaTeX blocks."""
    out = []
    for i, s in enumerate(res.steps, 1):
        out.append(f"**{i}. {md_escape(s.title)}**")
        if s.formula:
            out.append(f"$${s.formula}$$")
        if s.detail:
            out.append(r"$$\begin{gathered}" + s.detail + r"\end{gathered}$$")
    return "\n\n".join(out)


@guard
def compute(*args):
    """The loss step by step, its torch check and its guessing baseline (the figure follows)."""
    from dlcore.calculators.losses_report import value_text as _value_text
    from dlcore.textinput import format_tensor

    rep = _report(*args)
    res, chk, ch = rep.result, rep.check, rep.chance
    summary = [f"### {res.name} = {_value_text(res.value)}  (reduction = `{res.options.reduction}`)",
               f"**torch check** (float64): `{chk.call}` = {_value_text(chk.value)} — "
               f"{'matches' if chk.matches else 'DIFFERS'} (largest difference {chk.max_diff:.1e}, "
               f"tolerance {chk.tol:g}).",
               f"Per element (`reduction='none'`): {format_tensor(res.per_element, 4)}"]
    summary += [f"- {md_escape(n)}" for n in res.notes]
    if ch is None:
        chance_md = f"Baseline not available: {md_escape(rep.chance_error)}"
    else:
        ln = (f" (= ln {ch.num_classes} = {math.log(ch.num_classes):.4f} per element for a uniform guess)"
              if ch.num_classes and res.name in ("CrossEntropyLoss", "NLLLoss") else "")
        chance_md = f"**Baseline** — a model that predicts {ch.baseline}: loss {ch.chance:.4f}{ln}. {ch.verdict}"
    return "\n\n".join(summary), steps_markdown(res), chance_md, gr.skip()


@guard
def plot_loss(*args):
    """The per-element figure for the same inputs (a separate event so the numbers arrive first)."""
    from dlcore.plotting.losses import per_element_figure

    return per_element_figure(_report(*args).result)


def plot_quiet(*args):
    """:func:`plot_loss` after a live edit: no figure (and no second message) while the input is invalid."""
    try:
        return plot_loss(*args)
    except gr.Error:
        return None


@guard
def compute_all(*args):
    """Numbers and figure in one call (the one-click examples and the first opening of the tab)."""
    return (*compute(*args)[:3], plot_loss(*args))


@guard
def chance(logits, target, more_c=""):
    """Your CE vs a uniform guess, where your rows sit on the CE curves, and ln C for common C."""
    from dlcore.calculators.losses_report import chance_report, ln_c_rows, parse_class_counts
    from dlcore.plotting.losses import chance_figure

    extra = parse_class_counts(more_c)
    r = chance_report(parse_text(logits, "logits"), parse_text(target, "target class indices"))
    md = [f"### Your CE = {r.ce:.4f}; uniform guess = ln {r.num_classes} = {r.ln_c:.4f}", md_escape(r.verdict),
          f"A margin of m = -ln(C-1) = {r.uniform_margin:.4f} is the uniform guess; every unit of margin above it "
          "lowers the loss towards 0."]
    if r.rows:
        md.append("| row | true class | p(true) | margin m | CE |\n|---|---|---|---|---|\n" + "\n".join(
            f"| {w.row} | {w.true_class} | {w.p_true:.4f} | {w.margin:.4f} | {w.ce:.4f} |" for w in r.rows))
        if r.n_rows > len(r.rows):
            md.append(f"… {r.n_rows - len(r.rows)} more rows (in the figure)")
    else:
        md.append("(probability targets: the per-row probability and margin need class indices)")
    rows = ln_c_rows([r.num_classes] + extra, "your logits")
    md.append("#### ln C: the cross entropy of a uniform guess over C classes (§3.1)\n\n| C | ln C | where |\n"
              "|---:|---:|---|\n" + "\n".join(
                  (f"| **{w.c:,}** | **{w.ln_c:.4f}** | **{w.example}** |" if w.c == r.num_classes else
                   f"| {w.c:,} | {w.ln_c:.4f} | {w.example} |") for w in rows))
    return "\n\n".join(md), chance_figure(r.num_classes, r.p_true, r.margins)


@guard
def regression_curves(delta, beta, max_error):
    """Loss and gradient of MSE / L1 / Huber / SmoothL1 against the error."""
    import torch

    from dlcore.calculators.losses_report import CURVES_NOTE, curve_summary
    from dlcore.plotting.losses import regression_curves_figure

    d = parse_number(delta, "δ (Huber)", lo=0.01, hi=10)
    b = parse_number(beta, "β (SmoothL1)", lo=0.0, hi=10)
    e_max = parse_number(max_error, "error range ±", lo=0.1, hi=100)
    e = torch.linspace(-e_max, e_max, 401, dtype=torch.float64)
    cur, rows = curve_summary(e, d, b)
    md = (f"| loss | ℓ at error {e_max:g} | gradient ∂ℓ/∂x at error {e_max:g} |\n|---|---|---|\n" + "\n".join(
        f"| {w.name} | {w.loss:.4f} | {w.grad:.4f} |" for w in rows) + "\n\n" + CURVES_NOTE)
    return regression_curves_figure(e, cur), md


@guard
def bce_stability(max_logit, target):
    """BCE on sigmoid(z) vs BCEWithLogits on z, float32."""
    import torch

    from dlcore.calculators import losses_curves as curves
    from dlcore.calculators.losses_report import STABILITY_NOTE, bce_stability_rows
    from dlcore.plotting.losses import bce_stability_figure

    zmax = parse_number(max_logit, "max |logit z|", lo=1, hi=1000)
    t = parse_number(target, "target y", lo=0, hi=1)
    if t not in (0.0, 1.0):
        raise ValueError(f"target y {t:g} must be 0 or 1 for this demo")
    st = curves.bce_stability(torch.linspace(-zmax, zmax, 801), t)
    md = ("| z | sigmoid(z) float32 | BCELoss(sigmoid(z)) | BCEWithLogitsLoss(z) | exact |\n|---|---|---|---|---|\n"
          + "\n".join(f"| {w.z:g} | {w.sigmoid:.6g} | {w.bce_on_sigmoid:.4f} | {w.bce_with_logits:.4f} | "
                      f"{w.exact:.4f} |" for w in bce_stability_rows(t)) + "\n\n" + STABILITY_NOTE)
    return bce_stability_figure(st, t), md


def _pitfall_markdown(out, title: str = "", cmp: str = "") -> str:
    head = {"raises": "RAISES: torch rejects this call", "warns": "WARNS: torch warns, and the result is wrong",
            "silent": "SILENT: no error, but the loss is wrong", "ok": "WORKS on the installed torch"}[out.outcome]
    parts = [f"### {md_escape(title)}" if title else "", f"```python\n{out.code}\n```", f"**{head}**"]
    if out.message:
        parts.append(f"Exact message from torch {_TORCH}: `{out.error_type or 'UserWarning'}: {out.message}`")
    if out.value:
        parts.append(f"torch returned **{out.value}**; the correct call gives **{out.correct}**.")
    parts.append(f"**What it means:** {md_escape(out.meaning)}")
    if out.fix:
        parts.append(f"**Fix:** `{out.fix}`")
    if cmp:
        parts.append(f"**Notes vs installed torch:** {md_escape(cmp)}")
    return "\n\n".join(p for p in parts if p)


@guard
def run_named_pitfall(key):
    from dlcore.calculators import pitfalls as pf

    p, out, cmp = pf.run_pitfall(parse_choice(key, "classic mistake", list(PITFALLS)))
    return _pitfall_markdown(out, p.title, cmp) + (f"\n\n_{md_escape(p.notes)}_" if p.notes else "")


@guard
def run_custom_pitfall(loss, input_dtype, target_dtype, transform, target_form, shape):
    from dlcore.calculators import pitfalls as pf

    s = pf.PitfallSetup(parse_choice(loss, "loss", PITFALL_LOSSES), parse_choice(input_dtype, "input dtype", DTYPE_NAMES),
                        parse_choice(target_dtype, "target dtype", DTYPE_NAMES),
                        parse_choice(transform, "apply to logits first", TRANSFORMS),
                        parse_choice(target_form, "target form", TARGET_FORMS),
                        parse_choice(shape, "shape mistake", SHAPE_MISTAKES))
    return _pitfall_markdown(pf.run_setup(s), "Your call")


_TORCH = torch_version()  # read without importing torch


def _calculator_tab() -> None:
    first = SEED_EXAMPLES[0].args()
    L = CALC_LABELS
    with gr.Row():
        with gr.Column(scale=2):
            loss = Dropdown(list(LOSS_NAMES), value=first[0], label=L[0])
            pred = gr.Textbox(first[1], label=L[1], lines=2)
            targ = gr.Textbox(first[2], label=L[2], lines=2)
            red = Radio(list(ALL_REDUCTIONS), value=first[3], label=L[3], info="batchmean: KLDivLoss only")
            btn = gr.Button("Compute step by step", variant="primary", elem_id=RUN_BUTTON)
        with gr.Column(scale=1):
            with gr.Accordion("Loss options (δ, β, weights, ignore_index, smoothing)", open=False):
                delta, beta = Number(first[4], label=L[4]), Number(first[5], label=L[5])
                weight = gr.Textbox(first[6], label=L[6])
                ii = Number(first[7], label=L[7], step=1)
                ls = Slider(0.0, 1.0, value=first[8], step=0.05, label=L[8])
                pw = gr.Textbox(first[9], label=L[9])
                lt = Checkbox(first[10], label=L[10])
    summary = gr.Markdown("Working out the default example…", latex_delimiters=LATEX)
    chance_md = gr.Markdown()
    with gr.Row():
        with gr.Column(scale=3):
            steps = gr.Markdown(latex_delimiters=LATEX, elem_classes=["formula-box"])
        with gr.Column(scale=2, min_width=320):
            fig = gr.Plot(label="per-element loss", show_label=False)
    inputs = [loss, pred, targ, red, delta, beta, weight, ii, ls, pw, lt]
    outs = [summary, steps, chance_md, fig]
    on_first_open(compute_all, inputs, outs, **LIGHT)
    on(btn.click, compute, inputs, outs, api_name="loss_compute", **LIGHT).success(
        plot_loss, inputs, fig, api_name="loss_plot", **LIGHT)
    # Live: every edit recomputes (~1 ms); a burst of edits runs once more at the end, not once each.
    gr.on([c.change for c in inputs], live(compute, 4), inputs, outs, api_name="loss_compute_live",
          api_visibility="undocumented", trigger_mode="always_last", **LIGHT).then(
        plot_quiet, inputs, fig, api_name="loss_plot_live", api_visibility="undocumented", **LIGHT)
    gr.Examples([e.args() for e in SEED_EXAMPLES], inputs, outs, fn=compute_all, run_on_click=True,
                cache_examples=False, example_labels=[e.label for e in SEED_EXAMPLES],
                label="The notes' worked examples (one click)", examples_per_page=20)


def build() -> None:
    gr.Markdown("Pick a loss, type a prediction and a target (nested lists), and see every intermediate "
                "with your numbers substituted. Every result is checked against `torch.nn` in float64.")
    with gr.Tab("Calculator"):
        _calculator_tab()
    with gr.Tab("Chance level (ln C)"):
        with gr.Row():
            cx = gr.Textbox(CE_X, label="logits (N, C)", lines=2)
            cy = gr.Textbox(CE_Y, label="target class indices (N,)")
            cc = gr.Textbox("", label="more class counts C for the ln C table (optional), e.g. 7, 21843")
        cbtn = gr.Button("Compare with a uniform guess", variant="primary", elem_id="losses-chance-run")
        with gr.Row():
            cmd = gr.Markdown()
            cfig = gr.Plot(label="CE vs probability and margin", show_label=False, min_width=340)
        on_first_open(chance, [cx, cy, cc], [cmd, cfig], **LIGHT)
        on(cbtn.click, chance, [cx, cy, cc], [cmd, cfig], api_name="loss_chance", **LIGHT)
    with gr.Tab("Curves"):
        with gr.Row():
            d = Slider(0.05, 3.0, value=1.0, step=0.05, label="δ (Huber)")
            b = Slider(0.0, 3.0, value=1.0, step=0.05, label="β (SmoothL1)")
            emax = Slider(0.5, 10.0, value=3.0, step=0.5, label="error range ±")
        rbtn = gr.Button("Draw regression losses", elem_id="losses-curves-run")
        rmd = gr.Markdown()
        rfig = gr.Plot(label="loss and gradient vs error", show_label=False)
        on_first_open(regression_curves, [d, b, emax], [rfig, rmd], **LIGHT)
        on([rbtn.click, d.release, b.release, emax.release], regression_curves, [d, b, emax], [rfig, rmd],
           api_name="loss_curves", **LIGHT)
        with gr.Row():
            zmax = Slider(5, 200, value=100, step=5, label="max |logit z|")
            tgt = Radio([0, 1], value=0, label="target y")
        sbtn = gr.Button("BCE vs BCEWithLogits stability", elem_id="losses-stability-run")
        smd = gr.Markdown()
        sfig = gr.Plot(label="numerical stability", show_label=False)
        on_first_open(bce_stability, [zmax, tgt], [sfig, smd], **LIGHT)
        on([sbtn.click, zmax.release, tgt.change], bce_stability, [zmax, tgt], [sfig, smd],
           api_name="loss_bce_stability", **LIGHT)
    with gr.Tab("Pitfalls (live torch)"):
        gr.Markdown(f"Each case runs the real call on the installed **torch {_TORCH}** and shows "
                    "torch's exact message. The notes were written for an older torch; differences are flagged.")
        key = Dropdown([(p.title, k) for k, p in PITFALLS.items()], value="ce_int32_target", label="classic mistake")
        pbtn = gr.Button("Run it", elem_id="losses-pitfall-run")
        pmd = gr.Markdown()
        on_first_open(run_named_pitfall, [key], [pmd], **LIGHT)
        on([pbtn.click, key.change], run_named_pitfall, [key], [pmd], api_name="loss_pitfall", **LIGHT)
        gr.Markdown("#### Make your own mistake")
        with gr.Row():
            ploss = Dropdown(list(PITFALL_LOSSES), value="CrossEntropyLoss", label="loss")
            idt = Dropdown(list(DTYPE_NAMES), value="float32", label="input dtype")
            tdt = Dropdown(list(DTYPE_NAMES), value="int32", label="target dtype")
        with gr.Row():
            tr = Radio(list(TRANSFORMS), value="none", label="apply to logits first")
            tf = Radio(list(TARGET_FORMS), value="indices", label="target form (CE / NLL)")
            sh = Radio(list(SHAPE_MISTAKES), value="none", label="shape mistake")
        cbtn2 = gr.Button("Run my call", elem_id="losses-custom-run")
        cmd2 = gr.Markdown()
        custom = [ploss, idt, tdt, tr, tf, sh]
        on_first_open(run_custom_pitfall, custom, [cmd2], **LIGHT)
        on([cbtn2.click] + [c.change for c in custom], run_custom_pitfall, custom, [cmd2],
           api_name="loss_pitfall_custom", **LIGHT)
        gr.Markdown("#### Data types (§2.1.1)")
        gr.Dataframe(DTYPE_TABLE, headers=["Data type", "dtype", "CPU tensor", "GPU tensor"], interactive=False)


#: The browser test types a target of the wrong shape, presses Compute and reads the message.
ERROR_DEMO = ErrorDemo(fill={"target y": "[1, 2, 3]"}, click=RUN_BUTTON, expect="same shape")
_CUSTOM = [["CrossEntropyLoss", "float32", "int32", "none", "indices", "none"],
           ["BCELoss", "float64", "float16", "sigmoid", "indices", "none"]]
ENDPOINTS = [
    Endpoint("loss_compute", examples=[e.args() for e in SEED_EXAMPLES], facts=[e.fact for e in SEED_EXAMPLES],
             bad=[
                 (_ex("MSELoss", "[[0.5, 0.2], [0.7", Y), "could not be read"),
                 (_ex("MSELoss", "[[0.5, 0.2], [0.7]]", Y), "ragged"),
                 (_ex("CrossEntropyLoss", CE_X, "[0, 1, 4]"), "class index 4 in target[2] is out of range"),
                 (_ex("MSELoss", "[1, 2, 3]", "[1, 2]"), "same shape"),
                 (_ex("MSELoss", "[1, NaN]", "[1, 2]"), "NaN or infinity"),
                 (_ex("MSELoss", "[" + ",".join(["1"] * 5000) + "]", "[1]"), "the limit is 4096"),
                 (_ex("BCELoss", BIN_X, BIN_Y), "outside [0, 1]"),
                 (_ex("CrossEntropyLoss", CE_X, "[0, 1, 3]", ii=2.5), "ignore_index must be a whole number"),
                 (_ex("MSELoss", X, Y, reduction="batchmean"), "not allowed for MSELoss"),
             ]),
    Endpoint("loss_plot", examples=[SEED_EXAMPLES[0].args(), SEED_EXAMPLES[6].args()],
             facts=["data:image", "data:image"],
             bad=[(_ex("CrossEntropyLoss", CE_X, "[0, 1, 4]"), "out of range")]),
    Endpoint("loss_chance", examples=[[CE_X, CE_Y, ""], ["[[0.2, 0.1, -0.1]]", "[0]", "21843"]],
             facts=["ln 4 = 1.3863", "0.9729"],
             bad=[([CE_X, "[0, 1, 9]", ""], "out of range"), ([CE_X, "[0, 1, 3]", "1"], "below the minimum 2")]),
    Endpoint("loss_curves", examples=[[1.0, 1.0, 3.0], [0.2, 0.5, 10.0]],
             facts=["| MSELoss | 9.0000 | 6.0000 |", "| MSELoss | 100.0000 | 20.0000 |"],
             bad=[([1.0, -1.0, 3.0], "β (SmoothL1) = -1 is below the minimum 0")]),
    Endpoint("loss_bce_stability", examples=[[100, 0], [50, 1]], facts=["| 20 | 1 | 100.0000 | 20.0000", "exact"],
             bad=[([100, 0.5], "must be 0 or 1")]),
    Endpoint("loss_pitfall", examples=[[k] for k in PITFALLS],
             facts=[{"raises": "RAISES", "warns": "WARNS", "silent": "SILENT", "ok": "WORKS"}[p.expect]
                    for p in PITFALLS.values()], bad=[(["ce_float8"], "classic mistake 'ce_float8' is not one of")]),
    Endpoint("loss_pitfall_custom", examples=_CUSTOM, facts=["expected target dtype to be Long", "RAISES"],
             bad=[(["CrossEntropyLoss", "float8", "int32", "none", "indices", "none"], "input dtype 'float8'")]),
]

if __name__ == "__main__":
    import launch

    launch.main(["--tabs", "losses"])
