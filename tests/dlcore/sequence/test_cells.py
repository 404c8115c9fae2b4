"""The hand-written cells equal torch's on the same weights (1e-6), layer by layer and step by step."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from dlcore.sequence.cells import CellWeights, cell_step, gru_cell, lstm_cell, rnn_cell, torch_cell, unroll
from dlcore.sequence.inside import inside_view, sine_model
from dlcore.sequence.data import sine_task
from dlcore.sequence.names import GATES, SineConfig

TOL = dict(atol=1e-6, rtol=0)


def _xh(d: int = 3, h: int = 5, n: int = 4, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g), torch.randn(n, h, generator=g), torch.randn(n, h, generator=g)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_cell_equals_nn_rnncell(nonlinearity):
    torch.manual_seed(1)
    cell = nn.RNNCell(3, 5, nonlinearity=nonlinearity)
    x, h, _ = _xh()
    out = rnn_cell(x, h, CellWeights.from_module(cell))
    torch.testing.assert_close(out["h"], cell(x, h), **TOL)


def test_lstm_cell_equals_nn_lstmcell_gate_by_gate():
    torch.manual_seed(2)
    cell = nn.LSTMCell(3, 5)
    x, h, c = _xh()
    w = CellWeights.from_module(cell)
    out = lstm_cell(x, h, c, w)
    hr, cr = cell(x, (h, c))
    torch.testing.assert_close(out["h"], hr, **TOL)
    torch.testing.assert_close(out["c"], cr, **TOL)
    # the gates by the notes' row-vector formulas, from the seed-form matrices
    m = w.seed_form()
    i = torch.sigmoid(x @ m["W_xi"] + h @ m["W_hi"] + m["b_i"])
    f = torch.sigmoid(x @ m["W_xf"] + h @ m["W_hf"] + m["b_f"])
    g = torch.tanh(x @ m["W_xc"] + h @ m["W_hc"] + m["b_c"])
    o = torch.sigmoid(x @ m["W_xo"] + h @ m["W_ho"] + m["b_o"])
    for name, ref in zip("ifgo", (i, f, g, o)):
        torch.testing.assert_close(out[name], ref, **TOL)
    torch.testing.assert_close(out["c"], f * c + i * g, **TOL)
    assert set(out) == set(GATES["lstm"])


def test_gru_cell_reset_after_is_torch_and_reset_before_is_the_notes():
    torch.manual_seed(3)
    cell = nn.GRUCell(3, 5)
    x, h, _ = _xh()
    w = CellWeights.from_module(cell)
    torch.testing.assert_close(gru_cell(x, h, w, reset="after")["h"], cell(x, h), **TOL)
    before = gru_cell(x, h, w, reset="before")
    m = w.seed_form()
    r = torch.sigmoid(x @ m["W_xr"] + h @ m["W_hr"] + m["b_r"])
    z = torch.sigmoid(x @ m["W_xz"] + h @ m["W_hz"] + m["b_z"])
    n = torch.tanh(x @ m["W_xh"] + (r * h) @ m["W_hh"] + m["b_h"])    # seed 000 §8.3.2
    torch.testing.assert_close(before["h"], z * h + (1 - z) * n, **TOL)
    assert (before["h"] - cell(x, h)).abs().max() > 1e-3               # a different function of the weights


@pytest.mark.parametrize("kind", [nn.RNN, nn.LSTM, nn.GRU])
@pytest.mark.parametrize("layers, bidirectional, batch_first", [(1, False, True), (2, True, True), (3, False, False)])
def test_unroll_equals_the_fused_torch_layer(kind, layers, bidirectional, batch_first):
    torch.manual_seed(4)
    mod = kind(3, 6, num_layers=layers, bidirectional=bidirectional, batch_first=batch_first)
    x = torch.randn((2, 9, 3) if batch_first else (9, 2, 3))
    u = unroll(mod, x)
    out, hn = mod(x)
    torch.testing.assert_close(u.output, out, **TOL)
    torch.testing.assert_close(u.h_n, hn[0] if kind is nn.LSTM else hn, **TOL)
    if kind is nn.LSTM:
        torch.testing.assert_close(u.c_n, hn[1], **TOL)
    assert set(u.traces) == {(layer, d) for layer in range(layers) for d in range(2 if bidirectional else 1)}


def test_unroll_with_an_initial_state_and_torch_cell_round_trip():
    torch.manual_seed(5)
    mod = nn.LSTM(2, 4, batch_first=True)
    x = torch.randn(3, 7, 2)
    h0, c0 = torch.randn(1, 3, 4), torch.randn(1, 3, 4)
    torch.testing.assert_close(unroll(mod, x, (h0, c0)).output, mod(x, (h0, c0))[0], **TOL)
    w = CellWeights.from_module(mod)
    cell = torch_cell(w)
    assert isinstance(cell, nn.LSTMCell)
    s = cell_step(w, x[:, 0], h0[0], c0[0])
    torch.testing.assert_close(s["h"], cell(x[:, 0], (h0[0], c0[0]))[0], **TOL)


def test_from_module_rejects_what_it_cannot_write_out():
    with pytest.raises(ValueError, match="is not an RNN, LSTM or GRU"):
        CellWeights.from_module(nn.Linear(2, 2))
    with pytest.raises(ValueError, match="proj_size"):
        CellWeights.from_module(nn.LSTM(2, 4, proj_size=2))
    with pytest.raises(ValueError, match="no layer 3"):
        CellWeights.from_module(nn.GRU(2, 4), layer=3)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("source", ["trained", "untrained"])
def test_inside_view_checks_itself_against_torch(cell, source):
    task = sine_task(SineConfig())
    v = inside_view(sine_model(cell, source), task.x_test[3], t=7, unit=2)
    assert v.torch_diffs and max(v.torch_diffs.values()) < 1e-6, v.torch_diffs
    assert set(v.gates) == set(GATES[cell]) and all(g.shape == (20, 64) for g in v.gates.values())
    h = float(v.gates["h"][7, 2])
    assert f"{h:.4f}".replace("-", "−") in v.worked[-1]              # the last line ends in H_t[j]
    assert "step t = 8" in v.worked[0] or "t = 8" in " ".join(v.worked)


def test_inside_view_gru_notes_form_and_bad_positions():
    task = sine_task(SineConfig())
    m = sine_model("gru", "trained")
    v = inside_view(m, task.x_test[0], reset="before")
    assert v.notes_gap is not None and v.notes_gap > 1e-3 and not v.torch_diffs
    with pytest.raises(ValueError, match="step 21 does not exist"):
        inside_view(m, task.x_test[0], t=20)
    with pytest.raises(ValueError, match="unit 65 does not exist"):
        inside_view(m, task.x_test[0], unit=64)
    with pytest.raises(ValueError, match="reset 'middle'"):
        inside_view(m, task.x_test[0], reset="middle")  # type: ignore[arg-type]
