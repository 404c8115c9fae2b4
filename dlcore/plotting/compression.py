"""Figures for network compression (notes §9.2). Each takes a result of :mod:`dlcore.compression`
and returns a ``Figure`` (object-oriented matplotlib, house style):

* :func:`sparsity_bars` — zeros per layer after pruning;
* :func:`accuracy_vs_sparsity` — the iterative loop (after pruning / after fine-tuning) vs one-shot
  pruning without fine-tuning;
* :func:`latency_bars` — latency per way of running a model at batch 1 and 1024 (e.g. dense,
  masked, baked, CSR: unstructured zeros give no speed-up);
* :func:`size_accuracy_scatter` — every variant of the one table: file size vs accuracy (clean
  and under attack);
* :func:`lottery_curves` — the ticket retrained from θ₀ vs a random re-init vs signs kept;
* :func:`distillation_curves` — the student alone vs distilled;
* :func:`low_rank_figure` — singular value spectrum, and accuracy / weights vs K;
* :func:`early_exit_curve` — accuracy vs average compute as the exit threshold moves;
* :func:`paper_check_bars` — each paper check, pass/fail with its numbers;
* :func:`soft_labels_figure` — a teacher's class probabilities at temperature 1 and T;
* :func:`codebook_histogram` — a layer's weights and the k-means codebook that replaces them.

The table itself (:class:`~dlcore.compression.table.CompressionTable`) is figure-free: a UI
shows ``table.records()`` under ``table.columns`` in a Dataframe.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping, Sequence

from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import PercentFormatter

from dlcore.plotting import PALETTE, new_figure

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from dlcore.compression.checks import PaperCheck
    from dlcore.compression.distillation import DistillResult, SoftLabels
    from dlcore.compression.experiments import EarlyExitResult, LowRankResult
    from dlcore.compression.iterative import IterativeResult
    from dlcore.compression.lottery import LotteryResult
    from dlcore.compression.measure import Latency
    from dlcore.compression.pruning import LayerSparsity
    from dlcore.compression.table import CompressionTable

__all__ = ["sparsity_bars", "accuracy_vs_sparsity", "latency_bars", "size_accuracy_scatter", "lottery_curves",
           "distillation_curves", "low_rank_figure", "early_exit_curve", "paper_check_bars", "soft_labels_figure",
           "codebook_histogram"]

_GREEN, _RED, _GREY = "#16a34a", "#dc2626", "#9ca3af"


def sparsity_bars(layers: Sequence["LayerSparsity"], title: str = "Zeros per layer") -> Figure:
    """Bar per layer: fraction of its weights that are zero, labelled with ``zeros / total``."""
    if not layers:
        raise ValueError("sparsity_bars needs at least one layer")
    fig, ax = new_figure(figsize=(max(4.5, 1.1 * len(layers) + 2), 3.4))
    xs = range(len(layers))
    vals = [layer.sparsity for layer in layers]
    ax.bar(xs, vals, color=PALETTE[0])
    for x, layer in zip(xs, layers):
        ax.text(x, layer.sparsity + 0.02, f"{layer.zeros:,}/{layer.total:,}", ha="center", fontsize=8)
    ax.set_xticks(list(xs), [f"{layer.name}\n{'×'.join(map(str, layer.shape))}" for layer in layers], fontsize=8)
    ax.set_ylim(0, 1.12)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    total = sum(layer.total for layer in layers)
    ax.set_title(f"{title} (overall {sum(layer.zeros for layer in layers) / max(total, 1):.1%})")
    ax.set_ylabel("sparsity")
    return fig


def accuracy_vs_sparsity(result: "IterativeResult | None",
                         one_shot: Sequence[tuple[float, float]] | None = None) -> Figure:
    """Accuracy after each round's pruning and after its fine-tuning; one-shot without fine-tuning.
    With ``result=None`` only the one-shot curve (before any loop has run)."""
    fig, ax = new_figure(figsize=(6.2, 3.8))
    if result is None:
        if not one_shot:
            raise ValueError("accuracy_vs_sparsity needs a result or a one-shot curve")
        xs, ys = zip(*sorted(one_shot))
        ax.plot(xs, ys, "s:", color=PALETTE[1], label="one-shot, no fine-tuning")
        ax.axhline(ys[0] - 0.01, color=_GREY, lw=1, ls="--", label="dense − 1 point")
        ax.xaxis.set_major_formatter(PercentFormatter(1.0))
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.set(xlabel="weights pruned", ylabel="test accuracy", title="One-shot pruning, no fine-tuning")
        ax.legend(fontsize=8, loc="lower left")
        return fig
    s = [0.0] + [r.sparsity for r in result.rounds]
    ax.plot(s, [result.base_accuracy] + [r.acc_finetuned for r in result.rounds], "o-", color=PALETTE[0],
            label="pruned + fine-tuned (iterative)")
    ax.plot(s[1:], [r.acc_pruned for r in result.rounds], "v--", color=PALETTE[3], label="right after pruning")
    if one_shot:
        xs, ys = zip(*sorted(one_shot))
        ax.plot(xs, ys, "s:", color=PALETTE[1], label="one-shot, no fine-tuning")
    ax.axhline(result.base_accuracy - 0.01, color=_GREY, lw=1, ls="--", label="dense − 1 point")
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set(xlabel="weights pruned", ylabel="test accuracy",
           title=f"Prune → fine-tune ({len(result.rounds)} rounds, {result.seconds:.0f} s)")
    ax.legend(fontsize=8, loc="lower left")
    return fig


def latency_bars(latency: Mapping[str, Mapping[int, "Latency"]], title: str = "Latency") -> Figure:
    """Two panels (batch 1, batch 1024): median thread-CPU ms per run, as a multiple of the first
    run's time (below 1× = faster)."""
    names = list(latency)
    if not names:
        raise ValueError("latency_bars needs at least one run")
    batches = sorted(next(iter(latency.values())))
    fig, axes = new_figure(1, len(batches), figsize=(4.6 * len(batches) + 0.6, 3.6), squeeze=False)
    for ax, b in zip(axes[0], batches):
        vals = [latency[n][b].cpu_ms for n in names]
        ax.barh(range(len(names)), vals, color=[PALETTE[i % len(PALETTE)] for i in range(len(names))])
        for i, v in enumerate(vals):
            ax.text(v, i, f" {v:.3g} ms ({v / vals[0]:.2f}× {names[0]})", va="center", fontsize=8)
        ax.set_yticks(range(len(names)), names, fontsize=8)
        ax.invert_yaxis()
        ax.set_xlim(0, max(vals) * 1.75)
        ax.set(xlabel="ms per forward (thread CPU time)", title=f"batch {b}")
    first = latency[names[0]][batches[0]]
    fig.suptitle(f"{title} — {first.threads} thread(s), median of {first.repeats}, load {first.load_avg}")
    return fig


def size_accuracy_scatter(table: "CompressionTable") -> Figure:
    """File size (log) vs accuracy per variant: clean accuracy on the left, accuracy under the
    table's attack on the right (when one was run). Points carry numbers; the key lists them."""
    rows = [r for r in table.rows if r.status == "ok" and r.disk_bytes]
    if not rows:
        raise ValueError("the table has no measured rows")
    robust = any(r.robust_accuracy is not None for r in rows)
    panels = 2 if robust else 1
    fig, axes = new_figure(1, panels, figsize=(5.0 * panels + 2.4, 4.4), squeeze=False)
    families = sorted({r.family for r in rows})
    color = {f: PALETTE[i % len(PALETTE)] for i, f in enumerate(families)}
    marker = {f: "os^DvPX*h"[i % 9] for i, f in enumerate(families)}
    specs = [("accuracy", "clean test accuracy")] + ([("robust_accuracy", f"under {table.attack}")] if robust else [])
    for ax, (field, title) in zip(axes[0], specs):
        for i, r in enumerate(rows, 1):
            y = getattr(r, field)
            if y is None:
                continue
            kb = r.disk_bytes / 1024
            ax.scatter(kb, y, color=color[r.family], marker=marker[r.family], s=30, zorder=3)
            ax.annotate(str(i), (kb, y), textcoords="offset points", xytext=(3, 3 if i % 2 else -9), fontsize=7)
        ax.set_xscale("log")
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.set(xlabel="size on disk (KiB, log)", title=title)
    axes[0][0].set_ylabel("test accuracy")
    for f in families:
        axes[0][0].scatter([], [], color=color[f], marker=marker[f], label=f)
    axes[0][0].legend(fontsize=7, loc="lower right")
    blank = [Line2D([], [], lw=0) for _ in rows]
    fig.legend(blank, [f"{i:>2}  {r.variant}" for i, r in enumerate(rows, 1)], loc="outside right upper",
               fontsize=7, handlelength=0, handletextpad=0, title="variants", title_fontsize=8,
               prop={"family": "monospace", "size": 7})
    fig.suptitle("Size vs accuracy of every variant")
    return fig


def _curves(ax, curves: Mapping[str, Sequence[tuple[int, float]]], colors: Mapping[str, str]) -> None:
    for i, (name, pts) in enumerate(curves.items()):
        xs, ys = zip(*pts)
        ax.plot(xs, ys, "o-", ms=3, color=colors.get(name, PALETTE[i % len(PALETTE)]),
                label=f"{name} ({ys[-1]:.1%})")
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.legend(fontsize=8, loc="lower right")


def lottery_curves(result: "LotteryResult") -> Figure:
    """Test accuracy vs training step of the ticket from θ₀, random re-init, signs kept (and dense)."""
    fig, ax = new_figure(figsize=(6.2, 3.8))
    _curves(ax, result.curves, {"original": PALETTE[2], "random": PALETTE[1], "signs": PALETTE[4],
                                "dense": _GREY})
    lo = min(a for pts in result.curves.values() for _, a in pts[1:]) if result.curves else 0
    ax.set_ylim(max(0.0, lo - 0.05), 1.0)
    ax.set(xlabel="training step", ylabel="test accuracy",
           title=f"Lottery ticket: {result.sparsity:.0%} pruned, retrained from …")
    return fig


def distillation_curves(result: "DistillResult") -> Figure:
    """Test accuracy vs step of the student alone and distilled (same init, batches, steps)."""
    fig, ax = new_figure(figsize=(6.2, 3.8))
    ax.axhline(result.teacher_accuracy, color=_GREY, ls="--", lw=1, label=f"teacher ({result.teacher_accuracy:.1%})")
    _curves(ax, result.curves, {"alone": PALETTE[1], "distilled": PALETTE[0]})
    cfg = result.config
    lo = min(a for pts in result.curves.values() for _, a in pts[1:]) if result.curves else 0
    ax.set_ylim(max(0.0, lo - 0.05), min(1.0, result.teacher_accuracy + 0.03))
    ax.set(xlabel="training step", ylabel="test accuracy",
           title=f"Distillation (T = {cfg.temperature:g}, α = {cfg.alpha:g}): {result.student_params:,} vs "
                 f"{result.teacher_params:,} params" if cfg else "Distillation")
    return fig


def low_rank_figure(result: "LowRankResult") -> Figure:
    """Left: singular values σ_i (log). Right: accuracy vs K, with weights N·K + K·M vs N·M."""
    fig, (a1, a2) = new_figure(1, 2, figsize=(10.5, 3.8))
    s = result.singular_values.detach().cpu().numpy()
    a1.semilogy(range(1, len(s) + 1), s, color=PALETTE[0])
    a1.set(xlabel="i", ylabel="σ_i (log)", title=f"Singular values of {result.layer} {result.shape[0]}×{result.shape[1]}")
    ks = [p.rank for p in result.points]
    a2.plot(ks, [p.accuracy for p in result.points], "o-", color=PALETTE[0], label="accuracy")
    a2.axhline(result.dense_accuracy, color=_GREY, ls="--", lw=1, label="dense")
    a2.yaxis.set_major_formatter(PercentFormatter(1.0))
    a2.set(xlabel="rank K", ylabel="test accuracy", title="Accuracy and weights vs K (no retraining)")
    tw = a2.twinx()
    tw.plot(ks, [p.ratio for p in result.points], "s--", color=PALETTE[3], ms=3, label="(N·K + K·M) / N·M")
    tw.axhline(1.0, color=PALETTE[3], lw=0.6, ls=":")
    tw.set_ylabel("weights vs dense", color=PALETTE[3])
    tw.grid(False)
    h1, l1 = a2.get_legend_handles_labels()
    h2, l2 = tw.get_legend_handles_labels()
    a2.legend(h1 + h2, l1 + l2, fontsize=8, loc="center right")
    return fig


def early_exit_curve(result: "EarlyExitResult") -> Figure:
    """Left: accuracy vs mean MACs per example as τ moves. Right: fraction leaving at each exit vs τ."""
    fig, (a1, a2) = new_figure(1, 2, figsize=(10.5, 3.8))
    macs = [p.mean_macs / 1e6 for p in result.points]
    a1.plot(macs, [p.accuracy for p in result.points], "o-", ms=3, color=PALETTE[0], label="early exit, τ swept")
    for i, (m, a) in enumerate(zip(result.exit_macs, result.exit_accuracy)):
        a1.scatter(m / 1e6, a, marker="*", s=80, color=PALETTE[1 + i], zorder=3, label=f"always exit {i + 1}")
    a1.yaxis.set_major_formatter(PercentFormatter(1.0))
    a1.set(xlabel="mean MMACs per image", ylabel="test accuracy", title="Accuracy vs compute")
    a1.legend(fontsize=8, loc="lower right")
    taus = [p.threshold for p in result.points]
    bottom = [0.0] * len(taus)
    for i in range(len(result.exit_macs)):
        fr = [p.exit_fractions[i] for p in result.points]
        a2.fill_between(taus, bottom, [b + f for b, f in zip(bottom, fr)], color=PALETTE[1 + i], alpha=0.7,
                        label=f"exit {i + 1}")
        bottom = [b + f for b, f in zip(bottom, fr)]
    a2.set_ylim(0, 1)
    a2.yaxis.set_major_formatter(PercentFormatter(1.0))
    a2.set(xlabel=f"threshold τ ({result.criterion})", ylabel="images leaving here", title="Where images exit")
    a2.legend(fontsize=8, loc="upper left")
    return fig


def paper_check_bars(checks: Sequence["PaperCheck"]) -> Figure:
    """One row per check: green pass / red fail, with the measured detail as its label."""
    if not checks:
        raise ValueError("paper_check_bars needs at least one check")
    fig, ax = new_figure(figsize=(8.6, 0.7 * len(checks) + 1.2))
    ax.grid(False)
    for i, c in enumerate(checks):
        ax.barh(i, 1, color=_GREEN if c.passed else _RED, alpha=0.85)
        ax.text(0.02, i, f"{'PASS' if c.passed else 'FAIL'}  {c.claim}\n{c.detail}", va="center", fontsize=8,
                color="white")
    ax.set_yticks(range(len(checks)), [f"{c.name}\n({c.paper})" for c in checks], fontsize=8)
    ax.invert_yaxis()
    ax.set_xticks([])
    ax.set_xlim(0, 1)
    ax.set_title("Paper checks, measured here")
    return fig


def soft_labels_figure(soft: "SoftLabels", classes: Sequence[str], image: "torch.Tensor | None" = None,
                       caption: str = "") -> Figure:
    """The input (optional, left) and the teacher's probabilities per class at each temperature."""
    if len(classes) != soft.probs.shape[1]:
        raise ValueError(f"{len(classes)} class names for {soft.probs.shape[1]} classes")
    panels = 2 if image is not None else 1
    fig, axes = new_figure(1, panels, figsize=(7.6 if panels == 2 else 6.0, 3.8), squeeze=False,
                           gridspec_kw={"width_ratios": [1, 3]} if panels == 2 else None)
    if image is not None:
        a0 = axes[0][0]
        a0.imshow(image.detach().float().cpu().reshape(image.shape[-2], image.shape[-1]).numpy(), cmap="gray",
                  vmin=0, vmax=1)
        a0.set_axis_off()
        a0.set_title(caption or "input", fontsize=9)
    ax = axes[0][-1]
    k, width = len(soft.temperatures), 0.8 / len(soft.temperatures)
    for j, (t, p, h) in enumerate(zip(soft.temperatures, soft.probs, soft.entropy)):
        xs = [i + (j - (k - 1) / 2) * width for i in range(len(classes))]
        ax.bar(xs, p.tolist(), width, color=PALETTE[j % len(PALETTE)], label=f"T = {t:g} (entropy {h:.2f} nats)")
    ax.set_xticks(range(len(classes)), list(classes), rotation=40, ha="right", fontsize=8)
    ax.set_ylim(0, 1.32)  # the band above 100 % holds the legend, clear of every bar
    ax.set_yticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set(ylabel="teacher's probability", title="Soft labels: softmax(z / T)")
    ax.legend(fontsize=8, loc="upper left", ncols=2)
    return fig


def codebook_histogram(weight: "torch.Tensor", codebook: "torch.Tensor", title: str = "Weights and codebook") -> Figure:
    """Histogram of a layer's weights with a vertical line at every shared value (centroid)."""
    w = weight.detach().float().flatten().cpu().numpy()
    c = codebook.detach().float().flatten().cpu().numpy()
    if w.size == 0 or c.size == 0:
        raise ValueError("codebook_histogram needs weights and a codebook")
    fig, ax = new_figure(figsize=(6.2, 3.4))
    ax.hist(w, bins=120, color=PALETTE[0], alpha=0.8, label=f"{w.size:,} weights")
    for i, v in enumerate(c):
        ax.axvline(float(v), color=PALETTE[1], lw=0.8, label=f"{c.size} shared values" if i == 0 else None)
    ax.set_yscale("log")
    ax.set(xlabel="weight value", ylabel="count (log)", title=title)
    ax.legend(fontsize=8, loc="upper right")
    return fig
