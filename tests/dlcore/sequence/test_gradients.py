"""‖∂h_T/∂h_t‖ from the hand-derived step Jacobians equals autograd's; clipping bounds the update."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from dlcore.sequence.cells import CellWeights, cell_step
from dlcore.sequence.gradients import clipping_runs, hidden_jacobians, matrix_norm, step_jacobian
from dlcore.sequence.names import ClipConfig


def _weights(kind, seed=0, h=6, scale=1.0):
    torch.manual_seed(seed)
    mod = {"rnn": nn.RNNCell, "lstm": nn.LSTMCell, "gru": nn.GRUCell}[kind](2, h).double()
    with torch.no_grad():
        mod.weight_hh.mul_(scale)
    return CellWeights.from_module(mod)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_one_step_jacobian_equals_autograd(kind):
    w = _weights(kind, 1)
    g = torch.Generator().manual_seed(0)
    x, h, c = (torch.randn(2, generator=g, dtype=torch.float64), torch.randn(6, generator=g, dtype=torch.float64),
               torch.randn(6, generator=g, dtype=torch.float64))
    s = cell_step(w, x[None], h[None], c[None] if kind == "lstm" else None)
    J = step_jacobian(w, {k: v[0] for k, v in s.items()}, h, c if kind == "lstm" else None)
    if kind == "lstm":
        def f(state):
            o = cell_step(w, x[None], state[None, :6], state[None, 6:])
            return torch.cat([o["h"][0], o["c"][0]])
        ref = torch.autograd.functional.jacobian(f, torch.cat([h, c]))
    else:
        ref = torch.autograd.functional.jacobian(lambda hh: cell_step(w, x[None], hh[None])["h"][0], h)
    torch.testing.assert_close(J, ref, atol=1e-10, rtol=0)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("norm", ["spectral", "frobenius"])
def test_norms_over_time_equal_autograd(kind, norm):
    w = _weights(kind, 2)
    x = torch.randn(25, 2, generator=torch.Generator().manual_seed(1))
    j = hidden_jacobians(w, x, norm=norm)
    assert j.max_abs_diff < 1e-6
    torch.testing.assert_close(j.hand, j.autograd, atol=1e-6, rtol=1e-6)
    assert j.hand.shape == (26,) and float(j.hand[-1]) == pytest.approx(1.0 if norm == "spectral" else math.sqrt(6))
    assert j.step_norms.shape == (25,)
    assert (j.cell_path is not None) == (kind == "lstm")


def test_a_small_recurrent_matrix_vanishes_and_a_large_one_explodes():
    x = torch.zeros(40, 2)
    small = hidden_jacobians(_weights("rnn", 3, h=8, scale=0.5), x)
    assert float(small.hand[0]) < 1e-6                               # ‖W_hh‖ < 1: vanishes geometrically
    w = _weights("rnn", 3, h=8, scale=6.0)
    big = hidden_jacobians(w, x)
    assert float(big.hand[0]) > 1e3                                  # ‖W_hh‖ ≫ 1: grows (tanh' < 1 slows it)
    assert (big.step_norms <= matrix_norm(w.w_hh) + 1e-9).all()      # ‖diag(1 − h²) W_hh‖ ≤ ‖W_hh‖


def test_lstm_cell_path_is_the_product_of_forget_gates():
    w = _weights("lstm", 4)
    x = torch.randn(10, 2, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    j = hidden_jacobians(w, x)
    h = torch.zeros(1, 6, dtype=torch.float64)
    c = torch.zeros(1, 6, dtype=torch.float64)
    fs = []
    for t in range(10):
        s = cell_step(w, x[t:t + 1], h, c)
        h, c = s["h"], s["c"]
        fs.append(s["f"][0])
    for t in range(10):
        prod = torch.stack(fs[t:]).prod(0) if t < 10 else torch.ones(6)
        assert float(j.cell_path[t]) == pytest.approx(float(prod.detach().abs().max()), rel=1e-9)  # ‖diag‖₂ = max |·|


def test_bad_sequences_and_norms_are_named():
    w = _weights("rnn")
    with pytest.raises(ValueError, match="one sequence"):
        hidden_jacobians(w, torch.zeros(3))
    with pytest.raises(ValueError, match="norm 'max'"):
        hidden_jacobians(w, torch.zeros(3, 2), norm="max")  # type: ignore[arg-type]


def test_clipping_keeps_an_exploding_rnn_in_check():
    runs = None
    for runs in clipping_runs(ClipConfig(epochs=1)):
        pass
    plain, clipped = runs
    assert plain.label == "no clipping" and clipped.threshold == 1.0
    assert len(plain.step_loss) == len(clipped.step_loss) > 0 and len(clipped.grad_norm) == len(clipped.step_loss)
    assert max(plain.grad_norm) > 10 * clipped.threshold           # ρ = 2 explodes the gradient
    assert clipped.clipped_steps > 0 and plain.clipped_steps == 0
    # same start, same batches: the first step's gradient is the same before clipping
    assert clipped.grad_norm[0] == pytest.approx(plain.grad_norm[0], rel=1e-6)
    assert min(clipped.step_loss[-5:]) < max(plain.step_loss)
