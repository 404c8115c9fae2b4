"""The defence panels of the attack tab (seed 000 §9.1.2, 如何防御网络): passive shields with their
clean-accuracy cost and the adaptive attacks (BPDA, EOT) that break them, and active defence —
the zoo's PGD-adversarially-trained CNN and the notes' attack → augment → retrain loop, live.
"""

from __future__ import annotations

from typing import Any, Iterator

import gradio as gr

from apps.attacks_run import L, model_name, natural_and_robust, pct, positive, stream
from apps.common import STOPS, guard, stop_button
from dlcore.attacks.names import CURVE_ATTACKS, DEFENSE_DISPLAY, DEFENSE_NAMES
from dlcore.textinput import parse_choice, parse_choices, parse_int

__all__ = ["D_COST", "D_SHIELDS", "QUICK_SHIELDS", "D_RETRAIN", "QUICK_RETRAIN", "shields", "attack_shields",
           "retrain", "adv_card", "stop_shields", "stop_retrain", "parse_names", "WHAT"]

D_COST = ["fmnist_cnn", list(DEFENSE_NAMES), 500, 0]
#: model, shields, ε, PGD steps, EOT samples, images
D_SHIELDS = ["fmnist_cnn", list(DEFENSE_NAMES), 0.1, 20, 10, 200]
QUICK_SHIELDS = ["fmnist_cnn", ["jpeg", "bit_depth"], 0.1, 5, 4, 50]
#: rounds, attack, ε, PGD steps, epochs, training images, test images
D_RETRAIN = [3, "pgd", 0.1, 7, 2, 1000, 300]
QUICK_RETRAIN = [1, "pgd", 0.1, 3, 1, 200, 100]
WHAT = {"gaussian_blur": "convolve with a Gaussian, σ = 1 px", "median_blur": "median of each 2×2 window",
        "jpeg": "JPEG at quality 75 (torchvision)", "bit_depth": "1 bit: round each pixel to 0 or 1",
        "random_resize": "shrink to a random 26–28 px, pad at a random place",
        "random_noise": "add Gaussian noise, σ = 0.1"}


def parse_names(value: Any, name: str, choices: tuple[str, ...]) -> list[str]:
    """A non-empty list of registry names (registry order kept, duplicates dropped)."""
    return parse_choices(value, name, choices)


def _data(model: str, n: int) -> tuple[Any, Any, Any]:
    from dlcore import zoo

    split = zoo.load_data(model)
    return zoo.get(model), split.x_test[:n], split.y_test[:n]


@guard
def shields(model: Any, defenses: Any, n: Any, preview: Any) -> tuple[str, Any]:
    """What each shield costs on clean test images, and what it does to one image (cheap: no attack)."""
    name = model_name(model, L["d_model"])
    names = parse_names(defenses, L["defenses"], DEFENSE_NAMES)
    k = parse_int(n, L["cost_n"], lo=10, hi=10_000)
    i = parse_int(preview, L["preview"], lo=0, hi=9999)
    import torch

    from dlcore.defenses import DEFENSES, defense_cost, make_defense, seed_shield
    from dlcore import zoo

    net, x, y = _data(name, k)
    img, label, cls = zoo.test_image(name, i)
    rows = ["| shield | what it does | gradient | clean accuracy: none → shield (change) |", "|---|---|---|---:|"]
    gallery = [(_gray(img[0, 0]), f"#{i}: no shield")]
    for d in names:
        c = defense_cost(net, x, y, d)
        spec = DEFENSES[d]
        grad = ("hidden (BPDA)" if not spec.differentiable else "yes") + (", random (EOT)" if spec.random else "")
        rows.append(f"| {DEFENSE_DISPLAY[d]} | {WHAT[d]} | {grad} | {pct(c.clean_accuracy)} → {pct(c.defended_accuracy)}"
                    f" ({-100 * c.cost:+.1f}) |")
        with torch.no_grad():
            gallery.append((_gray(seed_shield(make_defense(d), 0)(img)[0, 0]), DEFENSE_DISPLAY[d]))
    head = (f"**The price of each shield** on the first {len(y)} test images ({name}): the model is unchanged, the "
            "shield sits in front of it (seed §9.1.2: *this lowers the model's accuracy*).")
    return head + "\n\n" + "\n".join(rows), gallery


def _gray(t: Any) -> Any:
    import numpy as np

    a = (t.clamp(0, 1).numpy() * 255).round().astype(np.uint8)
    return a.repeat(6, 0).repeat(6, 1)


def _shield_md(rows: list[Any], a: dict[str, Any], stopped: bool) -> str:
    table = ["| shield | adaptive attack | no shield, clean | shield, clean | shield, plain PGD | shield, adaptive | "
             "broken? ¹ |", "|---|---|---:|---:|---:|---:|---|"]
    for r in rows:
        table.append(f"| {r.display_name} | {r.mode} | {pct(r.clean)} | {pct(r.defended_clean)} | {pct(r.plain)} | "
                     f"**{pct(r.adaptive)}** | {'✅ broken' if r.broken else '❌ holds'} |")
    fooled = [r for r in rows if r.plain >= 0.5 * r.defended_clean]  # plain PGD leaves most of its accuracy
    beaten = [r for r in fooled if r.adaptive < r.plain]
    head = ("⏹ **stopped** after " if stopped else "**Done:** ") + (
        f"{len(rows)} shield(s), PGD-{a['steps']} at ε = {a['eps']:g} on {a['n']} test images ({a['model']}).")
    lesson = (f"Plain PGD *seems* beaten by {', '.join(r.display_name for r in fooled)}; the adaptive attack does "
              f"better against {len(beaten)} of these {len(fooled)}: the shield hid the gradient, it did not remove "
              "the adversarial examples (Athalye, Carlini & Wagner 2018)." if fooled else
              "Plain PGD already breaks every shield here.")
    return "\n\n".join([head, lesson, "\n".join(table),
                        "¹ broken = the adaptive attack leaves at least 5 points less accuracy than plain PGD (or "
                        "under 10 %): the shield's apparent robustness was, at least in part, a hidden gradient. "
                        "BPDA: the shield runs forward, its Jacobian is replaced by the identity backward. EOT: average "
                        f"the model over {a['eot']} random draws of the shield before taking the gradient."])


@guard
def attack_shields(model: Any, defenses: Any, eps: Any, steps: Any, eot: Any, n: Any,
                   request: gr.Request = None) -> Iterator[tuple[str, Any]]:  # type: ignore[assignment]
    """Plain PGD and the adaptive attack (BPDA / EOT) against each shield, streamed per shield; Stop keeps the rows done."""
    a = {"model": model_name(model, L["d_model"]), "names": parse_names(defenses, L["defenses"], DEFENSE_NAMES),
         "eps": positive(eps, L["d_eps"], hi=1), "steps": parse_int(steps, L["d_steps"], lo=1, hi=100),
         "eot": parse_int(eot, L["eot"], lo=1, hi=32), "n": parse_int(n, L["d_n"], lo=10, hi=2000)}
    from dlcore.defenses import defense_report
    from dlcore.plotting.attacks import defense_bars

    net, x, y = _data(a["model"], a["n"])
    total = len(a["names"])
    with STOPS.running(request, "attacks_shields") as stop:
        work = lambda cb: defense_report(net, x, y, a["names"], eps=a["eps"], steps=a["steps"],  # noqa: E731
                                         eot_samples=a["eot"], callback=cb, stop_event=stop)
        yield f"⏳ attacking {DEFENSE_DISPLAY[a['names'][0]]} (plain, then adaptive)…", gr.skip()
        for m, rows, done in stream(work, stop):
            if not done:
                k = m.get("done", 0)
                now = DEFENSE_DISPLAY[a["names"][min(k, total - 1)]]
                yield (f"⏳ {k}/{total} shields done · attacking {now} · {m['seconds']:.1f} s · Stop keeps the "
                       "shields done", gr.skip())
                continue
            stopped = len(rows) < total
            yield _shield_md(rows, a, stopped), defense_bars(rows, a["eps"]) if rows else None


def _retrain_md(res: Any, a: dict[str, Any]) -> str:
    rows = ["| round | training set | clean | under attack |", "|---:|---:|---:|---:|"]
    rows += [f"| {r.round} | {r.n_train:,} | {pct(r.clean_accuracy)} | **{pct(r.robust_accuracy)}** |" for r in res.rounds]
    first, last = res.rounds[0], res.rounds[-1]
    head = ("⏹ **stopped** after round " + str(last.round) if res.stopped else "**Done:** " + str(last.round) +
            " round(s)") + (f" of attack → add D_adv → retrain on {a['n_train']:,} training images, measured on "
                            f"{a['n_test']} test images with a fresh {a['attack'].upper()} (ε = {a['eps']:g}) each "
                            "round.")
    move = (f"Under attack: {pct(first.robust_accuracy)} → {pct(last.robust_accuracy)}; clean: "
            f"{pct(first.clean_accuracy)} → {pct(last.clean_accuracy)}. The notes' caveat holds: each round costs a "
            "full attack of the training set, and the model only learns the attacks it was shown.")
    return "\n\n".join([head, move, "\n".join(rows)])


@guard
def adv_card() -> str:
    """The zoo's adversarially trained CNN: its recipe and measured figures (from the manifest)."""
    from dlcore import zoo

    natural, robust = natural_and_robust()
    e, n = zoo.info(robust), zoo.info(natural)
    o = zoo.RECIPES[robust].options
    key = f"pgd{o['eval_steps']}_accuracy"
    return (f"**Shipped: `{robust}`**, PGD adversarial training (Madry et al. 2018) through the one Trainer's batch "
            f"hook: every batch replaced by PGD-{o['steps']} examples (ε = {o['eps']:g}, α = {o['alpha']:g}, random "
            f"start), {e['recipe']['epochs']} epochs, {e['train_seconds'] / 60:.0f} min on this shared CPU. Clean "
            f"**{pct(e['test_accuracy'])}** (natural `{natural}`: {pct(n['test_accuracy'])}), PGD-{o['eval_steps']} at "
            f"ε = {o['eval_eps']:g}: **{pct(e['metrics'][key])}** on "
            f"{o['eval_n']} test images. Rebuild: `python -m dlcore.zoo build {robust}`.")


@guard
def retrain(rounds: Any, attack: Any, eps: Any, steps: Any, epochs: Any, n_train: Any, n_test: Any,
            request: gr.Request = None) -> Iterator[tuple[str, Any]]:  # type: ignore[assignment]
    """The notes' loop on a fresh copy of the natural CNN, streamed per phase; Stop keeps the rounds done."""
    a = {"rounds": parse_int(rounds, L["r_rounds"], lo=1, hi=5),
         "attack": parse_choice(attack, L["r_attack"], CURVE_ATTACKS), "eps": positive(eps, L["r_eps"], hi=1),
         "steps": parse_int(steps, L["r_steps"], lo=1, hi=20), "epochs": parse_int(epochs, L["r_epochs"], lo=1, hi=5),
         "n_train": parse_int(n_train, L["r_train"], lo=50, hi=5000),
         "n_test": parse_int(n_test, L["r_test"], lo=20, hi=2000)}
    from dlcore import zoo
    from dlcore.defenses import RetrainConfig, adversarial_retraining
    from dlcore.plotting.attacks import retrain_rounds

    natural, _ = natural_and_robust()
    split = zoo.load_data(natural)
    cfg = RetrainConfig(rounds=a["rounds"], attack=a["attack"], eps=a["eps"], steps=a["steps"], epochs=a["epochs"])
    with STOPS.running(request, "attacks_retrain") as stop:
        work = lambda cb: adversarial_retraining(  # noqa: E731
            zoo.get(natural, fresh=True), (split.x_train[:a["n_train"]], split.y_train[:a["n_train"]]),
            (split.x_test[:a["n_test"]], split.y_test[:a["n_test"]]), cfg, callback=cb, stop_event=stop)
        yield "⏳ measuring the natural CNN before any retraining…", gr.skip()
        for m, res, done in stream(work, stop):
            if not done:
                yield (f"⏳ round {m.get('round', 0)}/{a['rounds']}: {m.get('phase', 'evaluate')} · "
                       f"{m['seconds']:.1f} s · Stop keeps the rounds done", gr.skip())
                continue
            yield _retrain_md(res, a), retrain_rounds(res)


stop_shields = stop_button("attacks_shields", "⏹ stopping after the current attack…",
                            "Nothing is running: press **Attack the shields** first.")


stop_retrain = stop_button("attacks_retrain", "⏹ stopping after the current step…",
                            "Nothing is running: press **Run the loop** first.")
