"""Layer calculator tab: shapes, parameters, MACs and the worked arithmetic, live.

Thin glue over :mod:`dlcore.calculators` (layers, worked arithmetic, stack, separable).
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from apps.common import (LIGHT, Checkbox, Dropdown, Endpoint, ErrorDemo, Number, SeedRef, guard, live, md_escape,
                         on, on_first_open)
from dlcore.calculators.layers import LAYER_NAMES, analyze, check_with_torch, layer_signature
from dlcore.calculators.separable import compare_separable
from dlcore.calculators.spec import fmt_shape
from dlcore.calculators.stack import PRESETS, analyze_stack
from dlcore.calculators.worked import SEED_EXAMPLES, WORKED_KINDS, worked_from_text
from dlcore.textinput import parse_bool, parse_choice, parse_int, parse_text

TITLE = "Layer calculator"
RUN_BUTTON = "layers-run"
SEED = "000_5114ce2b17ca1821.txt"
SEEDS: list[SeedRef] = [
    SeedRef(SEED, "1.1", "前向传播的shape"),
    SeedRef(SEED, "1.2", "前向传播的计算"),
    SeedRef(SEED, "8.2.1", "基本的CNN"),
    SeedRef(SEED, "8.2.2", "深度可分离卷积"),
    SeedRef("003_1dbce9a3816ea850.txt", "dl_3_2", "示例"),
]

#: A starting call and input shape for every layer (the dropdown fills both boxes).
TEMPLATES: dict[str, tuple[str, str]] = {
    "ReLU": ("ReLU()", "(2, 3)"), "Sigmoid": ("Sigmoid()", "(2, 3)"), "Tanh": ("Tanh()", "(2, 3)"),
    "GELU": ("GELU()", "(2, 3)"), "Softmax": ("Softmax(dim=-1)", "(2, 10)"),
    "Flatten": ("Flatten()", "(2, 2, 3)"), "Linear": ("Linear(3, 4)", "(3, 2, 3)"),
    "Conv1d": ("Conv1d(1, 1, kernel_size=3)", "(1, 1, 5)"),
    "Conv2d": ("Conv2d(1, 6, kernel_size=3, stride=2, padding=1)", "(1, 1, 28, 28)"),
    "Conv3d": ("Conv3d(3, 8, kernel_size=3, padding='same')", "(2, 3, 16, 32, 32)"),
    "ConvTranspose1d": ("ConvTranspose1d(4, 2, kernel_size=4, stride=2, padding=1)", "(1, 4, 8)"),
    "ConvTranspose2d": ("ConvTranspose2d(16, 8, kernel_size=3, stride=2, padding=1, output_padding=1)",
                        "(1, 16, 7, 7)"),
    "MaxPool1d": ("MaxPool1d(3, stride=2)", "(1, 4, 10)"),
    "MaxPool2d": ("MaxPool2d(2, ceil_mode=True)", "(1, 16, 5, 5)"),
    "AvgPool1d": ("AvgPool1d(3, stride=2, padding=1)", "(1, 4, 10)"),
    "AvgPool2d": ("AvgPool2d(3, stride=2, padding=1)", "(1, 16, 14, 14)"),
    "AdaptiveAvgPool1d": ("AdaptiveAvgPool1d(4)", "(1, 8, 30)"),
    "AdaptiveAvgPool2d": ("AdaptiveAvgPool2d((1, 1))", "(8, 512, 7, 7)"),
    "Dropout": ("Dropout(p=0.5)", "(32, 128)"),
    "Embedding": ("Embedding(10000, 128, padding_idx=0)", "(32, 50)"),
    "BatchNorm1d": ("BatchNorm1d(64)", "(32, 64)"), "BatchNorm2d": ("BatchNorm2d(16)", "(8, 16, 28, 28)"),
    "BatchNorm3d": ("BatchNorm3d(4)", "(2, 4, 8, 8, 8)"),
    "LayerNorm": ("LayerNorm(512)", "(10, 32, 512)"), "GroupNorm": ("GroupNorm(4, 16)", "(8, 16, 28, 28)"),
    "InstanceNorm1d": ("InstanceNorm1d(8)", "(4, 8, 100)"), "InstanceNorm2d": ("InstanceNorm2d(3)", "(1, 3, 64, 64)"),
    "RNN": ("RNN(10, 20, num_layers=2)", "(5, 3, 10)"),
    "LSTM": ("LSTM(10, 20, num_layers=2, bidirectional=True)", "(5, 3, 10)"),
    "GRU": ("GRU(10, 20, batch_first=True)", "(3, 5, 10)"),
    "MultiheadAttention": ("MultiheadAttention(512, 8)", "(10, 32, 512)"),
    "TransformerEncoderLayer": ("TransformerEncoderLayer(512, 8)", "(10, 32, 512)"),
    "Transformer": ("Transformer(d_model=512, nhead=8)", "(10, 32, 512), (20, 32, 512)"),
}
assert set(TEMPLATES) == set(LAYER_NAMES)

DEFAULT_LAYER, DEFAULT_SHAPE = TEMPLATES["Conv2d"]


def report_md(layer: str, shape: str) -> str:
    r = analyze(parse_text(layer, "layer"), parse_text(shape, "input shape"))
    ins = " and ".join(fmt_shape(s) for s in r.input_shapes)
    lines = [f"### `{r.call}`: {ins} → **{fmt_shape(r.output_shape)}**"]
    for k, v in r.extra.items():
        lines.append(f"- also returns `{k}`: **{fmt_shape(v)}**")
    lines.append("\n**Output shape, step by step**\n")
    lines += [f"- {md_escape(s)}" for s in r.shape_steps]
    lines.append(f"\n**Parameters: {r.params:,}**  \n{md_escape(r.params_formula)}")
    if r.buffers:
        lines.append(f"  \n(+ {r.buffers:,} buffer values, not trained)")
    lines.append(f"\n**MACs (multiply-accumulates, one forward pass): {r.macs:,}**  \n{md_escape(r.macs_formula)}")
    for n in r.corrections:
        lines.append(f"\n> ⚠ **The notes are wrong here:** {md_escape(n)}")
    for n in r.notes:
        lines.append(f"\n> {md_escape(n)}")
    return "\n".join(lines)


@guard
def shape_report(layer: str, shape: str) -> str:
    """Output shape (substituted formulas), params and MACs of one layer."""
    return report_md(layer, shape)


@guard
def torch_check(layer: str, shape: str) -> str:
    """The real torch layer, built on the meta device, gives the same shape(s) and parameter count."""
    try:
        ok, msg = check_with_torch(parse_text(layer, "layer"), parse_text(shape, "input shape"))
    except ValueError:
        return ""  # the report already shows the message
    return f"✔ {msg}" if ok else f"✘ **mismatch** — {msg} (please report this)"


@guard
def pick_template(name: str) -> tuple[str, str, str, str]:
    call, shape = TEMPLATES[parse_choice(name, "layer type", LAYER_NAMES)]
    return call, shape, f"`{layer_signature(name)}`", report_md(call, shape)


def _worked_md(r: Any, element: int) -> str:
    shown = 64
    lines = [f"### {r.kind}: {r.formula}", ""] + [f"- {s}" for s in r.summary] + [""]
    for i, e in enumerate(r.elements[:shown]):
        mark = "**▶** " if i == element else ""
        lines.append(f"{mark}`#{i}` y{list(e.index)} = {e.expression}")
        lines.append("")
    if len(r.elements) > shown:
        lines.append(f"… {len(r.elements) - shown} more elements (computed, not written out)")
    return "\n".join(lines)


@guard
def worked(kind: str, x: str, w: str, b: str, options: str, element: float) -> tuple[str, Any]:
    """Each output element as its sum of products, and the sliding window of one element."""
    kind = parse_choice(kind, "layer", list(WORKED_KINDS))
    r = worked_from_text(kind, parse_text(x, "input x"), parse_text(w, "weight", allow_empty=True),
                         parse_text(b, "bias", allow_empty=True), parse_text(options, "options", allow_empty=True))
    el = parse_int(0 if element is None else element, "output element #", lo=0)
    if el >= len(r.elements):
        raise ValueError(f"output element #{el} does not exist; choose 0 … {len(r.elements) - 1}")
    fig = None
    if r.spatial:
        from dlcore.plotting.layers import sliding_window_figure
        from dlcore.textinput import parse_tensor

        fig = sliding_window_figure(r, parse_tensor(x, "input x").tolist(), el)
    return _worked_md(r, el), fig


@guard
def stack(spec: str, shape: str) -> str:
    """Shape after every layer, params, MACs, and the first layer that breaks."""
    r = analyze_stack(parse_text(spec, "layer list"), parse_text(shape, "input shape"))
    lines = ["| # | layer | input | output | params | MACs |", "|---|---|---|---|---:|---:|"]
    esc = md_escape
    for row in r.rows:
        lines.append(f"| {row.index} | `{row.call}` | {fmt_shape(row.input_shape)} | **{fmt_shape(row.output_shape)}**"
                     f" | {row.params:,} | {row.macs:,} |")
    if r.error_index is not None:
        lines.append(f"| {r.error_index} | `{r.error_layer}` | {fmt_shape(r.output_shape)} | ❌ | | |")
        lines.append(f"\n### ❌ Layer {r.error_index} breaks: `{r.error_layer}`\n\n{r.error}")
        if r.torch_error:
            lines.append(f"\nWhat torch itself would raise: `{r.torch_error}`")
        lines.append(f"\nLayers 1–{r.error_index - 1} fit: {r.total_params:,} parameters, {r.total_macs:,} MACs so far.")
    else:
        lines.append(f"| | **total** | {fmt_shape(r.input_shape)} | **{fmt_shape(r.output_shape)}** | "
                     f"**{r.total_params:,}** | **{r.total_macs:,}** |")
        lines.append("\n<details><summary>formulas per layer</summary>\n\n" + "\n".join(
            f"- **{row.index}** `{row.call}`: {esc(row.detail)}" for row in r.rows) + "\n</details>")
    return "\n".join(lines)


@guard
def separable(c_in: float, c_out: float, k_h: float, k_w: float, h: float, w: float, stride: float,
              padding: float, bias: bool) -> str:
    """Depthwise-separable vs standard convolution: params, MACs, ratio vs 1/C_out + 1/(k_h·k_w)."""
    vals = [c_in, c_out, k_h, k_w, h, w, stride, padding]
    names = ["C_in", "C_out", "k_h", "k_w", "H", "W", "stride", "padding"]
    ints = [parse_int(v, n, lo=0 if n == "padding" else 1, hi=100_000) for n, v in zip(names, vals)]
    c = compare_separable(*ints, bias=parse_bool(bias, "count biases"))
    head = (f"| | standard | separable (depthwise + pointwise) |\n|---|---:|---:|\n"
            f"| parameters | {c.standard_params:,} | **{c.separable_params:,}** ({c.depthwise_params:,} + "
            f"{c.pointwise_params:,}) |\n| MACs | {c.standard_macs:,} | **{c.separable_macs:,}** |\n"
            f"| output | {fmt_shape(c.output_shape)} | {fmt_shape(c.output_shape)} |\n")
    return head + "\n" + "\n".join(f"- {s}" for s in c.lines)


_KIND_DEFAULTS: dict[str, tuple[str, str, str, str]] = {
    "MaxPool1d": ("[[[1.0, 3.0, 2.0, 5.0, 4.0, 0.0]]]", "", "", "kernel_size=2"),
    "AvgPool1d": ("[[[1.0, 3.0, 2.0, 5.0, 4.0, 0.0]]]", "", "", "kernel_size=2"),
}


@guard
def pick_worked(kind: str) -> tuple[str, str, str, str, int]:
    """Fill the worked tab with the notes' example for this layer (or a small one)."""
    kind = parse_choice(kind, "layer", list(WORKED_KINDS))
    for e in SEED_EXAMPLES:
        if e.kind == kind:
            return e.x, e.w, e.b, e.options, 0
    if kind in _KIND_DEFAULTS:
        return (*_KIND_DEFAULTS[kind], 0)
    return SEED_EXAMPLES[6].x, "", "", "", 0  # activations: the §1.2.1 input


def _single_tab() -> None:
    with gr.Row():
        pick = Dropdown(LAYER_NAMES, value="Conv2d", label="layer type (fills in an example)", scale=1)
        sig = gr.Markdown(f"`{layer_signature('Conv2d')}`")
    with gr.Row():
        layer = gr.Textbox(DEFAULT_LAYER, label="layer, written as in PyTorch", scale=3)
        shape = gr.Textbox(DEFAULT_SHAPE, label="input shape (attention: (query), (key), (value); Transformer: (src), (tgt))",
                           scale=2)
    btn = gr.Button("Calculate", variant="primary", elem_id=RUN_BUTTON)
    check = gr.Markdown()
    out = gr.Markdown(report_md(DEFAULT_LAYER, DEFAULT_SHAPE))  # symbolic: no torch needed at build
    on_first_open(torch_check, [layer, shape], check, **LIGHT)  # builds the real layer: imports torch
    on(btn.click, shape_report, [layer, shape], out, api_name="layers_shape", **LIGHT).then(
        torch_check, [layer, shape], check, api_name="layers_torch_check", **LIGHT)
    for i, comp in enumerate((layer, shape)):
        comp.change(live(shape_report), [layer, shape], out, api_name=f"layers_shape_live_{i}",
                    api_visibility="undocumented", **LIGHT).then(
            torch_check, [layer, shape], check, api_name=f"layers_torch_check_live_{i}",
            api_visibility="undocumented", **LIGHT)
    on(pick.change, pick_template, pick, [layer, shape, sig, out], api_name="layers_template", message=out, **LIGHT)
    gr.Examples([["LSTM(10, 20, num_layers=2)", "(5, 3, 10)"],
                 ["LSTM(1, 64, batch_first=True)", "(32, 20, 1)"],
                 ["Conv2d(32, 32, 3, padding=1, groups=32)", "(1, 32, 56, 56)"],
                 ["Conv2d(3, 8, kernel_size=5)", "(1, 3, 4, 4)"]],
                [layer, shape], out, fn=shape_report, run_on_click=True, cache_examples=False,
                example_labels=["RNN h_n: the notes' §1.1.3 shape is wrong", "the sine-example LSTM",
                                "depthwise conv (groups = C_in)", "bad: kernel larger than the input"],
                label="Examples")


def _worked_tab() -> None:
    first = SEED_EXAMPLES[0]
    with gr.Row():
        kind = Dropdown(list(WORKED_KINDS), value=first.kind, label="layer")
        options = gr.Textbox(first.options, label="options, e.g. stride=2, padding=1 (pooling: kernel_size=2)")
        element = Number(0, precision=0, label="output element # for the picture", minimum=0)
    with gr.Row():
        x = gr.Textbox(first.x, label="input x", lines=3)
        w = gr.Textbox(first.w, label="weight W (Linear/Conv) or γ (norms, optional)", lines=3)
        b = gr.Textbox(first.b, label="bias b (or β), optional", lines=1)
    btn = gr.Button("Work it out", variant="primary", elem_id="layers-worked-run")
    with gr.Row():
        md = gr.Markdown()
        fig = gr.Plot(label="sliding window: the cells this output element reads", show_label=False)
    ins = [kind, x, w, b, options, element]
    on_first_open(worked, ins, [md, fig], **LIGHT)
    on(btn.click, worked, ins, [md, fig], api_name="layers_worked", **LIGHT)
    for i, comp in enumerate([x, w, b, options, element]):
        comp.change(live(worked, 2), ins, [md, fig], api_name=f"layers_worked_live_{i}",
                    api_visibility="undocumented", **LIGHT)
    on(kind.change, pick_worked, kind, [x, w, b, options, element], api_name="layers_worked_pick", message=md,
       **LIGHT).then(
        live(worked, 2), ins, [md, fig], api_name="layers_worked_pick_then", api_visibility="undocumented", **LIGHT)
    gr.Examples([[e.kind, e.x, e.w, e.b, e.options, 0] for e in SEED_EXAMPLES], ins, [md, fig], fn=worked,
                run_on_click=True, cache_examples=False, example_labels=[e.label for e in SEED_EXAMPLES],
                label="The notes' worked examples (§1.2), and pooling / norms where the notes stop", examples_per_page=20)


def build() -> None:
    gr.Markdown("Type a layer as in PyTorch and an input shape: the output shape is derived with your numbers in "
                "the formula, with parameters and multiply-accumulates (MACs). Every number agrees with torch "
                "(checked in the tests). MACs count matrix products and convolutions (FLOPs ≈ 2·MACs); RNNs "
                "count every cell at every time step.")
    with gr.Tab("One layer"):
        _single_tab()
    with gr.Tab("Worked arithmetic (§1.2)"):
        _worked_tab()
    with gr.Tab("Stack of layers"):
        names = list(PRESETS)
        spec = gr.Textbox(PRESETS[names[0]][0], label="one layer per line (# comments allowed)", lines=12)
        shp = gr.Textbox(PRESETS[names[0]][1], label="input shape")
        sbtn = gr.Button("Analyse the stack", variant="primary", elem_id="layers-stack-run")
        smd = gr.Markdown(stack(PRESETS[names[0]][0], PRESETS[names[0]][1]))
        on(sbtn.click, stack, [spec, shp], smd, api_name="layers_stack", **LIGHT)
        for i, comp in enumerate((spec, shp)):
            comp.change(live(stack), [spec, shp], smd, api_name=f"layers_stack_live_{i}",
                        api_visibility="undocumented", **LIGHT)
        gr.Examples([[PRESETS[n][0], PRESETS[n][1]] for n in names], [spec, shp], smd, fn=stack, run_on_click=True,
                    cache_examples=False, example_labels=names, label="Presets")
    with gr.Tab("Separable vs standard conv (§8.2.2)"):
        with gr.Row():
            nums = [Number(v, precision=0, label=lab, minimum=0 if lab == "padding" else 1) for v, lab in
                    [(2, "C_in"), (4, "C_out"), (3, "k_h"), (3, "k_w"), (5, "H"), (5, "W"), (1, "stride"), (0, "padding")]]
            bias = Checkbox(False, label="count biases")
        pbtn = gr.Button("Compare", variant="primary", elem_id="layers-separable-run")
        pmd = gr.Markdown(separable(2, 4, 3, 3, 5, 5, 1, 0, False))
        on(pbtn.click, separable, [*nums, bias], pmd, api_name="layers_separable", **LIGHT)
        for i, comp in enumerate([*nums, bias]):
            comp.change(live(separable), [*nums, bias], pmd, api_name=f"layers_separable_live_{i}",
                        api_visibility="undocumented", **LIGHT)
        gr.Markdown("The notes' example: C_in = 2, C_out = 4, 3×3 gives **72 vs 26** parameters; "
                    "26/72 = 1/4 + 1/9 ≈ 0.361.")


_S0 = SEED_EXAMPLES[0]
#: The browser test types a kernel larger than the input, presses Calculate and reads the message.
ERROR_DEMO = ErrorDemo(fill={"layer, written as in PyTorch": "Conv2d(3, 8, kernel_size=5)",
                             "input shape": "(1, 3, 4, 4)"}, click=RUN_BUTTON, expect="larger than the padded input")
ENDPOINTS = [
    Endpoint("layers_shape", examples=[[DEFAULT_LAYER, DEFAULT_SHAPE], ["LSTM(1, 64, batch_first=True)", "(32, 20, 1)"],
                                       ["Transformer()", "(10, 32, 512), (20, 32, 512)"]],
             facts=["(1, 6, 14, 14)", "(32, 20, 64)", "(20, 32, 512)"],
             bad=[(["Conv2d(3, 8, kernel_size=5)", "(1, 3, 4, 4)"], "larger than the padded input"),
                  (["Conv2d(3, 8, 3, groups=2)", "(1, 3, 8, 8)"], "not divisible by groups"),
                  (["Linear(3, 4)", "(2, -5)"], "must be at least 1"),
                  (["Linear(3, 4)", "(2, 99999999999)"], "above the limit"),
                  (["Linear(open('/etc/passwd'), 2)", "(1, 3)"], "not a literal"),
                  (["Conv9d(1, 1, 3)", "(1, 1, 5)"], "unknown layer")]),
    Endpoint("layers_worked", examples=[[e.kind, e.x, e.w, e.b, e.options, 0] for e in SEED_EXAMPLES[:6]],
             facts=[f"{e.expected[0]:g}" for e in SEED_EXAMPLES[:6]],
             bad=[(["Conv2d", "[[[[1, 2], [3, 4]]]]", "[[[[1, 2, 3], [4, 5, 6], [7, 8, 9]]]]", "", "", 0],
                   "larger than the padded input"),
                  (["Linear", "[[1, 2, 3]]", "[[1, 2]]", "", "", 0], "in_features = 2"),
                  (["Linear", "[[1, 2], [3]]", "[[1, 2]]", "", "", 0], "ragged"),
                  ([_S0.kind, _S0.x, _S0.w, _S0.b, "", 5], "does not exist")]),
    Endpoint("layers_stack", examples=[[t, s] for t, s in PRESETS.values()],
             facts=["61,706", "17,217", "Layer 8 breaks"],
             bad=[(["ReLU()", "(1, -1)"], "must be at least 1"),
                  (["", "(1, 1, 28, 28)"], "empty"),
                  (["ReLU()\n" * 101, "(1, 2)"], "the limit is 100")]),
    Endpoint("layers_torch_check", examples=[[DEFAULT_LAYER, DEFAULT_SHAPE], ["GRU(10, 20, batch_first=True)", "(3, 5, 10)"]],
             facts=["agrees", "agrees"]),
    Endpoint("layers_separable", examples=[[2, 4, 3, 3, 5, 5, 1, 0, False]], facts=["72"],
             bad=[([0, 4, 3, 3, 5, 5, 1, 0, False], "C_in")]),
]

if __name__ == "__main__":
    import launch

    launch.main(["--tabs", "layers"])
