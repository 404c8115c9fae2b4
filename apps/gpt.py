"""GPT tab: generate token by token (greedy, sampling, beam search), step through, prompt, score text.

Thin glue over :mod:`dlcore.nlp`; a hub model is fetched first (:mod:`apps.hubstep`), never in a heavy slot.
"""

from __future__ import annotations

import time
from typing import Any, Iterator

import gradio as gr

from apps.common import (HEAVY, LATEX, LIGHT, STOPS, Dropdown, Endpoint, ErrorDemo, Number, Radio, SeedRef, Slider,
                         guard, md_escape, on)
from apps.hubstep import chain, fetch_messages, from_disk
from dlcore.nlp.prompts import PROMPT_MODES, TEMPLATES, GenerateExample, few_shot_prompt, generate_examples
from dlcore.nlp.registry import STRATEGIES, ModelRef, causal_choices, loading_note, resolve_causal
from dlcore.textinput import parse_choice, parse_int, parse_number, parse_text

TITLE = "GPT: generate and prompt"
_A, _B = "000_5114ce2b17ca1821.txt", "003_1dbce9a3816ea850.txt"
SEEDS = [SeedRef(_A, "8.6.2", "GPT"), SeedRef(_A, "8.4.8", "tricks"), SeedRef(_A, "8.3.1", "基本的RNN"),
         SeedRef(_B, "dl_12", "GPT")]
RUN_BUTTON = "gpt-run"
MAX_PROMPT_TOKENS = 512
TABLE_WIDTHS = ["9%", "27%", "13%", "16%", "24%", "11%"]
#: The panel's starting values (the first API example is the same).
DEFAULT = GenerateExample("default", "The capital of France is")
INTRO = r"""
A GPT is a Transformer **decoder** trained on one objective: predict the next token, $L_1=\sum_i \log P(u_i \mid
u_{i-k},\dots,u_{i-1})$ (seed 003 §dl_12). Generating text is that prediction repeated: look at the logits $z$ for the
next token, reshape them (temperature $\mathrm{softmax}(z/T)_i = e^{z_i/T}/\sum_j e^{z_j/T}$, top-k, top-p, repetition
penalty), pick one (the argmax = **greedy**, a random draw = **sampling**, or keep the $k$ best partial sentences =
**beam search**; greedy is beam width 1, seed 000 §8.4.8), append it, repeat. GPT-2/3 showed that the *prompt alone*
can set the task: **zero-, one-, few-shot in-context learning** (语境学习), with no gradient step (seed 000 §8.6.2).
"""


# ----------------------------------------------------------------------------- helpers
def _lm(ref: ModelRef) -> tuple[Any, Any]:
    """Load from disk only (patched in tests); a hub model not on disk is a message, not a wait."""
    from dlcore.nlp.causal import load_causal

    return from_disk(load_causal, ref, "/gpt_fetch")


def _cfg(strategy: Any, max_new: Any, T: Any, top_k: Any, top_p: Any, rep: Any, beams: Any, seed: Any) -> Any:
    from dlcore.nlp.decoding import DecodeConfig

    return DecodeConfig(strategy=parse_choice(strategy, "decoding", STRATEGIES),
                        max_new_tokens=parse_int(max_new, "max new tokens", lo=1, hi=256),
                        temperature=parse_number(T, "temperature"), top_k=parse_int(top_k, "top-k", lo=0),
                        top_p=parse_number(top_p, "top-p"), repetition_penalty=parse_number(rep, "repetition penalty"),
                        num_beams=parse_int(beams, "beam width", lo=1), seed=parse_int(seed, "seed", lo=0)).validate()


def _prompt_ids(tok: Any, prompt: Any, mode: Any) -> Any:
    from dlcore.nlp.scoring import MAX_TEXT_CHARS, encode_prompt

    return encode_prompt(tok, parse_text(prompt, "prompt", max_chars=MAX_TEXT_CHARS),
                         parse_choice(mode, "prompt mode", PROMPT_MODES), max_tokens=MAX_PROMPT_TOKENS)


def fetch_model(model_name: Any) -> Iterator[str]:
    """Make sure a hub model is on disk (download with deadlines, progress streamed); offline models: at once."""
    yield from fetch_messages([resolve_causal(model_name)])


@guard
def generate(model_name: Any, prompt: Any, mode: Any, strategy: Any, max_new: Any, T: Any, top_k: Any, top_p: Any,
             rep: Any, beams: Any, seed: Any, request: gr.Request) -> Iterator[tuple[Any, ...]]:
    """Stream a continuation: (status, text, table, beams, plot, slider, seen, picks, steps state)."""
    from dlcore.nlp.decoding import iter_beam_search, step_view, stream_generate
    from dlcore.nlp.tokens import readable_token
    from dlcore.plotting.nlp_gpt import beam_history_plot, step_bars

    ref = resolve_causal(model_name)
    cfg = _cfg(strategy, max_new, T, top_k, top_p, rep, beams, seed)
    parse_text(prompt, "prompt")
    if note := loading_note(ref):
        yield md_escape(note), "", [], [], None, gr.skip(), "", [], gr.skip()
    model, tok = _lm(ref)
    ids = _prompt_ids(tok, prompt, mode)
    seen, t0, n = tok.decode(ids[0]), time.perf_counter(), cfg.max_new_tokens
    with STOPS.running(request, "gpt_generate") as stop:
        if cfg.strategy == "beam":
            for snap in iter_beam_search(model, tok, ids, cfg):
                best, k = (snap.texts or [snap.history[-1][0][0]])[0], len(snap.history)
                yield (f"Beam search, width {cfg.num_beams}: step {k} of at most {n} (score: Σ log p / length when "
                       "finished, Σ log p while running)", best, [], snap.rows(), None, gr.skip(), seen, [], [])
                if stop.is_set():
                    break
            end = f"⏹ stopped at step {k}/{n}" if stop.is_set() else f"✅ done: {k} steps"
            yield (f"{end}. Beam search, width {cfg.num_beams}: finished beams are ranked by Σ log p / length "
                   "(transformers' length penalty 1.0); the plot shows the running beams.", best, [],
                   snap.rows(running=stop.is_set()), beam_history_plot(snap.history, snap.scores),
                   gr.update(interactive=False), seen, [], [])
            return
        steps: list[Any] = []
        text = status = ""
        for st in stream_generate(model, tok, ids, cfg):
            steps.append(v := step_view(st))
            text = st.text
            rate = (st.index + 1) / max(time.perf_counter() - t0, 1e-6)
            status = (f"{cfg.strategy}: token {st.index + 1}/{n} · {rate:.1f} tokens/s · chosen "
                      f"`{md_escape(readable_token(st.token))}` with p = {st.prob:.3g}")
            if cfg.strategy == "sample":
                status += f" · {v.kept} of {len(tok)} tokens survive the filters"
            yield status, text, v.rows, [], gr.skip(), gr.skip(), seen, gr.skip(), gr.skip()
            if stop.is_set():
                break
        k, v = len(steps), steps[-1]  # the final frame: no timings, so equal calls give equal answers
        end = f"⏹ stopped at token {k}/{n}" if stop.is_set() else f"✅ done: {k} tokens"
        yield (f"{end} ({cfg.strategy}); the last pick `{md_escape(readable_token(v.token))}` had p = {v.prob:.3g}",
               text, v.rows, [], step_bars(v, f"Step {k}: next-token bars"),
               gr.update(minimum=1, maximum=max(k, 2), value=k, step=1, interactive=True), seen,
               [(readable_token(s.token), s.surprise) for s in steps], steps)


@guard
def stop_generate(request: gr.Request) -> None:
    """Stop this session's generation after the current token (it then says so and keeps its text)."""
    STOPS.stop(request, "gpt_generate")


@guard
def inspect_step(steps: Any, k: Any) -> tuple[Any, Any, str]:
    """The next-token table and bars of step ``k`` of the last greedy/sampling run."""
    from dlcore.nlp.tokens import readable_token
    from dlcore.plotting.nlp_gpt import step_bars

    i = parse_int(k, "inspect step", lo=1)
    if not steps:
        raise ValueError("no generation to inspect yet: press Generate (greedy or sampling) first")
    v = steps[parse_int(i, "inspect step", hi=len(steps)) - 1]
    title = f"Step {v.index + 1}: chose {readable_token(v.token)} (p = {v.prob:.3f})"
    return v.rows, step_bars(v, title), md_escape(title)


@guard
def fill_template(name: Any, shots: Any) -> tuple[str, str, str]:
    """The zero/one/few-shot prompt of template ``name`` with ``shots`` examples."""
    t = TEMPLATES[parse_choice(name, "template", list(TEMPLATES))]
    k = parse_int(shots, "shots k", lo=0, hi=len(t.examples))
    kind = {0: "zero-shot", 1: "one-shot"}.get(k, f"few-shot (k = {k})")
    return few_shot_prompt(t, k), "plain", f"Template **{t.name}**, {kind}: {md_escape(t.source)}"


# ----------------------------------------------------------------------------- step through
def _step_outputs(ref: ModelRef, model: Any, tok: Any, ids: Any, prompt_len: int, cfg: Any) -> tuple[Any, ...]:
    from dlcore.nlp.decoding import step_through
    from dlcore.plotting.nlp_gpt import next_token_bars

    st = step_through(model, tok, ids, prompt_len, cfg)
    fig = next_token_bars(st.table.tokens, st.table.p_before.tolist(), st.table.p_after.tolist(),
                          title="Candidates for the next token: pick one")
    status = f"{st.appended} token(s) appended so far. Pick the next one and press Append."
    choices = list(st.candidates)
    return (status, st.text, st.table.rows(None, readable=True), gr.update(choices=choices, value=choices[0]), fig,
            {"ref": ref, "st": st})


@guard
def step_start(model_name: Any, prompt: Any, mode: Any, T: Any, top_k: Any, top_p: Any, rep: Any) -> tuple[Any, ...]:
    """Tokenise the prompt and show the candidates for the first new token."""
    ref, cfg = resolve_causal(model_name), _cfg("sample", 1, T, top_k, top_p, rep, 1, 0)
    parse_text(prompt, "prompt")
    model, tok = _lm(ref)
    ids = _prompt_ids(tok, prompt, mode)
    return _step_outputs(ref, model, tok, ids, ids.shape[1], cfg)


@guard
def step_add(state: Any, choice: Any, T: Any, top_k: Any, top_p: Any, rep: Any) -> tuple[Any, ...]:
    """Append the learner's chosen token and show the next candidates."""
    import torch

    cfg = _cfg("sample", 1, T, top_k, top_p, rep, 1, 0)
    if not isinstance(state, dict) or "st" not in state:
        raise ValueError("no step-through in progress: press 'Start from this prompt' first")
    st = state["st"]
    token_id = st.candidates[parse_choice(choice, "candidate", list(st.candidates))]
    return _step_outputs(state["ref"], *_lm(state["ref"]), torch.tensor([[*st.ids, token_id]]), st.prompt_len, cfg)


@guard
def score(model_name: Any, text: Any) -> tuple[Any, ...]:
    """Per-token log-probabilities, surprise colouring and perplexity of ``text``."""
    from dlcore.nlp.scoring import MAX_TEXT_CHARS, score_text
    from dlcore.plotting.nlp_gpt import surprise_bars

    ref, text = resolve_causal(model_name), parse_text(text, "text", max_chars=MAX_TEXT_CHARS)
    s = score_text(*_lm(ref), text)
    md = (f"**Perplexity = {s.perplexity:.2f}**  \n{s.perplexity_latex()}  \nThe model hesitates, on average, as if "
          f"between **{s.perplexity:.1f} equally likely tokens** at each step (seed 000 §8.3.1). Red = surprising "
          "(many bits), pale = expected.")
    return md, s.spans(), s.rows(), surprise_bars(s.tokens, s.surprise_bits.tolist(), perplexity=s.perplexity)


@guard
def model_info(model_name: Any) -> str:
    """What the chosen model is and whether it is on this machine (memory and disk only; never the network)."""
    from dlcore.nlp.registry import availability

    ref = resolve_causal(model_name)
    return f"**Model:** {md_escape(ref.label)}. {availability(ref)}"


# ----------------------------------------------------------------------------- UI
def build() -> None:
    from dlcore.nlp.tables import BEAM_HEADERS, SCORE_HEADERS, TABLE_HEADERS

    gr.Markdown(INTRO, latex_delimiters=LATEX)
    with gr.Row():
        model = Dropdown(list(causal_choices()), value="smollm2", allow_custom_value=True, scale=3,
                         label="Model (offline default smollm2 = SmolLM2-135M-Instruct; hub ids need the hub)")
        info_btn = gr.Button("Check model", size="sm", scale=0)
        info = gr.Markdown("**Model:** SmolLM2-135M-Instruct (offline). Loads on first use.")
    on(info_btn.click, model_info, model, info, api_name="gpt_model_info", **LIGHT)
    d = DEFAULT
    with gr.Tab("Generate"):
        with gr.Row():
            with gr.Column(scale=3):
                prompt = gr.Textbox(d.prompt, lines=4, label="Prompt")
                with gr.Row():
                    run = gr.Button("Generate", variant="primary", elem_id=RUN_BUTTON)
                    stop = gr.Button("Stop", variant="stop", elem_id="gpt-stop")
                status = gr.Markdown()  # progress, "stopped", errors: next to the button, also on a phone
                with gr.Row():
                    mode = Radio(list(PROMPT_MODES), value=d.mode, label="Prompt mode",
                                 info="chat wraps the prompt in the instruct model's chat template")
                    strategy = Radio(list(STRATEGIES), value=d.strategy, label="Decoding")
            with gr.Column(scale=2), gr.Accordion("Decoding settings: max tokens, T, top-k, top-p, penalty, beams",
                                                  open=False):
                max_new = Slider(1, 256, d.max_new_tokens, step=1, label="max new tokens")
                T = Slider(0.05, 3.0, d.temperature, step=0.05, label="temperature T (sampling)")
                top_k = Slider(0, 200, d.top_k, step=1, label="top-k (0 = off, sampling)")
                top_p = Slider(0.01, 1.0, d.top_p, step=0.01, label="top-p (1 = off, sampling)")
                rep = Slider(0.5, 2.0, d.repetition_penalty, step=0.05, label="repetition penalty (1 = off)")
                beams = Slider(1, 8, d.num_beams, step=1, label="beam width k (beam)")
                seed = Number(d.seed, precision=0, label="seed (sampling)")
        with gr.Accordion("Zero / one / few-shot prompt templates (in-context learning)", open=False), gr.Row():
            tpl = Dropdown(list(TEMPLATES), value="translate", label="template")
            shots = Slider(0, 3, 3, step=1, label="shots k (0 = zero-shot, 1 = one-shot)")
            tpl_btn = gr.Button("Put into the prompt", size="sm")
            tpl_md = gr.Markdown()
        on(tpl_btn.click, fill_template, [tpl, shots], [prompt, mode, tpl_md], api_name="gpt_template", **LIGHT)
        with gr.Accordion("Exact prompt the model reads (after the chat template, decoded from its ids)", open=False):
            seen = gr.Textbox(show_label=False, lines=4, interactive=False)
        out = gr.Textbox(label="Generated text (streamed token by token)", lines=4, interactive=False)
        picked = gr.HighlightedText(label="Each generated token coloured by how unlikely it was when picked (red = a "
                                    "low-probability pick, typical of hot sampling)", show_legend=False,
                                    combine_adjacent=False)
        table = gr.Dataframe(headers=TABLE_HEADERS, label="Next-token table at the current step", wrap=True,
                             column_widths=TABLE_WIDTHS)
        beam_df = gr.Dataframe(headers=BEAM_HEADERS, label="Beams and their scores (beam search)", wrap=True,
                               column_widths=["8%", "62%", "12%", "18%"])
        with gr.Row():
            with gr.Column(scale=1):
                step_sl = Slider(1, 256, 1, step=1, label="inspect step (after a greedy/sampling run)",
                                 interactive=False)
                step_md = gr.Markdown()
            plot = gr.Plot(label="Distribution before / after the filters", show_label=False)
        steps_state = gr.State([])
        inputs = [model, prompt, mode, strategy, max_new, T, top_k, top_p, rep, beams, seed]
        chain(run.click, fetch_model, model, generate, inputs,
              [status, out, table, beam_df, plot, step_sl, seen, picked, steps_state], "gpt_generate", "gpt_fetch")
        on(stop.click, stop_generate, None, None, api_name="gpt_stop", **LIGHT)
        on(step_sl.release, inspect_step, [steps_state, step_sl], [table, plot, step_md], api_name="gpt_inspect_step",
           **LIGHT)
        examples = generate_examples()
        gr.Markdown("**Examples.** " + " ".join((generate_examples.__doc__ or "").split()))
        gr.Examples([e.values() for e in examples], inputs[1:], cache_examples=False,
                    example_labels=[e.label for e in examples])

    with gr.Tab("Step through (you pick the token)"):
        gr.Markdown("Start from a prompt: the model shows its top 10 candidates, with probabilities before and after "
                    "the Generate tab's temperature / top-k / top-p. Pick one and append it: you are the decoding "
                    "strategy.")
        with gr.Row():
            s_prompt = gr.Textbox("The cat sat on the", lines=2, label="Prompt to start from", scale=3)
            s_mode = Radio(list(PROMPT_MODES), value="plain", label="Prompt mode", scale=1)
        s_start = gr.Button("Start from this prompt", variant="primary", elem_id="gpt-step-start")
        s_status = gr.Markdown()
        s_text = gr.Textbox(label="Text you have generated so far", interactive=False)
        with gr.Row():
            s_choice = Dropdown([], label="Candidates (p used = after the filters)", scale=2)
            s_add = gr.Button("Append the chosen token", scale=0, elem_id="gpt-step-add")
        with gr.Row():
            s_table = gr.Dataframe(headers=TABLE_HEADERS, label="Next-token table", wrap=True,
                                   column_widths=TABLE_WIDTHS)
            s_plot = gr.Plot(label="Candidates", show_label=False)
        s_outs = [s_status, s_text, s_table, s_choice, s_plot, gr.State(None)]
        chain(s_start.click, fetch_model, model, step_start, [model, s_prompt, s_mode, T, top_k, top_p, rep], s_outs,
              "gpt_step_start")
        on(s_add.click, step_add, [s_outs[-1], s_choice, T, top_k, top_p, rep], s_outs, api_name="gpt_step_add",
           **HEAVY)

    with gr.Tab("Score a text (perplexity)"):
        gr.Markdown("Every token gets log P(token | tokens before) from one forward pass; perplexity is the "
                    "exponential of the average negative log-probability (seed 000 §8.3.1).")
        sc_text = gr.Textbox("The cat sat on the mat.", lines=3, label="Text to score")
        sc_btn = gr.Button("Score", variant="primary", elem_id="gpt-score")
        sc_md = gr.Markdown(latex_delimiters=LATEX)
        sc_hl = gr.HighlightedText(label="Tokens coloured by surprise (red = surprising)", show_legend=False,
                                   combine_adjacent=False)
        with gr.Row():
            sc_df = gr.Dataframe(headers=SCORE_HEADERS, label="Per-token log-probabilities", wrap=True)
            sc_plot = gr.Plot(label="Surprise per token", show_label=False)
        chain(sc_btn.click, fetch_model, model, score, [model, sc_text], [sc_md, sc_hl, sc_df, sc_plot], "gpt_score")
        gr.Examples([["The cat sat on the mat."], ["Mat the on sat cat the."], ["Colorless green ideas sleep "
                     "furiously."], ["The capital of France is Paris."], ["The capital of France is Berlin."]],
                    [sc_text])


_GEN = ["smollm2", *DEFAULT.values()]
_bad = lambda i, v: [*_GEN[:i], v, *_GEN[i + 1:]]  # noqa: E731
#: The browser test clears the prompt, presses Generate and reads the message in place.
ERROR_DEMO = ErrorDemo(fill={"Prompt": "   "}, click=RUN_BUTTON, expect="prompt is empty")
_S = ["The cat sat on the", "plain", 0.8, 50, 0.95, 1.0]
ENDPOINTS = [
    Endpoint("gpt_generate", heavy=True, stateful=True, examples=[
        _GEN, ["smollm2", "Once upon a time", "plain", "sample", 8, 0.8, 50, 0.9, 1.2, 3, 1],
        ["smollm2", "The capital of France is", "plain", "beam", 6, 0.8, 50, 0.95, 1.0, 3, 0],
        ["smollm2", "What is 2+2?", "chat", "greedy", 8, 0.8, 50, 0.95, 1.0, 3, 0]],
        facts=["Paris", "done:", "Beam search, width 3", "4"], bad=[
        (_bad(1, ""), "prompt is empty"), (_bad(1, "word " * 1000), "limit"), (_bad(1, "cat " * 900), "512 tokens"),
        (["smollm2", "Hi", "plain", "sample", 8, 0.0, 50, 0.95, 1.0, 3, 0], "temperature"),
        (_bad(4, 100000), "max new tokens"), (_bad(0, "no-such-user-zz9/no-such-model-zz9"), "no-such-model-zz9"),
        (_bad(0, "x" * 100_000), "not one of the offered models"), (_bad(3, ["greedy"]), "decoding")]),
    Endpoint("gpt_fetch", examples=[["smollm2"]], facts=["on this machine"], heavy=True,
             bad=[(["../../etc"], "not one of the offered models"), ([{"a": 1}], "model must be text")]),
    Endpoint("gpt_score", heavy=True, examples=[["smollm2", "The cat sat on the mat."]], facts=["Perplexity"],
             bad=[(["smollm2", "   "], "empty"), (["smollm2", "x" * 5000], "limit"), ([None, "hi"], "model")]),
    Endpoint("gpt_step_start", heavy=True, stateful=True, examples=[["smollm2", *_S]], facts=["appended so far"],
             bad=[(["smollm2", "", *_S[1:]], "empty")]),
    Endpoint("gpt_step_add", heavy=True, stateful=True,  # (a fresh session: "press 'Start from this prompt' first")
             bad=[(["1. x", 0.0, *_S[3:]], "temperature"), (["1. x", 0.8, -1, *_S[4:]], "top-k")]),
    Endpoint("gpt_template", examples=[["translate", 3], ["translate", 0], ["sentiment", 1]],
             facts=["cheese =>", "zero-shot", "one-shot"],
             bad=[(["translate", 9], "above the maximum 3"), (["nope", 1], "not one of")]),
    Endpoint("gpt_model_info", examples=[["smollm2"], ["gpt2"]], facts=["SmolLM2-135M-Instruct", "gpt2"],
             bad=[(["/root/.ssh"], "not one of the offered models"), ([["smollm2"]], "model must be text")]),
    Endpoint("gpt_inspect_step", stateful=True, bad=[(["two"], "inspect step"), ([0], "inspect step")]),
]

if __name__ == "__main__":
    import launch

    launch.main(["--tabs", "gpt"])
