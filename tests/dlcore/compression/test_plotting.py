"""Every compression figure renders from a small result, with legible titles."""

from __future__ import annotations

import pytest
import torch
from matplotlib.figure import Figure

import dlcore.plotting.compression as P
from dlcore.compression import (CompressionTable, DistillConfig, DistillResult, EarlyExitResult, ExitPoint,
                                IterativeResult, LayerSparsity, Latency, LotteryResult, LowRankPoint, LowRankResult,
                                RoundLog, TableRow)
from dlcore.compression.checks import PaperCheck
from dlcore.plotting import figure_to_png
from tests.dlcore.compression.fixtures import make_mlp

LAYERS = [LayerSparsity("fc1", (300, 784), 235200, 211680), LayerSparsity("fc3", (10, 100), 1000, 500)]


def _figures():
    it = IterativeResult(make_mlp(), 0.895, [RoundLog(1, 0.5, 0.88, 0.89, 1.0, LAYERS),
                                             RoundLog(2, 0.9, 0.80, 0.885, 1.0, LAYERS)], seconds=2.0)
    lat = {n: {b: Latency(b, 1.0 + i, 0.9 + i, 5, 1, 0.5) for b in (1, 1024)} for i, n in enumerate(("dense", "csr"))}
    rows = [TableRow("fp32", "fp32", "baseline", "m", "ok", False, 10, 10, 1000, 1500, 1.0, accuracy=0.9,
                     robust_accuracy=0.2),
            TableRow("int8", "int8", "quantization", "m", "ok", True, 10, 10, 250, 1500, 4.0, accuracy=0.89,
                     robust_accuracy=0.25),
            TableRow("int4", "int4", "quantization", "m", "unavailable: no kernel", False)]
    table = CompressionTable(rows, 1, 5, 0.5, 100, 64, "PGD")
    lot = LotteryResult({"original": [(0, 0.3), (10, 0.8)], "random": [(0, 0.1), (10, 0.7)],
                         "signs": [(0, 0.2), (10, 0.75)], "dense": [(0, 0.1), (10, 0.78)]}, 0.9, 0.9)
    dis = DistillResult({"alone": [(0, 0.1), (10, 0.8)], "distilled": [(0, 0.1), (10, 0.82)]}, 0.91, 400, 100,
                        config=DistillConfig())
    lr = LowRankResult("fc1", (300, 784), torch.linspace(5, 0.1, 300),
                       [LowRankPoint(k, 1084 * k, 235200, 1 / k, 1 - 1 / k, 0.5 + k / 1000) for k in (1, 50, 300)], 0.895)
    ee = EarlyExitResult("m", [ExitPoint(t, 0.8 + t / 10, 1e5 * (1 + 2 * t), (1 - t, t / 2, t / 2)) for t in (0, 0.5, 1)],
                         [100_000, 200_000, 300_000], [0.8, 0.87, 0.9], "max_prob")
    checks = [PaperCheck("pruning", "≥ 10×", "Han 2015", "u", True, {}, "12×"),
              PaperCheck("int8", "within 1 point", "Jacob 2018", "u", False, {}, "−2 points")]
    yield P.sparsity_bars(LAYERS), "Zeros per layer"
    yield P.accuracy_vs_sparsity(it, [(0.5, 0.85), (0.9, 0.4)]), "Prune"
    yield P.latency_bars(lat), None
    yield P.size_accuracy_scatter(table), "Size vs accuracy"
    yield P.lottery_curves(lot), "Lottery"
    yield P.distillation_curves(dis), "Distillation"
    yield P.low_rank_figure(lr), "Singular values"
    yield P.early_exit_curve(ee), "Accuracy vs compute"
    yield P.paper_check_bars(checks), "Paper checks"


def test_every_figure_renders_with_its_title() -> None:
    for fig, title in _figures():
        assert isinstance(fig, Figure)
        assert figure_to_png(fig)[:4] == b"\x89PNG"
        if title:
            assert any(title in t for t in [fig.get_suptitle()] + [ax.get_title() for ax in fig.get_axes()])
        for ax in fig.get_axes():
            assert ax.title.get_fontsize() >= 9


def test_empty_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="at least one layer"):
        P.sparsity_bars([])
    with pytest.raises(ValueError, match="no measured rows"):
        P.size_accuracy_scatter(CompressionTable([], 1, 1, 0.0, 1, 1, "none"))
