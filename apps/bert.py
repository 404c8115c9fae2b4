"""BERT tab: look inside (tokens, segments, embeddings, attention), fill the blank, fine-tune vs in-context."""

from __future__ import annotations

import time
from typing import Any, Iterator

import gradio as gr

from apps.common import HEAVY, Endpoint, SeedRef, guard

TITLE = "BERT: inside, fill the blank, fine-tune"
SEEDS: list[SeedRef] = [
    SeedRef("000_5114ce2b17ca1821.txt", "8.6.1", "BERT"),
    SeedRef("000_5114ce2b17ca1821.txt", "8.6.2", "GPT"),
    SeedRef("003_1dbce9a3816ea850.txt", "dl_11_1_2", "模型输入"),
    SeedRef("003_1dbce9a3816ea850.txt", "dl_11_1_3", "预训练"),
    SeedRef("003_1dbce9a3816ea850.txt", "dl_11_1_4", "微调"),
]
RUN_BUTTON = "bert-run"
LATEX = [{"left": "$$", "right": "$$", "display": True}, {"left": "$", "right": "$", "display": False}]

OFFLINE_FILL = "offline: SmolLM2 rescoring (causal LM, not BERT)"
FILL_CHOICES = [OFFLINE_FILL, "bert-base-uncased", "distilbert-base-uncased"]
TOKEN_HEADERS = ["#", "token", "id", "segment", "position", "‖E_token‖", "‖E_position‖", "‖E_segment‖", "‖E‖"]
FILL_HEADERS = ["rank", "word", "probability", "score"]
MASK_HEADERS = ["#", "token", "chosen (15 %)?", "what BERT sees", "action", "label to predict"]

DEFAULT_TRAIN = """positive: I loved this movie, it was wonderful.
negative: The film was boring and far too long.
positive: What a great story and brilliant acting.
negative: I hated every minute of it.
positive: A delightful, funny and warm film.
negative: The plot made no sense and the actors were awful.
"""
DEFAULT_TEST = """positive: An excellent film that I would watch again.
negative: A dull, terrible waste of time.
positive: The music was beautiful and the ending made me smile.
negative: Badly written and badly acted.
"""
TOPIC_TRAIN = """sport: The team won the match in the last minute.
food: She baked a chocolate cake for dessert.
sport: He runs ten kilometres every morning before work.
food: The soup needs more salt and pepper.
"""
TOPIC_TEST = """sport: The goalkeeper saved a penalty.
food: We had pasta with tomato sauce for dinner.
"""

D = dict(a="the cat sat on the mat", b="it was very happy", encoder="minilm", layer=1, head=0, token=0,
         fill="The cat sat on the [MASK].", top_k=10,
         mask_text="the quick brown fox jumps over the lazy dog near the river bank", mask_prob=0.15, seed=35,
         pooling="cls", epochs=150, lr=0.003)

INTRO = r"""
**BERT** (Bidirectional Encoder Representations from Transformers, seed 000 §8.6.1, seed 003 §dl_11) is a stack
of Transformer **encoder** layers: every token attends to the words on *both* sides. Its input is
$E = E_{\text{token}} + E_{\text{position}} + E_{\text{segment}}$ (WordPiece tokens, learned absolute positions, sentence A/B);
it is pre-trained by filling blanks (masked LM, 掩码语言模型) and fine-tuned by putting a small classifier on
the $\mathrm{[CLS]}$ vector, $\hat y = \mathrm{softmax}(W h_{\mathrm{[CLS]}} + b)$.
Models load on first use. Offline the encoder is **all-MiniLM-L6-v2** (a real BERT: 6 layers, 12 heads,
WordPiece, no MLM head); `bert-base-uncased` and other hub names work where the Hugging Face Hub is
reachable (e.g. on Spaces) and fail within ~2 s with a clear message where it is not.
"""


# ----------------------------------------------------------------------------- loaders (patched in tests)
def _encoder(name: str) -> tuple[Any, Any]:
    from dlcore.nlp.encoder import get_encoder

    return get_encoder((name or "").strip() or "minilm")


def _lm() -> tuple[Any, Any]:
    from dlcore.nlp.causal import get_causal_lm

    return get_causal_lm("smollm2")


def _lm_name() -> str:
    from dlcore.nlp.causal import describe_model

    return describe_model("smollm2")


def _loading_note(kind: str, name: str) -> str | None:
    """A message to show while a model loads for the first time, or None when it is already loaded."""
    if kind == "causal":
        from dlcore.nlp.causal import is_loaded

        return None if is_loaded("smollm2") else (
            "Loading SmolLM2-135M-Instruct (first use in this process: about a second from the converted copy; "
            "the very first run on a machine converts the packaged GGUF file once, about 20-30 s)…")
    from dlcore.nlp.encoder import is_loaded as enc_loaded

    k = "masked LM" if kind == "mlm" else "BERT encoder"
    return None if enc_loaded(name, k) else f"Loading {name or 'minilm'} (first use in this process)…"


def _mlm(name: str) -> tuple[Any, Any]:
    from dlcore.nlp.encoder import get_masked_lm

    return get_masked_lm(name)


# ----------------------------------------------------------------------------- Inside BERT

@guard
def inside(text_a: str, text_b: str, encoder_name: str, layer: float, head: float, token: float) -> Iterator[tuple]:
    """Tokens/segments/embeddings table, embedding figure, attention heatmap and the 'from this token' row."""
    if not isinstance(text_a, str) or not text_a.strip():
        raise ValueError("sentence A is empty: type a sentence such as 'the cat sat on the mat'")
    note = _loading_note("encoder", encoder_name)
    if note:
        yield (note, gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip())
    yield _inside(text_a, text_b, encoder_name, layer, head, token)


def _inside(text_a: str, text_b: str, encoder_name: str, layer: float, head: float, token: float) -> tuple:
    from dlcore.nlp.bert_inside import attention_from, inside_bert
    from dlcore.plotting.nlp_bert import (attention_figure, attention_from_figure, embedding_components_figure,
                                          heads_grid_figure)
    from dlcore.textinput import parse_int

    layer_i, head_i, tok_i = parse_int(layer, "layer"), parse_int(head, "head"), parse_int(token, "token index")
    t0 = time.perf_counter()
    model, tok = _encoder(encoder_name)
    r = inside_bert(model, tok, text_a, text_b or "")
    row = attention_from(r, layer_i, head_i or None, tok_i)              # (L,)
    A = r.attentions[layer_i - 1]                                       # (K, L, L)
    A = A.mean(0) if head_i == 0 else A[head_i - 1]                     # (L, L)
    head_name = "mean of all heads" if head_i == 0 else f"head {head_i}"
    rows = [[i, t, int(r.input_ids[i]), int(r.segment_ids[i]), int(r.position_ids[i]),
             round(float(r.token_emb[i].norm()), 3), round(float(r.position_emb[i].norm()), 3),
             round(float(r.segment_emb[i].norm()), 3), round(float(r.emb_sum[i].norm()), 3)]
            for i, t in enumerate(r.tokens)]
    L, H = r.emb_sum.shape
    md = (f"**{getattr(model, 'lab_description', encoder_name)}** — {r.num_layers} layers × {r.num_heads} heads, "
          f"hidden size {H}; {L} tokens. "
          f"max |E_token + E_position + E_segment − (the model's own embedding before LayerNorm)| = "
          f"**{r.max_abs_diff:.2e}** (the sum *is* what BERT computes). "
          f"Layer {layer_i}, {head_name}; row {tok_i} = attention **from** {r.tokens[tok_i]!r}. "
          f"({time.perf_counter() - t0:.2f} s)")
    return (md, rows,
            embedding_components_figure(r.tokens, r.token_emb, r.position_emb, r.segment_emb, r.emb_sum),
            attention_figure(A, r.tokens, title=f"layer {layer_i}, {head_name}", highlight=tok_i),
            attention_from_figure(row, r.tokens, tok_i,
                                  title=f"attention from token {tok_i} {r.tokens[tok_i]!r} (layer {layer_i}, {head_name})"),
            heads_grid_figure(r.attentions[layer_i - 1], r.tokens, layer=layer_i, selected=head_i))


# ----------------------------------------------------------------------------- Fill the blank
@guard
def fill(text: str, method: str, top_k: float) -> Iterator[tuple]:
    """Top-k words for the single [MASK]: the MLM head of a hub BERT, or the offline causal-LM rescoring."""
    from dlcore.nlp.fill_mask import fill_mask_causal, fill_mask_mlm, split_mask
    from dlcore.plotting.nlp_bert import fill_mask_figure
    from dlcore.textinput import parse_int

    split_mask(text)  # bad input fails before any model loads
    k = parse_int(top_k, "top_k", lo=1, hi=50)
    method = (method or "").strip() or OFFLINE_FILL
    note = _loading_note("causal" if method == OFFLINE_FILL else "mlm", method)
    if note:
        yield note, gr.skip(), gr.skip()
    t0 = time.perf_counter()
    if method == OFFLINE_FILL:
        model, tok = _lm()
        r = fill_mask_causal(model, tok, text, top_k=k)
        label = (f"**Offline substitute — not BERT.** {_lm_name()} reads left-to-right, so it "
                 f"proposes words from the left context and from a copy-the-sentence-and-fill-the-blank prompt, then scores each "
                 f"candidate by log p(word + right side | left side): the words on both sides count. "
                 f"Probabilities are renormalised over the {r.n_scored} candidates it scored, not over a vocabulary. "
                 f"Measured on this lab's 60-sentence cloze set: top-1 77 %, top-5 93 % "
                 f"(`bench/bench_bert.py`).")
    else:
        model, tok = _mlm(method)
        r = fill_mask_mlm(model, tok, text, top_k=k)
        label = f"**Real BERT masked-LM head** ({method}): softmax over the {r.n_scored:,}-token WordPiece vocabulary."
    rows = [[i + 1, c.word, round(c.prob, 4), round(c.logscore, 3)] for i, c in enumerate(r.candidates)]
    md = f"{label}\n\nTop guess: **{r.filled}** ({time.perf_counter() - t0:.1f} s)"
    fig = fill_mask_figure([c.word for c in r.candidates], [c.prob for c in r.candidates],
                           title="candidates for [MASK]")
    yield md, rows, fig


@guard
def mask_rule(text: str, encoder_name: str, mask_prob: float, seed: float):
    """Apply BERT's 80/10/10 pre-training corruption to the WordPiece tokens of the sentence."""
    from dlcore.nlp.fill_mask import mask_sentence
    from dlcore.textinput import parse_int, parse_number

    p = parse_number(mask_prob, "mask probability", lo=0.0, hi=1.0)
    s = parse_int(seed, "seed", lo=0, hi=2**31 - 1)
    if not isinstance(text, str) or not text.strip():
        raise ValueError("the sentence is empty: type a sentence to mask")
    _, tok = _encoder(encoder_name)
    r = mask_sentence(tok, text, mask_prob=p, seed=s)
    rows = [[i, t, "yes" if a != "-" else "", c, a, lab]
            for i, (t, c, a, lab) in enumerate(zip(r.tokens, r.corrupted, r.actions, r.labels))]
    n = sum(a != "-" for a in r.actions)
    counts = {a: r.actions.count(a) for a in ("[MASK]", "random", "keep")}
    md = (f"Each token except [CLS]/[SEP] is chosen with probability {p:g}; of the chosen, 80 % become [MASK], "
          f"10 % a random token, 10 % stay unchanged — and BERT must predict the original token at every chosen "
          f"position (the loss ignores the others). Here: **{n}** of {len(r.tokens) - 2} tokens chosen "
          f"({counts['[MASK]']} → [MASK], {counts['random']} → random, {counts['keep']} kept). "
          + ("Nothing was chosen this time: change the seed or raise the probability." if n == 0 else ""))
    return md, rows


# ----------------------------------------------------------------------------- Fine-tune vs in-context
@guard
def finetune(train_text: str, test_text: str, encoder_name: str, pooling: str, epochs: float, lr: float,
             seed: float) -> Iterator[tuple[Any, ...]]:
    """Train a linear head on frozen encoder vectors (live loss), then prompt the causal LM 0/1/few-shot."""
    import torch

    from dlcore.nlp.finetune import (SHOTS, ProbeConfig, accuracy, check_labels, icl_classify, iter_linear_head,
                                     parse_labelled, sentence_vectors)
    from dlcore.plotting.nlp_bert import finetune_figure
    from dlcore.textinput import parse_int, parse_number

    train = parse_labelled(train_text, "training examples")
    test = parse_labelled(test_text, "test sentences")
    labels = check_labels(train, test)
    if pooling not in ("cls", "mean"):
        raise ValueError(f"pooling {pooling!r} must be 'cls' or 'mean'")
    cfg = ProbeConfig(pooling=pooling, epochs=parse_int(epochs, "epochs", lo=1, hi=2000),  # type: ignore[arg-type]
                      lr=parse_number(lr, "learning rate", lo=1e-5, hi=10.0), seed=parse_int(seed, "seed", lo=0))
    gold = [e.label for e in test]
    table = [[e.text, e.label] for e in test]
    headers = ["test sentence", "true label"]
    yield (_loading_note("encoder", encoder_name) or "Encoding the sentences…", None,
           gr.update(value=table, headers=headers), "")
    model, tok = _encoder(encoder_name)
    x_tr = sentence_vectors(model, tok, [e.text for e in train], cfg.pooling)       # (N, H)
    y_tr = torch.tensor([labels.index(e.label) for e in train])                     # (N,)
    x_te = sentence_vectors(model, tok, [e.text for e in test], cfg.pooling)        # (M, H)
    losses: list[float] = []
    every = max(1, cfg.epochs // 12)
    head = None
    for epoch, loss, head in iter_linear_head(x_tr, y_tr, len(labels), cfg):
        losses.append(loss)
        if epoch % every == 0 or epoch == cfg.epochs:
            yield (f"(a) Fine-tuning the linear head on frozen {pooling.upper()} vectors: epoch {epoch}/{cfg.epochs}, "
                   f"loss {loss:.4f}", finetune_figure(losses), gr.skip(), "")
    with torch.no_grad():
        pred = [labels[int(i)] for i in head(x_te).argmax(1)]                       # type: ignore[misc]
    name = "head on [CLS]" if pooling == "cls" else "head on mean"
    accs = {name: accuracy(pred, gold)}
    headers.append(name)
    table = [row + [p] for row, p in zip(table, pred)]
    yield ("(b) " + (_loading_note("causal", "") or "Prompting the causal LM…"), finetune_figure(losses, accs),
           gr.update(value=table, headers=headers), "")
    lm, ltok = _lm()
    prompt = ""
    same: list[str] = []
    for shot_name, k in SHOTS.items():
        r = icl_classify(lm, ltok, train, [e.text for e in test], labels, k)
        if len(test) > 1 and len(set(r.predictions)) == 1:
            same.append(f"{shot_name} said {r.predictions[0]!r} for every sentence")
        accs[shot_name] = accuracy(r.predictions, gold)
        headers.append(shot_name)
        table = [row + [p] for row, p in zip(table, r.predictions)]
        prompt = f"--- {shot_name} prompt for the first test sentence ---\n{r.prompts[0]}"
        yield (f"(b) In-context learning, {shot_name}: done", finetune_figure(losses, accs),
               gr.update(value=table, headers=headers), prompt)
    summary = ", ".join(f"{k} {v:.0%}" for k, v in accs.items())
    yield (f"**Test accuracy** on {len(test)} sentences: {summary}. (a) trained {head.weight.numel() + head.bias.numel()}"  # type: ignore[union-attr]
           f" parameters by gradient descent on {len(train)} examples; (b) changed no parameter at all — the examples"
           " are only in the prompt (in-context learning, 语境学习)."
           + (f" Note: {'; '.join(same)} — a 135M-parameter model has a strong prior for one label word; the examples"
              " in the prompt are what move it." if same else ""),
           finetune_figure(losses, accs), gr.update(value=table, headers=headers), prompt)


# ----------------------------------------------------------------------------- UI
def build() -> None:
    from dlcore.nlp.encoder import ENCODER_CHOICES

    gr.Markdown(INTRO, latex_delimiters=LATEX)
    encoder = gr.Dropdown(ENCODER_CHOICES, value=D["encoder"], allow_custom_value=True,
                          label="Encoder (minilm = offline all-MiniLM-L6-v2; others from the hub)")
    with gr.Tab("Inside BERT"):
        gr.Markdown("Type one sentence, or two (sentence B gets segment id 1). BERT adds [CLS] at the start and "
                    "[SEP] after each sentence; WordPiece splits rare words into pieces marked `##`. In the grid of heads, look "
                    "for heads that look at the previous or the next token (a diagonal just below or above the main "
                    "one), heads that park their attention on [CLS] or [SEP] (a dark column), and heads that link the "
                    "two sentences. Drag the sliders to change layer, head or token.")
        with gr.Row():
            a = gr.Textbox(D["a"], label="Sentence A (segment 0)", scale=3)
            b = gr.Textbox(D["b"], label="Sentence B (segment 1, optional)", scale=3)
        with gr.Row():
            layer = gr.Slider(1, 12, D["layer"], step=1, label="layer")
            head = gr.Slider(0, 12, D["head"], step=1, label="head (0 = mean of all heads)")
            token = gr.Slider(0, 63, D["token"], step=1, label="attention from token # (0 = [CLS])")
        run = gr.Button("Look inside", variant="primary", elem_id=RUN_BUTTON)
        info = gr.Markdown()
        tokens = gr.Dataframe(headers=TOKEN_HEADERS, label="Tokens, ids, segments, positions and embedding norms",
                              wrap=True)
        emb_plot = gr.Plot(label="E = E_token + E_position + E_segment (first 32 dimensions)", show_label=False)
        with gr.Row():
            att_plot = gr.Plot(label="Attention map (row = query token)", show_label=False)
            from_plot = gr.Plot(label="Attention from the chosen token", show_label=False)
        grid_plot = gr.Plot(label="Every head of the chosen layer", show_label=False)
        ins_inputs = [a, b, encoder, layer, head, token]
        gr.on([run.click, layer.release, head.release, token.release], inside, ins_inputs,
              [info, tokens, emb_plot, att_plot, from_plot, grid_plot], api_name="bert_inside", **HEAVY)
        gr.Examples([["my dog is cute", "he likes playing", "minilm", 1, 0, 0],
                     ["the bank raised interest rates", "we sat on the river bank", "minilm", 5, 0, 6],
                     ["unbelievably, the transformers were retrained", "", "minilm", 3, 2, 1]],
                    ins_inputs, cache_examples=False,
                    label="Examples (the first is the BERT paper's input figure: [CLS] my dog is cute [SEP] ...)")

    with gr.Tab("Fill the blank"):
        gr.Markdown("Put exactly one `[MASK]` in a sentence. A hub BERT answers with its **masked-LM head** "
                    "(what it was pre-trained for). Offline there is no BERT with that head, so the default is "
                    "an honest **substitute**: a small causal LM that scores each candidate with the words on both "
                    "sides. The label under the result always says which one you got.")
        with gr.Row():
            ftext = gr.Textbox(D["fill"], label="Sentence with one [MASK]", scale=3)
            method = gr.Dropdown(FILL_CHOICES, value=OFFLINE_FILL, allow_custom_value=True, label="Model", scale=2)
            top_k = gr.Slider(1, 20, D["top_k"], step=1, label="top-k", scale=1)
        fbtn = gr.Button("Fill the blank", variant="primary", elem_id="bert-fill")
        fmd = gr.Markdown()
        with gr.Row():
            fdf = gr.Dataframe(headers=FILL_HEADERS, label="Candidates", wrap=True)
            fplot = gr.Plot(label="Top candidates", show_label=False)
        fbtn.click(fill, [ftext, method, top_k], [fmd, fdf, fplot], api_name="bert_fill", **HEAVY)
        gr.Examples([["The cat sat on the [MASK].", OFFLINE_FILL, 10],
                     ["Paris is the capital of [MASK].", OFFLINE_FILL, 10],
                     ["I brush my [MASK] twice a day.", OFFLINE_FILL, 10],
                     ["The man went to the [MASK] to buy a gallon of milk.", "bert-base-uncased", 10]],
                    [ftext, method, top_k], cache_examples=False)
        gr.Markdown("### How BERT makes its blanks: the 80/10/10 rule (seed 003 §dl_11_1_3)")
        with gr.Row():
            mtext = gr.Textbox(D["mask_text"], label="Sentence", scale=3)
            mprob = gr.Slider(0.0, 1.0, D["mask_prob"], step=0.05, label="choose probability (paper: 0.15)")
            mseed = gr.Number(D["seed"], precision=0, label="seed")
        mbtn = gr.Button("Apply the 80/10/10 rule", elem_id="bert-mask")
        mmd = gr.Markdown()
        mdf = gr.Dataframe(headers=MASK_HEADERS, label="Per token", wrap=True)
        mbtn.click(mask_rule, [mtext, encoder, mprob, mseed], [mmd, mdf], api_name="bert_mask_rule", **HEAVY)

    with gr.Tab("Fine-tune vs in-context"):
        gr.Markdown("Same labelled sentences, two ways to use them (seed 000 §8.6.1 vs §8.6.2). **(a) Fine-tune:** "
                    "freeze the encoder, train only $\\hat y=\\mathrm{softmax}(W h + b)$ on its [CLS] (or mean) vector "
                    "by gradient descent (watch the loss live). **(b) In-context:** put the examples into a prompt for "
                    "the causal LM — none (zero-shot), one per class (one-shot), all (few-shot) — and pick the label "
                    "word with the highest log-probability. One line per sentence: `label: sentence`.",
                    latex_delimiters=LATEX)
        with gr.Row():
            tr = gr.Textbox(DEFAULT_TRAIN, lines=8, label="Training examples (label: sentence)")
            te = gr.Textbox(DEFAULT_TEST, lines=8, label="Test sentences (label: sentence; the label is the answer key)")
        with gr.Row():
            pooling = gr.Radio(["cls", "mean"], value=D["pooling"], label="sentence vector h")
            epochs = gr.Slider(10, 1000, D["epochs"], step=10, label="epochs")
            lr = gr.Number(D["lr"], label="learning rate (Adam)")
            fseed = gr.Number(0, precision=0, label="seed")
        tbtn = gr.Button("Fine-tune and prompt", variant="primary", elem_id="bert-finetune")
        tmd = gr.Markdown()
        tplot = gr.Plot(label="Training loss (a) and test accuracy (a vs b)", show_label=False)
        tdf = gr.Dataframe(headers=["test sentence", "true label"], label="Predictions", wrap=True)
        tprompt = gr.Textbox(label="The prompt the causal LM saw (first test sentence)", lines=8)
        ft_inputs = [tr, te, encoder, pooling, epochs, lr, fseed]
        tbtn.click(finetune, ft_inputs, [tmd, tplot, tdf, tprompt], api_name="bert_finetune", **HEAVY)
        gr.Examples([[DEFAULT_TRAIN, DEFAULT_TEST, "minilm", "cls", 150, 0.003, 0],
                     [DEFAULT_TRAIN, DEFAULT_TEST, "minilm", "mean", 150, 0.003, 0],
                     [TOPIC_TRAIN, TOPIC_TEST, "minilm", "cls", 150, 0.003, 0]],
                    ft_inputs, cache_examples=False)


ENDPOINTS = [
    Endpoint("bert_inside", examples=[[D["a"], D["b"], D["encoder"], D["layer"], D["head"], D["token"]],
                                      ["my dog is cute", "he likes playing", "minilm", 6, 12, 3]],
             bad=[(["", "", "minilm", 1, 0, 0], "empty"),
                  (["word " * 300, "", "minilm", 1, 0, 0], "the limit is"),
                  (["the cat", "", "minilm", 1, 0, 40], "token index 40"),
                  (["the cat", "", "minilm", 9, 0, 0], "layer 9 is out of range"),
                  (["the cat", "", "nobody/no-such-bert", 1, 0, 0], "be loaded")], heavy=True),
    Endpoint("bert_fill", examples=[[D["fill"], OFFLINE_FILL, D["top_k"]]],
             bad=[(["", OFFLINE_FILL, 5], "empty"), (["the cat sat", OFFLINE_FILL, 5], "no [MASK]"),
                  (["[MASK] and [MASK]", OFFLINE_FILL, 5], "2 [MASK]s"),
                  (["the [MASK] " + "x" * 500, OFFLINE_FILL, 5], "the limit is"),
                  (["the [MASK] sat", "nobody/no-such-bert", 5], "be loaded"),
                  (["the [MASK] sat", "minilm", 5], "no masked-LM head")], heavy=True),
    Endpoint("bert_mask_rule", examples=[[D["mask_text"], D["encoder"], D["mask_prob"], D["seed"]]],
             bad=[(["", "minilm", 0.15, 0], "empty"), (["the cat", "minilm", 1.5, 0], "greater than maximum"),
                  (["x" * 500, "minilm", 0.15, 0], "the limit is")], heavy=True),
    Endpoint("bert_finetune", examples=[[DEFAULT_TRAIN, DEFAULT_TEST, "minilm", "cls", D["epochs"], D["lr"], 0]],
             bad=[(["", DEFAULT_TEST, "minilm", "cls", 50, 0.05, 0], "empty"),
                  (["positive: good\npositive: fine", "positive: ok", "minilm", "cls", 50, 0.05, 0], "at least two"),
                  ([DEFAULT_TRAIN, "neutral: meh", "minilm", "cls", 50, 0.05, 0], "'neutral'"),
                  ([DEFAULT_TRAIN, DEFAULT_TEST, "minilm", "cls", 50, 99, 0], "above the maximum")], heavy=True),
]

if __name__ == "__main__":
    import launch

    launch.main(["--tabs", "bert"])
