"""The sequence family's registries and configs, torch-free: what the UI and the code both read.

Importing this module imports no torch, so the "sequence" tab builds its widgets from here.

Defaults are the seeds' hyper-parameters, read from their code:

* seed 003 §dl_3_2 (LSTM, the sine predictor): ``sin(linspace(0, 20π, 1000)) + N(0, 0.1)``, 80/20
  split, windows of 20, ``batch_size=32`` with ``shuffle=True, drop_last=True``, ``hidden_size=64``,
  one layer, ``Adam(lr=0.001)``, 50 epochs, ``torch.manual_seed(42)``, ``np.random.seed(42)``;
* seed 003 §dl_4_2 (GRU, the noisy sines): 300 sequences of 30 points
  ``sin(linspace(0, 2π·f, 30) + φ) + N(0, 0.1)`` with ``f ~ U(0.5, 1.5)``, ``φ ~ U(0, π)``, 240 train /
  60 test, target the last point, ``hidden_size=32``, ``Adam(lr=0.005)``, 100 full-batch epochs.

Hochreiter & Schmidhuber 1997 (LSTM), https://doi.org/10.1162/neco.1997.9.8.1735; Cho et al. 2014
(GRU), https://arxiv.org/abs/1406.1078.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

__all__ = [
    "CellName", "CELLS", "CELL_LABELS", "GATES", "GruReset", "GRU_RESETS", "SineData", "SINE_DATA",
    "SineConfig", "SINE_PRESETS", "SEED_FIGURES", "NormName", "NORMS", "CharConfig", "CHAR_CELLS", "PLAYS",
    "ModelSource", "MODEL_SOURCES", "ClipOptimizer", "CLIP_OPTIMIZERS", "ClipConfig", "Seq2SeqTask", "SEQ2SEQ_TASKS", "AttentionName", "ATTENTIONS", "Seq2SeqConfig", "MAX_HIDDEN",
    "MAX_EPOCHS", "MAX_WINDOW", "LABELS", "MAX_SEQ_LEN", "MAX_CHAR_STEPS", "MAX_SEQ2SEQ_STEPS", "check_range",
]

CellName = Literal["rnn", "lstm", "gru"]
CELLS: tuple[str, ...] = get_args(CellName)
CELL_LABELS: dict[str, str] = {"rnn": "RNN (tanh)", "lstm": "LSTM", "gru": "GRU"}
#: The gates and states each hand-written cell returns, in the order the figures show them.
GATES: dict[str, tuple[str, ...]] = {
    "rnn": ("h",),
    "lstm": ("i", "f", "g", "o", "c", "h"),
    "gru": ("r", "z", "n", "h"),
}

#: Where the GRU's reset gate acts. ``"after"``: ``n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))``
#: (PyTorch, cuDNN, Keras ``reset_after=True``); ``"before"``: ``n = tanh(X W_xh + (R ⊙ H) W_hh + b_h)``
#: (the notes' formula, Cho et al. 2014's original). They are different functions of the weights.
GruReset = Literal["after", "before"]
GRU_RESETS: tuple[str, ...] = get_args(GruReset)

SineData = Literal["sine", "noisy_sines"]
SINE_DATA: tuple[str, ...] = get_args(SineData)

NormName = Literal["spectral", "frobenius"]
NORMS: tuple[str, ...] = get_args(NormName)

MAX_HIDDEN = 256
MAX_EPOCHS = 300
MAX_WINDOW = 100
MAX_SEQ_LEN = 400
MAX_CHAR_STEPS = 20_000
MAX_SEQ2SEQ_STEPS = 20_000


#: The page's label of every field (messages name fields by these).
LABELS: dict[str, str] = {
    "data": "data", "cells": "cells", "epochs": "epochs", "hidden": "hidden size", "lr": "learning rate (Adam)",
    "batch": "batch size (0 = whole set)", "window": "window / sequence length", "leak": "target in the input",
    "seed": "seed", "cell": "cell", "source": "weights", "index": "test sequence", "step": "step t",
    "unit": "unit j", "reset": "GRU reset", "length": "sequence length T", "norm": "norm",
    "scale": "recurrent weight scale ρ", "tau": "clipping threshold τ", "sgd_lr": "learning rate (SGD)", "play": "play", "steps": "steps",
    "temperature": "temperature T", "prime": "prime", "task": "task", "attentions": "attention",
    "teacher": "teacher forcing ratio",
}


def check_range(name: str, value: float, lo: float, hi: float) -> None:
    """Raise ``ValueError`` naming ``name`` when ``value`` is not a number in ``[lo, hi]``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a number, got {type(value).__name__} {str(value)[:40]!r}")
    if not (lo <= value <= hi):  # also False for NaN
        raise ValueError(f"{name} {value!r} must be between {lo:g} and {hi:g}")


@dataclass(frozen=True)
class SineConfig:
    """One sine-predictor run (defaults: seed 003 §dl_3_2, the LSTM sine predictor).

    Args:
        data: ``"sine"`` (§dl_3_2: one long noisy sine, sliding windows) or ``"noisy_sines"``
            (§dl_4_2: 300 short sines of random frequency and phase). Default ``"sine"``.
        window: input length (§dl_3_2 ``seq_length=20``; §dl_4_2 ``seq_len=30``).
        hidden_size: 64 (§dl_3_2) / 32 (§dl_4_2).
        num_layers: stacked recurrent layers (1 in both seeds).
        lr: Adam's learning rate, 0.001 (§dl_3_2) / 0.005 (§dl_4_2).
        epochs: 50 (§dl_3_2) / 100 (§dl_4_2).
        batch_size: 32 with ``drop_last=True`` (§dl_3_2); 0 = the whole training set per step (§dl_4_2).
        noise: std of the Gaussian noise, 0.1 in both.
        target_in_input: §dl_4_2 only. The notes' code feeds the whole sequence, *including the
            target* ``seq[-1]``, as the input (True, as printed); False feeds ``seq[:-1]``.
        clip_grad_norm: 0 = off (neither seed clips).
        seed: ``torch.manual_seed`` / ``np.random.seed`` (42 in both).
    """

    data: SineData = "sine"
    window: int = 20
    hidden_size: int = 64
    num_layers: int = 1
    lr: float = 1e-3
    epochs: int = 50
    batch_size: int = 32
    noise: float = 0.1
    target_in_input: bool = True
    clip_grad_norm: float = 0.0
    seed: int = 42

    def validate(self) -> "SineConfig":
        """Check every field; return self. Raises ``ValueError`` naming the field."""
        if self.data not in SINE_DATA:
            raise ValueError(f"data {self.data!r} is not one of {SINE_DATA}")
        check_range("window", self.window, 2, MAX_WINDOW)
        check_range("hidden size", self.hidden_size, 1, MAX_HIDDEN)
        check_range("layers", self.num_layers, 1, 4)
        check_range("learning rate", self.lr, 1e-6, 1.0)
        check_range("epochs", self.epochs, 1, MAX_EPOCHS)
        check_range("batch size", self.batch_size, 0, 1024)
        check_range("noise", self.noise, 0.0, 1.0)
        check_range("gradient clipping", self.clip_grad_norm, 0.0, 1e6)
        check_range("seed", self.seed, 0, 2**31 - 1)
        return self


#: The seeds' two experiments as presets (preset name -> config).
SINE_PRESETS: dict[str, SineConfig] = {
    "seed §dl_3: LSTM sine (window 20, hidden 64, Adam 1e-3, 50 epochs)": SineConfig(),
    "seed §dl_4: GRU noisy sines (30 points, hidden 32, Adam 5e-3, 100 epochs)": SineConfig(
        data="noisy_sines", window=30, hidden_size=32, lr=5e-3, epochs=100, batch_size=0),
    "§dl_4 without the leak: predict the last point from the 29 before it": SineConfig(
        data="noisy_sines", window=30, hidden_size=32, lr=5e-3, epochs=100, batch_size=0, target_in_input=False),
    "quick look: §dl_3 data, 5 epochs": SineConfig(epochs=5),
}

#: The seeds' code run verbatim on this CPU (torch 2.14.1, 1 thread; the notes print no numbers):
#: the figure each preset's test error must reach. Keys: (data, cell).
SEED_FIGURES: dict[tuple[str, str], tuple[float, str]] = {
    ("sine", "lstm"): (0.011058, "§dl_3_2's last 'Test Loss' (epoch 50: mean MSE of the 5 full test batches)"),
    ("noisy_sines", "gru"): (0.0032347, "§dl_4_2's 'Test MSE' (60 test sequences)"),
}


ModelSource = Literal["trained", "untrained"]
#: Where the inside-view and gradient panels take their model from: the zoo's seed-trained sine
#: predictor (``sine_<cell>``) or a fresh one with torch's default initialisation.
MODEL_SOURCES: tuple[str, ...] = get_args(ModelSource)
ClipOptimizer = Literal["SGD", "Adam"]
CLIP_OPTIMIZERS: tuple[str, ...] = get_args(ClipOptimizer)


@dataclass(frozen=True)
class ClipConfig:
    """Gradient clipping (seed 003 §dl_9, seed 000 §2.2.1): the same RNN trained with and without it.

    ``g ← g · min(1, τ / ‖g‖)`` over all parameters together (``nn.utils.clip_grad_norm_``;
    Pascanu et al. 2013, https://arxiv.org/abs/1211.5063). The recurrent weights start scaled by
    ``recurrent_scale`` so that ``‖∂h_T/∂h_t‖`` grows with T (exploding gradients).

    Args:
        cell: default ``"rnn"``. window: sequence length, 50 (§dl_3 data).
        hidden_size: 64. recurrent_scale: ``W_hh ← ρ·W_hh`` at the start, ρ = 2.
        optimizer, lr: ``"SGD"``, 0.05 (plain steps show the explosion; Adam normalises it away).
        epochs: 3. threshold: τ = 1. seed: 0.
    """

    cell: CellName = "rnn"
    window: int = 50
    hidden_size: int = 64
    recurrent_scale: float = 2.0
    optimizer: ClipOptimizer = "SGD"
    lr: float = 0.05
    epochs: int = 3
    threshold: float = 1.0
    seed: int = 0

    def validate(self) -> "ClipConfig":
        if self.cell not in CELLS:
            raise ValueError(f"cell {self.cell!r} is not one of {CELLS}")
        if self.optimizer not in CLIP_OPTIMIZERS:
            raise ValueError(f"optimizer {self.optimizer!r} is not one of {CLIP_OPTIMIZERS}")
        check_range("window", self.window, 2, MAX_WINDOW)
        check_range("hidden size", self.hidden_size, 1, MAX_HIDDEN)
        check_range("recurrent weight scale", self.recurrent_scale, 0.0, 10.0)
        check_range("learning rate", self.lr, 1e-6, 10.0)
        check_range("epochs", self.epochs, 1, 20)
        check_range("clipping threshold", self.threshold, 1e-6, 1e6)
        check_range("seed", self.seed, 0, 2**31 - 1)
        return self


CHAR_CELLS: tuple[str, ...] = CELLS
#: The plays the char-model panel offers (all in the shipped corpus, ``dlcore.data.list_plays()``;
#: listed here so the UI builds without importing the data package).
PLAYS: tuple[str, ...] = ("hamlet", "macbeth", "romeo_and_juliet", "lear", "othello", "tempest", "julius_caesar",
                          "midsummer_nights_dream", "sonnets")


@dataclass(frozen=True)
class CharConfig:
    """A character-level language model (Karpathy's char-rnn, http://karpathy.github.io/2015/05/21/rnn-effectiveness/).

    Args:
        play: a Shakespeare play from ``dlcore.data.list_plays()`` (default ``"hamlet"``).
        max_chars: characters of the play used (train 90 % / validation 10 %). Default 100,000.
        cell: ``"lstm"`` (default), ``"gru"`` or ``"rnn"``.
        hidden_size, num_layers, embed_dim: 128, 1, 32.
        seq_len: characters per training window (truncated BPTT length). Default 64.
        batch_size: windows per step. Default 32.
        lr: Adam's learning rate, 3e-3 (a few hundred steps show words).
        steps: optimizer steps. Default 300.
        clip_grad_norm: 1.0 (char-rnn clips at 5 on the raw gradient).
        temperature: sampling temperature T in ``softmax(z / T)`` (seed 000 §8.4.8). Default 0.8.
        sample_every: steps between samples while training. Default 50.
        sample_len: characters per sample. Default 160.
        prime: text the samples start from. Default ``"HAMLET."``.
        seed: seeds the weights, the batches and the sampler. Default 0.
    """

    play: str = "hamlet"
    max_chars: int = 100_000
    cell: CellName = "lstm"
    hidden_size: int = 128
    num_layers: int = 1
    embed_dim: int = 32
    seq_len: int = 64
    batch_size: int = 32
    lr: float = 3e-3
    steps: int = 300
    clip_grad_norm: float = 1.0
    temperature: float = 0.8
    sample_every: int = 50
    sample_len: int = 160
    prime: str = "HAMLET."
    seed: int = 0

    def validate(self) -> "CharConfig":
        if self.cell not in CELLS:
            raise ValueError(f"cell {self.cell!r} is not one of {CELLS}")
        check_range("characters used", self.max_chars, 2_000, 2_000_000)
        check_range("hidden size", self.hidden_size, 1, MAX_HIDDEN)
        check_range("layers", self.num_layers, 1, 3)
        check_range("embedding size", self.embed_dim, 1, 256)
        check_range("window length", self.seq_len, 2, 256)
        check_range("batch size", self.batch_size, 1, 256)
        check_range("learning rate", self.lr, 1e-6, 1.0)
        check_range("steps", self.steps, 1, MAX_CHAR_STEPS)
        check_range("gradient clipping", self.clip_grad_norm, 0.0, 1e6)
        check_range("temperature", self.temperature, 0.01, 10.0)
        check_range("sample every", self.sample_every, 1, MAX_CHAR_STEPS)
        check_range("sample length", self.sample_len, 1, 2_000)
        check_range("seed", self.seed, 0, 2**31 - 1)
        if len(self.prime) > 200:
            raise ValueError(f"prime has {len(self.prime)} characters; the limit is 200")
        return self


Seq2SeqTask = Literal["reverse", "sort"]
SEQ2SEQ_TASKS: tuple[str, ...] = get_args(Seq2SeqTask)
#: Luong et al. 2015's scores (seed 003 §dl_5): none = the plain encoder-decoder of §8.3.7.
AttentionName = Literal["none", "dot", "general", "concat"]
ATTENTIONS: tuple[str, ...] = get_args(AttentionName)


@dataclass(frozen=True)
class Seq2SeqConfig:
    """A tiny GRU encoder-decoder on digit strings (seed 000 §8.3.6-8.3.7, seed 003 §dl_5).

    Args:
        task: ``"reverse"`` (default) or ``"sort"`` the digits.
        min_len, max_len: string lengths, drawn uniformly. Default 4..9.
        attention: ``"none"`` (the context is the encoder's last state, Sutskever et al. 2014) or a
            Luong et al. 2015 score ``"dot"`` / ``"general"`` / ``"concat"``
            (https://arxiv.org/abs/1508.04025). Default ``"dot"``.
        teacher_forcing: probability of feeding the true previous token to the decoder while
            training (1 = always, the notes' teacher forcing; < 1 = scheduled-sampling-style
            mixing, Bengio et al. 2015, https://arxiv.org/abs/1506.03099). Default 1.0.
        hidden_size, embed_dim: 64, 16.
        n_train: training strings. Default 4,096 (a fixed set; the test set is 512 fresh ones).
        batch_size, lr, epochs: 64, 3e-3 (Adam), 6.
        clip_grad_norm: 1.0.
        seed: data, weights, coin flips. Default 0.
    """

    task: Seq2SeqTask = "reverse"
    min_len: int = 4
    max_len: int = 9
    attention: AttentionName = "dot"
    teacher_forcing: float = 1.0
    hidden_size: int = 64
    embed_dim: int = 16
    n_train: int = 4096
    batch_size: int = 64
    lr: float = 3e-3
    epochs: int = 6
    clip_grad_norm: float = 1.0
    seed: int = 0

    def validate(self) -> "Seq2SeqConfig":
        if self.task not in SEQ2SEQ_TASKS:
            raise ValueError(f"task {self.task!r} is not one of {SEQ2SEQ_TASKS}")
        if self.attention not in ATTENTIONS:
            raise ValueError(f"attention {self.attention!r} is not one of {ATTENTIONS}")
        check_range("shortest string", self.min_len, 1, 30)
        check_range("longest string", self.max_len, 1, 30)
        if self.min_len > self.max_len:
            raise ValueError(f"shortest string {self.min_len} is longer than the longest {self.max_len}")
        check_range("teacher forcing ratio", self.teacher_forcing, 0.0, 1.0)
        check_range("hidden size", self.hidden_size, 1, MAX_HIDDEN)
        check_range("embedding size", self.embed_dim, 1, 128)
        check_range("training strings", self.n_train, 64, 50_000)
        check_range("batch size", self.batch_size, 1, 512)
        check_range("learning rate", self.lr, 1e-6, 1.0)
        check_range("epochs", self.epochs, 1, 100)
        if self.epochs * -(-self.n_train // self.batch_size) > MAX_SEQ2SEQ_STEPS:
            raise ValueError(f"{self.epochs} epochs of {self.n_train} strings in batches of {self.batch_size} "
                             f"exceed {MAX_SEQ2SEQ_STEPS} optimizer steps")
        check_range("gradient clipping", self.clip_grad_norm, 0.0, 1e6)
        check_range("seed", self.seed, 0, 2**31 - 1)
        return self

