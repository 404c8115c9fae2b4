"""Convolution and pooling layers: output size with the formula substituted, parameters, MACs.

Output size (PyTorch docs, ``torch.nn.Conv2d``), per spatial dimension:

    L_out = ⌊(L_in + 2·padding − dilation·(kernel_size − 1) − 1) / stride + 1⌋

Transposed convolution (``torch.nn.ConvTranspose2d``):

    L_out = (L_in − 1)·stride − 2·padding + dilation·(kernel_size − 1) + output_padding + 1

MAC convention (the same as ``torch.utils.flop_counter``, which reports FLOPs = 2·MACs):
one multiply-accumulate per weight use; bias additions, padding zeros and pooling
comparisons/additions are not counted. Conv: ``N·C_out·∏L_out·(C_in/groups)·∏k``;
transposed conv: ``N·C_in·∏L_in·(C_out/groups)·∏k`` (every input element is scattered
through the kernel). Reference: Dumoulin & Visin, "A guide to convolution arithmetic for
deep learning", https://arxiv.org/abs/1603.07285.
"""

from __future__ import annotations

from typing import Any

from dlcore.calculators.spec import (LayerReport, Param, conv_out_len, fmt_shape, pool_out_len,
                                     prod, register, tconv_out_len)

__all__ = ["CONV_LAYERS"]

_DIMS = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}
KMAX = 10_000


def _batched(kind: str, shape: tuple[int, ...], n: int) -> tuple[int, tuple[int, ...], bool]:
    """Split ``(N, C, *spatial)`` or unbatched ``(C, *spatial)``; return (N, (C, *spatial), batched)."""
    if len(shape) == n + 2:
        return shape[0], shape[1:], True
    if len(shape) == n + 1:
        return 1, shape, False
    raise ValueError(f"{kind} expects a {n + 1}-D (unbatched) or {n + 2}-D (batched) input "
                     f"(N, C, {', '.join(_DIMS[n])}), got shape {fmt_shape(shape)} with {len(shape)} dims")


def _conv_params(n: int) -> list[Param]:
    return [Param("in_channels", "int", required=True, lo=1), Param("out_channels", "int", required=True, lo=1),
            Param("kernel_size", "ints", required=True, lo=1, hi=KMAX), Param("stride", "ints", 1, lo=1, hi=KMAX),
            Param("padding", "padding", 0, lo=0, hi=KMAX), Param("dilation", "ints", 1, lo=1, hi=KMAX),
            Param("groups", "int", 1, lo=1), Param("bias", "bool", True),
            Param("padding_mode", "str", "zeros", choices=("zeros", "reflect", "replicate", "circular"))]


def _groups_check(kind: str, cin: int, cout: int, g: int) -> None:
    if cin % g:
        raise ValueError(f"{kind}: in_channels {cin} is not divisible by groups {g} "
                         "(each group needs the same number of input channels)")
    if cout % g:
        raise ValueError(f"{kind}: out_channels {cout} is not divisible by groups {g}")


def _conv(n: int) -> Any:
    kind = f"Conv{n}d"

    def fn(a: dict[str, Any], shapes: list[tuple[int, ...]]) -> LayerReport:
        cin, cout, k, s, d, g = a["in_channels"], a["out_channels"], a["kernel_size"], a["stride"], a["dilation"], a["groups"]
        _groups_check(kind, cin, cout, g)
        pad = a["padding"]
        notes: list[str] = []
        if pad == "same" and any(x != 1 for x in s):
            raise ValueError(f"{kind}: padding='same' is not supported for strided convolutions (stride {s})")
        N, (C, *sp), batched = _batched(kind, shapes[0], n)
        if C != cin:
            raise ValueError(f"{kind}: the input has {C} channels (dim {1 if batched else 0} of "
                             f"{fmt_shape(shapes[0])}) but in_channels is {cin}")
        if pad == "valid":
            pads = [(0, 0)] * n
        elif pad == "same":
            pads = [(dd * (kk - 1) // 2, dd * (kk - 1) - dd * (kk - 1) // 2) for kk, dd in zip(k, d)]
            if any(l != r for l, r in pads):
                notes.append("padding='same' with an even dilated kernel pads one more on the right/bottom "
                             f"(pads per side: {pads})")
        else:
            pads = [(p, p) for p in pad]
        for (pl, pr), L in zip(pads, sp):
            if a["padding_mode"] == "reflect" and max(pl, pr) >= L or a["padding_mode"] == "circular" and max(pl, pr) > L:
                raise ValueError(f"{kind}: {a['padding_mode']} padding {max(pl, pr)} must be smaller than the "
                                 f"input size {L}{'' if a['padding_mode'] == 'reflect' else ' + 1'}")
        out_sp, steps = [], []
        for i, (L, kk, ss, (pl, pr), dd) in enumerate(zip(sp, k, s, pads, d)):
            name = _DIMS[n][i]
            ext = dd * (kk - 1) + 1
            if L + pl + pr < ext:
                padded = (f"{name}_in + 2·padding = {L} + 2·{pl}" if pl == pr else
                          f"{name}_in + padding_left + padding_right = {L} + {pl} + {pr}")
                raise ValueError(f"{kind}: kernel_size {kk} (dilated extent {dd}·({kk} − 1) + 1 = {ext}) is larger "
                                 f"than the padded input {padded} = {L + pl + pr}")
            o, st = conv_out_len(f"{name}_out", L, kk, ss, pl, pr, dd)
            out_sp.append(o)
            steps.append(st)
        out = ((N,) if batched else ()) + (cout, *out_sp)  # (N, C_out, *L_out)
        kp = prod(k)
        w = cout * (cin // g) * kp
        ks = "·".join(map(str, k))
        pf = f"C_out·(C_in/groups)·∏kernel_size = {cout}·({cin}/{g})·{ks} = {w}"
        params = w + (cout if a["bias"] else 0)
        pf += f" weights + C_out = {cout} biases = {params}" if a["bias"] else " (bias=False)"
        macs = N * cout * prod(out_sp) * (cin // g) * kp
        mf = (f"N·C_out·∏L_out·(C_in/groups)·∏kernel_size = {N}·{cout}·{'·'.join(map(str, out_sp))}"
              f"·{cin // g}·{ks} = {macs:,}")
        if g == cin and g > 1:
            notes.append(f"groups = in_channels = {cin}: a depthwise convolution (each filter sees one channel)")
        return LayerReport(kind, "", list(shapes), out, shape_steps=steps, params=params, params_formula=pf,
                           macs=macs, macs_formula=mf, notes=notes)
    return fn


def _tconv(n: int) -> Any:
    kind = f"ConvTranspose{n}d"

    def fn(a: dict[str, Any], shapes: list[tuple[int, ...]]) -> LayerReport:
        cin, cout, k, s, d, g = a["in_channels"], a["out_channels"], a["kernel_size"], a["stride"], a["dilation"], a["groups"]
        p, op = a["padding"], a["output_padding"]
        _groups_check(kind, cin, cout, g)
        for i in range(n):
            if op[i] >= s[i] and op[i] >= d[i]:
                raise ValueError(f"{kind}: output_padding {op[i]} must be smaller than either stride {s[i]} "
                                 f"or dilation {d[i]}")
        N, (C, *sp), batched = _batched(kind, shapes[0], n)
        if C != cin:
            raise ValueError(f"{kind}: the input has {C} channels but in_channels is {cin}")
        out_sp, steps = [], []
        for i in range(n):
            o, st = tconv_out_len(f"{_DIMS[n][i]}_out", sp[i], k[i], s[i], p[i], op[i], d[i])
            if o < 1:
                raise ValueError(f"{kind}: output size {o} along {_DIMS[n][i]} is too small, it must be at least 1 "
                                 f"(padding {p[i]} removes more than the kernel adds; {st})")
            out_sp.append(o)
            steps.append(st)
        out = ((N,) if batched else ()) + (cout, *out_sp)  # (N, C_out, *L_out)
        kp, ks = prod(k), "·".join(map(str, k))
        w = cin * (cout // g) * kp
        params = w + (cout if a["bias"] else 0)
        pf = f"C_in·(C_out/groups)·∏kernel_size = {cin}·({cout}/{g})·{ks} = {w}" + (
            f" weights + {cout} biases = {params}" if a["bias"] else " (bias=False)")
        macs = N * cin * prod(sp) * (cout // g) * kp
        mf = f"N·C_in·∏L_in·(C_out/groups)·∏kernel_size = {N}·{cin}·{'·'.join(map(str, sp))}·{cout // g}·{ks} = {macs:,}"
        return LayerReport(kind, "", list(shapes), out, shape_steps=steps, params=params, params_formula=pf,
                           macs=macs, macs_formula=mf)
    return fn


def _pool(n: int, mode: str) -> Any:
    kind = f"{mode}Pool{n}d"

    def fn(a: dict[str, Any], shapes: list[tuple[int, ...]]) -> LayerReport:
        k = a["kernel_size"]
        s = a["stride"] if a["stride"] is not None else k
        p, ceil = a["padding"], a["ceil_mode"]
        d = a.get("dilation") or (1,) * n
        shape = shapes[0]
        if len(shape) not in (n + 1, n + 2):
            raise ValueError(f"{kind} expects a {n + 1}-D or {n + 2}-D input (N, C, {', '.join(_DIMS[n])}), "
                             f"got shape {fmt_shape(shape)}")
        lead, sp = shape[:-n], shape[-n:]
        out_sp, steps = [], []
        for i in range(n):
            limit = k[i] / 2  # torch compares with kernel_size itself, not the dilated extent
            if p[i] > limit:
                raise ValueError(f"{kind}: padding {p[i]} should be at most half of kernel_size {k[i]} "
                                 f"({limit:g}); a window must not lie mostly in the padding")
            o, st = pool_out_len(f"{_DIMS[n][i]}_out", sp[i], k[i], s[i], p[i], d[i], ceil)
            if o < 1:
                raise ValueError(f"{kind}: output size along {_DIMS[n][i]} is {o} (input {sp[i]}, kernel {k[i]}, "
                                 f"padding {p[i]}); the output is too small — the window does not fit")
            out_sp.append(o)
            steps.append(st)
        rep = LayerReport(kind, "", list(shapes), (*lead, *out_sp), shape_steps=steps)  # (N, C, *L_out)
        if a["stride"] is None:
            rep.notes.append(f"stride was not given, so it defaults to kernel_size = {k if n > 1 else k[0]} (the notes' "
                             "§1.1.3 remark that the conv formula also applies to pooling holds with this default)")
        per = prod(k)
        rep.notes.append(f"no weights; each output reads a {'×'.join(map(str, k))} window "
                         f"({per} {'comparisons' if mode == 'Max' else 'additions and one division'}, "
                         "not counted as MACs)")
        return rep
    return fn


def _adaptive(n: int) -> Any:
    kind = f"AdaptiveAvgPool{n}d"

    def fn(a: dict[str, Any], shapes: list[tuple[int, ...]]) -> LayerReport:
        shape = shapes[0]
        if a["output_size"] is None:
            raise ValueError(f"{kind}: output_size must be given; None alone is not allowed (a tuple such as "
                             "(None, 7) keeps that input size)")
        size = a["output_size"]
        # torch computes output_size 1 as a mean over the last n dims, for any input with >= n dims
        # (torch also accepts a 2-D input when output_size is the int 1, but not (1, 1); we always want >= 3-D)
        shortcut = n == 2 and all(x == 1 for x in size) and len(shape) >= n + 1
        if len(shape) not in (n + 1, n + 2) and not shortcut:
            raise ValueError(f"{kind} expects a {n + 1}-D or {n + 2}-D input, got shape {fmt_shape(shape)}")
        lead, sp = shape[:-n], shape[-n:]
        out_sp = tuple(sp[i] if size[i] is None else size[i] for i in range(n))
        steps = [f"{_DIMS[n][i]}_out = output_size = {o}; window i covers input "
                 f"[⌊i·{sp[i]}/{o}⌋, ⌈(i+1)·{sp[i]}/{o}⌉)" for i, o in enumerate(out_sp)]
        return LayerReport(kind, "", list(shapes), (*lead, *out_sp), shape_steps=steps,
                           notes=["windows may overlap and differ in size when the input is not a multiple "
                                  "of output_size"])
    return fn


for _n in (1, 2, 3):
    register(f"Conv{_n}d", "conv", _conv_params(_n), spatial=_n)(_conv(_n))
for _n in (1, 2):
    register(f"ConvTranspose{_n}d", "conv", [
        Param("in_channels", "int", required=True, lo=1), Param("out_channels", "int", required=True, lo=1),
        Param("kernel_size", "ints", required=True, lo=1, hi=KMAX), Param("stride", "ints", 1, lo=1, hi=KMAX),
        Param("padding", "ints", 0, lo=0, hi=KMAX), Param("output_padding", "ints", 0, lo=0, hi=KMAX),
        Param("groups", "int", 1, lo=1), Param("bias", "bool", True), Param("dilation", "ints", 1, lo=1, hi=KMAX),
    ], spatial=_n)(_tconv(_n))
    register(f"MaxPool{_n}d", "pool", [
        Param("kernel_size", "ints", required=True, lo=1, hi=KMAX), Param("stride", "ints_or_none", None, lo=1, hi=KMAX),
        Param("padding", "ints", 0, lo=0, hi=KMAX), Param("dilation", "ints", 1, lo=1, hi=KMAX),
        Param("return_indices", "bool", False), Param("ceil_mode", "bool", False),
    ], spatial=_n)(_pool(_n, "Max"))
    register(f"AvgPool{_n}d", "pool", [
        Param("kernel_size", "ints", required=True, lo=1, hi=KMAX), Param("stride", "ints_or_none", None, lo=1, hi=KMAX),
        Param("padding", "ints", 0, lo=0, hi=KMAX), Param("ceil_mode", "bool", False),
        Param("count_include_pad", "bool", True),
    ], spatial=_n)(_pool(_n, "Avg"))
    register(f"AdaptiveAvgPool{_n}d", "pool", [
        Param("output_size", "ints_or_none", required=True, lo=1),
    ], spatial=_n)(_adaptive(_n))

CONV_LAYERS = [f"Conv{n}d" for n in (1, 2, 3)] + [f"ConvTranspose{n}d" for n in (1, 2)] + [
    f"{m}Pool{n}d" for m in ("Max", "Avg") for n in (1, 2)] + [f"AdaptiveAvgPool{n}d" for n in (1, 2)]
