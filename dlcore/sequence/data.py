"""The seeds' sequence data, exactly, and a loader that shuffles as their ``DataLoader`` does.

* :func:`sine_windows`: seed 003 §dl_3_2 -- :func:`dlcore.data.sine_sequence` (the same
  ``np.random.seed(42)`` stream) cut into the seed's ``SequenceDataset`` windows: input
  ``data[i:i+window]`` ``(window, 1)``, target ``data[i+window]`` ``(1,)``, train on the first 80 %
  and test on the last 20 %.
* :func:`noisy_sines`: seed 003 §dl_4_2's ``generate_data(num_samples=300, seq_len=30)``.
  ⚠ The notes' target ``seq[-1]`` is also the input's last value (the model only has to copy it);
  ``target_in_input=False`` feeds ``seq[:-1]`` instead.
* :class:`SeedShuffleLoader`: ``DataLoader(dataset, batch_size, shuffle=True, drop_last=True)``
  drawing from a private generator whose state starts where torch's global RNG was, so a run
  repeats the seed's batches exactly while others train beside it (the Trainer takes any sized
  iterable of batches).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np
import torch

from dlcore.sequence.names import MAX_WINDOW, SineConfig, check_range

__all__ = ["SineTask", "sine_windows", "noisy_sines", "sine_task", "SeedShuffleLoader", "full_batch"]


@dataclass(frozen=True)
class SineTask:
    """Windows to learn from, with what a plot of the test split needs.

    Attributes:
        x_train, y_train, x_test, y_test: ``(N, window, 1)`` inputs and ``(N, 1)`` targets (float32).
        t_test: the x-axis of each test target (time for §dl_3, the sequence number for §dl_4).
        name, source: short label and provenance.
        corrections: where the notes' code does something a learner should know about.
        series: the whole sequence (§dl_3 only; None for §dl_4's independent sequences).
        split_at: index in ``series`` where the test part starts (§dl_3).
    """

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    t_test: np.ndarray
    source: str
    corrections: tuple[str, ...] = ()
    series: np.ndarray | None = None
    split_at: int = 0


def _windows(values: torch.Tensor, window: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The seed's ``SequenceDataset``: ``(len - window)`` windows and their next values."""
    n = len(values) - window
    if n < 1:
        raise ValueError(f"window {window} leaves no sample in a part of {len(values)} points")
    idx = torch.arange(window).unsqueeze(0) + torch.arange(n).unsqueeze(1)   # (n, window)
    return values[idx].unsqueeze(-1), values[window:].unsqueeze(-1)          # (n, window, 1), (n, 1)


def sine_windows(window: int = 20, noise: float = 0.1, seed: int = 42) -> SineTask:
    """Seed 003 §dl_3_2's data and windows (defaults are the seed's)."""
    from dlcore.data import sine_sequence

    check_range("window", window, 2, MAX_WINDOW)
    time_steps, data, split = sine_sequence(1000, noise, seed)
    series = torch.tensor(np.asarray(data), dtype=torch.float32)  # torch.FloatTensor(data)
    xtr, ytr = _windows(series[:split], window)
    xte, yte = _windows(series[split:], window)
    return SineTask("sine", xtr, ytr, xte, yte, np.asarray(time_steps[split + window:]),
                    f"seed 003 §dl_3_2: sin(linspace(0, 20π, 1000)) + N(0, {noise:g}), np seed {seed}, "
                    f"80/20 split, windows of {window}", (), np.asarray(data), split)


def noisy_sines(num_samples: int = 300, seq_len: int = 30, noise: float = 0.1, seed: int = 42,
                target_in_input: bool = True, n_train: int = 240) -> SineTask:
    """Seed 003 §dl_4_2's ``generate_data(num_samples=300, seq_len=30)`` with ``np.random.seed(42)``,
    split 240 / 60. ``target_in_input=False`` drops the target from the input (window ``seq_len - 1``)."""
    check_range("sequence length", seq_len, 3, MAX_WINDOW)
    check_range("samples", num_samples, 10, 20_000)
    rng = np.random.RandomState(seed)  # the same stream as np.random.seed(seed)
    xs = []
    for _ in range(num_samples):
        freq = rng.uniform(0.5, 1.5)
        phase = rng.uniform(0, np.pi)
        eps = rng.normal(0, noise, seq_len)
        xs.append(np.sin(np.linspace(0, 2 * np.pi * freq, seq_len) + phase) + eps)
    seqs = torch.tensor(np.array(xs), dtype=torch.float32)            # (num_samples, seq_len)
    x = (seqs if target_in_input else seqs[:, :-1]).unsqueeze(-1)     # (N, T, 1)
    y = seqs[:, -1:]                                                  # (N, 1): the last point
    n_train = min(n_train, num_samples - 1)
    notes = ("The notes' §dl_4_2 code feeds the whole sequence, including its last point, as the input and "
             "asks for that same last point: the network only has to copy its last input. "
             "'target_in_input = False' gives it the 29 points before instead.",) if target_in_input else ()
    return SineTask("noisy_sines", x[:n_train], y[:n_train], x[n_train:], y[n_train:],
                    np.arange(num_samples - n_train), f"seed 003 §dl_4_2: {num_samples} × sin(2π·f·t + φ) + "
                    f"N(0, {noise:g}), {seq_len} points, f ~ U(0.5, 1.5), φ ~ U(0, π), np seed {seed}; "
                    f"target = last point {'(also in the input)' if target_in_input else '(not in the input)'}",
                    notes)


def sine_task(cfg: SineConfig) -> SineTask:
    """The data of a :class:`SineConfig` (``window`` is §dl_4's ``seq_len`` for ``noisy_sines``)."""
    cfg.validate()
    if cfg.data == "sine":
        return sine_windows(cfg.window, cfg.noise, cfg.seed)
    return noisy_sines(300, cfg.window, cfg.noise, cfg.seed, cfg.target_in_input)


class SeedShuffleLoader:
    """``DataLoader(TensorDataset(x, y), batch_size, shuffle=True, drop_last=True)`` on a private stream.

    Per epoch the seed's loops draw from torch's global RNG: the train iterator's base seed, the
    ``RandomSampler``'s seed (which seeds a fresh generator for one ``randperm``), then the test
    loader's base seed (it is iterated once per epoch too). This class draws the same numbers from
    its own generator, which starts from ``state`` (default: the global RNG's state now, i.e. right
    after the model was built). ``eval_draws=0`` skips the test loader's draw.
    """

    def __init__(self, x: torch.Tensor, y: torch.Tensor, batch_size: int, state: torch.Tensor | None = None,
                 eval_draws: int = 1) -> None:
        if len(x) < batch_size:
            raise ValueError(f"batch size {batch_size} is larger than the {len(x)} training windows")
        self.x, self.y, self.batch_size, self.eval_draws = x, y, int(batch_size), eval_draws
        self.gen = torch.Generator()
        self.gen.set_state(torch.get_rng_state() if state is None else state)
        self.epoch = 0

    def __len__(self) -> int:
        return len(self.x) // self.batch_size

    def _draw(self) -> int:
        return int(torch.empty((), dtype=torch.int64).random_(generator=self.gen).item())

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        if self.epoch:
            for _ in range(self.eval_draws):  # last epoch's test loader
                self._draw()
        self.epoch += 1
        self._draw()                          # the train iterator's base seed
        perm = torch.randperm(len(self.x), generator=torch.Generator().manual_seed(self._draw()))
        for i in range(len(self)):
            idx = perm[i * self.batch_size:(i + 1) * self.batch_size]
            yield self.x[idx], self.y[idx]


def full_batch(x: torch.Tensor, y: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The whole training set as the one batch of every epoch (seed §dl_4_2 has no DataLoader)."""
    return [(x, y)]
