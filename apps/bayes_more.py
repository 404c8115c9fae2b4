"""Bayes tab, part 2: the notes' MC-Dropout net (seed 003 §dl_6_2) and both methods side by side."""

from __future__ import annotations

from typing import Any, Iterator

import gradio as gr

from apps.bayes_common import honesty_md, preview, status_prefix, stream
from apps.common import (HEAVY, LATEX, LIGHT, STOP_EXAMPLES, Checkbox, Endpoint, Number, guard, on, on_first_open,
                        stop_button)
from dlcore.bayes.names import MAX_EPOCHS

MC_BUTTON = "bayes-mc-run"
CMP_BUTTON = "bayes-compare-run"
#: epochs, lr, dropout p, M, noise σ_y, seed, add σ_y: the notes' MC-Dropout run
MC_DEFAULT = [2000, 0.01, 0.2, 100, 0.2, 42, False]
#: epochs, M, noise σ_y, seed, add σ_y (both methods at the notes' lr, λ and p)
CMP_DEFAULT = [2000, 100, 0.2, 42, True]
CMP_HEADERS = ["method", "RMSE vs sin x", "2·std in [-3, 3]", "2·std outside", "out / in", "coverage (notes' band)",
               "coverage (+σ_y)", "train time"]


@guard
def train_mc(epochs: Any, lr: Any, p: Any, samples: Any, noise: Any, seed: Any, with_noise: Any,
             request: gr.Request = None) -> Iterator[tuple]:  # type: ignore[assignment]
    """Train the notes' 1-64-64-1 dropout net (mean MSE), then M passes with dropout on."""
    from dlcore.bayes.training import train_mc_dropout
    from dlcore.bayes.uncertainty import summarize
    from dlcore.bayes.views import dropout_settings
    from dlcore.plotting.bayes import loss_figure, predictive_figure
    from dlcore.textinput import parse_bool

    cfg = dropout_settings(epochs, lr, p, samples, noise, seed)
    noisy = parse_bool(with_noise, "add the observation noise σ_y")
    run = None
    for item in stream(lambda stop: train_mc_dropout(cfg, stop), request, "bayes_mc", "MC Dropout", cfg.epochs, 3):
        if item[0] == "run":
            run = item[1]
        else:
            yield item
    if run.epochs_run == 0:
        yield ("⏹ stopped before the first epoch.", None, None)
        return
    s = summarize(run)
    md = (f"### {status_prefix(run)}MC Dropout: final MSE {float(run.losses[-1]):.4f} after {run.epochs_run} epochs "
          f"({run.seconds:.1f} s), p = {cfg.p:g}\n\nRMSE of the predictive mean vs sin x on [-3, 3]: **{s.rmse:.4f}** "
          f"(M = {cfg.samples} passes with dropout on, the notes' `model.train()`)"
          + (" — the notes' run, bit for bit." if cfg == type(cfg)() and run.status == "done" else ".") + f"\n\n{honesty_md(s, noisy)}")
    yield md, predictive_figure(run, s, noisy), loss_figure(run)


stop_mc = stop_button("bayes_mc", "⏹ Stopping after the current epoch…",
                       "Nothing is training right now: press **Train the MC-Dropout net**.")


@guard
def compare(epochs: Any, samples: Any, noise: Any, seed: Any, with_noise: Any,
            request: gr.Request = None) -> Iterator[tuple]:  # type: ignore[assignment]
    """Train both nets on the same data (the notes' lr, λ and p), then one table and both bands."""
    from dlcore.bayes.training import train_mc_dropout, train_variational
    from dlcore.bayes.uncertainty import summarize
    from dlcore.bayes.views import compare_rows, dropout_settings, vi_settings
    from dlcore.plotting.bayes import compare_figure
    from dlcore.textinput import parse_bool

    vi = vi_settings(epochs, 0.01, 1e-3, samples, noise, seed)
    mc = dropout_settings(epochs, 0.01, 0.2, samples, noise, seed)
    noisy = parse_bool(with_noise, "add the observation noise σ_y")
    runs = []
    for label, trainer in (("variational", lambda stop: train_variational(vi, stop)),
                           ("MC Dropout", lambda stop: train_mc_dropout(mc, stop))):
        for item in stream(trainer, request, "bayes_compare", label, vi.epochs, 3):
            if item[0] == "run":
                runs.append((label, item[1]))
            else:
                yield item
        if runs[-1][1].status == "stopped":
            yield (f"⏹ stopped during {label}: nothing to compare.", None, None)
            return
    items = [(label, run, summarize(run)) for label, run in runs]
    rows = compare_rows([(f"{label} ({'1-20-20-1' if run.method == 'variational' else '1-64-64-1, p = 0.2'})", s)
                         for label, run, s in items])
    (_, _, a), (_, _, b) = items
    md = (f"### Same data (σ_y = {vi.noise:g}, seed {vi.seed}), {vi.epochs} epochs each, M = {vi.samples}\n\n"
          f"Mean error vs sin x: variational **{a.rmse:.4f}**, MC Dropout **{b.rmse:.4f}**. Band width outside / "
          f"inside the data: variational {a.width_out / a.width_in:.2f}×, MC Dropout {b.width_out / b.width_in:.2f}×. "
          f"Both notes' bands are epistemic only: coverage {100 * a.coverage_epistemic:.0f} % and "
          f"{100 * b.coverage_epistemic:.0f} % of the training points; with σ_y added "
          f"{100 * a.coverage_total:.0f} % and {100 * b.coverage_total:.0f} %.")
    yield md, gr.update(value=rows, headers=CMP_HEADERS), compare_figure([(l, r, s) for l, r, s in items], noisy)


stop_compare = stop_button("bayes_compare", "⏹ Stopping after the current epoch…",
                            "Nothing is training right now: press **Train both and compare**.")


def dropout_tab() -> None:
    gr.Markdown(r"The notes' `MCDropoutNN`: 1 → 64 → 64 → 1, ReLU, dropout $p$ after each hidden layer, trained on "
                r"the mean squared error. At prediction dropout stays **on** (`model.train()`): each of the $M$ passes "
                r"drops other units, a different thinned net $\hat w_i$, and the spread of the $M$ answers is the band.",
                latex_delimiters=LATEX)
    with gr.Row():
        epochs = Number(2000, precision=0, label="epochs", minimum=1, maximum=MAX_EPOCHS)
        lr = Number(0.01, label="learning rate (Adam)")
        p = Number(0.2, label="dropout p")
        samples = Number(100, precision=0, label="predictive samples M")
        with gr.Column(min_width=200):
            run_btn = gr.Button("Train the MC-Dropout net", variant="primary", elem_id=MC_BUTTON)
            stop_btn = gr.Button("Stop", variant="stop", size="sm", elem_id="bayes-mc-stop")
    with gr.Row():
        noise = Number(0.2, label="noise σ_y of the data")
        seed = Number(42, precision=0, label="seed", minimum=0)
        with_noise = Checkbox(False, label="add σ_y to the band (total std)")
    md = gr.Markdown("Press **Train the MC-Dropout net** (the notes' settings are filled in).", latex_delimiters=LATEX)
    with gr.Row():
        band = gr.Plot(label="predictive band", format="png", show_label=False, min_width=320)
        curves = gr.Plot(label="loss", format="png", show_label=False, min_width=320)
    ins, outs = [epochs, lr, p, samples, noise, seed, with_noise], [md, band, curves]
    on_first_open(preview, [noise, seed], [band], **LIGHT)
    on(run_btn.click, train_mc, ins, outs, api_name="bayes_mc_train", **HEAVY)
    on(stop_btn.click, stop_mc, md, md, api_name="bayes_mc_stop", **LIGHT)
    gr.Examples([MC_DEFAULT, [2000, 0.01, 0.5, 100, 0.2, 42, True], [2000, 0.01, 0.05, 100, 0.2, 42, True]], ins, outs,
                fn=train_mc, run_on_click=True, cache_examples=False, label="Examples",
                example_labels=["the notes' run (p = 0.2)", "p = 0.5, σ_y added", "p = 0.05, σ_y added"])


def compare_tab() -> None:
    gr.Markdown("Both nets on the same data at the notes' settings (variational: Adam 0.01, λ = 1e-3; MC Dropout: "
                "Adam 0.01, p = 0.2). Widths are the mean 2·std of the epistemic band; *outside* = |x| > 3, where "
                "there is no training data. Trains both: about 5–10 s.")
    with gr.Row():
        epochs = Number(2000, precision=0, label="epochs (each)", minimum=1, maximum=MAX_EPOCHS)
        samples = Number(100, precision=0, label="predictive samples M")
        noise = Number(0.2, label="noise σ_y of the data")
        seed = Number(42, precision=0, label="seed", minimum=0)
        with_noise = Checkbox(True, label="add σ_y to the band (total std)")
        with gr.Column(min_width=200):
            run_btn = gr.Button("Train both and compare", variant="primary", elem_id=CMP_BUTTON)
            stop_btn = gr.Button("Stop", variant="stop", size="sm", elem_id="bayes-compare-stop")
    md = gr.Markdown("Press **Train both and compare**.", latex_delimiters=LATEX)
    table = gr.Dataframe(headers=CMP_HEADERS, label="Side by side", wrap=True, interactive=False)
    fig = gr.Plot(label="both bands", format="png", show_label=False)
    ins = [epochs, samples, noise, seed, with_noise]
    on(run_btn.click, compare, ins, [md, table, fig], api_name="bayes_compare", **HEAVY)
    on(stop_btn.click, stop_compare, md, md, api_name="bayes_compare_stop", **LIGHT)


_M, _C = MC_DEFAULT, CMP_DEFAULT
ENDPOINTS = [
    Endpoint("bayes_mc_train", heavy=True, stateful=True, examples=[_M, [300, 0.01, 0.5, 100, 0.2, 42, True]],
             facts=["final MSE 0.0407", "final MSE 0.0714"],
             bad=[([0, *_M[1:]], "epochs = 0 is below the minimum 1"),
                  ([*_M[:2], 0.95, *_M[3:]], "dropout p = 0.95 is above the maximum 0.9"),
                  ([*_M[:4], -0.1, *_M[5:]], "noise σ_y = -0.1 is below the minimum 0"),
                  ([*_M[:5], -3, _M[6]], "seed = -3 is below the minimum 0")]),
    Endpoint("bayes_mc_stop", examples=STOP_EXAMPLES, facts=["Nothing is training", "The last run's summary."]),
    Endpoint("bayes_compare", heavy=True, stateful=True, examples=[[300, 100, 0.2, 42, True]], facts=["MC Dropout **0.0832**"],
             bad=[([0, *_C[1:]], "epochs = 0 is below the minimum 1"),
                  ([_C[0], 10 ** 6, *_C[2:]], "predictive samples M = 1000000 is above the maximum 2000"),
                  ([*_C[:2], 5, *_C[3:]], "noise σ_y = 5 is above the maximum 2"),
                  ([*_C[:4], "yes"], "add the observation noise σ_y")]),
    Endpoint("bayes_compare_stop", examples=STOP_EXAMPLES, facts=["Nothing is training", "The last run's summary."]),
]
