"""Worked arithmetic for element-wise layers, Flatten and normalisation (notes §1.2.1, §1.2.2,
and §1.2.6, which the notes leave empty).

* activations: ``ReLU(x) = max(0, x)``, ``Sigmoid(x) = 1/(1 + e^(−x))``, ``Tanh``, ``GELU``
  (exact, ``x·Φ(x)``), ``Softmax`` along the last dim ``e^(x_i)/Σ_j e^(x_j)``;
* ``Flatten(start_dim=1)``: ``y[n, f] = x[n, …]`` in row-major order;
* ``BatchNorm`` (training mode, batch statistics; Ioffe & Szegedy 2015,
  https://arxiv.org/abs/1502.03167): per channel ``μ_c = mean over (N, *spatial)``,
  ``σ²_c`` the biased variance, ``y = (x − μ_c)/√(σ²_c + eps)·γ_c + β_c``;
* ``LayerNorm`` (Ba et al. 2016, https://arxiv.org/abs/1607.06450): the same with the
  statistics over the last ``k`` dims of each sample and γ, β per element.
"""

from __future__ import annotations

import math
from typing import Literal

import torch

from dlcore.calculators.arithmetic import WorkedElement, WorkedResult, _cap, _factor, _unravel, num
from dlcore.calculators.spec import ACTIVATION_KINDS

__all__ = ["ACTIVATION_KINDS", "worked_activation", "worked_flatten", "worked_batchnorm", "worked_layernorm"]



def _one(kind: str, v: float) -> tuple[float, str]:
    f = _factor(v)
    if kind == "ReLU":
        y = max(0.0, v)
        return y, f"ReLU({num(v)}) = max(0, {num(v)}) = {num(y)}"
    if kind == "Sigmoid":
        y = 1.0 / (1.0 + math.exp(-v)) if v >= 0 else math.exp(v) / (1.0 + math.exp(v))
        return y, f"σ({num(v)}) = 1/(1 + e^(−{f})) = {num(y)}"
    if kind == "Tanh":
        y = math.tanh(v)
        return y, f"tanh({num(v)}) = (e^{f} − e^(−{f}))/(e^{f} + e^(−{f})) = {num(y)}"
    y = v * 0.5 * (1.0 + math.erf(v / math.sqrt(2.0)))
    return y, f"GELU({num(v)}) = {f}·Φ({f}) = {f}·½(1 + erf({f}/√2)) = {num(y)}"


def worked_activation(x: torch.Tensor, kind: Literal["ReLU", "Sigmoid", "Tanh", "GELU", "Softmax"]) -> WorkedResult:
    """Apply an activation element by element (Softmax: along the last dim). Shape: (*) -> (*)."""
    if kind not in ACTIVATION_KINDS:
        raise ValueError(f"activation {kind!r} is not one of {', '.join(ACTIVATION_KINDS)}")
    _cap(x.numel(), kind)
    flat = x.double().reshape(-1).tolist()
    shape = tuple(x.shape)
    elems: list[WorkedElement] = []
    if kind == "Softmax":
        n = shape[-1] if shape else 1
        out = []
        for r in range(len(flat) // n):
            row = flat[r * n:(r + 1) * n]
            m = max(row)
            ex = [math.exp(v - m) for v in row]
            z = sum(ex)
            den = " + ".join(f"e^{_factor(v)}" for v in row)
            for j, v in enumerate(row):
                y = ex[j] / z
                out.append(y)
                idx = _unravel(r * n + j, shape) if shape else ()
                elems.append(WorkedElement(idx, y, f"e^{_factor(v)}/({den}) = {num(y)}", [idx]))
        formula = "Softmax(x)_i = e^(x_i) / Σ_j e^(x_j) along the last dim (each row sums to 1)"
    else:
        out = []
        for i, v in enumerate(flat):
            y, expr = _one(kind, v)
            out.append(y)
            idx = _unravel(i, shape) if shape else ()
            elems.append(WorkedElement(idx, y, expr, [idx]))
        formula = f"{kind} acts on every element independently; the shape is unchanged"
    y_t = torch.tensor(out, dtype=torch.float64).reshape(shape)
    summary = [f"shape: {shape} → {shape}"]
    if kind == "Sigmoid":
        summary.append("the notes (§1.2.1) write the middle step as 1/(1 + exp(X)); it must be exp(−X) — the "
                       "final numbers 0.7311 … 0.0025 in the notes are right")
    return WorkedResult(kind, y_t, elems, formula, summary)


def worked_flatten(x: torch.Tensor, start_dim: int = 1, end_dim: int = -1) -> WorkedResult:
    """Flatten dims ``start_dim..end_dim``; each output element names the input element it copies."""
    nd = x.ndim
    if nd == 0 or not (-nd <= start_dim < nd and -nd <= end_dim < nd):
        raise ValueError(f"Flatten: start_dim {start_dim} / end_dim {end_dim} out of range for a {nd}-D input")
    s, e = start_dim % nd, end_dim % nd
    if s > e:
        raise ValueError(f"Flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    _cap(x.numel(), "Flatten")
    y = x.double().flatten(s, e)
    shape = tuple(x.shape)
    elems = []
    for i, v in enumerate(x.double().reshape(-1).tolist()):
        src = _unravel(i, shape)
        dst = _unravel(i, tuple(y.shape))
        elems.append(WorkedElement(dst, v, f"= x{list(src)} = {num(v)}", [src]))
    return WorkedResult("Flatten", y, elems, "the numbers keep their row-major order; only the shape changes",
                        [f"shape: {shape} → {tuple(y.shape)}"])


def _stats(vals: list[float], eps: float) -> tuple[float, float, float]:
    m = sum(vals) / len(vals)
    var = sum((v - m) ** 2 for v in vals) / len(vals)
    return m, var, math.sqrt(var + eps)


def worked_batchnorm(x: torch.Tensor, weight: torch.Tensor | None = None, bias: torch.Tensor | None = None,
                     eps: float = 1e-5) -> WorkedResult:
    """BatchNorm in training mode: statistics per channel over the batch and positions.

    Shape: x (N, C) or (N, C, *) -> same; weight/bias (C,).
    """
    if x.ndim < 2:
        raise ValueError(f"BatchNorm input must be (N, C) or (N, C, …), got shape {tuple(x.shape)}")
    C = x.shape[1]
    for name, t in (("weight γ", weight), ("bias β", bias)):
        if t is not None and tuple(t.shape) != (C,):
            raise ValueError(f"BatchNorm {name} must have shape ({C},) (one per channel), got {tuple(t.shape)}")
    per = x.numel() // C
    if per < 2:
        raise ValueError(f"BatchNorm needs more than 1 value per channel in training mode; shape {tuple(x.shape)} "
                         "has 1 (torch: 'Expected more than 1 value per channel when training')")
    _cap(x.numel(), "BatchNorm")
    xc = x.double().transpose(0, 1).reshape(C, -1)  # (C, N·spatial)
    g = weight.double().tolist() if weight is not None else [1.0] * C
    b = bias.double().tolist() if bias is not None else [0.0] * C
    summary, stats = [], []
    for c in range(C):
        vals = xc[c].tolist()
        m, var, sd = _stats(vals, eps)
        stats.append((m, sd))
        summary.append(f"channel {c}: μ = ({' + '.join(_factor(v) for v in vals)})/{per} = {num(m)}; "
                       f"σ² = mean((x − μ)²) = {num(var)}; √(σ² + eps) = {num(sd)}")
    flat = x.double().reshape(-1).tolist()
    shape = tuple(x.shape)
    out, elems = [], []
    for i, v in enumerate(flat):
        idx = _unravel(i, shape)
        c = idx[1]
        m, sd = stats[c]
        y = (v - m) / sd * g[c] + b[c]
        out.append(y)
        elems.append(WorkedElement(idx, y, f"({num(v)} − {_factor(m)})/{num(sd)}·{_factor(g[c])} + {_factor(b[c])} "
                                   f"= {num(y)}", [idx]))
    summary.append("eval mode uses running_mean / running_var instead of these batch statistics")
    return WorkedResult("BatchNorm", torch.tensor(out, dtype=torch.float64).reshape(shape), elems,
                        "y = (x − μ_c)/√(σ²_c + eps)·γ_c + β_c with μ_c, σ²_c over the batch (and positions) of "
                        "channel c; σ² is the biased variance (divide by the count)", summary)


def worked_layernorm(x: torch.Tensor, normalized_dims: int = 1, weight: torch.Tensor | None = None,
                     bias: torch.Tensor | None = None, eps: float = 1e-5) -> WorkedResult:
    """LayerNorm over the last ``normalized_dims`` dims of each sample.

    Shape: x (*, *normalized_shape) -> same; weight/bias normalized_shape.
    """
    if not 1 <= normalized_dims <= x.ndim:
        raise ValueError(f"LayerNorm: normalized_dims {normalized_dims} must be between 1 and the input's "
                         f"{x.ndim} dims")
    ns = tuple(x.shape[x.ndim - normalized_dims:])
    for name, t in (("weight γ", weight), ("bias β", bias)):
        if t is not None and tuple(t.shape) != ns:
            raise ValueError(f"LayerNorm {name} must have the normalized shape {ns}, got {tuple(t.shape)}")
    _cap(x.numel(), "LayerNorm")
    k = math.prod(ns)
    rows = x.double().reshape(-1, k).tolist()
    g = weight.double().reshape(-1).tolist() if weight is not None else [1.0] * k
    b = bias.double().reshape(-1).tolist() if bias is not None else [0.0] * k
    shape = tuple(x.shape)
    out, elems, summary = [], [], []
    for r, vals in enumerate(rows):
        m, var, sd = _stats(vals, eps)
        summary.append(f"sample {list(_unravel(r, shape[:x.ndim - normalized_dims]))}: μ = {num(m)}, "
                       f"σ² = {num(var)}, √(σ² + eps) = {num(sd)}")
        for j, v in enumerate(vals):
            y = (v - m) / sd * g[j] + b[j]
            idx = _unravel(r * k + j, shape)
            out.append(y)
            elems.append(WorkedElement(idx, y, f"({num(v)} − {_factor(m)})/{num(sd)}·{_factor(g[j])} + "
                                       f"{_factor(b[j])} = {num(y)}", [idx]))
    return WorkedResult("LayerNorm", torch.tensor(out, dtype=torch.float64).reshape(shape), elems,
                        f"y = (x − μ)/√(σ² + eps)·γ + β with μ, σ² over the last {normalized_dims} dim(s) "
                        "of each sample (the same in training and eval)", summary)
