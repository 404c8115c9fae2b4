"""The one table (every compressed variant: size, latency, accuracy, robustness; CSV) and the paper
checks of the compression tab. Wiring only."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Iterator

import gradio as gr

from apps.common import (HEAVY, LIGHT, STOPS, STOP_EXAMPLES, Checkbox, Dropdown, Endpoint, Number, guard, on,
                        on_first_open)
from apps.compression_run import bar, kib, pct, stopper, stream
from dlcore.textinput import parse_bool, parse_choice, parse_int

#: = dlcore.compression.VARIANTS keys, in table order (torch-free copy for the dropdown; tested)
VARIANTS = ("fp32", "pruned_92", "structured_50", "ao_dynamic_int8", "ao_static_int8", "torchao_int8_weight_only",
            "torchao_int8_dynamic", "torchao_int4_weight_only", "torchao_intx_int4", "fake_int4", "kmeans_16", "binary",
            "lowrank_50", "cnn_fp32", "cnn_structured_50", "cnn_ao_static_int8", "cnn_ao_dynamic_int8", "student_alone",
            "student_distilled", "multiexit_full", "early_exit_90")
#: the table's cheap default: no training, ≈ 10 s cold here
QUICK = ["fp32", "ao_dynamic_int8", "fake_int4", "kmeans_16", "lowrank_50"]
#: ε = 0.03 on [0, 1] pixels: the fp32 LeNet keeps ≈ 58 % of 500 test images (at ε = 0.1 every variant fell to
#: 2–3 %, which hides any difference); α = 0.004 ≈ 2.5 ε / steps (Madry et al. 2018)
ATTACK_NAME = "PGD-20 L∞ ε=0.03 α=0.004 (random start, seed 0)"
CHECKS = ("all", "pruning", "int8", "distillation")
COLUMNS = ["#", "variant", "file", "× smaller", "nonzero", "batch 1", "speed-up", "batch 1024", "speed-up ",
           "clean acc.", "PGD acc.", "note"]


def _pgd(model: Any, x: Any, y: Any) -> Any:
    from dlcore.attacks import PGD

    return PGD(model, eps=0.03, alpha=0.004, steps=20, random_start=True, seed=0, batch_size=500)(x, y).x_adv


def _fmt(v: Any, spec: str, unit: str = "") -> str:
    return "—" if v is None else f"{v:{spec}}{unit}"


def _records(table: Any) -> list[list[Any]]:
    out = []
    for i, r in enumerate((r for r in table.rows if r.status == "ok"), 1):  # numbered as in the figure
        out.append([i, r.variant + (" ⚠ deprecated" if r.deprecated else ""), kib(r.disk_bytes),
                    _fmt(r.size_ratio, ".2f", "×"), _fmt(r.nonzero, ","), _fmt(r.latency_b1_ms, ".3g", " ms"),
                    _fmt(r.speedup_b1, ".2f", "×"), _fmt(r.latency_b1024_ms, ".3g", " ms"),
                    _fmt(r.speedup_b1024, ".2f", "×"), pct(r.accuracy), pct(r.robust_accuracy), r.note])
    for r in table.rows:
        if r.status != "ok":
            out.append(["", r.variant, *["—"] * 9, f"{r.status}; {r.note}"])
    return out


def _table_md(t: Any) -> str:
    head = "✅" if t.status == "finished" else "⏹ **stopped**: the rows built so far"
    robust = [r.robust_accuracy for r in t.rows if r.robust_accuracy is not None]
    span = f" · under the attack {min(robust):.1%}–{max(robust):.1%} stay correct" if robust else ""
    return (f"{head} · {len(t.rows)} variants{span} · clean accuracy on {t.eval_examples:,} test images, robust accuracy "
            f"under {t.attack} on the first {t.attack_examples:,} (white-box; through the fp32 parent where the "
            f"variant has integer kernels without gradients) · latency: median thread-CPU time of {t.repeats} repeats at "
            f"{t.threads} thread, each variant interleaved with its fp32 parent, load average {t.load_avg} · "
            f"ratios against the parent · the build took {t.seconds:.0f} s. The figure numbers the measured rows as "
            "the table does.")


def _csv(table: Any) -> str:
    import dlcore.compression as C

    return str(C.write_csv(table, Path(tempfile.mkdtemp(prefix="compression-table-")) / "compression_table.csv"))


def _variants(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not value:
        raise ValueError("variants: choose at least one variant from the list")
    if len(value) > len(VARIANTS):
        raise ValueError(f"variants: {len(value)} given; there are {len(VARIANTS)}")
    return list(dict.fromkeys(parse_choice(v, "variant", VARIANTS) for v in value))


@guard
def build_table(variants: Any, attack: Any, attack_examples: Any, repeats: Any,
                request: gr.Request = None) -> Iterator[tuple[str, Any, Any, Any]]:
    """Build every chosen variant, then measure size, latency, accuracy and accuracy under PGD."""
    import dlcore.compression as C
    import dlcore.plotting.compression as P

    names = _variants(variants)
    use = parse_bool(attack, "attack with PGD")
    cfg = C.TableConfig(repeats=parse_int(repeats, "latency repeats", lo=1, hi=25), threads=1,
                        attack_examples=parse_int(attack_examples, "attacked test images", lo=10, hi=2000))
    where = {"i": 0, "variant": "…", "stage": "build"}

    def work(cb: Any, ev: Any) -> Any:
        def relay(i: int, m: dict) -> None:
            if "variant" in m:  # a table stage; other events are a builder's training steps
                where.update(i=i, variant=m["variant"], stage=m["stage"])
            cb(i, m)
        return C.cached_table(names, _pgd if use else None, cfg, ATTACK_NAME if use else "", relay, ev)

    with STOPS.running(request, "table") as stop:
        for run in stream(work, stop):
            if run.done:
                break
            m = run.last
            what = (f"training: loss {m['loss']:.3f} (step {m.get('step', 0)})" if "loss" in m else
                    "measuring latency and accuracy" if where["stage"] == "measure" else "building")
            yield (f"⏳ {bar(where['i'] / max(len(names), where['i'] + 1))} {where['stage']} "
                   f"**{where['variant']}** ({where['i'] + 1}) · {what} · {run.seconds:.0f} s (the training "
                   "variants and the CNN's batch-1024 latency are the slow parts)", gr.skip(), gr.skip(), gr.skip())
    t = run.result
    ok = any(r.status == "ok" and r.disk_bytes for r in t.rows)
    yield (_table_md(t), gr.update(value=_records(t), headers=COLUMNS), P.size_accuracy_scatter(t) if ok else None,
           _csv(t))


@guard
def table_default() -> tuple[str, Any, Any, Any]:
    """First open: the quick subset (no training) with the PGD attack (≈ 10 s cold here, then kept)."""
    import dlcore.compression as C
    import dlcore.plotting.compression as P

    t = C.cached_table(QUICK, _pgd, C.TableConfig(), ATTACK_NAME)
    return (_table_md(t) + "\n\nThis is the quick subset (no training). Choose more variants (or **Select all**) and "
            "press **Build the table**.", gr.update(value=_records(t), headers=COLUMNS), P.size_accuracy_scatter(t),
            _csv(t))


@guard
def select_all() -> tuple[list[str], str]:
    return list(VARIANTS), ("All 21 variants selected: the whole table takes ≈ 500 s here when nothing is cached "
                            "(less after the loop, distillation or paper checks ran). Press **Build the table**.")


def _checks_md(checks: list[Any]) -> str:
    """One bullet per check (a four-column table is unreadable on a phone)."""
    return "\n".join(f"- {'✅ **PASS**' if c.passed else '❌ **FAIL**'} · {c.claim} ([{c.paper}]({c.url})) · measured "
                     f"here: {c.detail}" for c in checks)


@guard
def run_checks(which: Any, request: gr.Request = None) -> Iterator[tuple[str, Any]]:
    """The issue's paper checks with pass/fail (the heavy runs are shared with the panels, and kept)."""
    import dlcore.compression as C
    import dlcore.plotting.compression as P

    w = parse_choice(which, "checks", CHECKS)
    names = C.CHECK_NAMES if w == "all" else (w,)
    with STOPS.running(request, "checks") as stop:
        for run in stream(lambda cb, ev: C.paper_checks(cb, ev, names), stop):
            if run.done:
                break
            m = run.progress
            what = (f"pruning loop: round {m.get('round')} · {m.get('sparsity', 0):.1%} pruned" if "round" in m else
                    f"distillation: student **{m.get('run')}**" if "run" in m else "int8 paths: quantizing, scoring")
            yield f"⏳ {what} · step {m.get('step', 0)} · {run.seconds:.0f} s", gr.skip()
    checks = run.result
    stopped = stop.is_set() or len(checks) < len(names)
    head = "⏹ **stopped**: a stopped run fails its check." if stopped else "✅ measured here"
    yield f"{head}\n\n{_checks_md(checks)}", P.paper_check_bars(checks) if checks else None


@guard
def checks_default() -> tuple[str, Any]:
    """First open: the checks if their heavy runs finished before in this server, else the claims."""
    import dlcore.compression as C
    import dlcore.plotting.compression as P

    checks = C.cached_checks()
    if checks is not None:
        return f"✅ measured here (kept from earlier runs)\n\n{_checks_md(checks)}", P.paper_check_bars(checks)
    rows = [f"- {claim} ([{paper}]({url})) · not measured yet" for claim, paper, url in C.CLAIMS.values()]
    return ("Press **Run the checks**: all three ≈ 150 s here when nothing is cached (the pruning loop ≈ 60 s, the "
            "int8 paths ≈ 15 s, the two students ≈ 70 s); runs already done in the other panels are reused.\n\n" +
            "\n".join(rows)), None


def build_table_panel() -> None:
    with gr.Row():
        variants = Dropdown(list(VARIANTS), value=QUICK, multiselect=True, label="variants (fp32 parents are added)",
                            scale=3)
        with gr.Column(scale=1, min_width=200):
            btn = gr.Button("Build the table", variant="primary", elem_id="compression-table")
            with gr.Row():
                all_btn = gr.Button("Select all (≈ 500 s)", size="sm", elem_id="compression-table-all")
                stop_btn = gr.Button("Stop", variant="stop", size="sm", elem_id="compression-table-stop")
    with gr.Accordion("Measurement settings", open=False):
        with gr.Row():
            attack = Checkbox(True, label=f"attack every variant with {ATTACK_NAME}")
            n_attack = Number(500, label="attacked test images", precision=0)
            repeats = Number(7, label="latency repeats", precision=0)
    md = gr.Markdown("Opening this panel builds the quick subset (≈ 10 s here the first time)…")
    df = gr.Dataframe(headers=COLUMNS, interactive=False, wrap=True, label="every variant, measured here",
                      column_widths=["36px", "170px", *["84px"] * 9, "300px"])
    with gr.Row():
        fig = gr.Plot(show_label=False, format="png", scale=3, min_width=360)  # min widths: a phone stacks them
        csv = gr.File(label="download the table as CSV (every column, raw numbers)", interactive=False, scale=1,
                      min_width=240)
    outs = [md, df, fig, csv]
    on_first_open(table_default, None, outs, **HEAVY)
    on(btn.click, build_table, [variants, attack, n_attack, repeats], outs, api_name="compression_table", **HEAVY)
    on(all_btn.click, select_all, None, [variants, md], api_name="compression_table_select_all", **LIGHT)
    on(stop_btn.click, stopper("table", "the table"), md, md, api_name="compression_table_stop", **LIGHT)


def build_checks_panel() -> None:
    with gr.Row():
        which = Dropdown(list(CHECKS), value="all", label="checks")
        btn = gr.Button("Run the checks (≈ 150 s here for all)", variant="primary", elem_id="compression-checks")
        stop_btn = gr.Button("Stop", variant="stop", elem_id="compression-checks-stop")
    md = gr.Markdown()
    fig = gr.Plot(show_label=False, format="png")
    on_first_open(checks_default, None, [md, fig], **HEAVY)
    on(btn.click, run_checks, which, [md, fig], api_name="compression_checks", **HEAVY)
    on(stop_btn.click, stopper("checks", "the checks"), md, md, api_name="compression_checks_stop", **LIGHT)
    gr.Examples([["all"], ["pruning"], ["int8"], ["distillation"]], which, [md, fig], fn=run_checks, run_on_click=True,
                cache_examples=False, example_labels=["all three (≈ 150 s)", "Han et al. 2015: ≥ 10× (≈ 60 s)",
                                                      "int8 within 1 point (≈ 15 s)", "Hinton et al. 2015 (≈ 70 s)"])


ENDPOINTS = [
    Endpoint("compression_table", heavy=True, stateful=True, examples=[[["ao_dynamic_int8"], True, 50, 1]],
             facts=["3.92×"],
             bad=[([[], True, 500, 7], "choose at least one variant"), ([["int2"], True, 500, 7], "variant 'int2'"),
                  ([["fp32"], True, 5, 7], "attacked test images = 5 is below the minimum 10")]),
    Endpoint("compression_table_select_all", examples=[[]], facts=["500 s"]),
    Endpoint("compression_table_stop", examples=STOP_EXAMPLES, facts=["Nothing is running", "The last run's summary."]),
    Endpoint("compression_checks", heavy=True, stateful=True, examples=[["int8"]], facts=["PASS"],
             bad=[(["speed"], "checks 'speed' is not one of")]),
    Endpoint("compression_checks_stop", examples=STOP_EXAMPLES, facts=["Nothing is running", "The last run's summary."]),
]
