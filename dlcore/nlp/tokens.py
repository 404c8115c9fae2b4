"""Tokens as a learner should read them: visible whitespace, and special tokens that say what they are.

A tokenizer's vocabulary holds more than words. ``<|im_end|>`` ends a chat turn in ChatML
(SmolLM2), ``<|endoftext|>`` separates documents (GPT-2), and BERT's WordPiece vocabulary keeps
994 placeholders ``[unused0]`` … ``[unused993]`` that were never used in pre-training (BERT's
80/10/10 rule may draw one as its "random token"). :func:`readable_token` keeps the token and
adds its meaning once, e.g. ``<|im_end|> (end of turn)``; whitespace becomes ␣ ⏎ ⇥ so that
``" the"`` and ``"the"`` look different. No torch import.
"""

from __future__ import annotations

import re

__all__ = ["SPECIAL_MEANINGS", "readable_token", "special_meaning"]

#: What each well-known special token means.
SPECIAL_MEANINGS: dict[str, str] = {
    "<|im_start|>": "start of a chat turn",
    "<|im_end|>": "end of turn",
    "<|endoftext|>": "end of text",
    "<s>": "start of text",
    "</s>": "end of text",
    "<pad>": "padding",
    "<unk>": "unknown token",
    "[PAD]": "padding",
    "[UNK]": "unknown word",
}
_UNUSED = re.compile(r"^\[unused\d+\]$")
_ANGLE = re.compile(r"^<\|[^|<>]{1,40}\|>$")


def special_meaning(token: str) -> str | None:
    """What a special token means, or None for an ordinary token ([CLS], [SEP], [MASK] are taught by name)."""
    if token in SPECIAL_MEANINGS:
        return SPECIAL_MEANINGS[token]
    if _UNUSED.match(token):
        return "an unused vocabulary slot, never seen in training"
    if _ANGLE.match(token):
        return "a special control token"
    return None


def readable_token(token: str) -> str:
    """``token`` for tables and axis labels: whitespace made visible, special tokens explained.

    >>> readable_token(" the"), readable_token("<|im_end|>"), readable_token("[unused411]")
    ('␣the', '<|im_end|> (end of turn)', '[unused411] (an unused vocabulary slot, never seen in training)')
    """
    meaning = special_meaning(token.strip()) if isinstance(token, str) else None
    if meaning is not None:
        return f"{token.strip()} ({meaning})"
    return str(token).replace(" ", "␣").replace("\n", "⏎").replace("\t", "⇥") or "∅"
