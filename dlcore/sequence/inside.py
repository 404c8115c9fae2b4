"""Inside one step: every gate of an RNN/LSTM/GRU over one sequence, with the numbers of one step.

:func:`inside_view` runs a sine predictor's recurrent layer with the hand-written cells
(:mod:`dlcore.sequence.cells`), keeps each gate for every time step (the heat maps), writes out the
notes' equations with the numbers of one step ``t`` and one hidden unit ``j``, and checks the
hand-written result against torch on the same weights: the whole sequence against ``nn.LSTM`` /
``nn.GRU`` / ``nn.RNN`` and each step against ``nn.LSTMCell`` / ``nn.GRUCell`` / ``nn.RNNCell``.
For a GRU it also runs the notes' reset-before formula and reports how far it is from torch's.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from dlcore.sequence.cells import CellWeights, torch_cell, unroll
from dlcore.sequence.models import SequenceRegressor, seeded
from dlcore.sequence.names import CELLS, GRU_RESETS, MAX_SEQ_LEN, MODEL_SOURCES, CellName, GruReset, ModelSource

__all__ = ["InsideStep", "inside_view", "sine_model", "GATE_NAMES"]

#: Gate -> the notes' name and symbol (seed 003 §dl_3_1, §dl_4_1).
GATE_NAMES: dict[str, str] = {
    "i": "input gate I_t", "f": "forget gate F_t", "g": "candidate C̃_t (torch: g)", "o": "output gate O_t",
    "c": "memory cell C_t", "h": "hidden state H_t", "r": "reset gate R_t", "z": "update gate Z_t",
    "n": "candidate H̃_t (torch: n)",
}


def sine_model(cell: CellName = "lstm", source: ModelSource = "trained", seed: int = 0) -> SequenceRegressor:
    """A sine predictor: the zoo's ``sine_<cell>`` (seed §dl_3_2's recipe) or an untrained one
    (torch's default initialisation, ``torch.manual_seed(seed)``)."""
    if cell not in CELLS:
        raise ValueError(f"cell {cell!r} is not one of {CELLS}")
    if source not in MODEL_SOURCES:
        raise ValueError(f"model source {source!r} is not one of {MODEL_SOURCES}")
    if source == "trained":
        from dlcore import zoo

        return zoo.get(f"sine_{cell}")  # type: ignore[return-value]
    return seeded(seed, lambda: SequenceRegressor(cell, 1, 64))[0].eval()


@dataclass
class InsideStep:
    """What :func:`inside_view` found.

    Attributes:
        kind, reset: the cell, and (GRU) where the reset gate acts.
        x: the input sequence ``(T,)``.
        gates: gate -> ``(T, H)`` values over time (:data:`GATES` order).
        t, unit: the step and hidden unit written out (0-based).
        worked: the equations of step ``t``, unit ``unit``, with the numbers substituted.
        torch_diffs: check -> max |hand-written − torch| (all ≈ 1e-7 in float32).
        prediction: the model's output ``W_o H_T + b_o`` for this sequence.
        notes_gap: GRU only: max |H_t(notes' reset-before) − H_t(torch's reset-after)| over the sequence.
    """

    kind: str
    reset: str
    x: torch.Tensor
    gates: dict[str, torch.Tensor]
    t: int
    unit: int
    worked: list[str]
    torch_diffs: dict[str, float]
    prediction: float
    notes_gap: float | None = None


def _f(v: torch.Tensor | float) -> str:
    """A number with 4 decimals and a true minus sign."""
    return f"{float(v):.4f}".replace("-", "−")


def _sum(*terms: float) -> str:
    """``a + b − c`` with the signs written once."""
    out = _f(terms[0])
    for v in terms[1:]:
        out += f" − {_f(-v)}" if v < 0 else f" + {_f(v)}"
    return out


def _pre(w: CellWeights, k: int, x: torch.Tensor, h: torch.Tensor, j: int) -> tuple[float, float, float]:
    """(x-part, h-part, bias) of gate ``k`` for unit ``j``: ``X_t W_x·[:, j]``, ``H_{t−1} W_h·[:, j]``, ``b_·[j]``."""
    wi, wh, bi, bh = w.gate(k)
    return float(x @ wi[j]), float(h @ wh[j]), float(bi[j] + bh[j])


def _worked(w: CellWeights, kind: str, reset: str, x: torch.Tensor, prev: dict[str, torch.Tensor],
            cur: dict[str, torch.Tensor], t: int, j: int) -> list[str]:
    H = w.hidden_size
    h0 = prev["h"]
    lines = [f"step t = {t + 1}, unit j = {j + 1} of {H}; x_t = {_f(x[0])}, "
             f"H_(t−1)[j] = {_f(h0[j])}" + (f", C_(t−1)[j] = {_f(prev['c'][j])}" if kind == "lstm" else "")]
    names = {"rnn": [("h", "tanh", "H_t", "h")],
             "lstm": [("i", "σ", "I_t", "i"), ("f", "σ", "F_t", "f"), ("g", "tanh", "C̃_t", "c"), ("o", "σ", "O_t", "o")],
             "gru": [("r", "σ", "R_t", "r"), ("z", "σ", "Z_t", "z")]}[kind]
    for k, (g, act, sym, sub) in enumerate(names):
        xp, hp, b = _pre(w, k, x, h0, j)
        lines.append(f"{sym}[j] = {act}(x_t·W_x{sub}[:, j] + H_(t−1)·W_h{sub}[:, j] + b_{sub}[j]) = "
                     f"{act}({_sum(xp, hp, b)}) = {act}({_f(xp + hp + b)}) = {_f(cur[g][j])}")
    if kind == "lstm":
        c0 = prev["c"]
        lines.append(f"C_t[j] = F_t[j]·C_(t−1)[j] + I_t[j]·C̃_t[j] = {_f(cur['f'][j])}·({_f(c0[j])}) + "
                     f"{_f(cur['i'][j])}·({_f(cur['g'][j])}) = {_f(cur['c'][j])}")
        lines.append(f"H_t[j] = O_t[j]·tanh(C_t[j]) = {_f(cur['o'][j])}·tanh({_f(cur['c'][j])}) = {_f(cur['h'][j])}")
    if kind == "gru":
        wi, wh, bi, bh = w.gate(2)
        xp = float(x @ wi[j])
        if reset == "after":
            u = float(h0 @ wh[j] + bh[j])
            lines.append(f"H̃_t[j] = tanh(x_t·W_xh[:, j] + b_in[j] + R_t[j]·(H_(t−1)·W_hh[:, j] + b_hn[j])) = "
                         f"tanh({_sum(xp, float(bi[j]))} + {_f(cur['r'][j])}·{_f(u)}) = {_f(cur['n'][j])}")
        else:
            rh = float((cur["r"] * h0) @ wh[j])
            lines.append(f"H̃_t[j] = tanh(x_t·W_xh[:, j] + (R_t ⊙ H_(t−1))·W_hh[:, j] + b_h[j]) = "
                         f"tanh({_sum(xp, rh, float(bi[j] + bh[j]))}) = {_f(cur['n'][j])}")
        lines.append(f"H_t[j] = Z_t[j]·H_(t−1)[j] + (1 − Z_t[j])·H̃_t[j] = {_f(cur['z'][j])}·({_f(h0[j])}) + "
                     f"{_f(1 - cur['z'][j])}·({_f(cur['n'][j])}) = {_f(cur['h'][j])}")
    return lines


@torch.no_grad()
def inside_view(model: SequenceRegressor, x: torch.Tensor, t: int = -1, unit: int = 0,
                reset: GruReset = "after") -> InsideStep:
    """Run ``model``'s first recurrent layer over one sequence with the hand-written cell.

    Args:
        model: a :class:`SequenceRegressor` (one layer is shown; deeper layers are in ``unroll``).
        x: one sequence ``(T,)`` or ``(T, 1)``; 1 ≤ T ≤ :data:`MAX_SEQ_LEN`.
        t: the step written out (0-based; -1 = the last).
        unit: the hidden unit written out (0-based).
        reset: GRU only: ``"after"`` (torch, checked against ``nn.GRU``) or ``"before"`` (the notes).
    """
    if reset not in GRU_RESETS:
        raise ValueError(f"reset {reset!r} is not one of {GRU_RESETS}")
    x = x.detach().float().reshape(-1, 1).cpu()                        # (T, 1)
    T = len(x)
    if not 1 <= T <= MAX_SEQ_LEN:
        raise ValueError(f"the sequence has {T} values; it needs 1 … {MAX_SEQ_LEN}")
    model = model.cpu()
    rnn = model.rnn
    w = CellWeights.from_module(rnn)
    H = w.hidden_size
    t = T - 1 if t == -1 else t
    if not 0 <= t < T:
        raise ValueError(f"step {t + 1} does not exist; the sequence has {T} steps")
    if not 0 <= unit < H:
        raise ValueError(f"unit {unit + 1} does not exist; the hidden state has {H} units")
    kind = model.cell
    single = type(rnn)(1, H, 1, batch_first=True,   # layer 0 alone, for the checks
                       **({"nonlinearity": w.nonlinearity} if kind == "rnn" else {}))
    single.load_state_dict({k: v for k, v in rnn.state_dict().items() if k.endswith("_l0")})
    hand = unroll(single, x.unsqueeze(0), reset=reset)                 # 1. the hand-written cells
    gates = {g: v[0] for g, v in hand.traces[(0, 0)].items()}          # gate -> (T, H)
    diffs: dict[str, float] = {}
    gap = None
    if kind == "gru" and reset == "before":
        ref = unroll(single, x.unsqueeze(0), reset="after")
        gap = float((ref.output - hand.output).abs().max())
    else:
        out, hn = single(x.unsqueeze(0))                               # 2. torch's fused layer
        name = type(rnn).__name__
        diffs[f"nn.{name} output (all {T} steps)"] = float((out - hand.output).abs().max())
        if kind == "lstm":
            diffs[f"nn.{name} c_n"] = float((hn[1] - hand.c_n).abs().max())
        cell = torch_cell(w)                                           # 3. torch's cell, step by step
        h = torch.zeros(1, H)
        c = torch.zeros(1, H)
        worst = 0.0
        for s in range(T):
            if kind == "lstm":
                h, c = cell(x[s:s + 1], (h, c))
            else:
                h = cell(x[s:s + 1], h)
            worst = max(worst, float((h[0] - gates["h"][s]).abs().max()))
        diffs[f"nn.{type(cell).__name__} step by step"] = worst
    zero = torch.zeros(H)
    prev = {"h": gates["h"][t - 1] if t else zero}
    if kind == "lstm":
        prev["c"] = gates["c"][t - 1] if t else zero
    cur = {g: v[t] for g, v in gates.items()}
    worked = _worked(w, kind, reset, x[t], prev, cur, t, unit)
    pred = float(model.linear(gates["h"][-1]))
    if model.rnn.num_layers > 1:
        worked.append(f"(layer 1 of {model.rnn.num_layers} shown; the prediction uses the last layer)")
        pred = float(model(x.unsqueeze(0)))
    return InsideStep(kind, reset, x[:, 0], gates, t, unit, worked, diffs, pred, gap)

