"""The papers' claims, measured on your image: what the paper says, what we got, pass or fail.

Each function takes a result of this family and returns a list of :class:`Check` rows, the
table a tab shows beside its figure (so a learner sees the paper's number next to the measured
one, and whether it holds here). ``ok`` is ``None`` for rows that inform but cannot fail (e.g.
how robust this model is to the noise SmoothGrad adds).

* :func:`local_checks` — Integrated Gradients' completeness (Sundararajan et al. 2017: the
  attributions add up to ``f(x) − f(x′)``; with 20–300 steps, within 5 %);
* :func:`smoothgrad_checks` — Smilkov et al. 2017: averaging sharpens the map and n ≈ 50 is
  enough (measured: rank correlation of the n = 50 map with the largest-n map); σ 10–20 %
  works for their ImageNet networks (measured: how many noisy copies keep the class here);
* :func:`faithfulness_checks` — Petsiuk et al. 2018: a faithful map beats a random one on both
  deletion (lower AUC) and insertion (higher AUC);
* :func:`sanity_checks` — Adebayo et al. 2018: guided backprop and gradient × input barely
  change when the weights are randomised (they fail); the gradient, SmoothGrad, Grad-CAM do;
* :func:`prior_checks` — the notes' smoothness prior (§9.4.2) makes ``X*`` smoother
  (measured: Σ|∇X*|² with and without it);
* :func:`attack_checks` — Ghorbani et al. 2019: a small perturbation moves the maps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import torch

from dlcore.explain.names import METHOD_DISPLAY

__all__ = ["Check", "local_checks", "smoothgrad_checks", "faithfulness_checks", "sanity_checks", "prior_checks",
           "attack_checks", "IG_TOLERANCE", "CONVERGED_RHO", "SANITY_EXPECTED"]

#: Sundararajan et al. 2017 ("Computing Integrated Gradients"): within 5 % of the score difference.
IG_TOLERANCE = 0.05
#: "n ≈ 50 is enough" read as: the n = 50 map ranks the pixels like the largest-n map (ρ ≥ 0.85, our threshold).
CONVERGED_RHO = 0.85
#: Adebayo et al. 2018 (https://arxiv.org/abs/1810.03292), cascading randomisation: what each method does.
SANITY_EXPECTED: dict[str, str] = {"guided_backprop": "fails", "gradient_x_input": "fails", "gradient": "passes",
                                   "smoothgrad": "passes", "gradcam": "passes"}


@dataclass(frozen=True)
class Check:
    """One claim checked on this input.

    Attributes:
        claim: what is checked, e.g. ``"IG completeness: Σ IG = f(x) − f(x′)"``.
        paper: the paper's statement or number, with its source.
        measured: what we measured (numbers in the text).
        ok: True = holds here, False = does not, None = information only.
    """

    claim: str
    paper: str
    measured: str
    ok: bool | None


def _name(n: str) -> str:
    return METHOD_DISPLAY.get(n, n)


def local_checks(expl: Any) -> list[Check]:
    """Checks of an :class:`~dlcore.explain.Explanation`: IG completeness (when IG ran)."""
    out = []
    a = expl.attributions.get("integrated_gradients")
    if a is not None and a.delta is not None:
        total = float(a.raw.sum())
        diff = total - a.delta  # f(x) - f(x'), since delta = Σ IG - (f(x) - f(x'))
        rel = abs(a.delta) / max(abs(diff), 1e-12)
        out.append(Check("Integrated Gradients completeness: Σ IG = f(x) − f(x′)",
                         "Sundararajan et al. 2017 (“Computing Integrated Gradients”): the sum equals the logit difference; with 20–300 steps "
                         "it is within 5 %", f"Σ IG = {total:.3f}, f(x) − f(x′) = {diff:.3f}, gap {rel:.2%} "
                         f"({a.settings.get('n_steps')} steps, {a.settings.get('baseline')} baseline)",
                         rel <= IG_TOLERANCE))
    return out


def smoothgrad_checks(conv: Any, sweep: Any = None, classes: tuple[str, ...] = ()) -> list[Check]:
    """Checks of a :class:`~dlcore.explain.SmoothGradConvergence` (and a :class:`~dlcore.explain.SigmaSweep`)."""
    out = []
    ns, rho = list(conv.ns), list(conv.spearman_to_final)
    if 50 in ns and ns[-1] > 50:
        r50 = rho[ns.index(50)]
        small = [(n, r) for n, r in zip(ns, rho) if n <= 10]
        n10, r10 = small[-1] if small else (ns[0], rho[0])
        out.append(Check(f"n = 50 is enough: the n = 50 map ranks pixels like the n = {ns[-1]} map",
                         "Smilkov et al. 2017: the map sharpens as n grows; beyond n ≈ 50 it changes little",
                         f"ρ(n = 50, n = {ns[-1]}) = {r50:.2f} (ρ ≥ {CONVERGED_RHO:g} counts as converged); "
                         f"ρ(n = {n10}) = {r10:.2f}", r50 >= CONVERGED_RHO and r50 > r10))
    if sweep is not None:
        label = classes[sweep.target] if 0 <= sweep.target < len(classes) else f"class {sweep.target}"
        kept = [f"{s:g} %: {a:.0%}" for s, a in zip(sweep.sigmas_pct, sweep.noisy_accuracy) if 10 <= s <= 20]
        robust = all(a >= 0.5 for s, a in zip(sweep.sigmas_pct, sweep.noisy_accuracy) if 10 <= s <= 20)
        out.append(Check(f"the noisy copies are still “{label}”",
                         "Smilkov et al. 2017: σ = 10–20 % of the input range works best (ImageNet networks, "
                         "which keep their answer under such noise)",
                         "copies still classified as the class — " + (", ".join(kept) or "no σ in 10–20 % swept")
                         + ("" if robust else ": this small model, trained on clean images, is not robust to "
                            "Gaussian noise, so at the paper's σ SmoothGrad averages gradients of a different "
                            "decision"), None))
    return out


def faithfulness_checks(res: Any) -> list[Check]:
    """Each map of a :class:`~dlcore.explain.FaithfulnessResult` against the random map (when it was scored)."""
    if "random" not in res.names:
        return []
    rd, ri = res.deletion_auc["random"], res.insertion_auc["random"]
    out = []
    for n in res.names:
        if n == "random":
            continue
        d, i = res.deletion_auc[n], res.insertion_auc[n]
        out.append(Check(f"{_name(n)} beats a random map",
                         "Petsiuk et al. 2018 (RISE): a faithful map drops the score faster (deletion AUC lower) "
                         "and restores it faster (insertion AUC higher) than a random order",
                         f"deletion {d:.3f} vs {rd:.3f}, insertion {i:.3f} vs {ri:.3f}", d < rd and i > ri))
    return out


def sanity_checks(res: Any) -> list[Check]:
    """Each method's verdict in a :class:`~dlcore.explain.SanityResult` next to the paper's finding."""
    out = []
    thr = res.settings.get("fail_threshold", 0.5)
    for n in res.names:
        got = res.verdict[n]
        rho = f"mean ρ over the randomisation steps {res.mean_spearman[n]:.2f} → {got} (fails if > {thr:g})"
        want = SANITY_EXPECTED.get(n)
        if want is None:
            why = ("multiplies the gradients by x − x′, so, like gradient × input, it keeps the input's "
                   "structure" if n == "integrated_gradients" else "not among the paper's findings")
            out.append(Check(f"{_name(n)} after randomising the weights", f"Adebayo et al. 2018: no verdict "
                             f"stated for this method here; it {why}", rho, None))
            continue
        out.append(Check(f"{_name(n)} {want} the sanity check",
                         "Adebayo et al. 2018: " + ("barely changes when the weights are randomised"
                                                         if want == "fails" else "changes with the weights"),
                         rho, got == want))
    return out


def _roughness(x: torch.Tensor) -> float:
    """Σ |∇X|² of an image ``(C, H, W)`` (the notes' smoothness term)."""
    return float(((x[..., 1:, :] - x[..., :-1, :]) ** 2).sum() + ((x[..., :, 1:] - x[..., :, :-1]) ** 2).sum())


def prior_checks(results: Mapping[str, Any]) -> list[Check]:
    """``compare_priors`` output: the prior makes ``X*`` smoother (and both still excite the unit)."""
    plain, prior = results.get("without prior"), results.get("with prior")
    if plain is None or prior is None:
        return []
    rp, rq = _roughness(plain.final), _roughness(prior.final)
    out = [Check("the smoothness prior R(X) makes X* smoother",
                 "Seed 000 §9.4.2: maximise y_i − R(X) with R = Σ X² + Σ |∇X|² to get an image a person can read "
                 "(Simonyan et al. 2014; Mahendran & Vedaldi 2015)",
                 f"Σ|∇X*|² = {rp:.1f} without, {rq:.1f} with the prior", rq < rp)]
    if plain.activation and prior.activation:
        out.append(Check("both searches excite the unit", "the unconstrained X* reaches the higher activation "
                         "(nothing holds it back), the prior trades some of it for smoothness",
                         f"{plain.target}: {plain.activation[-1]:.2f} without, {prior.activation[-1]:.2f} with the prior",
                         None))
    return out


def attack_checks(ae: Any, classes: tuple[str, ...] = ()) -> list[Check]:
    """An :class:`~dlcore.explain.AttackExplanation`: did the answer flip, and how far did the maps move."""
    def lab(i: int) -> str:
        return classes[i] if 0 <= i < len(classes) else f"class {i}"

    before, after = ae.clean.predicted, ae.adversarial.predicted
    out = [Check("the attack changes the answer", "Goodfellow et al. 2015; Madry et al. 2018: a perturbation "
                 "invisible to us flips an undefended classifier",
                 f"{lab(before)} (p = {ae.clean.predicted_probability:.2f}) → {lab(after)} "
                 f"(p = {ae.adversarial.predicted_probability:.2f}), ‖δ‖∞ = {ae.linf:.3f}", before != after)]
    if ae.names:
        rho = sum(ae.spearman.values()) / len(ae.names)
        top = sum(ae.topk_overlap.values()) / len(ae.names)
        out.append(Check("the maps move", "Ghorbani et al. 2019: explanations are fragile — a small perturbation "
                         "moves the top-k pixels", f"mean ρ = {rho:.2f}, mean top-{ae.k_pct:g} % overlap {top:.0%} "
                         f"over {len(ae.names)} methods", None))
    return out
