"""Fill the blank: BERT's masked-LM head, an honest offline substitute, and the 80/10/10 rule.

**Masked LM (BERT, Devlin et al. 2019 §3.1, https://aclanthology.org/N19-1423.pdf).** The
encoder reads the whole sentence (both sides of ``[MASK]``) and its MLM head gives

    p(w | context) = softmax(W h_[MASK] + b)_w          over the 30,522 WordPiece tokens

:func:`fill_mask_mlm` returns exactly that (with a hub BERT such as ``bert-base-uncased``).

**Offline substitute.** No installed package ships a BERT with its MLM head, so offline the
blank is filled by a small *causal* LM (SmolLM2-135M-Instruct) used bidirectionally by
rescoring (:func:`fill_mask_causal`):

1. propose candidate words: the LM's most likely next words after the left context, plus its
   most likely words at the blank when it copies "With the blank: <sentence with ___>" to
   "Filled in: <left context>" (so it has read both sides before it guesses);
2. score each candidate ``w`` by the log-likelihood of the whole sentence with ``w`` filled in,
   ``log p(left, w, right) = log p(left) + log p(w | left) + log p(right | left, w)``;
   since ``p(left)`` is shared, the ranking uses the words on *both* sides;
3. ``p(w | left, right) ~= softmax_w(log p(left, w, right))`` renormalised over the candidates.

It is a different model from BERT and its probabilities are only over the proposed
candidates; the UI says so.

**The 80/10/10 rule** (BERT §3.1, pre-training): choose each (non-special) token with
probability 15 %; of the chosen, replace 80 % by ``[MASK]``, 10 % by a random token, keep
10 % unchanged; the loss is computed only at chosen positions (labels elsewhere are -100).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import torch

from dlcore.nlp.tables import FILL_HEADERS, MASK_HEADERS

__all__ = ["MASK", "MAX_CHARS", "FillCandidate", "FillResult", "split_mask", "fill_mask_mlm", "fill_mask_causal",
           "sentence_logprobs", "FILL_HEADERS", "MASK_HEADERS", "apply_80_10_10", "NOT_CHOSEN", "TO_MASK", "TO_RANDOM",
           "KEEP", "MaskingResult", "mask_sentence"]

MASK = "[MASK]"
#: Longest sentence accepted for fill-the-blank and the masking demo (characters).
MAX_CHARS = 400
_MASK_RE = re.compile(r"\[mask\]", re.IGNORECASE)
_WORD_RE = re.compile(r"^[A-Za-z][A-Za-z'-]*$")


@dataclass
class FillCandidate:
    word: str
    prob: float            # probability (MLM: over the vocabulary; causal: over the candidates)
    logscore: float        # MLM: logit; causal: log p(word, right side | left side)


@dataclass
class FillResult:
    text: str
    method: str            # exactly what produced the numbers (shown in the UI)
    candidates: list[FillCandidate]
    n_scored: int          # how many words were scored
    filled: str = ""       # the sentence with the top candidate filled in
    notes: list[str] = field(default_factory=list)

    def rows(self) -> list[list[Any]]:
        """Table rows: rank, word, probability, score (:data:`FILL_HEADERS`)."""
        return [[i + 1, c.word, round(c.prob, 4), round(c.logscore, 3)] for i, c in enumerate(self.candidates)]


def _check_top_k(top_k: int) -> int:
    if isinstance(top_k, bool) or int(top_k) != top_k or not 1 <= int(top_k) <= 50:
        raise ValueError(f"top_k {top_k} must be a whole number between 1 and 50")
    return int(top_k)


def split_mask(text: str, *, max_chars: int = MAX_CHARS) -> tuple[str, str]:
    """Return ``(left, right)`` around the single ``[MASK]`` in ``text``.

    Raises:
        ValueError: empty text, text over ``max_chars``, no ``[MASK]`` or more than one.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError("the sentence is empty: type a sentence with one [MASK], e.g. 'The cat sat on the [MASK].'")
    if len(text) > max_chars:
        raise ValueError(f"the sentence has {len(text)} characters; the limit is {max_chars}")
    parts = _MASK_RE.split(text.strip())
    if len(parts) == 1:
        raise ValueError("the sentence has no [MASK]: put [MASK] where the missing word goes")
    if len(parts) > 2:
        raise ValueError(f"the sentence has {len(parts) - 1} [MASK]s; this demo fills exactly one [MASK]")
    return parts[0], parts[1]


# --------------------------------------------------------------------------- BERT MLM head
@torch.no_grad()
def fill_mask_mlm(model: torch.nn.Module, tokenizer: Any, text: str, top_k: int = 10) -> FillResult:
    """Top-k tokens for the ``[MASK]`` from a masked LM: softmax of the MLM head's logits.

    Shape: logits (1, L, V) -> probabilities at the mask position (V,).
    """
    left, right = split_mask(text)
    top_k = _check_top_k(top_k)
    s = left + tokenizer.mask_token + right
    enc = tokenizer(s, return_tensors="pt", truncation=True, max_length=512)
    dev = next(model.parameters()).device
    pos = (enc["input_ids"][0] == tokenizer.mask_token_id).nonzero().flatten()
    if len(pos) != 1:
        raise ValueError(f"the tokenizer produced {len(pos)} mask tokens; expected exactly one")
    logits = model(**{k: v.to(dev) for k, v in enc.items()}).logits[0, int(pos)]  # (V,)
    probs = logits.float().softmax(-1)                                         # (V,)
    k = max(1, min(int(top_k), probs.numel()))
    p, idx = probs.topk(k)
    cands = [FillCandidate(tokenizer.convert_ids_to_tokens(int(i)), float(pi), float(logits[i]))
             for pi, i in zip(p, idx)]
    name = getattr(getattr(model, "config", None), "_name_or_path", "") or type(model).__name__
    return FillResult(text=text, method=f"masked-LM head of {name}: softmax over {probs.numel():,} tokens",
                      candidates=cands, n_scored=probs.numel(),
                      filled=left + cands[0].word.removeprefix("##") + right)


# --------------------------------------------------------------------- causal LM rescoring
def _prefix_ids(tokenizer: Any) -> list[int]:
    """A start-of-text token so the first word is scored too (``<|endoftext|>`` or BOS)."""
    for t in ("<|endoftext|>", tokenizer.bos_token):
        if t and t in tokenizer.get_vocab():
            return [tokenizer.convert_tokens_to_ids(t)]
    return []


def _top_words(model: torch.nn.Module, tokenizer: Any, prompt_ids: list[int], n: int,
               need_space: bool | None) -> list[str]:
    """The ``n`` most likely next tokens after ``prompt_ids`` that are whole alphabetic words."""
    dev = next(model.parameters()).device
    logits = model(input_ids=torch.tensor([prompt_ids], device=dev)).logits[0, -1]   # (V,)
    words: list[str] = []
    others: list[str] = []  # whole words with the other spacing: used only if nothing else fits
    for i in logits.topk(min(8 * n, logits.numel())).indices.tolist():
        piece = tokenizer.decode([i])
        w = piece.strip()
        if not _WORD_RE.match(w):
            continue
        bucket = words if need_space is None or piece.startswith(" ") == need_space else others
        if w not in bucket:
            bucket.append(w)
        if len(words) >= n:
            break
    return words or others[:n]


def _common_prefix_len(seqs: list[list[int]]) -> int:
    n = min(len(s) for s in seqs)
    for i in range(n):
        if any(s[i] != seqs[0][i] for s in seqs):
            return i
    return n


@torch.no_grad()
def sentence_logprobs(model: torch.nn.Module, tokenizer: Any, texts: list[str], *,
                      given_common_prefix: bool = False) -> torch.Tensor:
    """log-probability of each text under a causal LM, shape (B,).

    log p(x_1..x_T) = sum_t log softmax(logits_{t-1})[x_t], with a start-of-text token prepended.
    With ``given_common_prefix`` the sum starts after the tokens all texts share, giving
    ``log p(rest | shared prefix)``: the same ranking (the prefix term is common to all texts)
    at a fraction of the cost, because logits are computed only where they are needed.
    """
    if not texts:
        raise ValueError("no texts to score")
    pre = _prefix_ids(tokenizer)
    seqs = [pre + tokenizer(t, add_special_tokens=False)["input_ids"] for t in texts]
    T = max(len(s) for s in seqs)
    start = max(1, _common_prefix_len(seqs)) if given_common_prefix else 1  # first scored token
    start = min(start, T - 1) if T > 1 else 1
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    ids = torch.full((len(seqs), T), pad, dtype=torch.long)               # (B, T) right-padded
    mask = torch.zeros((len(seqs), T), dtype=torch.long)
    for b, s in enumerate(seqs):
        ids[b, :len(s)] = torch.tensor(s)
        mask[b, :len(s)] = 1
    if T < 2:
        return torch.zeros(len(seqs))
    dev = next(model.parameters()).device
    keep = T - start + 1                   # logits at positions start-1 .. T-1 predict tokens start .. T
    try:
        logits = model(input_ids=ids.to(dev), attention_mask=mask.to(dev), logits_to_keep=keep).logits
    except TypeError:                      # a model without logits_to_keep: compute all, then slice
        logits = model(input_ids=ids.to(dev), attention_mask=mask.to(dev)).logits
    logits = logits[:, -keep:-1].float().cpu()                             # (B, T-start, V)
    target = ids[:, start:]                                                # (B, T-start)
    logp = logits.log_softmax(-1).gather(-1, target[..., None])[..., 0]    # (B, T-start)
    return (logp * mask[:, start:]).sum(1)                                 # (B,)


@torch.no_grad()
def fill_mask_causal(model: torch.nn.Module, tokenizer: Any, text: str, top_k: int = 10, *,
                     n_propose: int = 25, n_instruct: int = 15,
                     extra_words: list[str] | None = None) -> FillResult:
    """Fill ``[MASK]`` with a causal LM by rescoring whole sentences (see the module docstring).

    Args:
        model, tokenizer: a causal LM (``AutoModelForCausalLM``) and its tokenizer.
        text: a sentence with exactly one ``[MASK]``.
        top_k: candidates returned. Default 10.
        n_propose: words proposed from the left context. Default 25.
        n_instruct: words proposed by the copy-and-fill prompt. Default 15.
            Cost: one LM pass over (n_propose + n_instruct) short sentence endings.
        extra_words: more words to score (e.g. a word the learner wants to compare).
    """
    left, right = split_mask(text)
    top_k = _check_top_k(top_k)
    pre = _prefix_ids(tokenizer)
    # 1a. proposals from the left context (what would come next?)
    left_s = left.rstrip()
    need_space = bool(left_s) and left.endswith((" ", "\t"))
    left_ids = pre + (tokenizer(left_s, add_special_tokens=False)["input_ids"] if left_s else [])
    if not left_ids:
        left_ids = tokenizer("\n", add_special_tokens=False)["input_ids"]
    words = _top_words(model, tokenizer, left_ids, n_propose, need_space if left_s else False)
    # 1b. proposals from a "copy the sentence with the blank filled in" prompt: when the LM
    #     reaches the blank while copying, it has already read the words on both sides
    blank = (left + "___" + right).strip()
    prompt = f"Fill in the blank.\nWith the blank: {blank}\nFilled in:" + (f" {left_s}" if left_s else "")
    ask_ids = pre + tokenizer(prompt, add_special_tokens=False)["input_ids"]
    ask_space = need_space if left_s else True  # after "Filled in:" the first word carries its space
    asked = _top_words(model, tokenizer, ask_ids, n_instruct, ask_space) if n_instruct > 0 else []
    for w in asked + list(extra_words or []):
        w = w.strip()
        if w and _WORD_RE.match(w) and w not in words:
            words.append(w)
    if not words:
        raise ValueError("the language model proposed no whole-word candidates for this blank")
    # 2. score every filled-in sentence:  log p(left, w, right)
    scores = sentence_logprobs(model, tokenizer, [left + w + right for w in words],
                               given_common_prefix=True)                             # (C,)
    # 3. renormalise over the candidates
    probs = scores.softmax(0)                                                           # (C,)
    order = probs.argsort(descending=True)[: max(1, int(top_k))].tolist()
    cands = [FillCandidate(words[i], float(probs[i]), float(scores[i])) for i in order]
    return FillResult(
        text=text, candidates=cands, n_scored=len(words), filled=left + cands[0].word + right,
        method=(f"causal-LM rescoring (not BERT): {len(words)} candidate words proposed by the LM, each "
                "scored by log p(word + right side | left side); probabilities are renormalised over these candidates"))


# ---------------------------------------------------------------------- 80/10/10 masking
#: Action codes for :func:`apply_80_10_10`.
NOT_CHOSEN, TO_MASK, TO_RANDOM, KEEP = 0, 1, 2, 3
_ACTION_NAMES: dict[int, str] = {NOT_CHOSEN: "-", TO_MASK: "[MASK]", TO_RANDOM: "random", KEEP: "keep"}


def apply_80_10_10(input_ids: torch.Tensor, special: torch.Tensor, *, mask_id: int, vocab_size: int,
                   mask_prob: float = 0.15, generator: torch.Generator | None = None,
                   ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """BERT's MLM corruption (the same sampling as HF ``DataCollatorForLanguageModeling``).

    Args:
        input_ids: token ids, any shape (...). special: bool, same shape, True = never chosen.
        mask_id: id of [MASK]. vocab_size: random replacements are uniform over 0..vocab_size-1.
        mask_prob: selection probability. Default 0.15 (the paper's).
        generator: a seeded ``torch.Generator`` for reproducibility.

    Returns:
        ``(corrupted_ids, labels, action)``: labels = original id at chosen positions, -100
        elsewhere; action codes 0 not chosen, 1 -> [MASK] (80 %), 2 -> random (10 %), 3 kept (10 %).
    """
    if not 0.0 <= mask_prob <= 1.0:
        raise ValueError(f"mask probability {mask_prob} must be between 0 and 1")
    g = generator
    prob = torch.full(input_ids.shape, float(mask_prob)).masked_fill_(special.bool(), 0.0)
    chosen = torch.bernoulli(prob, generator=g).bool()                       # 15 % of tokens
    to_mask = torch.bernoulli(torch.full(input_ids.shape, 0.8), generator=g).bool() & chosen
    to_rand = torch.bernoulli(torch.full(input_ids.shape, 0.5), generator=g).bool() & chosen & ~to_mask
    random_ids = torch.randint(vocab_size, input_ids.shape, generator=g, dtype=torch.long)
    corrupted = input_ids.clone()
    corrupted[to_mask] = mask_id
    corrupted[to_rand] = random_ids[to_rand]
    labels = torch.where(chosen, input_ids, torch.full_like(input_ids, -100))
    action = torch.zeros(input_ids.shape, dtype=torch.long)
    action[chosen] = KEEP
    action[to_mask] = TO_MASK
    action[to_rand] = TO_RANDOM
    return corrupted, labels, action


@dataclass
class MaskingResult:
    tokens: list[str]          # original WordPiece tokens incl. [CLS]/[SEP]
    corrupted: list[str]       # what BERT would be fed
    actions: list[str]         # per token: "-" (not chosen), "[MASK]", "random" or "keep"
    labels: list[str]          # the token to predict at chosen positions, "" elsewhere

    @property
    def n_chosen(self) -> int:
        return sum(a != "-" for a in self.actions)

    @property
    def counts(self) -> dict[str, int]:
        """How many chosen tokens became ``[MASK]``, a random token, or were kept."""
        return {a: self.actions.count(a) for a in ("[MASK]", "random", "keep")}

    def rows(self) -> list[list[Any]]:
        """Table rows: #, token, chosen?, what BERT sees, action, label to predict (:data:`MASK_HEADERS`)."""
        return [[i, t, "yes" if a != "-" else "", c, a, lab]
                for i, (t, c, a, lab) in enumerate(zip(self.tokens, self.corrupted, self.actions, self.labels))]


def mask_sentence(tokenizer: Any, text: str, *, mask_prob: float = 0.15, seed: int = 0) -> MaskingResult:
    """Apply the 80/10/10 rule to the WordPiece tokens of ``text`` (seeded, reproducible).

    Raises:
        ValueError: empty or over-long text, mask_prob outside [0, 1].
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError("the sentence is empty: type a sentence to mask")
    if len(text) > MAX_CHARS:
        raise ValueError(f"the sentence has {len(text)} characters; the limit is {MAX_CHARS}")
    enc = tokenizer(text.strip(), return_tensors="pt", return_special_tokens_mask=True)
    ids = enc["input_ids"][0]                                                 # (L,)
    special = enc["special_tokens_mask"][0].bool()                            # (L,)
    g = torch.Generator().manual_seed(int(seed))
    corrupted, labels, action = apply_80_10_10(ids, special, mask_id=tokenizer.mask_token_id,
                                               vocab_size=len(tokenizer), mask_prob=mask_prob, generator=g)
    conv = tokenizer.convert_ids_to_tokens
    return MaskingResult(tokens=conv(ids.tolist()), corrupted=conv(corrupted.tolist()),
                         actions=[_ACTION_NAMES[int(a)] for a in action],
                         labels=[conv(int(t)) if t >= 0 else "" for t in labels])
