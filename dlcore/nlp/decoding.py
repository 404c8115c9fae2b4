"""Decoding a causal LM token by token: greedy, sampling (temperature, top-k, top-p), beam search.

Every step of autoregressive generation is the same three moves (seed 000 §8.4.8, seed 003 §dl_12):

1. run the model on the tokens so far and take the last position's logits ``z`` (V numbers);
2. reshape them: repetition penalty (``z_i / θ`` if ``z_i > 0`` else ``z_i · θ`` for tokens
   already present, Keskar et al. 2019), temperature ``softmax(z / T)_i = exp(z_i / T) /
   Σ_j exp(z_j / T)``, keep the ``k`` largest (top-k, Fan et al. 2018), keep the smallest set
   whose probability reaches ``p`` (top-p / nucleus, Holtzman et al. 2020,
   https://arxiv.org/abs/1904.09751);
3. pick: the argmax (greedy), a draw from the reshaped distribution (sampling), or keep the
   ``k`` best partial sequences by summed log-probability (beam search; greedy is beam width 1).

The filters follow transformers' logits processors exactly (same order, same tie rules), so
:func:`stream_generate` reproduces ``model.generate`` token for token, and
:func:`next_token_table` shows a learner the distribution before and after each filter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterator, Literal

import math

import torch
import torch.nn.functional as F

from dlcore.nlp.registry import STRATEGIES
from dlcore.nlp.tables import BEAM_HEADERS, TABLE_HEADERS
from dlcore.nlp.tokens import readable_token

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

__all__ = [
    "STRATEGIES",
    "DecodeConfig",
    "apply_repetition_penalty",
    "filter_logits",
    "NextTokenTable",
    "next_token_table",
    "Step",
    "stream_generate",
    "BeamResult",
    "beam_search",
    "iter_beam_search",
    "eos_ids",
    "TABLE_HEADERS",
    "BEAM_HEADERS",
    "SURPRISE_MAX_BITS",
    "surprise_scale",
    "StepView",
    "step_view",
    "StepThrough",
    "step_through",
]

Strategy = Literal["greedy", "sample", "beam"]
MAX_NEW_TOKENS = 256
#: Surprise at which the colour scale saturates: 12 bits = a 1-in-4096 pick.
SURPRISE_MAX_BITS = 12.0


@dataclass
class DecodeConfig:
    """Decoding settings. Defaults are transformers' neutral values (no filtering).

    Attributes:
        strategy: "greedy" (argmax), "sample" (draw from softmax(z/T) after filters) or "beam".
        max_new_tokens: tokens to generate, 1..256. Default 32.
        temperature: T in softmax(z/T), 0.05..10 (sampling only). Default 1.0.
        top_k: keep the k most likely tokens; 0 = off. Default 0.
        top_p: keep the smallest set with total probability >= p; 1.0 = off. Default 1.0.
        repetition_penalty: θ for tokens already in the text, 1.0 = off, 0.5..3. Default 1.0.
        num_beams: beam width k (beam only), 1..8. Default 3.
        length_penalty: beam score = Σ log p / length**α. Default 1.0 (transformers' default).
        seed: RNG seed for sampling. Default 0.
    """

    strategy: Strategy = "greedy"
    max_new_tokens: int = 32
    temperature: float = 1.0
    top_k: int = 0
    top_p: float = 1.0
    repetition_penalty: float = 1.0
    num_beams: int = 3
    length_penalty: float = 1.0
    seed: int = 0

    def validate(self) -> "DecodeConfig":
        """Raise ValueError naming the first out-of-range setting; return self."""
        if self.strategy not in STRATEGIES:
            raise ValueError(f"strategy {self.strategy!r} is not one of {', '.join(STRATEGIES)}")
        if not 1 <= int(self.max_new_tokens) <= MAX_NEW_TOKENS:
            raise ValueError(f"max_new_tokens {self.max_new_tokens} must be between 1 and {MAX_NEW_TOKENS}")
        if not 0.05 <= float(self.temperature) <= 10:
            raise ValueError(f"temperature {self.temperature} must be between 0.05 and 10 "
                             "(T -> 0 is greedy decoding: choose strategy 'greedy')")
        if int(self.top_k) < 0:
            raise ValueError(f"top_k {self.top_k} must be >= 0 (0 switches it off)")
        if not 0 < float(self.top_p) <= 1:
            raise ValueError(f"top_p {self.top_p} must be in (0, 1] (1 switches it off)")
        if not 0.5 <= float(self.repetition_penalty) <= 3:
            raise ValueError(f"repetition_penalty {self.repetition_penalty} must be between 0.5 and 3 (1 = off)")
        if not 1 <= int(self.num_beams) <= 8:
            raise ValueError(f"num_beams {self.num_beams} must be between 1 and 8")
        if not 0 <= int(self.seed) < 2**32:
            raise ValueError(f"seed {self.seed} must be between 0 and 2**32 - 1")
        return self


def eos_ids(model: "PreTrainedModel", tok: "PreTrainedTokenizerBase") -> list[int]:
    """End-of-sequence ids: the model's generation config, else the tokenizer's."""
    e = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    if e is None:
        e = tok.eos_token_id
    return [] if e is None else ([int(e)] if isinstance(e, int) else [int(x) for x in e])


# ----------------------------------------------------------------------------- filters
def apply_repetition_penalty(logits: torch.Tensor, seen: torch.Tensor, penalty: float) -> torch.Tensor:
    """z_i / θ if z_i > 0 else z_i · θ, for every token id in ``seen``.

    Shape: logits (B, V), seen (B, L) -> (B, V).
    """
    if penalty == 1.0:
        return logits
    z = torch.gather(logits, 1, seen)  # (B, L)
    z = torch.where(z < 0, z * penalty, z / penalty)
    return logits.scatter(1, seen, z)


def filter_logits(logits: torch.Tensor, temperature: float = 1.0, top_k: int = 0,
                  top_p: float = 1.0) -> torch.Tensor:
    """Temperature, then top-k, then top-p; removed tokens get -inf (transformers' order).

    Softmax of the result is the sampling distribution softmax(z/T) restricted and renormalised.
    Shape: (B, V) -> (B, V).
    """
    z = logits / temperature if temperature != 1.0 else logits
    if top_k > 0:
        k = min(int(top_k), z.shape[-1])
        kth = torch.topk(z, k, dim=-1).values[..., -1:]  # (B, 1); ties with the k-th are kept
        z = z.masked_fill(z < kth, float("-inf"))
    if top_p < 1.0:
        sorted_z, idx = torch.sort(z, descending=False)  # ascending, as transformers does
        cum = sorted_z.softmax(-1).cumsum(-1)
        drop = cum <= (1 - top_p)
        drop[..., -1:] = False  # always keep the most likely token
        z = z.masked_fill(drop.scatter(-1, idx, drop), float("-inf"))
    return z


@dataclass
class NextTokenTable:
    """The top candidates for the next token at one step.

    ``p_before`` = softmax(z) of the raw logits; ``p_after`` = the distribution actually used
    (repetition penalty, temperature, top-k, top-p applied). ``ranks`` are 1-based ranks by
    ``p_before``; a chosen token outside the top rows is appended with its true rank.
    Shape: each tensor (rows,).
    """

    ids: torch.Tensor
    tokens: list[str]
    logits: torch.Tensor
    p_before: torch.Tensor
    p_after: torch.Tensor
    kept: int  # how many tokens of the vocabulary survive the filters
    ranks: list[int] = field(default_factory=list)

    def rows(self, chosen: int | None = None, readable: bool = False) -> list[list[object]]:
        """Table rows (:data:`TABLE_HEADERS`): rank, token, logit, p before, p after, chosen marker.

        ``readable`` shows tokens with :func:`dlcore.nlp.tokens.readable_token` (visible spaces, special tokens named).
        """
        ranks = self.ranks or list(range(1, len(self.tokens) + 1))
        show = readable_token if readable else str
        return [[r, show(t), round(float(z), 3), round(float(a), 4), round(float(b), 4),
                 "◀" if chosen is not None and int(j) == chosen else ""]
                for r, j, t, z, a, b in zip(ranks, self.ids, self.tokens, self.logits, self.p_before, self.p_after)]


def _processed(logits: torch.Tensor, ids: torch.Tensor, cfg: DecodeConfig) -> torch.Tensor:
    z = apply_repetition_penalty(logits, ids, float(cfg.repetition_penalty))
    if cfg.strategy == "sample":
        z = filter_logits(z, float(cfg.temperature), int(cfg.top_k), float(cfg.top_p))
    return z


def _table(tok: "PreTrainedTokenizerBase", raw: torch.Tensor, processed: torch.Tensor,
           top: int, chosen: int | None = None) -> NextTokenTable:
    p_before = raw.float().softmax(-1)[0]  # (V,)
    p_after = processed.float().softmax(-1)[0]  # (V,)
    ids = torch.topk(p_before, min(top, p_before.numel())).indices  # (top,)
    ranks = list(range(1, len(ids) + 1))
    if chosen is not None and chosen not in ids.tolist():  # e.g. a hot-sampling pick far down the list
        ids = torch.cat([ids, torch.tensor([chosen], device=ids.device)])  # (top + 1,)
        ranks.append(int((p_before > p_before[chosen]).sum()) + 1)
    return NextTokenTable(ids=ids, tokens=[tok.decode([int(i)]) for i in ids], logits=raw[0, ids].float(),
                          p_before=p_before[ids], p_after=p_after[ids], kept=int((p_after > 0).sum()),
                          ranks=ranks)


@torch.no_grad()
def next_token_table(model: "PreTrainedModel", tok: "PreTrainedTokenizerBase", ids: torch.Tensor,
                     cfg: DecodeConfig | None = None, top: int = 10) -> NextTokenTable:
    """The next-token distribution after ``ids`` (1, L), before and after ``cfg``'s filters."""
    cfg = (cfg or DecodeConfig()).validate()
    raw = model(input_ids=ids.to(model.device)).logits[:, -1, :].float()  # (1, V)
    return _table(tok, raw, _processed(raw, ids.to(raw.device), cfg), top)


# ----------------------------------------------------------------------------- streaming
@dataclass
class Step:
    """One generated token: its id and text, the table it was chosen from, the text so far."""

    index: int
    token_id: int
    token: str
    prob: float  # probability of the chosen token under the distribution actually used
    table: NextTokenTable
    text: str
    finished: bool = False


def surprise_scale(prob: float, max_bits: float = SURPRISE_MAX_BITS) -> float:
    """Surprise of a pick on a 0..1 colour scale: min(-log₂ p / max_bits, 1) (1 = a 1-in-4096 pick or rarer)."""
    if not prob > 0:  # 0 or NaN: as surprising as it gets
        return 1.0
    return round(min(-math.log2(min(float(prob), 1.0)) / max_bits, 1.0), 3)


@dataclass
class StepView:
    """One generated token as the GPT tab shows it (a :class:`Step` flattened to plain lists).

    Attributes:
        index: 0-based step. token, token_id, prob: the pick and its probability under the distribution used.
        surprise: :func:`surprise_scale` of ``prob``.
        rows: the next-token table (:data:`TABLE_HEADERS`), tokens made readable, the pick marked ◀.
        tokens, p_before, p_after: the table's candidates and their probabilities (for the bar chart).
        chosen: row index of the pick (None if it is not listed). kept: vocabulary tokens left by the filters.
    """

    index: int
    token: str
    token_id: int
    prob: float
    surprise: float
    rows: list[list[object]]
    tokens: list[str]
    p_before: list[float]
    p_after: list[float]
    chosen: int | None
    kept: int


def step_view(step: Step) -> StepView:
    """The table, bars and colour of one streamed step (what the tab renders)."""
    t = step.table
    rows = t.rows(step.token_id, readable=True)
    chosen = next((i for i, j in enumerate(t.ids.tolist()) if j == step.token_id), None)
    return StepView(step.index, step.token, step.token_id, step.prob, surprise_scale(step.prob), rows,
                    list(t.tokens), t.p_before.tolist(), t.p_after.tolist(), chosen, t.kept)


@torch.no_grad()
def stream_generate(model: "PreTrainedModel", tok: "PreTrainedTokenizerBase", ids: torch.Tensor,
                    cfg: DecodeConfig | None = None, top: int = 10) -> Iterator[Step]:
    """Yield one :class:`Step` per new token (greedy or sampling), using the KV cache.

    Equals ``model.generate(ids, do_sample=..., temperature=T, top_k=k, top_p=p,
    repetition_penalty=θ, max_new_tokens=n)`` after ``torch.manual_seed(seed)``, token for token.
    Shape: ids (1, L) with L >= 1.
    """
    cfg = (cfg or DecodeConfig()).validate()
    if cfg.strategy == "beam":
        raise ValueError("beam search keeps several sequences: use beam_search(), not stream_generate()")
    dev = model.device
    ids = ids.to(dev)
    stops = set(eos_ids(model, tok))
    gen = torch.Generator(device=dev).manual_seed(int(cfg.seed))
    out = model(input_ids=ids, use_cache=True)  # 1. prefill the prompt
    new: list[int] = []
    for i in range(int(cfg.max_new_tokens)):
        raw = out.logits[:, -1, :].float()  # (1, V)
        z = _processed(raw, ids, cfg)  # 2. reshape the logits
        probs = z.softmax(-1)  # (1, V) the distribution actually used
        if cfg.strategy == "sample":  # 3. pick: a draw, or the argmax
            nxt = torch.multinomial(probs, 1, generator=gen)  # (1, 1)
        else:
            nxt = z.argmax(-1, keepdim=True)  # (1, 1)
        t = int(nxt)
        new.append(t)
        ids = torch.cat([ids, nxt], dim=1)  # (1, L + i + 1)
        done = t in stops or i == int(cfg.max_new_tokens) - 1
        yield Step(index=i, token_id=t, token=tok.decode([t]), prob=float(probs[0, t]),
                   table=_table(tok, raw, z, top, chosen=t), text=tok.decode(new, skip_special_tokens=True),
                   finished=done)
        if t in stops:
            return
        out = model(input_ids=nxt, past_key_values=out.past_key_values, use_cache=True)


# ----------------------------------------------------------------------------- beam search
@dataclass
class BeamResult:
    """Finished beams, best first, and the running beams after every step (for display).

    ``scores`` are Σ log p / length**α (transformers' ``sequences_scores``); ``history[s]``
    lists (text, summed log-prob) of the running beams after step s.
    """

    sequences: list[list[int]]
    texts: list[str]
    scores: list[float]
    history: list[list[tuple[str, float]]] = field(default_factory=list)

    def rows(self, running: bool = True) -> list[list[object]]:
        """Table rows (:data:`BEAM_HEADERS`): the finished beams (score Σ log p / length**α, status "finished"),
        then, with ``running``, the running beams (score Σ log p, status "running")."""
        out: list[list[object]] = [[i + 1, t, round(s, 3), "finished"]  # score Σ log p / length**α
                                   for i, (t, s) in enumerate(zip(self.texts, self.scores))]
        if running and self.history:  # score Σ log p
            out += [[i + 1, t, round(s, 3), "running"] for i, (t, s) in enumerate(self.history[-1])]
        return out


def beam_search(model: "PreTrainedModel", tok: "PreTrainedTokenizerBase", ids: torch.Tensor,
                cfg: DecodeConfig | None = None) -> BeamResult:
    """Run :func:`iter_beam_search` to the end and return its final result."""
    result = None
    for result in iter_beam_search(model, tok, ids, cfg):
        pass
    assert result is not None  # the generator yields at least once
    return result


@torch.no_grad()
def iter_beam_search(model: "PreTrainedModel", tok: "PreTrainedTokenizerBase", ids: torch.Tensor,
                     cfg: DecodeConfig | None = None) -> Iterator[BeamResult]:
    """Beam search with width k = ``cfg.num_beams`` (transformers' algorithm and stopping rule).

    At each step every running beam b proposes every token v with score s_b + log p(v | beam b);
    the 2k best candidates are kept; those ending in EOS (among the top k) become finished with
    score (s_b + log p) / length**α; the k best others keep running. Stops at max_new_tokens, or
    when k beams are finished and the best running beam cannot beat the worst of them.
    Shape: ids (1, L). Yields a snapshot after every step (finished beams so far and the running
    beams' history); the last one holds the k finished beams (generated tokens only), best first.
    """
    cfg = (cfg or DecodeConfig(strategy="beam")).validate()
    k, alpha, n_new = int(cfg.num_beams), float(cfg.length_penalty), int(cfg.max_new_tokens)
    dev = model.device
    stops = eos_ids(model, tok)
    L = ids.shape[1]
    seqs = ids.to(dev).expand(k, L).clone()  # (k, L) running sequences
    run_scores = torch.full((k,), -1e9, device=dev)
    run_scores[0] = 0.0  # only the first copy counts at step 0, so the k beams differ
    fin: list[tuple[float, list[int]]] = []  # finished (score, generated ids)
    history: list[list[tuple[str, float]]] = []
    can_improve = True
    out = model(input_ids=seqs, use_cache=True)
    for step in range(n_new):
        logp = F.log_softmax(out.logits[:, -1, :].float(), dim=-1)  # (k, V)
        logp = apply_repetition_penalty(logp, seqs, float(cfg.repetition_penalty))
        V = logp.shape[-1]
        cand = (logp + run_scores[:, None]).reshape(-1)  # (k·V,) accumulated log-probs
        n_keep = max(2, 1 + len(stops)) * k
        top_scores, top_idx = torch.topk(cand, n_keep)  # (n_keep,)
        beam_of, tok_of = top_idx // V, top_idx % V
        gen_len = step + 1
        ends = torch.tensor([int(t) in stops for t in tok_of], device=dev) | (gen_len == n_new)
        # 1. finished hypotheses: only candidates ranked within the top k may finish
        if can_improve:
            for r in range(k):
                if ends[r] and top_scores[r] > -1e8:
                    fin.append((float(top_scores[r]) / gen_len**alpha,
                                seqs[beam_of[r], L:].tolist() + [int(tok_of[r])]))
            fin = sorted(fin, key=lambda x: -x[0])[:k]
        # 2. the k best candidates that did not finish keep running
        alive = top_scores + ends.float() * -1e9
        order = torch.topk(alive, k).indices  # (k,)
        parents = beam_of[order]
        seqs = torch.cat([seqs[parents], tok_of[order, None]], dim=1)  # (k, L + step + 1)
        run_scores = alive[order]
        history.append([(tok.decode(s[L:].tolist()), float(v)) for s, v in zip(seqs, run_scores)])
        yield _snapshot(tok, fin, history)
        # 3. stop when nothing can improve the k finished beams, or at the length limit
        if len(fin) == k and float(run_scores[0]) / gen_len**alpha <= fin[-1][0]:
            can_improve = False
        if not can_improve or bool(ends.all()) or gen_len == n_new:
            break
        out.past_key_values.reorder_cache(parents)  # each new beam continues its parent's cache
        out = model(input_ids=seqs[:, -1:], past_key_values=out.past_key_values, use_cache=True)
    yield _snapshot(tok, fin, history)


def _snapshot(tok: "PreTrainedTokenizerBase", fin: list[tuple[float, list[int]]],
              history: list[list[tuple[str, float]]]) -> BeamResult:
    return BeamResult(sequences=[list(s) for _, s in fin],
                      texts=[tok.decode(s, skip_special_tokens=True) for _, s in fin],
                      scores=[v for v, _ in fin], history=list(history))


# ----------------------------------------------------------------------------- you pick the token
@dataclass
class StepThrough:
    """A decoding where the learner is the strategy: the candidates for the next token, and the text so far.

    Attributes:
        prompt_len: tokens of the prompt. ids: prompt + every appended token.
        table: the next-token table after ``ids`` (top candidates, before/after the filters).
        candidates: label -> token id, e.g. ``"1. ␣mat · p used 0.412"`` (the dropdown's choices, in rank order).
        text: the appended tokens decoded.
    """

    prompt_len: int
    ids: list[int]
    table: NextTokenTable
    candidates: dict[str, int]
    text: str

    @property
    def appended(self) -> int:
        return len(self.ids) - self.prompt_len


def step_through(model: "PreTrainedModel", tok: "PreTrainedTokenizerBase", ids: torch.Tensor, prompt_len: int,
                 cfg: DecodeConfig | None = None, top: int = 10, max_tokens: int = 768) -> StepThrough:
    """The next-token candidates after ``ids`` (1, L), whose first ``prompt_len`` tokens are the prompt.

    Start with ``ids`` = the prompt (``prompt_len = L``); to append a pick ``j``, call again with
    ``[*state.ids, j]``. ``cfg`` sets the filters whose effect "p used" shows (default: none).

    Raises:
        ValueError: more than ``max_tokens`` tokens in all (default 768).
    """
    if ids.shape[1] > max_tokens:
        raise ValueError(f"the text has reached the limit of {max_tokens} tokens")
    table = next_token_table(model, tok, ids, cfg or DecodeConfig(strategy="sample"), top=top)
    cands = {f"{i + 1}. {readable_token(t)} · p used {float(p):.3f}": int(j)
             for i, (t, p, j) in enumerate(zip(table.tokens, table.p_after, table.ids))}
    id_list = ids[0].tolist()
    return StepThrough(prompt_len, id_list, table, cands, tok.decode(id_list[prompt_len:]))
