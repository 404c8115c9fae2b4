"""Sequence tab: RNN, LSTM and GRU opened up, from the seeds' sine predictors to a char model and seq2seq.

Thin glue over :mod:`dlcore.sequence` (views, predictors) and :mod:`dlcore.plotting.sequence`.
Panels: the seeds' sine predictors (this module), inside one step and vanishing gradients
(:mod:`apps.sequence_inside`), the char-level model and the digit seq2seq (:mod:`apps.sequence_text`).
"""

from __future__ import annotations

import math
import time
from typing import Any, Iterator

import gradio as gr

from apps import sequence_inside, sequence_text
from apps.common import (HEAVY, LATEX, LIGHT, STOPS, STOP_EXAMPLES, Checkbox, CheckboxGroup, Endpoint, ErrorDemo,
                        Number, Radio, SeedRef, guard, md_escape, on, on_first_open, stop_button)
from apps.streaming import paced
from dlcore.sequence.names import CELL_LABELS, CELLS, SINE_PRESETS
from dlcore.sequence.names import LABELS as L

TITLE = "RNN, LSTM and GRU, opened up"
RUN_BUTTON = "sequence-sine-train"
_A, _B = "000_5114ce2b17ca1821.txt", "003_1dbce9a3816ea850.txt"
SEEDS = [SeedRef(_B, "dl_9", "RNN (循环神经网络: vanishing and exploding gradients)"),
         SeedRef(_B, "dl_3", "LSTM (长短期记忆网络: gates, the sine-wave predictor)"),
         SeedRef(_B, "dl_4", "GRU (门控循环单元: the noisy-sine predictor)"),
         SeedRef(_B, "dl_5", "Seq2Seq"),
         SeedRef(_A, "8.3", "RNN (basic RNN, GRU, LSTM, deep and bidirectional RNNs, encoder-decoder, seq2seq)"),
         SeedRef(_A, "8.4.8", "tricks (温度 temperature, 强制教学 teacher forcing, 曝光偏差 exposure bias)")]
DATA_CHOICES = [("§dl_3: one long noisy sine, windows of 20", "sine"),
                ("§dl_4: 300 short noisy sines, predict the last point", "noisy_sines")]
_P3, _P4, _P4b, _Pq = SINE_PRESETS.values()


def _race_args(p: Any, cells: list[str]) -> list[Any]:
    return [p.data, cells, p.epochs, p.hidden_size, p.lr, p.batch_size, p.window, p.target_in_input, p.seed]


SINE_DEFAULT = _race_args(_Pq, ["rnn", "lstm", "gru"])
SINE_EXAMPLES = [_race_args(_P3, ["lstm"]), _race_args(_P3, list(CELLS)), _race_args(_P4, ["gru"]),
                 _race_args(_P4b, list(CELLS)), SINE_DEFAULT]
INTRO = r"""
A **recurrent network** (循环神经网络) reads a sequence one step at a time and carries a hidden state:
$H_t = \phi(X_t W_{xh} + H_{t-1} W_{hh} + b_h)$ (seed 000 §8.3). **LSTM** and **GRU** add gates, numbers in
(0, 1) that decide what to keep. Every panel below runs the notes' own equations by hand and checks them
against torch on the same weights; the seeds' two experiments (§dl_3, §dl_4) reproduce step for step.
"""


def _f(v: Any, digits: int = 5) -> str:
    v = float(v)
    return "–" if math.isnan(v) else f"{v:.{digits}f}"


def sine_md(v: Any, status: str = "") -> str:
    """The comparison table, the seed's figure, the baselines and the notes' caveats."""
    ref = v.reference
    head = ("| cell | epochs | parameters | test error as the seed prints it | test MSE | test MAE |"
            + (" reaches the seed? |" if ref else "") + "\n|---|---:|---:|---:|---:|---:|" + ("---|" if ref else ""))
    rows = []
    for r in v.rows:
        reach = "" if ref is None else (" ✅ |" if r.reached else f" ✗ ({r.seed_error / ref[0]:.2f}×) |")
        rows.append(f"| {CELL_LABELS[r.cell]} | {r.epochs} | {r.params:,} | **{_f(r.seed_error)}** | "
                    f"{_f(r.test_mse)} | {_f(r.test_mae)} |{reach}")
    parts = [status] if status else []
    parts.append(head + "\n" + "\n".join(rows))
    if ref:
        parts.append(f"**The seed's figure:** {_f(ref[0])} — {md_escape(ref[1])}, the seed's code run verbatim on this "
                     "CPU (same numbers: the lab's run equals it step for step).")
    base = "; ".join(f"{md_escape(k)}: {_f(x)}" for k, x in v.baselines.items())
    parts.append(f"Baselines for scale: {base}. No predictor beats the noise floor on average: the target itself "
                 "carries N(0, 0.1) noise.")
    if v.rolling:
        parts.append("Dotted: the **rolling forecast** (滚动预测, §dl_3_2 note 3), each prediction fed back as the "
                     "newest input. One-step errors compound: it drifts off the sine within a period.")
    parts.extend(f"⚠ {md_escape(c)}" for c in v.corrections)
    parts.append(f"Data: {md_escape(v.source)}.")
    return "\n\n".join(parts)


@guard
def sine_zoo(data: Any) -> tuple[str, Any]:
    """The zoo's seed-trained predictors on the test split, no training (instant)."""
    from dlcore.plotting.sequence import sine_figure
    from dlcore.sequence.views import zoo_sines

    v = zoo_sines(data)
    status = ("### The zoo's predictors, trained by the seed's recipe\n\nEach was trained exactly as "
              f"{'§dl_3_2' if v.config.data == 'sine' else '§dl_4_2'} does (`python -m dlcore.zoo build`); "
              "press **Train live** to watch them learn.")
    return sine_md(v, status), sine_figure(v.t, v.truth, v.predictions, None, v.rolling,
                                           "time" if v.config.data == "sine" else "test sequence")


@guard
def sine_train(data: Any, cells: Any, epochs: Any, hidden: Any, lr: Any, batch: Any, window: Any, leak: Any,
               seed: Any, request: gr.Request = None) -> Iterator[tuple[str, Any]]:  # type: ignore[assignment]
    """Train the chosen cells side by side (one epoch each in turn), redrawing about twice a second."""
    from dlcore.plotting.sequence import sine_figure
    from dlcore.sequence.predictors import race_sines
    from dlcore.sequence.views import race_view, sine_settings

    cfg, chosen = sine_settings(data, cells, epochs, hidden, lr, batch, window, leak, seed)
    xlabel = "time" if cfg.data == "sine" else "test sequence"
    with STOPS.running(request, "sequence_sine") as stop:
        t0 = time.perf_counter()
        for race, due in paced(race_sines(cfg, chosen, stop_event=stop)):
            if race.status == "running" and not due:
                continue
            done = race.status != "running"
            v = race_view(race, with_rolling=done)
            if not done:
                yield (f"⏳ epoch {race.epoch + 1}/{cfg.epochs} · {', '.join(c.upper() for c in chosen)} · "
                       f"{time.perf_counter() - t0:.1f} s", sine_figure(v.t, v.truth, v.predictions, v.curves, None,
                                                                         xlabel))
                continue
            mark = {"finished": "✅", "stopped": "⏹", "diverged": "💥"}[race.status]
            status = f"{mark} **{md_escape(race.message)}** in {time.perf_counter() - t0:.1f} s."
            yield sine_md(v, status), sine_figure(v.t, v.truth, v.predictions, v.curves, v.rolling, xlabel)


stop_sine = stop_button("sequence_sine", "⏹ Stopping after the current step…",
                         "Nothing is training right now: press **Train live**.")


def _sine_tab() -> None:
    gr.Markdown(r"The seeds' predictors: from a window of past values, predict the next one "
                r"(§dl_3_2, `LSTM(1, 64)` + `Linear`) or a sequence's last point (§dl_4_2, `GRU(1, 32)`). The same "
                "data, the same Adam, the seed's hyper-parameters; the three cells side by side.",
                latex_delimiters=LATEX)
    with gr.Row():
        data = Radio(DATA_CHOICES, value="sine", label=L["data"])
        cells = CheckboxGroup([(CELL_LABELS[c], c) for c in CELLS], value=list(CELLS), label=L["cells"])
        with gr.Column(min_width=180):
            zoo_btn = gr.Button("Show the zoo's trained models", elem_id="sequence-sine-zoo")
            run = gr.Button("Train live", variant="primary", elem_id=RUN_BUTTON)
            stop = gr.Button("Stop", variant="stop", size="sm", elem_id="sequence-sine-stop")
    with gr.Accordion("Hyper-parameters (the seeds' presets are the examples below)", open=False):
        with gr.Row():
            epochs = Number(_Pq.epochs, precision=0, label=L["epochs"], minimum=1)
            hidden = Number(64, precision=0, label=L["hidden"], minimum=1)
            lr = Number(1e-3, label=L["lr"])
            batch = Number(32, precision=0, label=L["batch"], minimum=0)
            window = Number(20, precision=0, label=L["window"], minimum=2)
            leak = Checkbox(True, label="§dl_4: " + L["leak"] + " (as the notes' code does)")
            seed = Number(42, precision=0, label=L["seed"], minimum=0)
    md = gr.Markdown(latex_delimiters=LATEX)
    fig = gr.Plot(label="prediction vs truth", format="png", show_label=False)
    ins = [data, cells, epochs, hidden, lr, batch, window, leak, seed]
    on_first_open(sine_zoo, [data], [md, fig], **HEAVY)
    on([zoo_btn.click, data.input], sine_zoo, [data], [md, fig], api_name="sequence_sine_zoo", **HEAVY)
    on(run.click, sine_train, ins, [md, fig], api_name="sequence_sine_train", **HEAVY)
    on(stop.click, stop_sine, md, md, api_name="sequence_sine_stop", **LIGHT)
    gr.Examples(SINE_EXAMPLES, ins, [md, fig], fn=sine_train, run_on_click=True, cache_examples=False,
                label="The seeds' runs (one click trains)", example_labels=[
                    "§dl_3_2 verbatim: LSTM, 50 epochs (≈ 3 s)", "§dl_3 data: RNN vs LSTM vs GRU, 50 epochs",
                    "§dl_4_2 verbatim: GRU, 100 full-batch epochs", "§dl_4 without the leak, three cells",
                    "quick look: 5 epochs, three cells"])


def build() -> None:
    gr.Markdown(INTRO, latex_delimiters=LATEX)
    with gr.Tab("Sine predictors (§dl_3, §dl_4)"):
        _sine_tab()
    with gr.Tab("Inside one step: the gates (§8.3)"):
        sequence_inside.inside_tab()
    with gr.Tab("Vanishing gradients, clipping (§dl_9)"):
        sequence_inside.gradients_tab()
    with gr.Tab("Char-level Shakespeare"):
        sequence_text.char_tab()
    with gr.Tab("Seq2seq, teacher forcing (§dl_5, §8.4.8)"):
        sequence_text.seq2seq_tab()


def warmup() -> None:
    """Import the family and its figures (no data, no training): the first press pays no import."""
    import dlcore.plotting.sequence  # noqa: F401
    import dlcore.sequence.predictors  # noqa: F401
    import dlcore.sequence.views  # noqa: F401


#: The browser test asks for test window 500 of 180 inside one step and reads the message in place.
ERROR_DEMO = ErrorDemo(fill={L["index"] + " (1 … 180)": "500"}, click=sequence_inside.INSIDE_BUTTON,
                       expect="test sequence = 500 is above the maximum 180", subtab="Inside one step: the gates (§8.3)")
_S = SINE_DEFAULT
ENDPOINTS = [
    Endpoint("sequence_sine_zoo", heavy=True, examples=[["sine"], ["noisy_sines"]], facts=["0.01106", "0.00323"],
             bad=[(["cosine"], "data 'cosine' is not one of")]),
    Endpoint("sequence_sine_train", heavy=True, stateful=True,
             examples=[[_S[0], ["lstm"], 2, *_S[3:]], _race_args(_P4, ["gru"])], facts=["finished 2 epochs", "0.00323"],
             bad=[([_S[0], [], *_S[2:]], "tick at least one cell"),
                  ([_S[0], ["cnn"], *_S[2:]], "cells 'cnn' is not one of"),
                  ([*_S[:2], 0, *_S[3:]], "epochs = 0 is below the minimum 1"),
                  ([*_S[:2], 10 ** 6, *_S[3:]], "epochs = 1000000 is above the maximum 300"),
                  ([*_S[:5], 1000, *_S[6:]], "batch size 1000 is larger than the 780 training windows"),
                  ([*_S[:6], 1, *_S[7:]], "window / sequence length = 1 is below the minimum 2"),
                  ([*_S[:4], "fast", *_S[5:]], "learning rate (Adam) could not be read: 'fast'")]),
    Endpoint("sequence_sine_stop", examples=STOP_EXAMPLES, facts=["Nothing is training", "The last run's summary."]),
    *sequence_inside.ENDPOINTS,
    *sequence_text.ENDPOINTS,
]

if __name__ == "__main__":
    import launch

    launch.main(["--tabs", "sequence"])
