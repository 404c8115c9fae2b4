"""Figures for explainable AI (:mod:`dlcore.explain`): every function takes its result object
and returns a ``Figure`` (object-oriented matplotlib, no pyplot).

* :func:`explanation_figure` — the image and every method's map side by side, one colour scale;
* :func:`attribution_figure` / :func:`map_figure` — one map (a slider's frame), quick to render;
* :func:`convergence_figure` / :func:`sigma_sweep_figure` — SmoothGrad over n and over σ;
* :func:`faithfulness_figure` — deletion and insertion curves, AUC in the legend;
* :func:`sanity_figure` — each method's map after each randomisation step, with ρ;
* :func:`sanity_curve_figure` — ρ against the randomised layer, one line per method;
* :func:`activation_maximization_figure` — X* step by step, with and without the prior;
* :func:`embedding_figure` — PCA / t-SNE scatter by class with a highlighted point;
* :func:`attack_explanation_figure` — clean and adversarial maps and how far they moved.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import torch
from matplotlib import colormaps
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from dlcore.plotting import PALETTE, new_figure

__all__ = ["explanation_figure", "map_figure", "attribution_figure", "convergence_figure", "sigma_sweep_figure", "faithfulness_figure", "sanity_figure",
           "sanity_curve_figure", "activation_maximization_figure", "embedding_figure", "attack_explanation_figure",
           "MAP_CMAP", "SIGNED_CMAP"]

MAP_CMAP = "inferno"
SIGNED_CMAP = "RdBu_r"
_T = 9  # smallest title size (pt)


def _gray(img: torch.Tensor) -> np.ndarray:
    """(C, H, W) / (1, C, H, W) / (H, W) -> (H, W) numpy in [0, 1] (channel mean)."""
    x = img.detach().float().cpu()
    while x.ndim > 2:
        x = x.mean(0) if x.ndim == 3 else x[0]
    return x.numpy()


def _label(i: int, classes: Sequence[str] | None) -> str:
    return classes[i] if classes and 0 <= i < len(classes) else f"class {i}"


def _display(name: str) -> str:
    from dlcore.explain.methods import METHODS

    return METHODS[name].display if name in METHODS else name


def _show_map(ax: Any, m: torch.Tensor, image: torch.Tensor | None, signed: bool, overlay: bool) -> None:
    ax.axis("off")
    cmap = SIGNED_CMAP if signed else MAP_CMAP
    if overlay and image is not None:
        ax.imshow(_gray(image), cmap="gray", vmin=0, vmax=1)
        ax.imshow(m.detach().cpu().numpy(), cmap=cmap, vmin=-1 if signed else 0, vmax=1, alpha=0.6)
    else:
        ax.imshow(m.detach().cpu().numpy(), cmap=cmap, vmin=-1 if signed else 0, vmax=1)


def _scale_bar(fig: Figure, axes: Any, signed: bool, label: str) -> None:
    sm = ScalarMappable(Normalize(-1 if signed else 0, 1), colormaps[SIGNED_CMAP if signed else MAP_CMAP])
    fig.colorbar(sm, ax=axes, shrink=0.8, label=label)


def explanation_figure(expl: Any, classes: Sequence[str] | None = None, overlay: bool = False,
                       ncols: int = 6) -> Figure:
    """The image, then each method's map (``expl.maps``, one colour scale and one colour bar).

    Args:
        expl: :class:`~dlcore.explain.Explanation`. classes: class names for the title.
        overlay: draw each map over the image (alpha 0.6) instead of alone.
    """
    n = len(expl.names) + 1
    ncols = min(ncols, n)
    nrows = -(-n // ncols)
    fig, axes = new_figure(nrows, ncols, figsize=(1.9 * ncols + 1.0, 2.1 * nrows + 0.5), squeeze=False)
    signed = expl.mode == "signed"
    axes.flat[0].imshow(_gray(expl.image), cmap="gray", vmin=0, vmax=1)
    axes.flat[0].set_title(f"{_label(expl.predicted, classes)}\np = {expl.predicted_probability:.3f}", fontsize=_T)
    axes.flat[0].axis("off")
    for i, name in enumerate(expl.names):
        ax = axes.flat[i + 1]
        a = expl.attributions[name]
        _show_map(ax, expl.maps[i], expl.image, signed, overlay)
        ax.set_title(f"{_display(name)}\n{a.seconds * 1000:.0f} ms", fontsize=_T)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    _scale_bar(fig, axes, signed, "|attribution| / its 99th percentile" if not signed else "attribution / 99th pct of |·|")
    t = "" if expl.target == expl.predicted else f" — explaining {_label(expl.target, classes)} (p = {expl.probability:.3f})"
    fig.suptitle(f"Why did it say {_label(expl.predicted, classes)}?{t}", fontsize=11)
    return fig


def map_figure(m: torch.Tensor, image: torch.Tensor | None = None, title: str = "", signed: bool = False,
               overlay: bool = False) -> Figure:
    """One map (e.g. the frame a slider picks from :func:`~dlcore.explain.smoothgrad_convergence`),
    next to its image if given; scaled by its 99th percentile (small and quick to render)."""
    from dlcore.explain.metrics import normalize_maps

    k = 1 + (image is not None and not overlay)
    fig, axes = new_figure(1, k, figsize=(2.3 * k + 0.9, 2.7), squeeze=False)
    shown = normalize_maps(m[None].float(), "signed" if signed else "abs")[0]
    if k == 2:
        axes[0, 0].imshow(_gray(image), cmap="gray", vmin=0, vmax=1)
        axes[0, 0].axis("off")
        axes[0, 0].set_title("image", fontsize=_T)
    _show_map(axes[0, -1], shown, image, signed, overlay)
    axes[0, -1].set_title(title, fontsize=_T)
    _scale_bar(fig, axes, signed, "map / 99th pct")
    return fig


def attribution_figure(a: Any, image: torch.Tensor | None = None, classes: Sequence[str] | None = None,
                       overlay: bool = False) -> Figure:
    """One method's :class:`~dlcore.explain.Attribution` (its own scale), titled with the class explained."""
    title = f"{_display(a.method)}: {_label(a.target, classes)} (p = {a.probability:.3f})"
    if a.delta is not None:
        title += f"\nconvergence δ = {a.delta:.2g}"
    return map_figure(a.map, image, title, a.rule == "signed", overlay)


def _strip(maps: torch.Tensor, titles: Sequence[str], suptitle: str, lead: torch.Tensor | None = None,
           lead_title: str = "") -> Figure:
    k = len(titles) + (lead is not None)
    fig, axes = new_figure(1, k, figsize=(1.75 * k + 1.0, 2.5), squeeze=False)
    from dlcore.explain.metrics import normalize_maps

    shown = normalize_maps(torch.cat([lead[None], maps]) if lead is not None else maps)
    for j, ax in enumerate(axes.flat):
        _show_map(ax, shown[j], None, False, False)
        ax.set_title(lead_title if (lead is not None and j == 0) else titles[j - (lead is not None)], fontsize=_T)
    _scale_bar(fig, axes, False, "|map| / 99th pct")
    fig.suptitle(suptitle, fontsize=11)
    return fig


def convergence_figure(conv: Any) -> Figure:
    """SmoothGrad after n copies, for each n (the average sharpening), after the vanilla gradient."""
    titles = [f"n = {n}\nρ→final {r:.2f}" for n, r in zip(conv.ns, conv.spearman_to_final)]
    return _strip(conv.maps, titles, f"SmoothGrad converging (σ = {conv.settings['sigma_pct']:g} % of range)",
                  conv.vanilla, "gradient\n(n = 0)")


def sigma_sweep_figure(sweep: Any) -> Figure:
    """SmoothGrad for each σ: too little noise (speckle) to too much (the class is lost)."""
    titles = [f"σ = {s:g} %\nstill class: {a:.0%}" for s, a in zip(sweep.sigmas_pct, sweep.noisy_accuracy)]
    return _strip(sweep.maps, titles, f"SmoothGrad for each noise level (n = {sweep.settings['n_samples']})")


def faithfulness_figure(res: Any) -> Figure:
    """Deletion (lower AUC = more faithful) and insertion (higher = more faithful) curves."""
    fig, (ad, ai) = new_figure(1, 2, figsize=(10.5, 3.9))
    for i, name in enumerate(res.names):
        style = dict(color="#9ca3af", ls="--") if name == "random" else dict(color=PALETTE[i % len(PALETTE)])
        ad.plot(res.fractions, res.deletion[name], label=f"{_display(name)} ({res.deletion_auc[name]:.3f})", **style)
        ai.plot(res.fractions, res.insertion[name], label=f"{_display(name)} ({res.insertion_auc[name]:.3f})", **style)
    what = "probability" if res.settings.get("score", "probability") == "probability" else "logit"
    ad.set(title="deletion: most salient pixels removed first", xlabel="fraction of pixels removed",
           ylabel=f"class {what}")
    ai.set(title="insertion: most salient pixels added first", xlabel="fraction of pixels inserted")
    ad.legend(title="AUC (lower is better)", fontsize=8, title_fontsize=9)
    ai.legend(title="AUC (higher is better)", fontsize=8, title_fontsize=9)
    return fig


def sanity_figure(res: Any, image: torch.Tensor | None = None) -> Figure:
    """Rows: methods (with their verdict); columns: the original map and after each randomisation step."""
    from dlcore.explain.metrics import normalize_maps

    m, s = len(res.names), len(res.steps)
    fig, axes = new_figure(m, s, figsize=(1.65 * s + 1.6, 1.75 * m + 0.9), squeeze=False)
    for i, name in enumerate(res.names):
        shown = normalize_maps(res.maps[name])
        for j in range(s):
            ax = axes[i, j]
            _show_map(ax, shown[j], image, False, False)
            ax.set_title("original" if j == 0 else f"ρ = {res.spearman[name][j]:.2f}", fontsize=_T)
        colour = "#dc2626" if res.verdict[name] == "fails" else "#16a34a"
        axes[i, 0].text(-0.12, 0.5, f"{_display(name)}\n{res.verdict[name]}", transform=axes[i, 0].transAxes,
                        ha="right", va="center", fontsize=_T, color=colour)
    for j in range(1, s):
        axes[-1, j].text(0.5, -0.08, "+ " + res.steps[j].split(" (")[0], transform=axes[-1, j].transAxes,
                         ha="center", va="top", fontsize=8)
    fig.suptitle(f"Sanity check ({res.mode} randomisation, top layer first): ρ = rank correlation with the original",
                 fontsize=11)
    return fig


def sanity_curve_figure(res: Any) -> Figure:
    """ρ(|map|, |original|) after each step, one line per method, with the failure threshold."""
    fig, ax = new_figure(figsize=(7.0, 3.8))
    x = list(range(len(res.steps)))
    for i, name in enumerate(res.names):
        ax.plot(x, res.spearman[name], marker="o", color=PALETTE[i % len(PALETTE)],
                label=f"{_display(name)} ({res.verdict[name]})", ls="--" if res.verdict[name] == "fails" else "-")
    ax.axhline(res.settings["fail_threshold"], color="#6b7280", lw=0.8, ls=":")
    ax.set_xticks(x, ["original"] + ["+ " + s.split(" (")[0] for s in res.steps[1:]], rotation=20, ha="right")
    ax.set(ylim=(-0.4, 1.05), ylabel="Spearman ρ with the original map", title="Does the map depend on the weights?")
    ax.legend(fontsize=8, loc="lower left")
    return fig


def activation_maximization_figure(results: Mapping[str, Any], n_snapshots: int = 6,
                                   classes: Sequence[str] | None = None, stretch: bool = False) -> Figure:
    """For each run (e.g. without / with prior): X* at a few steps, then the activation over steps.

    ``stretch``: show each picture from its own darkest to brightest pixel (the prior keeps X* dim)
    instead of on the fixed [0, 1] scale.
    """
    rows = list(results.items())
    fig, axes = new_figure(len(rows), n_snapshots + 1, figsize=(1.7 * n_snapshots + 4.2, 2.0 * len(rows) + 0.6),
                           squeeze=False)
    for i, (label, r) in enumerate(rows):
        picks = np.unique(np.linspace(0, len(r.recorded) - 1, n_snapshots).round().astype(int))
        for j in range(n_snapshots):
            ax = axes[i, j]
            ax.axis("off")
            if j < len(picks):
                g = _gray(r.images[picks[j]])
                lo, hi = (float(g.min()), float(g.max())) if stretch and g.max() > g.min() else (0.0, 1.0)
                ax.imshow(g, cmap="gray", vmin=lo, vmax=hi)
                ax.set_title(f"step {r.recorded[picks[j]]}", fontsize=_T)
        axes[i, 0].text(-0.1, 0.5, label, transform=axes[i, 0].transAxes, ha="right", va="center", fontsize=_T)
        ax = axes[i, -1]
        ax.plot(range(1, len(r.activation) + 1), r.activation, label="unit", color=PALETTE[0])
        ax.plot(range(1, len(r.objective) + 1), r.objective, label="unit − prior", color=PALETTE[1], ls="--")
        ax.set_title(f"→ {_label(r.predicted, classes)} (p = {r.predicted_probability:.2f})", fontsize=_T)
        ax.set_xlabel("step", fontsize=_T)
        ax.legend(fontsize=8)
    first = rows[0][1]
    fig.suptitle(f"Activation maximisation of {first.target}", fontsize=11)
    return fig


def embedding_figure(emb: Any, highlight: int | None = None, color_by: str = "label") -> Figure:
    """Scatter of the 2-D embedding coloured by true (or predicted) class; ``highlight`` ringed,
    with its image in the corner.

    Raises:
        ValueError: ``highlight`` out of range or a bad ``color_by``.
    """
    if color_by not in ("label", "predicted"):
        raise ValueError(f"color_by {color_by!r} must be 'label' or 'predicted'")
    if highlight is not None and not 0 <= highlight < len(emb.coords):
        raise ValueError(f"highlight {highlight} must be in [0, {len(emb.coords) - 1}]")
    fig, ax = new_figure(figsize=(7.4, 5.6))
    xy = emb.coords.numpy()
    c = (emb.labels if color_by == "label" else emb.predicted).numpy()
    cmap = colormaps["tab10"]
    for k in np.unique(c):
        sel = c == k
        ax.scatter(xy[sel, 0], xy[sel, 1], s=7, color=cmap(int(k) % 10), label=_label(int(k), emb.classes), alpha=0.8)
    wrong = (emb.labels != emb.predicted).numpy()
    ax.scatter(xy[wrong, 0], xy[wrong, 1], s=16, facecolors="none", edgecolors="black", linewidths=0.5,
               label="misclassified")
    if highlight is not None:
        ax.scatter([xy[highlight, 0]], [xy[highlight, 1]], s=160, facecolors="none", edgecolors="#dc2626",
                   linewidths=2)
        ins = ax.inset_axes([1.04, 0.02, 0.3, 0.3])
        ins.imshow(_gray(emb.images[highlight]), cmap="gray", vmin=0, vmax=1)
        ins.set_xticks([]), ins.set_yticks([])
        ins.set_title(f"#{int(emb.indices[highlight])}: {_label(int(emb.labels[highlight]), emb.classes)}\n"
                      f"said {_label(int(emb.predicted[highlight]), emb.classes)}", fontsize=_T)
    extra = (f", explained variance {emb.explained_variance[0]:.0%} + {emb.explained_variance[1]:.0%}"
             if emb.explained_variance else "")
    ax.set_title(f"{emb.method.upper()} of the {emb.layer} features\n({emb.feature_dim}-D, {len(xy)} test images{extra})",
                 fontsize=10)
    ax.legend(fontsize=8, markerscale=2, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.grid(False)
    return fig


def attack_explanation_figure(ae: Any, classes: Sequence[str] | None = None) -> Figure:
    """Top: clean image and its maps; bottom: adversarial image and its maps, each pair on one scale;
    column titles say how far the map moved (ρ and top-k overlap)."""
    m = len(ae.names)
    fig, axes = new_figure(2, m + 1, figsize=(1.8 * (m + 1) + 1.0, 4.9), squeeze=False)
    signed = ae.mode == "signed"
    for r, e in enumerate((ae.clean, ae.adversarial)):
        axes[r, 0].imshow(_gray(e.image), cmap="gray", vmin=0, vmax=1)
        axes[r, 0].axis("off")
        axes[r, 0].set_title(f"{'clean' if r == 0 else 'attacked'}: {_label(e.predicted, classes)}\n"
                             f"p = {e.predicted_probability:.3f}", fontsize=_T)
        for j, name in enumerate(ae.names):
            _show_map(axes[r, j + 1], ae.maps[r, j], None, signed, False)
            if r == 0:
                axes[r, j + 1].set_title(_display(name), fontsize=_T)
            else:
                axes[r, j + 1].set_title(f"ρ {ae.spearman[name]:.2f}\ntop-{ae.k_pct:g}% kept {ae.topk_overlap[name]:.0%}",
                                         fontsize=_T)
    _scale_bar(fig, axes, signed, "map / 99th pct of the pair")
    fig.suptitle(f"Attack, then explain: ‖δ‖∞ = {ae.linf:.3f}, ‖δ‖₂ = {ae.l2:.2f}", fontsize=11)
    return fig
