"""Worked forward arithmetic (notes §1.2): every output element as its sum of products.

The user's own input, weight and bias tensors go in; out come the output tensor and, for
each output element, the expression that produced it, written the way the notes write it::

    y[0, 0, 0, 0] = (1·0.1 + 2·0.2 + 3·0.3) + (4·0.4 + 5·0.5 + 6·0.6) + (7·0.7 + 8·0.8 + 9·0.9) + 1
                  = (0.1 + 0.4 + 0.9) + (1.6 + 2.5 + 3.6) + (4.9 + 6.4 + 8.1) + 1 = 29.5

Values are computed here, explicitly, from the listed products (float64), not by calling
torch; the tests compare them with the torch forward pass. Each element also records which
input cells it read (``reads``), for the sliding-window picture. Padding cells have
coordinates outside the input (−1, H, …) and contribute 0 (or are skipped by max pooling).

Linear: ``y[…, j] = Σ_k x[…, k]·W[j, k] + b[j]``.
Conv (cross-correlation, PyTorch ``Conv1d``/``Conv2d``):
``y[n, o, i, j] = b[o] + Σ_{c ∈ group(o)} Σ_{u,v} x[n, c, i·s − p + u·d, j·s − p + v·d]·W[o, c', u, v]``.
Pooling: the max / mean of the same windows (no weights). Norms: see
:mod:`dlcore.calculators.arithmetic_norm`.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Literal, Sequence

import torch

__all__ = ["WorkedElement", "WorkedResult", "MAX_TERMS", "MAX_SHOWN", "num", "worked_linear",
           "worked_conv", "worked_pool"]

#: Cap on the number of products a worked computation may write out (guards the server).
MAX_TERMS = 200_000
#: Output elements written out in full (the rest are computed and listed by value).
MAX_SHOWN = 64


@dataclass
class WorkedElement:
    """One output element: its index, value, the written-out expression and the cells it read."""

    index: tuple[int, ...]
    value: float
    expression: str
    reads: list[tuple[int, ...]] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)  # conv: the kernel weight used with each read


@dataclass
class WorkedResult:
    """A worked forward pass: the output and every element's computation.

    Attributes:
        kind: the layer (``"Conv2d"``).
        output: the output tensor (float64).
        elements: one :class:`WorkedElement` per output element (row-major order).
        formula: the general formula, in words and symbols.
        summary: extra lines (shape change, statistics of a norm layer, the seed's numbers).
        padding: per-spatial-dim padding (for the picture), and ``spatial`` its dims.
    """

    kind: str
    output: torch.Tensor
    elements: list[WorkedElement]
    formula: str
    summary: list[str] = field(default_factory=list)
    padding: tuple[int, ...] = ()
    spatial: int = 0


def num(v: float, decimals: int = 4) -> str:
    """``1.0 -> "1"``, ``0.30000000000000004 -> "0.3"``, ``-0.1 -> "−0.1"`` (Unicode minus)."""
    r = round(float(v), decimals)
    if r == 0:
        r = 0.0
    s = f"{r:.{decimals}f}".rstrip("0").rstrip(".")
    return s.replace("-", "−")


def _factor(v: float) -> str:
    s = num(v)
    return f"({s})" if s.startswith("−") else s


def _cap(n_terms: int, what: str) -> None:
    if n_terms > MAX_TERMS:
        raise ValueError(f"{what} needs {n_terms:,} products; the worked view is limited to {MAX_TERMS:,} "
                         "(use smaller tensors, or the shape calculator for big layers)")


def _sum_expr(groups: list[list[tuple[float, float]]], bias: float | None, value: float) -> str:
    """``(a·b + c·d) + (…) + bias = (ab + cd) + (…) + bias = value`` — products grouped by kernel row."""
    prods = " + ".join("(" * (len(groups) > 1) + " + ".join(f"{_factor(x)}·{_factor(w)}" for x, w in g)
                       + ")" * (len(groups) > 1) for g in groups)
    vals = " + ".join("(" * (len(groups) > 1) + " + ".join(_factor(x * w) for x, w in g)
                      + ")" * (len(groups) > 1) for g in groups)
    tail = "" if bias is None else f" + {_factor(bias)}"
    return f"{prods}{tail} = {vals}{tail} = {num(value)}"


def worked_linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None) -> WorkedResult:
    """``y = x Wᵀ + b`` element by element.

    Shape: x (*, in_features), weight (out_features, in_features), bias (out_features,)
    -> y (*, out_features).
    """
    if weight.ndim != 2:
        raise ValueError(f"Linear weight must be 2-D (out_features, in_features), got shape {tuple(weight.shape)}")
    fout, fin = weight.shape
    if x.shape[-1] != fin:
        raise ValueError(f"input's last dim is {x.shape[-1]} but the weight has in_features = {fin} columns "
                         f"(weight shape {tuple(weight.shape)}); Linear needs x (*, {fin})")
    if bias is not None and tuple(bias.shape) != (fout,):
        raise ValueError(f"Linear bias must have shape ({fout},) to match out_features, got {tuple(bias.shape)}")
    lead = tuple(x.shape[:-1])
    _cap(max(1, x.numel() // fin) * fin * fout, "this Linear layer")
    xs, ws = x.double().reshape(-1, fin).tolist(), weight.double().tolist()
    bs = bias.double().tolist() if bias is not None else None
    out, elems = [], []
    for r, row in enumerate(xs):
        idx_lead = _unravel(r, lead)
        for j in range(fout):
            pairs = list(zip(row, ws[j]))
            v = sum(a * b for a, b in pairs) + (bs[j] if bs else 0.0)
            out.append(v)
            elems.append(WorkedElement(idx_lead + (j,), v, _sum_expr([pairs], bs[j] if bs else None, v),
                                       [idx_lead + (k,) for k in range(fin)]))
    y = torch.tensor(out, dtype=torch.float64).reshape(*lead, fout)  # (*, out_features)
    return WorkedResult("Linear", y, elems, "y[…, j] = Σ_k x[…, k]·W[j, k] + b[j]  (row of x · row j of W, plus bias)",
                        [f"shape: {tuple(x.shape)} × Wᵀ {tuple(weight.shape[::-1])} + b → {tuple(y.shape)} "
                         "(only the last dim changes)"])


def _unravel(i: int, shape: Sequence[int]) -> tuple[int, ...]:
    idx = []
    for s in reversed(shape):
        idx.append(i % s)
        i //= s
    return tuple(reversed(idx))


def _tuple(kind: str, name: str, v: int | Sequence[int], n: int) -> tuple[int, ...]:
    """``3 -> (3,)*n``; a tuple must have exactly ``n`` entries (one per spatial dim)."""
    if isinstance(v, (tuple, list)):
        if len(v) != n:
            raise ValueError(f"{kind}: {name} {tuple(v)} needs {n} number(s), one per spatial dim, got {len(v)}")
        return tuple(int(x) for x in v)
    return (int(v),) * n


def _prep(kind: str, x: torch.Tensor, n: int) -> tuple[torch.Tensor, bool]:
    if x.ndim == n + 1:
        return x.unsqueeze(0), False
    if x.ndim == n + 2:
        return x, True
    raise ValueError(f"{kind} input must be {n + 1}-D (C, …) or {n + 2}-D (N, C, …), got shape {tuple(x.shape)}")


def worked_conv(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None, *,
                stride: int | Sequence[int] = 1, padding: int | Sequence[int] = 0,
                dilation: int | Sequence[int] = 1, groups: int = 1) -> WorkedResult:
    """Conv1d / Conv2d (chosen by ``weight.ndim``: 3 or 4) written out element by element.

    Shape: x (N, C_in, *L) or (C_in, *L); weight (C_out, C_in/groups, *k); bias (C_out,)
    -> y (N, C_out, *L_out).
    """
    n = weight.ndim - 2
    if n not in (1, 2):
        raise ValueError(f"weight must be 3-D (C_out, C_in/groups, k) for Conv1d or 4-D for Conv2d, got "
                         f"shape {tuple(weight.shape)}")
    kind = f"Conv{n}d"
    s, p, d = (_tuple(kind, nm, v, n) for nm, v in (("stride", stride), ("padding", padding), ("dilation", dilation)))
    xb, batched = _prep(kind, x, n)
    N, C, *sp = xb.shape
    cout, cpg, *k = weight.shape
    if groups < 1 or C % groups or cout % groups:
        raise ValueError(f"{kind}: in_channels {C} and out_channels {cout} must both be divisible by groups {groups}")
    if cpg != C // groups:
        raise ValueError(f"{kind}: the weight {tuple(weight.shape)} expects C_in/groups = {cpg} channels per group "
                         f"but the input has {C} channels and groups = {groups} (→ {C // groups} per group)")
    if bias is not None and tuple(bias.shape) != (cout,):
        raise ValueError(f"{kind}: bias must have shape ({cout},) (one per output channel), got {tuple(bias.shape)}")
    out_sp = []
    for i in range(n):
        ext = d[i] * (k[i] - 1) + 1
        if sp[i] + 2 * p[i] < ext:
            raise ValueError(f"{kind}: kernel_size {k[i]} (dilated extent {ext}) is larger than the padded input "
                             f"{sp[i]} + 2·{p[i]} = {sp[i] + 2 * p[i]}")
        out_sp.append((sp[i] + 2 * p[i] - ext) // s[i] + 1)
    _cap(N * cout * prod_(out_sp) * cpg * prod_(k), kind)
    X, W = xb.double().tolist(), weight.double().tolist()
    B = bias.double().tolist() if bias is not None else None
    out = torch.zeros(N, cout, *out_sp, dtype=torch.float64)  # (N, C_out, *L_out)
    elems = []
    opg = cout // groups
    for nn_, o in itertools.product(range(N), range(cout)):
        g = o // opg
        for pos in itertools.product(*[range(L) for L in out_sp]):
            groups_terms: list[list[tuple[float, float]]] = []
            reads: list[tuple[int, ...]] = []
            used: list[float] = []
            total = 0.0
            for cc in range(cpg):
                c = g * cpg + cc
                for krow in itertools.product(*[range(kk) for kk in k[:-1]]) if n == 2 else [()]:
                    row = []
                    for kl in range(k[-1]):
                        kidx = krow + (kl,)
                        coord = tuple(pos[i] * s[i] - p[i] + kidx[i] * d[i] for i in range(n))
                        inside = all(0 <= coord[i] < sp[i] for i in range(n))
                        xv = _get(X[nn_][c], coord) if inside else 0.0
                        wv = _get(W[o][cc], kidx)
                        row.append((xv, wv))
                        reads.append((c,) + coord)
                        used.append(wv)
                        total += xv * wv
                    groups_terms.append(row)
            if B is not None:
                total += B[o]
            out[(nn_, o) + pos] = total
            idx = ((nn_,) if batched else ()) + (o,) + pos
            elems.append(WorkedElement(idx, total, _sum_expr(groups_terms, B[o] if B else None, total), reads, used))
    y = out if batched else out[0]
    dim_names = ("L",) if n == 1 else ("H", "W")
    summ = [f"shape: {tuple(x.shape)} → {tuple(y.shape)}; " + ", ".join(
        f"{dim_names[i]}_out = ⌊({sp[i]} + 2·{p[i]} − {d[i]}·({k[i]} − 1) − 1)/{s[i]} + 1⌋ = {out_sp[i]}" for i in range(n))]
    return WorkedResult(kind, y, elems, "y[n, o, …] = b[o] + Σ_c Σ_kernel x[n, c, window] · W[o, c, kernel] "
                        "(multiply element-wise, then add everything)", summ, p, n)


def _get(nested: list, idx: Sequence[int]) -> float:
    for i in idx:
        nested = nested[i]
    return float(nested)  # type: ignore[arg-type]


def prod_(xs: Sequence[int]) -> int:
    r = 1
    for v in xs:
        r *= int(v)
    return r


def worked_pool(x: torch.Tensor, mode: Literal["max", "avg"], kernel_size: int | Sequence[int], *, dims: int = 2,
                stride: int | Sequence[int] | None = None, padding: int | Sequence[int] = 0,
                dilation: int | Sequence[int] = 1, ceil_mode: bool = False,
                count_include_pad: bool = True) -> WorkedResult:
    """MaxPool / AvgPool (1-D or 2-D) written out: ``max(…)`` or ``(a + b + …)/k`` per window.

    Shape: x (N, C, *L) or (C, *L) -> (N, C, *L_out); windows as in
    :func:`dlcore.calculators.spec.pool_out_len`.
    """
    from dlcore.calculators.spec import pool_out_len

    kind = f"{'Max' if mode == 'max' else 'Avg'}Pool{dims}d"
    k = _tuple(kind, "kernel_size", kernel_size, dims)
    s, p, d = (_tuple(kind, nm, v, dims) for nm, v in (("stride", stride if stride is not None else k),
                                                          ("padding", padding), ("dilation", dilation)))
    if mode == "avg" and any(v != 1 for v in d):
        raise ValueError("AvgPool has no dilation; use dilation=1")
    xb, batched = _prep(kind, x, dims)
    N, C, *sp = xb.shape
    out_sp = []
    for i in range(dims):
        if p[i] > k[i] / 2:
            raise ValueError(f"{kind}: padding {p[i]} should be at most half of kernel_size {k[i]}")
        o, _ = pool_out_len("L_out", sp[i], k[i], s[i], p[i], d[i], ceil_mode)
        if o < 1:
            raise ValueError(f"{kind}: the {k[i]}-wide window does not fit the input of size {sp[i]} (output size {o})")
        out_sp.append(o)
    _cap(N * C * prod_(out_sp) * prod_(k), kind)
    X = xb.double().tolist()
    out = torch.zeros(N, C, *out_sp, dtype=torch.float64)  # (N, C, *L_out)
    elems = []
    for nn_, c in itertools.product(range(N), range(C)):
        for pos in itertools.product(*[range(L) for L in out_sp]):
            vals, reads, n_pad_win = [], [], 0
            for kidx in itertools.product(*[range(kk) for kk in k]):
                coord = tuple(pos[i] * s[i] - p[i] + kidx[i] * d[i] for i in range(dims))
                inside = all(0 <= coord[i] < sp[i] for i in range(dims))
                # avg: the divisor counts cells inside input + padding (torch's rule), not the overhang of ceil_mode
                if all(-p[i] <= coord[i] < sp[i] + p[i] for i in range(dims)):
                    n_pad_win += 1
                if inside:
                    vals.append(_get(X[nn_][c], coord))
                    reads.append((c,) + coord)
                elif mode == "avg":
                    reads.append((c,) + coord)
            if mode == "max":
                v = max(vals) if vals else float("-inf")
                expr = f"max({', '.join(num(a) for a in vals)}) = {num(v)}"
            else:
                div = n_pad_win if count_include_pad else len(vals)
                v = sum(vals) / div
                zeros = n_pad_win - len(vals) if count_include_pad else 0
                terms = [_factor(a) for a in vals] + ["0"] * zeros
                expr = f"({' + '.join(terms)})/{div} = {num(v)}"
            out[(nn_, c) + pos] = v
            elems.append(WorkedElement(((nn_,) if batched else ()) + (c,) + pos, v, expr, reads))
    y = out if batched else out[0]
    what = "the largest value" if mode == "max" else "the mean"
    return WorkedResult(kind, y, elems, f"each output = {what} of its {'×'.join(map(str, k))}{'-wide' if dims == 1 else ''} window; "
                        "channels stay separate, no weights", [f"shape: {tuple(x.shape)} → {tuple(y.shape)}"], p, dims)
