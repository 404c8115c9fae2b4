"""Small recurrent models: the seeds' sine predictors (any cell) and a character-level LM.

:class:`SequenceRegressor` is seed 003 §dl_3_2's ``LSTMModel`` / §dl_4_2's ``GRUNet`` with the cell
as an option: the recurrent layer, then ``nn.Linear`` on the last time step's output. Built under
``torch.manual_seed(42)`` it has the seed's initial weights (same modules, same order).

:class:`CharModel` is Karpathy's char-rnn shape: embedding -> recurrent layers -> linear to the
vocabulary (http://karpathy.github.io/2015/05/21/rnn-effectiveness/).

:func:`seeded` builds a model from a seed without letting concurrent requests change each other's
random numbers (:data:`dlcore.train.runtime.RNG_LOCK`, and torch's global RNG restored afterwards).
"""

from __future__ import annotations

from typing import Callable, TypeVar

import torch
from torch import nn

from dlcore.sequence.names import CELLS, CellName
from dlcore.train.runtime import RNG_LOCK

__all__ = ["RECURRENT", "SequenceRegressor", "CharModel", "seeded"]

#: cell name -> torch module class
RECURRENT: dict[str, type[nn.RNNBase]] = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
M = TypeVar("M", bound=nn.Module)


def _check_cell(cell: str) -> None:
    if cell not in CELLS:
        raise ValueError(f"cell {cell!r} is not one of {CELLS}")


def seeded(seed: int, build: Callable[[], M]) -> tuple[M, torch.Tensor]:
    """``torch.manual_seed(seed); model = build()`` as the seeds do, isolated from other requests.

    Returns:
        ``(model, rng_state)``: the global RNG state right after building (what the seed's
        ``DataLoader`` would shuffle with next; see :class:`~dlcore.sequence.data.SeedShuffleLoader`).
    """
    with RNG_LOCK, torch.random.fork_rng(devices=[]):  # the lab's one lock on torch's global RNG
        torch.manual_seed(seed)
        model = build()
        return model, torch.get_rng_state()


class SequenceRegressor(nn.Module):
    """Recurrent layer + ``Linear`` on the last step: ``y = W_o H_T + b_o`` (seed 003 §dl_3_2).

    Args:
        cell: ``"rnn"``, ``"lstm"`` (default, §dl_3) or ``"gru"`` (§dl_4).
        input_size: features per step (1: the series itself).
        hidden_size: 64 in §dl_3_2, 32 in §dl_4_2.
        num_layers: stacked layers (1 in both seeds).
        output_size: 1 (single-step prediction).

    Shape: ``(N, L, input_size)`` -> ``(N, output_size)``.
    """

    def __init__(self, cell: CellName = "lstm", input_size: int = 1, hidden_size: int = 64, num_layers: int = 1,
                 output_size: int = 1) -> None:
        super().__init__()
        _check_cell(cell)
        self.cell = cell
        self.rnn = RECURRENT[cell](input_size, hidden_size, num_layers, batch_first=True)
        self.linear = nn.Linear(hidden_size, output_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(x)                # (N, L, H): the last layer's H_t for every t
        return self.linear(out[:, -1, :])   # (N, output_size): only the last step


class CharModel(nn.Module):
    """``Embedding(V, E)`` -> RNN/LSTM/GRU ``(E -> H, layers)`` -> ``Linear(H, V)``.

    Shape: ``ids (N, L)`` int64 -> logits ``(N, L, V)``; :meth:`step` takes ``(N, 1)`` and a state.
    """

    def __init__(self, vocab_size: int, cell: CellName = "lstm", hidden_size: int = 128, num_layers: int = 1,
                 embed_dim: int = 32) -> None:
        super().__init__()
        _check_cell(cell)
        self.cell, self.vocab_size = cell, vocab_size
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.rnn = RECURRENT[cell](embed_dim, hidden_size, num_layers, batch_first=True)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.step(ids)[0]

    def step(self, ids: torch.Tensor, state: object = None) -> tuple[torch.Tensor, object]:
        """Logits ``(N, L, V)`` and the recurrent state after the last character."""
        out, state = self.rnn(self.embed(ids), state)  # (N, L, H)
        return self.head(out), state
