"""Attention tab: from Nadaraya–Watson kernel regression to the Transformer's scaled dot product.

Thin glue over :mod:`dlcore.attention` (pooling, calculator, positional, complexity, views) and
:mod:`dlcore.plotting.attention`. Panels: kernel regression and the learned w (this module), the
attention calculator (:mod:`apps.attention_calc`), positional encoding and the CNN / RNN /
self-attention comparison (:mod:`apps.attention_more`).
"""

from __future__ import annotations

from typing import Any, Iterator

import gradio as gr

from apps import attention_calc, attention_more
from apps.common import (HEAVY, LATEX, LIGHT, STOPS, STOP_EXAMPLES, Dropdown, Endpoint, ErrorDemo, Number, SeedRef,
                        Slider, guard, md_escape, on, on_first_open, stop_button)
from apps.streaming import paced
from dlcore.attention.names import KERNELS, MAX_EPOCHS

TITLE = "Attention, from kernel regression to the Transformer"
RUN_BUTTON = "attention-nw-run"
_A, _B = "000_5114ce2b17ca1821.txt", "003_1dbce9a3816ea850.txt"
SEEDS = [SeedRef(_A, "8.4.1", "非参数注意力汇聚 Nadaraya-Watson核回归 (kernel regression)"),
         SeedRef(_A, "8.4.2", "带参数注意力汇聚 (parametric attention pooling)"),
         SeedRef(_A, "8.4.3", "注意力评分函数 (scoring functions, multi-head attention)"),
         SeedRef(_A, "8.4.4", "Bahdanau注意力 (additive attention)"),
         SeedRef(_A, "8.4.5", "自注意力和位置编码 (self-attention, positional encoding, CNN/RNN comparison)"),
         SeedRef(_A, "8.4.6", "Transformer"), SeedRef(_A, "8.4.7", "对比 (comparison)"),
         SeedRef(_B, "dl_10_1_2", "注意力机制 (attention)"), SeedRef(_B, "dl_10_1_3", "位置编码 (positional encoding)")]
NW_DEFAULT = [1.0, "gaussian", 50, 0.5, 0]
TRAIN_DEFAULT = [*NW_DEFAULT, 5, 0.5]
INTRO = r"""
**Attention** (注意力机制) is a weighted average: a query $q$ scores every key $k_i$, a softmax turns the
scores into weights $\alpha_i$ that sum to 1, and the output is $\sum_i \alpha_i v_i$ (seed 000 §8.4). It
starts as 1950s kernel regression (Nadaraya–Watson) and ends as the Transformer's
$\mathrm{softmax}(QK^\top/\sqrt{d_k})\,V$. Every number below is computed from the notes' equations and
checked against torch on the same numbers. For a real model's attention maps, open the **BERT** tab.
"""


def _pool_md(v: Any) -> str:
    s, q = v.settings, v.query
    terms = " + ".join(f"{a:.3f}·{y:.2f}" for _, _, y, a in q.top)
    rows = "\n".join(f"| {md_escape(k)} | {e:.4f} |" for k, e in v.errors.items())
    lines = [f"### f({q.x:.1f}) = Σ α_i y_i = {terms} + … = **{q.prediction:.4f}** (truth {q.truth:.4f})",
             "Largest weights at this query: " + ", ".join(f"α = {a:.3f} for x_{i} = {x:.2f}" for i, x, _, a in q.top)
             + f"; the other {len(v.data.x_train) - len(q.top)} keys share {q.rest_weight:.3f}.",
             f"{s.kernel} kernel, width σ = {s.width:g}: α(x, x_i) = softmax(−(x − x_i)²/2σ²)"
             if s.kernel == "gaussian" else f"{s.kernel} kernel, width σ = {s.width:g} (compact: far keys weigh 0)",
             "| prediction | mean squared error vs the truth (50 queries) |\n|---|---:|\n" + rows]
    if v.nw.uncovered:
        lines.append(f"⚠ {v.nw.uncovered} queries have no training point within σ: their prediction is undefined "
                     "(0/0), a gap in the curve. Widen the kernel.")
    if v.run is None:
        lines.append("Press **Train w** to learn the width (§8.4.2): f(q) = Σ softmax(−((q − k_i) w)²/2) v_i.")
    elif not v.run.frames:
        lines.append(f"💥 {md_escape(v.run.message)}")
    else:
        r = v.run
        lines.append(f"**Learned** by SGD (η as set) through the lab's Trainer: w₀ = {r.w0:.4f} → **w = {r.w:.4f}** "
                     f"after {len(r.frames)} epochs; loss {r.frames[0].loss:.3f} → {r.frames[-1].loss:.3f}. "
                     f"{md_escape(r.message)} A large w is a narrow kernel: the fit follows the noisy points "
                     "(each training point is predicted from the other ones, else w → ∞ would just copy it).")
    return "\n\n".join(lines)


def _settings(width: Any, kernel: Any, n_train: Any, noise: Any, seed: Any) -> Any:
    from dlcore.attention.views import pooling_settings

    return pooling_settings(width, kernel, n_train, noise, seed)


@guard
def pool(width: Any, kernel: Any, n_train: Any, noise: Any, seed: Any) -> tuple[str, Any, Any, Any]:
    """Nadaraya–Watson at one kernel width: the fit, the attention-weight matrix, the errors (the
    training curves of an earlier run are hidden: they belong to other settings)."""
    from dlcore.attention.views import pooling_view
    from dlcore.plotting.attention import pooling_weights_figure, regression_figure

    v = pooling_view(_settings(width, kernel, n_train, noise, seed))
    return (_pool_md(v), regression_figure(v.data, {v.labels["nw"]: v.nw.prediction}),
            pooling_weights_figure(v.data, {f"α, σ = {v.settings.width:g}": v.nw.weights}), gr.update(visible=False))


@guard
def train(width: Any, kernel: Any, n_train: Any, noise: Any, seed: Any, epochs: Any, lr: Any,
          request: gr.Request = None) -> Iterator[tuple]:  # type: ignore[assignment]
    """Learn w (SGD through the Trainer's objective hook), streaming the epoch, then all figures."""
    from dlcore.attention.pooling import ParametricRun, nw_data, train_parametric
    from dlcore.attention.views import pooling_view, training_settings
    from dlcore.plotting.attention import pooling_weights_figure, regression_figure, training_figure

    s = _settings(width, kernel, n_train, noise, seed)
    cfg = training_settings(epochs, lr, s.seed)
    with STOPS.running(request, "attention_train") as stop:
        run = None
        for item, due in paced(train_parametric(nw_data(s.n_train, s.noise, s.seed), cfg, stop_event=stop)):
            if isinstance(item, ParametricRun):
                run = item
            elif due:
                yield (f"⏳ epoch {item.epoch}/{cfg.epochs} · loss {item.loss:.4f} · w = {item.w:.4f}", *[gr.skip()] * 3)
        v = pooling_view(s, run)
        status = {"stopped": "⏹ **stopped** — ", "diverged": "💥 **diverged** — "}.get(run.status, "")  # type: ignore
        yield (status + _pool_md(v),
               regression_figure(v.data, {v.labels["nw"]: v.nw.prediction, v.labels["learned"]: run.prediction}),
               pooling_weights_figure(v.data, {f"α, σ = {s.width:g}": v.nw.weights, f"α, learned w = {run.w:.2f}":
                                               run.weights}),
               gr.update(value=training_figure(run.frames, run.w0), visible=True))


stop_train = stop_button("attention_train", "⏹ Stopping after the current epoch…",
                          "Nothing is training right now: press **Train w**.")


def _pooling_tab() -> None:
    gr.Markdown(r"$f(x) = \sum_i \mathrm{softmax}\!\left(-\frac{(x - x_i)^2}{2\sigma^2}\right) y_i$: the query x "
                r"attends to the training inputs $x_i$ (keys) and averages their targets $y_i$ (values) "
                r"(§8.4.1 非参数注意力汇聚). The notes give the formula; the data are those of *Dive into Deep "
                r"Learning* §10.2, which the notes follow: $y = 2\sin x + x^{0.8} + \epsilon$, 50 points.",
                latex_delimiters=LATEX)
    with gr.Row():
        width = Slider(0.05, 3.0, value=1.0, step=0.05, label="kernel width σ (the notes: σ = 1)")
        kernel = Dropdown(list(KERNELS), value="gaussian", label="kernel K")
        with gr.Column(min_width=200):
            run_btn = gr.Button("Pool with this width", variant="primary", elem_id=RUN_BUTTON)
            train_btn = gr.Button("Train w (§8.4.2)", elem_id="attention-train")
            stop_btn = gr.Button("Stop", variant="stop", size="sm", elem_id="attention-train-stop")
    with gr.Accordion("Data and training (d2l's: 50 points, noise 0.5, SGD η = 0.5, 5 epochs)", open=False):
        with gr.Row():
            n_train = Number(50, precision=0, label="training points", minimum=2)
            noise = Number(0.5, label="noise σ_ε")
            seed = Number(0, precision=0, label="data seed", minimum=0)
            epochs = Number(5, precision=0, label="epochs", minimum=1, maximum=MAX_EPOCHS)
            lr = Number(0.5, label="learning rate η")
    md = gr.Markdown(latex_delimiters=LATEX)
    with gr.Row():
        reg = gr.Plot(label="fit", format="png", show_label=False, min_width=320)
        wts = gr.Plot(label="attention weights", format="png", show_label=False, min_width=320)
    curves = gr.Plot(label="training", format="png", show_label=False, visible=False)  # shown by Train w
    data_ins = [width, kernel, n_train, noise, seed]
    on_first_open(pool, data_ins, [md, reg, wts, curves], **HEAVY)
    on([run_btn.click, width.release], pool, data_ins, [md, reg, wts, curves], api_name="attention_pool", **HEAVY)
    on(train_btn.click, train, [*data_ins, epochs, lr], [md, reg, wts, curves], api_name="attention_train", **HEAVY)
    on(stop_btn.click, stop_train, md, md, api_name="attention_train_stop", **LIGHT)
    gr.Examples([NW_DEFAULT, [0.3, "gaussian", 50, 0.5, 0], [0.05, "gaussian", 50, 0.5, 0], [3.0, "gaussian", 50, 0.5, 0],
                 [0.3, "boxcar", 50, 0.5, 0],
                 [0.5, "epanechnikov", 50, 0.5, 0]], data_ins, [md, reg, wts, curves], fn=pool, run_on_click=True,
                cache_examples=False, label="Examples", example_labels=[
                    "the notes' Gaussian, σ = 1", "σ = 0.3: 8× lower error than σ = 1",
                    "very narrow σ = 0.05: follows the noise", "wide σ = 3: near the mean",
                    "boxcar σ = 0.3: a moving average", "Epanechnikov σ = 0.5"])


def build() -> None:
    gr.Markdown(INTRO, latex_delimiters=LATEX)
    with gr.Tab("Kernel regression → attention (§8.4.1–2)"):
        _pooling_tab()
    with gr.Tab("Attention calculator (§8.4.3–4)"):
        attention_calc.build()
    with gr.Tab("Positional encoding, RoPE (§8.4.5)"):
        attention_more.positional_tab()
    with gr.Tab("CNN vs RNN vs self-attention"):
        attention_more.complexity_tab()


def warmup() -> None:
    """Import the family, build one optimizer and draw once (no data, no training): the first press
    then pays no import."""
    import torch

    import dlcore.attention.calculator  # noqa: F401
    import dlcore.attention.views  # noqa: F401
    import dlcore.plotting.attention  # noqa: F401
    from dlcore.plotting import figure_to_png, new_figure

    torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.5)  # the first optimizer imports torch._dynamo
    fig, ax = new_figure()
    ax.imshow([[0.0, 1.0], [1.0, 0.0]])
    figure_to_png(fig)


#: The browser test types a ragged Q into the calculator, presses Calculate and reads the message in place.
ERROR_DEMO = ErrorDemo(fill={"Q (queries": "[[1, 2], [3]]"}, click=attention_calc.RUN_BUTTON, expect="Q is ragged",
                       subtab="Attention calculator (§8.4.3–4)")
ENDPOINTS = [
    Endpoint("attention_pool", heavy=True, examples=[NW_DEFAULT, [0.3, "boxcar", 50, 0.5, 0]],
             facts=["σ = 1", "boxcar kernel"],
             bad=[([0, "gaussian", 50, 0.5, 0], "kernel width σ = 0 is below the minimum 0.01"),
                  ([1.0, "cosine", 50, 0.5, 0], "kernel 'cosine' is not one of"),
                  ([1.0, "gaussian", 1, 0.5, 0], "training points = 1 is below the minimum 2"),
                  ([1.0, "gaussian", 10 ** 6, 0.5, 0], "training points = 1000000 is above the maximum 500"),
                  ([1.0, "gaussian", 50, -1, 0], "noise σ_ε = -1 is below the minimum 0")]),
    Endpoint("attention_train", heavy=True, stateful=True, examples=[TRAIN_DEFAULT], facts=["w = 16.20"],
             bad=[([*NW_DEFAULT, 0, 0.5], "epochs = 0 is below the minimum 1"),
                  ([*NW_DEFAULT, 5, 100], "learning rate η = 100 is above the maximum 10"),
                  ([*NW_DEFAULT, 10 ** 9, 0.5], "epochs = 1000000000 is above the maximum 500")]),
    Endpoint("attention_train_stop", examples=STOP_EXAMPLES, facts=["Nothing is training", "The last run's summary."]),
    *attention_calc.ENDPOINTS,
    *attention_more.ENDPOINTS,
]

if __name__ == "__main__":
    import launch

    launch.main(["--tabs", "attention"])
