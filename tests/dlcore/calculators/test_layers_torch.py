"""The layer calculator against torch itself: for random configurations of every layer type,
output shape(s), parameter count and MACs equal what torch builds and computes, and every
configuration torch rejects is rejected by us with a ValueError."""

from __future__ import annotations

import os
import warnings
from typing import Any

import pytest
import torch
import torch.nn as nn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch.utils.flop_counter import FlopCounterMode

from dlcore.calculators.layers import LAYER_NAMES, analyze

# DL_LAB_HYPOTHESIS_EXAMPLES=2000 for a long hunt; CI runs the modest default
SETTINGS = settings(max_examples=int(os.environ.get("DL_LAB_HYPOTHESIS_EXAMPLES", "60")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def _call(name: str, args: list[Any], kwargs: dict[str, Any]) -> str:
    parts = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
    return f"{name}({', '.join(parts)})"


def _flops(m: nn.Module, inputs: list[torch.Tensor]) -> int:
    with FlopCounterMode(display=False) as fc:
        m(*inputs)
    return fc.get_total_flops()


def compare(name: str, args: list[Any], kwargs: dict[str, Any], shapes: list[tuple[int, ...]],
            *, flops: bool = True, long_input: bool = False) -> str:
    """Run torch and the calculator on the same config; return "ok" or "rejected"."""
    call = _call(name, args, kwargs)
    torch_err: Exception | None = None
    out: Any = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            m = getattr(nn, name)(*args, **kwargs)
            m.eval()
            gen = torch.Generator().manual_seed(0)
            xs = [torch.randint(0, args[0], s, generator=gen) if long_input else torch.randn(s, generator=gen)
                  for s in shapes]
            with torch.no_grad():
                out = m(*xs)
        except Exception as exc:  # noqa: BLE001 - torch's own rejection is what we compare with
            torch_err = exc
    ours: ValueError | None = None
    try:
        rep = analyze(call, shapes if len(shapes) > 1 else shapes[0])
    except ValueError as exc:
        ours = exc
    if torch_err is not None:
        assert ours is not None, f"torch rejects {call} on {shapes} ({torch_err}) but the calculator accepts it"
        return "rejected"
    main = out[0] if isinstance(out, tuple) else out
    if ours is not None and main.numel() == 0:
        # torch is inconsistent here (ConvTranspose1d: an empty output for N > 1, "Output size
        # is too small" for N = 1); the calculator always rejects an empty output
        return "rejected"
    if ours is not None and name == "AdaptiveAvgPool2d" and len(shapes[0]) == 2:
        return "rejected"  # torch accepts a 2-D input only for output_size=1 (int); we always want (C, H, W)
    assert ours is None, f"torch accepts {call} on {shapes} but the calculator says: {ours}"
    main = out[0] if isinstance(out, tuple) else out
    assert rep.output_shape == tuple(main.shape), (call, shapes)
    assert rep.params == sum(p.numel() for p in m.parameters()), call
    assert rep.buffers == sum(b.numel() for b in m.buffers()), call
    if name in ("LSTM",):
        assert rep.extra["h_n"] == tuple(out[1][0].shape) and rep.extra["c_n"] == tuple(out[1][1].shape)
    elif name in ("RNN", "GRU"):
        assert rep.extra["h_n"] == tuple(out[1].shape)
    elif name == "MultiheadAttention":
        assert rep.extra["attn_weights"] == tuple(out[1].shape)
    if flops:
        if "Transformer" in name or name == "MultiheadAttention":
            m.train()  # the eval fast paths of attention have no flop formula
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            counted = _flops(m, xs)
        if name in ("TransformerEncoderLayer", "Transformer"):
            # these call scaled_dot_product_attention, whose CPU kernel has no flop formula:
            # add QKᵀ and AV by hand, 2·N·L·S·E MACs per attention block
            counted += 2 * sdpa_macs(name, kwargs, shapes, args)
        assert counted == 2 * rep.macs, call
    return "ok"


def sdpa_macs(name: str, kw: dict[str, Any], shapes: list[tuple[int, ...]], args: list[Any]) -> int:
    bf = kw.get("batch_first", False)
    def ln(s: tuple[int, ...]) -> tuple[int, int, int]:
        return (s[1], s[0], s[2]) if bf else (s[0], s[1], s[2])
    if name == "TransformerEncoderLayer":
        L, N, E = ln(shapes[0])
        return 2 * N * L * L * E
    S, N, E = ln(shapes[0])
    T = ln(shapes[1])[0]
    ne, nd = kw.get("num_encoder_layers", 6), kw.get("num_decoder_layers", 6)
    return ne * 2 * N * S * S * E + nd * (2 * N * T * T * E + 2 * N * T * S * E)


# ---- strategies -------------------------------------------------------------------------
small = st.integers(1, 4)


@st.composite
def conv_cfg(draw: st.DrawFn) -> tuple:
    n = draw(st.integers(1, 3))
    g = draw(st.sampled_from([1, 1, 2, 3]))
    cin, cout = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    kw: dict[str, Any] = {"stride": draw(st.integers(1, 3)), "dilation": draw(st.integers(1, 2)), "groups": g,
                          "padding": draw(st.one_of(st.integers(0, 2), st.sampled_from(["same", "valid"]))),
                          "bias": draw(st.booleans())}
    if draw(st.booleans()):
        kw["padding_mode"] = draw(st.sampled_from(["reflect", "replicate", "circular"]))
    k = draw(st.one_of(small, st.tuples(*[small] * n)))
    sp = tuple(draw(st.integers(1, 8)) for _ in range(n))
    lead = (draw(st.integers(1, 2)),) if draw(st.booleans()) else ()
    c = cin if draw(st.integers(0, 9)) else draw(st.integers(1, 6))
    return f"Conv{n}d", [cin, cout, k], kw, [lead + (c,) + sp]


@st.composite
def tconv_cfg(draw: st.DrawFn) -> tuple:
    n = draw(st.integers(1, 2))
    g = draw(st.sampled_from([1, 1, 2]))
    cin, cout = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    kw = {"stride": draw(st.integers(1, 3)), "padding": draw(st.integers(0, 2)), "dilation": draw(st.integers(1, 2)),
          "output_padding": draw(st.integers(0, 2)), "groups": g}
    sp = tuple(draw(st.integers(1, 6)) for _ in range(n))
    return f"ConvTranspose{n}d", [cin, cout, draw(small)], kw, [(draw(st.integers(1, 2)), cin) + sp]


@st.composite
def pool_cfg(draw: st.DrawFn) -> tuple:
    n, mode = draw(st.integers(1, 2)), draw(st.sampled_from(["Max", "Avg"]))
    kw: dict[str, Any] = {"padding": draw(st.integers(0, 2)), "ceil_mode": draw(st.booleans())}
    if draw(st.booleans()):
        kw["stride"] = draw(st.integers(1, 3))
    if mode == "Max":
        kw["dilation"] = draw(st.integers(1, 2))
    sp = tuple(draw(st.integers(1, 8)) for _ in range(n))
    lead = draw(st.sampled_from([(2,), (1, 2)]))
    return f"{mode}Pool{n}d", [draw(st.one_of(small, st.tuples(*[small] * n)))], kw, [lead + sp]


@st.composite
def simple_cfg(draw: st.DrawFn) -> tuple:
    kind = draw(st.sampled_from(["Linear", "Flatten", "Softmax", "ReLU", "GELU", "Dropout", "AdaptiveAvgPool2d",
                                 "LayerNorm", "GroupNorm", "BatchNorm1d", "BatchNorm2d", "InstanceNorm1d"]))
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=1, max_size=4)))
    f = draw(st.integers(1, 5))
    if kind == "Linear":
        return kind, [f, draw(st.integers(1, 5))], {"bias": draw(st.booleans())}, [shape]
    if kind == "Flatten":
        return kind, [], {"start_dim": draw(st.integers(-4, 3)), "end_dim": draw(st.integers(-4, 3))}, [shape]
    if kind == "Softmax":
        return kind, [], {"dim": draw(st.integers(-4, 3))}, [shape]
    if kind == "AdaptiveAvgPool2d":
        return kind, [draw(st.one_of(small, st.tuples(small, small)))], {}, [shape]
    if kind == "LayerNorm":
        return kind, [tuple(draw(st.lists(st.integers(1, 5), min_size=1, max_size=2)))], {}, [shape]
    if kind == "GroupNorm":
        return kind, [draw(st.integers(1, 3)), f], {"affine": draw(st.booleans())}, [shape]
    if kind.startswith(("BatchNorm", "InstanceNorm")):
        return kind, [f], {"affine": draw(st.booleans())}, [shape]
    return kind, [], {}, [shape]


@st.composite
def rnn_cfg(draw: st.DrawFn) -> tuple:
    kind = draw(st.sampled_from(["RNN", "LSTM", "GRU"]))
    H_in, H = draw(st.integers(1, 5)), draw(st.integers(1, 6))
    kw: dict[str, Any] = {"num_layers": draw(st.integers(1, 3)), "bidirectional": draw(st.booleans()),
                          "batch_first": draw(st.booleans()), "bias": draw(st.booleans())}
    if kind == "LSTM" and draw(st.booleans()):
        kw["proj_size"] = draw(st.integers(0, 6))
    d = H_in if draw(st.integers(0, 5)) else draw(st.integers(1, 5))
    shape = draw(st.sampled_from([(3, 2, d), (4, d), (2, 3, 2, d)]))
    return kind, [H_in, H], kw, [shape]


@st.composite
def attn_cfg(draw: st.DrawFn) -> tuple:
    h = draw(st.integers(1, 3))
    E = h * draw(st.integers(1, 3)) + (draw(st.integers(0, 1)) if draw(st.integers(0, 5)) == 0 else 0)
    bf = draw(st.booleans())
    L, S, N = draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(1, 3))
    kind = draw(st.sampled_from(["MultiheadAttention", "TransformerEncoderLayer"]))
    if kind == "TransformerEncoderLayer":
        return kind, [E, h], {"dim_feedforward": draw(st.integers(1, 8)), "batch_first": bf, "dropout": 0.0}, \
            [(N, L, E) if bf else (L, N, E)]
    q = (N, L, E) if bf else (L, N, E)
    kv = (N, S, E) if bf else (S, N, E)
    return kind, [E, h], {"batch_first": bf, "bias": draw(st.booleans())}, [q, kv, kv]


@st.composite
def more_cfg(draw: st.DrawFn) -> tuple:
    """The remaining layer types: Embedding, 3-D/instance norms, 1-D adaptive pooling, MHA with
    kdim/vdim, the full Transformer, and the parameter-free activations."""
    kind = draw(st.sampled_from(["Embedding", "BatchNorm3d", "InstanceNorm2d", "AdaptiveAvgPool1d",
                                 "MultiheadAttention", "Transformer", "Sigmoid", "Tanh"]))
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=5)))
    if kind == "Embedding":
        n = draw(st.integers(1, 6))
        return kind, [n, draw(st.integers(1, 4))], {"padding_idx": draw(st.one_of(st.none(), st.integers(-7, 7)))}, [shape]
    if kind in ("BatchNorm3d", "InstanceNorm2d"):
        kw = {"affine": draw(st.booleans())} | ({"track_running_stats": draw(st.booleans())} if kind[0] == "I" else {})
        return kind, [draw(st.integers(1, 4))], kw, [shape]
    if kind == "AdaptiveAvgPool1d":
        return kind, [draw(st.integers(1, 4))], {}, [shape]
    if kind == "MultiheadAttention":
        h = draw(st.integers(1, 2))
        E, kd, vd = 2 * h, draw(st.integers(1, 4)), draw(st.integers(1, 4))
        L, S, N = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 2))
        return kind, [E, h], {"kdim": kd, "vdim": vd}, [(L, N, E), (S, N, kd), (S, N, vd)]
    if kind == "Transformer":
        d, h = 4, draw(st.sampled_from([1, 2, 3]))
        bf = draw(st.booleans())
        S, T, N = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 2))
        Nt = N if draw(st.integers(0, 4)) else N + 1
        kw = {"d_model": d, "nhead": h, "num_encoder_layers": draw(st.integers(0, 2)),
              "num_decoder_layers": draw(st.integers(1, 2)), "dim_feedforward": draw(st.integers(1, 6)),
              "dropout": 0.0, "batch_first": bf, "bias": draw(st.booleans())}
        src, tgt = ((N, S, d), (Nt, T, d)) if bf else ((S, N, d), (T, Nt, d))
        return kind, [], kw, [src, tgt]
    return kind, [], {}, [shape]


@pytest.mark.parametrize("strategy", [conv_cfg(), tconv_cfg(), pool_cfg(), simple_cfg(), rnn_cfg(), attn_cfg(),
                                      more_cfg()],
                         ids=["conv", "tconv", "pool", "simple", "rnn", "attention", "more"])
def test_random_configs_agree_with_torch(strategy: st.SearchStrategy) -> None:
    @SETTINGS
    @given(strategy)
    def run(cfg: tuple) -> None:
        name, args, kw, shapes = cfg
        compare(name, args, kw, shapes, flops=name not in ("RNN", "LSTM", "GRU", "Embedding"),
                long_input=name == "Embedding")
    run()


@pytest.mark.parametrize("name,args,kw,shapes", [
    ("Embedding", [10, 3], {"padding_idx": 0}, [(2, 5)]),
    ("InstanceNorm2d", [3], {"affine": True}, [(2, 3, 4, 4)]),
    ("BatchNorm3d", [2], {}, [(2, 2, 3, 3, 3)]),
    ("Conv3d", [2, 4, 3], {"padding": 1, "groups": 2}, [(1, 2, 5, 5, 5)]),
    ("AdaptiveAvgPool1d", [3], {}, [(2, 4, 7)]),
    ("Sigmoid", [], {}, [(2, 3)]), ("Tanh", [], {}, [(4,)]),
    ("Transformer", [], {"d_model": 8, "nhead": 2, "num_encoder_layers": 1, "num_decoder_layers": 2,
                         "dim_feedforward": 16, "dropout": 0.0}, [(5, 2, 8), (3, 2, 8)]),
    ("MultiheadAttention", [6, 2], {"kdim": 4, "vdim": 5}, [(3, 2, 6), (4, 2, 4), (4, 2, 5)]),
])
def test_remaining_layers(name: str, args: list, kw: dict, shapes: list) -> None:
    assert compare(name, args, kw, shapes, long_input=name == "Embedding", flops=name != "Embedding") == "ok"


def test_every_registered_layer_is_exercised() -> None:
    covered = {"Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "MaxPool1d", "MaxPool2d",
               "AvgPool1d", "AvgPool2d", "Linear", "Flatten", "Softmax", "ReLU", "GELU", "Dropout",
               "AdaptiveAvgPool2d", "LayerNorm", "GroupNorm", "BatchNorm1d", "BatchNorm2d", "InstanceNorm1d",
               "RNN", "LSTM", "GRU", "MultiheadAttention", "TransformerEncoderLayer", "Embedding",
               "InstanceNorm2d", "BatchNorm3d", "AdaptiveAvgPool1d", "Sigmoid", "Tanh", "Transformer"}
    assert set(LAYER_NAMES) == covered
