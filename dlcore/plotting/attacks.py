"""Figures for adversarial attacks and defences.

Every function takes a result dataclass of :mod:`dlcore.attacks` / :mod:`dlcore.defenses` and
returns a ``Figure`` (object-oriented matplotlib, house style, no pyplot):

* :func:`attack_images` — original / perturbation (amplified, L∞ and L2 in the title) / adversarial;
* :func:`attack_arrays` — the same three pictures as RGB arrays (no figure: ~1 ms, for image widgets);
* :func:`topk_bars` — top-k predictions before and after;
* :func:`loss_per_step` — the attack's loss per step (mean, and each image when few);
* :func:`accuracy_curves` — accuracy vs ε per model and attack;
* :func:`blackbox_summary` — success rate and queries of black-box and transfer attacks;
* :func:`substitute_rounds` — the substitute's agreement with the target per round;
* :func:`defense_bars` — clean / defended / plain-attack / adaptive-attack accuracy per defence;
* :func:`retrain_rounds` — the notes' attack → augment → retrain loop, per round;
* :func:`paper_check_bars` — the Madry et al. check, measured vs the rule.
"""

from __future__ import annotations

import math
import textwrap
from typing import TYPE_CHECKING, Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

from dlcore.plotting import PALETTE, _to_hwc, new_figure

if TYPE_CHECKING:  # pragma: no cover
    from dlcore.attacks.base import AttackResult
    from dlcore.attacks.curves import AccuracyCurves
    from dlcore.zoo.robust_check import PaperCheck
    from dlcore.attacks.surrogate import SubstituteResult, TransferResult
    from dlcore.defenses.adaptive import DefenseRow
    from dlcore.defenses.training import RetrainResult

__all__ = ["attack_images", "attack_arrays", "topk_bars", "loss_per_step", "accuracy_curves", "blackbox_summary",
           "substitute_rounds", "defense_bars", "retrain_rounds", "paper_check_bars"]

_GREEN, _RED, _GREY = "#16a34a", "#dc2626", "#9ca3af"


def _name(classes: Sequence[str] | None, k: int) -> str:
    return classes[k] if classes is not None and 0 <= k < len(classes) else str(k)


def _check_index(result: "AttackResult", index: int) -> int:
    n = len(result.y)
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < n:
        raise ValueError(f"image index {index!r} must be a whole number in [0, {n - 1}]")
    return index


def attack_images(result: "AttackResult", index: int = 0, classes: Sequence[str] | None = None,
                  amplify: float | None = None) -> Figure:
    """Original, perturbation and adversarial image of one attacked example.

    The perturbation δ is shown amplified (default: scaled so its largest pixel fills the colour
    range) in a diverging map, with ``‖δ‖∞`` and ``‖δ‖₂`` in its title.
    """
    i = _check_index(result, index)
    x, xa, d = result.x[i], result.x_adv[i], (result.x_adv[i] - result.x[i])
    peak = float(d.abs().max())
    amp = amplify if amplify is not None else (1.0 / peak if peak > 0 else 1.0)
    pb, pa = result.probs_before[i], result.probs_after[i]
    kb, ka = int(pb.argmax()), int(pa.argmax())
    y = int(result.y[i])
    fig, axes = new_figure(1, 3, figsize=(9.0, 3.4))
    for ax in axes:
        ax.axis("off")
    axes[0].imshow(_to_hwc(x), cmap="gray", vmin=0, vmax=1)
    axes[0].set_title(f"original: {_name(classes, kb)} ({100 * float(pb[kb]):.0f} %)\ntrue: {_name(classes, y)}",
                      color=_GREEN if kb == y else _RED, fontsize=10)
    axes[1].imshow(_to_hwc(d * amp), cmap="RdBu_r", vmin=-1, vmax=1)
    axes[1].set_title(f"perturbation ×{amp:.3g}\nL∞ = {float(result.linf[i]):.3f}, L2 = {float(result.l2[i]):.3f}",
                      fontsize=10)
    goal = int(result.target[i]) if result.target is not None else None
    ok = bool(result.success[i])
    axes[2].imshow(_to_hwc(xa), cmap="gray", vmin=0, vmax=1)
    extra = f"\ntarget: {_name(classes, goal)}" if goal is not None else ""
    axes[2].set_title(f"adversarial: {_name(classes, ka)} ({100 * float(pa[ka]):.0f} %){extra}",
                      color=_RED if ok else _GREEN, fontsize=10)
    fig.suptitle(f"{result.attack}: attack {'succeeded' if ok else 'failed'}", fontsize=11)
    return fig


def attack_arrays(result: "AttackResult", index: int = 0, scale: int = 8,
                  amplify: float | None = None) -> dict[str, np.ndarray]:
    """Original, amplified perturbation and adversarial image as ``(H·scale, W·scale, 3)`` uint8
    RGB arrays (nearest-neighbour upscaling, the perturbation in the diverging map of
    :func:`attack_images`), plus the amplification used under ``"amplify"`` (a 0-d array)."""
    from matplotlib import colormaps

    i = _check_index(result, index)
    if isinstance(scale, bool) or not isinstance(scale, int) or not 1 <= scale <= 32:
        raise ValueError(f"scale {scale!r} must be a whole number in [1, 32]")
    d = (result.x_adv[i] - result.x[i]).float()
    peak = float(d.abs().max())
    amp = amplify if amplify is not None else (1.0 / peak if peak > 0 else 1.0)

    def rgb(img: np.ndarray, cmap: str, lo: float, hi: float) -> np.ndarray:
        u = np.clip((img - lo) / (hi - lo), 0, 1)
        out = (colormaps[cmap](u)[..., :3] * 255).round().astype(np.uint8)  # (H, W, 3)
        return out.repeat(scale, 0).repeat(scale, 1)

    gray = lambda t: _to_hwc(t) if t.shape[0] == 1 else _to_hwc(t).mean(-1)  # noqa: E731
    return {"original": rgb(gray(result.x[i]), "gray", 0, 1),
            "perturbation": rgb(gray(d * amp), "RdBu_r", -1, 1),
            "adversarial": rgb(gray(result.x_adv[i]), "gray", 0, 1), "amplify": np.asarray(amp)}


def topk_bars(result: "AttackResult", index: int = 0, k: int = 5, classes: Sequence[str] | None = None) -> Figure:
    """Top-k class probabilities before (left) and after (right) the attack; the true class is
    green, the target (targeted attacks) red."""
    i = _check_index(result, index)
    y = int(result.y[i])
    goal = int(result.target[i]) if result.target is not None else None
    fig, axes = new_figure(1, 2, figsize=(9.0, 0.45 * min(k, 10) + 1.6))
    for ax, after, title in ((axes[0], False, "before"), (axes[1], True, "after")):
        p, c = result.topk(k, after=after)
        p, c = p[i].numpy()[::-1], c[i].numpy()[::-1]
        colors = [_GREEN if int(j) == y else _RED if goal is not None and int(j) == goal else PALETTE[0] for j in c]
        ax.barh(range(len(p)), p, color=colors)
        ax.set_yticks(range(len(p)), labels=[_name(classes, int(j)) for j in c])
        for r, v in enumerate(p):
            ax.text(min(v + 0.02, 0.82), r, f"{100 * v:.1f} %", va="center", fontsize=9)
        ax.set(xlim=(0, 1), title=f"top-{len(p)} {title} the attack")
        ax.xaxis.set_major_formatter(PercentFormatter(1.0))
        ax.grid(axis="y", visible=False)
    return fig


def loss_per_step(result: "AttackResult", max_lines: int = 16) -> Figure:
    """The loss the attack drives, per step (step 0 = its starting point): the mean over images,
    and each image as a thin line when there are at most ``max_lines``."""
    fig, ax = new_figure(figsize=(5.6, 3.4))
    steps = np.arange(len(result.loss_per_step))
    hist = result.loss_history
    if hist is not None and 1 < hist.shape[1] <= max_lines:
        ax.plot(steps, hist.numpy(), color=_GREY, lw=0.8, alpha=0.7)
    ax.plot(steps, result.loss_per_step.numpy(), color=PALETTE[0], lw=2, marker="o" if len(steps) <= 25 else None,
            ms=3, label="mean over images" if hist is not None and hist.shape[1] > 1 else None)
    ax.set(xlabel="step", ylabel=result.loss_name, title=f"{result.attack}: loss per step")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if hist is not None and hist.shape[1] > 1:
        ax.legend(fontsize=9)
    return fig


def accuracy_curves(curves: "AccuracyCurves", title: str = "") -> Figure:
    """Accuracy vs ε: one colour per model, solid PGD and dashed FGSM; points not computed yet
    are left out."""
    fig, ax = new_figure(figsize=(9.2, 4.0))
    styles = {"pgd": "-", "fgsm": "--"}
    for c, m in enumerate(curves.models):
        for a in curves.attacks:
            pts = sorted((e, v) for e, v in zip(curves.eps, curves.accuracy[m][a]) if not math.isnan(v))
            if pts:
                ax.plot(*zip(*pts), ls=styles.get(a, ":"), marker="o", ms=3, color=PALETTE[c % len(PALETTE)],
                        label=f"{m}, {a.upper()}")
    ax.set(xlabel="ε (L∞)", ylabel="accuracy", ylim=(0, 1.02),
           title=title or f"accuracy vs ε ({curves.n} test images, PGD-{curves.steps})")
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.legend(fontsize=9, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0)  # beside: never over a curve
    if curves.stopped:
        ax.text(0.02, 0.03, "stopped early", transform=ax.transAxes, color=_RED, fontsize=9)
    return fig


def blackbox_summary(results: Mapping[str, "AttackResult"], transfer: "TransferResult | None" = None) -> Figure:
    """Success rate (left) and mean queries per image (right, log scale) of each black-box attack,
    plus the transfer attack (its queries = the substitute's label queries + evaluation)."""
    names = list(results)
    rates = [results[n].success_rate for n in names]
    queries = [float(results[n].queries.float().mean()) for n in names]
    if transfer is not None:
        names.append("transfer (substitute)")
        rates.append(transfer.transfer_success_rate)
        queries.append(transfer.queries / max(len(transfer.result.y), 1))
    fig, axes = new_figure(1, 2, figsize=(9.6, 0.5 * len(names) + 1.8))
    pos = range(len(names))
    axes[0].barh(pos, [0 if math.isnan(r) else r for r in rates], color=PALETTE[1])
    axes[0].set(xlim=(0, 1), title="success rate")
    axes[0].xaxis.set_major_formatter(PercentFormatter(1.0))
    axes[1].barh(pos, queries, color=PALETTE[0])
    axes[1].set_xscale("log")
    axes[1].set(title="queries per image (log)")
    for ax in axes:
        ax.set_yticks(list(pos), labels=names if ax is axes[0] else [""] * len(names))
        ax.grid(axis="y", visible=False)
    for r, (rate, q) in enumerate(zip(rates, queries)):
        axes[0].text((0 if math.isnan(rate) else min(rate, 0.85)) + 0.01, r,
                     "n/a" if math.isnan(rate) else f"{100 * rate:.0f} %", va="center", fontsize=9)
        axes[1].text(q, r, f" {q:,.0f}", va="center", fontsize=9)
    return fig


def substitute_rounds(sub: "SubstituteResult") -> Figure:
    """Training-set size / label queries and (when measured) agreement with the target per round."""
    fig, ax = new_figure(figsize=(5.6, 3.4))
    r = [int(d["round"]) for d in sub.rounds]
    ax.bar(r, [d["queries"] for d in sub.rounds], color=_GREY, label="label queries so far")
    ax.set(xlabel="round ρ", ylabel="label queries", title=f"substitute ({sub.config['arch']}), "
                                                           f"{sub.queries:,} label queries")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if all("agreement" in d for d in sub.rounds):
        ax2 = ax.twinx()
        ax2.plot(r, [d["agreement"] for d in sub.rounds], color=PALETTE[0], marker="o", label="agreement")
        ax2.set(ylim=(0, 1.02), ylabel="agrees with the target")
        ax2.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax2.grid(False)
    return fig


def defense_bars(rows: Sequence["DefenseRow"], eps: float | None = None) -> Figure:
    """Per passive defence: clean accuracy without/with the shield, and robust accuracy under the
    plain and the adaptive (BPDA/EOT) attack."""
    if not rows:
        raise ValueError("defense_bars needs at least one defence row")
    fig, ax = new_figure(figsize=(max(6.0, 1.3 * len(rows) + 2), 4.0))
    keys = [("clean", "no shield, clean", _GREY), ("defended_clean", "shield, clean", PALETTE[2]),
            ("plain", "shield, plain attack", PALETTE[3]), ("adaptive", "shield, adaptive attack", PALETTE[1])]
    w = 0.8 / len(keys)
    for j, (key, label, color) in enumerate(keys):
        ax.bar([i + (j - 1.5) * w for i in range(len(rows))], [getattr(r, key) for r in rows], w, color=color,
               label=label)
    ax.set_xticks(range(len(rows)), fontsize=9,
                  labels=["\n".join(textwrap.wrap(r.display_name, 13)) + f"\n({r.mode})" for r in rows])
    ax.set(ylim=(0, 1.05), ylabel="accuracy",
           title="passive defences: their cost and the adaptive attack" + (f" (ε = {eps:g})" if eps else ""))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.legend(fontsize=9, ncols=2, loc="upper center", bbox_to_anchor=(0.5, -0.22))
    ax.grid(axis="x", visible=False)
    return fig


def retrain_rounds(result: "RetrainResult") -> Figure:
    """Clean and robust test accuracy after each round of attack → augment → retrain."""
    fig, ax = new_figure(figsize=(5.6, 3.4))
    r = [x.round for x in result.rounds]
    ax.plot(r, [x.clean_accuracy for x in result.rounds], marker="o", color=PALETTE[0], label="clean")
    ax.plot(r, [x.robust_accuracy for x in result.rounds], marker="o", color=PALETTE[1],
            label=f"under {result.config['attack'].upper()} (ε = {result.config['eps']:g})")
    ax.set(xlabel="round (0 = before retraining)", ylabel="test accuracy", ylim=(0, 1.02),
           title="attack → add D_adv → retrain → repeat")
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(fontsize=9)
    return fig


def paper_check_bars(check: "PaperCheck") -> Figure:
    """The measured figures of the Madry et al. check, green where its rule passes, red where not."""
    rows = check.rows
    fig, ax = new_figure(figsize=(7.6, 0.55 * len(rows) + 1.6))
    colors = [_GREY if r.passed is None else _GREEN if r.passed else _RED for r in rows]
    ax.barh(range(len(rows))[::-1], [r.measured for r in rows], color=colors)
    ax.set_yticks(range(len(rows))[::-1], labels=[r.label for r in rows], fontsize=9)
    for k, r in zip(range(len(rows))[::-1], rows):
        ax.text(max(r.measured, 0) + 0.01, k, f"{100 * r.measured:.1f} %  {r.rule}", va="center", fontsize=9)
    ax.set(xlim=(0, 1.35), title=f"Madry et al. 2018 check on {check.data}: {'PASS' if check.passed else 'FAIL'}")
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.grid(axis="y", visible=False)
    return fig
