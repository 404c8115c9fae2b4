"""Distillation (§9.2.2), low rank (§9.2.4) and early-exit (§9.2.5) panels of the compression tab.
Wiring only: every number comes from :mod:`dlcore.compression`."""

from __future__ import annotations

from typing import Any, Iterator

import gradio as gr

from apps.common import (HEAVY, LATEX, LIGHT, STOPS, STOP_EXAMPLES, Dropdown, Endpoint, Number, Radio, Slider, guard,
                        on, on_first_open)
from apps.compression_run import bar, pct, stopper, stream, table_md
from apps.imaging import image_picker, picked_image
from dlcore.textinput import parse_choice, parse_int, parse_number

STUDENTS = ("mlp_128", "mlp_32", "cnn_tiny")  # = dlcore.compression.STUDENTS (torch-free copy, tested)
LAYERS = {"fc1": 300, "fc2": 100, "fc3": 10}  # LeNet-300-100's Linear layers -> largest rank min(N, M)
EXIT_CRITERIA = ("max_prob", "entropy")
DISTILL_DEFAULT = [4.0, 0.9, "mlp_128", 1000, 2000]  # DistillConfig() (Hinton et al. 2015)
DISTILL_QUICK = [4.0, 0.9, "mlp_32", 40, 500]
LOSS = (r"$$L = \alpha\,T^2\,\mathrm{KL}\big(p^T_t\,\|\,p^T_s\big) + (1-\alpha)\,\mathrm{CE}(z_s, y)$$" "\n\n"
        r"$$p^T = \mathrm{softmax}(z / T)$$" "\n\n(t = teacher, s = student; the T² keeps the soft term's gradients the "
        "size of the hard term's as T grows, Hinton et al. 2015 §2)")


def _distill_cfg(t: Any, alpha: Any, student: Any, steps: Any, examples: Any) -> Any:
    import dlcore.compression as C

    n = parse_int(steps, "training steps per student", lo=20, hi=5000)
    cfg = C.DistillConfig(temperature=parse_number(t, "temperature T", lo=0.5, hi=20.0),
                          alpha=parse_number(alpha, "α (weight of the soft term)", lo=0.0, hi=1.0),
                          student=parse_choice(student, "student", STUDENTS), steps=n, eval_every=max(1, n // 20),
                          train_examples=parse_int(examples, "training images", lo=256, hi=60000))
    cfg.validate()
    return cfg


def _distill_md(res: Any) -> str:
    cfg, f = res.config, res.final
    head = "✅" if res.status == "finished" else "⏹ **stopped** (the runs done so far):"
    a, d = f.get("alone"), f.get("distilled")
    verdict = "" if a is None or d is None else (
        f"\n\nHinton et al. 2015: the distilled student beats the one trained alone — here "
        f"{'**PASS**' if d > a else '**FAIL**'}: {pct(d)} vs {pct(a)} ({100 * (d - a):+.2f} points).")
    return (f"{head} student `{cfg.student}` ({res.student_params:,} parameters) vs teacher CNN "
            f"({res.teacher_params:,}, {pct(res.teacher_accuracy)}) · T = {cfg.temperature:g} (soft term × T² = "
            f"{cfg.temperature ** 2:g}), α = {cfg.alpha:g} · {cfg.steps} steps on {cfg.train_examples:,} training "
            f"images each, same init and batches · test accuracy on {cfg.eval_examples:,} images · the run took "
            f"{res.seconds:.0f} s{verdict}")


@guard
def distill(t: Any, alpha: Any, student: Any, steps: Any, examples: Any,
            request: gr.Request = None) -> Iterator[tuple[str, Any]]:
    """Train the student alone, then distilled from the teacher CNN (same budget); progress streamed."""
    import dlcore.compression as C
    import dlcore.plotting.compression as P

    cfg = _distill_cfg(t, alpha, student, steps, examples)
    with STOPS.running(request, "distill") as stop:
        for run in stream(lambda cb, ev: C.run_distillation(cfg, cb, ev), stop):
            if run.done:
                break
            step = int(run.progress.get("step", 0))
            yield (f"⏳ {bar(step / (2 * cfg.steps))} training the student **{run.progress.get('run', '…')}** · step "
                   f"{step}/{2 * cfg.steps} (both runs) · loss {run.progress.get('loss', float('nan')):.3f} · "
                   f"{run.seconds:.0f} s" if run.events else "⏳ the teacher labels the training images…"), gr.skip()
    res = run.result
    yield _distill_md(res), P.distillation_curves(res) if res.curves else None


@guard
def distill_default() -> tuple[str, Any]:
    """First open: the default run if it finished before in this server, else what it will do."""
    import dlcore.compression as C
    import dlcore.plotting.compression as P

    res = C.peek_result("distill")
    if res is not None:
        return _distill_md(res), P.distillation_curves(res)
    return ("Not run yet in this server. **Train both students** trains MLP-128 twice for 1000 steps on 2,000 "
            "images, alone and distilled (≈ 60 s here; kept afterwards). Soft labels help most when labelled data "
            "are scarce (Hinton et al. §3).", None)


@guard
def soft(source: Any, index: Any, upload: Any, invert: Any, t: Any) -> tuple[str, Any]:
    """The teacher's soft labels for one picture at T = 1 and at T."""
    import dlcore.compression as C
    import dlcore.plotting.compression as P
    from dlcore import zoo

    temp = parse_number(t, "temperature T", lo=0.5, hi=20.0)
    name = C.load_base_name("cnn")
    pick = picked_image(name, source, index, upload, invert)
    s = C.soft_labels(zoo.get(name), pick.x, (1.0, temp))
    classes = zoo.load_data(name).classes
    order = s.probs[-1].argsort(descending=True)[:4].tolist()
    rows = [[classes[i], pct(float(s.probs[0][i])), pct(float(s.probs[-1][i]))] for i in order]
    md = (f"**{pick.caption}**" + (f" · true class: {classes[pick.label]}" if pick.label is not None else "") +
          f"\n\n{table_md(['class', 'T = 1', f'T = {temp:g}'], rows)}\n\nAt T = 1 the teacher is nearly one-hot; "
          f"softening (entropy {s.entropy[0]:.2f} → {s.entropy[-1]:.2f} nats, at most ln 10 = 2.30) shows which "
          f"wrong classes it finds plausible: the knowledge a student learns from (notes §9.2.2).\n\n{LOSS}")
    return md, P.soft_labels_figure(s, classes, pick.x[0], pick.caption)


@guard
def low_rank(layer: Any, k: Any) -> tuple[str, Any]:
    """SVD of one LeNet layer: W ≈ U_K V_K with N·K + K·M weights; accuracy vs K, the spectrum."""
    import dlcore.compression as C
    import dlcore.plotting.compression as P

    name = parse_choice(layer, "layer", list(LAYERS))
    r = LAYERS[name]
    kk = parse_int(k, "rank K", lo=1, hi=r)
    ranks = tuple(sorted({x for x in (1, 2, 5, 10, 20, 50, 100, 200, r) if x <= r} | {kk}))
    res = C.run_low_rank("mlp", name, ranks)
    p = next(x for x in res.points if x.rank == kk)
    m_out, n_in = res.shape
    cnn = C.load_base("cnn")
    sep = [[f"`{s.name}`", f"{s.c_in}→{s.c_out}, {s.kernel[0]}×{s.kernel[1]}", f"{s.standard_params:,} → "
            f"{s.separable_params:,}", f"{s.standard_macs:,} → {s.separable_macs:,}"]
           for s in C.separable_savings(cnn.model, cnn.example_shape)]
    md = (f"### `{name}` ({n_in} → {m_out}) at K = {kk}: N·K + K·M = {n_in}·{kk} + {kk}·{m_out} = **{p.params:,}** "
          f"vs N·M = {p.dense_params:,} ({p.ratio:.2f}×)\n\nFewer weights whenever K < N·M/(N + M) = "
          f"{n_in * m_out / (n_in + m_out):.0f}. Kept energy (σ₁² + … + σ_K²) / Σ σᵢ² = {p.energy:.4f}, relative error "
          f"‖W − W_K‖/‖W‖ = {p.rel_error:.3f} · accuracy **{pct(p.accuracy)}** vs dense {pct(res.dense_accuracy)} "
          "(no retraining; the truncated SVD is the best rank-K approximation, Eckart & Young 1936).\n\n"
          "**Depthwise-separable convolution** (§9.2.4, the other design trick) on the CNN's convolutions:\n\n" +
          table_md(["conv", "channels, kernel", "weights", "MACs (28×28 input)"], sep))
    return md, P.low_rank_figure(res)


@guard
def early_exit(criterion: Any, tau: Any, n: Any) -> tuple[str, Any]:
    """Accuracy vs average compute of the multi-exit CNN as the exit threshold moves."""
    import dlcore.compression as C
    import dlcore.plotting.compression as P

    crit = parse_choice(criterion, "exit rule", EXIT_CRITERIA)
    t = parse_number(tau, "threshold τ", lo=0.0, hi=1.0)
    count = parse_int(n, "test images", lo=100, hi=10000)
    res = C.run_early_exit(None, crit, count)
    p = C.run_early_exit((t,), crit, count).points[0]
    full = res.exit_macs[-1]
    rule = "max softmax ≥ τ" if crit == "max_prob" else "entropy ≤ τ · ln 10"
    rows = [[i + 1, f"{m:,}", pct(a), pct(f)] for i, (m, a, f) in
            enumerate(zip(res.exit_macs, res.exit_accuracy, p.exit_fractions))]
    md = (f"### τ = {t:g} ({rule}): accuracy **{pct(p.accuracy)}** at **{p.mean_macs:,.0f} MACs** per image on "
          f"average, {p.mean_macs / full:.2f}× of always running all three blocks ({full:,})\n\n" +
          table_md(["exit #", "MACs to leave here", "its accuracy alone", f"images leaving at τ = {t:g}"], rows) +
          f"\n\n`{res.name}`, {count:,} test images. Each image stops at the first head that is confident enough; "
          "every head on the way is paid for. Training summed the three heads' losses, L = Σ αᵢ Lᵢ (notes §9.2.5; "
          "BranchyNet, MSDNet).")
    return md, P.early_exit_curve(res)


def build_distill() -> None:
    gr.Markdown("**1. Soft labels** — what the teacher knows beyond the right answer.")
    picker = image_picker(default_index=0)
    with gr.Row():
        t_soft = Slider(0.5, 20, 4, step=0.5, label="temperature T")
        soft_btn = gr.Button("Show the soft labels", elem_id="compression-soft")
    soft_md = gr.Markdown(latex_delimiters=LATEX)
    soft_fig = gr.Plot(show_label=False, format="png")
    ins = [*picker.inputs, t_soft]
    on_first_open(soft, ins, [soft_md, soft_fig], **HEAVY)
    on(soft_btn.click, soft, ins, [soft_md, soft_fig], api_name="compression_soft_labels", **HEAVY)
    gr.Examples([["test image", 0, None, "auto", 4.0], ["test image", 4, None, "auto", 4.0],
                 ["test image", 40, None, "auto", 4.0], ["test image", 0, None, "auto", 1.0]], ins,
                [soft_md, soft_fig], fn=soft, run_on_click=True, cache_examples=False,
                example_labels=["§9.2.2: a boot's soft labels (sneaker, sandal)",
                                "#4, a shirt: T-shirt and coat come next", "#40, a shirt the teacher calls a T-shirt",
                                "T = 1: nearly one-hot, little to learn"])
    gr.Markdown("**2. Train a student** — alone vs distilled from the CNN, the same steps, batches and start.")
    with gr.Row():
        t = Slider(0.5, 20, DISTILL_DEFAULT[0], step=0.5, label="temperature T")
        alpha = Slider(0.0, 1.0, DISTILL_DEFAULT[1], step=0.05, label="α (weight of the soft term)")
        student = Dropdown(list(STUDENTS), value="mlp_128", label="student")
    with gr.Row():
        steps = Number(DISTILL_DEFAULT[3], label="training steps per student", precision=0)
        examples = Number(DISTILL_DEFAULT[4], label="training images", precision=0)
    with gr.Row():
        btn = gr.Button("Train both students (≈ 60 s here)", variant="primary", elem_id="compression-distill")
        stop_btn = gr.Button("Stop", variant="stop", elem_id="compression-distill-stop")
    md = gr.Markdown()
    fig = gr.Plot(show_label=False, format="png")
    dins = [t, alpha, student, steps, examples]
    on_first_open(distill_default, None, [md, fig], **HEAVY)
    on(btn.click, distill, dins, [md, fig], api_name="compression_distill", **HEAVY)
    on(stop_btn.click, stopper("distill", "the students' training"), md, md, api_name="compression_distill_stop",
       **LIGHT)
    gr.Examples([DISTILL_DEFAULT, [1.0, 0.9, "mlp_128", 1000, 2000], [4.0, 0.0, "mlp_128", 1000, 2000],
                 [4.0, 0.9, "mlp_128", 600, 10000]], dins, [md, fig], fn=distill, run_on_click=True,
                cache_examples=False, example_labels=["Hinton et al.: T = 4, α = 0.9 (≈ 60 s)", "T = 1: no softening",
                                                      "α = 0: hard labels only (= alone)",
                                                      "10,000 images: does the gap shrink when data are not scarce?"])


def build_low_rank() -> None:
    with gr.Row():
        layer = Radio(list(LAYERS), value="fc1", label="LeNet-300-100 layer (fc1: 784 → 300)")
        k = Slider(1, 300, 50, step=1, label="rank K (neurons of the bottleneck)")
        btn = gr.Button("Factorize (≈ 3 s here)", variant="primary", elem_id="compression-lowrank")
    md = gr.Markdown("Opening this panel factorizes fc1 by SVD…")
    fig = gr.Plot(show_label=False, format="png")
    on_first_open(low_rank, [layer, k], [md, fig], **HEAVY)
    on(btn.click, low_rank, [layer, k], [md, fig], api_name="compression_low_rank", **HEAVY)
    gr.Examples([["fc1", 50], ["fc1", 10], ["fc2", 20], ["fc1", 300]], [layer, k], [md, fig], fn=low_rank,
                run_on_click=True, cache_examples=False,
                example_labels=["§9.2.4: fc1, K = 50 (N·K + K·M ≪ N·M)", "fc1, K = 10", "fc2, K = 20", "full rank: the layer exactly"])


def build_early_exit() -> None:
    with gr.Row():
        crit = Radio(list(EXIT_CRITERIA), value="max_prob", label="exit rule (max softmax, or entropy)")
        tau = Slider(0.0, 1.0, 0.9, step=0.01, label="threshold τ")
        n = Number(2000, label="test images (the first n of the test set)", precision=0)
    btn = gr.Button("Sweep τ (≈ 4 s at 2,000 images, 18 s at 10,000 here)", variant="primary",
                    elem_id="compression-exit")
    md = gr.Markdown("Opening this panel sweeps the exit threshold of the multi-exit CNN…")
    fig = gr.Plot(show_label=False, format="png")
    ins = [crit, tau, n]
    on_first_open(early_exit, ins, [md, fig], **HEAVY)
    on(btn.click, early_exit, ins, [md, fig], api_name="compression_early_exit", **HEAVY)
    gr.Examples([["max_prob", 0.9, 2000], ["max_prob", 0.99, 2000], ["entropy", 0.1, 2000], ["max_prob", 0.9, 10000]],
                ins, [md, fig], fn=early_exit, run_on_click=True, cache_examples=False,
                example_labels=["§9.2.5: exit at max softmax ≥ 0.9", "≥ 0.99: almost everyone goes deep", "entropy ≤ 0.1 · ln 10",
                                "the whole test set"])


ENDPOINTS = [
    Endpoint("compression_soft_labels", heavy=True, examples=[["test image", 0, None, "auto", 4.0]], facts=["T = 4"],
             bad=[(["test image", 0, None, "auto", 0.0], "temperature T = 0 is below the minimum 0.5"),
                  (["test image", 10000, None, "auto", 4.0], "test image #")]),
    Endpoint("compression_distill", heavy=True, stateful=True, examples=[DISTILL_QUICK], facts=["× T² = 16"],
             bad=[([4.0, 1.5, "mlp_128", 1000, 2000], "α (weight of the soft term) = 1.5 is above the maximum 1"),
                  ([4.0, 0.9, "resnet", 1000, 2000], "student 'resnet' is not one of"),
                  ([4.0, 0.9, "mlp_128", 10, 2000], "training steps per student = 10 is below the minimum 20")]),
    Endpoint("compression_distill_stop", examples=STOP_EXAMPLES, facts=["Nothing is running", "The last run's summary."]),
    Endpoint("compression_low_rank", heavy=True, examples=[["fc1", 50], ["fc3", 10]], facts=["54,200", "1,100"],
             bad=[(["fc2", 200], "rank K = 200 is above the maximum 100"), (["conv1", 5], "layer 'conv1'")]),
    Endpoint("compression_early_exit", heavy=True, examples=[["max_prob", 0.9, 2000]], facts=["1,932,672"],
             bad=[(["max_prob", 1.5, 2000], "threshold τ = 1.5 is above the maximum 1"),
                  (["confidence", 0.9, 2000], "exit rule 'confidence'")]),
]
