"""Positional encoding (the shift is a rotation, RoPE) and the CNN / RNN / self-attention comparison:
two panels of the Attention tab.

Thin glue over :func:`dlcore.attention.views.positional_view`, :func:`dlcore.attention.complexity.sweep_steps`
and :mod:`dlcore.plotting.attention`; the notes' table comes from the torch-free :mod:`dlcore.attention.names`.
"""

from __future__ import annotations

import time
from typing import Any, Iterator

import gradio as gr

from apps.common import (HEAVY, LATEX, LIGHT, STOPS, STOP_EXAMPLES, Endpoint, Number, Radio, guard, md_escape, on,
                        on_first_open, stop_button)
from apps.losses import steps_markdown
from dlcore.attention.names import COMPLEXITY_TABLE, LAYER_KINDS, PAIRINGS

PE_BUTTON, CX_BUTTON = "attention-pe-run", "attention-cx-run"
PE_DEFAULT = [60, 32, 5, 3, 10000, "interleaved"]
CX_DEFAULT = [64, 3]


@guard
def positional(n: Any, d: Any, p: Any, delta: Any, base: Any, pairing: Any) -> tuple[str, Any, Any, Any]:
    """The table, PE(p + δ) = M_δ PE(p) with the numbers, the residual over every position, and RoPE."""
    from dlcore.attention.views import positional_view
    from dlcore.plotting.attention import pe_figure, rope_figure, rotation_figure

    v = positional_view(n, d, p, delta, base, pairing)
    pr, r = v.proof, v.rope
    rows = pr.pe.shape[0] - pr.delta
    fit = ("" if pr.fitted is None else
           f" Fitting each 2×2 block by least squares from the table alone recovers it to {pr.fit_error:.1e}: a "
           "linear layer can learn the shift.")
    md = (f"### PE(p + δ) = M_δ · PE(p), for every p\n\nThe same block-diagonal M_δ (it depends on δ = {pr.delta}, "
          f"not on p) maps PE(i) to PE(i + δ) for all {rows} positions i of the table: largest "
          f"|PE(i + δ) − M_δ PE(i)| = **{pr.residual:.1e}** (float64 rounding).{fit}\n\n" + steps_markdown(v) +
          f"\n\n### RoPE (rotary position embedding) beside it\n\nInstead of *adding* PE, RoPE *rotates* pair j of a "
          f"query or key at position m by m·ω_j ({md_escape(v.pairing)} pairs). The same q and k put at every position "
          f"0 … {r.scores.shape[0] - 1}: the score q_m · k_n depends on n − m only — largest spread among pairs with the "
          f"same offset **{r.spread:.1e}** — e.g. (m, n) = (0, 2): {float(r.scores[0, 2]):.6f} and (3, 5): "
          f"{float(r.scores[3, 5]):.6f}. With the sinusoidal table added instead, (q + PE_m) · (k + PE_n), the "
          f"spread is {r.absolute_spread:.2f}: the score also depends on where the pair sits.")
    return md, pe_figure(pr.pe[:rows], [pr.position, pr.position + pr.delta]), rotation_figure(pr), rope_figure(r)


def _table_md() -> str:
    head = "| layer | work per layer | sequential ops | max path length |\n|---|---|---|---|\n"
    return ("#### The notes' table (§8.4.5, Vaswani et al. 2017 Table 1)\n\n" + head +
            "\n".join(f"| {r.layer} | {r.complexity} | {r.sequential} | {r.path} |" for r in COMPLEXITY_TABLE) +
            "\n\nn = sequence length; " + "; ".join(f"{r.layer}: {r.assumption}" for r in COMPLEXITY_TABLE) + ".")


def _sweep_md(sweep: Any, status: str) -> str:
    from dlcore.attention.views import complexity_rows

    rows = complexity_rows(sweep)
    table = ("Microseconds (µs) per forward pass (SA = self-attention; the fastest in bold) and the work ratio "
             "MACs SA / MACs RNN = n/d:\n\n| n | CNN | RNN | SA | SA / RNN work |\n|---:|---:|---:|---:|---:|\n" +
             "\n".join("| " + " | ".join(r) + " |" for r in rows)) if rows else ""
    paths = ""
    if sweep.paths:
        shown = list(enumerate(sweep.path_lengths))[-2:]  # the two longest sequences
        paths = ("\n\n**Measured maximum path length** " +
                 md_escape("(layers until ∂y_{n−1}/∂x_0 ≠ 0; RNN: recurrent steps): ") +
                 "; ".join(f"n = {n}: " + ", ".join(f"{k} {sweep.paths[k][i]}" for k in LAYER_KINDS) for i, n in shown))
    return (f"{status}\n\n{table}{paths}\n\nSelf-attention does less work than the RNN while n < d = "
            f"{sweep.d} (n²d < nd²) and needs one step where the RNN needs n; beyond n = d its n² grows fastest. "
            "Times: one forward pass, one thread, batch 1, the least disturbed of several runs on this shared CPU.")


@guard
def complexity(d: Any, k: Any, request: gr.Request = None) -> Iterator[tuple[str, Any]]:  # type: ignore[assignment]
    """Time CNN, RNN and self-attention as n grows (cached once measured), streaming progress."""
    from dlcore.attention.complexity import DEFAULT_LENGTHS, sweep_steps
    from dlcore.attention.views import complexity_settings
    from dlcore.plotting.attention import complexity_figure

    d_, k_ = complexity_settings(d, k)
    total = len(DEFAULT_LENGTHS) * len(LAYER_KINDS)
    with STOPS.running(request, "attention_complexity") as stop:
        last = 0.0
        for done, (kind, n, sweep) in enumerate(sweep_steps(DEFAULT_LENGTHS, d_, k_, stop), start=1):
            if sweep.stopped:
                yield _sweep_md(sweep, f"⏹ stopped at {kind}, n = {n} ({done - 1}/{total} timings kept)"), \
                    complexity_figure(sweep)
                return
            if kind in ("cached", "done"):  # the same words either way: one sweep, measured once per server
                at = time.strftime("%H:%M:%S", time.gmtime(sweep.measured_at))
                yield _sweep_md(sweep, f"✅ d = {d_}, k = {k_}: measured on this server at {at} UTC (kept: pressing "
                                       "again shows the same numbers)"), complexity_figure(sweep)
                return
            if time.perf_counter() - last > 0.5:
                last = time.perf_counter()
                yield f"⏳ timing {kind} at n = {n} ({done}/{total}) …", gr.skip()


stop_complexity = stop_button("attention_complexity", "⏹ Stopping after the current timing…",
                               "Nothing is being measured right now: press **Measure**.")


def positional_tab() -> None:
    gr.Markdown(r"$p_{i,2j} = \sin(i\,\omega_j),\ p_{i,2j+1} = \cos(i\,\omega_j),\ \omega_j = 1/10000^{2j/d}$ "
                r"(§8.4.5 位置编码). The notes claim $PE(i+\delta)$ is a fixed linear map of $PE(i)$: here it is "
                "checked on every row of the table.", latex_delimiters=LATEX)
    with gr.Row():
        nums = [Number(val, precision=0, label=lab) for val, lab in
                ((60, "positions n"), (32, "dimension d (even)"), (5, "position p"), (3, "offset δ"))]
        base = Number(10000, label="base (10000 in the paper)")
        pairing = Radio(list(PAIRINGS), value="interleaved", label="RoPE pairs: (2j, 2j+1) or (j, j+d/2)")
    btn = gr.Button("Show", variant="primary", elem_id=PE_BUTTON)
    with gr.Row():
        with gr.Column(scale=3):
            md = gr.Markdown(latex_delimiters=LATEX)
        with gr.Column(scale=2, min_width=320):
            pe_fig = gr.Plot(label="table", format="png", show_label=False)
            rope_fig = gr.Plot(label="RoPE", format="png", show_label=False)
    rot_fig = gr.Plot(label="pairs on the unit circle", format="png", show_label=False)
    ins, outs = [*nums, base, pairing], [md, pe_fig, rot_fig, rope_fig]
    on_first_open(positional, ins, outs, **HEAVY)
    on(btn.click, positional, ins, outs, api_name="attention_positional", **HEAVY)
    gr.Examples([PE_DEFAULT, [50, 128, 10, 1, 10000, "interleaved"], [40, 16, 0, 25, 10000, "half"],
                 [30, 8, 2, 3, 100, "interleaved"]], ins, outs, fn=positional, run_on_click=True, cache_examples=False,
                example_labels=["the notes' table, δ = 3", "d = 128 (the Transformer's per-head size)",
                                "a long shift δ = 25, Llama pairs", "base 100: faster rotations"], label="Examples")


def complexity_tab() -> None:
    gr.Markdown(_table_md() + "\n\nMeasure it: one layer of each on a sequence of n tokens of width d, n = 16 … "
                "1024 (a few seconds, then cached).")
    with gr.Row():
        d = Number(64, precision=0, label="width d", minimum=4, maximum=256)
        k = Number(3, precision=0, label="CNN kernel size k (odd)", minimum=3, maximum=15)
        btn = gr.Button("Measure", variant="primary", elem_id=CX_BUTTON)
        stop = gr.Button("Stop", variant="stop", elem_id="attention-cx-stop")
    md = gr.Markdown("Opening this panel measures the default (d = 64, k = 3)…")
    fig = gr.Plot(label="time, work and path length against n", format="png", show_label=False)
    on_first_open(complexity, [d, k], [md, fig], **HEAVY)
    on(btn.click, complexity, [d, k], [md, fig], api_name="attention_complexity", **HEAVY)
    on(stop.click, stop_complexity, md, md, api_name="attention_complexity_stop", **LIGHT)


ENDPOINTS = [
    Endpoint("attention_positional", heavy=True, examples=[PE_DEFAULT, [40, 16, 0, 25, 10000, "half"]],
             facts=["0.1411", "-0.1324"],
             bad=[([60, 31, 5, 3, 10000, "interleaved"], "dimension d = 31 must be even"),
                  ([60, 32, 60, 3, 10000, "interleaved"], "position p = 60 is above the maximum 59"),
                  ([60, 32, 5, 3, 1, "interleaved"], "base = 1 is below the minimum 2"),
                  ([60, 32, 5, 3, 10000, "spiral"], "RoPE pairing 'spiral' is not one of"),
                  ([9999, 32, 5, 3, 10000, "interleaved"], "positions n = 9999 is above the maximum 512")]),
    Endpoint("attention_complexity", heavy=True, stateful=True, examples=[CX_DEFAULT], facts=["d = 64, k = 3"],
             bad=[([64, 4], "CNN kernel size k = 4 must be odd"), ([1000, 3], "width d = 1000 is above the maximum 256")]),
    Endpoint("attention_complexity_stop", examples=STOP_EXAMPLES, facts=["Nothing is being measured", "The last run's summary."]),
]
