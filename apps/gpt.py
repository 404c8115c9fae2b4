"""GPT tab: generate token by token (greedy, sampling, beam search), step through, prompt, score text."""

from __future__ import annotations

import math
import re
import time
from typing import Any, Iterator

import gradio as gr

from apps.common import HEAVY, LIGHT, Endpoint, SeedRef, guard

TITLE = "GPT: generate and prompt"
SEEDS: list[SeedRef] = [
    SeedRef("000_5114ce2b17ca1821.txt", "8.6.2", "GPT"),
    SeedRef("000_5114ce2b17ca1821.txt", "8.4.8", "tricks"),
    SeedRef("000_5114ce2b17ca1821.txt", "8.3.1", "基本的RNN"),
    SeedRef("003_1dbce9a3816ea850.txt", "dl_12", "GPT"),
]
RUN_BUTTON = "gpt-run"

MAX_PROMPT_TOKENS = 512
TABLE_WIDTHS = ["9%", "21%", "14%", "18%", "27%", "11%"]
TABLE_HEADERS = ["rank", "token", "logit z", "p = softmax(z)", "p used (after T, top-k, top-p)", "chosen"]
BEAM_HEADERS = ["rank", "beam (generated text)", "score", "status"]
SCORE_HEADERS = ["#", "token", "log P(token | before)", "surprise (bits)", "model's top guess here"]

DEFAULTS: dict[str, Any] = dict(model="smollm2", prompt="The capital of France is", mode="plain",
                                strategy="greedy", max_new=16, temperature=0.8, top_k=50, top_p=0.95,
                                rep=1.0, beams=3, seed=0)

INTRO = r"""
A GPT is a Transformer **decoder** trained on one objective: predict the next token,
$L_1=\sum_i \log P(u_i \mid u_{i-k},\dots,u_{i-1})$ (seed 003 §dl_12). Generating text is that
prediction repeated: look at the logits $z$ for the next token, reshape them
(temperature $\mathrm{softmax}(z/T)_i = e^{z_i/T}/\sum_j e^{z_j/T}$, top-k, top-p, repetition penalty),
pick one (the argmax = **greedy**, a random draw = **sampling**, or keep the $k$ best partial
sentences = **beam search**; greedy is beam width 1, seed 000 §8.4.8), append it, repeat.
GPT-2/3 showed that the *prompt alone* can set the task: **zero-, one-, few-shot in-context
learning** (语境学习), with no gradient step (seed 000 §8.6.2).
"""


# ----------------------------------------------------------------------------- helpers
def _lm(name: str) -> tuple[Any, Any]:
    from dlcore.nlp.causal import get_causal_lm

    return get_causal_lm((name or "").strip() or "smollm2")


def _cfg(strategy: str, max_new: Any, T: Any, top_k: Any, top_p: Any, rep: Any, beams: Any, seed: Any) -> Any:
    from dlcore.nlp.decoding import DecodeConfig
    from dlcore.textinput import parse_int, parse_number

    return DecodeConfig(strategy=strategy, max_new_tokens=parse_int(max_new, "max_new_tokens"),
                        temperature=parse_number(T, "temperature"), top_k=parse_int(top_k, "top_k"),
                        top_p=parse_number(top_p, "top_p"), repetition_penalty=parse_number(rep, "repetition_penalty"),
                        num_beams=parse_int(beams, "num_beams"), seed=parse_int(seed, "seed")).validate()


def _check_text(text: str, name: str = "prompt") -> str:
    from dlcore.nlp.scoring import MAX_TEXT_CHARS

    if text is None or not str(text).strip():
        raise ValueError(f"{name} is empty: type some text first")
    if len(text) > MAX_TEXT_CHARS:
        raise ValueError(f"{name} has {len(text)} characters; the limit is {MAX_TEXT_CHARS}")
    return str(text)


def _prompt_ids(tok: Any, prompt: str, mode: str) -> Any:
    from dlcore.nlp.prompts import build_prompt
    from dlcore.nlp.scoring import encode_checked

    return encode_checked(tok, build_prompt(tok, prompt, mode), max_tokens=MAX_PROMPT_TOKENS, name="prompt")


def _loading_note(name: str) -> str:
    from dlcore.nlp.causal import describe_model, is_loaded

    if is_loaded(name or "smollm2"):
        return ""
    return (f"Loading **{describe_model(name or 'smollm2')}** (first use in this process; the very first run "
            "on a machine converts the GGUF file once, ~20 s, later runs take a few seconds)…")


def _table_rows(tok_table: Any, chosen: int | None) -> list[list[Any]]:
    from dlcore.plotting.nlp_gpt import show_token

    rows = tok_table.rows(chosen)
    for r in rows:
        r[1] = show_token(r[1])
    return rows


# ----------------------------------------------------------------------------- generate
@guard
def generate(model_name: str, prompt: str, mode: str, strategy: str, max_new: float, T: float, top_k: float,
             top_p: float, rep: float, beams: float, seed: float) -> Iterator[tuple[Any, ...]]:
    """Stream a continuation; yields (text, table, beams, status, figure, steps, slider, prompt, picks)."""
    from dlcore.nlp.decoding import iter_beam_search, stream_generate
    from dlcore.plotting.nlp_gpt import beam_history_plot, next_token_bars

    cfg = _cfg(strategy, max_new, T, top_k, top_p, rep, beams, seed)
    _check_text(prompt)
    note = _loading_note(model_name)
    if note:
        yield "", [], [], note, None, [], gr.update(), "", []
    model, tok = _lm(model_name)
    ids = _prompt_ids(tok, prompt, mode)
    seen = tok.decode(ids[0])  # the exact string the model reads (chat template included)
    t0 = time.perf_counter()
    if cfg.strategy == "beam":
        snap = None
        for snap in iter_beam_search(model, tok, ids, cfg):
            running = [[i + 1, t, round(s, 3), "running: Σ log p"] for i, (t, s) in enumerate(snap.history[-1])]
            done = [[i + 1, t, round(s, 3), "finished: Σ log p / length"]
                    for i, (t, s) in enumerate(zip(snap.texts, snap.scores))]
            best = snap.texts[0] if snap.texts else snap.history[-1][0][0]
            status = f"Beam search, width {cfg.num_beams}: step {len(snap.history)} of at most {cfg.max_new_tokens}"
            yield best, [], done + running, status, None, [], gr.update(), seen, gr.skip()
        assert snap is not None
        rows = [[i + 1, t, round(s, 3), "finished: Σ log p / length"]
                for i, (t, s) in enumerate(zip(snap.texts, snap.scores))]
        fig = beam_history_plot(snap.history, snap.scores)
        dt = time.perf_counter() - t0
        status = (f"Beam search, width {cfg.num_beams}: {len(snap.history)} steps in {dt:.1f} s. Finished beams are "
                  "ranked by Σ log p / length (transformers' length penalty 1.0); the plot shows the running beams.")
        yield snap.texts[0], [], rows, status, fig, [], gr.update(interactive=False), seen, []
        return
    steps: list[dict[str, Any]] = []
    text = ""
    for st in stream_generate(model, tok, ids, cfg):
        chosen_idx = next((i for i, j in enumerate(st.table.ids.tolist()) if j == st.token_id), None)
        steps.append({"tokens": st.table.tokens, "p_before": st.table.p_before.tolist(),
                      "p_after": st.table.p_after.tolist(), "chosen": chosen_idx,
                      "rows": _table_rows(st.table, st.token_id), "token": st.token, "kept": st.table.kept,
                      "prob": st.prob})
        text = st.text
        rate = (st.index + 1) / max(time.perf_counter() - t0, 1e-6)
        status = (f"{cfg.strategy}: token {st.index + 1}/{cfg.max_new_tokens} · {rate:.1f} tokens/s · chosen "
                  f"{st.token!r} with p = {st.prob:.3g}")
        if cfg.strategy == "sample":
            status += f" · {st.table.kept} of {len(tok)} tokens survive the filters"
        yield text, steps[-1]["rows"], [], status, None, gr.skip(), gr.skip(), seen, gr.skip()
    last = steps[-1]
    fig = next_token_bars(last["tokens"], last["p_before"], last["p_after"], chosen=last["chosen"],
                          title=f"Step {len(steps)}: next-token distribution")
    yield (text, last["rows"], [], status + " · done", fig, steps,
           gr.update(minimum=1, maximum=max(len(steps), 2), value=len(steps), step=1, interactive=True), seen,
           [(s["token"], round(min(-math.log2(max(s["prob"], 1e-12)) / 12.0, 1.0), 3)) for s in steps])


@guard
def inspect_step(steps: list[dict[str, Any]], k: float) -> tuple[Any, Any]:
    """Show the next-token table and bars of step ``k`` of the last generation."""
    from dlcore.plotting.nlp_gpt import next_token_bars

    if not steps:
        raise ValueError("no generation to inspect yet: press Generate (greedy or sampling) first")
    i = int(k) - 1
    if not 0 <= i < len(steps):
        raise ValueError(f"step {int(k)} is outside 1..{len(steps)}")
    s = steps[i]
    fig = next_token_bars(s["tokens"], s["p_before"], s["p_after"], chosen=s["chosen"],
                          title=f"Step {i + 1}: chose {s['token']!r} (p = {s['prob']:.3f})")
    return s["rows"], fig


@guard
def fill_template(name: str, shots: float) -> tuple[str, str]:
    """The zero/one/few-shot prompt of template ``name`` with ``shots`` examples."""
    from dlcore.nlp.prompts import TEMPLATES, few_shot_prompt

    if name not in TEMPLATES:
        raise ValueError(f"template {name!r} is not one of {', '.join(TEMPLATES)}")
    return few_shot_prompt(TEMPLATES[name], int(shots)), "plain"


# ----------------------------------------------------------------------------- step through
_CHOICE_ID = re.compile(r"\bid (\d+)\s*$")


def _step_view(model: Any, tok: Any, ids: Any, prompt_len: int, cfg: Any) -> tuple[Any, ...]:
    from dlcore.nlp.decoding import next_token_table
    from dlcore.plotting.nlp_gpt import next_token_bars, show_token

    table = next_token_table(model, tok, ids, cfg, top=10)
    choices = [f"{i + 1}. {show_token(t)} · p used {float(p):.3f} · id {int(j)}"
               for i, (t, p, j) in enumerate(zip(table.tokens, table.p_after, table.ids))]
    fig = next_token_bars(table.tokens, table.p_before.tolist(), table.p_after.tolist(),
                          title="Candidates for the next token: pick one")
    id_list = ids[0].tolist()
    text = tok.decode(id_list[prompt_len:]) if prompt_len < len(id_list) else ""
    ids_text = f"{prompt_len}|" + ",".join(map(str, id_list))
    return ids_text, text, _table_rows(table, None), gr.update(choices=choices, value=choices[0]), fig


def _load_with_progress(model_name: str, progress: Any) -> tuple[Any, Any]:
    note = _loading_note(model_name)
    if note and progress is not None:
        progress(0, desc=note.replace("**", ""))
    return _lm(model_name)


@guard
def step_start(model_name: str, prompt: str, mode: str, T: float, top_k: float, top_p: float,
               rep: float, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:
    """Tokenise the prompt and show the candidates for the first new token."""
    cfg = _cfg("sample", 1, T, top_k, top_p, rep, 1, 0)
    _check_text(prompt)
    model, tok = _load_with_progress(model_name, progress)
    ids = _prompt_ids(tok, prompt, mode)
    return _step_view(model, tok, ids, ids.shape[1], cfg)


@guard
def step_add(model_name: str, state: str, choice: str, T: float, top_k: float, top_p: float,
             rep: float, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:
    """Append the learner's chosen token and show the next candidates."""
    import torch

    cfg = _cfg("sample", 1, T, top_k, top_p, rep, 1, 0)
    model, tok = _load_with_progress(model_name, progress)
    m = re.fullmatch(r"\s*(\d+)\|([\d,\s]+)", state or "")
    if not m:
        raise ValueError("no step-through in progress: press 'Start from this prompt' first")
    prompt_len, id_list = int(m.group(1)), [int(x) for x in m.group(2).split(",") if x.strip()]
    if any(i >= len(tok) for i in id_list) or not 0 < prompt_len <= len(id_list):
        raise ValueError("the token-id state does not belong to this model: press 'Start from this prompt' again")
    c = _CHOICE_ID.search(choice or "")
    if not c:
        raise ValueError(f"choice {choice!r} is not one of the listed candidates")
    if len(id_list) >= MAX_PROMPT_TOKENS + 256:
        raise ValueError(f"the text has reached the limit of {MAX_PROMPT_TOKENS + 256} tokens")
    ids = torch.tensor([id_list + [int(c.group(1))]])
    return _step_view(model, tok, ids, prompt_len, cfg)


# ----------------------------------------------------------------------------- score
@guard
def score(model_name: str, text: str, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:
    """Per-token log-probabilities, surprise colouring and perplexity of ``text``."""
    import math

    from dlcore.nlp.scoring import score_text
    from dlcore.plotting.nlp_gpt import show_token, surprise_bars

    _check_text(text, "text")
    model, tok = _load_with_progress(model_name, progress)
    s = score_text(model, tok, text)
    bits = s.surprise_bits.tolist()
    spans = [(t, None if math.isnan(b) else round(min(b / 12.0, 1.0), 3)) for t, b in zip(s.tokens, bits)]
    rows = [[i + 1, show_token(t), None if math.isnan(lp) else round(lp, 3), None if math.isnan(b) else round(b, 2),
             show_token(a)] for i, (t, lp, b, a) in enumerate(zip(s.tokens, s.logprobs.tolist(), bits,
                                                                    s.top_alternatives))]
    n = int(s.scored.numel())
    md = (f"**Perplexity = {s.perplexity:.2f}**  \n"
          f"$\\text{{perplexity}}(W)=\\exp\\left(-\\frac1n\\sum_{{t=1}}^n\\log P(x_t\\mid x_{{<t}})\\right)"
          f"=\\exp\\left(-\\frac{{1}}{{{n}}}\\cdot({-s.mean_nll * n:.2f})\\right)=\\exp({s.mean_nll:.3f})"
          f"={s.perplexity:.2f}$  \n"
          f"The model hesitates, on average, as if between **{s.perplexity:.1f} equally likely tokens** at each "
          "step (seed 000 §8.3.1). Red = surprising (many bits), pale = expected.")
    return spans, md, rows, surprise_bars(s.tokens, bits, perplexity=s.perplexity)


@guard
def model_info(model_name: str) -> str:
    """What the chosen model is and whether it is loaded; checks hub names quickly (≤ 2 s)."""
    from dlcore.nlp.causal import _resolve, describe_model, is_loaded
    from dlcore.nlp.hub import ensure_hub_model

    name = _resolve(model_name)
    line = describe_model(name)
    if name != "smollm2" and not __import__("os").path.isdir(name):
        ensure_hub_model(name)  # a clear ValueError within ~2 s when the hub is unreachable
    return f"**Model:** {line}. " + ("Loaded." if is_loaded(name) else "Loads on first use.")


# ----------------------------------------------------------------------------- UI
def _shot(name: str, k: int) -> str:
    from dlcore.nlp.prompts import TEMPLATES, few_shot_prompt

    return few_shot_prompt(TEMPLATES[name], k)


def _examples() -> list[list[Any]]:
    """Generate-tab examples: (prompt, mode, strategy, max_new, T, top_k, top_p, rep, beams, seed)."""
    tail = [0.8, 50, 0.95, 1.0, 3, 0]
    return [
        [_shot("capitals", 3), "plain", "greedy", 2, *tail],       # few-shot: " Rome"
        [_shot("capitals", 0), "plain", "greedy", 8, *tail],       # zero-shot: the format is unknown
        [_shot("translate_zh", 3), "plain", "greedy", 4, *tail],   # seed 003 §dl_12: 我喜欢猫, few-shot
        [_shot("translate_zh", 0), "plain", "greedy", 5, *tail],   # ... zero-shot
        [_shot("translate", 3), "plain", "greedy", 6, *tail],      # GPT-3 Fig. 2.1: too hard for 135M
        [_shot("antonyms", 3), "plain", "greedy", 2, *tail],
        ["What is beam search? Answer in one sentence.", "chat", "greedy", 48, 0.8, 50, 0.95, 1.1, 3, 0],
        ["The capital of France is", "plain", "beam", 12, *tail],
        ["Once upon a time", "plain", "sample", 32, 1.5, 0, 1.0, 1.0, 3, 0],
        ["Once upon a time", "plain", "sample", 32, 0.7, 50, 0.9, 1.2, 3, 0],
    ]


LATEX = [{"left": "$$", "right": "$$", "display": True}, {"left": "$", "right": "$", "display": False}]
EXAMPLE_LABELS = [
    "Few-shot (k=3): capital of Italy", "Zero-shot: capital of Italy",
    "Few-shot (k=3): 我喜欢猫 → English (seed 003 §dl_12)", "Zero-shot: 我喜欢猫 → English",
    "GPT-3 Fig. 2.1 few-shot: cheese → French (too hard for 135M)", "Few-shot (k=3): opposite of up",
    "Chat template: what is beam search?", "Beam search, k = 3", "Hot sampling: T = 1.5, no filters",
    "Nucleus sampling: T = 0.7, top-k 50, top-p 0.9, rep. penalty 1.2",
]


def build() -> None:
    from dlcore.nlp.causal import MODEL_CHOICES
    from dlcore.nlp.prompts import TEMPLATES

    gr.Markdown(INTRO, latex_delimiters=LATEX)
    with gr.Row():
        model = gr.Dropdown(MODEL_CHOICES, value=DEFAULTS["model"], allow_custom_value=True, scale=2,
                            label="Model (offline default smollm2 = SmolLM2-135M-Instruct; hub ids need the hub)")
        info_btn = gr.Button("Check model", size="sm", scale=0)
        info = gr.Markdown("**Model:** SmolLM2-135M-Instruct (offline). Loads on first use.")
    info_btn.click(model_info, model, info, api_name="gpt_model_info", **HEAVY)

    with gr.Tab("Generate"):
        with gr.Row():
            with gr.Column(scale=3):
                prompt = gr.Textbox(DEFAULTS["prompt"], lines=5, label="Prompt")
                with gr.Row():
                    mode = gr.Radio(["plain", "chat"], value=DEFAULTS["mode"], label="Prompt mode",
                                    info="chat wraps the prompt in the instruct model's chat template")
                    strategy = gr.Radio(["greedy", "sample", "beam"], value=DEFAULTS["strategy"], label="Decoding")
                with gr.Row():
                    run = gr.Button("Generate", variant="primary", elem_id=RUN_BUTTON)
                    stop = gr.Button("Stop", variant="stop")
            with gr.Column(scale=2):
                max_new = gr.Slider(1, 256, DEFAULTS["max_new"], step=1, label="max new tokens")
                T = gr.Slider(0.0, 3.0, DEFAULTS["temperature"], step=0.05, label="temperature T (sampling; T → 0 is greedy)")
                top_k = gr.Slider(0, 200, DEFAULTS["top_k"], step=1, label="top-k (0 = off, sampling)")
                top_p = gr.Slider(0.0, 1.0, DEFAULTS["top_p"], step=0.01, label="top-p (1 = off, sampling)")
                rep = gr.Slider(0.5, 2.0, DEFAULTS["rep"], step=0.05, label="repetition penalty (1 = off)")
                beams = gr.Slider(1, 8, DEFAULTS["beams"], step=1, label="beam width k (beam)")
                seed = gr.Number(DEFAULTS["seed"], precision=0, label="seed (sampling)")
        with gr.Accordion("Zero / one / few-shot prompt templates (in-context learning)", open=False):
            with gr.Row():
                tpl = gr.Dropdown(list(TEMPLATES), value="translate", label="template")
                shots = gr.Slider(0, 3, 3, step=1, label="shots k (0 = zero-shot, 1 = one-shot)")
                tpl_btn = gr.Button("Put into the prompt", size="sm")
            tpl_btn.click(fill_template, [tpl, shots], [prompt, mode], api_name="gpt_template", **LIGHT)
        status = gr.Markdown()
        with gr.Accordion("Exact prompt the model reads (after the chat template, decoded from its token ids)",
                          open=False):
            seen = gr.Textbox(show_label=False, lines=4, interactive=False)
        out = gr.Textbox(label="Generated text (streamed token by token)", lines=4)
        picked = gr.HighlightedText(label="Each generated token coloured by how unlikely it was when picked "
                                    "(red = a low-probability pick, typical of hot sampling)",
                                    show_legend=False, combine_adjacent=False)
        with gr.Row():
            table = gr.Dataframe(headers=TABLE_HEADERS, label="Next-token table at the current step", wrap=True,
                                 column_widths=TABLE_WIDTHS)
            beam_df = gr.Dataframe(headers=BEAM_HEADERS, label="Beams and their scores (beam search)", wrap=True)
        with gr.Row():
            step_sl = gr.Slider(1, 256, 1, step=1, label="inspect step (after a greedy/sampling run)", interactive=False)
            plot = gr.Plot(label="Distribution before / after the filters", show_label=False)
        steps_state = gr.State([])
        inputs = [model, prompt, mode, strategy, max_new, T, top_k, top_p, rep, beams, seed]
        ev = run.click(generate, inputs, [out, table, beam_df, status, plot, steps_state, step_sl, seen, picked],
                       api_name="gpt_generate", **HEAVY)
        stop.click(None, None, None, cancels=[ev], api_name="gpt_stop", queue=False)
        step_sl.release(inspect_step, [steps_state, step_sl], [table, plot], api_name="gpt_inspect_step", **LIGHT)
        gr.Markdown("**Examples.** In-context learning (seed 000 §8.6.2, seed 003 §dl_12): compare few-shot and "
                    "zero-shot on capitals and on the notes' 我喜欢猫; GPT-3's own translation example (Fig. 2.1) "
                    "is too hard for a 135M-parameter model, which is the notes' point that task generalisation "
                    "needs scale. Then the chat template, beam search, hot sampling (T = 1.5, no filters) "
                    "and nucleus sampling (T = 0.7, top-k 50, top-p 0.9, repetition penalty 1.2).")
        gr.Examples(_examples(), inputs[1:], cache_examples=False, example_labels=EXAMPLE_LABELS)

    with gr.Tab("Step through (you pick the token)"):
        gr.Markdown("Start from a prompt; the model shows its top 10 candidates with probabilities before and "
                    "after the temperature / top-k / top-p settings of the Generate tab. Pick one and append it: "
                    "you are the decoding strategy.")
        with gr.Row():
            s_prompt = gr.Textbox("The cat sat on the", lines=2, label="Prompt", scale=3)
            s_mode = gr.Radio(["plain", "chat"], value="plain", label="Prompt mode", scale=1)
        s_start = gr.Button("Start from this prompt", variant="primary")
        s_state = gr.Textbox(label="state: prompt length | token ids so far", interactive=False)
        s_text = gr.Textbox(label="Text you have generated so far", interactive=False)
        with gr.Row():
            s_choice = gr.Dropdown([], label="Candidates (p used = after the filters)", allow_custom_value=True, scale=2)
            s_add = gr.Button("Append the chosen token", scale=0)
        with gr.Row():
            s_table = gr.Dataframe(headers=TABLE_HEADERS, label="Next-token table", wrap=True,
                                   column_widths=TABLE_WIDTHS)
            s_plot = gr.Plot(label="Candidates", show_label=False)
        s_outs = [s_state, s_text, s_table, s_choice, s_plot]
        s_start.click(step_start, [model, s_prompt, s_mode, T, top_k, top_p, rep], s_outs,
                      api_name="gpt_step_start", **HEAVY)
        s_add.click(step_add, [model, s_state, s_choice, T, top_k, top_p, rep], s_outs,
                    api_name="gpt_step_add", **HEAVY)

    with gr.Tab("Score a text (perplexity)"):
        gr.Markdown("Every token gets log P(token | tokens before) from one forward pass; perplexity is the "
                    "exponential of the average negative log-probability (seed 000 §8.3.1).")
        sc_text = gr.Textbox("The cat sat on the mat.", lines=3, label="Text to score")
        sc_btn = gr.Button("Score", variant="primary")
        sc_md = gr.Markdown(latex_delimiters=LATEX)
        sc_hl = gr.HighlightedText(label="Tokens coloured by surprise (red = surprising)", show_legend=False,
                                   combine_adjacent=False)
        with gr.Row():
            sc_df = gr.Dataframe(headers=SCORE_HEADERS, label="Per-token log-probabilities", wrap=True)
            sc_plot = gr.Plot(label="Surprise per token", show_label=False)
        sc_btn.click(score, [model, sc_text], [sc_hl, sc_md, sc_df, sc_plot], api_name="gpt_score", **HEAVY)
        gr.Examples([["The cat sat on the mat."], ["Mat the on sat cat the."],
                     ["Colorless green ideas sleep furiously."], ["The capital of France is Paris."],
                     ["The capital of France is Berlin."]], [sc_text], cache_examples=False)


_D = DEFAULTS
ENDPOINTS = [
    Endpoint("gpt_generate", heavy=True, examples=[
        [_D["model"], _D["prompt"], _D["mode"], _D["strategy"], _D["max_new"], _D["temperature"], _D["top_k"],
         _D["top_p"], _D["rep"], _D["beams"], _D["seed"]],
        ["smollm2", "Once upon a time", "plain", "sample", 8, 0.8, 50, 0.9, 1.2, 3, 1],
        ["smollm2", "The capital of France is", "plain", "beam", 6, 0.8, 50, 0.95, 1.0, 3, 0],
        ["smollm2", "What is 2+2?", "chat", "greedy", 8, 0.8, 50, 0.95, 1.0, 3, 0],
    ], bad=[
        (["smollm2", "", "plain", "greedy", 8, 0.8, 50, 0.95, 1.0, 3, 0], "empty"),
        (["smollm2", "word " * 1000, "plain", "greedy", 8, 0.8, 50, 0.95, 1.0, 3, 0], "limit"),
        (["smollm2", "cat " * 900, "plain", "greedy", 8, 0.8, 50, 0.95, 1.0, 3, 0], "512 tokens"),
        (["smollm2", "Hi", "plain", "sample", 8, 0.0, 50, 0.95, 1.0, 3, 0], "temperature"),
        (["smollm2", "Hi", "plain", "sample", 8, 0.8, 50, 0.0, 1.0, 3, 0], "top_p"),
        (["smollm2", "Hi", "plain", "greedy", 100000, 0.8, 50, 0.95, 1.0, 3, 0], "maximum value 256"),
        (["no-such-user-zz9/no-such-model-zz9", "Hi", "plain", "greedy", 8, 0.8, 50, 0.95, 1.0, 3, 0],
         "no-such-model-zz9"),
    ]),
    Endpoint("gpt_score", heavy=True, examples=[["smollm2", "The cat sat on the mat."]],
             bad=[(["smollm2", "   "], "empty"), (["smollm2", "x" * 5000], "limit")]),
    Endpoint("gpt_step_start", heavy=True, examples=[["smollm2", "The cat sat on the", "plain", 0.8, 50, 0.95, 1.0]],
             bad=[(["smollm2", "", "plain", 0.8, 50, 0.95, 1.0], "empty")]),
    Endpoint("gpt_step_add", heavy=True,
             bad=[(["smollm2", "", "1. x · id 5", 0.8, 50, 0.95, 1.0], "Start from this prompt")]),
    Endpoint("gpt_template", examples=[["translate", 3], ["translate", 0], ["sentiment", 1]],
             bad=[(["translate", 9], "maximum value 3"), (["nope", 1], "not in the list of choices")]),
]

if __name__ == "__main__":
    import launch

    launch.main(["--tabs", "gpt"])
