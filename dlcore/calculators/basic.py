"""Element-wise, reshaping, linear, embedding, dropout and normalisation layers.

Formulas (PyTorch docs):

* ``Linear``: ``y = x Wᵀ + b``; (*, in_features) -> (*, out_features);
  params ``in·out + out``; MACs ``∏(*)·in·out``.
* ``Flatten(start_dim=1, end_dim=-1)``: dims start..end become one of size ∏.
* ``Embedding(n, d)``: (*) integer ids -> (*, d); params ``n·d``; a table lookup (0 MACs).
* Norms keep the shape. ``BatchNorm``/``InstanceNorm``/``GroupNorm`` with ``affine``:
  ``2·C`` params (γ, β); ``LayerNorm``: ``2·∏normalized_shape``. BatchNorm also keeps
  ``running_mean``/``running_var`` buffers (not trained). Ioffe & Szegedy 2015
  (https://arxiv.org/abs/1502.03167), Ba et al. 2016 (https://arxiv.org/abs/1607.06450),
  Wu & He 2018 (https://arxiv.org/abs/1803.08494).

MAC convention: matrix products only (what ``torch.utils.flop_counter`` counts, FLOPs =
2·MACs). Element-wise work (activations, normalisation, the scale-and-shift) is listed
in the notes, not as MACs.
"""

from __future__ import annotations

from typing import Any

from dlcore.calculators.spec import LayerReport, Param, fmt_shape, prod, register

__all__ = ["BASIC_LAYERS", "ACTIVATIONS"]

ACTIVATIONS = {
    "ReLU": "max(0, x)",
    "Sigmoid": "1 / (1 + exp(−x))",
    "Tanh": "(eˣ − e⁻ˣ) / (eˣ + e⁻ˣ)",
    "GELU": "x·Φ(x)  (Φ = standard normal CDF)",
}


def _same(kind: str, shapes: list[tuple[int, ...]], note: str) -> LayerReport:
    n = prod(shapes[0])
    return LayerReport(kind, "", list(shapes), shapes[0], shape_steps=["output shape = input shape (element-wise)"],
                       notes=[f"{note}; applied to each of the {n:,} elements independently"])


def _act(kind: str) -> Any:
    def fn(a: dict[str, Any], shapes: list[tuple[int, ...]]) -> LayerReport:
        return _same(kind, shapes, f"{kind}(x) = {ACTIVATIONS[kind]}")
    return fn


for _k in ACTIVATIONS:
    _ps = [Param("approximate", "str", "none", choices=("none", "tanh"))] if _k == "GELU" else (
        [Param("inplace", "bool", False)] if _k == "ReLU" else [])
    register(_k, "activation", _ps)(_act(_k))


def _dim(kind: str, name: str, dim: int, ndim: int) -> int:
    if not -ndim <= dim < ndim:
        raise ValueError(f"{kind}: {name} = {dim} is out of range for a {ndim}-D input "
                         f"(allowed {-ndim} … {ndim - 1})")
    return dim % ndim


@register("Softmax", "activation", [Param("dim", "int_or_none", None)])
def _softmax(a: dict[str, Any], shapes: list[tuple[int, ...]]) -> LayerReport:
    shape = shapes[0]
    dim = a["dim"]
    rep = _same("Softmax", shapes, "Softmax(x)ᵢ = exp(xᵢ) / Σⱼ exp(xⱼ)")
    if dim is None:
        dim = 0 if len(shape) in (0, 1, 3) else 1
        rep.notes.append(f"dim=None is deprecated: torch picks dim {dim} for a {len(shape)}-D input and warns; "
                         "give dim explicitly")
    d = _dim("Softmax", "dim", dim, len(shape))
    rep.notes.append(f"normalised along dim {d} (size {shape[d]}): those {shape[d]} values sum to 1")
    return rep


@register("Flatten", "reshape", [Param("start_dim", "int", 1), Param("end_dim", "int", -1)])
def _flatten(a: dict[str, Any], shapes: list[tuple[int, ...]]) -> LayerReport:
    shape = shapes[0]
    s = _dim("Flatten", "start_dim", a["start_dim"], len(shape))
    e = _dim("Flatten", "end_dim", a["end_dim"], len(shape))
    if s > e:
        raise ValueError(f"Flatten: start_dim {a['start_dim']} (= dim {s}) comes after end_dim {a['end_dim']} "
                         f"(= dim {e}) for a {len(shape)}-D input")
    merged = shape[s:e + 1]
    out = shape[:s] + (prod(merged),) + shape[e + 1:]
    step = f"dims {s}…{e} {fmt_shape(merged)} become one: {'·'.join(map(str, merged))} = {prod(merged)}"
    return LayerReport("Flatten", "", list(shapes), out, shape_steps=[step],
                       notes=["only the view changes; the numbers stay in the same (row-major) order"])


@register("Linear", "linear", [Param("in_features", "int", required=True, lo=1),
                               Param("out_features", "int", required=True, lo=1), Param("bias", "bool", True)])
def _linear(a: dict[str, Any], shapes: list[tuple[int, ...]]) -> LayerReport:
    shape = shapes[0]
    fin, fout = a["in_features"], a["out_features"]
    if shape[-1] != fin:
        raise ValueError(f"Linear: the input's last dimension is {shape[-1]} (shape {fmt_shape(shape)}) but "
                         f"in_features is {fin}; Linear needs (*, in_features) — torch would say "
                         f"'mat1 and mat2 shapes cannot be multiplied ({prod(shape[:-1])}x{shape[-1]} and {fin}x{fout})'")
    out = shape[:-1] + (fout,)  # (*, out_features)
    w = fin * fout
    params = w + (fout if a["bias"] else 0)
    pf = f"in_features·out_features = {fin}·{fout} = {w}" + (f" weights + {fout} biases = {params}" if a["bias"] else " (bias=False)")
    rows = prod(shape[:-1])
    lead = "·".join(map(str, shape[:-1])) or "1"
    macs = rows * fin * fout
    return LayerReport("Linear", "", list(shapes), out,
                       shape_steps=[f"(*, in_features) → (*, out_features): {fmt_shape(shape)} → {fmt_shape(out)}"],
                       params=params, params_formula=pf, macs=macs,
                       macs_formula=f"∏(*)·in_features·out_features = {lead}·{fin}·{fout} = {macs:,}")


@register("Dropout", "regularisation", [Param("p", "float", 0.5, lo=0.0, hi=1.0), Param("inplace", "bool", False)])
def _dropout(a: dict[str, Any], shapes: list[tuple[int, ...]]) -> LayerReport:
    p = a["p"]
    keep = f"1/(1 − p) = {1 / (1 - p):.4g}" if p < 1 else "∞ (p = 1 zeroes everything)"
    return _same("Dropout", shapes, f"training: each element is zeroed with probability {p:g} and the rest "
                 f"scaled by {keep}; eval: identity")


@register("Embedding", "embedding", [Param("num_embeddings", "int", required=True, lo=1),
                                     Param("embedding_dim", "int", required=True, lo=1),
                                     Param("padding_idx", "int_or_none", None)])
def _embedding(a: dict[str, Any], shapes: list[tuple[int, ...]]) -> LayerReport:
    n, d, pi = a["num_embeddings"], a["embedding_dim"], a["padding_idx"]
    if pi is not None and not -n <= pi < n:
        raise ValueError(f"Embedding: padding_idx {pi} must be within num_embeddings (−{n} … {n - 1})")
    out = shapes[0] + (d,)  # (*, embedding_dim)
    return LayerReport("Embedding", "", list(shapes), out,
                       shape_steps=[f"(*) ids → (*, embedding_dim): {fmt_shape(shapes[0])} → {fmt_shape(out)}"],
                       params=n * d, params_formula=f"num_embeddings·embedding_dim = {n}·{d} = {n * d:,}",
                       notes=["a table lookup: row id of the weight matrix, no multiplications",
                              f"every id must be an integer in 0 … {n - 1}"])


def _norm_report(kind: str, shapes: list[tuple[int, ...]], C: int, affine: bool, stats: str,
                 buffers: int = 0) -> LayerReport:
    rep = LayerReport(kind, "", list(shapes), shapes[0], shape_steps=["output shape = input shape"],
                      params=2 * C if affine else 0, buffers=buffers,
                      params_formula=(f"γ and β per {'element' if kind == 'LayerNorm' else 'channel'}: 2·{C} = {2 * C}"
                                      if affine else "0 (affine=False)"))
    rep.notes.append(f"statistics: {stats}; y = (x − mean)/√(var + eps)·γ + β")
    return rep


def _batchnorm(n: int) -> Any:
    kind = f"BatchNorm{n}d"
    allowed = {1: (2, 3), 2: (4,), 3: (5,)}[n]

    def fn(a: dict[str, Any], shapes: list[tuple[int, ...]]) -> LayerReport:
        shape = shapes[0]
        if len(shape) not in allowed:
            raise ValueError(f"{kind} expects a {' or '.join(f'{x}-D' for x in allowed)} input (N, C, …), "
                             f"got shape {fmt_shape(shape)}")
        C = a["num_features"]
        if shape[1] != C:
            raise ValueError(f"{kind}: the input has {shape[1]} channels (dim 1 of {fmt_shape(shape)}) but "
                             f"num_features is {C}")
        per = shape[0] * prod(shape[2:])
        buf = 2 * C + 1 if a["track_running_stats"] else 0
        rep = _norm_report(kind, shapes, C, a["affine"], f"one mean and variance per channel over N·spatial = {per} "
                           "values (the batch)", buf)
        if per == 1:
            rep.notes.append("only 1 value per channel: torch raises 'Expected more than 1 value per channel "
                             "when training' in train mode (eval mode works)")
        if buf:
            rep.notes.append(f"buffers: running_mean ({C}) + running_var ({C}) + num_batches_tracked (1) = {buf}")
        return rep
    return fn


_bn = [Param("num_features", "int", required=True, lo=1), Param("eps", "float", 1e-5, lo=0.0, hi=1.0),
       Param("momentum", "float", 0.1, lo=0.0, hi=1.0), Param("affine", "bool", True),
       Param("track_running_stats", "bool", True)]
for _n in (1, 2, 3):
    register(f"BatchNorm{_n}d", "norm", _bn)(_batchnorm(_n))


@register("LayerNorm", "norm", [Param("normalized_shape", "shape", required=True, lo=1),
                                Param("eps", "float", 1e-5, lo=0.0, hi=1.0), Param("elementwise_affine", "bool", True),
                                Param("bias", "bool", True)])
def _layernorm(a: dict[str, Any], shapes: list[tuple[int, ...]]) -> LayerReport:
    ns, shape = a["normalized_shape"], shapes[0]
    if len(shape) < len(ns) or tuple(shape[-len(ns):]) != tuple(ns):
        raise ValueError(f"LayerNorm: normalized_shape {fmt_shape(ns)} must equal the last {len(ns)} dims of the "
                         f"input {fmt_shape(shape)}")
    m = prod(ns)
    rep = _norm_report("LayerNorm", shapes, m, a["elementwise_affine"],
                       f"one mean and variance per sample over the last {len(ns)} dim(s) ({m} values)")
    if a["elementwise_affine"] and not a["bias"]:
        rep.params = m
        rep.params_formula = f"γ per element: {m} (bias=False)"
    return rep


@register("GroupNorm", "norm", [Param("num_groups", "int", required=True, lo=1),
                                Param("num_channels", "int", required=True, lo=1),
                                Param("eps", "float", 1e-5, lo=0.0, hi=1.0), Param("affine", "bool", True)])
def _groupnorm(a: dict[str, Any], shapes: list[tuple[int, ...]]) -> LayerReport:
    G, C, shape = a["num_groups"], a["num_channels"], shapes[0]
    if C % G:
        raise ValueError(f"GroupNorm: num_channels {C} is not divisible by num_groups {G}")
    if len(shape) < 2:
        raise ValueError(f"GroupNorm expects (N, C, *), got shape {fmt_shape(shape)}")
    c_in = shape[1]
    if c_in % G or (a["affine"] and c_in != C):
        raise ValueError(f"GroupNorm expects (N, C, *) with C = num_channels = {C}, got shape {fmt_shape(shape)}")
    if shape[0] * (c_in // G) * prod(shape[2:]) == 1:
        raise ValueError(f"GroupNorm: each group of {fmt_shape(shape)} holds 1 value; the variance of one value "
                         "is 0 (torch: 'Expected more than 1 value per channel')")
    rep = _norm_report("GroupNorm", shapes, C, a["affine"],
                       f"per sample and group: {c_in // G} channels × {prod(shape[2:])} positions")
    if c_in != C:
        rep.notes.append(f"the input has {c_in} channels but num_channels is {C}: unused when affine=False")
    return rep


def _instnorm(n: int) -> Any:
    kind = f"InstanceNorm{n}d"

    def fn(a: dict[str, Any], shapes: list[tuple[int, ...]]) -> LayerReport:
        shape, C = shapes[0], a["num_features"]
        if len(shape) not in (n + 1, n + 2):
            raise ValueError(f"{kind} expects a {n + 1}-D or {n + 2}-D input, got shape {fmt_shape(shape)}")
        c_in = shape[-n - 1]
        if prod(shape[-n:]) == 1:
            if not a["track_running_stats"]:
                raise ValueError(f"{kind}: each channel of {fmt_shape(shape)} has 1 position; instance statistics need "
                                 "more than 1 (torch: 'Expected more than 1 spatial element')")
        rep = _norm_report(kind, shapes, C, a["affine"], f"per sample and channel over {prod(shape[-n:])} positions",
                           2 * C + 1 if a["track_running_stats"] else 0)
        if c_in != C:
            if a["affine"] or a["track_running_stats"]:
                raise ValueError(f"{kind}: the input has {c_in} channels but num_features is {C}")
            rep.notes.append(f"the input has {c_in} channels but num_features is {C}: torch only warns "
                             "(num_features is unused when affine=False)")
        return rep
    return fn


_in = [Param("num_features", "int", required=True, lo=1), Param("eps", "float", 1e-5, lo=0.0, hi=1.0),
       Param("momentum", "float", 0.1, lo=0.0, hi=1.0), Param("affine", "bool", False),
       Param("track_running_stats", "bool", False)]
for _n in (1, 2):
    register(f"InstanceNorm{_n}d", "norm", _in)(_instnorm(_n))

BASIC_LAYERS = [*ACTIVATIONS, "Softmax", "Flatten", "Linear", "Dropout", "Embedding",
                "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "LayerNorm", "GroupNorm",
                "InstanceNorm1d", "InstanceNorm2d"]
