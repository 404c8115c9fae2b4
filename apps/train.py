"""Train a network: a PyTorch playground with optimizers, schedules, BatchNorm and gradients shown.

Thin UI glue over :mod:`dlcore.train` (spec, playground, loop, verdict, views) and
:mod:`dlcore.plotting.train`. The inputs are derived from the fields of
:class:`dlcore.train.spec.PlaygroundSpec` (one widget per field, in field order); the handlers
validate them with :func:`dlcore.train.spec.spec_from_values`.
"""

from __future__ import annotations

import inspect
import time
from typing import Any, Iterator

import gradio as gr

from apps.common import (HEAVY, LIGHT, STOPS, STOP_EXAMPLES, Checkbox, Dropdown, Endpoint, ErrorDemo, Number, SeedRef,
                        Slider, guard, md_escape, on, on_first_open, stop_button)
from apps.streaming import FrameBudget
from dlcore.train.names import OPTIMIZER_RULES
from dlcore.train.spec import PRESETS, SPEC_FIELDS, PlaygroundSpec, field_choices, spec_from_values, spec_values

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
MIN_REDRAW_S = 0.5      # redraw at most this often (and drawing at most a third of the wall time)
NAMES = [f.name for f in SPEC_FIELDS]
D = spec_values(PlaygroundSpec())  # the default example = the widgets' initial values
VERDICT = {"learned": "✅ finished: learned", "failed": "⚠️ finished: **did not learn** (no better than a guess)",
           "exploded": "💥 finished: **did not learn** (the loss exploded)", "diverged": "💥 **diverged**",
           "stopped": "⏹ **stopped**", "running": "⏳ training"}

INTRO = ("Pick data, a model and an optimizer, press **Train** and watch the loss, the learning rate and every "
         "layer's gradient norm while it learns. The presets below reproduce the notes' experiments; your last "
         "6 runs are overlaid in **Compare runs**.")

NOTES = """
**What to look for**
- *Seed §dl_2_3* is the notes' experiment exactly: same data (`make_classification`, seeds 321/42), network,
  initial weights (`torch.manual_seed(123)`), Adam(lr=0.05) and shuffling; the loss at every step equals the
  notes' plain loop (checked in the tests).
- *Vanishing gradients* (梯度消失, notes 000 §2.2.1): with the 10-layer sigmoid preset the first layer's gradient is
  ~10⁻⁵ of the last one's and the loss sits at ln 2 ≈ 0.693 — the verdict says it failed to learn. ReLU +
  BatchNorm + residual connections keep every layer's gradient within an order of magnitude (§2.2.3).
- *Over-fitting* (过拟合, §2.2.2): the wide unregularised net reaches ~100 % training accuracy while the
  validation loss climbs; Dropout and weight decay close the gap.
- *Too large a step*: SGD with η = 10 ends near 50 % and the verdict says so (the loss is not below the loss of
  a constant guess). *Warm-up*: the seed's `lr_lambda(t) = t/W` for `t < W`, then `(T−t)/(T−W)`.
- The verdict compares the final validation loss with a model that ignores its input and predicts the training
  class frequencies (ln C for C balanced classes) or the training mean: below 95 % of that = learned.
- Binary tasks train one logit with `BCEWithLogitsLoss` (the stable form of `Sigmoid` + `BCELoss`); multi-class
  `CrossEntropyLoss` on logits; regression `MSELoss`.
"""


def _unpack(args: tuple) -> tuple[list, dict, Any]:
    """(settings in field order, kept runs, request) from the positional arguments Gradio passes."""
    n = len(NAMES)
    if len(args) < n:
        raise ValueError(f"expected {n} settings ({', '.join(NAMES)}), got {len(args)}")
    runs = args[n] if len(args) > n and isinstance(args[n], dict) else {"count": 0, "runs": []}
    return list(args[:n]), runs, args[n + 1] if len(args) > n + 1 else None


def _signature(fn: Any) -> Any:
    """Name the API parameters after the spec's fields (Gradio reads ``__signature__``)."""
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    fn.__signature__ = inspect.Signature(
        [inspect.Parameter(n, kind) for n in NAMES] + [inspect.Parameter("runs", kind, default=None),
                                                       inspect.Parameter("request", kind, default=None,
                                                                         annotation=gr.Request)])
    fn.__annotations__ = {**getattr(fn, "__annotations__", {}), "request": gr.Request}  # Gradio reads both
    return fn


def _status(pg: Any, verdict: Any, elapsed: float, params: int, extra: str = "") -> str:
    cfg, h = pg.trainer.config, pg.trainer.history
    e = h.epochs[-1] if h.epochs else None
    lines = [f"{VERDICT[verdict.kind]} · epoch **{len(h.epochs)}/{cfg.epochs}** · step {len(h.step_loss)}/"
             f"{h.total_steps} · {elapsed:.1f} s on {pg.trainer.device.type.upper()}"]
    if h.step_loss:
        lines.append(f"step loss {h.step_loss[-1]:.4f}" + (
            "" if e is None else f" · train loss {e.train_loss:.4f} · val loss {e.val_loss:.4f}" + (
                "" if cfg.task == "regression" else f" · train acc {e.train_acc:.1%} · val acc {e.val_acc:.1%}")
            + f" · η {h.step_lr[-1]:.3g}"))
    if verdict.kind != "running":
        lines.append(md_escape(verdict.message))
    if extra:
        lines.append(extra)
    lines.append(f"<small>data: {pg.split.name} ({md_escape(pg.split.source)}; {len(pg.split.x_train)} train / "
                 f"{len(pg.split.x_test)} val; task {cfg.task}) · model: {params:,} parameters, "
                 f"{len(h.layer_names)} weight layers · {cfg.optimizer}: {OPTIMIZER_RULES[cfg.optimizer][0]}</small>")
    return "  \n".join(lines) + f"\n\n<details><summary>model (print(model))</summary>\n\n```\n{pg.model}\n```\n</details>"


class _Board:
    """Draws the frames of one run: status + figures, in the outputs' order."""

    def __init__(self, spec: PlaygroundSpec, runs: dict) -> None:
        from dlcore.train.playground import build_playground
        from dlcore.train.schedules import lr_curve

        self.t0 = time.perf_counter()
        self.pg = build_playground(spec)
        self.runs = {"count": int(runs.get("count", 0)) + 1, "runs": list(runs.get("runs", []))}
        self.label = f"#{self.runs['count']} {spec.label()}"
        tr = self.pg.trainer
        self.planned = lr_curve(tr.config.schedule, tr.config.lr, tr.history.total_steps).tolist()
        self.params = sum(p.numel() for p in self.pg.model.parameters())
        self.drawn_epochs = -1

    def curves(self) -> Any:
        from dlcore.train.views import run_curves

        tr = self.pg.trainer
        return run_curves(self.label, tr.history, tr.steps_per_epoch, tr.config.epochs)

    def frame(self, final: bool = False, extra: str = "") -> tuple:
        """(status, curves, grads, view, confusion, lr, compare, runs); what did not change is skipped."""
        import torch

        from dlcore.plotting.train import (confusion_plot, data_view_plot, grad_norm_plot, lr_schedule_plot,
                                           training_curves)
        from dlcore.train.views import confusion, data_view

        pg, h = self.pg, self.pg.trainer.history
        verdict = pg.verdict()
        status = _status(pg, verdict, time.perf_counter() - self.t0, self.params, extra)
        curves = self.curves()
        curves.status = verdict.kind
        out: list[Any] = [status, training_curves([curves], title=self.label), gr.skip(), gr.skip(), gr.skip(),
                          gr.skip(), gr.skip(), gr.skip()]
        if len(h.epochs) != self.drawn_epochs or final:  # per-epoch figures: only when an epoch ended
            self.drawn_epochs = len(h.epochs)
            out[5] = lr_schedule_plot(self.planned, h.step_lr, steps_per_epoch=pg.trainer.steps_per_epoch)
            g = torch.stack([e.grad_norms for e in h.epochs]) if h.epochs else torch.zeros(0, len(h.layer_names))
            out[2] = grad_norm_plot(h.layer_names, g)
            out[3] = data_view_plot(data_view(pg.model, pg.split, pg.trainer.config.task)) if h.epochs else None
        if final:
            conf = confusion(pg.model, pg.split, pg.trainer.config.task) if h.epochs else None
            out[4] = None if conf is None else confusion_plot(conf)
            kept = (self.runs["runs"] + [curves])[-MAX_RUNS:]
            self.runs["runs"] = kept
            out[6] = training_curves(kept, title="compare runs (EMA of the step loss)")
            out[7] = self.runs
        return tuple(out)


@guard
def train(*args: Any) -> Iterator[tuple]:
    """Train with the given settings, streaming (status, curves, grads, data view, confusion, lr,
    compare, runs) about twice a second (less often when a redraw is slow)."""
    values, runs, request = _unpack(args)
    spec = spec_from_values(values)  # every setting checked, named as on the page, before anything runs
    with STOPS.running(request, "train") as stop:
        yield ("⏳ preparing: loading the data and building the model…", *[None] * 6, gr.skip())
        board = _Board(spec, runs)
        board.pg.trainer.stop_event = stop
        budget = FrameBudget(share=1 / 3, every=MIN_REDRAW_S)  # a frame's cost counts Gradio's sending of it
        yield from budget.frame(board.frame)
        for _ in board.pg.trainer.steps():
            yield from budget.frame(board.frame)
        yield board.frame(final=True)


@guard
def first_run(*args: Any) -> tuple:
    """The default example, trained when the tab is first opened (so no panel starts empty)."""
    values, runs, _ = _unpack(args)
    board = _Board(spec_from_values(values), runs)
    board.pg.trainer.fit()
    note = ("**This is the default example, trained when you opened the tab.** Change a setting or pick a "
            "preset, then press **Train**.")
    return board.frame(final=True, extra=note)


stop_training = stop_button("train", "⏹ Stopping after the current step…",
                             "Nothing is training right now: press **Train** to start a run.")


@guard
def clear_runs() -> tuple[dict, None, str]:
    """Forget the kept runs (the comparison plot empties)."""
    return {"count": 0, "runs": []}, None, "Kept runs cleared: the next run starts a new comparison."


_signature(train)
_signature(first_run)


def _widget(name: str, value: Any) -> Any:
    f = next(f for f in SPEC_FIELDS if f.name == name)
    ui = f.metadata["ui"]
    if ui.kind == "choice":
        return Dropdown(field_choices(name), value=value, label=ui.label, info=ui.info or None)
    if ui.kind == "bool":
        return Checkbox(value, label=ui.label, info=ui.info or None)
    if ui.kind == "text":
        return gr.Textbox(value, label=ui.label, info=ui.info or None)
    if ui.step is not None:
        return Slider(ui.lo, ui.hi, value=value, step=ui.step, label=ui.label, info=ui.info or None)
    return Number(value, label=ui.label, info=ui.info or None, **({"step": 1} if ui.kind == "int" else {}))


def build() -> None:
    gr.Markdown(INTRO)
    runs = gr.State({"count": 0, "runs": []})
    widgets: dict[str, Any] = {}
    groups = {"model": "Network: hidden layers, activation, BatchNorm, Dropout", "optim":
              "Schedule, warm-up, weight decay, batch size, clipping, seed"}
    with gr.Row():
        with gr.Column(scale=1, min_width=300):
            for f in SPEC_FIELDS:
                if f.metadata["ui"].group == "main":
                    widgets[f.name] = _widget(f.name, f.default)
            with gr.Row():
                run_btn = gr.Button("Train", variant="primary", elem_id=RUN_BUTTON)
                stop_btn = gr.Button("Stop", variant="stop", elem_id="train-stop")
            for group, title in groups.items():
                with gr.Accordion(title, open=False):
                    for f in SPEC_FIELDS:
                        if f.metadata["ui"].group == group:
                            widgets[f.name] = _widget(f.name, f.default)
            clear_btn = gr.Button("Clear kept runs", size="sm", elem_id="train-clear")
        with gr.Column(scale=2):
            status = gr.Markdown("Opening the tab trains the default example…", elem_id="train-status")
            with gr.Row():
                curves = gr.Plot(label="Loss and accuracy", format="png", show_label=False, min_width=320)
                view = gr.Plot(label="The model on the data", format="png", show_label=False, min_width=320)
            with gr.Row():
                grads = gr.Plot(label="Per-layer gradient norms", format="png", show_label=False, min_width=320)
                conf = gr.Plot(label="Confusion matrix (at the end)", format="png", show_label=False, min_width=320)
            with gr.Row():
                lr_plot = gr.Plot(label="Learning-rate schedule", format="png", show_label=False, min_width=320)
                compare = gr.Plot(label="Compare runs (your last 6)", format="png", show_label=False, min_width=320)
    inputs = [widgets[n] for n in NAMES]
    outputs = [status, curves, grads, view, conf, lr_plot, compare, runs]
    gr.Examples([spec_values(s) for s in PRESETS.values()], inputs=inputs, example_labels=list(PRESETS),
                label="Presets (the notes' experiments): click one, then Train", cache_examples=False,
                examples_per_page=len(PRESETS))
    gr.Markdown(NOTES)
    on_first_open(first_run, [*inputs, runs], outputs, **HEAVY)
    on(run_btn.click, train, [*inputs, runs], outputs, api_name="train", **HEAVY)
    on(stop_btn.click, stop_training, status, status, api_name="train_stop", **LIGHT)
    on(clear_btn.click, clear_runs, None, [runs, compare, status], api_name="train_clear_runs", **LIGHT)


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


def _with(**kw: Any) -> list:
    return [kw.get(n, v) for n, v in zip(NAMES, D)]


#: The browser test types a learning rate that is too large, presses Train and reads the message.
ERROR_DEMO = ErrorDemo(fill={"Learning rate η": "1000"}, click=RUN_BUTTON, expect="above the maximum 10")
ENDPOINTS = [
    Endpoint("train", heavy=True, stateful=True, examples=[
        D,
        _with(dataset="sine", hidden="2x32", activation="tanh", schedule="cosine", warmup_steps=10, batch_size=16,
              epochs=40),
        _with(dataset="seed_binary", hidden="64, 32", batchnorm=True, dropout=0.2, optimizer="SGD", lr=0.05,
              schedule="warmup_linear", warmup_steps=20, batch_size=64, epochs=3, clip_grad_norm=1.0, seed=123),
        _with(optimizer="SGD", lr=10.0, epochs=20),
    ], facts=["Learned", "Learned", "epoch **3/3**", "did not learn"], bad=[
        (_with(hidden="16, 0"), "width 0"),
        (_with(lr=1000.0), "Learning rate η = 1000 is above the maximum 10"),
        (_with(epochs=100000), "Epochs = 100000 is above the maximum 500"),
        (_with(epochs=2.5), "Epochs must be a whole number, got 2.5"),
        (_with(hidden="16, abc"), "is not a width"),
        (_with(schedule="cosine", warmup_steps=100000), "Warm-up steps (预热) = 100000 is above the maximum"),
        (_with(warmup_steps=5000), "exceed the run's 300 optimizer steps"),
        (_with(architecture="lenet5"), "needs image data"),
        (_with(optimizer=["Adam"]), "Optimizer (优化器) a list of 1 item(s) is not one of"),
    ]),
    Endpoint("train_stop", examples=STOP_EXAMPLES, facts=["Nothing is training", "The last run's summary."]),
    Endpoint("train_clear_runs", examples=[[]], facts=["cleared"]),
]

if __name__ == "__main__":
    import launch

    launch.main(["--tabs", "train"])
