"""The one table (measured sizes, latency, accuracy, robust accuracy, CSV) and the registries."""

from __future__ import annotations

import csv
import io
import subprocess
import sys

import pytest

import dlcore.compression as C
from tests.conftest import ROOT
from tests.dlcore.compression.fixtures import pgd

QUICK = ["fp32", "ao_dynamic_int8", "fake_int4", "kmeans_16", "lowrank_50", "torchao_int4_weight_only"]


@pytest.fixture(scope="module")
def table() -> C.CompressionTable:
    stages: list[tuple[str, str]] = []
    t = C.compression_table(QUICK[1:], attack=pgd, attack_name="PGD-5 ε=0.1",
                            config=C.TableConfig(repeats=1, eval_examples=500, attack_examples=64),
                            callback=lambda i, m: stages.append((m["variant"], m["stage"])))
    assert ("fp32", "build") in stages  # the parent row was added and built first
    return t


def test_every_variant_is_a_row_with_its_parent_first(table) -> None:
    assert [r.variant for r in table.rows] == QUICK
    assert table.status == "finished" and table.attack == "PGD-5 ε=0.1" and table.threads == 1


def test_rows_carry_measured_sizes_latency_and_accuracy(table) -> None:
    fp32 = table.row("fp32")
    assert fp32.size_ratio == 1.0 and fp32.speedup_b1 == 1.0 and fp32.speedup_b1024 == 1.0
    for r in table.rows:
        if r.status != "ok":
            continue
        assert r.disk_bytes and r.latency_b1_ms > 0 and r.latency_b1024_ms > 0 and r.latency_b1024_wall_ms > 0
        assert 0.5 < r.accuracy <= 1.0
        assert r.robust_accuracy is not None and r.robust_accuracy < r.accuracy  # PGD hurts every variant
    assert table.row("ao_dynamic_int8").size_ratio > 3.5  # int8 ≈ 4× smaller
    assert table.row("fake_int4").size_ratio > 7  # 4-bit packed
    assert table.row("kmeans_16").size_ratio > 7  # 4-bit indices + 16-entry codebooks
    assert table.row("ao_dynamic_int8").deprecated and not table.row("fake_int4").deprecated


def test_a_path_without_a_kernel_is_a_row_saying_why(table) -> None:
    r = table.row("torchao_int4_weight_only")
    assert r.status.startswith("unavailable") and r.accuracy is None and r.disk_bytes is None


def test_csv_export_has_every_row_and_column(table, tmp_path) -> None:
    text = table.to_csv()
    assert text.startswith("# threads=1 repeats=1")
    rows = list(csv.DictReader(io.StringIO(text.split("\n", 1)[1])))
    assert [r["variant"] for r in rows] == QUICK and list(rows[0]) == table.columns
    assert float(rows[0]["accuracy"]) == pytest.approx(table.rows[0].accuracy)
    assert C.write_csv(table, tmp_path / "t.csv").read_text() == text
    assert len(table.records()) == len(QUICK) and len(table.records()[0]) == len(table.columns)


def test_unknown_variant_and_bad_table_configs_raise() -> None:
    with pytest.raises(ValueError, match="variant 'int2' is not one of"):
        C.compression_table(["int2"])
    with pytest.raises(ValueError, match="variants 'fp32' must be a list"):
        C.compression_table("fp32")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="repeats 0"):
        C.compression_table(["fp32"], config=C.TableConfig(repeats=0))


def test_registries_agree_with_the_modules() -> None:
    assert C.METHODS["quantization"] == tuple(C.QUANT_PATHS)
    assert C.METHODS["distillation"] == tuple(C.STUDENTS)
    assert C.METHODS["structured"] == C.STRUCTURED_IMPORTANCES
    assert C.METHODS["pruning"] == C.CRITERIA and C.METHODS["early_exit"] == C.EXIT_CRITERIA
    for spec in C.VARIANTS.values():
        assert spec.family in C.METHODS and spec.base in ("mlp", "cnn", "multi_exit") and spec.label
    assert set(C.INT8_PATHS) <= set(C.QUANT_PATHS)
    assert all(name in C.__all__ for name in ("METHODS", "VARIANTS", "compression_table", "paper_checks"))


@pytest.mark.slow
def test_importing_the_package_loads_neither_torchao_nor_torch_pruning() -> None:
    code = ("import sys, dlcore.compression, dlcore.plotting.compression\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torchao', 'torch_pruning', 'gradio')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-1000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_cached_runs_return_the_same_result_until_cleared() -> None:
    a = C.run_one_shot("mlp", (0.0, 0.9))
    assert C.run_one_shot("mlp", (0.0, 0.9)) is a and a[1][1] < a[0][1]
    t1 = C.cached_table(["fp32"], config=C.TableConfig(repeats=1, eval_examples=200))
    assert C.cached_table(["fp32"], config=C.TableConfig(repeats=1, eval_examples=200)) is t1
    C.clear_results()
    assert C.run_one_shot("mlp", (0.0, 0.9)) is not a


def test_low_rank_panel_on_lenet() -> None:
    res = C.run_low_rank("mlp", ranks=(5, 300))
    assert res.layer == "fc1" and res.shape == (300, 784) and res.singular_values.shape == (300,)
    assert res.points[-1].accuracy == pytest.approx(res.dense_accuracy, abs=1e-3)
    assert [p.params for p in res.points] == [784 * 5 + 5 * 300, 784 * 300 + 300 * 300]
