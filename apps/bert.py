"""BERT tab: look inside (tokens, segments, embeddings, attention), fill the blank, fine-tune vs in-context.

Thin glue over :mod:`dlcore.nlp`; a hub model is fetched first (:mod:`apps.hubstep`), never in a heavy slot.
"""

from __future__ import annotations

from typing import Any, Iterator

import gradio as gr

from apps.common import (HEAVY, LATEX, Dropdown, Endpoint, ErrorDemo, Number, Radio, SeedRef, Slider,
                         guard, md_escape, on, on_first_open)
from apps.hubstep import chain, fetch_messages, from_disk
from dlcore.nlp.examples import EXAMPLE_SETS, FILL_EXAMPLES, INSIDE_EXAMPLES
from dlcore.nlp.registry import (FILL_CHOICES, OFFLINE_FILL, POOLINGS, ModelRef, encoder_choices, loading_note,
                                 resolve_causal, resolve_encoder, resolve_fill)
from dlcore.textinput import parse_choice, parse_int, parse_number, parse_text

TITLE = "BERT: inside, fill the blank, fine-tune"
_A, _B = "000_5114ce2b17ca1821.txt", "003_1dbce9a3816ea850.txt"
SEEDS = [SeedRef(_A, "8.6.1", "BERT"), SeedRef(_A, "8.6.2", "GPT"), SeedRef(_B, "dl_11_1_2", "模型输入"),
         SeedRef(_B, "dl_11_1_3", "预训练"), SeedRef(_B, "dl_11_1_4", "微调")]
RUN_BUTTON = "bert-run"
MAX_CHARS = 1_000
DEFAULT_TRAIN, DEFAULT_TEST = EXAMPLE_SETS["sentiment"]
D = dict(a="the cat sat on the mat", b="it was very happy", encoder="minilm", layer=1, head=0, token=0,
         fill="The cat sat on the [MASK].", top_k=10,
         mask_text="the quick brown fox jumps over the lazy dog near the river bank", mask_prob=0.15, seed=35,
         pooling="cls", epochs=150, lr=0.003)
INTRO = r"""
**BERT** (Bidirectional Encoder Representations from Transformers, seed 000 §8.6.1, seed 003 §dl_11) is a stack
of Transformer **encoder** layers: every token attends to the words on *both* sides. Its input is
$E = E_{\text{token}} + E_{\text{position}} + E_{\text{segment}}$ (WordPiece tokens, learned absolute positions,
sentence A/B); it is pre-trained by filling blanks (masked LM, 掩码语言模型) and fine-tuned by putting a small classifier on
the $\mathrm{[CLS]}$ vector, $\hat y = \mathrm{softmax}(W h_{\mathrm{[CLS]}} + b)$.
Offline the encoder is **all-MiniLM-L6-v2** (a real BERT: 6 layers, 12 heads, WordPiece, no MLM head);
`bert-base-uncased` and other hub names are downloaded first where the Hugging Face Hub is reachable (e.g. on
Spaces) and fail within a few seconds with a clear message where it is not.
"""


# ----------------------------------------------------------------------------- loading (patched in tests)
def _load(ref: ModelRef) -> tuple[Any, Any]:
    """``(model, tokenizer)`` from disk only; a hub model not on disk is a message, not a wait."""
    from dlcore.nlp.causal import load_causal
    from dlcore.nlp.encoder import load_encoder

    return from_disk(load_causal if ref.role == "causal" else load_encoder, ref, "/bert_fetch")


def _note(ref: ModelRef, fallback: str = "") -> str:
    return md_escape(loading_note(ref) or fallback)


def fetch_models(name: Any) -> Iterator[str]:
    """Make sure an encoder (or a fill method's model) is on disk; hub models are downloaded with deadlines."""
    yield from fetch_messages([resolve_fill(name) if name == OFFLINE_FILL else resolve_encoder(name)])


def fetch_fill(method: Any) -> Iterator[str]:
    """The model behind a fill-the-blank method (the offline causal LM, or a masked LM)."""
    yield from fetch_messages([resolve_fill(method)])


def fetch_finetune(encoder_name: Any) -> Iterator[str]:
    """Fine-tune vs in-context needs the encoder and the causal LM."""
    yield from fetch_messages([resolve_encoder(encoder_name), resolve_causal()])


# ----------------------------------------------------------------------------- Inside BERT
@guard
def inside(text_a: Any, text_b: Any, encoder_name: Any, layer: Any, head: Any, token: Any) -> Iterator[tuple]:
    """Token table, embedding figure, attention map, 'from this token' row, every head; sliders follow the input."""
    from dlcore.nlp.bert_inside import MAX_TOKENS, inside_bert, inside_view
    from dlcore.plotting.nlp_bert import (attention_figure, attention_from_figure, embedding_components_figure,
                                          heads_grid_figure)

    ref = resolve_encoder(encoder_name)
    a, b = parse_text(text_a, "sentence A", max_chars=MAX_CHARS), parse_text(text_b, "sentence B", allow_empty=True,
                                                                            max_chars=MAX_CHARS)
    lay, hd, tk = parse_int(layer, "layer", lo=1, hi=64), parse_int(head, "head", lo=0, hi=64), \
        parse_int(token, "token index", lo=0, hi=MAX_TOKENS)
    if note := _note(ref):
        yield (note, *[gr.skip()] * 8)
    model, tok = _load(ref)
    r = inside_bert(model, tok, a, b)
    v = inside_view(r, lay, hd, tk)
    L, H = r.emb_sum.shape
    md = (f"**{md_escape(ref.label)}**: {v.num_layers} layers × {v.num_heads} heads, hidden size {H}; {L} tokens. "
          "max |E_token + E_position + E_segment − (the model's own embedding before LayerNorm)| = "
          f"**{r.max_abs_diff:.2e}** (the sum *is* what BERT computes). Layer {lay}, {v.head_name}; row {tk} = "
          f"attention **from** {md_escape(repr(r.tokens[tk]))}.")
    yield (md, v.rows, embedding_components_figure(r.tokens, r.token_emb, r.position_emb, r.segment_emb, r.emb_sum),
           attention_figure(v.attention, r.tokens, title=f"layer {lay}, {v.head_name}", highlight=tk),
           attention_from_figure(v.row, r.tokens, tk, title=f"attention from token {tk} {r.tokens[tk]!r} "
                                                            f"(layer {lay}, {v.head_name})"),
           heads_grid_figure(v.heads, r.tokens, layer=lay, selected=hd),
           gr.update(maximum=v.num_layers), gr.update(maximum=v.num_heads), gr.update(maximum=v.num_tokens - 1))


# ----------------------------------------------------------------------------- Fill the blank
@guard
def fill(text: Any, method: Any, top_k: Any) -> Iterator[tuple]:
    """Top-k words for the single [MASK]: the MLM head of a hub BERT, or the offline causal-LM rescoring."""
    from dlcore.nlp.fill_mask import fill_mask_causal, fill_mask_mlm, split_mask
    from dlcore.plotting.nlp_bert import fill_mask_figure

    ref = resolve_fill(method)
    text = parse_text(text, "sentence", max_chars=MAX_CHARS)
    split_mask(text)  # bad input fails before any model loads
    k = parse_int(top_k, "top-k", lo=1, hi=50)
    if note := _note(ref):
        yield note, gr.skip(), gr.skip()
    model, tok = _load(ref)
    if ref.role == "causal":
        r = fill_mask_causal(model, tok, text, top_k=k)
        label = (f"**Offline substitute — not BERT.** {md_escape(ref.label)} reads left-to-right: it proposes words "
                 "from the left context and from a copy-the-sentence-and-fill-the-blank prompt, then scores each "
                 "candidate by log p(word + right side | left side), so the words on both sides count. Probabilities "
                 f"are renormalised over the {r.n_scored} candidates it scored (this lab's 60-sentence cloze set: "
                 "top-1 77 %, top-5 93 %, `bench/bench_bert.py`).")
    else:
        r = fill_mask_mlm(model, tok, text, top_k=k)
        label = (f"**Real BERT masked-LM head** ({md_escape(ref.label)}): softmax over the {r.n_scored:,}-token "
                 "WordPiece vocabulary.")
    fig = fill_mask_figure([c.word for c in r.candidates], [c.prob for c in r.candidates],
                           title="candidates for [MASK]")
    yield f"{label}\n\nTop guess: **{md_escape(r.filled)}**", r.rows(), fig


@guard
def mask_rule(text: Any, encoder_name: Any, mask_prob: Any, seed: Any) -> tuple[str, Any]:
    """Apply BERT's 80/10/10 pre-training corruption to the WordPiece tokens of the sentence."""
    from dlcore.nlp.fill_mask import MAX_CHARS as MASK_CHARS, mask_sentence
    from dlcore.nlp.tokens import readable_token

    ref = resolve_encoder(encoder_name)
    text = parse_text(text, "sentence to mask", max_chars=MASK_CHARS)
    p = parse_number(mask_prob, "mask probability", lo=0.0, hi=1.0)
    r = mask_sentence(_load(ref)[1], text, mask_prob=p, seed=parse_int(seed, "seed", lo=0, hi=2**31 - 1))
    rows = [[i, t, c, readable_token(s), a, lab] for i, t, c, s, a, lab in r.rows()]
    n, c = r.n_chosen, r.counts
    md = (f"Each token except [CLS]/[SEP] is chosen with probability {p:g}; of the chosen, 80 % become [MASK], 10 % "
          "a random token, 10 % stay unchanged — and BERT must predict the original token at every chosen position "
          f"(the loss ignores the others). Here: **{n}** of {len(r.tokens) - 2} tokens chosen ({c['[MASK]']} → [MASK], "
          f"{c['random']} → random, {c['keep']} kept). "
          + ("Nothing was chosen this time: change the seed or raise the probability." if n == 0 else ""))
    return md, rows


# ----------------------------------------------------------------------------- Fine-tune vs in-context
@guard
def finetune(train_text: Any, test_text: Any, encoder_name: Any, pooling: Any, epochs: Any, lr: Any,
             seed: Any) -> Iterator[tuple[Any, ...]]:
    """Train a linear head on frozen encoder vectors (live loss), then prompt the causal LM 0/1/few-shot."""
    from dlcore.nlp.finetune import ProbeConfig, iter_compare, parse_labelled
    from dlcore.plotting.nlp_bert import finetune_figure

    ref, lm_ref = resolve_encoder(encoder_name), resolve_causal()
    train = parse_labelled(parse_text(train_text, "training examples"), "training examples")
    test = parse_labelled(parse_text(test_text, "test sentences"), "test sentences")
    cfg = ProbeConfig(pooling=parse_choice(pooling, "sentence vector h", POOLINGS),  # type: ignore[arg-type]
                      epochs=parse_int(epochs, "epochs", lo=1, hi=2000),
                      lr=parse_number(lr, "learning rate", lo=1e-5, hi=10.0), seed=parse_int(seed, "seed", lo=0))
    yield (_note(ref, "Encoding the sentences…"), None, gr.update(value=[[e.text, e.label] for e in test],
                                                                   headers=["test sentence", "true label"]), "")
    model, tok = _load(ref)
    p = None
    for p in iter_compare(model, tok, train, test, cfg, lm=lambda: _load(lm_ref)):
        headers, rows = p.table()
        if p.stage == "training":
            yield (f"(a) Fine-tuning the linear head on frozen {cfg.pooling.upper()} vectors: epoch {p.epoch}/"
                   f"{p.epochs}, loss {p.losses[-1]:.4f}", finetune_figure(p.losses), gr.skip(), "")
        elif p.stage == "prompting":
            msg = f"(b) In-context learning, {p.prompt_name}: done" if p.prompt_name else \
                "(b) " + _note(lm_ref, "Prompting the causal LM…")
            yield (msg, finetune_figure(p.losses, p.accuracies), gr.update(value=rows, headers=headers),
                   f"--- {p.prompt_name} prompt for the first test sentence ---\n{p.prompt}" if p.prompt else "")
    assert p is not None
    same = "; ".join(f"{k} said {v!r} for every sentence" for k, v in p.constant.items())
    yield (f"**Test accuracy** on {len(test)} sentences: "
           + ", ".join(f"{k} {v:.0%}" for k, v in p.accuracies.items())
           + f". (a) trained {p.n_params} parameters by gradient descent on {len(train)} examples; (b) changed no "
           "parameter at all — the examples are only in the prompt (in-context learning, 语境学习)."
           + (f" Note: {same} — a 135M-parameter model has a strong prior for one label word; the examples in the "
              "prompt are what move it." if same else ""),
           finetune_figure(p.losses, p.accuracies), gr.update(value=p.table()[1], headers=p.table()[0]),
           f"--- {p.prompt_name} prompt for the first test sentence ---\n{p.prompt}")


# ----------------------------------------------------------------------------- UI
def _inside_tab(encoder: Any) -> None:
    from dlcore.nlp.tables import TOKEN_HEADERS

    gr.Markdown("Type one sentence, or two (sentence B gets segment id 1). BERT adds [CLS] at the start and [SEP] "
                "after each sentence; WordPiece splits rare words into pieces marked `##`. In the grid of heads, look "
                "for heads that look at the previous or the next token (a diagonal just below or above the main one), "
                "heads that park their attention on [CLS] or [SEP] (a dark column), and heads that link the two "
                "sentences. Drag the sliders to change layer, head or token.")
    with gr.Row():
        a = gr.Textbox(D["a"], label="Sentence A (segment 0)", scale=3)
        b = gr.Textbox(D["b"], label="Sentence B (segment 1, optional)", scale=3)
    run = gr.Button("Look inside", variant="primary", elem_id=RUN_BUTTON)
    with gr.Row():  # ranges follow the model and the sentence (the handler updates them); MiniLM: 6 × 12
        layer = Slider(1, 6, D["layer"], step=1, label="layer")
        head = Slider(0, 12, D["head"], step=1, label="head (0 = mean of all heads)")
        token = Slider(0, 12, D["token"], step=1, label="attention from token # (0 = [CLS])")
    info = gr.Markdown()
    tokens = gr.Dataframe(headers=TOKEN_HEADERS, label="Tokens, ids, segments, positions and embedding norms",
                          wrap=True)
    emb_plot = gr.Plot(label="E = E_token + E_position + E_segment (first 32 dimensions)", show_label=False)
    with gr.Row():
        att_plot = gr.Plot(label="Attention map (row = query token)", show_label=False)
        from_plot = gr.Plot(label="Attention from the chosen token", show_label=False)
    grid_plot = gr.Plot(label="Every head of the chosen layer", show_label=False)
    ins, outs = [a, b, encoder, layer, head, token], [info, tokens, emb_plot, att_plot, from_plot, grid_plot,
                                                      layer, head, token]
    on_first_open(inside, ins, outs, **HEAVY)
    chain(run.click, fetch_models, encoder, inside, ins, outs, "bert_inside", "bert_fetch")
    on([layer.release, head.release, token.release], inside, ins, outs, api_name="bert_inside_sliders",
       api_visibility="undocumented", **HEAVY)
    for box in (a, b):  # a sentence typed anew: start again at [CLS] (the old index may not exist)
        box.input(lambda: 0, None, token, queue=False, show_progress="hidden", api_visibility="private")
    encoder.input(lambda: (1, 0, 0), None, [layer, head, token], queue=False, api_visibility="private")
    gr.Examples([[e.text_a, e.text_b, "minilm", e.layer, e.head, e.token] for e in INSIDE_EXAMPLES], ins,
                example_labels=[e.label for e in INSIDE_EXAMPLES], label="Examples")


def _fill_tab(encoder: Any) -> None:
    from dlcore.nlp.tables import FILL_HEADERS, MASK_HEADERS

    gr.Markdown("Put exactly one `[MASK]` in a sentence. A hub BERT answers with its **masked-LM head** (what it was "
                "pre-trained for). Offline there is no BERT with that head, so the default is an honest "
                "**substitute**: a small causal LM that scores each candidate with the words on both sides. The label "
                "under the result always says which one you got.")
    with gr.Row():
        ftext = gr.Textbox(D["fill"], label="Sentence with one [MASK]", scale=3)
        method = Dropdown(list(FILL_CHOICES), value=OFFLINE_FILL, allow_custom_value=True, label="Model", scale=2)
        top_k = Slider(1, 20, D["top_k"], step=1, label="top-k", scale=1)
    fbtn = gr.Button("Fill the blank", variant="primary", elem_id="bert-fill")
    fmd = gr.Markdown()
    with gr.Row():
        fdf = gr.Dataframe(headers=FILL_HEADERS, label="Candidates", wrap=True)
        fplot = gr.Plot(label="Top candidates", show_label=False)
    chain(fbtn.click, fetch_fill, method, fill, [ftext, method, top_k], [fmd, fdf, fplot], "bert_fill")
    gr.Examples([[e.text, e.method, 10] for e in FILL_EXAMPLES], [ftext, method, top_k],
                example_labels=[e.label for e in FILL_EXAMPLES], label="Examples (“needs the Hub”: fails offline)")
    gr.Markdown("### How BERT makes its blanks: the 80/10/10 rule (seed 003 §dl_11_1_3)")
    with gr.Row():
        mtext = gr.Textbox(D["mask_text"], label="Sentence to mask", scale=3)
        mprob = Slider(0.0, 1.0, D["mask_prob"], step=0.05, label="choose probability (paper: 0.15)")
        mseed = Number(D["seed"], precision=0, label="seed")
    mbtn = gr.Button("Apply the 80/10/10 rule", elem_id="bert-mask")
    mmd = gr.Markdown()
    mdf = gr.Dataframe(headers=MASK_HEADERS, label="Per token", wrap=True)
    chain(mbtn.click, fetch_models, encoder, mask_rule, [mtext, encoder, mprob, mseed], [mmd, mdf], "bert_mask_rule")


def _finetune_tab(encoder: Any) -> None:
    gr.Markdown("Same labelled sentences, two ways to use them (seed 000 §8.6.1 vs §8.6.2). **(a) Fine-tune:** freeze "
                "the encoder, train only $\\hat y=\\mathrm{softmax}(W h + b)$ on its [CLS] (or mean) vector by "
                "gradient descent (watch the loss live). **(b) In-context:** put the examples into a prompt for the "
                "causal LM — none (zero-shot), one per class (one-shot), all (few-shot) — and pick the label word with the "
                "highest log-probability. One line per sentence: `label: sentence`.", latex_delimiters=LATEX)
    with gr.Row():
        tr = gr.Textbox(DEFAULT_TRAIN, lines=8, label="Training examples (label: sentence)")
        te = gr.Textbox(DEFAULT_TEST, lines=8, label="Test sentences (label: sentence; the label is the answer key)")
    tbtn = gr.Button("Fine-tune and prompt", variant="primary", elem_id="bert-finetune")
    with gr.Accordion("Settings", open=False), gr.Row():
        pooling = Radio(list(POOLINGS), value=D["pooling"], label="sentence vector h")
        epochs = Slider(10, 1000, D["epochs"], step=10, label="epochs")
        lr = Number(D["lr"], label="learning rate (Adam)")
        fseed = Number(0, precision=0, label="seed")
    tmd = gr.Markdown()
    tplot = gr.Plot(label="Training loss (a) and test accuracy (a vs b)", show_label=False)
    tdf = gr.Dataframe(headers=["test sentence", "true label"], label="Predictions", wrap=True)
    tprompt = gr.Textbox(label="The prompt the causal LM saw (first test sentence)", lines=8, interactive=False)
    ins = [tr, te, encoder, pooling, epochs, lr, fseed]
    chain(tbtn.click, fetch_finetune, encoder, finetune, ins, [tmd, tplot, tdf, tprompt], "bert_finetune")
    sets = [(k, *v, p) for k, v in EXAMPLE_SETS.items() for p in POOLINGS if k == "sentiment" or p == "cls"]
    gr.Examples([[t, s, "minilm", p, D["epochs"], D["lr"], 0] for _, t, s, p in sets], ins,
                example_labels=[f"{k}, head on {p}" for k, _, _, p in sets], label="Examples")


def build() -> None:
    gr.Markdown(INTRO, latex_delimiters=LATEX)
    encoder = Dropdown(list(encoder_choices()), value=D["encoder"], allow_custom_value=True,
                       label="Encoder (minilm = offline all-MiniLM-L6-v2; others are downloaded from the hub)")
    with gr.Tab("Inside BERT"):
        _inside_tab(encoder)
    with gr.Tab("Fill the blank"):
        _fill_tab(encoder)
    with gr.Tab("Fine-tune vs in-context"):
        _finetune_tab(encoder)


_INS = [D["a"], D["b"], D["encoder"], D["layer"], D["head"], D["token"]]
_FT = [DEFAULT_TRAIN, DEFAULT_TEST, "minilm", "cls", D["epochs"], D["lr"], 0]
#: The browser test empties sentence A, presses Look inside and reads the message in place.
ERROR_DEMO = ErrorDemo(fill={"Sentence A (segment 0)": ""}, click=RUN_BUTTON, expect="sentence A is empty")
ENDPOINTS = [
    Endpoint("bert_inside", heavy=True, stateful=True, examples=[_INS, ["my dog is cute", "he likes playing", "minilm",
                                                                        6, 12, 3]],
             facts=["13 tokens", "10 tokens"],
             bad=[(["", "", "minilm", 1, 0, 0], "sentence A is empty"),
                  (["word " * 300, "", "minilm", 1, 0, 0], "limit"),
                  (["the cat", "", "minilm", 1, 0, 40], "token index 40"),
                  (["the cat", "", "minilm", 9, 0, 0], "layer 9 is out of range"),
                  (["the cat", "", "nobody/no-such-bert", 1, 0, 0], "cannot be loaded"),
                  (["the cat", "", "/root/.ssh", 1, 0, 0], "not one of the offered models"),
                  (["the cat", "", ["minilm"], 1, 0, 0], "encoder must be text")]),
    Endpoint("bert_fetch", heavy=True, examples=[["minilm"], [OFFLINE_FILL]], facts=["on this machine", "SmolLM2"],
             bad=[(["x" * 100_000], "not one of the offered models"), ([None], "encoder must be text")]),
    Endpoint("bert_fill", heavy=True, examples=[[D["fill"], OFFLINE_FILL, D["top_k"]]], facts=["mat"],
             bad=[(["", OFFLINE_FILL, 5], "empty"), (["the cat sat", OFFLINE_FILL, 5], "no [MASK]"),
                  (["[MASK] and [MASK]", OFFLINE_FILL, 5], "2 [MASK]s"),
                  (["the [MASK] " + "x" * 1000, OFFLINE_FILL, 5], "limit"),
                  (["the [MASK] sat", "nobody/no-such-bert", 5], "cannot be loaded"),
                  (["the [MASK] sat", "minilm", 5], "no masked-LM head"), (["the [MASK] sat", [1], 5], "model")]),
    Endpoint("bert_mask_rule", heavy=True, examples=[[D["mask_text"], D["encoder"], D["mask_prob"], D["seed"]]],
             facts=["of 13 tokens chosen"],
             bad=[(["", "minilm", 0.15, 0], "empty"), (["the cat", "minilm", 1.5, 0], "above the maximum"),
                  (["x" * 500, "minilm", 0.15, 0], "limit")]),
    Endpoint("bert_finetune", heavy=True, stateful=True, examples=[_FT], facts=["head on [CLS] 100%"],
             bad=[(["", *_FT[1:]], "empty"),
                  (["positive: good\npositive: fine", "positive: ok", *_FT[2:]], "at least two"),
                  ([DEFAULT_TRAIN, "neutral: meh", *_FT[2:]], "'neutral'"),
                  ([*_FT[:5], 99, 0], "above the maximum"), ([*_FT[:3], ["cls"], *_FT[4:]], "sentence vector h")]),
]

if __name__ == "__main__":
    import launch

    launch.main(["--tabs", "bert"])
