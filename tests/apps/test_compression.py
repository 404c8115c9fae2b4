"""The compression tab's handlers, called directly on small inputs: numbers, messages, stop, defaults,
and what the generic harness cannot see (torch-free registries equal the library's, no torch at
build, the CSV export, a stopped run saying so)."""

from __future__ import annotations

import csv
import subprocess
import sys
import threading
from dataclasses import fields
from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import pytest
from matplotlib.figure import Figure

import apps.compression as tab
from apps import compression_more as more
from apps import compression_prune as prune
from apps import compression_quant as quant
from apps import compression_run as run
from apps import compression_table as table
from tests.conftest import ROOT

def _fashion_mnist() -> bool:
    import dlcore.compression as C

    return C.load_base_name("mlp") == "fmnist_lenet300"


needs_fmnist = pytest.mark.skipif("not _fashion_mnist()", reason="the numbers are those of the Fashion-MNIST models; "
                                  "only the digits twins are here")

FILES = ["compression.py", "compression_prune.py", "compression_quant.py", "compression_more.py",
         "compression_table.py", "compression_run.py"]


@needs_fmnist
def test_torch_free_registries_equal_the_librarys():
    import dlcore.compression as C

    assert set(prune.CRITERIA) == set(C.CRITERIA) and set(prune.SCOPES) == set(C.SCOPES)
    assert prune.SCHEDULES == C.SCHEDULES and prune.IMPORTANCES == C.STRUCTURED_IMPORTANCES
    assert quant.PATHS == tuple(C.QUANT_PATHS) and quant.KMEANS_INITS == C.KMEANS_INITS
    assert quant.SCALINGS == C.SCALINGS and more.STUDENTS == tuple(C.STUDENTS)
    assert more.EXIT_CRITERIA == C.EXIT_CRITERIA and table.VARIANTS == tuple(C.VARIANTS) == C.DEFAULT_VARIANTS
    assert set(table.QUICK) <= set(C.VARIANTS) and table.CHECKS[1:] == C.CHECK_NAMES
    b = C.load_base("mlp")
    assert list(more.LAYERS) == C.linear_layers(b.model)
    assert more.LAYERS == {n: min(m.weight.shape) for n, m in C.prunable_layers(b.model)}
    d = C.IterativeConfig()
    assert prune.LOOP_DEFAULT == [d.target, d.rounds, d.schedule, d.steps_per_round, d.final_steps, d.lr,
                                  d.criterion, d.scope]
    lo, di = C.LotteryConfig(), C.DistillConfig()
    assert prune.LOTTERY_DEFAULT == [lo.sparsity, lo.steps, lo.lr]
    assert more.DISTILL_DEFAULT == [di.temperature, di.alpha, di.student, di.steps, di.train_examples]


def test_build_imports_no_torch_and_every_file_is_short():
    code = ("import sys, gradio as gr, apps.compression as t\nwith gr.Blocks() as d:\n    t.build()\n"
            "print(sorted(m for m in ('torch', 'dlcore.compression', 'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.stdout.strip() == "[]", out.stderr[-2000:]
    for f in FILES:
        assert len((ROOT / "apps" / f).read_text(encoding="utf-8").splitlines()) <= 350, f


@needs_fmnist
def test_prune_reports_the_exact_zeros_accuracy_and_sizes():
    md, fig = prune.prune("mlp", 0.5, "magnitude", "global")
    assert "133,100 of 266,200 weights zeroed (50.0%)" in md and "89.50%" in md  # the dense LeNet-300-100
    assert "weight_orig" in md and "CSR" in md and isinstance(fig, Figure)
    md, _ = prune.prune("mlp", 0.9, "magnitude", "layer")
    assert "239,580 of 266,200" in md


@pytest.mark.parametrize("args,fragment", [(["mlp", "abc", "magnitude", "global"], "fraction of weights pruned"),
                                           (["mlp", None, "magnitude", "global"], "fraction of weights pruned"),
                                           ([["mlp"], 0.5, "magnitude", "global"], "model"),
                                           (["mlp", 0.5, "magnitude", 3], "scope")])
def test_bad_prune_input_names_the_field(args, fragment):
    with pytest.raises(gr.Error) as info:
        prune.prune(*args)
    assert fragment in info.value.message and "Internal error" not in info.value.message


def test_unstructured_zeros_are_not_faster_and_the_page_says_so():
    md, fig = prune.prune_latency("mlp", 0.9, "magnitude", "global")
    for run_name in ("dense", "masked", "baked", "csr"):
        assert f"| {run_name} |" in md
    assert "**not faster**" in md and "load average" in md and isinstance(fig, Figure)


def _frames(gen):
    return list(gen)


@needs_fmnist
def test_the_loop_streams_progress_then_the_rounds():
    frames = _frames(prune.iterative(*prune.LOOP_QUICK, SimpleNamespace(session_hash="loop")))
    head, fig, rows = frames[-1]
    assert head.startswith("✅ 2/2 rounds") and "**80.0%**" in head and isinstance(fig, Figure)
    assert rows.count("\n") == 3  # header, separator, two rounds
    assert any(isinstance(f[0], str) and f[0].startswith("⏳") for f in frames[:-1])


def test_stop_ends_the_users_loop_and_says_so():
    req = SimpleNamespace(session_hash="stop-me")
    stop = run.stopper("iterative", "the loop")
    assert "Nothing is running" in stop(request=req)
    gen = prune.iterative(0.9, 4, "cubic", 500, 0, 0.002, "magnitude", "global", req)
    first = next(gen)
    assert first[0].startswith("⏳")
    assert "Stopping the loop" in stop(request=req)
    head = list(gen)[-1][0]
    assert "⏹ **stopped**" in head and not run.STOPS.is_running(req, "iterative")


def test_stream_reraises_the_library_error_and_a_closed_stream_stops_the_run():
    with pytest.raises(ValueError, match="boom"):
        list(run.stream(lambda cb, ev: (_ for _ in ()).throw(ValueError("boom")), threading.Event()))
    ev = threading.Event()
    gen = run.stream(lambda cb, stop: stop.wait(30), ev)
    next(gen)  # running
    gen.close()  # the page went away
    assert ev.is_set()


@needs_fmnist
def test_structured_removes_neurons_and_times_them():
    md, fig = prune.structured("mlp", 0.5, "l1")
    assert "266,610 → 125,810 parameters" in md and "Torch-Pruning measured 0.30×" in md
    assert "300×784" in md and "150×784" in md and isinstance(fig, Figure)


def test_defaults_say_what_will_run_when_nothing_is_kept():
    import dlcore.compression as C

    C.clear_results()
    md, fig = prune.lottery_default()
    assert "Not run yet" in md and fig is None
    md, fig = more.distill_default()
    assert "Not run yet" in md and fig is None
    md, fig = table.checks_default()
    assert "not measured yet" in md and "Han et al. 2015" in md and fig is None
    md, fig = quant.quant_all_default()
    assert "Not run yet" in md and fig is None
    head, fig, rows = prune.iterative_default()
    assert "has not run yet" in head and isinstance(fig, Figure) and "| 90% |" in rows


@needs_fmnist
def test_quantize_one_path_and_one_without_a_kernel():
    md, fig = quant.quantize("ao_dynamic_int8")
    assert "**Deprecated**" in md and "`fp32`" in md and "3.92×" in md and isinstance(fig, Figure)
    assert "measured here: " in md and "at batch 1024" in md  # the verdict in words, from this run's ratios
    md, fig = quant.quantize("torchao_int4_weight_only")
    assert "Not available on this machine" in md and fig is None


def test_a_paths_note_says_what_this_run_measured_not_what_it_should_be():
    r = SimpleNamespace(path="torchao_int8_dynamic", speedup={1: 0.07, 1024: 1.29})
    assert quant._verdict(r, (1, 1024)) == "measured here: slower at batch 1, faster at batch 1024"
    r = SimpleNamespace(path="fake_int4", speedup={1: 0.95, 1024: 1.02})
    assert quant._verdict(r, (1, 1024)) == "measured here: about even at batch 1, about even at batch 1024"
    assert "slower than fp32" not in quant.WHY["torchao_int8_dynamic"]  # the note gives the reason, not a result


@needs_fmnist
def test_sharing_and_binary_report_measured_sizes():
    md, fig = list(quant.kmeans(4, "linear", 0))[-1]  # no request: as on first open
    assert "2-bit" in md and "235,200·2 + 4·32" in md and isinstance(fig, Figure)
    md = list(quant.binary(10, "mean_abs", False, SimpleNamespace(session_hash="b")))[-1]
    assert "27.44× smaller" in md and "after 10 STE steps" in md
    assert "Press **Binarize**" in quant.binary_default()


@needs_fmnist
def test_soft_labels_low_rank_and_early_exit():
    md, fig = more.soft("test image", 0, None, "auto", 4)
    assert "T = 4" in md and "Ankle boot" in md and isinstance(fig, Figure)
    md, fig = more.low_rank("fc1", 300)
    assert "N·K + K·M = 784·300 + 300·300 = **325,200**" in md and "block2.0" in md
    md, fig = more.early_exit("max_prob", 0.9, 500)
    assert "1,932,672" in md and "| 3 | 1,932,672 |" in md and isinstance(fig, Figure)
    with pytest.raises(gr.Error, match="rank K = 301 is above the maximum 300"):
        more.low_rank("fc1", 301)


def test_the_table_streams_and_exports_every_column_as_csv():
    import dlcore.compression as C

    frames = list(table.build_table(["fake_int4"], False, 50, 1, SimpleNamespace(session_hash="t")))
    md, df, fig, path = frames[-1]
    assert md.startswith("✅") and df["headers"] == table.COLUMNS and isinstance(fig, Figure)
    assert [r[1] for r in df["value"]] == ["fp32", "fake_int4"]  # the parent row is added
    lines = Path(path).read_text().splitlines()
    assert lines[0].startswith("# threads=1") and len(lines) == 4  # conditions, header, two rows
    assert next(csv.reader([lines[1]])) == [f.name for f in fields(C.TableRow)]  # every column, raw
    assert table.select_all()[0] == list(table.VARIANTS)
    with pytest.raises(gr.Error, match="choose at least one variant"):
        next(table.build_table([], True, 500, 7, None))


def test_gradio_hands_the_request_to_the_streaming_handlers():
    from gradio import routes
    from gradio.helpers import special_args

    req = routes.Request(username=None, session_hash="s1")
    for fn, n in ((prune.iterative, 8), (prune.lottery, 3), (more.distill, 5), (table.build_table, 4)):
        inputs, *_ = special_args(fn, [None] * n, request=req)
        assert inputs[-1].session_hash == "s1", fn.__name__


def test_declarations():
    assert tab.RUN_BUTTON == "compression-prune" and tab.ENDPOINTS[0].api_name == "compression_prune"
    heavy = {e.api_name for e in tab.ENDPOINTS if e.heavy}
    assert heavy == {e.api_name for e in tab.ENDPOINTS if not e.api_name.endswith(("_stop", "_select_all"))}
    assert all(e.examples and len(e.facts) == len(e.examples) for e in tab.ENDPOINTS)
