"""Look inside BERT: WordPiece tokens, segment ids, the three embeddings, attention maps.

BERT's input representation (Devlin et al., 2019, §3, https://aclanthology.org/N19-1423.pdf)
for a sentence pair (A, B) is

    tokens  = [CLS] A_1 .. A_n [SEP] B_1 .. B_m [SEP]
    segment = 0     0   ..  0   0    1   ..  1   1
    E = E_token[input_id] + E_position[i] + E_segment[segment_id]      # (L, H)
    embeddings = Dropout(LayerNorm(E))                                  # fed to layer 1

Every component here is read from the model's own tables (``model.embeddings.*``); the sum
is checked against the tensor that actually enters the model's embedding LayerNorm (a
forward pre-hook captures it), so the learner sees the real numbers, not a re-implementation.

Each encoder layer l has heads h with attention probabilities

    A^{l,h} = softmax(Q K^T / sqrt(d_head))                             # (L, L), rows sum to 1

row i = "how much token i attends to every token j" ("attention from token i").
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import torch

from dlcore.nlp.tables import TOKEN_HEADERS

__all__ = ["MAX_TOKENS", "TOKEN_HEADERS", "InsideBert", "InsideView", "encode_pair", "inside_bert", "attention_from",
           "inside_view"]

#: Longest input shown (tokens, [CLS]/[SEP] included); heatmaps beyond this are unreadable.
MAX_TOKENS = 64
MAX_CHARS = 1_000


@dataclass
class InsideBert:
    """Everything the "Inside BERT" view shows for one input.

    Shapes: L tokens, H hidden size, N layers, K heads.
    """

    tokens: list[str]                 # WordPiece tokens incl. [CLS]/[SEP]
    input_ids: torch.Tensor           # (L,)
    segment_ids: torch.Tensor         # (L,) 0 for sentence A, 1 for sentence B
    position_ids: torch.Tensor        # (L,) 0..L-1
    token_emb: torch.Tensor           # (L, H) E_token[input_ids]
    position_emb: torch.Tensor        # (L, H) E_position[position_ids]
    segment_emb: torch.Tensor         # (L, H) E_segment[segment_ids]
    emb_sum: torch.Tensor             # (L, H) the sum of the three
    model_pre_ln: torch.Tensor        # (L, H) what the model fed to its embedding LayerNorm
    embeddings: torch.Tensor          # (L, H) after LayerNorm (= input of layer 1 in eval mode)
    attentions: torch.Tensor          # (N, K, L, L) attention probabilities per layer/head
    hidden_states: torch.Tensor       # (N + 1, L, H) embeddings and every layer's output

    @property
    def num_layers(self) -> int:
        return int(self.attentions.shape[0])

    @property
    def num_heads(self) -> int:
        return int(self.attentions.shape[1])

    @property
    def max_abs_diff(self) -> float:
        """max |E_token + E_position + E_segment - model's pre-LayerNorm embedding|."""
        return float((self.emb_sum - self.model_pre_ln).abs().max())


def _check_text(text: str, name: str) -> str:
    if not isinstance(text, str):
        raise ValueError(f"{name} must be text, got {type(text).__name__}")
    if len(text) > MAX_CHARS:
        raise ValueError(f"{name} has {len(text)} characters; the limit is {MAX_CHARS}")
    return text.strip()


def encode_pair(tokenizer: Any, text_a: str, text_b: str = "", *,
                max_tokens: int = MAX_TOKENS) -> dict[str, torch.Tensor]:
    """Tokenize one sentence or a pair into ``input_ids``/``token_type_ids`` of shape (1, L).

    Raises:
        ValueError: empty sentence A, or more than ``max_tokens`` tokens (no silent truncation).
    """
    a = _check_text(text_a, "sentence A")
    b = _check_text(text_b or "", "sentence B")
    if not a:
        raise ValueError("sentence A is empty: type a sentence such as 'the cat sat on the mat'")
    enc = tokenizer(a, b, return_tensors="pt") if b else tokenizer(a, return_tensors="pt")
    n = int(enc["input_ids"].shape[1])
    if n > max_tokens:
        raise ValueError(f"the input has {n} tokens ([CLS]/[SEP] included); the limit is {max_tokens}: "
                         "shorten the text")
    if "token_type_ids" not in enc:  # e.g. DistilBERT-like tokenizers: all segment 0
        enc["token_type_ids"] = torch.zeros_like(enc["input_ids"])
    return {"input_ids": enc["input_ids"], "token_type_ids": enc["token_type_ids"],
            "attention_mask": enc.get("attention_mask", torch.ones_like(enc["input_ids"]))}


@torch.no_grad()
def inside_bert(model: torch.nn.Module, tokenizer: Any, text_a: str, text_b: str = "", *,
                max_tokens: int = MAX_TOKENS) -> InsideBert:
    """Run a BertModel on one sentence (pair) and return its embeddings and attention maps.

    Args:
        model: a ``BertModel`` (or anything with ``.embeddings.{word,position,token_type}_embeddings``
            and ``.embeddings.LayerNorm``), built with ``attn_implementation="eager"``.
        tokenizer: its WordPiece tokenizer.
        text_a: sentence A. text_b: optional sentence B (segment 1). Default "".
        max_tokens: length cap, [CLS]/[SEP] included. Default 64.
    """
    enc = encode_pair(tokenizer, text_a, text_b, max_tokens=max_tokens)
    dev = next(model.parameters()).device
    ids = enc["input_ids"].to(dev)                          # (1, L)
    seg = enc["token_type_ids"].to(dev)                     # (1, L)
    L = ids.shape[1]
    pos = torch.arange(L, device=dev).unsqueeze(0)          # (1, L)
    emb = model.embeddings
    # 1. the three lookups, from the model's own tables
    e_tok = emb.word_embeddings(ids)[0]                     # (L, H)
    e_pos = emb.position_embeddings(pos)[0]                 # (L, H)
    e_seg = emb.token_type_embeddings(seg)[0]               # (L, H)
    # 2. what the model itself feeds into its embedding LayerNorm (captured, not recomputed).
    #    The model is shared between requests: the hook keeps only this thread's call.
    captured: list[torch.Tensor] = []
    me = threading.get_ident()

    def grab(_m: torch.nn.Module, args: tuple[torch.Tensor, ...]) -> None:
        if threading.get_ident() == me and not captured:
            captured.append(args[0].detach())

    handle = emb.LayerNorm.register_forward_pre_hook(grab)
    try:
        out = model(input_ids=ids, token_type_ids=seg, attention_mask=enc["attention_mask"].to(dev),
                    output_attentions=True, output_hidden_states=True)
    finally:
        handle.remove()
    if not out.attentions or out.attentions[0] is None:
        raise ValueError("this model did not return attention maps; load it with attn_implementation='eager'")
    attn = torch.stack([a[0] for a in out.attentions])     # (N, K, L, L)
    hidden = torch.stack([h[0] for h in out.hidden_states])  # (N+1, L, H)
    return InsideBert(
        tokens=tokenizer.convert_ids_to_tokens(ids[0].tolist()),
        input_ids=ids[0].cpu(), segment_ids=seg[0].cpu(), position_ids=pos[0].cpu(),
        token_emb=e_tok.cpu(), position_emb=e_pos.cpu(), segment_emb=e_seg.cpu(),
        emb_sum=(e_tok + e_pos + e_seg).cpu(), model_pre_ln=captured[0][0].cpu(),
        embeddings=hidden[0].cpu(), attentions=attn.float().cpu(), hidden_states=hidden.cpu(),
    )


def attention_from(result: InsideBert, layer: int, head: int | None, token: int) -> torch.Tensor:
    """Row ``token`` of the attention map: where token ``token`` looks, shape (L,), sums to 1.

    Args:
        layer: 1-based layer number (1..N), as in the papers' figures.
        head: 1-based head number (1..K), or None for the mean over heads.
        token: 0-based token index (0 is [CLS]).

    Raises:
        ValueError: an index out of range (the message names the valid range).
    """
    n, k, L, _ = result.attentions.shape
    if not 1 <= layer <= n:
        raise ValueError(f"layer {layer} is out of range: this model has layers 1..{n}")
    if head is not None and not 1 <= head <= k:
        raise ValueError(f"head {head} is out of range: this model has heads 1..{k}")
    if not 0 <= token < L:
        raise ValueError(f"token index {token} is out of range: the input has tokens 0..{L - 1}")
    a = result.attentions[layer - 1]                        # (K, L, L)
    a = a.mean(0) if head is None else a[head - 1]          # (L, L)
    return a[token]                                         # (L,)


@dataclass
class InsideView:
    """What the "Inside BERT" panel shows for one (layer, head, token) choice.

    Attributes:
        rows: one row per token, columns :data:`TOKEN_HEADERS` (ids, segment, position, embedding norms).
        attention: the (L, L) map of the chosen head, or the mean of all heads when ``head`` is 0.
        row: (L,) attention **from** token ``token`` (row ``token`` of ``attention``), sums to 1.
        heads: (K, L, L) every head of the chosen layer (the small multiples).
        layer, head, token: the choice (layer 1-based; head 1-based, 0 = mean of heads; token 0-based).
        head_name: "head 3" or "mean of all heads".
        num_layers, num_heads, num_tokens: the model's and the input's sizes (slider ranges follow them).
    """

    rows: list[list[Any]]
    attention: torch.Tensor
    row: torch.Tensor
    heads: torch.Tensor
    layer: int
    head: int
    token: int
    head_name: str
    num_layers: int
    num_heads: int
    num_tokens: int


def inside_view(result: InsideBert, layer: int, head: int, token: int) -> InsideView:
    """Select layer/head/token from :func:`inside_bert`'s result and build the token table.

    Args:
        layer: 1..N. head: 1..K, or 0 for the mean over heads. token: 0..L-1 (0 is [CLS]).

    Raises:
        ValueError: an index out of range (naming the valid range).
    """
    row = attention_from(result, layer, head or None, token)                # (L,)
    A = result.attentions[layer - 1]                                         # (K, L, L)
    A = A.mean(0) if head == 0 else A[head - 1]                              # (L, L)
    norms = [t.norm(dim=1) for t in (result.token_emb, result.position_emb, result.segment_emb, result.emb_sum)]
    rows = [[i, t, int(result.input_ids[i]), int(result.segment_ids[i]), int(result.position_ids[i]),
             *[round(float(n[i]), 3) for n in norms]] for i, t in enumerate(result.tokens)]
    return InsideView(rows=rows, attention=A, row=row, heads=result.attentions[layer - 1], layer=layer, head=head,
                      token=token, head_name="mean of all heads" if head == 0 else f"head {head}",
                      num_layers=result.num_layers, num_heads=result.num_heads, num_tokens=len(result.tokens))
