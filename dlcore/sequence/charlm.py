"""A character-level language model on the shipped Shakespeare, sampled with a temperature as it trains.

Karpathy's char-rnn (http://karpathy.github.io/2015/05/21/rnn-effectiveness/): predict the next
character, ``P(x_t | h_{t-1})`` with ``h_t = f(x_t, h_{t-1})`` (seed 000 §8.3.1), trained with the
cross-entropy over every position of random windows (truncated back-propagation through time)
by the one :class:`dlcore.train.Trainer` (its ``objective`` hook). Measured by the notes'
**perplexity** ``exp(−(1/n) Σ log P(x_t | x_<t))`` on held-out text: V for a uniform guess over
the V characters, ``exp(H)`` of the character frequencies for a unigram model.

Sampling divides the logits by a temperature ``T`` before the softmax, ``softmax(z / T)`` (seed 000
§8.4.8): T → 0 is greedy, T = 1 the model's own distribution, T > 1 flatter (more "creative",
more typos). Samples draw from a private ``torch.Generator``: same seed, same text.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from typing import Iterator

import torch
from torch import nn
from torch.nn import functional as F

from dlcore.sequence.models import CharModel, seeded
from dlcore.sequence.names import CharConfig, check_range

__all__ = ["Vocab", "CharData", "char_data", "RandomWindows", "char_objective", "Stepper", "sample_text",
           "next_char_table", "perplexity", "CharProgress", "train_char"]


@dataclass(frozen=True)
class Vocab:
    """The characters of a text, sorted; ids are positions in :attr:`chars`."""

    chars: str

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> torch.Tensor:
        """Ids of ``text`` (unknown characters raise).   Shape ``(len(text),)`` int64."""
        index = {c: i for i, c in enumerate(self.chars)}
        bad = sorted({c for c in text if c not in index})
        if bad:
            raise ValueError(f"characters {''.join(bad)[:20]!r} do not occur in the training text")
        return torch.tensor([index[c] for c in text], dtype=torch.long)

    def decode(self, ids: torch.Tensor | list[int]) -> str:
        return "".join(self.chars[int(i)] for i in ids)


@dataclass(frozen=True)
class CharData:
    """Train / validation ids (the last 10 % of the text is held out) and baseline perplexities."""

    vocab: Vocab
    train: torch.Tensor
    val: torch.Tensor
    source: str
    unigram_ppl: float


def char_data(play: str = "hamlet", max_chars: int = 100_000) -> CharData:
    """The first ``max_chars`` characters of a Shakespeare play (``dlcore.data.load_corpus``)."""
    from dlcore.data import load_corpus

    corpus = load_corpus("shakespeare", play, max_chars)
    text = corpus.text
    if len(text) < 2_000:
        raise ValueError(f"the text has only {len(text)} characters; at least 2000 are needed")
    vocab = Vocab("".join(sorted(set(text))))
    ids = vocab.encode(text)
    cut = int(len(ids) * 0.9)
    counts = torch.bincount(ids[:cut], minlength=len(vocab)).double()
    p = counts / counts.sum()
    h = float(-(p[p > 0] * p[p > 0].log()).sum())
    return CharData(vocab, ids[:cut], ids[cut:], f"{corpus.source}, first {len(text):,} characters", math.exp(h))


class RandomWindows:
    """``steps`` batches of ``batch`` random windows: ``x = ids[s:s+L]``, ``y = ids[s+1:s+L+1]``.

    Drawn from a private generator (``seed``), so runs side by side do not disturb each other.
    """

    def __init__(self, ids: torch.Tensor, seq_len: int, batch: int, steps: int, seed: int) -> None:
        if len(ids) <= seq_len + 1:
            raise ValueError(f"window length {seq_len} is longer than the text ({len(ids)} characters)")
        self.ids, self.seq_len, self.batch, self.steps = ids, seq_len, batch, steps
        self.gen = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return self.steps

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        offs = torch.arange(self.seq_len)
        for _ in range(self.steps):
            start = torch.randint(0, len(self.ids) - self.seq_len - 1, (self.batch, 1), generator=self.gen)
            idx = start + offs                               # (B, L)
            yield self.ids[idx], self.ids[idx + 1]           # inputs, next characters


def char_objective(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, None]:
    """Mean cross-entropy of the next character over every position: ``−(1/BL) Σ log P(y | x_≤t)``."""
    logits = model(x)                                        # (B, L, V)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1)), None


@torch.no_grad()
def perplexity(model: CharModel, ids: torch.Tensor, seq_len: int = 128, max_windows: int = 64) -> float:
    """``exp`` of the mean next-character cross-entropy on consecutive windows of ``ids``."""
    n = min(max_windows, (len(ids) - 1) // seq_len)
    if n < 1:
        raise ValueError(f"{len(ids)} characters are too few for windows of {seq_len}")
    device = next(model.parameters()).device
    x = ids[: n * seq_len].view(n, seq_len).to(device)
    y = ids[1: n * seq_len + 1].view(n, seq_len).to(device)
    was = model.training
    model.eval()
    loss, _ = char_objective(model, x, y)
    model.train(was)
    return math.exp(float(loss))


def _logits_after(model: CharModel, ids: torch.Tensor) -> tuple[torch.Tensor, object]:
    out, state = model.step(ids.view(1, -1))                 # (1, L, V)
    return out[0, -1], state


class Stepper:
    """One character at a time through a :class:`CharModel`, written out for speed (~5x ``nn.LSTM``
    called per character): the cell equations of :mod:`dlcore.sequence.cells` on fused gate
    vectors, and layer 0's ``W_ih·embed(c) + b_ih`` looked up in a precomputed ``(V, G·H)`` table
    (the input is one character, so its projection is one row). Equal to ``model.step`` (tested).
    """

    def __init__(self, model: CharModel) -> None:
        from dlcore.sequence.cells import CellWeights

        self.kind, self.head = model.cell, model.head
        self.layers = [CellWeights.from_module(model.rnn, k) for k in range(model.rnn.num_layers)]
        w0 = self.layers[0]
        self.table = model.embed.weight @ w0.w_ih.T + w0.b_ih  # (V, G·H)
        H = w0.hidden_size
        self.h = [torch.zeros(H) for _ in self.layers]
        self.c = [torch.zeros(H) for _ in self.layers]

    def __call__(self, char: int) -> torch.Tensor:
        """Feed one character id; return the logits of the next one.   Shape ``(V,)``."""
        H = self.layers[0].hidden_size
        x = None
        for k, w in enumerate(self.layers):
            xp = self.table[char] if k == 0 else torch.addmv(w.b_ih, w.w_ih, x)   # W_ih x + b_ih  (G·H,)
            hp = torch.addmv(w.b_hh, w.w_hh, self.h[k])                             # W_hh h + b_hh  (G·H,)
            if self.kind == "lstm":
                a = xp + hp
                i, f, o = torch.sigmoid(a[:H]), torch.sigmoid(a[H:2 * H]), torch.sigmoid(a[3 * H:])
                self.c[k] = f * self.c[k] + i * torch.tanh(a[2 * H:3 * H])
                self.h[k] = o * torch.tanh(self.c[k])
            elif self.kind == "gru":
                rz = torch.sigmoid(xp[:2 * H] + hp[:2 * H])
                n = torch.tanh(xp[2 * H:] + rz[:H] * hp[2 * H:])
                self.h[k] = n + rz[H:] * (self.h[k] - n)                              # (1 − z) n + z h
            else:
                a = xp + hp
                self.h[k] = torch.relu(a) if w.nonlinearity == "relu" else torch.tanh(a)
            x = self.h[k]
        return torch.addmv(self.head.bias, self.head.weight, x)


def sample_text(model: CharModel, vocab: Vocab, prime: str, n: int, temperature: float = 1.0,
                seed: int = 0) -> str:
    """``n`` characters after ``prime``, each drawn from ``softmax(z / T)`` (T = ``temperature``)."""
    from dlcore.train.runtime import torch_threads

    check_range("temperature", temperature, 0.01, 10.0)
    check_range("sample length", n, 1, 10_000)
    if not prime:
        raise ValueError("prime is empty: give the sample at least one character to start from")
    ids = vocab.encode(prime).tolist()
    gen = torch.Generator().manual_seed(seed)
    out: list[int] = []
    with torch.inference_mode(), torch_threads(1):
        step = Stepper(_cpu(model))
        for c in ids[:-1]:
            step(c)
        nxt = ids[-1]
        for _ in range(n):
            p = torch.softmax(step(nxt) / temperature, -1)        # 1. softmax(z / T)
            nxt = int(torch.multinomial(p, 1, generator=gen))     # 2. draw one character, 3. feed it back
            out.append(nxt)
    return vocab.decode(out)


def _cpu(model: CharModel) -> CharModel:
    import copy

    return model if next(model.parameters()).device.type == "cpu" else copy.deepcopy(model).cpu()


@torch.no_grad()
def next_char_table(model: CharModel, vocab: Vocab, context: str, temperatures: tuple[float, ...] = (0.5, 1.0, 2.0),
                    top: int = 8) -> tuple[list[str], torch.Tensor]:
    """The ``top`` most likely next characters after ``context`` and their probabilities at each T.

    Returns: ``(chars, probs)`` with ``probs`` ``(len(temperatures), top)``.
    """
    for t in temperatures:
        check_range("temperature", t, 0.01, 10.0)
    was = model.training
    model.eval()
    logits, _ = _logits_after(model, vocab.encode(context).to(next(model.parameters()).device))
    model.train(was)
    order = torch.argsort(logits, descending=True)[:top]
    probs = torch.stack([torch.softmax(logits / t, -1)[order] for t in temperatures]).cpu()
    return [vocab.chars[int(i)] for i in order], probs


@dataclass
class CharProgress:
    """A char-model run so far (the same object, updated after every step)."""

    config: CharConfig
    data: CharData
    model: CharModel
    step: int = 0
    total: int = 0
    step_loss: list[float] = field(default_factory=list)
    val_ppl: list[tuple[int, float]] = field(default_factory=list)
    samples: list[tuple[int, str]] = field(default_factory=list)
    status: str = "running"
    message: str = ""
    sample_seconds: float = 0.0
    sampled_chars: int = 0


def train_char(cfg: CharConfig | None = None, stop_event: threading.Event | None = None) -> Iterator[CharProgress]:
    """Train a :class:`CharModel` for ``cfg.steps`` steps; every ``sample_every`` steps (and at the
    start and the end) measure the validation perplexity and sample ``sample_len`` characters.

    Yields the :class:`CharProgress` after every step.
    """
    import time

    from dlcore.train import TrainConfig, Trainer

    cfg = (cfg or CharConfig()).validate()
    data = char_data(cfg.play, cfg.max_chars)
    data.vocab.encode(cfg.prime)                             # the prime must use the text's characters
    model, _ = seeded(cfg.seed, lambda: CharModel(len(data.vocab), cfg.cell, cfg.hidden_size, cfg.num_layers,
                                                  cfg.embed_dim))
    prog = CharProgress(cfg, data, model, total=cfg.steps)

    def observe() -> None:
        prog.val_ppl.append((prog.step, perplexity(model, data.val)))
        t0 = time.perf_counter()
        prog.samples.append((prog.step, sample_text(model, data.vocab, cfg.prime, cfg.sample_len, cfg.temperature,
                                                    cfg.seed + prog.step)))
        prog.sample_seconds += time.perf_counter() - t0
        prog.sampled_chars += cfg.sample_len

    tc = TrainConfig(task="multiclass", optimizer="Adam", lr=cfg.lr, epochs=1, clip_grad_norm=cfg.clip_grad_norm,
                     num_threads=1)
    trainer = Trainer(model, RandomWindows(data.train, cfg.seq_len, cfg.batch_size, cfg.steps, cfg.seed), None, tc,
                      stop_event=stop_event, objective=char_objective)  # type: ignore[arg-type]
    observe()
    yield prog
    for log in trainer.steps():
        prog.step = log.step
        prog.step_loss.append(log.loss)
        if log.step % cfg.sample_every == 0 and log.step < cfg.steps:
            observe()
        yield prog
    h = trainer.history
    prog.status = h.status
    prog.message = f"finished {prog.step} steps" if h.status == "finished" else h.message
    if not prog.samples or prog.samples[-1][0] != prog.step:
        observe()
    yield prog
