"""The black-box panel of the attack tab (seed 000 §9.1.1, 黑盒攻击): the attacker only queries the
model. Two routes, as in the notes: estimate the gradient from queries (the notes' finite
differences beside NES and SPSA, with a query counter), or train a substitute on the target's
input → label pairs and transfer a white-box attack on it (Papernot et al. 2017).
"""

from __future__ import annotations

from typing import Any, Iterator

import gradio as gr

from apps.attacks_run import L, caption, clear_loss_on_failure, conversion, load, pct, positive, quick, stream
from apps.attacks_white import D_IMG, MODEL, MODELS, _top5
from apps.common import HEAVY, LIGHT, STOPS, Dropdown, Number, Radio, Slider, guard, on, on_first_open, stop_button
from apps.imaging import image_picker
from dlcore.attacks.names import ATTACK_DISPLAY, BLACK_BOX, LAB_DEFAULTS, SUBSTITUTE_ARCH_NAMES
from dlcore.textinput import parse_choice, parse_int, parse_number

__all__ = ["D_BLACK", "D_TRANSFER", "QUICK_TRANSFER", "blackbox", "transfer", "stop_blackbox", "stop_transfer",
           "panel"]

#: method, ε, α, most steps, query budget
D_BLACK = [*D_IMG, "nes", 0.1, 0.01, 100, 10_000]
#: model, substitute, rounds, epochs, λ, seed images, attack, ε, images attacked, compare k
D_TRANSFER = [MODEL, "lenet5", 4, 5, 0.1, 150, "fgsm", 0.2, 200, 3]
#: the first-open preview (a few seconds): 2 short rounds, no query comparison
QUICK_TRANSFER = [MODEL, "lenet5", 2, 2, 0.1, 150, "fgsm", 0.2, 100, 0]
TRANSFER_ATTACKS = ("fgsm", "bim", "pgd")
PER_STEP = {"finite_difference": "785 (one per pixel + 1)", "nes": "51 (50 Gaussian directions + 1)",
            "spsa": "129 (128 ±1 directions + 1)"}


def _bb_options(method: Any, eps: Any, alpha: Any, steps: Any, max_queries: Any) -> tuple[str, dict[str, Any]]:
    name = parse_choice(method, L["bb_method"], BLACK_BOX)
    return name, {"eps": parse_number(eps, L["bb_eps"], lo=0, hi=1), "alpha": positive(alpha, L["bb_alpha"], hi=1),
                  "steps": parse_int(steps, L["bb_steps"], lo=1, hi=500),
                  "max_queries": parse_int(max_queries, L["bb_queries"], lo=1, hi=100_000), "seed": 0}


def _bb_status(res: Any, picked: Any, classes: tuple[str, ...], name: str) -> str:
    b, a = int(res.pred_before[0]), int(res.pred_after[0])
    q = int(res.queries[0])
    ok = bool(res.success[0])
    head = "⏹ **stopped**: " if res.stopped else ""
    verdict = "✅ fooled" if ok else f"❌ not fooled within the budget: still {classes[a]}"
    lines = [f"{head}**{ATTACK_DISPLAY[name]}** on {caption(picked)}: **{classes[b]} → {classes[a]}** · {verdict}",
             f"**{q:,} queries spent** ({PER_STEP[name]} per step, {res.steps_done} step(s); the loop stops an image "
             f"once it is fooled) · ‖δ‖∞ = {float(res.linf[0]):.3f} · a white-box FGSM needs one gradient instead.",
             f"Paper settings: {LAB_DEFAULTS[name]['paper']}."]
    if name == "finite_difference":
        lines.append("The notes' estimate: g_i = (f(x + δe_i) − f(x)) / δ for every pixel i. The notes use δ = 1e-5 "
                     "in float64; in float32 the rounding error of a loss near 1 is ~1e-7/δ, so δ = 1e-3 here.")
    return "\n\n".join(lines + [f"ℹ {n}" for n in res.notes])


@guard
def blackbox(model: Any, source: Any, index: Any, upload: Any, invert: Any, method: Any, eps: Any, alpha: Any,
             steps: Any, max_queries: Any, request: gr.Request = None) -> Iterator[tuple[Any, ...]]:  # type: ignore[assignment]
    """A query-only attack on one picture, streamed (queries spent so far); Stop keeps the image as it is."""
    name, opts = _bb_options(method, eps, alpha, steps, max_queries)
    import pandas as pd
    import torch

    from dlcore.attacks import attack_prediction, make_attack
    from dlcore.plotting.attacks import attack_arrays

    net, picked, classes = load(model, source, index, upload, invert)
    skip = [gr.skip()] * 7
    with STOPS.running(request, "attacks_blackbox") as stop:
        def work(cb: Any) -> Any:
            if picked.label is None:
                return attack_prediction(net, picked.x, name, callback=cb, stop_event=stop, **opts)
            return make_attack(name, net, callback=cb, stop_event=stop, **opts)(picked.x, torch.tensor([picked.label]))

        yield (f"⏳ {ATTACK_DISPLAY[name]}: estimating the first gradient…", *skip)
        for m, res, done in stream(work, stop):
            if not done:
                yield (f"⏳ {ATTACK_DISPLAY[name]}: step {m.get('step', 0)}/{m.get('steps', '…')} · "
                       f"{m.get('queries', 0):,} queries · loss {m.get('loss', float('nan')):.3f} · "
                       f"{m['seconds']:.1f} s · Stop keeps the image as it is now", *skip)
                continue
            arr = attack_arrays(res, 0, scale=max(1, min(32, 224 // int(res.x.shape[-1]))))
            loss = pd.DataFrame({"step": list(range(len(res.loss_per_step))), "loss": res.loss_per_step.tolist()})
            yield (_bb_status(res, picked, classes, name), arr["original"], arr["perturbation"], arr["adversarial"],
                   _top5(res.probs_before[0], classes), _top5(res.probs_after[0], classes), loss, conversion(picked))


def _transfer_args(model: Any, arch: Any, rounds: Any, epochs: Any, lam: Any, n_seed: Any, attack: Any, eps: Any,
                   n_attack: Any, n_compare: Any) -> dict[str, Any]:
    from apps.attacks_run import model_name

    return {"model": model_name(model), "arch": parse_choice(arch, L["arch"], SUBSTITUTE_ARCH_NAMES),
            "rounds": parse_int(rounds, L["rounds"], lo=1, hi=6), "epochs": parse_int(epochs, L["sub_epochs"], lo=1, hi=10),
            "lam": positive(lam, L["lam"], hi=1), "n_seed": parse_int(n_seed, L["n_seed"], lo=10, hi=300),
            "attack": parse_choice(attack, L["tr_attack"], TRANSFER_ATTACKS),
            "eps": positive(eps, L["tr_eps"], hi=1), "n_attack": parse_int(n_attack, L["n_attack"], lo=1, hi=1000),
            "k": parse_int(n_compare, L["n_compare"], lo=0, hi=10)}


def _transfer_md(a: dict[str, Any], sub: Any, tr: Any, compare: dict[str, Any]) -> str:
    last = sub.rounds[-1] if sub.rounds else {}
    n, right = tr.result.y.numel(), int((tr.result.pred_before == tr.result.y).sum())
    lines = [f"**Transfer: the {a['attack'].upper()} examples (ε = {a['eps']:g}) made on the substitute fool the "
             f"target on {pct(tr.transfer_success_rate)} of the {right} images (of {n}) it classified right** "
             f"(the substitute itself is fooled on {pct(tr.substitute_success_rate)}).",
             f"Queries to the target: **{tr.label_queries:,} labels** to train the substitute ({sub.config['rounds']} "
             f"round(s) of Jacobian augmentation, the set doubling each round) + {tr.eval_queries:,} to check the "
             f"answers = **{tr.queries:,}**, i.e. {tr.queries / max(1, tr.result.y.numel()):.0f} per attacked image; "
             f"the substitute agrees with the target on {pct(last.get('agreement', float('nan')))} of "
             f"{sub.check_queries} other test images.",
             "Papernot et al. 2017 (MNIST, ε = 0.3, FGSM, 6 rounds from 150 images): 84 % of the target's "
             "examples transferred, with 6,400 label queries."]
    if compare:
        lines.append("| route | fooled | queries per image |\n|---|---:|---:|\n" + "\n".join(
            f"| {ATTACK_DISPLAY[n]} (first {r.y.numel()} images) | {pct(r.success_rate)} | "
            f"{float(r.queries.float().mean()):,.0f} |" for n, r in compare.items())
            + f"\n| transfer from the substitute | {pct(tr.transfer_success_rate)} | "
              f"{tr.queries / max(1, tr.result.y.numel()):,.0f} |")
    return "\n\n".join(lines)


@guard
def transfer(model: Any, arch: Any, rounds: Any, epochs: Any, lam: Any, n_seed: Any, attack: Any, eps: Any,
             n_attack: Any, n_compare: Any, request: gr.Request = None) -> Iterator[tuple[Any, ...]]:  # type: ignore[assignment]
    """Train a substitute from the target's labels (streamed per round), attack it, transfer; Stop keeps the rounds done."""
    a = _transfer_args(model, arch, rounds, epochs, lam, n_seed, attack, eps, n_attack, n_compare)
    from dlcore import zoo
    from dlcore.attacks import SubstituteConfig, make_attack, train_substitute, transfer_attack
    from dlcore.plotting.attacks import blackbox_summary, substitute_rounds

    net, split = zoo.get(a["model"]), zoo.load_data(a["model"])
    n = len(split.x_test)
    if a["n_seed"] + a["n_attack"] + 50 > n:
        raise ValueError(f"{L['n_seed']} + {L['n_attack']} = {a['n_seed'] + a['n_attack']} leave fewer than 50 of "
                         f"the {n} test images to check the substitute on")
    x_att, y_att = split.x_test[:a["n_attack"]], split.y_test[:a["n_attack"]]
    x_check = split.x_test[a["n_attack"]:min(a["n_attack"] + 500, n - a["n_seed"])]
    x_seed = split.x_test[n - a["n_seed"]:]  # the attacker's own images, apart from the attacked and checked ones
    steps = 20
    opts = {"eps": a["eps"]} if a["attack"] == "fgsm" else {"eps": a["eps"], "steps": steps, "alpha": 2.5 * a["eps"] / steps}
    with STOPS.running(request, "attacks_transfer") as stop:
        def work(cb: Any) -> Any:
            cfg = SubstituteConfig(arch=a["arch"], rounds=a["rounds"], lam=a["lam"], epochs=a["epochs"], seed=0)
            sub = train_substitute(net, x_seed, cfg, x_check=x_check, stop_event=stop,
                                   callback=lambda s, m: cb(s, {**m, "phase": m.get("phase", "train")}))
            if sub.stopped:
                return sub, None, {}
            cb(0, {"phase": "transfer"})
            tr = transfer_attack(net, sub, x_att, y_att, a["attack"], **opts)
            compare = {}
            for name in ("nes", "spsa") if a["k"] else ():
                cb(0, {"phase": f"compare {name}"})
                r = make_attack(name, net, eps=a["eps"], alpha=0.01, steps=100, max_queries=10_000, seed=0,
                                stop_event=stop)(x_att[:a["k"]], y_att[:a["k"]])
                if r.stopped:
                    break
                compare[name] = r
            return sub, tr, compare

        yield "⏳ asking the target for the labels of the seed images…", gr.skip(), gr.skip()
        for m, out, done in stream(work, stop):
            if not done:
                phase = m.get("phase", "train")
                where = (f"round {m.get('round', 1)}/{a['rounds']}, {m.get('n_train', a['n_seed']):,} labelled images, "
                         f"loss {m.get('loss', m.get('train_loss', float('nan'))):.3f}") if phase in ("train", "round") \
                    else f"{phase} on {a['n_attack'] if phase == 'transfer' else a['k']} images"
                yield f"⏳ {where} · {m['seconds']:.1f} s · Stop keeps the rounds done", gr.skip(), gr.skip()
                continue
            sub, tr, compare = out
            if tr is None:
                yield (f"⏹ **stopped** after {len(sub.rounds)} round(s) ({sub.queries:,} label queries); the transfer "
                       "attack was not run.", substitute_rounds(sub) if sub.rounds else None, None)
                return
            yield _transfer_md(a, sub, tr, compare), substitute_rounds(sub), blackbox_summary(compare, tr)


stop_blackbox = stop_button("attacks_blackbox", "⏹ stopping after the current step…",
                             "Nothing is running: press **Attack by queries** first.")


stop_transfer = stop_button("attacks_transfer", "⏹ stopping after the current training step…",
                             "Nothing is running: press **Train the substitute and transfer** first.")


def panel() -> Any:
    """Build the black-box panel; returns its model dropdown (the tab's first open fills it)."""
    gr.Markdown("**Attack by queries** — the attacker sees only the model's output probabilities and estimates the "
                "gradient from them (one *query* = one forward pass of one image).")
    with gr.Row():
        model = Dropdown(MODELS, value=MODEL, label=L["model"], scale=1)
        method = Radio([(ATTACK_DISPLAY[n].split(" (")[0], n) for n in BLACK_BOX], value="nes", label=L["bb_method"],
                       scale=2)
    picker = image_picker(default_index=0)
    with gr.Row():
        btn = gr.Button("Attack by queries", variant="primary", elem_id="attacks-blackbox-run")
        stop = gr.Button("Stop", elem_id="attacks-blackbox-stop")
    with gr.Row():
        vals = [Slider(0, 0.5, 0.1, step=0.005, label=L["bb_eps"]), Number(0.01, label=L["bb_alpha"]),
                Number(100, precision=0, label=L["bb_steps"]), Number(10_000, precision=0, label=L["bb_queries"])]
    status = gr.Markdown()
    with gr.Row(equal_height=True):
        imgs = [gr.Image(type="numpy", interactive=False, label=lab, height=230, buttons=[])
                for lab in ("original ", "perturbation δ (amplified) ", "adversarial x + δ ")]
    with gr.Row():
        labels = [gr.Label(num_top_classes=5, label=f"top-5 {w} (queries)") for w in ("before", "after")]
    loss = gr.LinePlot(x="step", y="loss", label="loss per step (from queries)", height=220)
    conv = gr.Plot(label="how your picture was converted ", visible=False)
    ins, outs = [model, *picker.inputs, method, *vals], [status, *imgs, *labels, loss, conv]
    dep = on(btn.click, blackbox, ins, outs, api_name="attacks_blackbox", **HEAVY)
    clear_loss_on_failure(dep, loss)
    on(stop.click, stop_blackbox, status, status, api_name="attacks_blackbox_stop", **LIGHT)
    on_first_open(blackbox, ins, outs, **HEAVY)
    gr.Examples([D_BLACK, [*D_IMG, "spsa", 0.1, 0.01, 100, 20_000], [*D_IMG, "finite_difference", 0.1, 0.01, 20, 20_000],
                 [*D_IMG, "nes", 0.1, 0.01, 100, 500]], ins, outs, fn=blackbox, run_on_click=True,
                cache_examples=False, example_labels=["NES (Ilyas et al.)", "SPSA (Uesato et al.)",
                                                      "the notes' finite differences (785 queries a step, ~10 s)",
                                                      "NES with only 500 queries"], label="Examples")
    gr.Markdown("**Substitute and transfer** (代理网络) — label the attacker's own images with the target's answers, "
                "train a substitute, grow the set along the substitute's gradient (Papernot et al.'s Jacobian "
                "augmentation), then attack the substitute white-box and see whether it fools the target.")
    with gr.Row():
        tbtn = gr.Button("Train the substitute and transfer", variant="primary", elem_id="attacks-transfer-run")
        tstop = gr.Button("Stop", elem_id="attacks-transfer-stop")
    with gr.Row():
        tmodel = Dropdown(MODELS, value=MODEL, label=L["model"] + " (the target) ")
        arch = Dropdown(list(SUBSTITUTE_ARCH_NAMES), value="lenet5", label=L["arch"])
        tattack = Radio([(a.upper(), a) for a in TRANSFER_ATTACKS], value="fgsm", label=L["tr_attack"])
    with gr.Accordion("Substitute settings", open=False):
        with gr.Row():
            tvals = [Number(4, precision=0, label=L["rounds"]), Number(5, precision=0, label=L["sub_epochs"]),
                     Number(0.1, label=L["lam"]), Number(150, precision=0, label=L["n_seed"])]
        with gr.Row():
            teps, tn, tk = (Number(0.2, label=L["tr_eps"]), Number(200, precision=0, label=L["n_attack"]),
                            Number(3, precision=0, label=L["n_compare"]))
    tstatus = gr.Markdown()
    with gr.Row():
        tfigs = [gr.Plot(show_label=False), gr.Plot(show_label=False)]
    tins = [tmodel, arch, *tvals[:2], tvals[2], tvals[3], tattack, teps, tn, tk]
    on(tbtn.click, transfer, tins, [tstatus, *tfigs], api_name="attacks_transfer", **HEAVY)
    on(tstop.click, stop_transfer, tstatus, tstatus, api_name="attacks_transfer_stop", **LIGHT)
    on_first_open(quick(transfer, QUICK_TRANSFER, "A quick preview: 2 short rounds on 150 seed images, 100 attacked. "
                        "Press the button for Papernot's schedule (4 rounds, about 15–40 s here)."),
                  None, [tstatus, *tfigs], **HEAVY)
    return model, tmodel
