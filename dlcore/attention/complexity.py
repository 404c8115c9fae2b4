"""CNN vs RNN vs self-attention: the notes' table, with counted work, measured time and path length.

Seed 000 §8.4.5 (CNN、RNN、self-attention的对比), after Vaswani et al. 2017, Table 1
(https://arxiv.org/abs/1706.03762), for a sequence of n tokens of width d:

=================  =====================  ===================  ====================
layer              per-layer complexity   sequential ops       maximum path length
=================  =====================  ===================  ====================
CNN (kernel k)     O(k·n·d²)              O(1)                 O(n/k)
RNN                O(n·d²)                O(n)                 O(n)
self-attention     O(n²·d)                O(1)                 O(1)
=================  =====================  ===================  ====================

:func:`measure_complexity` times one forward pass of each layer as n grows (``nn.Conv1d(d, d, k)``,
``nn.RNN(d, d)`` — n dependent steps —, and ``softmax(X Xᵀ/√d) X``, the self-attention the table
counts), counts their multiply-accumulates, and measures the maximum path length by autograd:
the fewest stacked layers after which output n − 1 depends on input 0 (∂y_{n−1}/∂x_0 ≠ 0). The
CNN is causal (as in a decoder), so a layer reaches k − 1 tokens back: ⌈(n − 1)/(k − 1)⌉ layers.
A sweep takes a few seconds on one thread and is cached per process (times are this machine's);
:func:`sweep_steps` streams it for a progress line and a Stop button.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator

import torch
import torch.nn.functional as F
from torch import nn

from dlcore.attention.names import LAYER_KINDS, MAX_SWEEP_LENGTH

__all__ = ["ComplexitySweep", "measure_complexity", "sweep_steps", "counted_macs", "path_length", "DEFAULT_LENGTHS"]

DEFAULT_LENGTHS: tuple[int, ...] = (16, 32, 64, 128, 256, 512, 1024)


def counted_macs(kind: str, n: int, d: int, k: int = 3) -> int:
    """Multiply-accumulates of one layer: CNN k·n·d², RNN 2·n·d² (input and hidden weights),
    self-attention 2·n²·d (X Xᵀ, then A X)."""
    if kind == "CNN":
        return k * n * d * d
    if kind == "RNN":
        return 2 * n * d * d
    if kind == "self-attention":
        return 2 * n * n * d
    raise ValueError(f"layer {kind!r} is unknown; choose from {', '.join(LAYER_KINDS)}")


def _layer(kind: str, d: int, k: int) -> Callable[[torch.Tensor], torch.Tensor]:
    """One layer as a function of x ``(1, n, d)`` -> ``(1, n, d)``, with seeded weights (the global RNG
    is restored). The CNN is causal (padded k − 1 on the left), so one layer reaches k − 1 tokens back."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        conv, rnn = nn.Conv1d(d, d, k), nn.RNN(d, d, batch_first=True)
    if kind == "CNN":
        return lambda x: conv(F.pad(x.transpose(1, 2), (k - 1, 0))).transpose(1, 2)
    if kind == "RNN":
        return lambda x: rnn(x)[0]  # n dependent steps h_t = tanh(W x_t + U h_{t-1})
    scale = 1.0 / math.sqrt(d)
    return lambda x: torch.softmax(x @ x.transpose(1, 2) * scale, -1) @ x


def path_length(kind: str, n: int, d: int = 4, k: int = 3) -> int:
    """The maximum path length between input 0 and output n − 1.

    CNN and self-attention: measured, as the fewest stacked layers after which ∂y_{n−1}/∂x_0 ≠ 0
    (⌈(n − 1)/(k − 1)⌉ causal convolutions; 1 attention layer). RNN: counted, n − 1 applications
    of the recurrent weight U between x_0 and h_{n−1} (one layer already connects them, but only
    along that chain).
    """
    if n < 2:
        return 0
    if kind == "RNN":
        return n - 1
    layer = _layer(kind, d, k)
    x = torch.randn(1, n, d, generator=torch.Generator().manual_seed(n), requires_grad=True)
    y = x
    for depth in range(1, n + 1):
        y = layer(y)
        (g,) = torch.autograd.grad(y[0, -1].sum(), x, retain_graph=True)
        if bool(g[0, 0].abs().sum() > 0):
            return depth
    return n


@dataclass
class ComplexitySweep:
    """Per layer kind: milliseconds per forward pass ``times[kind][i]`` at ``lengths[i]``, counted
    MACs, measured path lengths, and the crossover n = d below which self-attention does less
    work than an RNN (n²d < n d²)."""

    lengths: list[int]
    d: int
    k: int
    times: dict[str, list[float]] = field(default_factory=dict)
    macs: dict[str, list[int]] = field(default_factory=dict)
    paths: dict[str, list[int]] = field(default_factory=dict)
    path_lengths: list[int] = field(default_factory=list)
    stopped: bool = False
    measured_at: float = 0.0  # time.time() when the sweep finished (0 while running or stopped)

    @property
    def crossover(self) -> int:
        return self.d


def _time_ms(fn: Callable[[], object], budget_s: float = 0.08, max_repeats: int = 50) -> float:
    fn()  # warm-up
    times = []
    t_end = time.perf_counter() + budget_s
    while len(times) < 3 or (time.perf_counter() < t_end and len(times) < max_repeats):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return min(times)  # the least disturbed run (other processes share the CPU), as timeit advises


_CACHE: dict[tuple[tuple[int, ...], int, int], ComplexitySweep] = {}
_CACHE_LOCK = threading.Lock()


def _sweep(lengths: tuple[int, ...], d: int, k: int, stop_event: threading.Event | None
           ) -> Iterator[tuple[str, int, ComplexitySweep]]:
    """Measure, yielding ``(kind, n, partial sweep)`` after each timing; the last item is the full sweep."""
    from dlcore.attention.scoring import one_thread

    res = ComplexitySweep(list(lengths), d, k, {kind: [] for kind in LAYER_KINDS},
                          {kind: [counted_macs(kind, n, d, k) for n in lengths] for kind in LAYER_KINDS})
    layers = {kind: _layer(kind, d, k) for kind in LAYER_KINDS}
    for n in lengths:
        x = torch.randn(1, n, d, generator=torch.Generator().manual_seed(n))
        for kind in LAYER_KINDS:
            if stop_event is not None and stop_event.is_set():
                res.stopped = True
                yield kind, n, res
                return
            with one_thread(), torch.no_grad():  # a fair, quiet comparison on a shared CPU
                res.times[kind].append(_time_ms(lambda f=layers[kind]: f(x)))
            yield kind, n, res
    res.path_lengths = [n for n in (2, 4, 8, 16, 32) if n <= max(lengths)]
    with one_thread():
        res.paths = {kind: [path_length(kind, n, 4, k) for n in res.path_lengths] for kind in LAYER_KINDS}
    res.measured_at = time.time()
    with _CACHE_LOCK:
        _CACHE[(lengths, d, k)] = res
    yield "done", max(lengths), res


def _checked(lengths: tuple[int, ...], d: int, k: int) -> tuple[int, ...]:
    lengths = tuple(sorted(int(n) for n in lengths))
    if not lengths or any(not 2 <= n <= MAX_SWEEP_LENGTH for n in lengths) or len(lengths) > 12:
        raise ValueError(f"lengths {lengths} must be 1 to 12 numbers between 2 and {MAX_SWEEP_LENGTH}")
    if not 1 <= d <= 512:
        raise ValueError(f"width d = {d} must be between 1 and 512")
    if not (1 <= k <= 15 and k % 2):
        raise ValueError(f"kernel size k = {k} must be odd and between 1 and 15")
    return lengths


def sweep_steps(lengths: tuple[int, ...] = DEFAULT_LENGTHS, d: int = 64, k: int = 3,
                stop_event: threading.Event | None = None) -> Iterator[tuple[str, int, ComplexitySweep]]:
    """:func:`measure_complexity` as a stream of ``(kind, n, sweep so far)`` (for a progress line and
    a Stop button); a cached sweep comes back at once as ``("cached", n, sweep)``. A finished sweep is
    cached, a stopped one (``sweep.stopped``) is not."""
    lengths = _checked(lengths, d, k)
    with _CACHE_LOCK:
        hit = _CACHE.get((lengths, d, k))
    if hit is not None:
        yield "cached", max(lengths), hit
        return
    yield from _sweep(lengths, d, k, stop_event)


def measure_complexity(lengths: tuple[int, ...] = DEFAULT_LENGTHS, d: int = 64, k: int = 3,
                       stop_event: threading.Event | None = None) -> ComplexitySweep:
    """Time CNN, RNN and self-attention forward passes at each length (see the module docstring).

    Args:
        lengths: sequence lengths n, each in 2..:data:`MAX_SWEEP_LENGTH` (default 16 … 1024).
        d: width d (default 64). k: the CNN's kernel size (default 3, odd).
        stop_event: set it to stop after the current timing.

    Returns:
        A :class:`ComplexitySweep`, cached per process once it is complete (times are this machine's).

    Raises:
        ValueError: lengths outside the limit, d outside 1..512, k not an odd number in 1..15.
    """
    res = None
    for _, _, res in sweep_steps(lengths, d, k, stop_event):
        pass
    return res  # type: ignore[return-value]
