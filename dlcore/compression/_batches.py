"""A sized stream of random training batches for :class:`dlcore.train.Trainer`.

The Trainer evaluates its validation set after every "epoch" (one pass over its data). To draw
a learning curve every ``k`` steps without re-using the same ``k`` batches, pass it a
:class:`BatchStream` of length ``k``: every pass yields the *next* ``k`` batches of one long,
seeded sequence of shuffled epochs. The optional ``extra`` tensors (e.g. a teacher's logits)
are indexed like ``x`` and published as :attr:`BatchStream.current_extra` just before each
batch is yielded (the Trainer consumes a batch before asking for the next one).
"""

from __future__ import annotations

from typing import Iterator

import torch

__all__ = ["BatchStream"]


class BatchStream:
    """``len(stream) == steps_per_pass`` batches per pass, drawn without replacement per epoch.

    Args:
        x, y: the training tensors ``(N, ...)``, ``(N,)``.
        batch_size: examples per batch.
        steps_per_pass: batches yielded per ``iter()`` (one Trainer "epoch").
        seed: shuffling seed (same seed → same batches, so two runs get the same budget).
        extra: optional ``(N, ...)`` tensor indexed alongside ``x``.
    """

    def __init__(self, x: torch.Tensor, y: torch.Tensor, batch_size: int, steps_per_pass: int, seed: int = 0,
                 extra: torch.Tensor | None = None) -> None:
        if len(x) != len(y) or (extra is not None and len(extra) != len(x)):
            raise ValueError(f"inputs ({len(x)}), targets ({len(y)}) and extra tensors must have equal length")
        if len(x) < batch_size:
            raise ValueError(f"batch size {batch_size} exceeds the {len(x)} training examples")
        self.x, self.y, self.extra = x, y, extra
        self.batch_size, self.steps_per_pass = int(batch_size), int(steps_per_pass)
        self.gen = torch.Generator().manual_seed(seed)
        self._perm = torch.randperm(len(x), generator=self.gen)
        self._pos = 0
        self.current_extra: torch.Tensor | None = None
        self.current_x: torch.Tensor | None = None

    def __len__(self) -> int:
        return self.steps_per_pass

    def _next_index(self) -> torch.Tensor:
        if self._pos + self.batch_size > len(self._perm):  # new epoch: reshuffle
            self._perm = torch.randperm(len(self.x), generator=self.gen)
            self._pos = 0
        idx = self._perm[self._pos:self._pos + self.batch_size]
        self._pos += self.batch_size
        return idx

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        for _ in range(self.steps_per_pass):
            idx = self._next_index()
            xb = self.x[idx]
            self.current_x = xb
            self.current_extra = None if self.extra is None else self.extra[idx]
            yield xb, self.y[idx]
