"""The seeds' sine predictors, RNN vs LSTM vs GRU on the same data, trained side by side.

Each cell is trained by the one :class:`dlcore.train.Trainer` (task ``"regression"``: ``MSELoss``,
Adam) exactly as the seed's loop does it: built under ``torch.manual_seed(seed)`` (§dl_3_2's
``LSTMModel`` then has the seed's initial weights), batches from
:class:`~dlcore.sequence.data.SeedShuffleLoader` (the seed's ``DataLoader(shuffle=True,
drop_last=True)`` stream) or the whole set per step (§dl_4_2). The runs take turns, one epoch
each, so a UI can draw the three curves growing together; each run owns its random numbers, so
the turns do not change the results.

Test error is measured the way each seed prints it (:func:`seed_test_error`: §dl_3_2 averages
the MSE of the 5 full test batches of 32, ``drop_last=True``; §dl_4_2 takes the MSE of all 60
test sequences) and compared with :data:`~dlcore.sequence.names.SEED_FIGURES`, the seeds' code
run verbatim here. Two baselines put the numbers in scale: repeating the last input value, and
the noise floor σ² (no predictor of a noisy target beats it on average).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from typing import Iterator, Sequence

import torch

from dlcore.sequence.data import SeedShuffleLoader, SineTask, full_batch, sine_task
from dlcore.sequence.models import SequenceRegressor, seeded
from dlcore.sequence.names import CELLS, SEED_FIGURES, SINE_PRESETS, SineConfig

__all__ = ["CellRun", "SineRow", "SineRace", "sine_row", "race_sines", "seed_test_error", "rolling_forecast", "seed_reference"]


@dataclass
class CellRun:
    """One cell's model and its Trainer (``trainer.history`` holds the per-epoch losses)."""

    cell: str
    model: SequenceRegressor
    trainer: object
    steps: Iterator[object] | None = None

    @property
    def history(self) -> object:
        return self.trainer.history  # type: ignore[attr-defined]


@dataclass(frozen=True)
class SineRow:
    """One line of the comparison table."""

    cell: str
    epochs: int
    train_loss: float
    test_mse: float
    test_mae: float
    seed_error: float
    reference: float | None
    reached: bool | None
    params: int


@dataclass
class SineRace:
    """The runs so far. ``status``: ``"running"``, ``"finished"``, ``"stopped"`` or ``"diverged"``."""

    config: SineConfig
    task: SineTask
    runs: dict[str, CellRun]
    epoch: int = 0
    status: str = "running"
    message: str = ""
    reference: tuple[float, str] | None = None
    baselines: dict[str, float] = field(default_factory=dict)

    @torch.no_grad()
    def predictions(self) -> dict[str, torch.Tensor]:
        """Each cell's one-step prediction for every test window.   Shape ``(N_test,)``."""
        from dlcore.train import predict

        return {c: predict(r.model, self.task.x_test).reshape(-1) for c, r in self.runs.items()}

    def rows(self, preds: dict[str, torch.Tensor] | None = None) -> list[SineRow]:
        """One table row per cell (``preds``: :meth:`predictions`, when the caller has them already)."""
        preds = self.predictions() if preds is None else preds
        out = []
        for c, r in self.runs.items():
            h = r.history
            out.append(sine_row(c, r.model, preds[c], self.task, self.config, self.reference, len(h.epochs),  # type: ignore[attr-defined]
                                h.epochs[-1].train_loss if h.epochs else math.nan))  # type: ignore[attr-defined]
        return out


def sine_row(cell: str, model: torch.nn.Module, pred: torch.Tensor, task: SineTask, cfg: SineConfig,
             reference: tuple[float, str] | None, epochs: int, train_loss: float = math.nan) -> SineRow:
    """The comparison-table row of one model from its test prediction ``pred`` ``(N_test,)``."""
    y = task.y_test.reshape(-1)
    err = _seed_error(pred, y, cfg)
    ref = None if reference is None else reference[0]
    return SineRow(cell, epochs, train_loss, float(((pred - y) ** 2).mean()), float((pred - y).abs().mean()), err,
                   ref, None if ref is None else err <= ref * 1.0001, sum(q.numel() for q in model.parameters()))


def seed_reference(cfg: SineConfig) -> tuple[float, str] | None:
    """The seed code's test error for this data (:data:`SEED_FIGURES`), when the data is the seed's."""
    for (data, cell), (value, what) in SEED_FIGURES.items():
        seed_cfg = next(p for p in SINE_PRESETS.values() if p.data == data)  # the first preset is the seed's
        same = (cfg.data, cfg.window, cfg.noise, cfg.seed) == (data, seed_cfg.window, seed_cfg.noise, seed_cfg.seed)
        if same and (data == "sine" or cfg.target_in_input):
            return value, f"{cell.upper()} in the notes: {what}"
    return None


@torch.no_grad()
def seed_test_error(model: torch.nn.Module, task: SineTask, cfg: SineConfig) -> float:
    """The test error as the seed prints it: §dl_3_2 the mean MSE of the full test batches of
    ``batch_size`` (``drop_last=True``, in order); §dl_4_2 the MSE over the whole test set."""
    from dlcore.train import predict

    return _seed_error(predict(model, task.x_test).reshape(-1), task.y_test.reshape(-1), cfg)


def _seed_error(p: torch.Tensor, y: torch.Tensor, cfg: SineConfig) -> float:
    bs = cfg.batch_size
    if cfg.data == "noisy_sines" or bs <= 0 or len(y) < bs:
        return float(((p - y) ** 2).mean())
    n = len(y) // bs
    return float(torch.stack([((p[i * bs:(i + 1) * bs] - y[i * bs:(i + 1) * bs]) ** 2).mean()
                              for i in range(n)]).mean())


@torch.no_grad()
def rolling_forecast(model: torch.nn.Module, task: SineTask, window: int) -> torch.Tensor:
    """Multi-step "rolling" forecast (seed 003 §dl_3_2, note 3): start from the first test window and
    feed each prediction back as the newest input. §dl_3 data only.   Shape ``(N_test,)``."""
    if task.series is None:
        raise ValueError("a rolling forecast needs one long series (the §dl_3 sine data)")
    device = next(model.parameters()).device
    was = model.training
    model.eval()
    win = torch.tensor(task.series[task.split_at:task.split_at + window], dtype=torch.float32, device=device)
    out = []
    for _ in range(len(task.y_test)):
        nxt = model(win.view(1, window, 1)).reshape(())   # 1. predict the next value
        out.append(nxt)
        win = torch.cat([win[1:], nxt.view(1)])           # 2. slide: drop the oldest, append the guess
    model.train(was)
    return torch.stack(out).cpu()


def _make_run(cell: str, cfg: SineConfig, task: SineTask, stop: threading.Event | None) -> CellRun:
    from dlcore.train import TrainConfig, Trainer

    model, state = seeded(cfg.seed, lambda: SequenceRegressor(cell, 1, cfg.hidden_size, cfg.num_layers))  # type: ignore[arg-type]
    if cfg.batch_size <= 0:
        batches: object = full_batch(task.x_train, task.y_train)
    else:
        batches = SeedShuffleLoader(task.x_train, task.y_train, cfg.batch_size, state)
    tc = TrainConfig(task="regression", optimizer="Adam", lr=cfg.lr, batch_size=max(cfg.batch_size, 1),
                     epochs=cfg.epochs, clip_grad_norm=cfg.clip_grad_norm, num_threads=1)
    trainer = Trainer(model, batches, (task.x_test, task.y_test), tc, stop_event=stop)  # type: ignore[arg-type]
    return CellRun(cell, model, trainer)


def race_sines(cfg: SineConfig | None = None, cells: Sequence[str] = CELLS,
               stop_event: threading.Event | None = None) -> Iterator[SineRace]:
    """Train one model per cell on ``cfg``'s data, one epoch each in turn; yield after every epoch.

    Args:
        cfg: the run (default: seed §dl_3_2's LSTM settings).
        cells: any of ``"rnn"``, ``"lstm"``, ``"gru"`` (default all three).
        stop_event: set it to stop after the current step; the race ends "stopped", keeping its models.

    Yields:
        The same :class:`SineRace`, updated (``epoch`` = epochs every cell has finished).
    """
    cfg = (cfg or SineConfig()).validate()
    cells = list(dict.fromkeys(cells))
    if not cells or any(c not in CELLS for c in cells):
        raise ValueError(f"cells {cells!r} must be a non-empty selection of {CELLS}")
    task = sine_task(cfg)
    if cfg.batch_size > len(task.x_train):
        raise ValueError(f"batch size {cfg.batch_size} is larger than the {len(task.x_train)} training windows")
    stop = stop_event or threading.Event()
    race = SineRace(cfg, task, {c: _make_run(c, cfg, task, stop) for c in cells}, reference=seed_reference(cfg))
    y = task.y_test.reshape(-1)
    race.baselines = {"repeat the last input value": float(((task.x_test[:, -1, 0] - y) ** 2).mean()),
                      "noise floor σ²": cfg.noise ** 2}
    for run in race.runs.values():
        run.steps = run.trainer.steps()  # type: ignore[attr-defined]
    for epoch in range(1, cfg.epochs + 1):
        for run in race.runs.values():
            for log in run.steps:  # type: ignore[union-attr]
                if log.epoch_log is not None or run.history.status != "running":  # type: ignore[attr-defined]
                    break
            status = run.history.status  # type: ignore[attr-defined]
            if status == "diverged":
                race.status, race.message = "diverged", f"{run.cell.upper()}: {run.history.message}"  # type: ignore[attr-defined]
                yield race
                return
            if stop.is_set() or status == "stopped":
                race.status, race.message = "stopped", f"stopped during epoch {epoch} of {cfg.epochs}"
                yield race
                return
            yield race
        race.epoch = epoch
    race.status, race.message = "finished", f"finished {cfg.epochs} epochs"
    yield race
