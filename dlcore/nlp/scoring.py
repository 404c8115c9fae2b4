"""Score a text with a causal LM: per-token log-probabilities, surprise and perplexity.

A language model assigns every token a probability given the tokens before it. For a text
W = (x_1, ..., x_n) the perplexity is (seed 000 §8.3.1)

    perplexity(W) = exp( -1/n · Σ_{t=1..n} log P(x_t | x_{t-1}, ..., x_1) )

"perplexity k" reads as "the model hesitates between k equally likely words at each step".
The surprise of a token is -log₂ P(x_t | x_<t) in bits: 1 bit = a coin flip, 10 bits = a
1-in-1000 guess. So that the first typed token is scored too, the text is preceded by the
model's document-start token (``<|endoftext|>`` for GPT-2 and SmolLM2) when it has one.

Reference: Jelinek et al. (1977), "Perplexity—a measure of the difficulty of speech
recognition tasks"; https://huggingface.co/docs/transformers/perplexity
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from dlcore.nlp.tables import SCORE_HEADERS

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

__all__ = ["MAX_SCORE_TOKENS", "MAX_TEXT_CHARS", "SCORE_HEADERS", "TextScore", "score_text", "encode_checked",
           "encode_prompt", "context_token_id"]

#: Longest text (in tokens) scored or used as a prompt: keeps a CPU request under a few seconds.
MAX_SCORE_TOKENS = 512
#: Longest text (in characters) accepted before tokenising.
MAX_TEXT_CHARS = 4000


@dataclass
class TextScore:
    """Per-token scores of a text.

    Attributes:
        tokens: the text's tokens as strings, shape (n,).
        ids: their ids, shape (n,).
        logprobs: natural-log probabilities log P(x_t | x_<t), shape (n,); NaN for a token with no
            context (only when the model has no document-start token).
        top_alternatives: for each position, the model's most likely token there.
    """

    tokens: list[str]
    ids: torch.Tensor
    logprobs: torch.Tensor
    top_alternatives: list[str]

    @property
    def scored(self) -> torch.Tensor:
        """The log-probs that enter the perplexity (NaNs dropped), shape (n_scored,)."""
        return self.logprobs[~torch.isnan(self.logprobs)]

    @property
    def surprise_bits(self) -> torch.Tensor:
        """-log₂ P(x_t | x_<t) per token, shape (n,)."""
        return -self.logprobs / math.log(2)

    @property
    def mean_nll(self) -> float:
        """-1/n Σ log P(x_t | x_<t) (nats per token)."""
        return float(-self.scored.mean())

    @property
    def perplexity(self) -> float:
        """exp(mean negative log-likelihood), seed 000 §8.3.1."""
        return math.exp(self.mean_nll)

    def perplexity_latex(self) -> str:
        """The perplexity formula with this text's numbers substituted (LaTeX, ``$…$``)."""
        n = int(self.scored.numel())
        return (f"$\\text{{perplexity}}(W)=\\exp\\left(-\\frac1n\\sum_{{t=1}}^n\\log P(x_t\\mid x_{{<t}})\\right)"
                f"=\\exp\\left(-\\frac{{1}}{{{n}}}\\cdot({-self.mean_nll * n:.2f})\\right)=\\exp({self.mean_nll:.3f})"
                f"={self.perplexity:.2f}$")

    def rows(self) -> list[list[object]]:
        """Table rows (:data:`SCORE_HEADERS`), tokens made readable; None where a token has no context."""
        from dlcore.nlp.tokens import readable_token

        out: list[list[object]] = []
        for i, (t, lp, alt) in enumerate(zip(self.tokens, self.logprobs.tolist(), self.top_alternatives)):
            bits = -lp / math.log(2)
            out.append([i + 1, readable_token(t), None if math.isnan(lp) else round(lp, 3),
                        None if math.isnan(bits) else round(bits, 2), readable_token(alt)])
        return out

    def spans(self, max_bits: float = 12.0) -> list[tuple[str, float | None]]:
        """``(token, surprise on 0..1)`` per token for a colour scale (bits / ``max_bits``, capped at 1)."""
        return [(t, None if math.isnan(b) else round(min(b / max_bits, 1.0), 3))
                for t, b in zip(self.tokens, self.surprise_bits.tolist())]


def context_token_id(tok: "PreTrainedTokenizerBase") -> int | None:
    """The document-start token to condition the first token on, or None."""
    for t in ("<|endoftext|>", "<s>"):
        i = tok.convert_tokens_to_ids(t)
        if isinstance(i, int) and i != tok.unk_token_id and i >= 0:
            return i
    return tok.bos_token_id


def encode_checked(tok: "PreTrainedTokenizerBase", text: str, *, max_tokens: int = MAX_SCORE_TOKENS,
                   name: str = "text", add_special_tokens: bool = False) -> torch.Tensor:
    """Tokenise ``text`` after checking it is non-empty and within the caps. Shape: (1, n)."""
    if text is None or not str(text).strip():
        raise ValueError(f"{name} is empty: type some text first")
    if len(text) > MAX_TEXT_CHARS:
        raise ValueError(f"{name} has {len(text)} characters; the limit is {MAX_TEXT_CHARS}")
    ids = tok(text, add_special_tokens=add_special_tokens, return_tensors="pt").input_ids  # (1, n)
    if ids.shape[1] == 0:
        raise ValueError(f"{name} {text[:40]!r} has no tokens")
    if ids.shape[1] > max_tokens:
        raise ValueError(f"{name} has {ids.shape[1]} tokens; the limit is {max_tokens} tokens")
    return ids


def encode_prompt(tok: "PreTrainedTokenizerBase", text: str, mode: str = "plain", *, max_tokens: int = 512,
                  name: str = "prompt") -> torch.Tensor:
    """The token ids a causal LM reads for ``text``: :func:`dlcore.nlp.prompts.build_prompt` (plain, or the
    model's chat template), then :func:`encode_checked` (non-empty, at most ``max_tokens``). Shape: (1, n)."""
    from dlcore.nlp.prompts import build_prompt

    prompt = build_prompt(tok, text, mode)  # type: ignore[arg-type]
    return encode_checked(tok, prompt, max_tokens=max_tokens, name=name)


@torch.no_grad()
def score_text(model: "PreTrainedModel", tok: "PreTrainedTokenizerBase", text: str,
               max_tokens: int = MAX_SCORE_TOKENS) -> TextScore:
    """Per-token log P(x_t | x_<t) of ``text`` under ``model`` (one forward pass).

    Args:
        model, tok: a causal LM and its tokenizer.
        text: the text to score (1..``max_tokens`` tokens).
        max_tokens: length cap. Default 512.

    Shape: logits (1, m, V) for the m = n (+1 with a start token) input positions.
    """
    ids = encode_checked(tok, text, max_tokens=max_tokens)  # (1, n)
    start = context_token_id(tok)
    full = ids if start is None else torch.cat([torch.tensor([[start]]), ids], dim=1)  # (1, m)
    logits = model(input_ids=full.to(model.device)).logits.float().cpu()  # (1, m, V)
    logp = F.log_softmax(logits[0, :-1], dim=-1)  # (m-1, V): position t predicts token t+1
    target = full[0, 1:]  # (m-1,)
    lp = logp.gather(1, target[:, None])[:, 0]  # (m-1,)
    best = logp.argmax(-1)  # (m-1,)
    alts = [tok.decode([int(b)]) for b in best]
    if start is None:  # the first token has no context: not scored
        lp = torch.cat([torch.tensor([float("nan")]), lp])
        alts = [""] + alts
    toks = [tok.decode([int(i)]) for i in ids[0]]
    return TextScore(tokens=toks, ids=ids[0], logprobs=lp, top_alternatives=alts)
