"""Handlers of the explain tab's local panels: the maps side by side, SmoothGrad converging, and
faithfulness (deletion/insertion, the sanity check). Thin glue over :mod:`dlcore.explain`.

Torch-free at import (labels and choices come from :mod:`dlcore.explain.names`); every
handler validates every parameter by the name the learner sees before any heavy work.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any, Iterator

import gradio as gr

from apps.common import STOPS, guard, md_escape, stop_button
from apps.explain_stream import stream
from apps.imaging import INVERT_CHOICES, picked_image
from dlcore.explain.names import METHOD_DISPLAY, METHOD_NAMES, NOISE_KINDS, NORM_MODES, SANITY_MODES
from dlcore.lazy import LazyCache
from dlcore.textinput import parse_bool, parse_choice, parse_choices, parse_int, parse_number

#: The labels on the page, also used to name a bad value (one spelling for both).
L = {"model": "model", "methods": "methods", "target": "class to explain", "scale": "colour scale",
     "overlay": "draw the maps over the image", "sigma": "noise σ (% of the image range)", "n": "noisy copies n",
     "ig_baseline": "IG baseline x′", "ig_steps": "IG steps on the path", "patch": "occlusion patch (px)",
     "stride": "occlusion stride (px)", "fill": "occlusion fill", "lime_n": "LIME samples", "kind": "average of",
     "frame_n": "n: noisy copies averaged so far", "curve_steps": "curve points", "deletion_fill": "deleted pixels become",
     "sanity_mode": "randomisation"}
#: What the SmoothGrad slider runs through: the running mean of one sequence of this many copies.
N_MAX = 100
#: "predicted" is -1 in the class dropdown.
PREDICTED = -1
FRAMES: LazyCache = LazyCache("explain SmoothGrad frames", max_extra=32)


def cell(text: Any) -> str:
    """Library text inside a Markdown table cell."""
    return md_escape(str(text)).replace("|", "\\|").replace("\n", " ")


def checks_md(rows: list[Any], title: str = "Paper checks on this input") -> str:
    """:class:`dlcore.explain.Check` rows as a table: ✅ holds, ❌ does not, ℹ️ information (a paper shared by
    every row is written once, above the table)."""
    if not rows:
        return ""
    mark = {True: "✅", False: "❌", None: "ℹ️"}
    if len(rows) > 1 and len({r.paper for r in rows}) == 1:
        lines = [f"**{title}** — {md_escape(rows[0].paper)}", "", "| | check | measured here |", "|---|---|---|"]
        lines += [f"| {mark[r.ok]} | {cell(r.claim)} | {cell(r.measured)} |" for r in rows]
    else:
        lines = [f"**{title}**", "", "| | check | the paper | measured here |", "|---|---|---|---|"]
        lines += [f"| {mark[r.ok]} | {cell(r.claim)} | {cell(r.paper)} | {cell(r.measured)} |" for r in rows]
    return "\n".join(lines)


def paragraphs(*parts: str) -> str:
    """Markdown paragraphs, the empty ones left out."""
    return "\n\n".join(p for p in parts if p)


def label_of(i: int, classes: tuple[str, ...]) -> str:
    return classes[i] if 0 <= i < len(classes) else f"class {i}"


def parse_methods(value: Any, name: str = "methods") -> list[str]:
    """A non-empty list of method names (duplicates dropped, registry order kept)."""
    return parse_choices(value, name, METHOD_NAMES, noun="method")


def option(value: Any, config: type, field: str, label: str) -> Any:
    """One option parsed by the library's own range and choices (:func:`dlcore.explain.options_of`)."""
    from dlcore.explain import options_of

    spec = {o.name: o for o in options_of(config)}[field]
    if spec.kind == "int":
        return parse_int(value, label, lo=int(spec.minimum), hi=int(spec.maximum))
    if spec.kind == "float":
        return parse_number(value, label, lo=spec.minimum, hi=spec.maximum)
    if spec.kind == "choice":
        return parse_choice(value, label, spec.choices)
    return parse_bool(value, label)


def method_configs(sigma: Any, n: Any, ig_baseline: Any, ig_steps: Any, patch: Any, stride: Any, fill: Any,
                   lime_n: Any) -> dict[str, dict[str, Any]]:
    """The per-method options of the page as ``explain_all``'s ``configs``."""
    from dlcore.explain import IGConfig, LimeConfig, OcclusionConfig, SmoothGradConfig

    sg = {"sigma_pct": option(sigma, SmoothGradConfig, "sigma_pct", L["sigma"]),
          "n_samples": option(n, SmoothGradConfig, "n_samples", L["n"])}
    occ = {"patch": option(patch, OcclusionConfig, "patch", L["patch"]),
           "stride": option(stride, OcclusionConfig, "stride", L["stride"]),
           "baseline": option(fill, OcclusionConfig, "baseline", L["fill"])}
    if occ["stride"] > occ["patch"]:
        raise ValueError(f"{L['stride']} {occ['stride']} must be at most the {L['patch']} {occ['patch']} "
                         "(else some pixels are never covered)")
    return {"smoothgrad": sg, "smoothgrad_sq": sg, "vargrad": sg,
            "integrated_gradients": {"baseline": option(ig_baseline, IGConfig, "baseline", L["ig_baseline"]),
                                     "n_steps": option(ig_steps, IGConfig, "n_steps", L["ig_steps"])},
            "occlusion": occ, "lime": {"n_samples": option(lime_n, LimeConfig, "n_samples", L["lime_n"])}}


def load(model: Any, source: Any, index: Any, upload: Any, invert: Any) -> tuple[Any, Any, tuple[str, ...]]:
    """(network, :class:`apps.imaging.PickedImage`, class names) — every value checked."""
    from dlcore import zoo

    parse_choice("auto" if invert is None else invert, "negate", INVERT_CHOICES)  # checked even when unused
    picked = picked_image(model, source, index, upload, invert)
    return zoo.get(model), picked, tuple(zoo.load_data(model).classes)


def conversion(picked: Any) -> Any:
    """The upload's conversion figure (visible), or hidden for a test image."""
    if picked.converted is None:
        return gr.update(value=None, visible=False)
    from dlcore.plotting.images import conversion_steps

    return gr.update(value=conversion_steps(picked.converted), visible=True)


def usable(net: Any, methods: list[str]) -> tuple[list[str], list[str]]:
    """(methods that run on ``net``, lines saying why the others do not)."""
    from dlcore.explain import available_methods

    why = available_methods(net)
    skipped = [f"- **{METHOD_DISPLAY[m]}** is not available here: {md_escape(why[m])}" for m in methods if why[m]]
    ok = [m for m in methods if not why[m]]
    if not ok:
        raise ValueError(f"none of the chosen methods runs on this model: {'; '.join(why[m] for m in methods)}")
    return ok, skipped


@guard
def local_maps(model: Any, source: Any, index: Any, upload: Any, invert: Any, methods: Any, target: Any, scale: Any,
               overlay: Any, sigma: Any, n: Any, ig_baseline: Any, ig_steps: Any, patch: Any, stride: Any, fill: Any,
               lime_n: Any) -> tuple[str, Any, str, Any]:
    """Every chosen method on one image, one colour scale: (status, figure, per-method table, conversion)."""
    chosen = parse_methods(methods, L["methods"])
    t = parse_int(target, L["target"], lo=PREDICTED, hi=999)
    mode = parse_choice(scale, L["scale"], NORM_MODES)
    over = parse_bool(overlay, L["overlay"])
    configs = method_configs(sigma, n, ig_baseline, ig_steps, patch, stride, fill, lime_n)
    from dlcore.explain import METHODS, explain_all, local_checks
    from dlcore.plotting.explain import explanation_figure

    net, picked, classes = load(model, source, index, upload, invert)
    if t >= len(classes):
        raise ValueError(f"{L['target']} {t} does not exist: this model has classes 0 … {len(classes) - 1}")
    run, skipped = usable(net, chosen)
    e = explain_all(net, picked.x, run, {k: v for k, v in configs.items() if k in run},
                    target=None if t == PREDICTED else t, mode=mode)
    top = e.probs.topk(min(3, len(classes)))
    guesses = ", ".join(f"{label_of(int(i), classes)} {float(p):.1%}" for p, i in zip(top.values, top.indices))
    status = paragraphs(
        f"**The model says {label_of(e.predicted, classes)} (p = {e.predicted_probability:.3f})** for "
        f"{md_escape(picked.caption)} · top 3: {guesses}",
        f"Explaining **{label_of(e.target, classes)}** (p = {e.probability:.3f}) with {len(e.names)} "
        f"method{'s' if len(e.names) > 1 else ''} in {e.seconds:.1f} s · every map is divided by its own 99th "
        "percentile, so one colour bar reads the same for all.", checks_md(local_checks(e)))
    rows = ["| method | what it shows | time | paper |", "|---|---|---:|---|"]
    for name in e.names:
        s, a = METHODS[name], e.attributions[name]
        extra = f" (convergence δ = {a.delta:.2g})" if a.delta is not None else ""
        rows.append(f"| **{s.display}** | {cell(s.summary)}{extra} | {a.seconds * 1000:.0f} ms | [{s.captum}]({s.paper}) |")
    table = "\n".join(rows + ([""] + skipped if skipped else []))
    return status, explanation_figure(e, classes, overlay=over), table, conversion(picked)


# ----------------------------------------------------------------------------- SmoothGrad converging
def _frames(net: Any, x: Any, model: str, sigma: float, kind: str) -> Any:
    """SmoothGrad after each n = 1 … N_MAX of one sequence of noisy copies (cached per image and σ)."""
    from dlcore.explain import smoothgrad_convergence

    key = (model, hashlib.sha1(x.numpy().tobytes()).hexdigest(), sigma, kind)
    return FRAMES.get(key, lambda: smoothgrad_convergence(net, x, ns=list(range(1, N_MAX + 1)),
                                                          config={"sigma_pct": sigma}, kind=kind))


@guard
def smoothgrad_frame(model: Any, source: Any, index: Any, upload: Any, invert: Any, n: Any, sigma: Any,
                     kind: Any) -> tuple[str, Any]:
    """The running mean after n noisy copies (the slider), with how close it is to the n = N_MAX map."""
    k = parse_int(n, L["frame_n"], lo=1, hi=N_MAX)
    s = parse_number(sigma, L["sigma"], lo=0, hi=100)
    kind = parse_choice(kind, L["kind"], NOISE_KINDS)
    from dlcore.plotting.explain_pixels import map_image

    net, picked, classes = load(model, source, index, upload, invert)
    t0 = time.perf_counter()
    conv = _frames(net, picked.x, model, s, kind)
    status = (f"**{METHOD_DISPLAY[kind]} after n = {k} noisy {'copy' if k == 1 else 'copies'}** (σ = {s:g} % of the range = {conv.sigma:.3f}) "
              f"of {md_escape(picked.caption)}, explaining {label_of(conv.target, classes)} (p = {conv.probability:.3f}) · "
              f"rank correlation with the n = {N_MAX} map: **ρ = {conv.spearman_to_final[k - 1]:.2f}**"
              + (f" · change from n = {k - 1}: {conv.change[k - 1]:.1%}" if k > 1 else " · a single noisy gradient")
              + f" · {(time.perf_counter() - t0) * 1000:.0f} ms · bright = large |average gradient|")
    return status, map_image(conv.maps[k - 1], picked.x[0], signed=False, scale=10)


@guard
def smoothgrad_strips(model: Any, source: Any, index: Any, upload: Any, invert: Any, sigma: Any, kind: Any
                      ) -> tuple[str, Any, Any]:
    """SmoothGrad over n (the running mean) and over σ (one set of draws, n = 50 each): (status + checks, figures)."""
    s = parse_number(sigma, L["sigma"], lo=0, hi=100)
    kind = parse_choice(kind, L["kind"], NOISE_KINDS)
    from dlcore.explain import DEFAULT_NS, smoothgrad_checks, smoothgrad_convergence, smoothgrad_sigma_sweep
    from dlcore.plotting.explain import convergence_figure, sigma_sweep_figure

    net, picked, classes = load(model, source, index, upload, invert)
    conv = smoothgrad_convergence(net, picked.x, ns=DEFAULT_NS, config={"sigma_pct": s}, kind=kind)
    sweep = smoothgrad_sigma_sweep(net, picked.x, kind=kind)
    lab = label_of(sweep.target, classes)
    lost = [f"{p:g} %" for p, a in zip(sweep.sigmas_pct, sweep.noisy_accuracy) if a < 0.5]
    text = [f"**{METHOD_DISPLAY[kind]} of {md_escape(picked.caption)}, explaining {lab}** "
            f"(p = {sweep.probability:.3f}) · {conv.seconds + sweep.seconds:.1f} s",
            "Top: one sequence of noisy copies, averaged over the first n — the speckle of single gradients "
            "averages out. Bottom: the same draws at each noise level; *still class* is the share of noisy copies "
            f"the model still calls {lab}."]
    if lost:
        text.append(f"⚠ From σ = {lost[0]} on, most noisy copies are no longer “{lab}” to this model: it was trained "
                    "on clean 28×28 images and is **not robust to Gaussian noise**. Smilkov et al.'s 10–20 % comes "
                    "from ImageNet networks that keep their answer under such noise; here, at large σ SmoothGrad "
                    "averages the gradients of *other* decisions and the map blurs into the object's outline. "
                    "Pick the largest σ whose copies are still the class.")
    text.append(checks_md(smoothgrad_checks(conv, sweep, classes)))
    return paragraphs(*text), convergence_figure(conv), sigma_sweep_figure(sweep)


# ----------------------------------------------------------------------------- faithfulness and sanity
@guard
def faithfulness(model: Any, source: Any, index: Any, upload: Any, invert: Any, methods: Any, steps: Any,
                 deletion_fill: Any, sigma: Any, n: Any, ig_baseline: Any, ig_steps: Any, patch: Any, stride: Any,
                 fill: Any, lime_n: Any) -> tuple[str, Any]:
    """Deletion and insertion curves with their AUC per method, against a random map."""
    chosen = parse_methods(methods, L["methods"])
    from dlcore.explain import FaithfulnessConfig

    s = option(steps, FaithfulnessConfig, "n_steps", L["curve_steps"])
    dfill = option(deletion_fill, FaithfulnessConfig, "deletion_fill", L["deletion_fill"])
    configs = method_configs(sigma, n, ig_baseline, ig_steps, patch, stride, fill, lime_n)
    from dlcore.explain import deletion_insertion, explain_all, faithfulness_checks
    from dlcore.plotting.explain import faithfulness_figure

    net, picked, classes = load(model, source, index, upload, invert)
    run, skipped = usable(net, chosen)
    e = explain_all(net, picked.x, run, {k: v for k, v in configs.items() if k in run})
    r = deletion_insertion(net, picked.x, e, config={"n_steps": s, "deletion_fill": dfill})
    best_d = min((m for m in r.names if m != "random"), key=lambda m: r.deletion_auc[m])
    best_i = max((m for m in r.names if m != "random"), key=lambda m: r.insertion_auc[m])
    text = [f"**{md_escape(picked.caption)}: the probability of {label_of(r.target, classes)} "
            f"(p = {r.probability:.3f}) as pixels are removed or added, most salient first** · {len(run)} maps, "
            f"{2 * len(r.names) * (s + 1)} images scored in {e.seconds + r.seconds:.1f} s",
            f"Most faithful here: deletion **{METHOD_DISPLAY[best_d]}** (AUC {r.deletion_auc[best_d]:.3f}), insertion "
            f"**{METHOD_DISPLAY[best_i]}** (AUC {r.insertion_auc[best_i]:.3f}); the random map scores "
            f"{r.deletion_auc['random']:.3f} / {r.insertion_auc['random']:.3f}.",
            checks_md(faithfulness_checks(r))] + skipped
    return paragraphs(*text), faithfulness_figure(r)


def _sanity_md(res: Any, picked: Any, classes: tuple[str, ...]) -> str:
    from dlcore.explain import sanity_checks

    fails = [METHOD_DISPLAY[n] for n in res.names if res.verdict[n] == "fails"]
    done = len(res.steps) - 1
    head = (f"{'⏹ **stopped** after' if res.stopped else '**Done:**'} {done} randomisation step(s) "
            f"({res.mode}, top layer first) of {md_escape(picked.caption)}, explaining "
            f"{label_of(res.target, classes)} · {res.seconds:.1f} s")
    if done == 0:
        return paragraphs(head, "No layer was randomised yet, so there is no verdict: press **Run** again.")
    verdict = (f"**Fail here** (the map barely changes when the weights are random): {', '.join(fails)}."
               if fails else "**Every method's map changed** with the weights here.")
    return paragraphs(head, verdict, checks_md(sanity_checks(res), "Against Adebayo et al. 2018"))


def _sanity_args(model: Any, source: Any, index: Any, upload: Any, invert: Any, methods: Any, mode: Any
                 ) -> tuple[list[str], str, Any, Any, tuple[str, ...], list[str]]:
    chosen = parse_methods(methods, L["methods"])
    mode = parse_choice(mode, L["sanity_mode"], SANITY_MODES)
    net, picked, classes = load(model, source, index, upload, invert)
    run, skipped = usable(net, chosen)
    return run, mode, net, picked, classes, skipped


def _sanity_out(res: Any, picked: Any, classes: tuple[str, ...], skipped: list[str]) -> tuple[str, Any, Any]:
    from dlcore.plotting.explain import sanity_curve_figure, sanity_figure

    return paragraphs(_sanity_md(res, picked, classes), *skipped), sanity_figure(res), sanity_curve_figure(res)


@guard
def sanity(model: Any, source: Any, index: Any, upload: Any, invert: Any, methods: Any, mode: Any,
           request: gr.Request = None) -> Iterator[tuple[str, Any, Any]]:  # type: ignore[assignment]
    """Randomise the model layer by layer (top first) and watch each map, streaming each step; Stop keeps the steps done."""
    run, mode, net, picked, classes, skipped = _sanity_args(model, source, index, upload, invert, methods, mode)
    from dlcore.explain import randomizable_layers, sanity_check

    total = len(randomizable_layers(net))
    with STOPS.running(request, "explain_sanity") as stop:
        yield f"⏳ explaining the trained model with {len(run)} methods…", gr.skip(), gr.skip()
        work = lambda cb: sanity_check(net, picked.x, run, config={"mode": mode}, callback=cb, stop=stop)  # noqa: E731
        for progress, res in stream(work, stop=stop):
            if res is None:
                done = progress.get("step", -1) + 1
                rho = ", ".join(f"{METHOD_DISPLAY[k]} {v:.2f}" for k, v in progress.get("spearman", {}).items())
                yield (f"⏳ randomised {done}/{total} layers (last: {md_escape(progress.get('layer', '…'))}) · ρ with "
                       f"the original map: {rho or '…'} · Stop keeps the steps done", gr.skip(), gr.skip())
            else:
                yield _sanity_out(res, picked, classes, skipped)


@guard
def sanity_default(model: Any, source: Any, index: Any, upload: Any, invert: Any, methods: Any, mode: Any
                   ) -> tuple[str, Any, Any]:
    """The sanity check of the default image when the panel is first opened (no streaming, no Stop)."""
    run, mode, net, picked, classes, skipped = _sanity_args(model, source, index, upload, invert, methods, mode)
    from dlcore.explain import sanity_check

    return _sanity_out(sanity_check(net, picked.x, run, config={"mode": mode}), picked, classes, skipped)


stop_sanity = stop_button("explain_sanity", "⏹ stopping after the current layer…",
                           "Nothing is running: press **Run the sanity check** first.")
