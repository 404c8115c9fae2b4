"""The measuring panels of the attack tab: accuracy vs ε (clean, passively shielded and adversarially
trained models under FGSM and PGD, streamed point by point) and the Madry et al. 2018 paper check
with pass/fail beside the paper's MNIST figures.
"""

from __future__ import annotations

import math
import threading
from typing import Any, Iterator

import gradio as gr

from apps.attacks_defend import parse_names
from apps.attacks_run import L, natural_and_robust, pct, stream
from apps.common import STOPS, guard, md_escape, stop_button
from apps.streaming import FrameBudget
from dlcore.attacks.names import CURVE_ATTACKS, DEFAULT_EPS, DEFENSE_DISPLAY, DEFENSE_NAMES
from dlcore.textinput import parse_choice, parse_int, parse_number, parse_text

__all__ = ["CURVE_MODELS", "D_CURVES", "QUICK_CURVES", "D_PAPER", "QUICK_PAPER", "curves", "paper_check",
           "stop_curves", "stop_paper", "parse_eps", "REDRAW_S"]

#: what the curves' model boxes mean
CURVE_MODELS: dict[str, str] = {"natural": "natural CNN", "shield_plain": "CNN + shield, plain attack",
                                "shield_adaptive": "CNN + shield, adaptive attack (BPDA/EOT)",
                                "robust": "adversarially trained CNN"}
EPS_TEXT = ", ".join(f"{e:g}" for e in DEFAULT_EPS)
#: models, shield, attacks, images, PGD steps, budgets: the issue's figure (8 ε × 500 images, PGD-20)
D_CURVES = [list(CURVE_MODELS), "jpeg", list(CURVE_ATTACKS), 500, 20, EPS_TEXT]
QUICK_CURVES = [list(CURVE_MODELS), "jpeg", list(CURVE_ATTACKS), 50, 10, "0, 0.05, 0.1, 0.2"]
#: images, PGD steps (Madry et al. evaluate with PGD-40/100; the zoo's figure is PGD-20 on 1000)
D_PAPER = [1000, 20]
QUICK_PAPER = [100, 20]
#: at most one redraw of the partial curves per this many seconds (a figure costs ~0.5 s here)
REDRAW_S = 2.5


def parse_eps(text: Any) -> list[float]:
    """``"0, 0.05, 0.1"`` -> budgets in [0, 1], 1 to 16 of them."""
    s = parse_text(text, L["c_eps"], max_chars=400)
    parts = [p for p in s.replace(";", ",").split(",") if p.strip()]
    if not 1 <= len(parts) <= 16:
        raise ValueError(f"{L['c_eps']}: give 1 to 16 numbers, got {len(parts)}")
    return sorted({parse_number(p.strip(), f"{L['c_eps']} {p.strip()[:20]!r}", lo=0, hi=1) for p in parts})


def _partial(points: dict[tuple[str, str, float], float], clean: dict[str, float], models: list[str],
             attacks: list[str], eps: list[float], n: int, steps: int) -> Any:
    from dlcore.attacks import AccuracyCurves

    acc = {m: {a: [points.get((m, a, e), math.nan) for e in eps] for a in attacks} for m in models}
    return AccuracyCurves(eps, models, attacks, dict(clean), acc, n, steps, stopped=True)


def _curves_md(c: Any) -> str:
    head = ("⏹ **stopped**: " + md_escape("; ".join(c.notes)) if c.stopped else
            f"**Done:** {len(c.models)} model(s) × {len(c.attacks)} attack(s) × {len(c.eps)} budgets on {c.n} test "
            f"images (PGD-{c.steps}, α = 2.5·ε/steps, random start) — robust accuracy ≤ clean accuracy was checked "
            "at every point.")
    rows = ["| model | attack | " + " | ".join(f"ε = {e:g}" for e in c.eps) + " |",
            "|---|---|" + "---:|" * len(c.eps)]
    for m in c.models:
        for a in c.attacks:
            rows.append(f"| {md_escape(m)} | {a.upper()} | " + " | ".join(pct(v) for v in c.accuracy[m][a]) + " |")
    if c.stopped:  # too few points for the lesson; n/a = not measured
        return "\n\n".join([head, "\n".join(rows), "n/a = not measured before the stop."])
    return "\n\n".join([head, "\n".join(rows), *_lessons(c)])


def _lessons(c: Any) -> list[str]:
    """What this run shows, read from its own numbers at ε = 0.1 (the budget the adversarially trained CNN
    was trained for) or else the largest budget, under PGD if it was run."""
    atk = "pgd" if "pgd" in c.attacks else c.attacks[0]
    e = c.eps.index(0.1) if 0.1 in c.eps else max(range(len(c.eps)), key=lambda i: c.eps[i])
    at = {m: c.accuracy[m][atk][e] for m in c.models}
    find = lambda end: next((m for m in c.models if m.endswith(end)), None)  # noqa: E731
    plain, adaptive, natural, robust = find(", plain"), find(", adaptive"), find("natural CNN"), find("trained")
    where = f"{atk.upper()} at ε = {c.eps[e]:g}"
    out = []
    if plain and adaptive:
        if at[plain] - at[adaptive] > 0.05:
            out.append(f"Under the *plain* attack the shield looks robust ({pct(at[plain])}, {where}); the adaptive "
                       f"attack takes it to {pct(at[adaptive])}: the shield hid the gradient, it did not remove the "
                       "adversarial examples.")
        else:
            out.append(f"This shield hides no gradient: the plain attack already sees through it ({pct(at[plain])} "
                       f"vs {pct(at[adaptive])} adaptive, {where}).")
    if natural and robust:
        out.append(f"The adversarially trained CNN keeps {pct(at[robust])} where the natural one keeps "
                   f"{pct(at[natural])} ({where}), and pays for it on clean images ({pct(c.clean[robust])} vs "
                   f"{pct(c.clean[natural])}).")
    return out


@guard
def curves(models: Any, shield: Any, attacks: Any, n: Any, steps: Any, eps: Any,
           request: gr.Request = None) -> Iterator[tuple[str, Any]]:  # type: ignore[assignment]
    """Accuracy vs ε, streamed point by point (the figure redrawn every few seconds); Stop keeps the points done."""
    keys = parse_names(models, L["c_models"], tuple(CURVE_MODELS))
    sh = parse_choice(shield, L["c_shield"], DEFENSE_NAMES)
    atks = parse_names(attacks, L["c_attacks"], CURVE_ATTACKS)
    k = parse_int(n, L["c_n"], lo=20, hi=2000)
    t = parse_int(steps, L["c_steps"], lo=1, hi=100)
    budgets = parse_eps(eps)
    from dlcore import zoo
    from dlcore.attacks import accuracy_vs_eps
    from dlcore.defenses import adaptive_model, defend, seed_shield
    from dlcore.plotting.attacks import accuracy_curves

    natural, robust = natural_and_robust()
    split = zoo.load_data(natural)
    nat, shielded = zoo.get(natural), defend(zoo.get(natural), sh)
    seed_shield(shielded.transform, 0)  # a random shield's draws repeat run after run
    names = {"natural": "natural CNN", "shield_plain": f"CNN + {DEFENSE_DISPLAY[sh]}, plain",
             "shield_adaptive": f"CNN + {DEFENSE_DISPLAY[sh]}, adaptive", "robust": "adversarially trained"}
    nets = {"natural": nat, "shield_plain": shielded, "shield_adaptive": shielded, "robust": zoo.get(robust)}
    chosen = {names[key]: nets[key] for key in keys}
    grads = {names["shield_adaptive"]: adaptive_model(shielded, "auto", 10)} if "shield_adaptive" in keys else {}
    points: dict[tuple[str, str, float], float] = {}
    clean: dict[str, float] = {}
    lock = threading.Lock()
    total = len(chosen) * len(atks) * len(budgets)
    with STOPS.running(request, "attacks_curves") as stop:
        def work(cb: Any) -> Any:
            def record(step: int, m: dict[str, Any]) -> None:
                with lock:
                    points[(m["model"], m["attack"], m["eps"])] = m["accuracy"]
                    clean[m["model"]] = m["clean"]
                cb(step, m)
            return accuracy_vs_eps(chosen, split.x_test[:k], split.y_test[:k], budgets, atks, steps=t,
                                   gradient_models=grads, callback=record, stop_event=stop)

        yield f"⏳ {total} points to measure on {k} test images…", gr.skip()
        budget = FrameBudget(every=REDRAW_S)  # drawing holds the GIL the attacks' thread needs
        for m, res, done in stream(work, stop):
            if not done:
                last = (f" · last: {md_escape(m['model'])}, {m['attack'].upper()}, ε = {m['eps']:g} → "
                        f"{pct(m['accuracy'])}") if "model" in m else ""
                text = f"⏳ {len(points)}/{total} points{last} · {m['seconds']:.1f} s · Stop keeps the points done"
                def draw() -> tuple[str, Any]:
                    with lock:
                        part = _partial(dict(points), dict(clean), list(chosen), atks, budgets, k, t)
                    return text, accuracy_curves(part)
                if points:
                    yield from budget.frame(draw, (text, gr.skip()))
                else:
                    yield text, gr.skip()
                continue
            yield _curves_md(res), accuracy_curves(res)


def _paper_md(check: Any) -> str:
    mark = {True: "✅ pass", False: "❌ fail", None: "ℹ"}
    rows = ["| | measured here | Madry et al. 2018 (MNIST, ε = 0.3) | rule |", "|---|---:|---|---|"]
    rows += [f"| {mark[r.passed]} {md_escape(r.label)} | **{pct(r.measured)}** | {r.paper} | {r.rule} |"
             for r in check.rows]
    verdict = "✅ **PASS**" if check.passed else "❌ **FAIL**"
    return "\n\n".join([f"{verdict}: the paper's effect on {check.data} at ε = {check.eps:g} (PGD-{check.steps}, "
                        f"{check.n} test images, `{check.natural}` vs `{check.robust}`).", "\n".join(rows)]
                       + [f"ℹ {md_escape(n)}" for n in check.notes])


@guard
def paper_check(n: Any, steps: Any, request: gr.Request = None) -> Iterator[tuple[str, Any]]:  # type: ignore[assignment]
    """The Madry et al. check on the zoo's natural and adversarially trained CNNs, streamed; Stop ends it (not passed)."""
    k = parse_int(n, L["p_n"], lo=50, hi=10_000)
    t = parse_int(steps, L["p_steps"], lo=1, hi=100)
    from dlcore.plotting.attacks import paper_check_bars
    from dlcore.zoo.robust_check import madry_check

    with STOPS.running(request, "attacks_paper") as stop:
        work = lambda cb: madry_check(n=k, steps=t, alpha=0.01, callback=cb, stop_event=stop)  # noqa: E731
        yield f"⏳ PGD-{t} on {k} test images, natural CNN first…", gr.skip()
        for m, check, done in stream(work, stop):
            if not done:
                yield (f"⏳ {m.get('model', '…')}: {100 * m.get('progress', 0):.0f} % · {m['seconds']:.1f} s · "
                       "Stop ends the check (then it is not passed)", gr.skip())
                continue
            yield _paper_md(check), paper_check_bars(check)


stop_curves = stop_button("attacks_curves", "⏹ stopping after the current point…",
                           "Nothing is running: press **Draw the curves** first.")


stop_paper = stop_button("attacks_paper", "⏹ stopping…",
                          "Nothing is running: press **Run the paper check** first.")
