"""Inside one step (every gate by hand, checked against torch) and vanishing gradients with clipping:
two panels of the sequence tab.

Thin glue over :mod:`dlcore.sequence.views` (inside_settings, jacobian_view, clip_settings),
:func:`dlcore.sequence.gradients.clipping_runs` and :mod:`dlcore.plotting.sequence`.
"""

from __future__ import annotations

import time
from typing import Any, Iterator

import gradio as gr

from apps.common import (HEAVY, LATEX, LIGHT, STOPS, STOP_EXAMPLES, CheckboxGroup, Endpoint, Number, Radio, guard,
                        md_escape, on, on_first_open, stop_button)
from dlcore.sequence.names import CELL_LABELS, CELLS, NORMS
from dlcore.sequence.names import LABELS as L

INSIDE_BUTTON, GRAD_BUTTON, CLIP_BUTTON = "sequence-inside-run", "sequence-grad-run", "sequence-clip-run"
INSIDE_DEFAULT = ["lstm", "trained", 1, 20, 1, "after"]
GRAD_DEFAULT = ["trained", 50, "spectral", list(CELLS)]
CLIP_DEFAULT = ["rnn", 2.0, 1.0, 0.05, 3]
SOURCE_CHOICES = [("the zoo's trained sine predictor", "trained"), ("untrained (torch's default init)", "untrained")]
RESET_CHOICES = [("after, as torch / cuDNN", "after"), ("before, as the notes (Cho et al. 2014)", "before")]
EQUATIONS = {
    "rnn": r"$H_t = \tanh(X_t W_{xh} + H_{t-1} W_{hh} + b_h)$",
    "lstm": r"$I_t, F_t, O_t = \sigma(X_t W_{x\cdot} + H_{t-1} W_{h\cdot} + b_\cdot)$, "
            r"$\tilde C_t = \tanh(X_t W_{xc} + H_{t-1} W_{hc} + b_c)$, $C_t = F_t \odot C_{t-1} + I_t \odot \tilde C_t$, "
            r"$H_t = O_t \odot \tanh(C_t)$",
    "gru": r"$R_t, Z_t = \sigma(X_t W_{x\cdot} + H_{t-1} W_{h\cdot} + b_\cdot)$, "
           r"$\tilde H_t = \tanh(X_t W_{xh} + (R_t \odot H_{t-1}) W_{hh} + b_h)$, "
           r"$H_t = Z_t \odot H_{t-1} + (1 - Z_t) \odot \tilde H_t$",
}


@guard
def inside(cell: Any, source: Any, index: Any, step: Any, unit: Any, reset: Any) -> tuple[str, Any]:
    """One step of one unit written out with its numbers; every gate over the sequence as heat maps."""
    from dlcore.plotting.sequence import gates_figure
    from dlcore.sequence.views import inside_settings

    v = inside_settings(cell, source, index, step, unit, reset)
    lines = "\n".join(f"    {line}" for line in v.worked)
    checks = "\n".join(f"| {md_escape(k)} | {d:.1e} | {'✅' if d < 1e-6 else '✗'} |" for k, d in v.torch_diffs.items())
    parts = [f"### {CELL_LABELS[v.kind]}: {EQUATIONS[v.kind]}", "One step, one unit, the numbers substituted "
             "(rows of the notes' matrices are columns of torch's `weight_ih` / `weight_hh`, gates stacked "
             + {"lstm": "i, f, g, o", "gru": "r, z, n", "rnn": "as one"}[v.kind] + "):", lines]
    if checks:
        parts.append("**Checked against torch on the same weights** (largest |hand − torch| over every step and "
                     "unit):\n\n| torch | max difference | ≤ 1e-6 |\n|---|---:|---|\n" + checks)
    if v.notes_gap is not None:
        parts.append(f"⚠ The notes' GRU applies the reset gate *before* the product, (R ⊙ H) W_hh; torch and cuDNN "
                     f"apply it *after*, R ⊙ (H W_hh + b_hn). On the same weights the two hidden states differ by up "
                     f"to **{v.notes_gap:.4f}** over this sequence: they are different functions, so torch cannot "
                     "check this form (choose *after* to see the check).")
    parts.append(f"Prediction of the next value from H_T: **{v.prediction:.4f}**.")
    return "\n\n".join(parts), gates_figure(v)


@guard
def gradients(source: Any, length: Any, norm: Any, cells: Any) -> tuple[str, Any]:
    """‖∂h_T/∂h_t‖ over t for each cell: hand-derived Jacobian products next to autograd."""
    from dlcore.plotting.sequence import jacobian_figure
    from dlcore.sequence.views import jacobian_view

    v = jacobian_view(source, length, norm, cells)
    T = len(v.x)
    rows = "\n".join(
        f"| {CELL_LABELS[c]} | {float(j.hand[0]):.3e} | {float(j.autograd[0]):.3e} | {j.max_abs_diff:.1e} | "
        f"{float(j.step_norms.median()):.3f} |" for c, j in v.results.items())
    lstm = v.results.get("lstm")
    cell_line = ("" if lstm is None else
                 f" The LSTM's cell line alone, ∂C_T/∂C_0 = Π diag(F_k), has norm {float(lstm.cell_path[0]):.1e}: "
                 "only gates multiply along it, no weight matrix (the seed's point in §dl_3); how long it carries "
                 "depends on how close the forget gates are to 1.")
    md = (f"### ‖∂h_T/∂h_t‖ with T = {T} ({md_escape(norm)} norm)\n\n"
          r"$\partial h_T/\partial h_t = \prod_{k=t+1}^{T} J_k$, one Jacobian $J_k = \partial h_k/\partial h_{k-1}$ "
          r"per step (RNN: $J_k = \mathrm{diag}(1 - h_k^2)\,W_{hh}$). A product of T − t factors shrinks (or grows) "
          "geometrically: that is the vanishing (exploding) gradient of §dl_9.\n\n"
          f"| cell | ‖∂h_T/∂h_0‖ by hand | by autograd | max entry difference (all t) | median ‖J_k‖ |\n"
          f"|---|---:|---:|---:|---:|\n{rows}\n\n"
          f"Weights: {'the zoo sine predictors (seed §dl_3 recipe)' if v.source == 'trained' else 'untrained'}; input: "
          f"the first {T} points of the seed's noisy sine.{cell_line}")
    return md, jacobian_figure(v.results)


def _clip_md(runs: list[Any], status: str) -> str:
    rows = "\n".join(
        f"| {md_escape(r.label)} | {max(r.grad_norm, default=float('nan')):.3g} | {r.clipped_steps} / {len(r.grad_norm)} | "
        f"{(r.val_loss[-1] if r.val_loss else float('nan')):.4f} | {md_escape(r.status)} |" for r in runs)
    return (f"{status}\n\n| run | largest ‖g‖ | steps clipped | test MSE | status |\n|---|---:|---:|---:|---|\n{rows}"
            "\n\nClipping rescales the whole gradient, g ← g · min(1, τ/‖g‖) (`clip_grad_norm_`, Pascanu et al. "
            "2013): the direction is kept, the step is bounded. Same start and same batches in both runs.")


@guard
def clipping(cell: Any, scale: Any, tau: Any, lr: Any, epochs: Any,
             request: gr.Request = None) -> Iterator[tuple[str, Any]]:  # type: ignore[assignment]
    """Train the same over-scaled RNN without and with clipping; stream after every epoch."""
    from dlcore.plotting.sequence import clipping_figure
    from dlcore.sequence.gradients import clipping_runs
    from dlcore.sequence.views import clip_settings

    cfg = clip_settings(cell, scale, tau, lr, epochs)
    with STOPS.running(request, "sequence_clip") as stop:
        t0, runs = time.perf_counter(), []
        for runs in clipping_runs(cfg, stop_event=stop):
            yield f"⏳ {md_escape(runs[-1].label)}: epoch {len(runs[-1].val_loss)}/{cfg.epochs}", gr.skip()
        stopped = any(r.status == "stopped" for r in runs)
        status = f"{'⏹ stopped' if stopped else '✅ done'} in {time.perf_counter() - t0:.1f} s (SGD, η = {cfg.lr:g})."
        yield _clip_md(runs, status), clipping_figure(runs)


stop_clipping = stop_button("sequence_clip", "⏹ Stopping after the current step…",
                             "Nothing is training right now: press **Train both**.")


def inside_tab() -> None:
    gr.Markdown("Run one test window of the §dl_3 data through a cell written from the notes' equations, keep "
                "every gate at every step, and compare with torch's fused layer and its cell on the same weights.")
    with gr.Row():
        cell = Radio([(CELL_LABELS[c], c) for c in CELLS], value="lstm", label=L["cell"])
        source = Radio(SOURCE_CHOICES, value="trained", label=L["source"])
        reset = Radio(RESET_CHOICES, value="after", label=L["reset"])
    with gr.Row():
        index = Number(1, precision=0, label=L["index"] + " (1 … 180)", minimum=1)
        step = Number(20, precision=0, label=L["step"] + " (1 … 20)", minimum=1)
        unit = Number(1, precision=0, label=L["unit"] + " (1 … 64)", minimum=1)
        btn = gr.Button("Show the step", variant="primary", elem_id=INSIDE_BUTTON)
    md = gr.Markdown(latex_delimiters=LATEX)
    fig = gr.Plot(label="gates over time", format="png", show_label=False)
    ins = [cell, source, index, step, unit, reset]
    on_first_open(inside, ins, [md, fig], **HEAVY)
    on([btn.click, cell.input, source.input, reset.input], inside, ins, [md, fig], api_name="sequence_inside", **HEAVY)
    gr.Examples([INSIDE_DEFAULT, ["gru", "trained", 1, 20, 1, "after"], ["gru", "trained", 1, 20, 1, "before"],
                 ["rnn", "untrained", 50, 10, 5, "after"]], ins, [md, fig], fn=inside, run_on_click=True,
                cache_examples=False, label="Examples", example_labels=[
                    "LSTM, last step", "GRU as torch computes it", "GRU as the notes write it", "untrained RNN"])


def gradients_tab() -> None:
    gr.Markdown("How much of an early hidden state still reaches the last one, for the three cells on the same "
                "sequence; then what clipping does to an RNN whose recurrent weights are scaled up until its "
                "gradient explodes.")
    with gr.Row():
        source = Radio(SOURCE_CHOICES, value="trained", label=L["source"])
        length = Number(50, precision=0, label=L["length"] + " (2 … 400)", minimum=2)
        norm = Radio(list(NORMS), value="spectral", label=L["norm"])
        cells = CheckboxGroup([(CELL_LABELS[c], c) for c in CELLS], value=list(CELLS), label=L["cells"])
        btn = gr.Button("Compute", variant="primary", elem_id=GRAD_BUTTON)
    md = gr.Markdown(latex_delimiters=LATEX)
    fig = gr.Plot(label="gradient norms over t", format="png", show_label=False)
    ins = [source, length, norm, cells]
    on_first_open(gradients, ins, [md, fig], **HEAVY)
    on(btn.click, gradients, ins, [md, fig], api_name="sequence_gradients", **HEAVY)
    gr.Markdown("#### Gradient clipping (梯度裁剪)")
    with gr.Row():
        ccell = Radio([(CELL_LABELS[c], c) for c in CELLS], value="rnn", label=L["cell"])
        scale = Number(2.0, label=L["scale"] + ": W_hh ← ρ·W_hh")
        tau = Number(1.0, label=L["tau"])
        lr = Number(0.05, label=L["sgd_lr"])
        epochs = Number(3, precision=0, label=L["epochs"], minimum=1)
        with gr.Column(min_width=160):
            cbtn = gr.Button("Train both", variant="primary", elem_id=CLIP_BUTTON)
            cstop = gr.Button("Stop", variant="stop", size="sm", elem_id="sequence-clip-stop")
    cmd = gr.Markdown("The same RNN without clipping, then with ‖g‖ ≤ τ (about 2 s)…")
    cfig = gr.Plot(label="loss and gradient norm", format="png", show_label=False)
    on_first_open(clipping, [ccell, scale, tau, lr, epochs], [cmd, cfig], **HEAVY)
    on(cbtn.click, clipping, [ccell, scale, tau, lr, epochs], [cmd, cfig], api_name="sequence_clip", **HEAVY)
    on(cstop.click, stop_clipping, cmd, cmd, api_name="sequence_clip_stop", **LIGHT)


ENDPOINTS = [
    Endpoint("sequence_inside", heavy=True, examples=[INSIDE_DEFAULT, ["gru", "trained", 1, 20, 1, "before"]],
             facts=["nn.LSTM output", "reset gate *before*"],
             bad=[(["cnn", *INSIDE_DEFAULT[1:]], "cell 'cnn' is not one of"),
                  ([*INSIDE_DEFAULT[:2], 181, *INSIDE_DEFAULT[3:]], "test sequence = 181 is above the maximum 180"),
                  ([*INSIDE_DEFAULT[:3], 0, *INSIDE_DEFAULT[4:]], "step t = 0 is below the minimum 1"),
                  ([*INSIDE_DEFAULT[:4], 65, "after"], "unit j = 65 is above the maximum 64"),
                  ([*INSIDE_DEFAULT[:5], "middle"], "GRU reset 'middle' is not one of"),
                  (["lstm", "/etc/passwd", 1, 20, 1, "after"], "weights '/etc/passwd' is not one of")]),
    Endpoint("sequence_gradients", heavy=True, examples=[GRAD_DEFAULT, ["untrained", 100, "frobenius", ["rnn"]]],
             facts=["T = 50", "T = 100"],
             bad=[(["trained", 1, "spectral", list(CELLS)], "sequence length T = 1 is below the minimum 2"),
                  (["trained", 10 ** 5, "spectral", list(CELLS)], "sequence length T = 100000 is above the maximum 400"),
                  (["trained", 50, "max", list(CELLS)], "norm 'max' is not one of"),
                  (["trained", 50, "spectral", []], "tick at least one cell")]),
    Endpoint("sequence_clip", heavy=True, stateful=True, examples=[[*CLIP_DEFAULT[:4], 1]], facts=["clipped at τ = 1"],
             bad=[(["rnn", 20, 1.0, 0.05, 3], "recurrent weight scale ρ = 20 is above the maximum 10"),
                  (["rnn", 2.0, 0, 0.05, 3], "clipping threshold τ = 0 is below the minimum 1e-06"),
                  (["rnn", 2.0, 1.0, 0.05, 100], "epochs = 100 is above the maximum 20")]),
    Endpoint("sequence_clip_stop", examples=STOP_EXAMPLES, facts=["Nothing is training", "The last run's summary."]),
]
