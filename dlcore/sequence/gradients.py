"""Vanishing gradients through time: ‖∂h_T/∂h_t‖ from hand-derived step Jacobians, checked by autograd.

Seed 003 §dl_9: ``∂L_T/∂s_t = ∂L_T/∂s_T · Π_{k=t+1..T} ∂s_k/∂s_{k-1}`` -- a product of one Jacobian
per step. For each cell the step Jacobian ``J_k = ∂s_k/∂s_{k-1}`` is written out here (column
vectors, torch's ``W_hh`` of shape ``(G·H, H)``; ``σ' = σ(1 − σ)``, ``tanh' = 1 − tanh²``):

* RNN:  ``J = diag(1 − h_k²) · W_hh``   (the notes' ``W_s^T diag(f')`` in row-vector form)
* GRU (torch's reset-after form, ``u = W_hn h + b_hn``):
  ``∂h_k/∂h = diag(z) + diag(h − n)·diag(σ'(z))·W_hz + diag(1 − z)·diag(1 − n²)·(diag(u)·diag(σ'(r))·W_hr + diag(r)·W_hn)``
* LSTM, state ``s = [h; c]`` (2H):
  ``∂c_k/∂c = diag(f)``  (the seed's point: only a gate, no matrix),
  ``∂c_k/∂h = diag(c_{k−1} σ'(f)) W_hf + diag(g σ'(i)) W_hi + diag(i (1 − g²)) W_hg``,
  ``∂h_k/∂· = diag(tanh(c_k) σ'(o)) W_ho [for h] + diag(o (1 − tanh² c_k)) ∂c_k/∂·``.

``∂h_T/∂h_t`` is the top-left block of ``J_T ⋯ J_{t+1}`` (for an LSTM: with ``c_t`` held fixed, which is
what autograd's gradient with respect to the tensor ``h_t`` is). :func:`hidden_jacobians` returns its
norm for every t next to autograd's (``torch.autograd.grad`` through ``nn.RNNCell``/``nn.LSTMCell``/
``nn.GRUCell`` with the same weights). Pascanu et al. 2013, https://arxiv.org/abs/1211.5063.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from typing import Iterator

import torch

from dlcore.sequence.cells import CellWeights, cell_step, torch_cell
from dlcore.sequence.names import MAX_SEQ_LEN, NORMS, ClipConfig, GruReset, NormName
from dlcore.train.runtime import torch_threads

__all__ = ["step_jacobian", "JacobianNorms", "hidden_jacobians", "matrix_norm", "ClipRun", "GradNormMeter",
           "clipping_runs"]


def matrix_norm(m: torch.Tensor, norm: NormName = "spectral") -> torch.Tensor:
    """Spectral norm (largest singular value: the most a vector can grow) or Frobenius norm of a
    matrix, or of each matrix in a stack.   Shape ``(..., R, C)`` -> ``(...)``."""
    if norm not in NORMS:
        raise ValueError(f"norm {norm!r} is not one of {NORMS}")
    return torch.linalg.matrix_norm(m, ord=2 if norm == "spectral" else "fro")


def _dsig(s: torch.Tensor) -> torch.Tensor:
    return s * (1 - s)


def step_jacobian(w: CellWeights, s: dict[str, torch.Tensor], h_prev: torch.Tensor, c_prev: torch.Tensor | None = None,
                  reset: GruReset = "after") -> torch.Tensor:
    """``∂s_k/∂s_{k−1}`` of one step of one sequence, from that step's gates ``s`` (:func:`cell_step`).

    Shape: ``h_prev (H,)`` -> ``(H, H)`` (RNN, GRU) or ``(2H, 2H)`` for the LSTM state ``[h; c]``.
    """
    H = w.hidden_size
    D = torch.diag
    if w.kind == "rnn":
        fprime = (s["h"] > 0).to(h_prev.dtype) if w.nonlinearity == "relu" else 1 - s["h"] ** 2
        return D(fprime) @ w.w_hh                                          # diag(φ'(a_k)) W_hh
    if w.kind == "gru":
        r, z, n = s["r"], s["z"], s["n"]
        whr, whz, whn = w.w_hh[:H], w.w_hh[H:2 * H], w.w_hh[2 * H:]
        dr, dz = D(_dsig(r)) @ whr, D(_dsig(z)) @ whz                      # ∂r/∂h, ∂z/∂h
        if reset == "after":
            u = whn @ h_prev + w.b_hh[2 * H:]
            dn = D(1 - n ** 2) @ (D(u) @ dr + D(r) @ whn)                  # ∂n/∂h
        else:
            dn = D(1 - n ** 2) @ whn @ (D(r) + D(h_prev) @ dr)
        return D(z) + D(h_prev - n) @ dz + D(1 - z) @ dn                  # h_k = z h + (1 − z) n
    i, f, g, o, c = s["i"], s["f"], s["g"], s["o"], s["c"]
    whi, whf, whg, who = (w.w_hh[k * H:(k + 1) * H] for k in range(4))
    assert c_prev is not None
    dc_dh = D(c_prev * _dsig(f)) @ whf + D(g * _dsig(i)) @ whi + D(i * (1 - g ** 2)) @ whg
    dc_dc = D(f)
    tc = torch.tanh(c)
    dh_dh = D(tc * _dsig(o)) @ who + D(o * (1 - tc ** 2)) @ dc_dh
    dh_dc = D(o * (1 - tc ** 2)) @ dc_dc
    return torch.cat([torch.cat([dh_dh, dh_dc], 1), torch.cat([dc_dh, dc_dc], 1)], 0)


@dataclass
class JacobianNorms:
    """``‖∂h_T/∂h_t‖`` for t = 0 (the initial state) … T, by hand and by autograd.

    Attributes:
        kind, norm: the cell and the matrix norm used.
        hand: ``(T+1,)`` norms from the product of the hand-derived step Jacobians (t = T gives 1).
        autograd: ``(T+1,)`` the same from ``torch.autograd.grad`` through torch's cell.
        max_abs_diff: the largest entry-wise difference of the two Jacobian *matrices*, over all t.
        step_norms: ``(T,)`` ``‖J_k‖`` of each factor ``∂s_k/∂s_{k−1}``, k = 1 … T.
        cell_path: LSTM only, ``(T+1,)`` ``‖Π_{k>t} diag(f_k)‖``: the seed's ``∂C_T/∂C_t`` along the
            cell line alone; None for RNN/GRU.
    """

    kind: str
    norm: str
    hand: torch.Tensor
    autograd: torch.Tensor
    max_abs_diff: float
    step_norms: torch.Tensor
    cell_path: torch.Tensor | None


def _autograd_jacobians(w: CellWeights, x: torch.Tensor, h0: torch.Tensor, reset: GruReset) -> list[torch.Tensor]:
    """``∂h_T/∂h_t`` (H, H) for t = 0 … T with torch's own cell and autograd."""
    H = w.hidden_size
    cell = torch_cell(w) if (w.kind != "gru" or reset == "after") else None
    h = h0.clone().requires_grad_(True)
    c = torch.zeros(1, H, dtype=x.dtype) if w.kind == "lstm" else None
    hs = [h]
    for t in range(len(x)):
        xt = x[t:t + 1]
        if cell is None:
            h = cell_step(w, xt, h, None, reset)["h"]           # the notes' GRU: no torch cell exists
        elif w.kind == "lstm":
            h, c = cell(xt, (h, c))
        else:
            h = cell(xt, h)
        hs.append(h)
    eye = torch.eye(H, dtype=x.dtype).unsqueeze(1)               # (H, 1, H): one backward per unit of h_T
    grads = torch.autograd.grad(hs[-1], hs, grad_outputs=eye, is_grads_batched=True, allow_unused=True)
    return [torch.zeros(H, H, dtype=x.dtype) if g is None else g[:, 0] for g in grads]   # row j = ∂h_T[j]/∂h_t


def hidden_jacobians(w: CellWeights, x: torch.Tensor, h0: torch.Tensor | None = None, norm: NormName = "spectral",
                     reset: GruReset = "after") -> JacobianNorms:
    """``‖∂h_T/∂h_t‖`` over t for one input sequence, by hand and by autograd (float64 inside).

    Args:
        w: the cell's weights (:meth:`CellWeights.from_module`).
        x: one sequence, ``(T, D)``; T ≤ :data:`MAX_SEQ_LEN`.
        h0: initial hidden state ``(H,)`` (default zeros; the LSTM's c_0 is zeros).
        norm: ``"spectral"`` (default) or ``"frobenius"``.
        reset: GRU only, ``"after"`` (torch) or ``"before"`` (the notes).
    """
    if x.ndim != 2 or not 1 <= len(x) <= MAX_SEQ_LEN:
        raise ValueError(f"x must be one sequence (T, D) with 1 ≤ T ≤ {MAX_SEQ_LEN}, got shape {tuple(x.shape)}")
    if norm not in NORMS:
        raise ValueError(f"norm {norm!r} is not one of {NORMS}")
    with torch_threads(1):  # tiny matrices: one thread is fastest (and does not spin on a busy CPU)
        return _hidden_jacobians(w, x, h0, norm, reset)


def _hidden_jacobians(w: CellWeights, x: torch.Tensor, h0: torch.Tensor | None, norm: NormName,
                      reset: GruReset) -> JacobianNorms:
    w = CellWeights(w.kind, *(t.detach().double() for t in (w.w_ih, w.w_hh, w.b_ih, w.b_hh)), w.nonlinearity)
    x = x.detach().double()
    H = w.hidden_size
    h = (torch.zeros(1, H, dtype=torch.float64) if h0 is None else h0.detach().double().reshape(1, H))
    start = h.clone()
    c = torch.zeros(1, H, dtype=torch.float64)
    steps, fs = [], []
    with torch.no_grad():
        for t in range(len(x)):                     # 1. forward, keeping each step's gates
            s = cell_step(w, x[t:t + 1], h, c, reset)
            steps.append(step_jacobian(w, {k: v[0] for k, v in s.items()}, h[0], c[0], reset))
            if w.kind == "lstm":
                fs.append(s["f"][0])
            h, c = s["h"], s.get("c", c)
        size = steps[0].shape[0]
        prod = torch.eye(size, dtype=torch.float64)
        blocks = [prod[:H, :H].clone()]
        for J in reversed(steps):                   # 2. P_{t-1} = P_t · J_t, from t = T down to 1
            prod = prod @ J
            blocks.append(prod[:H, :H].clone())
        blocks.reverse()                            # blocks[t] = ∂h_T/∂h_t, t = 0 … T
    auto = _autograd_jacobians(w, x, start, reset)  # 3. the reference
    cell_path = None
    if w.kind == "lstm":
        f = torch.stack(fs)                         # (T, H)
        tail = torch.cat([torch.flip(torch.cumprod(torch.flip(f, [0]), 0), [0]), torch.ones(1, H, dtype=f.dtype)])
        cell_path = tail.abs().amax(1) if norm == "spectral" else tail.norm(dim=1)   # norms of diagonal matrices
    hand, ref = torch.stack(blocks), torch.stack(auto)         # (T+1, H, H)
    return JacobianNorms(w.kind, norm, matrix_norm(hand, norm), matrix_norm(ref, norm),
                         float((hand - ref).abs().max()), matrix_norm(torch.stack(steps)[:, :H, :H], norm), cell_path)


# -- gradient clipping ------------------------------------------------------------------------------
@dataclass
class ClipRun:
    """One training run: per-step loss and the total gradient norm ``‖g‖`` *before* clipping."""

    label: str
    threshold: float
    step_loss: list[float]
    grad_norm: list[float]
    status: str = "running"
    message: str = ""
    val_loss: list[float] = field(default_factory=list)

    @property
    def clipped_steps(self) -> int:
        """Steps where ``‖g‖ > τ`` (the update was rescaled)."""
        return sum(g > self.threshold for g in self.grad_norm) if self.threshold > 0 else 0


class GradNormMeter:
    """Trainer callback recording ``‖g‖₂`` over all parameters after each backward, before clipping
    (post-accumulate-grad hooks run inside ``loss.backward()``, before ``clip_grad_norm_``)."""

    def __init__(self, model: torch.nn.Module, out: list[float]) -> None:
        self.sq, self.out = 0.0, out
        self.handles = [p.register_post_accumulate_grad_hook(self._add) for p in model.parameters()
                        if p.requires_grad]

    def _add(self, p: torch.Tensor) -> None:
        self.sq += float(p.grad.detach().double().pow(2).sum())  # type: ignore[union-attr]

    def on_step(self, trainer: object, log: object) -> None:
        self.out.append(math.sqrt(self.sq))
        self.sq = 0.0

    def on_epoch_end(self, trainer: object, log: object) -> None:
        return None

    def close(self) -> None:
        for h in self.handles:
            h.remove()


def clipping_runs(cfg: ClipConfig | None = None, stop_event: threading.Event | None = None) -> Iterator[list[ClipRun]]:
    """Train the same model (same start, same batches) without clipping, then with ``‖g‖ ≤ τ``.

    Yields the list of runs after every epoch (and when a run ends); a stop ends both.
    """
    from dlcore.sequence.data import SeedShuffleLoader, sine_windows
    from dlcore.sequence.models import SequenceRegressor, seeded
    from dlcore.train import TrainConfig, Trainer

    cfg = (cfg or ClipConfig()).validate()
    task = sine_windows(cfg.window)
    stop = stop_event or threading.Event()
    runs: list[ClipRun] = []
    for tau in (0.0, cfg.threshold):
        model, state = seeded(cfg.seed, lambda: SequenceRegressor(cfg.cell, 1, cfg.hidden_size))
        with torch.no_grad():
            for name, p in model.rnn.named_parameters():
                if name.startswith("weight_hh"):
                    p.mul_(cfg.recurrent_scale)                        # W_hh ← ρ·W_hh
        run = ClipRun("no clipping" if tau == 0 else f"clipped at τ = {tau:g}", tau, [], [])
        runs.append(run)
        meter = GradNormMeter(model, run.grad_norm)
        tc = TrainConfig(task="regression", optimizer=cfg.optimizer, lr=cfg.lr, epochs=cfg.epochs,
                         clip_grad_norm=tau, num_threads=1)
        trainer = Trainer(model, SeedShuffleLoader(task.x_train, task.y_train, 32, state, eval_draws=0),
                          (task.x_test, task.y_test), tc, callbacks=[meter], stop_event=stop)
        for log in trainer.steps():
            run.step_loss.append(log.loss)
            if log.epoch_log is not None:
                run.val_loss.append(log.epoch_log.val_loss)
                yield runs
        meter.close()
        h = trainer.history
        run.status, run.message = h.status, h.message
        if h.status == "diverged":
            run.grad_norm = run.grad_norm[:len(run.step_loss)]
        yield runs
        if h.status == "stopped":
            return
