"""Recurrent and attention layers: RNN/LSTM/GRU, MultiheadAttention, Transformer(EncoderLayer).

Recurrent layers (``torch.nn.LSTM`` docs), with D = 2 if bidirectional else 1 and G gates
(RNN 1, GRU 3, LSTM 4):

* input ``(L, N, H_in)`` (``(N, L, H_in)`` if ``batch_first``; ``(L, H_in)`` unbatched);
* output ``(L, N, D·H_out)``; ``h_n`` ``(D·num_layers, N, H_out)``; LSTM ``c_n``
  ``(D·num_layers, N, hidden_size)``; ``H_out = proj_size`` if > 0 else ``hidden_size``;
* params per layer and direction ``G·H·(in + H_out) + 2·G·H`` (two bias vectors
  ``b_ih``, ``b_hh``) ``+ H_out·H`` for an LSTM projection; ``in = H_in`` for layer 0 and
  ``D·H_out`` above it.

MAC convention for recurrent layers (documented because tools disagree; torchinfo's LSTM
count is known to be wrong): the matrix products of every cell at every time step,
``L·N·D·Σ_layers G·H·(in + H_out)`` (+ ``L·N·D·layers·H_out·H`` for the projection). This
equals ``FlopCounterMode`` FLOPs / 2 of the same network unrolled into ``nn.LSTMCell`` /
``nn.GRUCell`` / ``nn.RNNCell`` steps; the element-wise gate products (e.g. ``f⊙c + i⊙g``)
are not counted, as for every other layer here. ``FlopCounterMode`` on ``nn.LSTM`` itself
reports 0 because the fused ``aten.lstm`` kernel has no flop formula.

Attention (Vaswani et al. 2017, https://arxiv.org/abs/1706.03762): MACs are the Q/K/V and
output projections plus ``QKᵀ`` and ``softmax(·)V``: ``N·(L·E·E + S·kdim·E + S·vdim·E +
2·L·S·E + L·E·E)``.
"""

from __future__ import annotations

from typing import Any

from dlcore.calculators.spec import LayerReport, Param, fmt_shape, register

__all__ = ["RECURRENT_LAYERS", "SEED_RNN_NOTE"]

GATES = {"RNN": 1, "GRU": 3, "LSTM": 4}

SEED_RNN_NOTE = ("Notes §1.1.3 give h_t as [num_layers, N, L] — that is wrong: h_n has shape "
                 "[num_layers·D, N, hidden_size] (D = 2 if bidirectional), it holds the last hidden "
                 "state of every layer and direction, and has no sequence-length axis.")


def _rnn(kind: str) -> Any:
    G = GATES[kind]

    def fn(a: dict[str, Any], shapes: list[tuple[int, ...]]) -> LayerReport:
        shape = shapes[0]
        H_in, H, nl, bf = a["input_size"], a["hidden_size"], a["num_layers"], a["batch_first"]
        D = 2 if a["bidirectional"] else 1
        P = a.get("proj_size") or 0
        if P and P >= H:
            raise ValueError(f"LSTM: proj_size {P} has to be smaller than hidden_size {H}")
        Ho = P or H
        if len(shape) == 3:
            L, N = (shape[1], shape[0]) if bf else (shape[0], shape[1])
        elif len(shape) == 2:
            L, N = shape[0], 1
        else:
            raise ValueError(f"{kind} expects a 3-D input {'(N, L, H_in)' if bf else '(L, N, H_in)'} or a 2-D "
                             f"unbatched (L, H_in), got shape {fmt_shape(shape)}")
        if shape[-1] != H_in:
            raise ValueError(f"{kind}: input.size(-1) must be equal to input_size: the input's last dim is "
                             f"{shape[-1]} (shape {fmt_shape(shape)}) but input_size is {H_in}")
        batched = len(shape) == 3
        out = ((N, L) if bf else (L, N)) + (D * Ho,) if batched else (L, D * Ho)
        hn = (D * nl, N, Ho) if batched else (D * nl, Ho)
        extra = {"h_n": hn}
        if kind == "LSTM":
            extra["c_n"] = (D * nl, N, H) if batched else (D * nl, H)
        ins = [H_in] + [D * Ho] * (nl - 1)
        b = 2 * G * H if a["bias"] else 0
        per = [G * H * (i + Ho) + b + P * H for i in ins]
        params = D * sum(per)
        pf = (f"per layer and direction G·H·(in + H_out) + {'2·G·H' if b else '0'}{' + proj·H' if P else ''} "
              f"with G = {G}, H = {H}, H_out = {Ho}: "
              + " + ".join(f"{D}·({G}·{H}·({i} + {Ho}){f' + {b}' if b else ''}{f' + {P}·{H}' if P else ''})"
                           for i in ins) + f" = {params:,}")
        step = sum(G * H * (i + Ho) + P * H for i in ins)
        macs = L * N * D * step
        mf = (f"L·N·D·Σ_layers (G·H·(in + H_out){' + proj·H' if P else ''}) = {L}·{N}·{D}·({' + '.join(f'{G}·{H}·({i} + {Ho})' + (f' + {P}·{H}' if P else '') for i in ins)})"
              f" = {macs:,}")
        steps = [f"output: {'(N, L, D·H_out)' if bf else '(L, N, D·H_out)'} = {fmt_shape(out)}",
                 f"h_n: (D·num_layers, N, H_out) = ({D}·{nl}, {N}, {Ho}) = {fmt_shape(hn)}"]
        if kind == "LSTM":
            steps.append(f"c_n: (D·num_layers, N, hidden_size) = {fmt_shape(extra['c_n'])}")
        corrections = [SEED_RNN_NOTE]
        notes: list[str] = []
        if D == 2:
            corrections.append(f"Notes §1.1.1's table gives the output as (L, N, hidden_size); with bidirectional=True "
                         f"both directions are concatenated: (L, N, 2·{Ho}) = last dim {2 * Ho}")
        if bf:
            notes.append("batch_first=True changes input and output only: h_n/c_n stay (D·num_layers, N, H_out)")
        if a["dropout"] and nl == 1:
            notes.append("dropout > 0 with num_layers = 1 does nothing (torch warns): dropout acts between layers")
        return LayerReport(kind, "", list(shapes), out, extra, steps, params, pf, 0, macs, mf, notes,
                           corrections)
    return fn


for _kind in GATES:
    _ps = [Param("input_size", "int", required=True, lo=1), Param("hidden_size", "int", required=True, lo=1),
           Param("num_layers", "int", 1, lo=1, hi=100)]
    if _kind == "RNN":
        _ps.append(Param("nonlinearity", "str", "tanh", choices=("tanh", "relu")))
    _ps += [Param("bias", "bool", True), Param("batch_first", "bool", False),
            Param("dropout", "float", 0.0, lo=0.0, hi=1.0), Param("bidirectional", "bool", False)]
    if _kind == "LSTM":
        _ps.append(Param("proj_size", "int", 0, lo=0))
    register(_kind, "recurrent", _ps)(_rnn(_kind))


def _mha_core(E: int, h: int, L: int, S: int, N: int, kd: int, vd: int, bias: bool) -> tuple[int, str, int, str]:
    if E % h:
        raise ValueError(f"embed_dim {E} must be divisible by num_heads {h} (each head gets embed_dim/num_heads)")
    b = 4 * E if bias else 0
    params = E * E + kd * E + vd * E + E * E + b
    pf = f"W_q E·E + W_k kdim·E + W_v vdim·E + W_o E·E{' + 4·E biases' if bias else ''} = {E}·{E} + {kd}·{E} + {vd}·{E} + {E}·{E}{f' + 4·{E}' if bias else ''} = {params:,}"
    macs = N * (L * E * E + S * kd * E + S * vd * E + 2 * L * S * E + L * E * E)
    mf = f"N·(L·E·E + S·kdim·E + S·vdim·E + 2·L·S·E + L·E·E) = {N}·({L}·{E}·{E} + {S}·{kd}·{E} + {S}·{vd}·{E} + 2·{L}·{S}·{E} + {L}·{E}·{E}) = {macs:,}"
    return params, pf, macs, mf


def _seq(kind: str, shape: tuple[int, ...], E: int, bf: bool, what: str) -> tuple[int, int, bool]:
    """(L, N, batched) from (L, N, E) / (N, L, E) / unbatched (L, E), checking E."""
    if len(shape) not in (2, 3):
        raise ValueError(f"{kind}: {what} must be 3-D {'(N, L, E)' if bf else '(L, N, E)'} or 2-D (L, E), "
                         f"got shape {fmt_shape(shape)}")
    if shape[-1] != E:
        raise ValueError(f"{kind}: {what}'s last dim is {shape[-1]} (shape {fmt_shape(shape)}) but the model "
                         f"dimension is {E}")
    if len(shape) == 2:
        return shape[0], 1, False
    return (shape[1], shape[0], True) if bf else (shape[0], shape[1], True)


@register("MultiheadAttention", "attention", [
    Param("embed_dim", "int", required=True, lo=1), Param("num_heads", "int", required=True, lo=1),
    Param("dropout", "float", 0.0, lo=0.0, hi=1.0), Param("bias", "bool", True),
    Param("add_bias_kv", "bool", False), Param("add_zero_attn", "bool", False),
    Param("kdim", "int_or_none", None, lo=1), Param("vdim", "int_or_none", None, lo=1),
    Param("batch_first", "bool", False)])
def _mha(a: dict[str, Any], shapes: list[tuple[int, ...]]) -> LayerReport:
    E, h, bf = a["embed_dim"], a["num_heads"], a["batch_first"]
    kd, vd = a["kdim"] or E, a["vdim"] or E
    if a["add_bias_kv"] or a["add_zero_attn"]:
        raise ValueError("MultiheadAttention: add_bias_kv/add_zero_attn are not covered by this calculator")
    q, k, v = (shapes * 3)[:3] if len(shapes) == 1 else (shapes + [shapes[-1]])[:3]
    if len(shapes) == 1 and (kd != E or vd != E):
        raise ValueError("MultiheadAttention: with kdim/vdim ≠ embed_dim give three input shapes (query, key, value)")
    L, N, bq = _seq("MultiheadAttention", q, E, bf, "query")
    S, Nk, bk = _seq("MultiheadAttention", k, kd, bf, "key")
    S2, Nv, _ = _seq("MultiheadAttention", v, vd, bf, "value")
    if S != S2 or Nk != Nv or Nk != N or len(q) != len(k) or len(k) != len(v):
        raise ValueError(f"MultiheadAttention: key {fmt_shape(k)} and value {fmt_shape(v)} must have the same "
                         f"length and batch as each other, and the same batch as the query {fmt_shape(q)}")
    params, pf, macs, mf = _mha_core(E, h, L, S, N, kd, vd, a["bias"])
    out = q  # (L, N, E)
    w = (N, L, S) if bq else (L, S)
    steps = [f"attn_output: same as the query {fmt_shape(out)}",
             f"attn_weights (averaged over {h} heads): (N, L, S) = {fmt_shape(w)}",
             f"each head works in embed_dim/num_heads = {E}/{h} = {E // h} dims"]
    return LayerReport("MultiheadAttention", "", list(shapes), out, {"attn_weights": w}, steps, params, pf, 0,
                       macs, mf, ["one input shape = self-attention (query = key = value)"])


def _enc_layer(d: int, h: int, ff: int, L: int, N: int, bias: bool) -> tuple[int, int]:
    p_mha, _, m_mha, _ = _mha_core(d, h, L, L, N, d, d, bias)
    p = p_mha + 2 * d * ff + ((ff + d) if bias else 0) + (4 * d if bias else 2 * d)
    return p, m_mha + 2 * N * L * d * ff


def _dec_layer(d: int, h: int, ff: int, T: int, S: int, N: int, bias: bool) -> tuple[int, int]:
    p_self, _, m_self, _ = _mha_core(d, h, T, T, N, d, d, bias)
    p_x, _, m_x, _ = _mha_core(d, h, T, S, N, d, d, bias)
    p = p_self + p_x + 2 * d * ff + ((ff + d) if bias else 0) + (6 * d if bias else 3 * d)
    return p, m_self + m_x + 2 * N * T * d * ff


_TP = [Param("d_model", "int", 512, lo=1), Param("nhead", "int", 8, lo=1)]
_TE = [Param("dim_feedforward", "int", 2048, lo=1), Param("dropout", "float", 0.1, lo=0.0, hi=1.0),
       Param("activation", "str", "relu", choices=("relu", "gelu")), Param("layer_norm_eps", "float", 1e-5, lo=0.0),
       Param("batch_first", "bool", False), Param("norm_first", "bool", False), Param("bias", "bool", True)]


@register("TransformerEncoderLayer", "attention", [Param("d_model", "int", required=True, lo=1),
                                                  Param("nhead", "int", required=True, lo=1), *_TE])
def _tel(a: dict[str, Any], shapes: list[tuple[int, ...]]) -> LayerReport:
    d, h, ff, bias = a["d_model"], a["nhead"], a["dim_feedforward"], a["bias"]
    L, N, _ = _seq("TransformerEncoderLayer", shapes[0], d, a["batch_first"], "src")
    if d % h:
        raise ValueError(f"TransformerEncoderLayer: d_model {d} must be divisible by nhead {h}")
    p, m = _enc_layer(d, h, ff, L, N, bias)
    pf = (f"self-attention 4·d²{' + 4·d' if bias else ''} + FFN 2·d·ff{' + ff + d' if bias else ''} + 2 LayerNorms "
          f"{'4·d' if bias else '2·d'}, d = {d}, ff = {ff}: = {p:,}")
    mf = f"attention N·(4·L·d² + 2·L²·d) + FFN 2·N·L·d·ff with L = {L}, N = {N}: = {m:,}"
    return LayerReport("TransformerEncoderLayer", "", list(shapes), shapes[0], {}, [
        f"src → same shape {fmt_shape(shapes[0])} (attention + feed-forward, each with a residual and LayerNorm)"],
        p, pf, 0, m, mf, [])


@register("Transformer", "attention", [*_TP, Param("num_encoder_layers", "int", 6, lo=1, hi=100),
                                       Param("num_decoder_layers", "int", 6, lo=1, hi=100), *_TE])
def _transformer(a: dict[str, Any], shapes: list[tuple[int, ...]]) -> LayerReport:
    d, h, ff, bias, bf = a["d_model"], a["nhead"], a["dim_feedforward"], a["bias"], a["batch_first"]
    if d % h:
        raise ValueError(f"Transformer: d_model {d} must be divisible by nhead {h}")
    src = shapes[0]
    tgt = shapes[1] if len(shapes) > 1 else shapes[0]
    S, N, b1 = _seq("Transformer", src, d, bf, "src")
    T, Nt, b2 = _seq("Transformer", tgt, d, bf, "tgt")
    if b1 != b2 or N != Nt:
        raise ValueError(f"Transformer: the batch number of src {fmt_shape(src)} and tgt {fmt_shape(tgt)} must be equal")
    ne, nd = a["num_encoder_layers"], a["num_decoder_layers"]
    pe, me = _enc_layer(d, h, ff, S, N, bias)
    pd, md = _dec_layer(d, h, ff, T, S, N, bias)
    norm = 2 * d if bias else d
    params = ne * pe + norm + nd * pd + norm
    pf = f"encoder {ne}·{pe:,} + norm {norm} + decoder {nd}·{pd:,} + norm {norm} = {params:,}"
    macs = ne * me + nd * md
    mf = f"encoder {ne}·{me:,} + decoder {nd}·{md:,} (self-, cross-attention, FFN) = {macs:,}"
    notes = ["input shapes: (src, tgt); one shape means tgt = src"]
    if len(shapes) == 1:
        notes.append("the notes' table shows one input (L, N, d_model); nn.Transformer takes src and tgt and "
                     "returns the tgt shape")
    return LayerReport("Transformer", "", list(shapes), tgt, {}, [
        f"output: same as tgt {fmt_shape(tgt)} (S = {S} source, T = {T} target positions)"], params, pf, 0, macs, mf, notes)


RECURRENT_LAYERS = ["RNN", "LSTM", "GRU", "MultiheadAttention", "TransformerEncoderLayer", "Transformer"]
