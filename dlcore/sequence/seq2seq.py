"""A tiny encoder-decoder on digit strings: reverse or sort, with or without attention.

Seed 000 §8.3.6-8.3.7 and seed 003 §dl_5: a GRU **encoder** reads the digits; a GRU **decoder** starts
from the encoder's last state (the context ``c``) and emits one digit per step, fed its previous
output ``y_{t−1}``, until ``<eos>``. With attention (Luong et al. 2015, https://arxiv.org/abs/1508.04025)
each decoder state ``s_t`` scores every encoder state ``h_s``:

* ``dot``: ``s_tᵀ h_s``;  ``general``: ``s_tᵀ W_a h_s``;  ``concat``: ``v_aᵀ tanh(W_a [s_t; h_s])``,

``a_t = softmax(score)``, ``c_t = Σ_s a_t(s) h_s``, ``s̃_t = tanh(W_c [c_t; s_t])`` and
``p(y_t) = softmax(W_o s̃_t)`` (no input feeding). Without attention ``p(y_t) = softmax(W_o s_t)``.

**Teacher forcing** (强制教学): while training the decoder is fed the *true* previous digit; at test
time it is fed its own guess (auto-regressive). The mismatch is **exposure bias** (曝光偏差, seed 000
§8.4.8): the model never saw its own mistakes, so one wrong digit derails the rest ("一步错步步错").
:func:`evaluate_seq2seq` measures the error both ways, per output position; ``teacher_forcing < 1``
feeds the model's own guess with probability ``1 − ratio`` while training (the mixing of scheduled
sampling, Bengio et al. 2015, https://arxiv.org/abs/1506.03099, at a fixed ratio).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Iterator

import torch
from torch import nn
from torch.nn import functional as F

from dlcore.sequence.models import seeded
from dlcore.sequence.names import ATTENTIONS, SEQ2SEQ_TASKS, AttentionName, Seq2SeqConfig, Seq2SeqTask

__all__ = ["PAD", "BOS", "EOS", "VOCAB", "digit_strings", "Seq2Seq", "seq2seq_objective", "Seq2SeqEval",
           "evaluate_seq2seq", "Seq2SeqProgress", "train_seq2seq", "decode_tokens"]

PAD, BOS, EOS = 10, 11, 12
VOCAB = 13  # digits 0-9, <pad>, <bos>, <eos>


def decode_tokens(ids: torch.Tensor | list[int]) -> str:
    """Digits up to the first ``<eos>`` (``·`` for a stray special token)."""
    out = []
    for i in (ids.tolist() if isinstance(ids, torch.Tensor) else ids):
        if i == EOS:
            break
        out.append(str(i) if i < 10 else "·")
    return "".join(out)


def digit_strings(task: Seq2SeqTask, n: int, min_len: int, max_len: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` random digit strings and their targets.

    Returns:
        ``src (n, max_len)`` digits padded with ``PAD``; ``tgt (n, max_len + 1)`` the reversed (or
        sorted) digits, then ``EOS``, then ``PAD``.
    """
    if task not in SEQ2SEQ_TASKS:
        raise ValueError(f"task {task!r} is not one of {SEQ2SEQ_TASKS}")
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(min_len, max_len + 1, (n,), generator=g)
    digits = torch.randint(0, 10, (n, max_len), generator=g)
    src = torch.full((n, max_len), PAD, dtype=torch.long)
    tgt = torch.full((n, max_len + 1), PAD, dtype=torch.long)
    for k in range(n):
        L = int(lengths[k])
        d = digits[k, :L]
        src[k, :L] = d
        tgt[k, :L] = d.flip(0) if task == "reverse" else d.sort().values
        tgt[k, L] = EOS
    return src, tgt


class Seq2Seq(nn.Module):
    """GRU encoder-decoder with optional Luong attention (see the module docstring).

    Shape: ``src (N, S)``, ``tgt (N, T)`` -> logits ``(N, T, VOCAB)`` (and attention ``(N, T, S)``).
    """

    def __init__(self, attention: AttentionName = "dot", hidden_size: int = 64, embed_dim: int = 16) -> None:
        super().__init__()
        if attention not in ATTENTIONS:
            raise ValueError(f"attention {attention!r} is not one of {ATTENTIONS}")
        H = hidden_size
        self.attention = attention
        self.src_embed = nn.Embedding(VOCAB, embed_dim, padding_idx=PAD)
        self.tgt_embed = nn.Embedding(VOCAB, embed_dim, padding_idx=PAD)
        self.encoder = nn.GRU(embed_dim, H, batch_first=True)
        self.decoder = nn.GRUCell(embed_dim, H)
        if attention == "general":
            self.W_a = nn.Linear(H, H, bias=False)
        elif attention == "concat":
            self.W_a = nn.Linear(2 * H, H, bias=False)
            self.v_a = nn.Linear(H, 1, bias=False)
        if attention != "none":
            self.W_c = nn.Linear(2 * H, H, bias=False)
        self.out = nn.Linear(H, VOCAB)

    def encode(self, src: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(h_1 … h_S (N, S, H), mask (N, S), the last real state (N, H))``."""
        mask = src != PAD
        lengths = mask.sum(1).clamp(min=1).cpu()
        packed = nn.utils.rnn.pack_padded_sequence(self.src_embed(src), lengths, batch_first=True,
                                                   enforce_sorted=False)
        out, h = self.encoder(packed)
        enc, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=src.shape[1])
        return enc, mask, h[0]

    def score(self, s: torch.Tensor, enc: torch.Tensor) -> torch.Tensor:
        """Luong's scores of decoder state ``s (N, H)`` against every ``h_s``.   Shape ``(N, S)``."""
        if self.attention == "dot":
            return torch.einsum("nh,nsh->ns", s, enc)                      # s_tᵀ h_s
        if self.attention == "general":
            return torch.einsum("nh,nsh->ns", s, self.W_a(enc))            # s_tᵀ W_a h_s
        both = torch.cat([s.unsqueeze(1).expand_as(enc), enc], -1)         # [s_t; h_s]  (N, S, 2H)
        return self.v_a(torch.tanh(self.W_a(both))).squeeze(-1)           # v_aᵀ tanh(W_a [s_t; h_s])

    def forward(self, src: torch.Tensor, tgt: torch.Tensor, teacher_forcing: float = 1.0,
                generator: torch.Generator | None = None, return_attention: bool = False) -> torch.Tensor | tuple:
        enc, mask, s = self.encode(src)                                    # 1. encode; s_0 = context
        n, T = tgt.shape
        y_prev = torch.full((n,), BOS, dtype=torch.long, device=src.device)
        logits, attn = [], []
        for t in range(T):
            s = self.decoder(self.tgt_embed(y_prev), s)                    # 2. s_t = GRU(y_{t−1}, s_{t−1})
            if self.attention == "none":
                z = self.out(s)
            else:
                e = self.score(s, enc).masked_fill(~mask, float("-inf"))   # 3. scores, padding masked
                a = torch.softmax(e, -1)                                   #    a_t(s)
                c = torch.einsum("ns,nsh->nh", a, enc)                     # 4. c_t = Σ a_t(s) h_s
                z = self.out(torch.tanh(self.W_c(torch.cat([c, s], -1))))  # 5. s̃_t, 6. W_o s̃_t
                attn.append(a)
            logits.append(z)
            guess = z.argmax(-1).detach()
            if teacher_forcing >= 1.0:                                     # 7. next input: truth or guess
                y_prev = tgt[:, t]
            elif teacher_forcing <= 0.0:
                y_prev = guess
            else:
                coin = torch.rand(n, generator=generator).to(src.device) < teacher_forcing
                y_prev = torch.where(coin, tgt[:, t], guess)
        out = torch.stack(logits, 1)                                       # (N, T, V)
        if return_attention:
            return out, (torch.stack(attn, 1) if attn else None)
        return out


def seq2seq_objective(teacher_forcing: float, generator: torch.Generator):
    """Trainer objective: cross-entropy over the non-pad target tokens; teacher forcing with
    probability ``teacher_forcing`` in training mode, free-running (ratio 0) in eval mode."""
    def objective(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, None]:
        p = teacher_forcing if model.training else 0.0
        logits = model(x, y, teacher_forcing=p, generator=generator)
        return F.cross_entropy(logits.reshape(-1, VOCAB), y.reshape(-1), ignore_index=PAD), None
    return objective


@dataclass
class Seq2SeqEval:
    """Errors on held-out strings, teacher-forced (``tf``) and free-running (``fr``, as at test time).

    Attributes:
        tf_error, fr_error: wrong tokens / target tokens (digits and ``<eos>``).
        fr_exact: share of strings produced exactly right, free-running.
        tf_position, fr_position: ``(T,)`` token error at each output position (NaN where no target).
    """

    tf_error: float
    fr_error: float
    fr_exact: float
    tf_position: torch.Tensor
    fr_position: torch.Tensor

    @property
    def exposure_gap(self) -> float:
        """Free-running minus teacher-forced token error: what exposure bias costs."""
        return self.fr_error - self.tf_error


@torch.no_grad()
def evaluate_seq2seq(model: Seq2Seq, src: torch.Tensor, tgt: torch.Tensor) -> Seq2SeqEval:
    """Token errors per position, decoding with the true previous token and with the model's own."""
    was = model.training
    model.eval()
    real = tgt != PAD
    errs = []
    for p in (1.0, 0.0):
        wrong = (model(src, tgt, teacher_forcing=p).argmax(-1) != tgt) & real   # (N, T)
        errs.append(wrong)
    model.train(was)
    count = real.sum(0).clamp(min=1)
    pos = [torch.where(real.any(0), w.sum(0) / count, torch.tensor(float("nan"))) for w in errs]
    tot = real.sum().clamp(min=1)
    return Seq2SeqEval(float(errs[0].sum() / tot), float(errs[1].sum() / tot),
                       float((~errs[1].any(1)).float().mean()), pos[0], pos[1])


@dataclass
class Seq2SeqProgress:
    """A seq2seq run so far (the same object, updated after every step)."""

    config: Seq2SeqConfig
    model: Seq2Seq
    step: int = 0
    total: int = 0
    step_loss: list[float] = field(default_factory=list)
    curve: list[tuple[int, float, float, float]] = field(default_factory=list)  # (step, tf, fr, exact)
    final: Seq2SeqEval | None = None
    status: str = "running"
    message: str = ""
    test: tuple[torch.Tensor, torch.Tensor] | None = None

    def examples(self, n: int = 6) -> list[tuple[str, str, str, bool]]:
        """``(input, target, free-running output, right?)`` for the first ``n`` test strings."""
        assert self.test is not None
        src, tgt = self.test[0][:n], self.test[1][:n]
        with torch.no_grad():
            was = self.model.training
            self.model.eval()
            pred = self.model(src, tgt, teacher_forcing=0.0).argmax(-1)
            self.model.train(was)
        rows = []
        for s, t, p in zip(src, tgt, pred):
            a, b = decode_tokens(t), decode_tokens(p)
            rows.append((decode_tokens(s[s != PAD]), a, b, a == b))
        return rows

    def attention_map(self, k: int = 0) -> tuple[str, str, torch.Tensor] | None:
        """``(input, output, weights (T_out, S))`` of test string ``k``, free-running; None without attention."""
        assert self.test is not None
        src, tgt = self.test[0][k:k + 1], self.test[1][k:k + 1]
        with torch.no_grad():
            was = self.model.training
            self.model.eval()
            logits, attn = self.model(src, tgt, teacher_forcing=0.0, return_attention=True)
            self.model.train(was)
        if attn is None:
            return None
        L = int((src != PAD).sum())
        out = logits.argmax(-1)[0]
        T = int((tgt[0] != PAD).sum())
        return decode_tokens(src[0, :L]), "".join(str(int(i)) if i < 10 else "⏎" for i in out[:T]), attn[0, :T, :L]


def train_seq2seq(cfg: Seq2SeqConfig | None = None, stop_event: threading.Event | None = None,
                  n_evals: int = 12) -> Iterator[Seq2SeqProgress]:
    """Train a :class:`Seq2Seq` with the one Trainer; evaluate on 512 fresh strings ``n_evals`` times.

    Yields the :class:`Seq2SeqProgress` after every step.
    """
    from dlcore.sequence.data import SeedShuffleLoader
    from dlcore.train import TrainConfig, Trainer

    cfg = (cfg or Seq2SeqConfig()).validate()
    x, y = digit_strings(cfg.task, cfg.n_train, cfg.min_len, cfg.max_len, cfg.seed)
    test = digit_strings(cfg.task, 512, cfg.min_len, cfg.max_len, cfg.seed + 1_000_003)
    model, _ = seeded(cfg.seed, lambda: Seq2Seq(cfg.attention, cfg.hidden_size, cfg.embed_dim))
    prog = Seq2SeqProgress(cfg, model, test=test)
    loader = SeedShuffleLoader(x, y, cfg.batch_size, torch.Generator().manual_seed(cfg.seed).get_state(),
                               eval_draws=0)
    tc = TrainConfig(task="multiclass", optimizer="Adam", lr=cfg.lr, epochs=cfg.epochs,
                     clip_grad_norm=cfg.clip_grad_norm, num_threads=1)
    coins = torch.Generator().manual_seed(cfg.seed + 7)
    trainer = Trainer(model, loader, None, tc, stop_event=stop_event,
                      objective=seq2seq_objective(cfg.teacher_forcing, coins))
    prog.total = trainer.history.total_steps
    every = max(1, prog.total // n_evals)

    def observe() -> None:
        e = evaluate_seq2seq(model, *test)
        prog.curve.append((prog.step, e.tf_error, e.fr_error, e.fr_exact))
        prog.final = e

    observe()
    yield prog
    for log in trainer.steps():
        prog.step = log.step
        prog.step_loss.append(log.loss)
        if log.step % every == 0 and log.step < prog.total:
            observe()
        yield prog
    prog.status, prog.message = trainer.history.status, trainer.history.message
    if prog.curve[-1][0] != prog.step:
        observe()
    yield prog
