"""Handlers of the explain tab's global panel (activation maximisation, PCA / t-SNE of the
features with a clickable scatter) and of "attack, then explain". Thin glue over
:mod:`dlcore.explain` and :mod:`dlcore.attacks`; torch-free at import.
"""

from __future__ import annotations

from typing import Any, Iterator

import gradio as gr

from apps.common import STOPS, guard, md_escape, stop_button
from apps.explain_local import L as LOCAL_LABELS
from apps.explain_local import checks_md, label_of, load, paragraphs, parse_methods, usable
from apps.explain_stream import stream
from dlcore.explain.names import ATTACK_TARGETS, EMBEDDING_METHODS, FEATURE_LAYERS, METHOD_DISPLAY, UNITS
from dlcore.lazy import LazyCache
from dlcore.textinput import parse_choice, parse_int, parse_number, parse_text

L = {"unit": "maximise", "index": "class / channel / neuron #", "layer": "layer (channel / neuron)",
     "steps": "steps", "lr": "step size", "l2": "λ₂ Σ X² (pixel size)", "tv": "λ_tv Σ |∇X|² (smoothness)",
     "blur_sigma": "blur σ (px)", "blur_every": "blur every k steps (0 = never)", "jitter": "jitter (px)",
     "init": "start from", "emb_method": "projection", "emb_layer": "features of", "points": "points",
     "perplexity": "t-SNE perplexity", "color_by": "colour by", "point": "point #", "x": "x", "y": "y",
     "attack": "attack", "eps": "ε (L∞ budget)", "attack_steps": "PGD steps", "alpha": "PGD step size α",
     "attack_target": "explain the attacked image for", "k_pct": "top-k (% of pixels)"}
#: The attacks this panel offers (registry names of :data:`dlcore.attacks.ATTACKS`).
ATTACK_CHOICES: tuple[str, ...] = ("pgd", "fgsm")
COLOR_BY: tuple[str, ...] = ("label", "predicted")
ACTMAX: LazyCache = LazyCache("explain activation maximisation", max_extra=8)


def _model(model: Any) -> str:
    from dlcore import zoo

    return parse_choice(model, LOCAL_LABELS["model"], zoo.classifier_names(available_only=False))


@guard
def model_choices(model: Any, unit: Any) -> tuple[Any, Any, Any]:
    """(model dropdown, class dropdown, layer dropdown) for this machine and the chosen model."""
    from dlcore import zoo
    from dlcore.explain import unit_layers

    names = zoo.classifier_names()
    name = model if model in names else names[0]
    classes = tuple(zoo.load_data(name).classes)
    targets = [("the predicted class", -1)] + [(f"{i} · {c}", i) for i, c in enumerate(classes)]
    unit = unit if unit in UNITS else "class"
    layers = [("auto", "auto")] + [(f"{n} ({k}s: {c})", n) for n, (k, c) in unit_layers(zoo.get(name)).items()
                                   if k == unit]
    return (gr.update(choices=names, value=name), gr.update(choices=targets),
            gr.update(choices=layers, value="auto"))


# ----------------------------------------------------------------------------- activation maximisation
def _actmax_config(unit: Any, index: Any, layer: Any, steps: Any, lr: Any, l2: Any, tv: Any, blur_sigma: Any,
                   blur_every: Any, jitter: Any, init: Any) -> Any:
    from apps.explain_local import option
    from dlcore.explain import ActMaxConfig

    vals = {"unit": unit, "index": index, "steps": steps, "lr": lr, "l2": l2, "tv": tv, "blur_sigma": blur_sigma,
            "blur_every": blur_every, "jitter": jitter, "init": init}
    cfg = {k: option(v, ActMaxConfig, k, L[k]) for k, v in vals.items()}
    cfg["layer"] = parse_text(layer, L["layer"], max_chars=100)
    cfg["record_every"] = max(1, cfg["steps"] // 50)
    return ActMaxConfig(**cfg)


def _actmax_out(res: dict[str, Any], classes: tuple[str, ...], stopped_at: str = "") -> tuple[str, Any]:
    from dlcore.explain import prior_checks
    from dlcore.plotting.explain import activation_maximization_figure

    plain, prior = res["without prior"], res["with prior"]
    unit = plain.target
    if unit.startswith("class "):
        unit = f"{unit} ({label_of(int(unit.split()[1]), classes)})"
    head = (f"⏹ **stopped** {stopped_at}; what was found so far is shown." if stopped_at else
            f"**{unit}: X\\* without and with the prior** · {plain.seconds + prior.seconds:.1f} s · each picture "
            "stretched from its darkest to its brightest pixel")
    says = (f"The model calls the unconstrained X\\* **{label_of(plain.predicted, classes)}** "
            f"(p = {plain.predicted_probability:.2f}) and the smooth one **{label_of(prior.predicted, classes)}** "
            f"(p = {prior.predicted_probability:.2f}). Without a prior, gradient ascent finds a pattern the network "
            "loves but no person would draw (an adversarial-looking texture); the prior R(X) (small pixels, small "
            "|∇X|, blur, jitter) keeps X\\* smooth enough to read.")
    fig = activation_maximization_figure(res, classes=classes, stretch=True)
    return paragraphs(head, says, checks_md(prior_checks(res))), fig


def _actmax_args(model: Any, *options: Any) -> tuple[str, Any, Any, tuple[str, ...], tuple[int, int, int]]:
    cfg = _actmax_config(*options)
    name = _model(model)
    from dlcore import zoo
    from dlcore.explain import input_side

    side = input_side(name)
    return name, cfg, zoo.get(name), tuple(zoo.load_data(name).classes), (1, side, side)


@guard
def actmax(model: Any, unit: Any, index: Any, layer: Any, steps: Any, lr: Any, l2: Any, tv: Any, blur_sigma: Any,
           blur_every: Any, jitter: Any, init: Any, request: gr.Request = None  # type: ignore[assignment]
           ) -> Iterator[tuple[str, Any]]:
    """The same unit maximised without and with the smoothness prior, streaming the steps; Stop keeps X* so far."""
    name, cfg, net, classes, shape = _actmax_args(model, unit, index, layer, steps, lr, l2, tv, blur_sigma,
                                                  blur_every, jitter, init)
    from dlcore.explain import compare_priors

    cached = ACTMAX.peek((name, cfg))
    if cached is not None:
        yield _actmax_out(cached, classes)
        return
    total = 2 * cfg.steps
    with STOPS.running(request, "explain_actmax") as stop:
        work = lambda cb: compare_priors(net, cfg, shape, callback=cb, stop=stop)  # noqa: E731
        for p, res in stream(work, stop=stop):
            step = p.get("step", 0)
            phase = "without prior" if step <= cfg.steps else "with prior"
            if res is None:
                yield (f"⏳ {phase}: step {step}/{total} · unit {p.get('activation', float('nan')):.2f} · "
                       f"objective {p.get('objective', float('nan')):.2f} · Stop keeps what was found", gr.skip())
            elif res["without prior"].stopped or res["with prior"].stopped:
                yield _actmax_out(res, classes, f"at step {step}/{total} ({phase})")
            else:
                ACTMAX.put((name, cfg), res)
                yield _actmax_out(res, classes)


@guard
def actmax_default(model: Any, *options: Any) -> tuple[str, Any]:
    """The default search when the panel is first opened (cached per model; no Stop)."""
    name, cfg, net, classes, shape = _actmax_args(model, *options)
    from dlcore.explain import compare_priors

    return _actmax_out(ACTMAX.get((name, cfg), lambda: compare_priors(net, cfg, shape)), classes)


stop_actmax = stop_button("explain_actmax", "⏹ stopping after the current step…",
                           "Nothing is running: press **Maximise** first.")


# ----------------------------------------------------------------------------- PCA / t-SNE
def _emb_args(model: Any, method: Any, layer: Any, points: Any, perplexity: Any, color_by: Any
              ) -> tuple[str, Any, str]:
    from apps.explain_local import option
    from dlcore.explain import EmbeddingConfig

    cfg = EmbeddingConfig(method=parse_choice(method, L["emb_method"], EMBEDDING_METHODS),
                          layer=parse_choice(layer, L["emb_layer"], FEATURE_LAYERS),
                          n_points=option(points, EmbeddingConfig, "n_points", L["points"]),
                          perplexity=option(perplexity, EmbeddingConfig, "perplexity", L["perplexity"]))
    return _model(model), cfg, parse_choice(color_by, L["color_by"], COLOR_BY)


def _emb_out(emb: Any, point: int, color_by: str) -> tuple[str, Any, dict[str, Any], int]:
    from dlcore.plotting.explain_pixels import embedding_image

    if not 0 <= point < len(emb.coords):
        raise ValueError(f"{L['point']} {point} does not exist: choose 0 … {len(emb.coords) - 1}")
    img, pm = embedding_image(emb, point, color_by)
    lab, pred = int(emb.labels[point]), int(emb.predicted[point])
    wrong = int((emb.labels != emb.predicted).sum())
    extra = (f"explained variance {emb.explained_variance[0]:.0%} + {emb.explained_variance[1]:.0%}"
             if emb.explained_variance else f"KL divergence {emb.kl_divergence:.2f}")
    what = {"penultimate": "penultimate-layer features", "logits": "logits", "pixels": "raw pixels"}[emb.layer]
    text = (f"**{emb.method.upper()} of the {what}** ({emb.feature_dim}-D → 2-D, {len(emb.coords)} test "
            f"images, {extra}; {wrong} misclassified, ringed in black) · **point {point}** = test image "
            f"#{int(emb.indices[point])}: {label_of(lab, emb.classes)}, the model says {label_of(pred, emb.classes)}"
            f"{' ✅' if lab == pred else ' ❌'} (shown in the corner). **Click a point** on the picture to see its image. "
            + ("t-SNE keeps neighbours together; distances between clusters and their sizes mean little."
               if emb.method == "tsne" else "PCA is a linear projection: its axes are the two directions of largest "
               "variance."))
    return text, img, pm.as_dict(), point


@guard
def embedding(model: Any, method: Any, layer: Any, points: Any, perplexity: Any, color_by: Any, point: Any
              ) -> Iterator[tuple[str, Any, Any, Any]]:
    """PCA or t-SNE of a seeded subset of the test set, coloured by class, with one point's image."""
    name, cfg, cb = _emb_args(model, method, layer, points, perplexity, color_by)
    k = parse_int(point, L["point"], lo=0, hi=cfg.n_points - 1)
    from dlcore.explain import test_set_embedding
    from dlcore.explain.embedding import EMBEDDING_CACHE

    if (name, cfg) not in EMBEDDING_CACHE:
        yield (f"⏳ {cfg.method.upper()} of {cfg.n_points} test images' {cfg.layer} features"
               + (" — t-SNE takes about 10 s here (cached afterwards; it cannot be stopped halfway)"
                  if cfg.method == "tsne" else "…"), gr.skip(), gr.skip(), gr.skip())
    yield _emb_out(test_set_embedding(name, cfg), k, cb)


@guard
def nearest(model: Any, method: Any, layer: Any, points: Any, perplexity: Any, color_by: Any, x: Any, y: Any
            ) -> tuple[str, Any, Any, Any]:
    """The point nearest to (x, y) in the scatter's coordinates, with its image."""
    name, cfg, cb = _emb_args(model, method, layer, points, perplexity, color_by)
    px, py = parse_number(x, L["x"]), parse_number(y, L["y"])
    from dlcore.explain import nearest_point, test_set_embedding

    emb = test_set_embedding(name, cfg)
    return _emb_out(emb, nearest_point(emb, px, py), cb)


@guard
def clicked(model: Any, method: Any, layer: Any, points: Any, perplexity: Any, color_by: Any, pixmap: Any,
            evt: gr.SelectData) -> tuple[str, Any, Any, Any]:
    """A click on the scatter picture: the nearest point."""
    from dlcore.plotting.explain_pixels import PixelMap

    idx = getattr(evt, "index", None)
    if not isinstance(idx, (list, tuple)) or len(idx) != 2:
        raise ValueError("click on the scatter picture to choose a point")
    x, y = PixelMap.from_dict(pixmap).to_data(*idx)
    return nearest(model, method, layer, points, perplexity, color_by, x, y)


# ----------------------------------------------------------------------------- attack, then explain
@guard
def attack_explain(model: Any, source: Any, index: Any, upload: Any, invert: Any, attack: Any, eps: Any, steps: Any,
                   alpha: Any, methods: Any, target: Any, k_pct: Any) -> tuple[str, Any, str, Any]:
    """Attack the image (FGSM or PGD), explain it clean and attacked, and measure how far each map moved."""
    kind = parse_choice(attack, L["attack"], ATTACK_CHOICES)
    e = parse_number(eps, L["eps"], lo=0, hi=1)
    n = parse_int(steps, L["attack_steps"], lo=1, hi=200)
    a = parse_number(alpha, L["alpha"], lo=1e-4, hi=1)
    chosen = parse_methods(methods, LOCAL_LABELS["methods"])
    tgt = parse_choice(target, L["attack_target"], ATTACK_TARGETS)
    k = parse_number(k_pct, L["k_pct"], lo=0.5, hi=100)
    import torch

    from apps.explain_local import conversion
    from dlcore.attacks import FGSM, PGD
    from dlcore.explain import METHODS, attack_checks, explain_attack
    from dlcore.plotting.explain import attack_explanation_figure

    net, picked, classes = load(model, source, index, upload, invert)
    run, skipped = usable(net, chosen)
    with torch.no_grad():
        y = picked.label if picked.label is not None else int(net(picked.x).argmax(1))
    atk = PGD(net, eps=e, alpha=a, steps=n, seed=0) if kind == "pgd" else FGSM(net, eps=e)
    r = atk(picked.x, torch.tensor([y]))
    ae = explain_attack(net, picked.x, r.x_adv, run, target=tgt, k_pct=k)
    how = f"PGD, {n} steps of α = {a:g}" if kind == "pgd" else "FGSM, one step"
    head = (f"**{md_escape(picked.caption)} attacked with {how}, ε = {e:g}** (‖δ‖∞ = {ae.linf:.3f}) · each map of "
            f"the attacked image explains {'its own prediction' if tgt == 'own' else 'the clean prediction'} · "
            f"{r.seconds + ae.seconds:.1f} s")
    rows = ["| method | ρ (rank correlation) | top-%g %% kept | SSIM |" % k, "|---|---:|---:|---:|"]
    rows += [f"| {METHODS[m].display} | {ae.spearman[m]:.2f} | {ae.topk_overlap[m]:.0%} | {ae.ssim[m]:.2f} |"
             for m in ae.names]
    moved = min(ae.names, key=lambda m: ae.spearman[m])
    text = [head, checks_md(attack_checks(ae, classes)),
            f"The map that moved most: **{METHOD_DISPLAY[moved]}** (ρ = {ae.spearman[moved]:.2f}). 1 = the same map; "
            "0 = no relation. The attack changed the pixels by at most ε, too little to see, yet the model's "
            "“reasons” moved with its answer."] + skipped
    return paragraphs(*text), attack_explanation_figure(ae, classes), "\n".join(rows), conversion(picked)


def warmup() -> None:
    """Pay the one-off costs of the first click (Captum's and scikit-learn's imports, autograd, the first
    figure) on a tiny untrained CNN: no zoo weights, no data."""
    import torch
    from sklearn.decomposition import PCA  # noqa: F401
    from sklearn.manifold import TSNE  # noqa: F401

    from dlcore.explain import explain_all
    from dlcore.plotting import figure_to_png
    from dlcore.plotting.explain import explanation_figure

    net = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.Flatten(),
                              torch.nn.Linear(4 * 28 * 28, 10)).eval()
    x = torch.rand(1, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    figure_to_png(explanation_figure(explain_all(net, x, configs={"lime": {"n_samples": 50}})))
