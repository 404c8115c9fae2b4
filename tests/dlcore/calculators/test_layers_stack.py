"""Recurrent MACs against an independent count, stack mode, separable conv, formulas and bad input."""

from __future__ import annotations

import warnings

import pytest
import torch
import torch.nn as nn
from torch.utils.flop_counter import FlopCounterMode

from dlcore.calculators.layers import analyze
from dlcore.calculators.separable import compare_separable
from dlcore.calculators.stack import PRESETS, analyze_stack

CELLS = {"RNN": nn.RNNCell, "GRU": nn.GRUCell, "LSTM": nn.LSTMCell}


def unrolled_flops(kind: str, H_in: int, H: int, layers: int, bidir: bool, L: int, N: int) -> int:
    """FLOPs of the same network run cell by cell (every layer, direction and time step)."""
    D = 2 if bidir else 1
    total = 0
    x = torch.randn(L, N, H_in)
    for layer in range(layers):
        in_size = H_in if layer == 0 else D * H
        outs = []
        for _ in range(D):
            cell = CELLS[kind](in_size, H)
            h = torch.zeros(N, H)
            c = torch.zeros(N, H)
            seq = []
            with FlopCounterMode(display=False) as fc:
                for t in range(L):
                    if kind == "LSTM":
                        h, c = cell(x[t], (h, c))
                    else:
                        h = cell(x[t], h)
                    seq.append(h)
            total += fc.get_total_flops()
            outs.append(torch.stack(seq))
        x = torch.cat(outs, -1)
    return total


@pytest.mark.parametrize("kind", ["RNN", "GRU", "LSTM"])
@pytest.mark.parametrize("layers,bidir", [(1, False), (2, True)])
def test_recurrent_macs_equal_unrolled_cells(kind: str, layers: int, bidir: bool) -> None:
    r = analyze(f"{kind}(3, 5, num_layers={layers}, bidirectional={bidir})", (4, 2, 3))
    assert 2 * r.macs == unrolled_flops(kind, 3, 5, layers, bidir, L=4, N=2)
    # hand formula: L·N·D·Σ G·H·(in + H)
    G = {"RNN": 1, "GRU": 3, "LSTM": 4}[kind]
    D = 2 if bidir else 1
    ins = [3] + [D * 5] * (layers - 1)
    assert r.macs == 4 * 2 * D * sum(G * 5 * (i + 5) for i in ins)


def test_flop_counter_alone_misses_fused_lstm() -> None:
    """Why recurrent MACs need their own convention: the fused kernel is counted as 0."""
    m = nn.LSTM(3, 5)
    with FlopCounterMode(display=False) as fc:
        m(torch.randn(4, 2, 3))
    assert fc.get_total_flops() == 0 < analyze("LSTM(3, 5)", (4, 2, 3)).macs


def test_rnn_h_n_shape_and_the_notes_correction() -> None:
    r = analyze("LSTM(10, 20, num_layers=2, bidirectional=True)", (5, 3, 10))
    m = nn.LSTM(10, 20, num_layers=2, bidirectional=True)
    out, (h, c) = m(torch.randn(5, 3, 10))
    assert r.extra["h_n"] == tuple(h.shape) == (4, 3, 20) != (2, 3, 5)  # not [num_layers, N, L]
    assert r.output_shape == tuple(out.shape)
    assert any("wrong" in n and "[num_layers·D, N, hidden_size]" in n for n in r.corrections)


def test_substituted_formula_like_the_issue() -> None:
    r = analyze("Conv2d(1, 1, 3, stride=2, padding=1)", (1, 1, 28, 28))
    assert "⌊(28 + 2·1 − 1·(3 − 1) − 1)/2 + 1⌋" in r.shape_steps[0] and r.shape_steps[0].endswith("= 14")


def test_presets_agree_with_torch() -> None:
    lenet_spec, lenet_shape = list(PRESETS.values())[0]
    r = analyze_stack(lenet_spec, lenet_shape)
    assert r.error_index is None and len(r.rows) == 12
    net = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(),
                        nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                        nn.Linear(84, 10))
    x = torch.randn(1, 1, 28, 28)
    with FlopCounterMode(display=False) as fc:
        y = net(x)
    assert r.output_shape == tuple(y.shape) and r.total_params == sum(p.numel() for p in net.parameters())
    assert 2 * r.total_macs == fc.get_total_flops()
    shapes = []
    h = x
    for layer in net:
        h = layer(h)
        shapes.append(tuple(h.shape))
    assert [row.output_shape for row in r.rows] == shapes

    lstm_spec, lstm_shape = list(PRESETS.values())[1]
    r = analyze_stack(lstm_spec, lstm_shape)
    lstm, lin = nn.LSTM(1, 64, batch_first=True), nn.Linear(64, 1)
    out, _ = lstm(torch.randn(32, 20, 1))
    y = lin(out[:, -1, :])
    assert r.output_shape == tuple(y.shape) == (32, 1)
    assert r.total_params == sum(p.numel() for p in [*lstm.parameters(), *lin.parameters()]) == 17217


def test_first_breaking_layer_and_torch_message() -> None:
    spec, shape = list(PRESETS.values())[2]
    r = analyze_stack(spec, shape)
    assert r.error_index == 8 and "256" in r.error and "in_features is 400" in r.error
    assert "mat1 and mat2 shapes cannot be multiplied (1x256 and 400x120)" in r.torch_error
    r = analyze_stack("Conv2d(3, 8, 3)\nBatchNorm2d(16)", "(2, 3, 8, 8)")
    assert r.error_index == 2 and "8 channels" in r.error and "num_features is 16" in r.error


def test_separable_seed_numbers() -> None:
    c = compare_separable(2, 4, 3, 3)
    assert (c.standard_params, c.separable_params) == (72, 26)
    assert c.ratio == pytest.approx(1 / 4 + 1 / 9) == pytest.approx(c.predicted_ratio)
    assert c.separable_macs / c.standard_macs == pytest.approx(c.ratio)
    dw = nn.Conv2d(2, 2, 3, groups=2, bias=False)
    pw = nn.Conv2d(2, 4, 1, bias=False)
    assert c.separable_params == sum(p.numel() for p in [*dw.parameters(), *pw.parameters()])


@pytest.mark.parametrize("layer,shape,fragment", [
    ("Conv2d(3, 8, kernel_size=5)", (1, 3, 4, 4), "kernel_size 5 (dilated extent 1·(5 − 1) + 1 = 5) is larger than the padded input"),
    ("Conv2d(3, 8, 3, groups=2)", (1, 3, 8, 8), "in_channels 3 is not divisible by groups 2"),
    ("Conv2d(3, 8, -3)", (1, 3, 8, 8), "kernel_size = -3 is below the minimum 1"),
    ("Conv2d(3, 8, 3)", (1, 4, 8, 8), "the input has 4 channels"),
    ("Conv2d(3, 8, 3, stride=2, padding='same')", (1, 3, 8, 8), "not supported for strided"),
    ("Linear(3, 4)", "(2, 0)", "must be at least 1"),
    ("Linear(3)", (2, 3), "needs the argument 'out_features'"),
    ("Linear(3, 4, colour=1)", (2, 3), "has no argument 'colour'"),
    ("Linear(3, 4)", "(" + "9, " * 7 + ")", "1 to 6 sizes"),
    ("MaxPool2d(2, padding=2)", (1, 1, 8, 8), "at most half of kernel_size"),
    ("MultiheadAttention(10, 3)", (4, 2, 10), "divisible by num_heads 3"),
    ("LSTM(3, 5, proj_size=7)", (4, 2, 3), "proj_size 7 has to be smaller"),
    ("Linear(" + "3, " * 1000 + ")", (2, 3), "the limit is 2000"),
    ("x" * 10 + "(" * 200, (2, 3), "could not be read"),
])
def test_bad_input_names_value_and_rule(layer, shape, fragment) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError) as err:
            analyze(layer, shape)
    assert fragment in str(err.value), str(err.value)


# ---- fuzz: any argument values, any shapes -> a report or a ValueError, nothing else ------
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from dlcore.calculators.layers import LAYER_NAMES  # noqa: E402
from dlcore.calculators.spec import REGISTRY  # noqa: E402

_vals = st.one_of(st.integers(-3, 9), st.sampled_from([0, 10**8, 10**30, 1.5, 2.0, float("nan"), None, True, "same",
                                                       "valid", "x", (), (2,), (2, 3), (2, 3, 4), (None, 2), (1.5, 2)]))


@settings(max_examples=int(__import__("os").environ.get("DL_LAB_HYPOTHESIS_EXAMPLES", "300")), deadline=None)
@given(name=st.sampled_from(LAYER_NAMES), data=st.data())
def test_fuzz_analyze_raises_only_value_errors(name: str, data) -> None:
    params = [p.name for p in REGISTRY[name].params] or ["inplace"]
    args = data.draw(st.lists(_vals, max_size=3))
    kw = data.draw(st.dictionaries(st.sampled_from(params), _vals, max_size=3))
    shape = data.draw(st.one_of(st.lists(st.integers(1, 6), min_size=1, max_size=5).map(tuple),
                                st.sampled_from(["(2, 3)", "((2, 3, 4), (2, 3, 4))", "()", "(0,)", "x"])))
    call = f"{name}({', '.join([repr(a) for a in args] + [f'{k}={v!r}' for k, v in kw.items()])})"
    try:
        analyze(call.replace("nan", "float('nan')"), shape)
    except ValueError:
        pass
