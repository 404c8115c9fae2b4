"""Cached runs of the heavy experiments, for the tab and the one table.

Every function here is what a UI panel calls: it loads the right zoo model (Fashion-MNIST, or
the digits twin when the data are absent), runs the experiment with a progress ``callback`` and
a stop ``Event``, and keeps a *finished* result in one in-process :class:`~dlcore.lazy.LazyCache`
keyed by the data set and the full config, so a second click returns at once (a stopped run is
not cached). Pass ``cache=False`` to force a fresh run.
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass
from typing import Any, Callable, Literal

import torch
from torch import nn

from dlcore.compression.distillation import DistillConfig, DistillResult, distill
from dlcore.compression.early_exit import EXIT_CRITERIA, ExitCriterion, ExitPoint, all_exit_logits, exit_macs, exit_sweep
from dlcore.compression.iterative import IterativeConfig, IterativeResult, ProgressCallback, iterative_prune, one_shot_curve
from dlcore.compression.lottery import LotteryConfig, LotteryResult, lottery_ticket
from dlcore.compression.lowrank import LowRankPoint, rank_sweep, singular_values, _layer
from dlcore.compression.measure import BaseModel, load_base
from dlcore.lazy import LazyCache

__all__ = ["RESULTS", "run_iterative", "run_one_shot", "run_lottery", "run_distillation", "EarlyExitResult",
           "run_early_exit", "LowRankResult", "run_low_rank", "clear_results", "peek_result"]

#: Finished heavy results: (what, data name, config...) -> result.
RESULTS: LazyCache[tuple, Any] = LazyCache("compression results", max_extra=64)  # small results (≤ a few MB each)


def _key(*parts: Any) -> tuple:
    return tuple(dataclasses.astuple(p) if dataclasses.is_dataclass(p) else p for p in parts)


def _cached(key: tuple, run: Callable[[], Any], cache: bool) -> Any:
    if not cache:
        return run()
    result = RESULTS.get(key, run)  # load once: a concurrent identical request waits for this run
    if getattr(result, "status", "finished") != "finished":
        RESULTS.discard(key)  # a stopped run is returned but not kept
    return result


def clear_results() -> None:
    """Forget every cached result."""
    RESULTS.clear()


def peek_result(what: Literal["iterative", "lottery", "distill"], config: Any = None,
                kind: Literal["mlp", "cnn"] = "mlp") -> Any | None:
    """The finished result of an earlier :func:`run_iterative` / :func:`run_lottery` /
    :func:`run_distillation` with ``config`` (None = the default config), or None. Never runs
    anything (only the data set is looked up, to name the cached entry)."""
    if what == "iterative":
        key = _key("iterative", load_base_name(kind), config or IterativeConfig())
    elif what == "lottery":
        key = _key("lottery", load_base_name("mlp"), config or LotteryConfig())
    elif what == "distill":
        key = _key("distill", load_base_name("cnn"), config or DistillConfig())
    else:
        raise ValueError(f"what {what!r} is not 'iterative', 'lottery' or 'distill'")
    return RESULTS.peek(key)


def run_iterative(kind: Literal["mlp", "cnn"] = "mlp", config: IterativeConfig | None = None,
                  callback: ProgressCallback | None = None, stop_event: threading.Event | None = None,
                  cache: bool = True) -> IterativeResult:
    """The notes' prune → fine-tune loop on LeNet-300-100 (``"mlp"``) or the CNN; see
    :func:`~dlcore.compression.iterative.iterative_prune`. Cached per (data, config)."""
    cfg = config or IterativeConfig()
    cfg.validate()

    def run() -> IterativeResult:
        base = load_base(kind)
        return iterative_prune(base.model, base.split, cfg, callback, stop_event)

    name = load_base_name(kind)
    return _cached(_key("iterative", name, cfg), run, cache)


def load_base_name(kind: Literal["mlp", "cnn", "multi_exit"]) -> str:
    """The zoo name :func:`~dlcore.compression.measure.load_base` picks here (data-dependent)."""
    from dlcore import zoo

    name = {"mlp": "fmnist_lenet300", "cnn": "fmnist_cnn", "multi_exit": "fmnist_multiexit"}.get(kind)
    if name is None:
        raise ValueError(f"kind {kind!r} is not 'mlp', 'cnn' or 'multi_exit'")
    try:
        zoo.load_data(name)
    except zoo.ZooDataUnavailable:
        name = zoo.TWINS[name]
    return name


def run_one_shot(kind: Literal["mlp", "cnn"] = "mlp", sparsities: tuple[float, ...] = (0.0, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95),
                 criterion: str = "magnitude", scope: str = "global") -> list[tuple[float, float]]:
    """Accuracy after one-shot pruning *without* fine-tuning at each sparsity (cheap, cached)."""
    def run() -> list[tuple[float, float]]:
        base = load_base(kind)
        return one_shot_curve(base.model, base.split, list(sparsities), criterion, scope)  # type: ignore[arg-type]
    return _cached(_key("one_shot", load_base_name(kind), tuple(sparsities), criterion, scope), run, True)


def run_lottery(config: LotteryConfig | None = None, callback: ProgressCallback | None = None,
                stop_event: threading.Event | None = None, cache: bool = True) -> LotteryResult:
    """Lottery ticket on LeNet-300-100 (or its digits twin); cached per config."""
    cfg = config or LotteryConfig()
    cfg.validate()
    name = load_base_name("mlp")

    def run() -> LotteryResult:
        from dlcore import zoo

        return lottery_ticket(name, zoo.load_data(name), cfg, callback, stop_event)
    return _cached(_key("lottery", name, cfg), run, cache)


def run_distillation(config: DistillConfig | None = None, callback: ProgressCallback | None = None,
                     stop_event: threading.Event | None = None, cache: bool = True) -> DistillResult:
    """Teacher ``fmnist_cnn`` (or ``digits_cnn``) → student, alone vs distilled; cached per config."""
    from dlcore import zoo

    cfg = config or DistillConfig()
    cfg.validate()
    name = load_base_name("cnn")

    def run() -> DistillResult:
        return distill(zoo.get(name), zoo.load_data(name), cfg, teacher_name=name, callback=callback,
                       stop_event=stop_event)
    return _cached(_key("distill", name, cfg), run, cache)


@dataclass
class EarlyExitResult:
    """Accuracy vs compute of the shipped multi-exit CNN: one point per threshold, the MACs of
    leaving at each exit, every exit's own accuracy, and the full-depth reference."""

    name: str
    points: list[ExitPoint]
    exit_macs: list[int]
    exit_accuracy: list[float]
    criterion: str


def run_early_exit(thresholds: tuple[float, ...] | None = None, criterion: ExitCriterion = "max_prob",
                   eval_examples: int = 10_000) -> EarlyExitResult:
    """Sweep the exit threshold of the zoo's multi-exit CNN (logits computed once and cached)."""
    from dlcore import zoo
    from dlcore.compression._validate import check_choice, check_int

    check_choice("criterion", criterion, EXIT_CRITERIA)
    n = check_int("eval_examples", eval_examples, 1, 100_000)
    taus = list(thresholds) if thresholds is not None else [i / 40 for i in range(41)]
    name = load_base_name("multi_exit")

    def logits() -> tuple[torch.Tensor, torch.Tensor, list[int]]:
        model, split = zoo.get(name), zoo.load_data(name)
        return (all_exit_logits(model, split.x_test[:n]), split.y_test[:n],
                exit_macs(model, tuple(split.x_test.shape[1:])))

    z, y, macs = RESULTS.get(("exit_logits", name, n), logits)
    acc = (z.argmax(-1) == y[None]).float().mean(1)
    return EarlyExitResult(name, exit_sweep(z, y, macs, taus, criterion), macs, [float(a) for a in acc], criterion)


@dataclass
class LowRankResult:
    """The layer's singular values and the accuracy/size sweep over K."""

    layer: str
    shape: tuple[int, int]
    singular_values: torch.Tensor
    points: list[LowRankPoint]
    dense_accuracy: float


def run_low_rank(kind: Literal["mlp", "cnn"] = "mlp", layer: str | None = None,
                 ranks: tuple[int, ...] | None = None) -> LowRankResult:
    """SVD of one Linear layer (default the first: LeNet's 784→300 ``fc1``) at each rank K."""
    from dlcore.compression.lowrank import linear_layers
    from dlcore.compression.measure import accuracy

    base: BaseModel = load_base(kind)
    name = layer or linear_layers(base.model)[0]
    lin: nn.Linear = _layer(base.model, name)
    r = min(lin.weight.shape)
    ks = list(ranks) if ranks is not None else sorted({k for k in (1, 2, 5, 10, 20, 30, 50, 75, 100, 150, 200, r) if k <= r})
    points = rank_sweep(base.model, base.split, name, ks)
    return LowRankResult(name, tuple(lin.weight.shape), singular_values(lin), points,  # type: ignore[arg-type]
                         accuracy(base.model, base.split.x_test, base.split.y_test))
