"""A real network's loss landscape: the loss on a random plane through its trained weights.

Li et al. 2018, "Visualizing the Loss Landscape of Neural Nets" (https://arxiv.org/abs/1712.09913),
§4-5: draw two Gaussian directions d₁, d₂ in weight space, **filter-normalise** each
(:mod:`dlcore.optim_viz.directions`)::

    d_ij ← d_ij / ‖d_ij‖ · ‖θ_ij‖        (layer i, filter j; biases and BatchNorm: d = 0)

and evaluate, on a grid of (α, β) ∈ [−span, span]²,

    f(α, β) = L(θ* + α·d₁ + β·d₂)

where L is the mean cross-entropy of the network on a fixed set of test images, in evaluation
mode (BatchNorm uses its running statistics, which are not moved; dropout is off). f(0, 0) is the
trained model's own loss.

Speed: every grid point is one full forward pass over all the images. The cost is arithmetic:
about 8.5 GFLOP for the zoo CNN on 1,000 images (85 % of it the second convolution), so a 25×25
grid is about 5.3 TFLOP, and its speed is the CPU's. The zoo CNN runs through
:class:`~dlcore.optim_viz.cnnforward.CNNForward` (BatchNorm folded, pools rewritten, images in
cache-sized chunks: the same function, 6-8× faster than the module's own forward per point), with
every point of the grid queued at once on ``workers`` threads (row by row, so a stop keeps whole
rows), so that no worker waits for the consumer. ``bench/bench_optim.py`` prints each run beside two floors
measured in the same run: the FLOPs at the 2048² matrix-multiply peak of both cores, and the second
convolution alone as oneDNN runs it. Measured (2026-12-07, 2 cores with AVX-512 and no bfloat16
matrix units, idle): 25×25 on 1,000 images in 32.2-36.7 s in float32, against 20.2-33 s for the
GEMM floor and 17.8-22.3 s for the second convolution alone; the module's own forward would take
378-427 s. Winograd F(2×2, 3×3) in torch operations (2.25× fewer multiplies in that convolution)
and NNPACK's Winograd both measured slower than oneDNN's direct convolution here.

``precision="bfloat16"`` (or ``"auto"``: bfloat16 when :func:`~dlcore.optim_viz.cnnforward.bf16_speedup`
finds this CPU at least 1.5× faster at it, as with Intel AMX) runs the grid in bfloat16 with float32
accumulation, the one way past the float32 floor. It is not exact, so a finished bfloat16 slice also
evaluates its centre and four corners in float32 and reports the largest relative difference
(:attr:`Landscape.check`): 0.1-0.4 % of the loss on the zoo CNN. On a 2-core CPU with AMX
(2026-12-03): 23.5-25 s in bfloat16 against 43-44 s in float32. Without such units (as on
2026-12-07) bfloat16 is slower than float32 and ``"auto"`` keeps float32.

:func:`iter_landscape` yields the partial landscape after every row (for streaming);
:func:`compute_landscape` returns the finished one; :func:`zoo_landscape` does it for the zoo CNN
(``fmnist_cnn``, or its digits twin when Fashion-MNIST is not available) and caches finished
results per settings.
"""

from __future__ import annotations

import copy
import dataclasses
import threading
import time
from dataclasses import dataclass
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterator

import torch
from torch import nn

from dlcore.lazy import LazyCache
from dlcore.optim_viz.cnnforward import DTYPES, CNNForward
from dlcore.optim_viz.directions import model_params, random_direction
from dlcore.optim_viz.names import check_whole

__all__ = ["LandscapeConfig", "Landscape", "landscape_directions", "grid_coords", "loss_at", "iter_landscape",
           "compute_landscape", "zoo_landscape", "score_logits", "resolve_precision", "MAX_GRID", "MAX_IMAGES",
           "PRECISIONS"]

#: Most points per side of the grid (25×25 = 625 forward passes).
MAX_GRID = 25
#: Most test images per forward pass.
MAX_IMAGES = 1000
#: The arithmetic of the grid's forward passes ("auto": bfloat16 where this CPU is ≥ 1.5× faster at it).
PRECISIONS = ("float32", "bfloat16", "auto")
#: bfloat16 speed-up at which "auto" picks it.
AUTO_BF16 = 1.5


@dataclass(frozen=True)
class LandscapeConfig:
    """How to sample the slice.

    Args:
        grid: points per side, odd (so that θ* itself is the centre point), 3 … :data:`MAX_GRID`. Default 11.
        span: the grid covers [−span, span]² in units of the filter-normalised directions, 0 < span ≤ 2.
            Default 1 (the paper's 2-D plots).
        n_images: the first n test images, 10 … :data:`MAX_IMAGES`. Default 1000.
        seed: d₁ is drawn with this seed, d₂ with seed + 1, 0 … 10,000. Default 0.
        precision: one of :data:`PRECISIONS` (the zoo CNN's fast path only; any other model runs
            float32). Default ``"float32"``.
    """

    grid: int = 11
    span: float = 1.0
    n_images: int = 1000
    seed: int = 0
    precision: str = "float32"

    def validate(self) -> None:
        """Raises ValueError naming the setting and the rule."""
        for name, v, lo, hi in (("grid size", self.grid, 3, MAX_GRID), ("images", self.n_images, 10, MAX_IMAGES),
                                ("direction seed", self.seed, 0, 10_000)):
            check_whole(name, v, lo, hi)
        if self.grid % 2 == 0:
            raise ValueError(f"grid size {self.grid} must be odd (the trained weights θ* are the centre point)")
        if isinstance(self.span, bool) or not isinstance(self.span, (int, float)) or not 0 < self.span <= 2:
            raise ValueError(f"span {self.span!r} must be in (0, 2]")
        if not isinstance(self.precision, str) or self.precision not in PRECISIONS:
            raise ValueError(f"precision {self.precision!r} is not one of {', '.join(PRECISIONS)}")


def resolve_precision(precision: str) -> str:
    """``"auto"`` → ``"bfloat16"`` when this CPU runs it at least :data:`AUTO_BF16` × faster, else ``"float32"``."""
    if precision != "auto":
        return precision
    from dlcore.optim_viz.cnnforward import bf16_speedup

    return "bfloat16" if bf16_speedup() >= AUTO_BF16 else "float32"


@dataclass
class Landscape:
    """A sampled (possibly partial) slice.

    Attributes:
        model: the model's name. config: the settings.
        xs, ys: ``(G,)`` the α and β coordinates (``xs[G // 2] == 0`` exactly).
        loss, acc: ``(G, G)`` float64, ``[i, j]`` at ``(α = xs[j], β = ys[i])``; NaN where not computed yet.
        rows: rows done (from β = −span up). done: points done (while running, any of later rows included;
            a stopped slice keeps its ``rows`` whole rows only).
        seconds: compute time so far.
        own_loss, own_acc: the unmodified model's loss and accuracy on the same images (= f(0, 0)).
        stopped: True when a stop ended it early. source: ``"computed"`` or ``"cache"``.
        precision: the arithmetic used (``"float32"`` or ``"bfloat16"``; ``"auto"`` resolved).
        check: bfloat16 only, once complete: the largest |f_bf16 − f_float32| / f_float32 over the
            centre and the four corners, each evaluated again in float32. None otherwise.
    """

    model: str
    config: LandscapeConfig
    xs: torch.Tensor
    ys: torch.Tensor
    loss: torch.Tensor
    acc: torch.Tensor
    rows: int
    seconds: float
    own_loss: float
    own_acc: float
    done: int = 0
    stopped: bool = False
    source: str = "computed"
    precision: str = "float32"
    check: float | None = None

    @property
    def complete(self) -> bool:
        return self.rows == self.config.grid

    @property
    def center_loss(self) -> float:
        c = self.config.grid // 2
        return float(self.loss[c, c])


def grid_coords(grid: int, span: float) -> torch.Tensor:
    """``(grid,)`` evenly spaced in [−span, span] with the centre exactly 0 (``grid`` odd)."""
    h = grid // 2
    return span * (torch.arange(grid, dtype=torch.float64) - h) / max(h, 1)


def landscape_directions(params: dict[str, torch.Tensor], seed: int
                         ) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """(d₁, d₂): filter-normalised Gaussian directions drawn with ``seed`` and ``seed + 1``
    (biases and BatchNorm parameters get zero; Li et al. 2018's ``biasbn`` default)."""
    return (random_direction(params, seed, "filter", "biasbn"), random_direction(params, seed + 1, "filter", "biasbn"))


def loss_at(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """(mean cross-entropy, accuracy) of ``model`` (as it is) on ``x``, ``y`` in one batch, no grad."""
    with torch.no_grad():
        return score_logits(model(x), y)                                      # (N, C) logits


def iter_landscape(model: nn.Module, x: torch.Tensor, y: torch.Tensor, config: LandscapeConfig | None = None,
                   stop: threading.Event | None = None, name: str = "model", workers: int = 1
                   ) -> Iterator[Landscape]:
    """Sample f(α, β) = L(θ* + α·d₁ + β·d₂) row by row (β from −span up); yield after every row.

    Args:
        model: a classifier; it is deep-copied once and evaluated in eval mode, the original is never
            touched. The zoo's SmallCNN goes through :class:`~dlcore.optim_viz.cnnforward.CNNForward`
            (the same function, rewritten for speed); any other model has its copy's parameters
            overwritten per point.
        x: ``(N, C, H, W)`` or ``(N, …)`` inputs; y: ``(N,)`` labels; the first ``config.n_images`` are used.
        stop: checked before every point; when set, the last frame has ``stopped=True`` and NaN rows.
        workers: grid points of a row evaluated at once, in threads (1 … 8; the SmallCNN path only,
            any other model runs one point at a time). Each uses torch's intra-op threads as set by
            the caller: 2 workers × 1 torch thread keep both cores of a 2-core CPU busy.

    Yields:
        :class:`Landscape` once before the first point (``rows == 0``: θ* and its own loss), then after
        every row (the same object, filled further each time).

    Raises:
        ValueError: bad settings or fewer images than asked for.
    """
    cfg = config or LandscapeConfig()
    cfg.validate()
    if len(x) < cfg.n_images:
        raise ValueError(f"{cfg.n_images} images asked for, only {len(x)} available")
    check_whole("workers", workers, 1, 8)
    t0 = time.perf_counter()
    net = copy.deepcopy(model).eval()                                       # private copy: never shared
    xi, yi = x[:cfg.n_images], y[:cfg.n_images].long()
    base = {n: w.clone() for n, w in model_params(net).items()}           # θ*
    d1, d2 = landscape_directions(base, cfg.seed)
    xs = grid_coords(cfg.grid, float(cfg.span))
    ys = xs.clone()
    precision = resolve_precision(cfg.precision)
    fwd = _fast_forward(net, xi)
    if fwd is None:                                                         # not the zoo CNN: one at a time
        own_loss, own_acc = loss_at(net, xi, yi)
        at, workers, precision = _in_place(net, xi, yi, base, d1, d2), 1, "float32"
        exact = at
    else:
        exact = _evaluator(fwd, yi, base, d1, d2)                           # float32: θ* and the final check
        own_loss, own_acc = exact(0.0, 0.0)                                 # θ* (the module's, to float32 rounding)
        at = exact if precision == "float32" else _evaluator(fwd.with_dtype(DTYPES[precision]), yi, base, d1, d2)
    loss = torch.full((cfg.grid, cfg.grid), float("nan"), dtype=torch.float64)
    land = Landscape(name, cfg, xs, ys, loss, loss.clone(), 0, time.perf_counter() - t0, own_loss, own_acc,
                     precision=precision)
    yield land
    count = threading.Lock()

    def point(i: int, j: int) -> bool:
        if stop is not None and stop.is_set():
            return False
        land.loss[i, j], land.acc[i, j] = at(float(xs[j]), float(ys[i]))
        with count:
            land.done += 1
        return True

    # each worker computes on the caller's thread count (a new thread would start from the count set
    # last anywhere in the process)
    pool = ThreadPoolExecutor(workers, thread_name_prefix="landscape", initializer=torch.set_num_threads,
                              initargs=(torch.get_num_threads(),)) if workers > 1 else None
    try:
        # every point queued at once: the workers never wait for the consumer (a streamed frame's figure)
        rows = [[pool.submit(point, i, j) for j in range(cfg.grid)] for i in range(cfg.grid)] if pool else []
        for i in range(cfg.grid):
            if pool is None:
                finished = all(point(i, j) for j in range(cfg.grid))
            else:
                finished = all([f.result() for f in rows[i]])
            if not finished:
                if pool is not None:                                        # let running points end, drop the rest
                    pool.shutdown(wait=True, cancel_futures=True)
                land.loss[i:], land.acc[i:] = float("nan"), float("nan")      # a stopped slice keeps whole rows only
                land.done = i * cfg.grid
                land.stopped, land.seconds = True, time.perf_counter() - t0
                yield land
                return
            if i == cfg.grid - 1 and precision != "float32":                # the last row: check the grid
                land.check = _check(land, exact, pool)
            land.rows, land.seconds = i + 1, time.perf_counter() - t0
            yield land
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)                   # a closed stream: drop what is queued


Evaluate = Callable[[float, float], tuple[float, float]]


def score_logits(out: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """(mean cross-entropy, accuracy) of logits ``out`` ``(N, C)`` against labels ``y`` ``(N,)``."""
    return float(nn.functional.cross_entropy(out, y)), float((out.argmax(1) == y).double().mean())


def _fast_forward(net: nn.Module, x: torch.Tensor) -> CNNForward | None:
    """The float32 :class:`CNNForward` of ``net`` on ``x``, or None when ``net`` is not the zoo's SmallCNN."""
    if not CNNForward.supports(net) or x.dim() != 4 or x.shape[-1] % 4:
        return None
    return CNNForward(net, x)


def _evaluator(fwd: CNNForward, y: torch.Tensor, base: dict[str, torch.Tensor], d1: dict[str, torch.Tensor],
               d2: dict[str, torch.Tensor]) -> Evaluate:
    """(α, β) -> (loss, acc) through ``fwd`` in its precision (thread-safe, nothing written into the net)."""
    def at(a: float, b: float) -> tuple[float, float]:
        with torch.no_grad():
            theta = {n: torch.add(w, d1[n], alpha=a).add_(d2[n], alpha=b) for n, w in base.items()}
            return score_logits(fwd(theta), y)
    return at


def _check(land: Landscape, exact: Evaluate, pool: ThreadPoolExecutor | None) -> float:
    """The largest relative difference between ``land``'s loss and float32 (``exact``) at the centre
    (``land.own_loss``, already float32 through ``exact``) and the four corners of the grid."""
    h, g = land.config.grid // 2, land.config.grid - 1
    corners = [(0, 0), (0, g), (g, 0), (g, g)]                              # (row i: β, column j: α)

    def ref(p: tuple[int, int]) -> float:
        return exact(float(land.xs[p[1]]), float(land.ys[p[0]]))[0]
    refs = list(pool.map(ref, corners)) if pool is not None else [ref(p) for p in corners]
    pairs = [(float(land.loss[h, h]), land.own_loss)] + [(float(land.loss[p]), r) for p, r in zip(corners, refs)]
    return max(abs(v - r) / max(abs(r), 1e-12) for v, r in pairs)


def _in_place(net: nn.Module, x: torch.Tensor, y: torch.Tensor, base: dict[str, torch.Tensor],
              d1: dict[str, torch.Tensor], d2: dict[str, torch.Tensor]) -> Evaluate:
    """(α, β) -> (loss, acc) for any model: its private copy's parameters overwritten in place
    (``p.copy_(θ*); p.add_(d₁, alpha=α); p.add_(d₂, alpha=β)``; nothing for a zero direction)."""
    if x.dim() == 4:
        net.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    moving = [(p, base[n], d1[n], d2[n]) for n, p in net.named_parameters() if bool(d1[n].any() or d2[n].any())]

    def at(a: float, b: float) -> tuple[float, float]:
        with torch.no_grad():
            for p, w, u, v in moving:                                        # θ = θ* + α·d₁ + β·d₂, in place
                p.copy_(w)
                p.add_(u, alpha=a)
                p.add_(v, alpha=b)
        return loss_at(net, x, y)
    return at


def compute_landscape(model: nn.Module, x: torch.Tensor, y: torch.Tensor, config: LandscapeConfig | None = None,
                      stop: threading.Event | None = None, name: str = "model", workers: int = 1) -> Landscape:
    """The whole slice (see :func:`iter_landscape`)."""
    land = None
    for land in iter_landscape(model, x, y, config, stop, name, workers):
        pass
    assert land is not None
    return land


_CACHE: LazyCache[tuple, Landscape] = LazyCache("loss landscapes", max_extra=8)


def zoo_landscape(config: LandscapeConfig | None = None, stop: threading.Event | None = None,
                  workers: int = 1) -> Iterator[Landscape]:
    """The slice around the zoo CNN (``fmnist_cnn``; its digits twin ``digits_cnn`` via
    :data:`dlcore.zoo.TWINS` when Fashion-MNIST is not available) on its first ``n_images`` test
    images: one cached frame when these settings were computed before, else the rows as they come
    (a finished run is cached; a stopped one is not)."""
    from dlcore import zoo

    cfg = config or LandscapeConfig()
    cfg.validate()
    name, model, split = zoo.image_classifier("cnn")
    key = (name, *dataclasses.astuple(cfg))
    hit = _CACHE.peek(key)
    if hit is not None:
        yield dataclasses.replace(hit, source="cache")
        return
    land = None
    for land in iter_landscape(model, split.x_test, split.y_test, cfg, stop, name, workers):
        yield land
    if land is not None and land.complete:
        _CACHE.put(key, dataclasses.replace(land, loss=land.loss.clone(), acc=land.acc.clone()))
