"""Train a network: a PyTorch playground with optimizers, schedules, BatchNorm and gradients shown.

Thin UI glue over :mod:`dlcore.train` (loop, optimizers, schedules, metrics),
:mod:`dlcore.train.playground` (settings -> data + MLP + trainer) and
:mod:`dlcore.plotting.train` (figures).
"""

from __future__ import annotations

import threading
import time
from typing import Any, Iterator

import gradio as gr

from apps.common import HEAVY, LIGHT, Endpoint, SeedRef, guard

TITLE = "Train a network"
RUN_BUTTON = "train-run"
SEEDS = [
    SeedRef("003_1dbce9a3816ea850.txt", "dl_1_3", "加载数据集 (loading data sets)"),
    SeedRef("003_1dbce9a3816ea850.txt", "dl_1_4_1", "优化器 (optimizers)"),
    SeedRef("003_1dbce9a3816ea850.txt", "dl_2_1", "线性回归 (linear regression)"),
    SeedRef("003_1dbce9a3816ea850.txt", "dl_2_2", "二分类问题 (binary classification)"),
    SeedRef("003_1dbce9a3816ea850.txt", "dl_2_3", "多分类问题 (multi-class classification)"),
    SeedRef("000_5114ce2b17ca1821.txt", "2.2.1", "梯度消失和梯度爆炸 (vanishing and exploding gradients)"),
    SeedRef("000_5114ce2b17ca1821.txt", "2.2.2", "过拟合和欠拟合 (over- and under-fitting)"),
    SeedRef("000_5114ce2b17ca1821.txt", "2.2.3", "网络越深效果越差 (deeper is worse)"),
]

MAX_RUNS = 6            # runs kept per user for comparison
MIN_REDRAW_S = 0.5      # redraw at most this often while training (adaptive: ≥ 2× draw cost)

INTRO = """
### Train a network, live
Pick data, build an MLP, choose an optimizer and a learning-rate schedule, press **Train** and
watch the loss, the learning rate and every layer's gradient norm while it learns. The presets
below reproduce the notes' experiments; every run is kept (last 6) and overlaid in **Compare runs**,
so *Adam vs SGD* or *with vs without warm-up* is one click each.
"""

NOTES = """
**What to look for**
- The *Seed §dl_2_3* preset is the notes' experiment exactly: same data (`make_classification`, seeds 321/42),
  same network and initial weights (`torch.manual_seed(123)`), same Adam(lr=0.05), same shuffling; the
  loss at every step equals the notes' plain loop (checked in the tests).
- *Vanishing gradients* (梯度消失, notes 000 §2.2.1): with the 10-layer sigmoid preset the gradient norm
  of the first layer is ~10⁻⁹ of the last one and the loss sits at ln 2 ≈ 0.693. ReLU + BatchNorm +
  residual connections keep every layer's gradient within one order of magnitude (§2.2.3).
- *Over-fitting* (过拟合, §2.2.2): the wide unregularised net reaches 100 % training accuracy while the
  validation loss climbs; Dropout and weight decay close the gap.
- *Warm-up*: the seed's schedule is `lr_lambda(t) = t/W` for `t < W`, then `(T−t)/(T−W)`
  (same as `get_linear_schedule_with_warmup`).
- Binary tasks train one logit with `BCEWithLogitsLoss`, the numerically stable form of the seed's
  `Sigmoid` + `BCELoss`; multi-class uses `CrossEntropyLoss` on logits (softmax inside); regression `MSELoss`.
"""

_STOP: dict[str, threading.Event] = {}
_STOP_LOCK = threading.Lock()


def _session(request: gr.Request | None) -> str:
    return getattr(request, "session_hash", None) or "anonymous"


def _spec(dataset: str, hidden: str, activation: str, batchnorm: bool, dropout: float, residual: bool,
          optimizer: str, lr: float, schedule: str, warmup: float, weight_decay: float, batch_size: float,
          epochs: float, clip: float, seed: float, architecture: str = "mlp") -> Any:
    from dlcore.textinput import parse_int, parse_number
    from dlcore.train.playground import PlaygroundSpec

    return PlaygroundSpec(
        dataset=dataset, hidden=str(hidden), activation=activation, batchnorm=bool(batchnorm),
        dropout=parse_number(dropout, "dropout", lo=0.0, hi=0.95), residual=bool(residual),
        optimizer=optimizer, lr=parse_number(lr, "learning rate"), schedule=schedule,
        warmup_steps=parse_int(warmup, "warm-up steps", lo=0),
        weight_decay=parse_number(weight_decay, "weight decay"),
        batch_size=parse_int(batch_size, "batch size", lo=1, hi=100_000),
        epochs=parse_int(epochs, "epochs", lo=1), clip_grad_norm=parse_number(clip, "gradient clipping", lo=0.0),
        seed=parse_int(seed, "seed", lo=0, hi=2**31 - 1), architecture=architecture)


def _curves(label: str, history: Any) -> tuple:
    return (label, [e.epoch for e in history.epochs], history.series("train_loss"), history.series("val_loss"),
            history.series("train_acc"), history.series("val_acc"))


def _data_view(pg: Any) -> Any:
    """Decision boundary (2-D), model curve / pred-vs-true (regression), sample predictions (images)."""
    from dlcore.plotting.train import decision_boundary_plot, regression_plot
    from dlcore.train import decision_grid, predict, predict_labels

    split, model, task = pg.split, pg.model, pg.trainer.config.task
    x, y = split.x_test, split.y_test
    if task == "regression":
        y_pred = predict(model, x)
        curve = None
        if x.ndim == 2 and x.shape[1] == 1:
            import torch
            lo, hi = float(min(x.min(), split.x_train.min())), float(max(x.max(), split.x_train.max()))
            xg = torch.linspace(lo, hi, 200).unsqueeze(1)  # (200, 1)
            curve = (xg, predict(model, xg))
        return regression_plot(x, y, y_pred, curve)
    if x.ndim == 2 and x.shape[1] == 2:
        xs, ys, probs = decision_grid(model, split.x_train, task, steps=100)
        return decision_boundary_plot(xs, ys, probs, x, y, title="decision boundary (validation points)")
    if x.ndim == 4:
        from dlcore.plotting import image_grid
        pred = predict_labels(predict(model, x[:16]), task)
        names = split.classes or tuple(str(i) for i in range(split.n_classes))
        titles = [f"{names[p][:9]}{'' if p == t else ' ✗'}" for p, t in zip(pred.tolist(), y[:16].tolist())]
        return image_grid(x[:16], titles, ncols=8, suptitle="validation images: predicted class (✗ = wrong)")
    return None


def _confusion(pg: Any) -> Any:
    from dlcore.plotting.train import confusion_plot
    from dlcore.train import confusion_matrix, predict, predict_labels

    task = pg.trainer.config.task
    if task == "regression" or not pg.trainer.history.epochs:
        return None
    pred = predict_labels(predict(pg.model, pg.split.x_test), task)
    n = max(2, pg.split.n_classes)
    return confusion_plot(confusion_matrix(pred, pg.split.y_test, n), pg.split.classes or None)


def _status(pg: Any, h: Any, elapsed: float, params: int) -> str:
    from dlcore.train.optim import OPTIMIZERS

    cfg = pg.trainer.config
    e = h.epochs[-1] if h.epochs else None
    verdict = {"running": "⏳ training", "finished": "✅ finished", "stopped": "⏹ stopped",
               "diverged": "💥 **diverged**"}[h.status]
    lines = [f"{verdict} · epoch **{len(h.epochs)}/{cfg.epochs}** · step {len(h.step_loss)}/{h.total_steps} · "
             f"{elapsed:.1f} s on {pg.trainer.device.type.upper()}"]
    if e is not None:
        acc = "" if cfg.task == "regression" else f" · train acc {e.train_acc:.1%} · val acc {e.val_acc:.1%}"
        lines.append(f"train loss {e.train_loss:.4f} · val loss {e.val_loss:.4f}{acc} · η {e.lr:.3g}")
    if h.message:
        lines.append(h.message)
    lines.append(f"<small>data: {pg.split.name} ({pg.split.source}; {len(pg.split.x_train)} train / "
                 f"{len(pg.split.x_test)} val; task {cfg.task}) · model: {params:,} parameters, "
                 f"{len(h.layer_names)} weight layers · {cfg.optimizer}: {OPTIMIZERS[cfg.optimizer].rule}</small>")
    return "  \n".join(lines) + f"\n\n<details><summary>model (print(model))</summary>\n\n```\n{pg.model}\n```\n</details>"


def warmup() -> None:
    """Pay the first press's one-off costs in the background after start-up (launch.warm_up):
    scikit-learn's import, torch's optimizer machinery (imports torch._dynamo) and the first
    matplotlib draw. No data, no weights, no training."""
    import sklearn.datasets  # noqa: F401 - warm-up import
    import torch

    import dlcore.plotting.train  # noqa: F401
    import dlcore.train.playground  # noqa: F401
    from dlcore.plotting import figure_to_png, new_figure

    torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=0.01)
    fig, ax = new_figure()
    ax.plot([0, 1], [0, 1])
    figure_to_png(fig)


@guard
def train(dataset: str, hidden: str, activation: str, batchnorm: bool, dropout: float, residual: bool,
          optimizer: str, lr: float, schedule: str, warmup: float, weight_decay: float, batch_size: float,
          epochs: float, clip: float, seed: float, architecture: str, runs: list | None,
          request: gr.Request = None) -> Iterator[tuple]:  # type: ignore[assignment]
    """Train with the given settings, streaming (status, curves, lr, grads, data view, confusion,
    compare, runs) about twice a second."""
    import torch

    from dlcore.plotting.train import grad_norm_plot, lr_schedule_plot, training_curves
    from dlcore.train.playground import build_playground, parse_hidden
    from dlcore.train.schedules import lr_curve

    t0 = time.perf_counter()
    spec = _spec(dataset, hidden, activation, batchnorm, dropout, residual, optimizer, lr, schedule, warmup,
                 weight_decay, batch_size, epochs, clip, seed, architecture)
    parse_hidden(spec.hidden)  # fail fast on a typo, before anything is shown
    # 0. an instant reaction; the first press in a fresh process also pays for imports here
    yield ("⏳ preparing: loading the data and building the model…", *[gr.skip()] * 7)
    pg = build_playground(spec)
    runs = list(runs or [])
    label = f"#{(runs[-1]['n'] + 1) if runs else 1} {spec.label()}"
    trainer, h = pg.trainer, pg.trainer.history
    planned = lr_curve(trainer.config.schedule, trainer.config.lr, h.total_steps).tolist()
    params = sum(p.numel() for p in pg.model.parameters())
    key = _session(request)
    stop = threading.Event()
    with _STOP_LOCK:
        _STOP[key] = stop
    trainer.stop_event = stop

    def frame(kind: str, kept: list) -> tuple:
        """kind: "start" (status + planned schedule), "live" (curves, grads, data view) or "final" (all)."""
        status_md = _status(pg, h, time.perf_counter() - t0, params)
        lr_fig = lr_schedule_plot(planned, h.step_lr, steps_per_epoch=trainer.steps_per_epoch)
        if kind == "start":  # one cheap figure: the first update must come fast
            return (status_md, None, lr_fig, None, None, None, gr.skip(), gr.skip())
        cur = _curves(label, h)
        g = torch.stack([e.grad_norms for e in h.epochs]) if h.epochs else torch.zeros(0, len(h.layer_names))
        live = (status_md, training_curves([cur], title=label), gr.skip(), grad_norm_plot(h.layer_names, g),
                _data_view(pg) if h.epochs else None)
        if kind == "live":  # only what changes while training
            return (*live, gr.skip(), gr.skip(), gr.skip())
        compare_fig = training_curves([tuple(r["curves"]) for r in kept], title="compare runs")
        return (live[0], live[1], lr_fig, live[3], live[4], _confusion(pg), compare_fig, kept)

    # 1. the planned schedule and an empty board
    yield frame("start", runs)
    last, cost = time.perf_counter(), 0.0
    try:
        for log in trainer.steps():
            now = time.perf_counter()
            if log.epoch_log is not None and now - last >= max(MIN_REDRAW_S, 2 * cost):
                out = frame("live", runs)
                cost = time.perf_counter() - now
                last = time.perf_counter()
                yield out
            elif log.epoch_log is None and now - last >= 1.0:  # long epoch: progress text only
                last = now
                yield (_status(pg, h, now - t0, params) + f"  \nstep loss {log.loss:.4f}", *[gr.skip()] * 7)
    finally:
        with _STOP_LOCK:
            if _STOP.get(key) is stop:
                del _STOP[key]
    if h.status == "diverged":
        gr.Warning(h.message)
    runs.append({"n": (runs[-1]["n"] + 1) if runs else 1, "curves": list(_curves(label, h)), "status": h.status})
    yield frame("final", runs[-MAX_RUNS:])


@guard
def stop_training(request: gr.Request = None) -> str:  # type: ignore[assignment]
    """Ask this user's running training to stop after the current step."""
    with _STOP_LOCK:
        ev = _STOP.get(_session(request))
    if ev is None:
        return "Nothing is training right now."
    ev.set()
    return "⏹ Stopping after the current step…"


@guard
def clear_runs() -> tuple[list, None, str]:
    """Forget the kept runs (the comparison plot empties)."""
    return [], None, "Kept runs cleared: the next run starts a new comparison."


def _defaults() -> list:
    from dlcore.train.playground import PlaygroundSpec

    return _spec_args(PlaygroundSpec())


def _spec_args(s: Any) -> list:
    return [s.dataset, s.hidden, s.activation, s.batchnorm, s.dropout, s.residual, s.optimizer, s.lr,
            s.schedule, s.warmup_steps, s.weight_decay, s.batch_size, s.epochs, s.clip_grad_norm, s.seed,
            s.architecture]


def build() -> None:
    from dlcore.models import ACTIVATIONS
    from dlcore.train import OPTIMIZERS, SCHEDULES
    from dlcore.train.loop import MAX_EPOCHS
    from dlcore.train.playground import ARCHITECTURES, PLAYGROUND_DATA, PRESETS

    d = _defaults()
    gr.Markdown(INTRO)
    runs = gr.State([])
    with gr.Row():
        with gr.Column(scale=1, min_width=300):
            dataset = gr.Dropdown([(v, k) for k, v in PLAYGROUND_DATA.items()], value=d[0], label="Data")
            architecture = gr.Dropdown([(v, k) for k, v in ARCHITECTURES.items()], value=d[15], label="Model")
            with gr.Accordion("MLP settings", open=True):
                hidden = gr.Textbox(d[1], label="Hidden layer widths",
                                    info="e.g. 128, 64, 32 — or 10x32 for ten layers of 32; empty = no hidden layer")
                activation = gr.Dropdown(list(ACTIVATIONS), value=d[2], label="Activation")
                with gr.Row():
                    batchnorm = gr.Checkbox(d[3], label="BatchNorm")
                    residual = gr.Checkbox(d[5], label="Residual", info="skip connection where widths match")
                dropout = gr.Slider(0, 0.9, value=d[4], step=0.05, label="Dropout p")
            with gr.Accordion("Optimisation", open=True):
                optimizer = gr.Dropdown(list(OPTIMIZERS), value=d[6], label="Optimizer (优化器)")
                lr = gr.Number(d[7], label="Learning rate η", info="0 < η ≤ 10")
                schedule = gr.Dropdown(list(SCHEDULES), value=d[8], label="LR schedule",
                                       info="warmup_linear = the seed's lr_lambda")
                warmup = gr.Number(d[9], precision=0, label="Warm-up steps (预热)", minimum=0)
                weight_decay = gr.Number(d[10], label="Weight decay λ")
                with gr.Row():
                    batch_size = gr.Number(d[11], precision=0, label="Batch size", minimum=1)
                    epochs = gr.Number(d[12], precision=0, label=f"Epochs (≤ {MAX_EPOCHS})", minimum=1)
                with gr.Row():
                    clip = gr.Number(d[13], label="Clip grad norm (0 = off)", minimum=0)
                    seed = gr.Number(d[14], precision=0, label="Seed", minimum=0)
            with gr.Row():
                run_btn = gr.Button("Train", variant="primary", elem_id=RUN_BUTTON)
                stop_btn = gr.Button("Stop", variant="stop", elem_id="train-stop")
            clear_btn = gr.Button("Clear kept runs", size="sm", elem_id="train-clear")
        with gr.Column(scale=2):
            status = gr.Markdown("Press **Train**.", elem_id="train-status")
            curves = gr.Plot(label="Loss and accuracy (train solid, validation dashed)", format="png", show_label=False)
            with gr.Row():
                grads = gr.Plot(label="Per-layer gradient norms", format="png", show_label=False)
            with gr.Row():
                view = gr.Plot(label="Decision boundary / predictions", format="png", show_label=False)
                confusion = gr.Plot(label="Confusion matrix (at the end)", format="png", show_label=False)
            lr_plot = gr.Plot(label="Learning-rate schedule", format="png", show_label=False)
            compare = gr.Plot(label="Compare runs (your last 6)", format="png", show_label=False)
    inputs = [dataset, hidden, activation, batchnorm, dropout, residual, optimizer, lr, schedule, warmup,
              weight_decay, batch_size, epochs, clip, seed, architecture]
    gr.Examples([_spec_args(s) for s in PRESETS.values()], inputs=inputs, example_labels=list(PRESETS),
                label="Presets (the notes' experiments) — click one, then Train", cache_examples=False)
    gr.Markdown(NOTES)
    run_btn.click(train, inputs + [runs], [status, curves, lr_plot, grads, view, confusion, compare, runs],
                  api_name="train", **HEAVY)
    stop_btn.click(stop_training, None, status, api_name="train_stop", **LIGHT)
    clear_btn.click(clear_runs, None, [runs, compare, status], api_name="train_clear_runs", **LIGHT)


_D = ["moons", "16, 16", "relu", False, 0.0, False, "Adam", 0.01, "constant", 0, 0.0, 32, 30, 0.0, 0, "mlp"]

ENDPOINTS = [
    Endpoint("train", heavy=True, examples=[
        _D,
        ["sine", "2x32", "tanh", False, 0.0, False, "Adam", 0.01, "cosine", 10, 0.0, 16, 10, 0.0, 0, "mlp"],
        ["seed_binary", "64, 32", "relu", True, 0.2, False, "SGD", 0.05, "warmup_linear", 20, 0.0, 64, 3, 1.0, 123,
         "mlp"],
        ["blobs", "3x16", "sigmoid", False, 0.0, True, "RAdam", 0.01, "step", 0, 0.01, 32, 3, 0.0, 1, "mlp"],
    ], bad=[
        (["moons", "16, 0", *_D[2:]], "width 0"),
        ([*_D[:7], 1000.0, *_D[8:]], "learning rate 1000"),
        ([*_D[:12], 100000, *_D[13:]], "epochs 100000"),
        (["moons", "16, abc", *_D[2:]], "is not a width"),
        ([*_D[:8], "cosine", 100000, *_D[10:]], "warm-up steps 100000"),
        ([*_D[:15], "lenet5"], "needs image data"),
    ]),
    Endpoint("train_stop", examples=[[]]),
    Endpoint("train_clear_runs", examples=[[]]),
]

if __name__ == "__main__":
    import launch

    launch.main(["--tabs", "train"])
