"""What the Attention tab's panels show, computed from raw widget values (the tab only formats it).

Every ``*_settings`` function takes the values as they arrive from a page or an HTTP caller (any
type) and checks each by the name the learner sees, with :mod:`dlcore.textinput`, before anything
heavy runs. The views bundle the numbers a panel writes out:

* :func:`pooling_view`: Nadaraya–Watson at one width (§8.4.1) and, after training, the learned w
  (§8.4.2): errors against the truth, and one query's largest weights written out;
* :func:`positional_view`: the shift proof (§8.4.5) as LaTeX with the numbers, and RoPE's scores;
* :func:`complexity_rows`: the measured sweep as table rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from dlcore.attention.complexity import ComplexitySweep
from dlcore.attention.names import (KERNELS, LAYER_KINDS, MAX_EPOCHS, MAX_PE_DIM, MAX_POSITIONS, MAX_TRAIN_POINTS,
                                    PAIRINGS, Kernel)
from dlcore.attention.pooling import (NWData, ParametricConfig, ParametricRun, PoolingResult, nadaraya_watson,
                                      nw_data)
from dlcore.attention.positional import RopeScores, ShiftProof, frequencies, rope_scores, shift_proof
from dlcore.calculators.losses_base import Step, latex_grid, num
from dlcore.textinput import parse_choice, parse_int, parse_number

__all__ = ["PoolingSettings", "pooling_settings", "training_settings", "QueryBreakdown", "PoolingView",
           "pooling_view", "PositionalView", "positional_view", "complexity_rows", "complexity_settings"]


@dataclass(frozen=True)
class PoolingSettings:
    """The data and the kernel of the Nadaraya–Watson panel (defaults: the notes' σ = 1, d2l's data)."""

    width: float = 1.0
    kernel: Kernel = "gaussian"
    n_train: int = 50
    noise: float = 0.5
    seed: int = 0


def pooling_settings(width: object = 1.0, kernel: object = "gaussian", n_train: object = 50, noise: object = 0.5,
                     seed: object = 0) -> PoolingSettings:
    """:class:`PoolingSettings` from raw values, each checked by its name on the page."""
    return PoolingSettings(parse_number(width, "kernel width σ", lo=0.01, hi=10),
                           parse_choice(kernel, "kernel", KERNELS),
                           parse_int(n_train, "training points", lo=2, hi=MAX_TRAIN_POINTS),
                           parse_number(noise, "noise σ_ε", lo=0, hi=5), parse_int(seed, "data seed", lo=0, hi=2**31 - 1))


def training_settings(epochs: object = 5, lr: object = 0.5, seed: int = 0) -> ParametricConfig:
    """d2l's training of w from raw values (epochs, SGD learning rate); w₀ ~ U(0, 1) from the data seed."""
    return ParametricConfig(parse_int(epochs, "epochs", lo=1, hi=MAX_EPOCHS),
                            parse_number(lr, "learning rate η", lo=1e-4, hi=10), None, seed)


@dataclass
class QueryBreakdown:
    """One query written out: f(x) = Σ α_i y_i with its largest weights ``top`` = [(i, x_i, y_i, α_i)]."""

    x: float
    prediction: float
    truth: float
    top: list[tuple[int, float, float, float]]
    rest_weight: float


@dataclass
class PoolingView:
    """Nadaraya–Watson at ``settings.width`` (and the learned w when ``run`` is given).

    ``errors``: mean squared error against the noise-free truth on the 50 queries, for average
    pooling (f(x) = mean y, d2l's first baseline), NW at this width, and the learned w.
    """

    settings: PoolingSettings
    data: NWData
    nw: PoolingResult
    errors: dict[str, float]
    query: QueryBreakdown
    run: ParametricRun | None = None
    labels: dict[str, str] = field(default_factory=dict)


def _mse(a: torch.Tensor, b: torch.Tensor) -> float:
    ok = ~torch.isnan(a)
    return float(((a[ok] - b[ok]) ** 2).mean()) if bool(ok.any()) else float("nan")


def pooling_view(s: PoolingSettings, run: ParametricRun | None = None, query: int = 25) -> PoolingView:
    """NW predictions, weights and errors for ``s`` (query 25 is x = 2.5 on d2l's grid)."""
    data = nw_data(s.n_train, s.noise, s.seed)
    nw = nadaraya_watson(data.x_test, data.x_train, data.y_train, s.width, s.kernel)
    label = f"NW, {s.kernel} σ = {s.width:g}"
    errors = {"average pooling (mean y)": _mse(data.y_train.mean().expand_as(data.y_truth), data.y_truth),
              label: _mse(nw.prediction, data.y_truth)}
    labels = {"nw": label}
    if run is not None:
        labels["learned"] = f"learned w = {run.w:.3f} (σ = 1/w = {1 / run.w if run.w else math.inf:.3f})"
        errors[labels["learned"]] = _mse(run.prediction, data.y_truth)
    w = nw.weights[query]
    order = torch.argsort(w.nan_to_num(-1.0), descending=True)[:3].tolist()
    top = [(i, float(data.x_train[i]), float(data.y_train[i]), float(w[i])) for i in order]
    q = QueryBreakdown(float(data.x_test[query]), float(nw.prediction[query]), float(data.y_truth[query]), top,
                       float(1 - sum(t[3] for t in top)))
    return PoolingView(s, data, nw, errors, q, run, labels)


@dataclass
class PositionalView:
    """The shift proof and RoPE for one table, with the steps as LaTeX (numbers substituted)."""

    proof: ShiftProof
    rope: RopeScores
    steps: list[Step]
    pairing: str


def positional_view(n: object = 60, d: object = 32, position: object = 5, delta: object = 3,
                    base: object = 10000.0, pairing: object = "interleaved", rope_length: object = 24) -> PositionalView:
    """Check every raw value by its name, then prove PE(p + δ) = M_δ PE(p) with the numbers and score RoPE."""
    n_ = parse_int(n, "positions n", lo=1, hi=MAX_POSITIONS)
    d_ = parse_int(d, "dimension d", lo=2, hi=MAX_PE_DIM)
    if d_ % 2:
        raise ValueError(f"dimension d = {d_} must be even: the columns come in (sin, cos) pairs")
    p = parse_int(position, "position p", lo=0, hi=n_ - 1)
    dl = parse_int(delta, "offset δ", lo=0, hi=MAX_POSITIONS)
    b = parse_number(base, "base", lo=2, hi=1e8)
    pair = parse_choice(pairing, "RoPE pairing", PAIRINGS)
    length = parse_int(rope_length, "RoPE length", lo=2, hi=128)
    proof = shift_proof(n_, d_, p, dl, b)
    g = torch.Generator().manual_seed(0)
    q, k = torch.randn(d_, generator=g, dtype=torch.float64), torch.randn(d_, generator=g, dtype=torch.float64)
    rope = rope_scores(q, k, length, b, pair)
    om = frequencies(d_, b)
    shown = min(3, d_ // 2)
    steps = [Step("Frequencies", rf"\omega_j = 1/{b:.10g}^{{2j/{d_}}}",
                  r",\ ".join(rf"\omega_{{{j}}} = {num(om[j], 6)}" for j in range(shown)) +
                  (rf",\ \ldots \\ \omega_{{{d_ // 2 - 1}}} = {num(om[-1], 8)}" if d_ // 2 > shown else ""))]
    for j in range(shown):
        blk, a = proof.blocks[j], proof.pe_p[2 * j:2 * j + 2]
        steps.append(Step(f"Pair j = {j}: the block for δ = {dl} turns PE({p}) into PE({p + dl})",
                          rf"\begin{{bmatrix}}\cos\delta\omega_{j} & \sin\delta\omega_{j}\\ -\sin\delta\omega_{j} & "
                          rf"\cos\delta\omega_{j}\end{{bmatrix}}\begin{{bmatrix}}p_{{{p},{2 * j}}}\\ p_{{{p},{2 * j + 1}}}"
                          r"\end{bmatrix}",
                          latex_grid([[num(blk[0, 0]), num(blk[0, 1])], [num(blk[1, 0]), num(blk[1, 1])]])
                          + latex_grid([[num(a[0])], [num(a[1])]]) + " = " +
                          latex_grid([[num(proof.mapped[2 * j])], [num(proof.mapped[2 * j + 1])]]) + r" \\ "
                          + rf"\text{{PE}}({p + dl})_{{{2 * j}:{2 * j + 2}}} = " +
                          latex_grid([[num(proof.pe_shifted[2 * j])], [num(proof.pe_shifted[2 * j + 1])]])))
    return PositionalView(proof, rope, steps, pair)


def complexity_settings(d: object = 64, k: object = 3) -> tuple[int, int]:
    """(d, k) from raw values: the width d in 4..256 and an odd kernel size k in 3..15."""
    d_ = parse_int(d, "width d", lo=4, hi=256)
    k_ = parse_int(k, "CNN kernel size k", lo=3, hi=15)
    if k_ % 2 == 0:
        raise ValueError(f"CNN kernel size k = {k_} must be odd")
    return d_, k_


def complexity_rows(sweep: ComplexitySweep) -> list[list[str]]:
    """Rows ``[n, µs CNN, µs RNN, µs self-attention, MACs SA / MACs RNN (= n/d)]`` of a sweep, times in
    whole microseconds, the fastest in Markdown bold (few narrow columns: they fit a phone)."""
    rows = []
    for i, n in enumerate(sweep.lengths):
        if any(i >= len(sweep.times[kind]) for kind in LAYER_KINDS):
            break
        t = [sweep.times[kind][i] for kind in LAYER_KINDS]
        fastest = LAYER_KINDS[t.index(min(t))]
        ratio = sweep.macs["self-attention"][i] / sweep.macs["RNN"][i]
        us = [f"{1000 * x:,.0f}" for x in t]  # microseconds: short integers fit a phone's column
        times = [f"**{u}**" if kind == fastest else u for kind, u in zip(LAYER_KINDS, us)]
        rows.append([f"{n:,}", *times, f"{ratio:.2f}"])
    return rows
