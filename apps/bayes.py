"""Bayes tab: Bayesian neural networks (seed 003 §dl_6) — variational inference and MC Dropout.

Thin glue over :mod:`dlcore.bayes` and :mod:`dlcore.plotting.bayes`. Panels: the variational net with
one weight written out (this module), MC Dropout and the side-by-side comparison
(:mod:`apps.bayes_more`).
"""

from __future__ import annotations

from typing import Any, Iterator

import gradio as gr

from apps import bayes_more
from apps.bayes_common import honesty_md, preview, status_prefix, stream
from apps.common import (HEAVY, LATEX, LIGHT, STOP_EXAMPLES, Checkbox, Dropdown, Endpoint, ErrorDemo, Number, SeedRef,
                        guard, on, on_first_open, stop_button)
from dlcore.bayes.names import LAYERS, MAX_EPOCHS

TITLE = "Bayesian neural networks"
RUN_BUTTON = "bayes-vi-run"
_B = "003_1dbce9a3816ea850.txt"
SEEDS = [SeedRef(_B, "dl_6_1", "原理 (Bayes' rule, ELBO, KL to N(0, 1), reparameterisation, MC Dropout)"),
         SeedRef(_B, "dl_6_2", "示例 (variational BayesianLinear net and MC-Dropout net on y = sin x + noise)")]
#: epochs, lr, KL weight, M, noise σ_y, seed, add σ_y, layer, row, column: the notes' run
VI_DEFAULT = [2000, 0.01, 1e-3, 100, 0.2, 42, False, "fc1", 0, 0]
INTRO = r"""
A **Bayesian neural network** (贝叶斯神经网络) treats its weights as random variables: instead of one point
estimate $\hat w = \arg\max_w p(D\mid w)$ it wants the posterior $p(w\mid D) = p(D\mid w)\,p(w)/p(D)$ and predicts
with $p(y^*\mid x^*, D) = \int p(y^*\mid x^*, w)\,p(w\mid D)\,dw$ (seed 003 §dl_6). The integral is intractable;
the notes approximate it two ways, both trained live below on their data $y = \sin x + 0.2\,\varepsilon$
(100 points on $[-3, 3]$, seed 42) and reproducing the notes' scripts bit for bit at their settings:
**variational inference** (变分推断) maximises the ELBO
$\mathbb{E}_{q(w\mid\theta)}[\log p(D\mid w)] - \mathrm{KL}(q(w\mid\theta)\,\|\,p(w))$ with
$q = \mathcal N(\mu, \sigma^2)$ per weight, $p = \mathcal N(0, 1)$ and $w = \mu + \sigma\varepsilon$
(Blundell et al. 2015, [Weight Uncertainty in Neural Networks](https://arxiv.org/abs/1505.05424));
**MC Dropout** keeps dropout on at prediction and averages $M$ passes,
$p(y\mid x, D) \approx \frac1M\sum_{i=1}^M f(x; \hat w_i)$ ([Gal & Ghahramani 2016](https://arxiv.org/abs/1506.02142)).
"""


def _weight_md(run: Any, layer: str, row: int, col: int) -> str:
    from dlcore.bayes.uncertainty import weight_view
    from dlcore.bayes.views import weight_latex

    v = weight_view(run, layer, row, col, eps_seed=run.config.seed)
    what = f"bias b[{row}]" if col == -1 else f"weight w[{row}, {col}]"
    ok = "✔ equal" if abs(v.kl - v.kl_torch) <= 1e-6 * max(1.0, abs(v.kl)) else "✘ DIFFERS"
    return "\n".join([f"#### One weight, written out: {layer} {what} after training",
                      f"q(w) = N(μ, σ²) with μ = {v.mu:.4f}, log σ² = {v.logvar:.4f} (the prior is N(0, 1)); "
                      f"ε = {v.eps:.4f} drawn from N(0, 1) (generator seeded {run.config.seed}).",
                      *weight_latex(v),
                      f"torch.distributions.kl_divergence(Normal({v.mu:.4f}, {v.sigma:.4f}), Normal(0, 1)) = "
                      f"{v.kl_torch:.6f} — {ok}. Σ KL over all {sum(p.numel() for p in run.model.parameters()) // 2} "
                      f"weights and biases = {float(run.kl[-1]):.2f} (the last epoch's)."])


@guard
def train_vi(epochs: Any, lr: Any, kl_weight: Any, samples: Any, noise: Any, seed: Any, with_noise: Any,
             layer: Any, row: Any, col: Any, request: gr.Request = None) -> Iterator[tuple]:  # type: ignore[assignment]
    """Train the notes' variational 1-20-20-1 net, streaming the loss and its terms; then the band, the
    loss curves and one weight written out."""
    from dlcore.bayes.training import train_variational
    from dlcore.bayes.uncertainty import summarize
    from dlcore.bayes.views import vi_settings, weight_settings
    from dlcore.plotting.bayes import loss_figure, predictive_figure

    cfg = vi_settings(epochs, lr, kl_weight, samples, noise, seed)
    layer_, row_, col_, noisy = weight_settings(layer, row, col, with_noise, cfg.hidden)
    run = None
    for item in stream(lambda stop: train_variational(cfg, stop), request, "bayes_vi", "variational",
                       cfg.epochs, 4):
        if item[0] == "run":
            run = item[1]
        else:
            yield item
    if run.epochs_run == 0:
        yield ("⏹ stopped before the first epoch.", None, None, "")
        return
    s = summarize(run)
    head = (f"### {status_prefix(run)}Variational BNN: final loss {float(run.losses[-1]):.4f} after "
            f"{run.epochs_run} epochs ({run.seconds:.1f} s) = likelihood {float(run.likelihood[-1]):.4f} + "
            f"λ·KL {cfg.kl_weight:g} × {float(run.kl[-1]):.2f}")
    body = (f"RMSE of the predictive mean vs sin x on [-3, 3]: **{s.rmse:.4f}** (M = {cfg.samples} samples). "
            f"Settings: Adam lr {cfg.lr:g}, λ = {cfg.kl_weight:g}, σ_y = {cfg.noise:g}, seed {cfg.seed}"
            + (" — the notes' run, bit for bit." if cfg == type(cfg)() and run.status == "done" else "."))
    yield (f"{head}\n\n{body}\n\n{honesty_md(s, noisy)}", predictive_figure(run, s, noisy), loss_figure(run),
           _weight_md(run, layer_, row_, col_))


stop_vi = stop_button("bayes_vi", "⏹ Stopping after the current epoch…",
                       "Nothing is training right now: press **Train the variational BNN**.")


def _vi_tab() -> None:
    gr.Markdown(r"The notes' `BayesianLinear`: every weight has a mean $\mu$ and a log-variance $\log\sigma^2$; each "
                r"forward pass draws $w = \mu + \sigma\varepsilon$. Loss $= \sum_i (f(x_i; w) - y_i)^2 + \lambda\,"
                r"\sum_j \tfrac12(\sigma_j^2 + \mu_j^2 - 1 - \log\sigma_j^2)$, the negative ELBO with the KL weighted by "
                r"$\lambda$ (the notes: $10^{-3}$). 2000 epochs take about 3–9 s on a 2-core CPU, depending on its load; the loss streams as it trains.",
                latex_delimiters=LATEX)
    with gr.Row():
        epochs = Number(2000, precision=0, label="epochs", minimum=1, maximum=MAX_EPOCHS)
        lr = Number(0.01, label="learning rate (Adam)")
        kl_weight = Number(1e-3, label="KL weight λ")
        samples = Number(100, precision=0, label="predictive samples M")
        with gr.Column(min_width=200):
            run_btn = gr.Button("Train the variational BNN", variant="primary", elem_id=RUN_BUTTON)
            stop_btn = gr.Button("Stop", variant="stop", size="sm", elem_id="bayes-vi-stop")
    with gr.Accordion("Data, band and the weight to write out", open=False):
        with gr.Row():
            noise = Number(0.2, label="noise σ_y of the data")
            seed = Number(42, precision=0, label="seed", minimum=0)
            with_noise = Checkbox(False, label="add σ_y to the band (total std)")
            layer = Dropdown(list(LAYERS), value="fc1", label="layer")
            row = Number(0, precision=0, label="row (output unit)")
            col = Number(0, precision=0, label="column (input; −1 = bias)")
    md = gr.Markdown("Press **Train the variational BNN** (the notes' settings are filled in).", latex_delimiters=LATEX)
    with gr.Row():
        band = gr.Plot(label="predictive band", format="png", show_label=False, min_width=320)
        curves = gr.Plot(label="loss terms", format="png", show_label=False, min_width=320)
    weight = gr.Markdown(latex_delimiters=LATEX)
    ins = [epochs, lr, kl_weight, samples, noise, seed, with_noise, layer, row, col]
    outs = [md, band, curves, weight]
    on_first_open(preview, [noise, seed], [band], **LIGHT)
    on(run_btn.click, train_vi, ins, outs, api_name="bayes_vi_train", **HEAVY)
    on(stop_btn.click, stop_vi, md, md, api_name="bayes_vi_stop", **LIGHT)
    gr.Examples([VI_DEFAULT, [2000, 0.01, 1e-3, 100, 0.2, 42, True, "fc2", 3, 7], [500, 0.01, 1.0, 100, 0.2, 42, True,
                                                                                 "fc1", 0, -1]],
                ins, outs, fn=train_vi, run_on_click=True, cache_examples=False, label="Examples", example_labels=[
                    "the notes' run (λ = 1e-3, 2000 epochs)", "the same, with σ_y added to the band; fc2 w[3, 7]",
                    "λ = 1 (the full KL): wider band, 500 epochs"])


def build() -> None:
    gr.Markdown(INTRO, latex_delimiters=LATEX)
    with gr.Tab("Variational inference (§dl_6)"):
        _vi_tab()
    with gr.Tab("MC Dropout (§dl_6)"):
        bayes_more.dropout_tab()
    with gr.Tab("Compare the two"):
        bayes_more.compare_tab()


def warmup() -> None:
    """Import the family and build one optimizer (the first torch.optim use imports torch._dynamo)."""
    import torch

    import dlcore.bayes.training  # noqa: F401
    import dlcore.plotting.bayes  # noqa: F401

    torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=0.01)


#: The browser test types a negative KL weight, presses Train and reads the message in place.
ERROR_DEMO = ErrorDemo(fill={"KL weight": "-1"}, click=RUN_BUTTON, expect="KL weight λ = -1 is below the minimum 0")
_V = VI_DEFAULT
ENDPOINTS = [
    Endpoint("bayes_vi_train", heavy=True, stateful=True,
             examples=[_V, [300, 0.01, 1e-3, 100, 0.2, 42, True, "fc2", 3, 7]],
             facts=["final loss 5.3628", "= 1.0685"],
             bad=[([0, *_V[1:]], "epochs = 0 is below the minimum 1"),
                  ([_V[0], 5, *_V[2:]], "learning rate = 5 is above the maximum 1"),
                  ([*_V[:2], -1, *_V[3:]], "KL weight λ = -1 is below the minimum 0"),
                  ([*_V[:3], 1, *_V[4:]], "predictive samples M = 1 is below the minimum 2"),
                  ([10, *_V[1:7], "fc1", 20, 0], "row = 20 is outside fc1's 20 output units")]),
    Endpoint("bayes_vi_stop", examples=STOP_EXAMPLES, facts=["Nothing is training", "The last run's summary."]),
    *bayes_more.ENDPOINTS,
]

if __name__ == "__main__":
    import launch

    launch.main(["--tabs", "bayes"])
