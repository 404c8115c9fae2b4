"""A char-level Shakespeare model sampled as it trains, and a digit seq2seq with and without attention:
two panels of the sequence tab.

Thin glue over :func:`dlcore.sequence.charlm.train_char`, :func:`dlcore.sequence.seq2seq.train_seq2seq`,
:mod:`dlcore.sequence.views` and :mod:`dlcore.plotting.sequence`.
"""

from __future__ import annotations

import time
from typing import Any, Iterator

import gradio as gr

from apps.common import (HEAVY, LATEX, LIGHT, STOPS, STOP_EXAMPLES, CheckboxGroup, Dropdown, Endpoint, Number, Radio,
                        Slider, guard, md_escape, on, on_first_open, session_key, stop_button)
from apps.streaming import paced
from dlcore.lazy import LazyCache
from dlcore.sequence.names import ATTENTIONS, CELL_LABELS, CELLS, PLAYS, SEQ2SEQ_TASKS
from dlcore.sequence.names import LABELS as L

CHAR_BUTTON, S2S_BUTTON = "sequence-char-run", "sequence-s2s-run"
CHAR_DEFAULT = ["hamlet", "lstm", 300, 0.8, 128, "HAMLET.", 0]
S2S_DEFAULT = ["reverse", ["none", "dot"], 1.0, 2, 0]
ATTENTION_LABELS = {"none": "none (context = last encoder state)", "dot": "dot  s·h", "general": "general  s·W·h",
                    "concat": "concat  v·tanh(W[s; h])"}
#: The last char model each session trained (for "Sample again"), a few sessions at most.
CHAR_MODELS: LazyCache = LazyCache("char models per session", max_extra=8)


def _samples_md(p: Any) -> str:
    shown = p.samples[-4:]
    return "\n\n".join(f"**step {s}** (validation perplexity {dict(p.val_ppl).get(s, float('nan')):.2f}):\n\n"
                       f"```text\n{p.config.prime}{text}\n```" for s, text in shown)


def _char_md(p: Any, status: str, table: tuple[list[str], Any] | None) -> str:
    rate = p.sampled_chars / p.sample_seconds if p.sample_seconds else 0.0
    parts = [status, f"Validation perplexity **{p.val_ppl[-1][1]:.2f}** after {p.step} steps; a uniform guess over the "
             f"{len(p.data.vocab)} characters scores {len(p.data.vocab)}, character frequencies alone "
             f"{p.data.unigram_ppl:.2f}. Text: {md_escape(p.data.source)}.", _samples_md(p)]
    if table is not None:
        chars, probs = table
        shown = [repr(c)[1:-1].replace("|", "\\|") for c in chars]
        head = "| T | " + " | ".join(f"`{c}`" if c.strip() else "space" for c in shown) + " |\n|---|" + "---:|" * len(chars)
        body = "\n".join(f"| {t:g} | " + " | ".join(f"{float(x):.3f}" for x in row) + " |"
                         for t, row in zip((0.5, 1.0, 2.0), probs))
        parts.append(f"**The next character after {md_escape(repr(p.config.prime))}** at three temperatures, "
                     f"softmax(z / T): low T sharpens the top choice, high T flattens toward uniform.\n\n{head}\n{body}")
    parts.append(f"Sampling speed: {rate:,.0f} chars/s (characters per second, one at a time, one CPU thread).")
    return "\n\n".join(parts)


@guard
def char_train(play: Any, cell: Any, steps: Any, temperature: Any, hidden: Any, prime: Any, seed: Any,
               request: gr.Request = None) -> Iterator[tuple[str, Any]]:  # type: ignore[assignment]
    """Train the char model, showing the newest sample and the curves about twice a second."""
    from dlcore.plotting.sequence import char_figure
    from dlcore.sequence.charlm import next_char_table, train_char
    from dlcore.sequence.views import char_settings

    cfg = char_settings(play, cell, steps, temperature, hidden, prime, seed)
    with STOPS.running(request, "sequence_char") as stop:
        t0, p = time.perf_counter(), None
        for p, due in paced(train_char(cfg, stop_event=stop)):
            if p.status == "running" and due:
                yield (f"⏳ step {p.step}/{cfg.steps} · loss {p.step_loss[-1] if p.step_loss else float('nan'):.3f}\n\n"
                       + _samples_md(p), char_figure(p))
        assert p is not None
        CHAR_MODELS.put(session_key(request), (p.model, p.data.vocab, cfg))
        mark = {"finished": "✅", "stopped": "⏹", "diverged": "💥"}.get(p.status, "")
        status = f"{mark} **{md_escape(p.message)}** in {time.perf_counter() - t0:.1f} s ({CELL_LABELS[cfg.cell]})."
        yield _char_md(p, status, next_char_table(p.model, p.data.vocab, cfg.prime)), char_figure(p)


@guard
def char_sample(temperature: Any, prime: Any, seed: Any, request: gr.Request = None) -> str:  # type: ignore[assignment]
    """Draw 400 more characters from this session's last model at another temperature."""
    from dlcore.sequence.charlm import sample_text
    from dlcore.textinput import parse_int, parse_number, parse_text

    t = parse_number(temperature, L["temperature"], lo=0.01, hi=10.0)
    text = parse_text(prime, L["prime"], max_chars=200)
    s = parse_int(seed, L["seed"], lo=0, hi=2**31 - 1)
    got = CHAR_MODELS.peek(session_key(request))
    if got is None:
        raise ValueError("no model has been trained in this session yet: press Train first")
    model, vocab, cfg = got
    out = sample_text(model, vocab, text, 400, t, seed=s)
    return (f"**400 characters at T = {t:g}** from this session's {CELL_LABELS[cfg.cell]} ({cfg.steps} steps on "
            f"{md_escape(cfg.play)}):\n\n```text\n{text}{out}\n```")


stop_char = stop_button("sequence_char", "⏹ Stopping after the current step…",
                         "Nothing is training right now: press **Train**.")


def _s2s_md(runs: dict[str, Any], status: str) -> str:
    rows = "\n".join(
        f"| {md_escape(ATTENTION_LABELS[a])} | {p.final.tf_error:.3f} | {p.final.fr_error:.3f} | "
        f"**{p.final.fr_exact:.1%}** | {p.final.exposure_gap:+.3f} |" for a, p in runs.items() if p.final)
    first = next(iter(runs.values()))
    ex = "\n".join(f"| `{s}` | `{t}` | `{o}` | {'✅' if ok else '✗'} |" for s, t, o, ok in first.examples(6))
    c = first.config
    return (f"{status}\n\n| attention | token error, teacher-forced | token error, free-running | strings exactly right "
            f"| exposure gap |\n|---|---:|---:|---:|---:|\n{rows}\n\n**Teacher forcing** (强制教学) feeds the true "
            f"previous digit while training (ratio {c.teacher_forcing:g}); at test time the decoder is fed its own "
            "guesses. The gap between the two errors is **exposure bias** (曝光偏差, §8.4.8): one wrong digit derails "
            "the rest, so the free-running error grows along the output (right plot). Without attention the whole "
            "input must squeeze through the encoder's last state.\n\n"
            f"Held-out strings ({md_escape(ATTENTION_LABELS[first.config.attention])}), free-running:\n\n"
            f"| input | target | output | |\n|---|---|---|---|\n{ex}")


@guard
def s2s_train(task: Any, attentions: Any, teacher: Any, epochs: Any, seed: Any,
              request: gr.Request = None) -> Iterator[tuple[str, Any, Any]]:  # type: ignore[assignment]
    """Train one seq2seq per ticked attention, one after the other, redrawing the error curves."""
    from dlcore.plotting.sequence import seq2seq_attention_figure, seq2seq_figure
    from dlcore.sequence.seq2seq import train_seq2seq
    from dlcore.sequence.views import seq2seq_settings

    cfgs = seq2seq_settings(task, attentions, teacher, epochs, seed)
    runs: dict[str, Any] = {}
    with STOPS.running(request, "sequence_s2s") as stop:
        t0 = time.perf_counter()
        for cfg in cfgs:
            for p, due in paced(train_seq2seq(cfg, stop_event=stop)):
                runs[cfg.attention] = p
                if p.status == "running" and due:
                    yield (f"⏳ {md_escape(ATTENTION_LABELS[cfg.attention])}: step {p.step}/{p.total}",
                           seq2seq_figure(runs), gr.skip())
            if stop.is_set():
                break
        done = [a for a, p in runs.items() if p.status == "finished"]
        status = (f"{'⏹ stopped' if stop.is_set() else '✅ finished'}: {len(done)} of {len(cfgs)} runs, "
                  f"{cfgs[0].epochs} epochs each, in {time.perf_counter() - t0:.1f} s.")
        att = next((p for p in runs.values() if p.config.attention != "none"), None)
        amap = att.attention_map(0) if att is not None else None
        yield (_s2s_md(runs, status), seq2seq_figure(runs),
               seq2seq_attention_figure(*amap) if amap is not None else None)


stop_s2s = stop_button("sequence_s2s", "⏹ Stopping after the current step…",
                        "Nothing is training right now: press **Train**.")


def char_tab() -> None:
    gr.Markdown("Karpathy's char-rnn on the shipped Shakespeare: predict the next character, "
                r"$P(x_t \mid h_{t-1})$, trained on random windows of 64 characters (truncated back-propagation "
                r"through time); samples drawn from $\mathrm{softmax}(z / T)$ as it trains.", latex_delimiters=LATEX)
    with gr.Row():
        play = Dropdown(list(PLAYS), value="hamlet", label=L["play"])
        cell = Radio([(CELL_LABELS[c], c) for c in CELLS], value="lstm", label=L["cell"])
        steps = Number(300, precision=0, label=L["steps"] + " (≈ 7 s per 300)", minimum=1)
        temperature = Slider(0.1, 2.0, value=0.8, step=0.05, label=L["temperature"])
    with gr.Row():
        hidden = Number(128, precision=0, label=L["hidden"], minimum=1)
        prime = gr.Textbox("HAMLET.", label=L["prime"], max_lines=1)
        seed = Number(0, precision=0, label=L["seed"], minimum=0)
        with gr.Column(min_width=180):
            run = gr.Button("Train", variant="primary", elem_id=CHAR_BUTTON)
            again = gr.Button("Sample again at this T", elem_id="sequence-char-sample")
            stop = gr.Button("Stop", variant="stop", size="sm", elem_id="sequence-char-stop")
    md = gr.Markdown()
    fig = gr.Plot(label="loss and perplexity", format="png", show_label=False)
    more = gr.Markdown()
    ins = [play, cell, steps, temperature, hidden, prime, seed]
    on_first_open(char_train, ins, [md, fig], **HEAVY)
    on(run.click, char_train, ins, [md, fig], api_name="sequence_char", **HEAVY)
    on(again.click, char_sample, [temperature, prime, seed], more, api_name="sequence_char_sample", **HEAVY)
    on(stop.click, stop_char, md, md, api_name="sequence_char_stop", **LIGHT)


def seq2seq_tab() -> None:
    gr.Markdown("A GRU encoder reads a digit string; a GRU decoder writes it reversed (or sorted), one digit per "
                "step, until ⏎. With attention (Luong et al. 2015) each decoder step scores every encoder state "
                r"$h_s$: $a_t = \mathrm{softmax}(\mathrm{score}(s_t, h_s))$, $c_t = \sum_s a_t(s)\,h_s$.",
                latex_delimiters=LATEX)
    with gr.Row():
        task = Radio(list(SEQ2SEQ_TASKS), value="reverse", label=L["task"])
        atts = CheckboxGroup([(ATTENTION_LABELS[a], a) for a in ATTENTIONS], value=["none", "dot"],
                             label=L["attentions"] + " (one run each)")
        teacher = Slider(0.0, 1.0, value=1.0, step=0.05, label=L["teacher"])
    with gr.Row():
        epochs = Number(2, precision=0, label=L["epochs"] + " (4,096 strings each, ≈ 1 s)", minimum=1)
        seed = Number(0, precision=0, label=L["seed"], minimum=0)
        run = gr.Button("Train", variant="primary", elem_id=S2S_BUTTON)
        stop = gr.Button("Stop", variant="stop", elem_id="sequence-s2s-stop")
    md = gr.Markdown("Opening this panel trains the default pair (about 5 s)…")
    with gr.Row():
        fig = gr.Plot(label="error curves", format="png", show_label=False, min_width=420)
        amap = gr.Plot(label="attention", format="png", show_label=False, min_width=260)
    ins = [task, atts, teacher, epochs, seed]
    on_first_open(s2s_train, ins, [md, fig, amap], **HEAVY)
    on(run.click, s2s_train, ins, [md, fig, amap], api_name="sequence_s2s", **HEAVY)
    on(stop.click, stop_s2s, md, md, api_name="sequence_s2s_stop", **LIGHT)
    gr.Examples([S2S_DEFAULT, ["reverse", ["dot"], 0.5, 2, 0], ["sort", ["none", "general"], 1.0, 4, 0]], ins,
                [md, fig, amap], fn=s2s_train, run_on_click=True, cache_examples=False, label="Examples",
                example_labels=["reverse: without vs with attention", "teacher forcing 0.5",
                                "sort: none vs general"])


_C = CHAR_DEFAULT
ENDPOINTS = [
    Endpoint("sequence_char", heavy=True, stateful=True, examples=[[*_C[:2], 40, *_C[3:]]], facts=["finished 40 steps"],
             bad=[(["hamlet.txt", *_C[1:]], "play 'hamlet.txt' is not one of"),
                  ([*_C[:2], 0, *_C[3:]], "steps = 0 is below the minimum 1"),
                  ([*_C[:2], 10 ** 7, *_C[3:]], "steps = 10000000 is above the maximum 5000"),
                  ([*_C[:3], 0, *_C[4:]], "temperature T = 0 is below the minimum 0.01"),
                  ([*_C[:5], "", 0], "prime is empty"),
                  ([*_C[:5], "ÆØÅ", 0], "do not occur in the training text")]),
    Endpoint("sequence_char_sample", heavy=True, examples=[], facts=[],
             bad=[([0.8, "HAMLET.", 0], "no model has been trained in this session yet"),
                  ([-1, "HAMLET.", 0], "temperature T = -1 is below the minimum 0.01")]),
    Endpoint("sequence_char_stop", examples=STOP_EXAMPLES, facts=["Nothing is training", "The last run's summary."]),
    Endpoint("sequence_s2s", heavy=True, stateful=True, examples=[["reverse", ["dot"], 1.0, 1, 0]],
             facts=["1 of 1 runs"],
             bad=[(["shuffle", ["dot"], 1.0, 1, 0], "task 'shuffle' is not one of"),
                  (["reverse", [], 1.0, 1, 0], "tick at least one variant"),
                  (["reverse", ["dot"], 1.5, 1, 0], "teacher forcing ratio = 1.5 is above the maximum 1"),
                  (["reverse", ["dot"], 1.0, 99, 0], "epochs = 99 is above the maximum 30")]),
    Endpoint("sequence_s2s_stop", examples=STOP_EXAMPLES, facts=["Nothing is training", "The last run's summary."]),
]
