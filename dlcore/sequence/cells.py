"""RNN, LSTM and GRU cells written out from the notes' equations, on torch's own weights.

The notes (seed 000 §8.3.1-8.3.3, seed 003 §dl_3_1/§dl_4_1) write the cells with row vectors,
``X_t W_x· + H_{t-1} W_h· + b``; torch stores ``weight_ih`` ``(G·H, D)`` and ``weight_hh`` ``(G·H, H)``
with the gates stacked in rows (LSTM ``i, f, g, o``; GRU ``r, z, n``) and two biases. So the notes'
``W_xi`` is ``weight_ih[0:H].T``, ``W_hi`` is ``weight_hh[0:H].T`` and ``b_i = b_ii + b_hi``:

* RNN:  ``H_t = tanh(X_t W_xh + H_{t-1} W_hh + b_h)``
* LSTM: ``I, F, O = σ(X W_x· + H_{t-1} W_h· + b_·)``, ``C̃ = tanh(X W_xc + H_{t-1} W_hc + b_c)``,
  ``C_t = F ⊙ C_{t-1} + I ⊙ C̃``, ``H_t = O ⊙ tanh(C_t)``   (torch calls ``C̃`` "g")
* GRU:  ``R, Z = σ(X W_x· + H_{t-1} W_h· + b_·)``, ``H_t = Z ⊙ H_{t-1} + (1 − Z) ⊙ H̃`` with
  ``H̃ = tanh(X W_xh + (R ⊙ H_{t-1}) W_hh + b_h)`` in the notes (reset *before* the product, Cho et
  al. 2014, https://arxiv.org/abs/1406.1078) but ``n = tanh(X W_xh + b_in + R ⊙ (H_{t-1} W_hh + b_hn))``
  in torch/cuDNN (reset *after*). The two are different functions of the same weights;
  ``reset="after"`` equals ``nn.GRUCell``.

:func:`unroll` runs a whole ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` (layers, directions, batch_first)
with these cells and keeps every gate at every step; the tests check it against torch to 1e-6.
Deep RNNs (§8.3.4) feed layer ℓ's outputs to layer ℓ+1; bidirectional ones (§8.3.5) run a second
cell from the end and concatenate ``[→H_t, ←H_t]``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from dlcore.sequence.names import GATES, GRU_RESETS, CellName, GruReset

__all__ = ["CellWeights", "rnn_cell", "lstm_cell", "gru_cell", "cell_step", "Unrolled", "unroll", "torch_cell"]

_KIND_OF = {nn.RNN: "rnn", nn.LSTM: "lstm", nn.GRU: "gru", nn.RNNCell: "rnn", nn.LSTMCell: "lstm",
            nn.GRUCell: "gru"}


@dataclass
class CellWeights:
    """One cell's weights in torch's layout (gates stacked in rows).

    Shape: ``w_ih (G·H, D)``, ``w_hh (G·H, H)``, ``b_ih``/``b_hh`` ``(G·H,)`` (zeros when the module
    has ``bias=False``); G = 1 (RNN), 4 (LSTM: i, f, g, o), 3 (GRU: r, z, n).
    """

    kind: CellName
    w_ih: torch.Tensor
    w_hh: torch.Tensor
    b_ih: torch.Tensor
    b_hh: torch.Tensor
    nonlinearity: str = "tanh"

    @property
    def hidden_size(self) -> int:
        return self.w_hh.shape[1]

    @classmethod
    def from_module(cls, module: nn.Module, layer: int = 0, direction: int = 0) -> "CellWeights":
        """The weights of layer ``layer`` (0-based), direction ``direction`` (1 = reverse) of an
        ``nn.RNN``/``nn.LSTM``/``nn.GRU``, or of an ``nn.RNNCell``/``nn.LSTMCell``/``nn.GRUCell``."""
        kind = _KIND_OF.get(type(module))
        if kind is None:
            raise ValueError(f"{type(module).__name__} is not an RNN, LSTM or GRU (layer or cell)")
        if getattr(module, "proj_size", 0):
            raise ValueError("LSTM with proj_size > 0 is not written out here")
        sfx = "" if isinstance(module, nn.RNNCellBase) else f"_l{layer}" + ("_reverse" if direction else "")
        w_ih = getattr(module, f"weight_ih{sfx}", None)
        if w_ih is None:
            raise ValueError(f"{type(module).__name__} has no layer {layer} direction {direction}")
        w_hh = getattr(module, f"weight_hh{sfx}")
        b_ih = getattr(module, f"bias_ih{sfx}", None)
        b_hh = getattr(module, f"bias_hh{sfx}", None)
        zero = torch.zeros(w_ih.shape[0], dtype=w_ih.dtype, device=w_ih.device)
        nl = getattr(module, "nonlinearity", "tanh")
        return cls(kind, w_ih, w_hh, zero if b_ih is None else b_ih, zero if b_hh is None else b_hh, nl)

    def seed_form(self) -> dict[str, torch.Tensor]:
        """The notes' matrices: ``W_x·`` ``(D, H)``, ``W_h·`` ``(H, H)``, ``b_·`` ``(H,)`` per gate
        (GRU ``b_h`` is ``b_in + b_hn``, exact only for ``reset="before"``)."""
        H, names = self.hidden_size, {"rnn": "h", "lstm": "ifco", "gru": "rzh"}[self.kind]
        out: dict[str, torch.Tensor] = {}
        for k, g in enumerate(names):
            rows = slice(k * H, (k + 1) * H)
            out[f"W_x{g}"] = self.w_ih[rows].T
            out[f"W_h{g}"] = self.w_hh[rows].T
            out[f"b_{g}"] = self.b_ih[rows] + self.b_hh[rows]
        return out

    def gate(self, k: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """(W_ih rows, W_hh rows, b_ih, b_hh) of gate number ``k`` in torch's order."""
        H = self.hidden_size
        rows = slice(k * H, (k + 1) * H)
        return self.w_ih[rows], self.w_hh[rows], self.b_ih[rows], self.b_hh[rows]


def _affine(x: torch.Tensor, h: torch.Tensor, w: CellWeights, k: int) -> torch.Tensor:
    """``X_t W_x· + H_{t-1} W_h· + b_·`` for gate ``k``.   Shape ``(N, H)``."""
    wi, wh, bi, bh = w.gate(k)
    return x @ wi.T + h @ wh.T + (bi + bh)


def rnn_cell(x: torch.Tensor, h: torch.Tensor, w: CellWeights) -> dict[str, torch.Tensor]:
    """``H_t = φ(X_t W_xh + H_{t-1} W_hh + b_h)`` (φ = tanh, or ReLU for ``nonlinearity="relu"``).

    Shape: ``x (N, D)``, ``h (N, H)`` -> ``{"h": (N, H)}``.
    """
    a = _affine(x, h, w, 0)
    return {"h": torch.relu(a) if w.nonlinearity == "relu" else torch.tanh(a)}


def lstm_cell(x: torch.Tensor, h: torch.Tensor, c: torch.Tensor, w: CellWeights) -> dict[str, torch.Tensor]:
    """One LSTM step (seed 003 §dl_3_1); returns every gate and the new states.

    Shape: ``x (N, D)``, ``h, c (N, H)`` -> ``{"i", "f", "g", "o", "c", "h"}`` each ``(N, H)``.
    """
    i = torch.sigmoid(_affine(x, h, w, 0))   # 1. input gate   I_t
    f = torch.sigmoid(_affine(x, h, w, 1))   # 2. forget gate  F_t
    g = torch.tanh(_affine(x, h, w, 2))      # 3. candidate    C̃_t
    o = torch.sigmoid(_affine(x, h, w, 3))   # 4. output gate  O_t
    c_new = f * c + i * g                    # 5. C_t = F ⊙ C_{t-1} + I ⊙ C̃
    h_new = o * torch.tanh(c_new)            # 6. H_t = O ⊙ tanh(C_t)
    return {"i": i, "f": f, "g": g, "o": o, "c": c_new, "h": h_new}


def gru_cell(x: torch.Tensor, h: torch.Tensor, w: CellWeights, reset: GruReset = "after") -> dict[str, torch.Tensor]:
    """One GRU step (seed 003 §dl_4_1); ``reset="after"`` is torch's form, ``"before"`` the notes'.

    Shape: ``x (N, D)``, ``h (N, H)`` -> ``{"r", "z", "n", "h"}`` each ``(N, H)``.
    """
    if reset not in GRU_RESETS:
        raise ValueError(f"reset {reset!r} is not one of {GRU_RESETS}")
    r = torch.sigmoid(_affine(x, h, w, 0))   # 1. reset gate  R_t
    z = torch.sigmoid(_affine(x, h, w, 1))   # 2. update gate Z_t
    wi, wh, bi, bh = w.gate(2)
    if reset == "after":                     # 3. candidate H̃_t (torch: r scales W_hn h + b_hn)
        n = torch.tanh(x @ wi.T + bi + r * (h @ wh.T + bh))
    else:                                    #    (the notes: r scales h before the product)
        n = torch.tanh(x @ wi.T + (r * h) @ wh.T + bi + bh)
    h_new = z * h + (1 - z) * n              # 4. H_t = Z ⊙ H_{t-1} + (1 − Z) ⊙ H̃_t
    return {"r": r, "z": z, "n": n, "h": h_new}


def cell_step(w: CellWeights, x: torch.Tensor, h: torch.Tensor, c: torch.Tensor | None = None,
              reset: GruReset = "after") -> dict[str, torch.Tensor]:
    """One step of ``w.kind``'s cell; the keys are :data:`GATES` ``[w.kind]`` (``c`` needed for LSTM)."""
    if w.kind == "lstm":
        return lstm_cell(x, h, torch.zeros_like(h) if c is None else c, w)
    if w.kind == "gru":
        return gru_cell(x, h, w, reset)
    return rnn_cell(x, h, w)


def torch_cell(w: CellWeights) -> nn.RNNCellBase:
    """``nn.RNNCell`` / ``nn.LSTMCell`` / ``nn.GRUCell`` holding copies of these weights (for checks)."""
    cls = {"rnn": nn.RNNCell, "lstm": nn.LSTMCell, "gru": nn.GRUCell}[w.kind]
    kw = {"nonlinearity": w.nonlinearity} if w.kind == "rnn" else {}
    cell = cls(w.w_ih.shape[1], w.hidden_size, **kw).to(w.w_ih.dtype)
    with torch.no_grad():
        for name in ("w_ih", "w_hh", "b_ih", "b_hh"):
            getattr(cell, name.replace("w_", "weight_").replace("b_", "bias_")).copy_(getattr(w, name))
    return cell


@dataclass
class Unrolled:
    """A whole recurrent module run step by step with the hand-written cells.

    Attributes:
        kind: ``"rnn"``, ``"lstm"`` or ``"gru"``.
        output: last layer's ``H_t`` for every t, as torch returns it (``(N, L, D·H)`` when
            ``batch_first``, else ``(L, N, D·H)``; ``(L, D·H)`` for an unbatched input).
        h_n: ``(layers·D, N, H)`` (``(layers·D, H)`` unbatched); ``c_n`` the same for an LSTM, else None.
        traces: ``(layer, direction) -> {gate: (N, L, H)}`` with time in the input's order (also
            for the reverse direction), gates as in :data:`GATES`.
    """

    kind: str
    output: torch.Tensor
    h_n: torch.Tensor
    c_n: torch.Tensor | None
    traces: dict[tuple[int, int], dict[str, torch.Tensor]] = field(default_factory=dict)


def unroll(module: nn.RNNBase, x: torch.Tensor, hx: torch.Tensor | tuple[torch.Tensor, torch.Tensor] | None = None,
           reset: GruReset = "after") -> Unrolled:
    """Run ``module`` (``nn.RNN``/``nn.LSTM``/``nn.GRU``) on ``x`` with the hand-written cells.

    Equal to ``module(x, hx)`` (in eval mode: inter-layer dropout is not applied) for
    ``reset="after"``. Args as for the module; ``hx`` is ``h_0`` or ``(h_0, c_0)``.

    Shape: ``x`` ``(L, N, D)`` / ``(N, L, D)`` (batch_first) / ``(L, D)``; see :class:`Unrolled`.
    """
    kind = _KIND_OF.get(type(module))
    if kind is None or isinstance(module, nn.RNNCellBase):
        raise ValueError(f"unroll needs an nn.RNN, nn.LSTM or nn.GRU, got {type(module).__name__}")
    if x.ndim not in (2, 3) or x.shape[-1] != module.input_size:
        raise ValueError(f"input of shape {tuple(x.shape)} does not fit input_size {module.input_size}")
    batched = x.ndim == 3
    seq = x if not batched else (x if module.batch_first else x.transpose(0, 1))   # (N, L, D) or (L, D)
    seq = seq if batched else seq.unsqueeze(0)                                      # (N, L, D)
    n, length, hid = seq.shape[0], seq.shape[1], module.hidden_size
    dirs = 2 if module.bidirectional else 1
    h0 = c0 = None
    if hx is not None:
        h0, c0 = hx if isinstance(hx, tuple) else (hx, None)
        h0 = h0 if batched else h0.unsqueeze(1)                                     # (layers·D, N, H)
        c0 = None if c0 is None else (c0 if batched else c0.unsqueeze(1))
    zeros = seq.new_zeros(n, hid)
    layer_in, h_last, c_last = seq, [], []
    traces: dict[tuple[int, int], dict[str, torch.Tensor]] = {}
    for layer in range(module.num_layers):
        outs = []
        for d in range(dirs):
            w = CellWeights.from_module(module, layer, d)
            k = layer * dirs + d
            h = zeros if h0 is None else h0[k]
            c = zeros if c0 is None else c0[k]
            steps: list[dict[str, torch.Tensor]] = [{}] * length
            order = range(length - 1, -1, -1) if d else range(length)
            for t in order:                                      # the recurrence, one step at a time
                s = cell_step(w, layer_in[:, t], h, c, reset)
                h, c = s["h"], s.get("c", c)
                steps[t] = s
            traces[(layer, d)] = {g: torch.stack([s[g] for s in steps], 1) for g in GATES[kind]}
            outs.append(traces[(layer, d)]["h"])                 # (N, L, H)
            h_last.append(h)
            c_last.append(c)
        layer_in = torch.cat(outs, -1)                           # (N, L, D·H): [→H_t, ←H_t]
    output = layer_in if not batched else (layer_in if module.batch_first else layer_in.transpose(0, 1))
    h_n, c_n = torch.stack(h_last), torch.stack(c_last) if kind == "lstm" else None
    if not batched:
        output, h_n = output[0], h_n[:, 0]
        c_n = None if c_n is None else c_n[:, 0]
    return Unrolled(kind, output, h_n, c_n, traces)

