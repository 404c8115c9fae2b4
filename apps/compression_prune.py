"""Pruning panels of the compression tab (notes §9.2.1): prune once, its honest latency, the
prune → fine-tune loop, structured pruning with Torch-Pruning, the lottery ticket. Wiring only."""

from __future__ import annotations

from typing import Any, Iterator

import gradio as gr

from apps.common import (HEAVY, LIGHT, STOPS, STOP_EXAMPLES, Dropdown, Endpoint, Number, Radio, Slider, guard, on,
                        on_first_open)
from apps.compression_run import KIND_LABEL, KIND_VALUES, KINDS, bar, kib, pct, points, stopper, stream, table_md
from dlcore.textinput import parse_choice, parse_int, parse_number

CRITERIA = ("magnitude", "taylor")  # = dlcore.compression.CRITERIA (torch-free copy, checked in the tests)
SCOPES = ("global", "layer")
SCHEDULES = ("cubic", "geometric", "linear")
IMPORTANCES = ("l1", "l2", "taylor", "random")
PRUNE_DEFAULT = ["mlp", 0.5, "magnitude", "global"]
LOOP_DEFAULT = [0.92, 8, "cubic", 100, 600, 0.002, "magnitude", "global"]  # IterativeConfig() (Han et al. 2015)
LOOP_QUICK = [0.8, 2, "cubic", 20, 20, 0.002, "magnitude", "global"]
LOTTERY_DEFAULT = [0.9, 500, 0.0012]  # LotteryConfig() (Frankle & Carbin 2019)


def _prune_args(kind: Any, amount: Any, criterion: Any, scope: Any) -> tuple[str, Any]:
    import dlcore.compression as C

    k = parse_choice(kind, "model", KIND_VALUES)
    a = parse_number(amount, "fraction of weights pruned", lo=0.0, hi=0.99)
    cfg = C.PruneConfig(a, parse_choice(criterion, "importance", CRITERIA), parse_choice(scope, "scope", SCOPES))
    return k, cfg


@guard
def prune(kind: Any, amount: Any, criterion: Any, scope: Any) -> tuple[str, Any]:
    """Prune a copy of the base once (no fine-tuning): zeros per layer, accuracy and every size."""
    import dlcore.compression as C
    import dlcore.plotting.compression as P

    k, cfg = _prune_args(kind, amount, criterion, scope)
    o = C.prune_once(k, cfg, eval_examples=10_000 if k == "mlp" else 2000)
    zeros, total = sum(x.zeros for x in o.report.layers), sum(x.total for x in o.report.layers)
    d, p = o.dense, o.pruned
    rows = [["accuracy", pct(o.dense_accuracy),
             f"**{pct(o.pruned_accuracy)}** ({points(o.dense_accuracy - o.pruned_accuracy)})"],
            ["nonzero", f"{d.nonzero:,}", f"{p.nonzero:,} ({d.params / max(p.nonzero, 1):.1f}× fewer)"],
            ["file", kib(d.disk_bytes), f"{kib(p.disk_bytes)}: a zero costs 4 bytes too"],
            ["masked file", "—", f"{kib(o.masked_disk_bytes)} (`weight_orig` + `weight_mask`)"],
            ["CSR file", kib(d.sparse_bytes), kib(p.sparse_bytes)]]
    md = (f"### {KIND_LABEL[k]} (`{o.base}`): {zeros:,} of {total:,} weights zeroed ({o.report.sparsity:.1%}), "
          f"{cfg.scope} {cfg.criterion}\n\n" + table_md(["", "dense", "pruned, no fine-tuning"], rows) +
          f"\n\n*accuracy* on {o.eval_examples:,} test images; *nonzero* weights and biases (biases are not pruned); "
          "*file* = `torch.save` of the state dict with the zeros baked in; *masked file* = the same while "
          "`torch.nn.utils.prune`'s masks are attached; *CSR* = values + column indices + row pointers. Dense storage "
          "keeps every zero; CSR pays an index per nonzero, so it only wins at high sparsity. **Measure its latency** "
          "to see that zeros alone are not faster.")
    return md, P.sparsity_bars(o.report.layers, title=f"Zeros per layer, {cfg.scope} {cfg.criterion}")


@guard
def prune_latency(kind: Any, amount: Any, criterion: Any, scope: Any) -> tuple[str, Any]:
    """The pruned model run four ways (dense reference, masked, zeros baked in, CSR), timed interleaved."""
    import dlcore.compression as C
    import dlcore.plotting.compression as P

    k, cfg = _prune_args(kind, amount, criterion, scope)
    o = C.prune_once(k, cfg, eval_examples=100)
    batches = (1, 1024) if k == "mlp" else (1, 256)
    lat = C.unstructured_latency(o.dense_model, o.model, o.example_shape, batches, repeats=7 if k == "mlp" else 5)
    big = batches[-1]
    ref = lat["dense"]
    rows = [[run, f"{v[1].cpu_ms:.3g} ms ({v[1].cpu_ms / ref[1].cpu_ms:.2f}×)",
             f"{v[big].cpu_ms:.3g} ms ({v[big].cpu_ms / ref[big].cpu_ms:.2f}×)"] for run, v in lat.items()]
    md = (f"### {o.report.sparsity:.0%} zeros, four ways to run them ({KIND_LABEL[k]})\n\n" +
          table_md(["run", "batch 1", f"batch {big}"], rows) +
          f"\n\n*masked* = `torch.nn.utils.prune`'s hook recomputes `weight_orig ⊙ weight_mask` every call; *baked* "
          "= `prune.remove` (a dense tensor with zeros); *csr* = `torch.sparse.mm` on the nonzeros (Linear layers "
          "only). Without sparse kernels that pay off (≥ 95–99 % zeros or special hardware) unstructured zeros are "
          f"**not faster**: remove whole neurons instead (**Structured**). Median thread-CPU time of "
          f"{ref[1].repeats} repeats at 1 thread, interleaved; load average {ref[1].load_avg}.")
    return md, P.latency_bars(lat, title=f"{o.report.sparsity:.0%} zeros")


def _loop_cfg(args: tuple) -> Any:
    import dlcore.compression as C

    target, rounds, schedule, spr, final, lr, criterion, scope = args
    cfg = C.IterativeConfig(
        target=parse_number(target, "final sparsity", lo=0.0, hi=0.99),
        rounds=parse_int(rounds, "rounds", lo=1, hi=50), schedule=parse_choice(schedule, "schedule", SCHEDULES),
        steps_per_round=parse_int(spr, "fine-tuning steps per round", lo=0, hi=2000),
        final_steps=parse_int(final, "extra steps after the last round", lo=0, hi=5000),
        lr=parse_number(lr, "learning rate", lo=1e-6, hi=0.1), criterion=parse_choice(criterion, "importance", CRITERIA),
        scope=parse_choice(scope, "scope", SCOPES))
    cfg.validate()  # the step budget: rounds × steps per round + extra steps ≤ 10,000
    return cfg


def _loop_md(res: Any, cfg: Any) -> tuple[str, str]:
    drop, x = res.base_accuracy - res.final_accuracy, res.size.compression
    ok = res.status == "finished" and x >= 10 and drop <= 0.01
    head = (f"{'✅' if res.status == 'finished' else '⏹ **stopped**:'} {len(res.rounds)}/{cfg.rounds} rounds · "
            f"**{res.rounds[-1].sparsity:.1%}** of the weights pruned · **{x:.1f}× fewer weights** "
            f"({res.size.nonzero:,} of {res.size.params:,} left) · accuracy {pct(res.base_accuracy)} → "
            f"**{pct(res.final_accuracy)}** ({points(drop)}) · the run took {res.seconds:.0f} s\n\n"
            f"Han et al. 2015: 12× on MNIST at no loss. Here (Fashion-MNIST is harder): "
            f"{'**PASS**' if ok else '**FAIL**'} on the issue's bar, ≥ 10× at ≤ 1 point"
            f"{'' if cfg.target >= 0.9 else f' (this run stops at {cfg.target:.0%} pruned: 10× needs 90 %)'}.") \
        if res.rounds else \
        "⏹ **stopped** before the first round ended."
    rows = [[r.round, f"{r.sparsity:.1%}", pct(r.acc_pruned), pct(r.acc_finetuned), f"{r.seconds:.1f} s"]
            for r in res.rounds]
    return head, table_md(["round", "pruned", "accuracy right after pruning", "after fine-tuning", "time"], rows)


@guard
def iterative(target: Any, rounds: Any, schedule: Any, spr: Any, final: Any, lr: Any, criterion: Any, scope: Any,
              request: gr.Request = None) -> Iterator[tuple[str, Any, str]]:
    """The notes' loop: importance → prune → fine-tune, repeated; progress about twice a second."""
    import dlcore.compression as C
    import dlcore.plotting.compression as P

    cfg = _loop_cfg((target, rounds, schedule, spr, final, lr, criterion, scope))
    total = cfg.rounds * cfg.steps_per_round + cfg.final_steps
    with STOPS.running(request, "iterative") as stop:
        for run in stream(lambda cb, ev: C.run_iterative("mlp", cfg, cb, ev), stop):
            if run.done:
                break
            m = run.progress
            step = int(m.get("step", 0))
            yield (f"⏳ {bar(step / max(total, 1))} round {m.get('round', 1)}/{cfg.rounds} · "
                   f"{m.get('sparsity', 0):.1%} pruned · step {step}/{total} · loss {m.get('loss', float('nan')):.3f}"
                   f" · {run.seconds:.0f} s" if run.events else "⏳ loading LeNet-300-100 and its data…",
                   gr.skip(), gr.skip())
        res = run.result
    yield "⏳ drawing, with one-shot pruning (no fine-tuning) for comparison…", gr.skip(), gr.skip()
    one_shot = C.run_one_shot("mlp", criterion=cfg.criterion, scope=cfg.scope)
    head, rows = _loop_md(res, cfg)
    yield head, P.accuracy_vs_sparsity(res, one_shot) if res.rounds else None, rows


@guard
def iterative_default() -> tuple[str, Any, str]:
    """First open: the default loop if it ran before in this server, else the one-shot curve."""
    import dlcore.compression as C
    import dlcore.plotting.compression as P

    res = C.peek_result("iterative")
    if res is not None:
        head, rows = _loop_md(res, C.IterativeConfig())
        return head, P.accuracy_vs_sparsity(res, C.run_one_shot("mlp")), rows
    curve = C.run_one_shot("mlp")
    rows = [[f"{s:.0%}", pct(a)] for s, a in curve]
    return ("The loop has not run yet in this server. Below: pruning the dense LeNet-300-100 **once**, without "
            "fine-tuning: accuracy collapses past ~80 %. Press **Run the loop** (≈ 60 s here at the defaults, "
            "about 45 fine-tuning steps a second; kept afterwards) to see fine-tuning recover it.",
            P.accuracy_vs_sparsity(None, curve), table_md(["pruned at once", "accuracy"], rows))


@guard
def structured(kind: Any, ratio: Any, importance: Any) -> tuple[str, Any]:
    """Remove whole neurons/filters (Torch-Pruning): smaller tensors, fewer MACs, measured latency."""
    import dlcore.compression as C
    import dlcore.plotting.compression as P

    k = parse_choice(kind, "model", KIND_VALUES)
    cfg = C.StructuredConfig(parse_number(ratio, "fraction of neurons / filters removed", lo=0.0, hi=0.9),
                             parse_choice(importance, "importance", IMPORTANCES))
    big = 1024 if k == "mlp" else 256
    o = C.structured_outcome(k, cfg, (1, big), repeats=5, eval_examples=10_000 if k == "mlp" else 2000)
    r, lat = o.result, o.latency
    shapes = [[b.name, "×".join(map(str, b.shape)), "×".join(map(str, a.shape)), f"{b.params:,} → {a.params:,}"]
              for b, a in zip(r.before, r.after)]
    ratio_big = lat["structured"][big].cpu_ms / lat["dense"][big].cpu_ms
    md = (f"### {KIND_LABEL[k]}: {cfg.ratio:.0%} of every hidden layer's outputs removed ({cfg.importance})\n\n" +
          table_md(["layer", "weight before", "after", "parameters"], shapes, "llll") +
          f"\n\n**{r.params_before:,} → {r.params_after:,} parameters ({r.param_ratio:.2f}×), MACs "
          f"{r.macs_before:,} → {r.macs_after:,} ({r.mac_ratio:.2f}×)**. Latency at batch {big}: "
          f"**{ratio_big:.2f}× of dense** (Torch-Pruning measured 0.30× for 50 % of a small CNN's channels); the "
          f"same fraction as unstructured zeros: {lat['zeros'][big].cpu_ms / lat['dense'][big].cpu_ms:.2f}×.\n\n"
          f"Accuracy ({o.eval_examples:,} test images, no fine-tuning): dense {pct(o.dense_accuracy)}, structured "
          f"**{pct(o.pruned_accuracy)}**, zeros {pct(o.zeros_accuracy)}. Removing neurons costs more accuracy than "
          "zeroing weights; the one table's structured rows are fine-tuned (300 / 200 steps).")
    return md, P.latency_bars(lat, title=f"Structured {cfg.ratio:.0%} vs zeros")


def _lottery_cfg(sparsity: Any, steps: Any, lr: Any) -> Any:
    import dlcore.compression as C

    n = parse_int(steps, "training steps per run", lo=10, hi=3000)
    cfg = C.LotteryConfig(sparsity=parse_number(sparsity, "fraction pruned", lo=0.0, hi=0.99), steps=n,
                          eval_every=max(1, n // 10), lr=parse_number(lr, "learning rate", lo=1e-6, hi=0.1))
    cfg.validate()
    return cfg


def _lottery_md(res: Any) -> str:
    f = res.final
    head = "✅" if res.status == "finished" else "⏹ **stopped** (the runs done so far):"
    rows = [[k, pct(v)] for k, v in f.items()]
    return (f"{head} the mask of the trained net ({res.sparsity:.0%} pruned, magnitude) retrained from … · the run "
            f"took {res.seconds:.0f} s\n\n" + table_md(["start", "final test accuracy"], rows) +
            "\n\n*original* = θ₀, the init the zoo net was trained from (the winning ticket); *random* = a fresh "
            "init; *signs* = fresh magnitudes with θ₀'s signs (Zhou et al. 2019: the signs matter); *dense* = no "
            "mask. Same steps and batches for all.")


@guard
def lottery(sparsity: Any, steps: Any, lr: Any, request: gr.Request = None) -> Iterator[tuple[str, Any]]:
    """Frankle & Carbin 2019: retrain the found mask from θ₀ vs a random init vs signs kept (vs dense)."""
    import dlcore.compression as C
    import dlcore.plotting.compression as P

    cfg = _lottery_cfg(sparsity, steps, lr)
    runs = len(cfg.inits) + int(cfg.dense_reference)
    with STOPS.running(request, "lottery") as stop:
        for run in stream(lambda cb, ev: C.run_lottery(cfg, cb, ev), stop):
            if run.done:
                break
            step = int(run.progress.get("step", 0))
            yield (f"⏳ {bar(step / (runs * cfg.steps))} retraining from **{run.progress.get('run', '…')}** · step "
                   f"{step}/{runs * cfg.steps} (all {runs} runs) · {run.seconds:.0f} s", gr.skip())
    res = run.result
    yield _lottery_md(res), P.lottery_curves(res) if res.curves else None


@guard
def lottery_default() -> tuple[str, Any]:
    """First open: the default experiment if it ran before in this server, else what it will do."""
    import dlcore.compression as C
    import dlcore.plotting.compression as P

    res = C.peek_result("lottery")
    if res is not None:
        return _lottery_md(res), P.lottery_curves(res)
    return ("Not run yet in this server. **Retrain the ticket** prunes 90 % of the trained LeNet-300-100, then "
            "trains that sparse net four times for 500 steps (≈ 90 s here, kept afterwards): from θ₀, from a random "
            "init, from random magnitudes with θ₀'s signs, and the dense net from θ₀.", None)


def build_prune() -> None:
    with gr.Row():
        kind = Radio(KINDS, value="mlp", label="model")
        amount = Slider(0.0, 0.99, 0.5, step=0.01, label="fraction of weights pruned")
    with gr.Row():
        crit = Radio(list(CRITERIA), value="magnitude", label="importance (|w|, or |w · ∂L/∂w| Taylor)")
        scope = Radio(list(SCOPES), value="global", label="scope (rank all layers together, or each layer)")
    with gr.Row():
        btn = gr.Button("Prune", variant="primary", elem_id="compression-prune")
        lat_btn = gr.Button("Measure its latency (≈ 5 s MLP, 20 s CNN here)", elem_id="compression-prune-latency")
    md = gr.Markdown("Opening the tab prunes half of LeNet-300-100 once…")
    fig = gr.Plot(show_label=False, format="png")
    ins = [kind, amount, crit, scope]
    on_first_open(prune, ins, [md, fig], **HEAVY)
    on(btn.click, prune, ins, [md, fig], api_name="compression_prune", **HEAVY)
    on(lat_btn.click, prune_latency, ins, [md, fig], api_name="compression_prune_latency", **HEAVY)
    gr.Examples([PRUNE_DEFAULT, ["mlp", 0.92, "magnitude", "global"], ["mlp", 0.9, "magnitude", "layer"],
                 ["cnn", 0.7, "taylor", "global"]], ins, [md, fig], fn=prune, run_on_click=True, cache_examples=False,
                example_labels=["LeNet-300-100, half of the weights", "92 % at once (Han et al.'s sparsity, no "
                                "fine-tuning)", "90 % per layer instead of global", "CNN, Taylor importance, 70 %"])


def build_loop() -> None:
    with gr.Row():
        target = Slider(0.5, 0.99, LOOP_DEFAULT[0], step=0.01, label="final sparsity")
        rounds = Number(LOOP_DEFAULT[1], label="rounds", precision=0)
        schedule = Radio(list(SCHEDULES), value="cubic", label="schedule (cubic: Zhu & Gupta; linear: the notes)")
    with gr.Row():
        run_btn = gr.Button("Run the loop (≈ 60 s here at the defaults)", variant="primary",
                            elem_id="compression-loop-run")
        stop_btn = gr.Button("Stop", variant="stop", elem_id="compression-loop-stop")
    with gr.Accordion("Fine-tuning settings", open=False):
        with gr.Row():
            spr = Number(LOOP_DEFAULT[3], label="fine-tuning steps per round", precision=0)
            final = Number(LOOP_DEFAULT[4], label="extra steps after the last round", precision=0)
            lr = Number(LOOP_DEFAULT[5], label="learning rate (Adam, cosine within each round)")
        with gr.Row():
            crit = Radio(list(CRITERIA), value="magnitude", label="importance")
            scope = Radio(list(SCOPES), value="global", label="scope")
    md = gr.Markdown("Opening this panel shows pruning without fine-tuning…")
    fig = gr.Plot(show_label=False, format="png")
    rows = gr.Markdown()
    ins = [target, rounds, schedule, spr, final, lr, crit, scope]
    on_first_open(iterative_default, None, [md, fig, rows], **HEAVY)
    on(run_btn.click, iterative, ins, [md, fig, rows], api_name="compression_iterative", **HEAVY)
    on(stop_btn.click, stopper("iterative", "the loop"), md, md, api_name="compression_iterative_stop", **LIGHT)
    gr.Examples([LOOP_DEFAULT, [0.9, 9, "linear", 100, 600, 0.002, "magnitude", "global"], LOOP_QUICK], ins,
                [md, fig, rows], fn=iterative, run_on_click=True, cache_examples=False,
                example_labels=["Han et al. 2015: 92 % in 8 rounds (≈ 60 s; kept after)",
                                "the notes (§9.2.1): prune 10 % → fine-tune, ×9 (≈ 70 s)", "quick look: 80 % in 2 rounds (≈ 5 s)"])


def build_structured() -> None:
    with gr.Row():
        kind = Radio(KINDS, value="mlp", label="model")
        ratio = Slider(0.0, 0.9, 0.5, step=0.05, label="fraction of neurons / filters removed")
        imp = Dropdown(list(IMPORTANCES), value="l1", label="importance (L1 norm: Li et al. 2017)")
    btn = gr.Button("Remove them (≈ 2 s MLP, 10 s CNN here)", variant="primary", elem_id="compression-structured")
    md = gr.Markdown("Opening this panel removes half of LeNet-300-100's hidden neurons…")
    fig = gr.Plot(show_label=False, format="png")
    ins = [kind, ratio, imp]
    on_first_open(structured, ins, [md, fig], **HEAVY)
    on(btn.click, structured, ins, [md, fig], api_name="compression_structured", **HEAVY)
    gr.Examples([["mlp", 0.5, "l1"], ["cnn", 0.5, "l1"], ["cnn", 0.5, "random"]], ins, [md, fig], fn=structured,
                run_on_click=True, cache_examples=False,
                example_labels=["LeNet-300-100, half the neurons", "CNN, half the filters (Torch-Pruning's 0.30×)",
                                "CNN, random filters: importance matters"])


def build_lottery() -> None:
    with gr.Row():
        sparsity = Slider(0.5, 0.99, LOTTERY_DEFAULT[0], step=0.01, label="fraction pruned")
        steps = Number(LOTTERY_DEFAULT[1], label="training steps per run", precision=0)
        lr = Number(LOTTERY_DEFAULT[2], label="learning rate (Adam; Frankle & Carbin's 1.2e-3)")
    with gr.Row():
        btn = gr.Button("Retrain the ticket (≈ 90 s here)", variant="primary", elem_id="compression-lottery-run")
        stop_btn = gr.Button("Stop", variant="stop", elem_id="compression-lottery-stop")
    md = gr.Markdown()
    fig = gr.Plot(show_label=False, format="png")
    ins = [sparsity, steps, lr]
    on_first_open(lottery_default, None, [md, fig], **HEAVY)
    on(btn.click, lottery, ins, [md, fig], api_name="compression_lottery", **HEAVY)
    on(stop_btn.click, stopper("lottery", "the lottery runs"), md, md, api_name="compression_lottery_stop", **LIGHT)
    gr.Examples([LOTTERY_DEFAULT, [0.98, 500, 0.0012], [0.9, 500, 0.01], [0.9, 60, 0.0012]], ins, [md, fig], fn=lottery,
                run_on_click=True, cache_examples=False,
                example_labels=["Frankle & Carbin: 90 %, 500 steps (≈ 90 s)", "98 % pruned (≈ 90 s)",
                                "§9.2.1: lr = 0.01 — does θ₀ still win? (Liu et al. 2019: only at a small lr)",
                                "quick look: 60 steps (≈ 12 s)"])


ENDPOINTS = [
    Endpoint("compression_prune", heavy=True, examples=[PRUNE_DEFAULT, ["cnn", 0.5, "taylor", "global"]],
             facts=["133,100 of 266,200", "210,704 of 421,408"],
             bad=[(["mlp", 1.5, "magnitude", "global"], "fraction of weights pruned = 1.5 is above the maximum 0.99"),
                  (["vgg", 0.5, "magnitude", "global"], "model 'vgg' is not one of"),
                  (["mlp", 0.5, "hessian", "global"], "importance 'hessian' is not one of")]),
    Endpoint("compression_prune_latency", heavy=True, examples=[["mlp", 0.9, "magnitude", "global"]], facts=["csr"],
             bad=[(["mlp", "lots", "magnitude", "global"], "fraction of weights pruned")]),
    Endpoint("compression_iterative", heavy=True, stateful=True, examples=[LOOP_QUICK], facts=["80.0%"],
             bad=[([0.92, 8, "cubic", 2000, 5000, 0.002, "magnitude", "global"], "exceeds 10000"),
                  ([0.92, 0, "cubic", 100, 600, 0.002, "magnitude", "global"], "rounds = 0 is below the minimum 1"),
                  ([0.92, 8, "exponential", 100, 600, 0.002, "magnitude", "global"], "schedule 'exponential'")]),
    Endpoint("compression_iterative_stop", examples=STOP_EXAMPLES, facts=["Nothing is running", "The last run's summary."]),
    Endpoint("compression_structured", heavy=True, examples=[["mlp", 0.5, "l1"]], facts=["266,610 → 125,810"],
             bad=[(["mlp", 0.95, "l1"], "above the maximum 0.9"), (["mlp", 0.5, "l3"], "importance 'l3'")]),
    Endpoint("compression_lottery", heavy=True, stateful=True, examples=[[0.8, 30, 0.0012]], facts=["80% pruned"],
             bad=[([0.9, 5, 0.0012], "training steps per run = 5 is below the minimum 10"),
                  ([0.9, 500, 1.0], "learning rate = 1 is above the maximum 0.1")]),
    Endpoint("compression_lottery_stop", examples=STOP_EXAMPLES, facts=["Nothing is running", "The last run's summary."]),
]
