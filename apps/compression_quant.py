"""Quantization panels of the compression tab (notes §9.2.3): one path vs fp32, every path side
by side, k-means weight sharing, binary weights. Wiring only."""

from __future__ import annotations

from typing import Any, Iterator

import gradio as gr

from apps.common import (HEAVY, LIGHT, STOPS, STOP_EXAMPLES, Checkbox, Dropdown, Endpoint, Number, Radio, Slider, guard,
                        on, on_first_open)
from apps.compression_run import bar, kib, pct, points, stopper, stream, table_md
from dlcore.textinput import parse_bool, parse_choice, parse_int

#: = dlcore.compression.QUANT_PATHS keys (torch-free copy for the dropdown; checked in the tests)
PATHS = ("ao_dynamic_int8", "ao_static_int8", "torchao_int8_weight_only", "torchao_int8_dynamic",
         "torchao_int4_weight_only", "torchao_intx_int4", "fake_int4")
KMEANS_INITS = ("linear", "density", "random")
SCALINGS = ("mean_abs", "none")
HONEST = ("Latency = median thread-CPU time per forward pass at 1 thread, each path interleaved with its fp32 "
          "parent in the same run (load spikes hit both); sizes = bytes of `torch.save(state_dict)`.")


#: The library's notes, where one states a speed that this run measures anyway: the note says why, the
#: measured verdict beside it says what happened here (a load spike can move a ratio across 1×).
WHY = {"torchao_int8_dynamic": "no fused int8 kernel in eager mode on CPU (pytorch/ao#4365): quantizing the "
                               "activations every call costs more than the small GEMMs save",
       "torchao_int8_weight_only": "int8 storage, weights dequantized to fp32 for the GEMM"}


def _verdict(r: Any, batches: tuple[int, ...]) -> str:
    """What this run measured, in words: faster/slower than fp32 at each batch size."""
    parts = [f"{'faster' if r.speedup[b] >= 1.1 else 'slower' if r.speedup[b] <= 0.9 else 'about even'} at "
             f"batch {b}" for b in batches if b in r.speedup]
    return "measured here: " + ", ".join(parts) if parts and r.path != "fp32" else ""


def _row_cells(r: Any, batches: tuple[int, ...]) -> list[Any]:
    if not r.available:
        return [f"`{r.path}`", "—", "—", *["—"] * len(batches)]
    lat = [f"{r.latency[b].cpu_ms:.3g} ms (**{r.speedup[b]:.2f}×**)" for b in batches]
    return [f"`{r.path}`", f"{kib(r.disk_bytes)} ({r.size_ratio:.2f}×)",
            f"{pct(r.accuracy)} ({points(r.accuracy_drop).replace(' points', '')})", *lat]


def _row_note(r: Any, batches: tuple[int, ...]) -> str:
    """One bullet per path below the table (a narrow table stays readable on a phone)."""
    if not r.available:
        return f"- `{r.path}`, {r.label}: ❌ **not available here**: {r.reason}"
    dep = "⚠ deprecated; " if r.deprecated else ""
    verdict = _verdict(r, batches)
    return f"- `{r.path}`, {r.label}: {dep}{WHY.get(r.path, r.note)}" + (f" · **{verdict}**" if verdict else "")


def _comparison_md(q: Any) -> str:
    b = q.batch_sizes
    head = ["path", "file (× smaller)", "accuracy (points)", *[f"batch {x} (× faster)" for x in b]]
    load = next((r.latency[b[0]].load_avg for r in q.rows if r.latency), "?")
    return (table_md(head, [_row_cells(r, b) for r in q.rows], "l" + "r" * (2 + len(b))) + "\n\n" +
            "\n".join(_row_note(r, b) for r in q.rows) +
            f"\n\n{HONEST} Median of {q.repeats} repeats; load average {load}; accuracy on the whole test set.")


@guard
def quantize(path: Any) -> tuple[str, Any]:
    """One quantization path vs fp32 on LeNet-300-100: size on disk, accuracy, latency at batch 1 and 1024."""
    import dlcore.compression as C
    import dlcore.plotting.compression as P

    p = parse_choice(path, "quantization path", PATHS)
    q = C.compare_quant_paths([p], repeats=7, cache=False)
    r = q.row(p)
    if not r.available:
        return (f"### {r.label}\n\n❌ **Not available on this machine**: {r.reason}.\n\nAnd where the sizes fit: "
                f"{r.note}. The int4 weights can still be stored packed: try `fake_int4` (4-bit file, fp32 compute) "
                "or `torchao_intx_int4`.", None)
    warn = ("\n\n⚠ **Deprecated**: `torch.ao.quantization` warns that it will be removed (its successor is torchao); "
            "it is shown because it is still the fastest int8 CPU path here.") if r.deprecated else ""
    return f"### `{r.path}`: {r.bits}-bit, {r.library}, vs fp32\n\n{_comparison_md(q)}{warn}", \
        P.latency_bars(q.latency(), title=r.label)


def _best_md(q: Any) -> str:
    best = q.best(8)
    if best is None:
        return "No int8 path ran."
    big = max(best.speedup)
    ok = best.speedup[big] >= 1.5 and best.size_ratio >= 3.5 and best.accuracy_drop <= 0.01
    return (f"**Best int8 CPU path here: `{best.path}`**, {best.speedup[big]:.2f}× faster at batch {big}, "
            f"{best.size_ratio:.2f}× smaller, {points(best.accuracy_drop)}: {'**PASS**' if ok else '**FAIL**'} on the "
            "issue's bar (≥ 1.5× faster, ≥ 3.5× smaller, ≤ 1 point). Batch 1 is reported as measured: quantizing "
            "the activations of one image costs more than the small GEMM saves.")


@guard
def quant_all(repeats: Any, request: gr.Request = None) -> Iterator[tuple[str, Any]]:
    """Every path of QUANT_PATHS on LeNet-300-100, measured together (cached when it finishes)."""
    import dlcore.compression as C
    import dlcore.plotting.compression as P

    n = parse_int(repeats, "repeats (median of)", lo=1, hi=25)
    with STOPS.running(request, "quant_all") as stop:
        for run in stream(lambda cb, ev: C.compare_quant_paths(None, repeats=n, callback=cb, stop_event=ev), stop):
            if run.done:
                break
            m, i = run.progress, int(run.progress.get("step", 0))
            msg = (f"measuring the latency of all paths interleaved ({n} repeats)" if m.get("stage") == "latency" else
                   f"quantizing `{m.get('path', '…')}` ({i + 1}/{len(PATHS)})")
            yield f"⏳ {bar(i / (len(PATHS) + 1))} {msg} · {run.seconds:.0f} s", gr.skip()
    q = run.result
    if q.status != "finished":
        yield "⏹ **stopped** before the latency was measured; nothing is kept.", None
        return
    yield _all_md(q), P.latency_bars(q.latency(), title="Every quantization path")


def _all_md(q: Any) -> str:
    return f"### Every path on `{q.base}`\n\n{_best_md(q)}\n\n{_comparison_md(q)}"


@guard
def quant_all_default() -> tuple[str, Any]:
    """First open: the comparison at 7 repeats if it ran before in this server, else what it does."""
    import dlcore.compression as C
    import dlcore.plotting.compression as P

    q = C.compare_quant_paths(None, repeats=7, peek=True)
    if q is None:
        rows = []
        for p, info in C.QUANT_PATHS.items():
            ok, why = C.path_available(p)  # probed once on a tiny model (the warm-up did it)
            rows.append(f"- `{p}`: {info.label}, {info.bits}-bit, {info.library} · "
                        f"{'✅ runs here' if ok else f'❌ does not run here: {why}'} · "
                        + ("⚠ deprecated; " if info.deprecated else "") + WHY.get(p, info.note))
        return ("Not run yet in this server. **Compare every path** quantizes LeNet-300-100 seven ways, then times "
                "all eight models (with fp32) interleaved at batch 1 and 1024 (≈ 30 s here; kept afterwards). The "
                "paths:\n\n" + "\n".join(rows), None)
    return _all_md(q), P.latency_bars(q.latency(), title="Every quantization path")


@guard
def kmeans(k: Any, init: Any, steps: Any, request: gr.Request = None) -> Iterator[tuple[str, Any]]:
    """Han et al. 2016: cluster each layer's weights into k shared values, store ⌈log₂ k⌉-bit indices."""
    import dlcore.compression as C
    import dlcore.plotting.compression as P

    cfg = C.KMeansConfig(k=parse_int(k, "clusters k", lo=2, hi=256), init=parse_choice(init, "initialisation",
                         KMEANS_INITS), fine_tune_steps=parse_int(steps, "centroid fine-tuning steps", lo=0, hi=1000))
    with STOPS.running(request, "kmeans") as stop:
        for run in stream(lambda cb, ev: C.share_outcome(cfg, "mlp", cb, ev), stop):
            if run.done:
                break
            step = int(run.progress.get("step", 0))
            yield (f"⏳ {bar(step / max(cfg.fine_tune_steps, 1))} fine-tuning the centroids: step {step}/"
                   f"{cfg.fine_tune_steps}" if run.events else "⏳ clustering every layer's weights…"), gr.skip()
    o = run.result
    rows = [[f"`{x.name}`", x.k, f"{x.bits}-bit", f"{x.n_weights:,}", f"{x.rel_error:.3f}",
             f"{x.n_weights:,}·{x.bits} + {x.k}·32 = {x.storage_bits:,}"] for x in o.result.layers]
    first = o.result.layers[0]
    md = (f"### k-means weight sharing, k = {cfg.k} ({cfg.init} init{', centroids fine-tuned' if cfg.fine_tune_steps else ''})"
          f"\n\nFile **{kib(o.dense_disk_bytes)} → {kib(o.shared_disk_bytes)} "
          f"({o.dense_disk_bytes / o.shared_disk_bytes:.2f}× smaller)** · accuracy {pct(o.dense_accuracy)} → "
          f"**{pct(o.shared_accuracy)}** ({points(o.dense_accuracy - o.shared_accuracy)})\n\n" +
          table_md(["layer", "k used", "index", "weights", "‖W − Ŵ‖/‖W‖", "bits = n·b + k·32"], rows) +
          "\n\nEach weight is replaced by its cluster's centre: the layer stores one index per weight and the "
          "k centres (Han, Mao & Dally 2016 use k = 32, 5 bits, for AlexNet's fully-connected layers). The indices "
          "are packed, so the file *is* the compressed model; the CPU decodes them once and multiplies in fp32.")
    yield md, P.codebook_histogram(o.first_weight, o.first_codebook,
                                   f"{first.name}: {first.n_weights:,} weights, {first.k} shared values")


@guard
def binary(steps: Any, scaling: Any, keep_last: Any, request: gr.Request = None) -> Iterator[str]:
    """BinaryConnect: every weight ±α (1 bit), trained with the straight-through estimator."""
    import dlcore.compression as C

    cfg = C.BinaryConfig(scaling=parse_choice(scaling, "scale α", SCALINGS),
                         fine_tune_steps=parse_int(steps, "STE fine-tuning steps", lo=0, hi=2000),
                         keep_last_float=parse_bool(keep_last, "keep the output layer in fp32"))
    with STOPS.running(request, "binary") as stop:
        for run in stream(lambda cb, ev: C.binary_outcome(cfg, "mlp", cb, ev), stop):
            if run.done:
                break
            step = int(run.progress.get("step", 0))
            yield (f"⏳ {bar(step / max(cfg.fine_tune_steps, 1))} fine-tuning through sign(W): step {step}/"
                   f"{cfg.fine_tune_steps} · loss {run.progress.get('loss', float('nan')):.3f} · {run.seconds:.0f} s"
                   if run.events else "⏳ binarizing…")
    yield _binary_md(run.result, cfg)


@guard
def binary_default() -> str:
    """First open: binarize the trained weights without any training (about a second)."""
    import dlcore.compression as C

    cfg = C.BinaryConfig(fine_tune_steps=0)
    return _binary_md(C.binary_outcome(cfg), cfg) + "\n\nPress **Binarize** to fine-tune through sign(W)."


def _binary_md(o: Any, cfg: Any) -> str:
    r = o.result
    head = "✅" if r.status == "finished" else "⏹ **stopped** (the steps done so far are kept in the weights):"
    alphas = ", ".join(f"`{n}` {a:.4f}" for n, a in zip(r.layers, r.alphas))
    return (f"{head} **binary weights, 1 bit each** ({cfg.scaling}, {cfg.fine_tune_steps} STE steps)\n\n" +
           table_md(["", "test accuracy", "file"], [
               ["fp32", pct(o.dense_accuracy), kib(o.dense_disk_bytes)],
               ["sign(W)·α, no training", pct(r.acc_binarized), "—"],
               [f"after {cfg.fine_tune_steps} STE steps", f"**{pct(r.acc_finetuned)}**",
                f"**{kib(o.binary_disk_bytes)}** ({o.dense_disk_bytes / o.binary_disk_bytes:.2f}× smaller)"]]) +
           f"\n\nα per layer (mean |W|): {alphas}. Forward with W_b = α·sign(W); backward ∂L/∂W ≈ ∂L/∂W_b (the "
           "straight-through estimator); W clipped to [−1, 1] after each step (Courbariaux et al. 2015). Two values "
           "per layer limit the network's capacity, which also resists over-fitting (notes §9.2.3). Biases stay fp32.")


def build_one() -> None:
    with gr.Row():
        path = Dropdown(list(PATHS), value="ao_dynamic_int8", label="quantization path",
                        info="ao_… = torch.ao (deprecated); torchao_… = torchao 0.18; fake_int4 = ours (packed 4-bit)")
        btn = gr.Button("Quantize and measure (≈ 3 s here)", variant="primary", elem_id="compression-quant")
    md = gr.Markdown("Opening this panel quantizes LeNet-300-100 with torch.ao's dynamic int8…")
    fig = gr.Plot(show_label=False, format="png")
    on_first_open(quantize, path, [md, fig], **HEAVY)
    on(btn.click, quantize, path, [md, fig], api_name="compression_quantize", **HEAVY)
    gr.Examples([["ao_dynamic_int8"], ["ao_static_int8"], ["torchao_int8_dynamic"], ["torchao_int4_weight_only"],
                 ["fake_int4"]], path, [md, fig], fn=quantize, run_on_click=True, cache_examples=False,
                example_labels=["dynamic int8 (fast at batch 1024, deprecated)", "static int8, calibrated",
                                "torchao int8 dynamic (slow at batch 1 in eager mode)", "torchao int4 (no CPU kernel here)",
                                "int4 packed, fp32 compute"])


def build_all() -> None:
    with gr.Row():
        repeats = Number(7, label="repeats (median of)", precision=0)
        btn = gr.Button("Compare every path (≈ 30 s here, kept afterwards)", variant="primary",
                        elem_id="compression-quant-all")
        stop_btn = gr.Button("Stop", variant="stop", elem_id="compression-quant-all-stop")
    md = gr.Markdown("Press **Compare every path**: the seven paths quantize LeNet-300-100, then all eight models "
                     "(with fp32) are timed interleaved at batch 1 and 1024.")
    fig = gr.Plot(show_label=False, format="png")
    on_first_open(quant_all_default, None, [md, fig], **HEAVY)
    on(btn.click, quant_all, repeats, [md, fig], api_name="compression_quant_all", **HEAVY)
    on(stop_btn.click, stopper("quant_all", "the comparison"), md, md, api_name="compression_quant_all_stop",
       **LIGHT)


def build_sharing() -> None:
    with gr.Row():
        k = Slider(2, 256, 16, step=1, label="clusters k per layer (index bits = ⌈log₂ k⌉)")
        init = Radio(list(KMEANS_INITS), value="linear", label="centroid initialisation (linear: the paper's best)")
        steps = Number(0, label="centroid fine-tuning steps", precision=0)
    with gr.Row():
        btn = gr.Button("Share the weights (≈ 2 s here)", variant="primary", elem_id="compression-kmeans")
        stop_btn = gr.Button("Stop", variant="stop", elem_id="compression-kmeans-stop")
    md = gr.Markdown("Opening this panel clusters LeNet-300-100's weights into 16 values per layer…")
    fig = gr.Plot(show_label=False, format="png")
    ins = [k, init, steps]
    on_first_open(kmeans, ins, [md, fig], **HEAVY)
    on(btn.click, kmeans, ins, [md, fig], api_name="compression_kmeans", **HEAVY)
    on(stop_btn.click, stopper("kmeans", "the fine-tuning"), md, md, api_name="compression_kmeans_stop", **LIGHT)
    gr.Examples([[32, "linear", 0], [4, "linear", 0], [4, "linear", 300], [4, "random", 0]], ins, [md, fig], fn=kmeans,
                run_on_click=True, cache_examples=False,
                example_labels=["Han et al.: k = 32 (5 bits)", "k = 4 (2 bits)", "k = 4, centroids fine-tuned",
                                "k = 4, random init: loses the rare large weights"])


def build_binary() -> None:
    with gr.Row():
        steps = Number(300, label="STE fine-tuning steps", precision=0)
        scaling = Radio(list(SCALINGS), value="mean_abs", label="scale α (mean |W| per layer, or 1)")
    keep = Checkbox(False, label="keep the output layer in fp32")
    with gr.Row():
        btn = gr.Button("Binarize (≈ 10 s here, kept afterwards)", variant="primary", elem_id="compression-binary")
        stop_btn = gr.Button("Stop", variant="stop", elem_id="compression-binary-stop")
    md = gr.Markdown("Opening this panel binarizes LeNet-300-100's trained weights (no training yet)…")
    ins = [steps, scaling, keep]
    on_first_open(binary_default, None, md, **HEAVY)
    on(btn.click, binary, ins, md, api_name="compression_binary", **HEAVY)
    on(stop_btn.click, stopper("binary", "the fine-tuning"), md, md, api_name="compression_binary_stop", **LIGHT)
    gr.Examples([[300, "mean_abs", False], [0, "mean_abs", False], [300, "none", False], [300, "mean_abs", True]], ins,
                md, fn=binary, run_on_click=True, cache_examples=False,
                example_labels=["BinaryConnect + α, 300 steps", "binarize only, no training",
                                "the notes (§9.2.3): weights exactly −1 or +1 (α = 1)", "output layer kept in fp32"])


ENDPOINTS = [
    Endpoint("compression_quantize", heavy=True, examples=[["ao_dynamic_int8"], ["torchao_int4_weight_only"]],
             facts=["Deprecated", "mslk"], bad=[(["int3"], "quantization path 'int3' is not one of")]),
    Endpoint("compression_quant_all", heavy=True, stateful=True, examples=[[1]], facts=["3.79×"],
             bad=[([0], "repeats (median of) = 0 is below the minimum 1"), ([100], "above the maximum 25")]),
    Endpoint("compression_quant_all_stop", examples=STOP_EXAMPLES, facts=["Nothing is running", "The last run's summary."]),
    Endpoint("compression_kmeans", heavy=True, stateful=True, examples=[[16, "linear", 0]], facts=["7.70×"],
             bad=[([1, "linear", 0], "clusters k = 1 is below the minimum 2"), ([16, "kmeans++", 0], "initialisation")]),
    Endpoint("compression_kmeans_stop", examples=STOP_EXAMPLES, facts=["Nothing is running", "The last run's summary."]),
    Endpoint("compression_binary", heavy=True, stateful=True, examples=[[20, "mean_abs", False]], facts=["27.44×"],
             bad=[([-1, "mean_abs", False], "STE fine-tuning steps = -1 is below the minimum 0"),
                  ([20, "mean_abs", "yes"], "keep the output layer in fp32 must be true or false")]),
    Endpoint("compression_binary_stop", examples=STOP_EXAMPLES, facts=["Nothing is running", "The last run's summary."]),
]
