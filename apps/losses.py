"""Loss calculator: every loss worked out by hand, chance level, curves and live torch pitfalls.

Thin UI glue over :mod:`dlcore.calculators.losses` (+ ``losses_curves``, ``pitfalls``) and
:mod:`dlcore.plotting.losses`. Seed notes 000 §1.3, §2.1.1, §3.1.
"""

from __future__ import annotations

import math

import gradio as gr
import torch

from apps.common import LIGHT, Endpoint, SeedRef, guard
from dlcore.calculators import losses_curves as curves
from dlcore.calculators import pitfalls as pf
from dlcore.calculators.losses import LOSSES, calculate, parse_options, torch_reference
from dlcore.calculators.losses_base import LossResult
from dlcore.plotting import losses as plots
from dlcore.textinput import format_tensor, parse_number, parse_tensor

TITLE = "Loss calculator"
SEED = "000_5114ce2b17ca1821.txt"
SEEDS = [
    SeedRef(SEED, "1.3", "损失函数的计算"),
    SeedRef(SEED, "2.1.1", "损失函数的问题"),
    SeedRef(SEED, "3.1", "CrossEntropyLoss"),
]
RUN_BUTTON = "losses-run"
LATEX = [{"left": "$$", "right": "$$", "display": True}, {"left": "$", "right": "$", "display": False}]

X = "[[0.5, 0.2], [0.7, 0.9]]"
Y = "[[0.6, 0.4], [0.3, 0.5]]"
CE_X = "[[2.0, 1.0, 0.5, -1.0], [1.0, 2.0, -0.5, 0.5], [-0.5, 1.0, 1.5, 2.0]]"
ONE_HOT = "[[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1]]"
BIN_X = "[[2.0, 1.0], [1.0, 2.0], [-0.5, 1.0]]"
BIN_Y = "[[1, 0], [0, 1], [0, 1]]"
BCE_P = "[[0.8808, 0.7311], [0.7311, 0.8808], [0.3755, 0.7311]]"


def _ex(loss, x, y, reduction="mean", delta=1.0, beta=1.0, weight="", ii=-100, ls=0.0, pw="", lt=False):
    return [loss, x, y, reduction, delta, beta, weight, ii, ls, pw, lt]


# (label, args): the seed's worked examples; the first equals the components' initial values.
SEED_EXAMPLES = [
    ("§1.3.1 MSE = 0.0925", _ex("MSELoss", X, Y)),
    ("§1.3.1 MSE sum = 0.37", _ex("MSELoss", X, Y, "sum")),
    ("§1.3.1 MSE none", _ex("MSELoss", X, Y, "none")),
    ("§1.3.2 L1 = 0.275", _ex("L1Loss", X, Y)),
    ("§1.3.3 Huber = 0.04625", _ex("HuberLoss", X, Y)),
    ("§1.3.3 Huber δ=0.2 → 0.03625", _ex("HuberLoss", X, Y, delta=0.2)),
    ("§1.3.4 CE = 0.5769", _ex("CrossEntropyLoss", CE_X, "[0, 1, 3]")),
    ("§1.3.4 CE none", _ex("CrossEntropyLoss", CE_X, "[0, 1, 3]", "none")),
    ("§1.3.5 BCEWithLogits = 0.6113", _ex("BCEWithLogitsLoss", BIN_X, BIN_Y)),
    ("§1.3.5 note 1: 3×4 multi-label", _ex("BCEWithLogitsLoss", CE_X, ONE_HOT, "none")),
    ("§1.3.6 BCE = 0.6108", _ex("BCELoss", BCE_P, BIN_Y)),
    ("§3.1 CE([0.2, 0.1, -0.1], 0) = 0.9729", _ex("CrossEntropyLoss", "[0.2, 0.1, -0.1]", "0")),
    ("CE with weight, ignore_index, smoothing",
     _ex("CrossEntropyLoss", CE_X, "[0, -100, 3]", weight="[1, 2, 1, 0.5]", ls=0.1)),
    ("CE with probability targets", _ex("CrossEntropyLoss", CE_X, "[[0.7, 0.1, 0.1, 0.1], [0, 1, 0, 0], [0, 0, 0.5, 0.5]]")),
    ("NLLLoss on log-probabilities", _ex("NLLLoss", "[[-0.4952, -1.4952, -1.9952, -3.4952]]", "[0]")),
    ("BCEWithLogits pos_weight", _ex("BCEWithLogitsLoss", BIN_X, BIN_Y, pw="[3, 1]")),
    ("KLDivLoss batchmean", _ex("KLDivLoss", "[[-1.2040, -0.5108, -2.3026]]", "[[0.2, 0.5, 0.3]]", "batchmean")),
    ("SmoothL1 β=0.3", _ex("SmoothL1Loss", X, Y, beta=0.3)),
]


def steps_markdown(res: LossResult) -> str:
    """The worked steps as Markdown with KaTeX blocks."""
    out = []
    for i, s in enumerate(res.steps, 1):
        out.append(f"**{i}. {s.title}**")
        if s.formula:
            out.append(f"$${s.formula}$$")
        if s.detail:
            out.append(r"$$\begin{gathered}" + s.detail + r"\end{gathered}$$")
    return "\n\n".join(out)


def _value_text(v: torch.Tensor) -> str:
    return f"{float(v):.6f}".rstrip("0").rstrip(".") if v.ndim == 0 else format_tensor(v, 4)


def _run(loss, prediction, target, reduction, delta, beta, weight, ignore_index, label_smoothing,
         pos_weight, log_target) -> tuple[LossResult, object]:
    opts = parse_options(loss, reduction=reduction, delta=delta, beta=beta, weight=weight or "",
                         ignore_index=ignore_index, label_smoothing=label_smoothing,
                         pos_weight=pos_weight or "", log_target=bool(log_target))
    return calculate(loss, prediction, target, opts), opts


@guard
def plot_loss(*args):
    """The per-element figure for the same inputs (a separate event so the numbers arrive first)."""
    return plots.per_element_figure(_run(*args)[0])


@guard
def compute_all(*args):
    """Numbers and figure in one call (used by the one-click examples)."""
    return (*compute(*args), plot_loss(*args))


def compute_live(*args):
    """On-change variant of :func:`compute`: a half-typed tensor shows its message in place of the
    result (no error pop-up while typing) and the previous steps stay on screen."""
    try:
        return compute(*args)
    except gr.Error as exc:
        return f"⚠ {exc.message}", gr.skip(), gr.skip()


def plot_live(*args):
    """On-change variant of :func:`plot_loss`: keeps the last figure while the input is invalid."""
    try:
        return plot_loss(*args)
    except gr.Error:
        return gr.skip()


@guard
def compute(loss, prediction, target, reduction, delta, beta, weight, ignore_index, label_smoothing,
            pos_weight, log_target):
    """Compute the loss step by step; check against torch; compare with a uniform guess."""
    res, opts = _run(loss, prediction, target, reduction, delta, beta, weight, ignore_index, label_smoothing,
                     pos_weight, log_target)
    x = parse_tensor(prediction, "prediction")
    y = parse_tensor(target, "target")
    ref, call = torch_reference(loss, x, y, opts)
    diff = float((ref - res.value).abs().nan_to_num(0.0).max()) if ref.numel() else 0.0
    ok = "matches" if diff <= 1e-6 else "DIFFERS"
    summary = [f"### {loss} = {_value_text(res.value)}  (reduction = `{opts.reduction}`)",
               f"**torch check** (float64): `{call}` = {_value_text(ref)} — {ok} "
               f"(largest difference {diff:.1e}).",
               f"Per element (`reduction='none'`): {format_tensor(res.per_element, 4)}"]
    summary += [f"- {n}" for n in res.notes]
    chance_md = ""
    try:
        ch = curves.chance_level(loss, x, y, opts)
        chance_md = (f"**Baseline** — a model that predicts {ch.baseline}: loss {ch.chance:.4f}"
                     + (f" (= ln {ch.num_classes} = {math.log(ch.num_classes):.4f} per element for a uniform guess)"
                        if ch.num_classes and loss in ("CrossEntropyLoss", "NLLLoss") else "")
                     + f". {ch.verdict}")
    except ValueError as exc:  # e.g. all targets ignored
        chance_md = f"Baseline not available: {exc}"
    return "\n\n".join(summary), steps_markdown(res), chance_md


@guard
def chance(logits, target):
    """Your CE vs a uniform guess, and where your rows sit on the CE curves."""
    x = parse_tensor(logits, "logits", ndim=(1, 2))
    res = calculate("CrossEntropyLoss", x, parse_tensor(target, "target"))
    x2 = res.intermediates["logits"]
    c = x2.shape[1]
    y = parse_tensor(target, "target")
    if y.shape != x.shape:
        yi = y.reshape(-1).to(torch.int64)
        p, m = curves.true_class_stats(x2, yi)
        rows = "\n".join(f"| {i + 1} | {int(yi[i])} | {float(p[i]):.4f} | {float(m[i]):.4f} | {float(res.per_element.reshape(-1)[i]):.4f} |"
                         for i in range(min(len(yi), 20)))
        table = "| row | true class | p(true) | margin m | CE |\n|---|---|---|---|---|\n" + rows
    else:
        p = m = None
        table = "(probability targets: the per-row probability and margin need class indices)"
    ch = curves.chance_level("CrossEntropyLoss", x, y)
    md = (f"### Your CE = {res.item():.4f}; uniform guess = ln {c} = {math.log(c):.4f}\n\n{ch.verdict}\n\n"
          f"A margin of m = -ln(C-1) = {-math.log(c - 1) if c > 1 else 0:.4f} is the uniform guess; "
          "every unit of margin above it lowers the loss towards 0.\n\n" + table)
    return md, plots.chance_figure(c, p, m)


@guard
def regression_curves(delta, beta, max_error):
    """Loss and gradient of MSE / L1 / Huber / SmoothL1 against the error."""
    d = parse_number(delta, "delta", lo=0.01, hi=10)
    b = parse_number(beta, "beta", lo=0.0, hi=10)
    e_max = parse_number(max_error, "max error", lo=0.1, hi=100)
    e = torch.linspace(-e_max, e_max, 401, dtype=torch.float64)
    cur = curves.regression_curves(e, d, b)
    rows = "\n".join(f"| {name} | {float(lo[-1]):.4f} | {float(g[-1]):.4f} |" for name, (lo, g) in cur.items())
    md = (f"| loss | ℓ at error {e_max:g} | gradient ∂ℓ/∂x at error {e_max:g} |\n|---|---|---|\n{rows}\n\n"
          "MSE's gradient grows with the error, so one outlier dominates the update; L1, Huber and "
          "SmoothL1 cap the gradient (at 1 for L1/SmoothL1, at δ for Huber): robust to outliers.")
    return plots.regression_curves_figure(e, cur), md


@guard
def bce_stability(max_logit, target):
    """BCE on sigmoid(z) vs BCEWithLogits on z, float32."""
    zmax = parse_number(max_logit, "max |logit|", lo=1, hi=1000)
    t = parse_number(target, "target", lo=0, hi=1)
    if t not in (0.0, 1.0):
        raise ValueError(f"target {t:g} must be 0 or 1 for this demo")
    z = torch.linspace(-zmax, zmax, 801)
    st = curves.bce_stability(z, t)
    probe = torch.tensor([-100.0, -20.0, -5.0, 0.0, 5.0, 20.0, 100.0])
    sp = curves.bce_stability(probe, t)
    rows = "\n".join(f"| {float(a):g} | {float(s):.6g} | {float(b):.4f} | {float(c):.4f} | {float(e):.4f} |"
                     for a, s, b, c, e in zip(probe, sp["sigmoid"], sp["bce_on_sigmoid"], sp["bce_with_logits"], sp["exact"]))
    md = ("| z | sigmoid(z) float32 | BCELoss(sigmoid(z)) | BCEWithLogitsLoss(z) | exact |\n|---|---|---|---|---|\n"
          + rows + "\n\nIn float32 sigmoid(z) rounds to exactly 1 for z ≳ 17, so log(1 - σ) = log 0 = -∞; BCELoss "
          "clamps the log at -100 and reports 100 whatever z is. BCEWithLogitsLoss uses "
          "(1-y)·z + log(1 + e^{-z}) computed with the log-sum-exp trick and stays exact.")
    return plots.bce_stability_figure(st, t), md


def _pitfall_markdown(out: pf.PitfallOutcome, title: str = "", cmp: str = "") -> str:
    head = {"raises": "RAISES: torch rejects this call", "warns": "WARNS: torch warns, and the result is wrong",
            "silent": "SILENT: no error, but the loss is wrong", "ok": "WORKS on the installed torch"}[out.outcome]
    parts = [f"### {title}" if title else "", f"```python\n{out.code}\n```", f"**{head}**"]
    if out.message:
        parts.append(f"Exact message from torch {torch.__version__}: `{out.error_type or 'UserWarning'}: {out.message}`")
    if out.value:
        parts.append(f"torch returned **{out.value}**; the correct call gives **{out.correct}**.")
    parts.append(f"**What it means:** {out.meaning}")
    if out.fix:
        parts.append(f"**Fix:** `{out.fix}`")
    if cmp:
        parts.append(f"**Notes vs installed torch:** {cmp}")
    return "\n\n".join(p for p in parts if p)


@guard
def run_named_pitfall(key):
    p, out, cmp = pf.run_pitfall(key)
    note = f"\n\n_{p.notes}_" if p.notes else ""
    return _pitfall_markdown(out, p.title, cmp) + note


@guard
def run_custom_pitfall(loss, input_dtype, target_dtype, transform, target_form, shape):
    s = pf.PitfallSetup(loss, input_dtype, target_dtype, transform, target_form, shape)
    return _pitfall_markdown(pf.run_setup(s), "Your call")


def _calculator_tab() -> None:
    first = SEED_EXAMPLES[0][1]
    with gr.Row():
        with gr.Column(scale=2):
            loss = gr.Dropdown(list(LOSSES), value=first[0], label="Loss (torch.nn)")
            pred = gr.Textbox(first[1], label="prediction x (logits / probabilities / values)", lines=2)
            targ = gr.Textbox(first[2], label="target y (values, class indices, or probabilities)", lines=2)
            red = gr.Radio(["none", "mean", "sum", "batchmean"], value=first[3], label="reduction",
                           info="batchmean: KLDivLoss only")
        with gr.Column(scale=1):
            delta = gr.Number(first[4], label="δ delta (HuberLoss)")
            beta = gr.Number(first[5], label="β beta (SmoothL1Loss)")
            weight = gr.Textbox(first[6], label="weight per class (CE / NLL), e.g. [1, 2, 1, 1]")
            ii = gr.Number(first[7], precision=0, label="ignore_index (CE / NLL)")
            ls = gr.Slider(0.0, 1.0, value=first[8], step=0.05, label="label_smoothing ε (CE)")
            pw = gr.Textbox(first[9], label="pos_weight per class (BCEWithLogits)")
            lt = gr.Checkbox(first[10], label="log_target (KLDivLoss)")
    btn = gr.Button("Compute step by step", variant="primary", elem_id=RUN_BUTTON)
    # The default example is worked out when the tab is built (about a millisecond, no figure:
    # that follows the first edit or click), so the page never opens on an empty result.
    first_summary, first_steps, first_chance = compute(*first)
    summary = gr.Markdown(first_summary, latex_delimiters=LATEX)
    chance_md = gr.Markdown(first_chance)
    with gr.Row():
        with gr.Column(scale=3):
            steps = gr.Markdown(first_steps, latex_delimiters=LATEX, elem_classes=["formula-box"])
        with gr.Column(scale=2, min_width=420):
            fig = gr.Plot(label="per-element loss", show_label=False)
    inputs = [loss, pred, targ, red, delta, beta, weight, ii, ls, pw, lt]
    btn.click(compute, inputs, [summary, steps, chance_md], api_name="loss_compute", **LIGHT).then(
        plot_loss, inputs, [fig], api_name="loss_plot", **LIGHT)
    # Live: every edit recomputes (~1 ms); a burst of edits runs once more at the end, not once each.
    gr.on([c.change for c in inputs], compute_live, inputs, [summary, steps, chance_md],
          api_name="loss_compute_live", api_visibility="undocumented", trigger_mode="always_last", **LIGHT).then(
        plot_live, inputs, [fig], api_name="loss_plot_live", api_visibility="undocumented", **LIGHT)
    gr.Examples([a for _, a in SEED_EXAMPLES], inputs, [summary, steps, chance_md, fig], fn=compute_all,
                run_on_click=True,
                cache_examples=False, example_labels=[lbl for lbl, _ in SEED_EXAMPLES],
                label="The notes' worked examples (one click)", examples_per_page=20)


def build() -> None:
    gr.Markdown("Pick a loss, type a prediction and a target (nested lists), and see every intermediate "
                "with your numbers substituted. Every result is checked live against `torch.nn` in float64.")
    with gr.Tab("Calculator"):
        _calculator_tab()
    with gr.Tab("Chance level (ln C)") as chance_tab:
        with gr.Row():
            cx = gr.Textbox(CE_X, label="logits (N, C)", lines=2)
            cy = gr.Textbox("[0, 1, 3]", label="target class indices (N,)")
        cbtn = gr.Button("Compare with a uniform guess", elem_id="losses-chance-run")
        cmd = gr.Markdown()
        cfig = gr.Plot(label="CE vs probability and margin", show_label=False)
        # Opening the sub-tab shows the result at once; the button recomputes after edits.
        gr.on([cbtn.click, chance_tab.select], chance, [cx, cy], [cmd, cfig], api_name="loss_chance", **LIGHT)
        gr.Markdown("**ln C for C = 2 … 1000** — the cross entropy of a model that guesses uniformly "
                    "(§3.1: a training loss near this value means the model is guessing).")
        gr.Dataframe([[c, round(v, 4)] for c, v in curves.ln_c_table()], headers=["C (classes)", "ln C"],
                     interactive=False, max_height=300)
    with gr.Tab("Curves") as curves_tab:
        with gr.Row():
            d = gr.Slider(0.05, 3.0, value=1.0, step=0.05, label="δ (Huber)")
            b = gr.Slider(0.0, 3.0, value=1.0, step=0.05, label="β (SmoothL1)")
            emax = gr.Slider(0.5, 10.0, value=3.0, step=0.5, label="error range ±")
        rbtn = gr.Button("Draw regression losses", elem_id="losses-curves-run")
        rfig = gr.Plot(label="loss and gradient vs error", show_label=False)
        rmd = gr.Markdown()
        gr.on([rbtn.click, d.release, b.release, emax.release, curves_tab.select], regression_curves, [d, b, emax], [rfig, rmd],
              api_name="loss_curves", **LIGHT)
        with gr.Row():
            zmax = gr.Slider(5, 200, value=100, step=5, label="max |logit z|")
            tgt = gr.Radio([0, 1], value=0, label="target y")
        sbtn = gr.Button("BCE vs BCEWithLogits stability", elem_id="losses-stability-run")
        sfig = gr.Plot(label="numerical stability", show_label=False)
        smd = gr.Markdown()
        gr.on([sbtn.click, zmax.release, tgt.change, curves_tab.select], bce_stability, [zmax, tgt], [sfig, smd],
              api_name="loss_bce_stability", **LIGHT)
    with gr.Tab("Pitfalls (live torch)") as pit_tab:
        gr.Markdown(f"Each case runs the real call on the installed **torch {torch.__version__}** and shows "
                    "torch's exact message. The notes were written for an older torch; differences are flagged.")
        key = gr.Dropdown([(p.title, k) for k, p in pf.PITFALLS.items()], value="ce_int32_target",
                          label="classic mistake")
        pbtn = gr.Button("Run it", elem_id="losses-pitfall-run")
        pmd = gr.Markdown()
        gr.on([pbtn.click, key.change, pit_tab.select], run_named_pitfall, [key], [pmd], api_name="loss_pitfall",
              **LIGHT)
        gr.Markdown("#### Make your own mistake")
        with gr.Row():
            ploss = gr.Dropdown(list(pf.PITFALL_LOSSES), value="CrossEntropyLoss", label="loss")
            idt = gr.Dropdown(list(pf.DTYPES), value="float32", label="input dtype")
            tdt = gr.Dropdown(list(pf.DTYPES), value="int32", label="target dtype")
        with gr.Row():
            tr = gr.Radio(["none", "softmax", "log_softmax", "sigmoid"], value="none", label="apply to logits first")
            tf = gr.Radio(["indices", "one_hot"], value="indices", label="target form (CE / NLL)")
            sh = gr.Radio(["none", "target_extra_dim", "target_missing_dim", "batch_mismatch"], value="none",
                          label="shape mistake")
        cbtn2 = gr.Button("Run my call", elem_id="losses-custom-run")
        cmd2 = gr.Markdown()
        custom = [ploss, idt, tdt, tr, tf, sh]
        gr.on([cbtn2.click, pit_tab.select] + [c.change for c in custom], run_custom_pitfall, custom, [cmd2],
              api_name="loss_pitfall_custom", **LIGHT)
        gr.Markdown("#### Data types (§2.1.1)")
        gr.Dataframe(pf.DTYPE_TABLE, headers=["Data type", "dtype", "CPU tensor", "GPU tensor"], interactive=False)


ENDPOINTS = [
    Endpoint("loss_compute", examples=[a for _, a in SEED_EXAMPLES[:1]] + [a for _, a in SEED_EXAMPLES[3:12]],
             bad=[
                 (_ex("MSELoss", "[[0.5, 0.2], [0.7", Y), "could not be read"),
                 (_ex("MSELoss", "[[0.5, 0.2], [0.7]]", Y), "ragged"),
                 (_ex("CrossEntropyLoss", CE_X, "[0, 1, 4]"), "class index 4 in target[2] is out of range"),
                 (_ex("MSELoss", "[1, 2, 3]", "[1, 2]"), "same shape"),
                 (_ex("MSELoss", "[1, NaN]", "[1, 2]"), "NaN or infinity"),
                 (_ex("MSELoss", "[" + ",".join(["1"] * 5000) + "]", "[1]"), "the limit is 4096"),
                 (_ex("BCELoss", BIN_X, BIN_Y), "outside [0, 1]"),
             ]),
    Endpoint("loss_chance", examples=[[CE_X, "[0, 1, 3]"], ["[[0.2, 0.1, -0.1]]", "[0]"]],
             bad=[([CE_X, "[0, 1, 9]"], "out of range")]),
    Endpoint("loss_curves", examples=[[1.0, 1.0, 3.0], [0.2, 0.5, 10.0]], bad=[([1.0, -1.0, 3.0], "less than minimum")]),
    Endpoint("loss_plot", examples=[SEED_EXAMPLES[0][1], SEED_EXAMPLES[6][1]],
             bad=[(_ex("CrossEntropyLoss", CE_X, "[0, 1, 4]"), "out of range")]),
    Endpoint("loss_bce_stability", examples=[[100, 0], [50, 1]]),
    Endpoint("loss_pitfall", examples=[[k] for k in pf.PITFALLS]),
    Endpoint("loss_pitfall_custom", examples=[["CrossEntropyLoss", "float32", "int32", "none", "indices", "none"],
                                              ["BCELoss", "float64", "float16", "sigmoid", "indices", "none"]]),
]

if __name__ == "__main__":
    import launch

    launch.main(["--tabs", "losses"])
