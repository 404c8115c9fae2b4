"""The attention calculator panel of the Attention tab: Q, K, V typed (or random), every step live.

Thin glue over :func:`dlcore.attention.calculator.attention_report` (steps as LaTeX, torch checks)
and :func:`dlcore.plotting.attention.calculator_figure`; the dropdowns read the torch-free
:mod:`dlcore.attention.names`.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from apps.common import (HEAVY, LATEX, LIGHT, Dropdown, Endpoint, Number, Radio, guard, live, md_escape, on,
                         on_first_open)
from apps.losses import steps_markdown
from dlcore.attention.names import CALC_EXAMPLES, MASK_LABELS, MASKS, MAX_TOKENS, PROJECTIONS, SCORING_LABELS

RUN_BUTTON = "attention-calc-run"
E0 = CALC_EXAMPLES[0]
#: Inputs in API order: Q, K, V, scoring, mask, valid keys, heads, projections, hidden, seed, query row.
DEFAULTS = [E0.q, E0.k, E0.v, E0.scoring, E0.mask, 2, E0.heads, E0.projection, 4, 0, E0.row]


def _example(e: Any) -> list[Any]:
    return [e.q, e.k, e.v, e.scoring, e.mask, e.valid_keys or 2, e.heads, e.projection, 4, 0, e.row]


def _report(q: Any, k: Any, v: Any, scoring: Any, mask: Any, valid_keys: Any, heads: Any, projection: Any,
            hidden: Any, seed: Any, row: Any) -> Any:
    from dlcore.attention.calculator import attention_report, calc_config

    return attention_report(q, k, v, calc_config(scoring, mask, valid_keys, heads, projection, hidden, seed, row))


@guard
def calculate(*args: Any) -> tuple[str, str]:
    """Every step of the attention for the typed Q, K, V, and the check against torch on the same numbers."""
    from dlcore.textinput import format_tensor

    r = _report(*args)
    c = r.config
    n, m = r.q.shape[0], r.k.shape[0]
    kind = SCORING_LABELS[c.scoring] if c.heads == 1 else f"{c.heads} heads ({c.projection} projections)"
    head = (f"### Q {tuple(r.q.shape)}, K {tuple(r.k.shape)}, V {tuple(r.v.shape)} → O {tuple(r.output.shape)}\n\n"
            f"{md_escape(kind)} · {md_escape(MASK_LABELS[c.mask])}" +
            (f" (valid keys {c.valid_keys} of {m})" if "padding" in c.mask else "") +
            f" · query row i = {c.row} written out\n\n**O** = `{format_tensor(r.output, 4)}`")
    checks = "\n".join(
        f"- {'✔' if a.matches else '✘ **DIFFERS**'} {md_escape(a.what)}: `{a.reference}` — largest difference "
        f"{a.max_diff:.1e} (tolerance {a.tol:g}, float64)" for a in r.checks)
    if n * m > 1 and c.heads == 1:
        checks += "\n- each row of A sums to 1; masked pairs have weight exactly 0"
    return head + "\n\n" + steps_markdown(r), "**Checked against torch on the same numbers**\n\n" + checks


@guard
def figure(*args: Any) -> Any:
    """Scores and weights as annotated heat maps (per head for the multi-head split)."""
    from dlcore.plotting.attention import calculator_figure

    return calculator_figure(_report(*args))


def figure_quiet(*args: Any) -> Any:
    """:func:`figure` after a live edit: no figure (and no second message) while the input is invalid."""
    try:
        return figure(*args)
    except gr.Error:
        return None


@guard
def randomize(n: Any, m: Any, d: Any, d_v: Any, seed: Any) -> tuple[str, str, str]:
    """Seeded standard-normal Q (n×d), K (m×d), V (m×d_v), rounded to 2 decimals, into the boxes."""
    from dlcore.attention.calculator import random_qkv

    return random_qkv(n, m, d, d_v, seed)


def build() -> None:
    gr.Markdown(r"Type **Q** (one row per query), **K** (one row per key) and **V** (one row per key) as nested "
                r"lists. Every step is written out for one query row with your numbers: scores $QK^\top$, scaling "
                r"by $\sqrt{d_k}$, the mask, the softmax, weights × V — and checked against torch on the same "
                r"numbers. Additive (Bahdanau) scoring allows $d_q \neq d_k$; heads h > 1 split the columns "
                r"(§8.4.3 多头注意力).", latex_delimiters=LATEX)
    with gr.Row():
        q = gr.Textbox(E0.q, label="Q (queries, n × d_k)", lines=2, scale=2)
        k = gr.Textbox(E0.k, label="K (keys, m × d_k)", lines=2, scale=2)
        v = gr.Textbox(E0.v, label="V (values, m × d_v)", lines=2, scale=2)
    with gr.Row():
        scoring = Dropdown([(lab, s) for s, lab in SCORING_LABELS.items()], value=E0.scoring, label="scoring a(q, k)",
                           scale=2)
        mask = Dropdown([(MASK_LABELS[x], x) for x in MASKS], value=E0.mask, label="mask")
        valid = Number(2, precision=0, label="valid keys (padding mask)", minimum=1, maximum=MAX_TOKENS)
        heads = Number(1, precision=0, label="heads h", minimum=1)
        row = Number(0, precision=0, label="query row i written out", minimum=0)
    btn = gr.Button("Calculate", variant="primary", elem_id=RUN_BUTTON)
    with gr.Accordion("Weights: multi-head projections, additive scoring; random Q, K, V", open=False):
        with gr.Row():
            proj = Radio(list(PROJECTIONS), value="identity", label="multi-head W^Q, W^K, W^V, W^O (identity = the pure split)")
            hidden = Number(4, precision=0, label="additive hidden size", minimum=1)
            seed = Number(0, precision=0, label="weight seed", minimum=0)
        with gr.Row():
            rn, rm, rd, rdv, rseed = (Number(val, precision=0, label=lab, minimum=1 if lab != "random seed" else 0)
                                      for val, lab in ((3, "queries n"), (4, "keys m"), (4, "d_k"), (2, "d_v"),
                                                       (0, "random seed")))
            rbtn = gr.Button("Random Q, K, V", elem_id="attention-random")
    with gr.Row():
        with gr.Column(scale=3):
            md = gr.Markdown(latex_delimiters=LATEX)
        with gr.Column(scale=2, min_width=320):
            check = gr.Markdown()
            fig = gr.Plot(label="scores and weights", format="png", show_label=False)
    ins = [q, k, v, scoring, mask, valid, heads, proj, hidden, seed, row]
    # The default shows at once (a few ms); its figure follows on its own, so a learner who types at
    # once is not overwritten by a slower first-open result arriving after their own.
    on_first_open(calculate, ins, [md, check], **LIGHT)
    on_first_open(figure_quiet, ins, fig, **HEAVY)
    on(btn.click, calculate, ins, [md, check], api_name="attention_calc", **LIGHT).then(
        figure_quiet, ins, fig, api_name="attention_calc_figure", **HEAVY)
    for i, comp in enumerate(ins):
        comp.change(live(calculate, 2), ins, [md, check], api_name=f"attention_calc_live_{i}",
                    api_visibility="undocumented", **LIGHT).then(
            figure_quiet, ins, fig, api_name=f"attention_calc_figure_live_{i}", api_visibility="undocumented", **HEAVY)
    on(rbtn.click, randomize, [rn, rm, rd, rdv, rseed], [q, k, v], api_name="attention_random", message=md, **LIGHT)
    gr.Examples([_example(e) for e in CALC_EXAMPLES], ins, [md, check], fn=calculate, run_on_click=True,
                cache_examples=False, example_labels=[e.label for e in CALC_EXAMPLES], label="Examples")


ENDPOINTS = [
    Endpoint("attention_calc", examples=[_example(e) for e in (*CALC_EXAMPLES[:6], CALC_EXAMPLES[7])],
             facts=["0.4011", "O (4, 6)", "0.6698", "Python floats", "0.4223", "average_attn_weights=False",
                    "O (1, 6)"],
             bad=[(["[[1, 2], [3]]", *DEFAULTS[1:]], "Q is ragged"),
                  ([E0.q, "[[1, 0, 0], [0, 1, 0], [1, 1, 0]]", *DEFAULTS[2:]], "needs d_q = d_k"),
                  ([E0.q, E0.k, "[[1, 2]]", *DEFAULTS[3:]], "K has 3 rows but V has 1"),
                  ([*DEFAULTS[:4], "padding", 0, *DEFAULTS[6:]], "valid keys 0 must be between 1"),
                  ([*DEFAULTS[:6], 3, *DEFAULTS[7:]], "heads h = 3 must divide d_q = 2"),
                  ([*DEFAULTS[:10], 5], "query row i = 5 does not exist"),
                  (["__import__('os')", *DEFAULTS[1:]], "could not be read"),
                  ([str([[1.0] * 40]), *DEFAULTS[1:]], "Q has 40 columns; the limit is 32")]),
    Endpoint("attention_random", examples=[[2, 3, 4, 2, 0]], facts=["-2.18"],
             bad=[([17, 3, 4, 2, 0], "queries n = 17 is above the maximum 16"), ([2, 3, 0, 2, 0], "d_k = 0")]),
]
