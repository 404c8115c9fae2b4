"""One call per UI panel (dlcore.compression.panels), soft labels, cached results and checks."""

from __future__ import annotations

import threading

import pytest
import torch
import torch.nn.functional as F

import dlcore.compression as C
import dlcore.plotting.compression as P
from tests.dlcore.compression.fixtures import make_cnn

N = 500  # test images scored: enough to see the effect, fast


def test_prune_once_zeros_the_asked_count_and_measures_every_size() -> None:
    o = C.prune_once("mlp", C.PruneConfig(0.5), eval_examples=N)
    total = sum(layer.total for layer in o.report.layers)
    assert sum(layer.zeros for layer in o.report.layers) == round(0.5 * total)  # global: exact count
    assert o.dense.nonzero == o.dense.params and o.pruned.nonzero < o.dense.params
    assert abs(o.pruned.disk_bytes - o.dense.disk_bytes) < 0.01 * o.dense.disk_bytes  # zeros stored densely
    assert o.masked_disk_bytes > 1.9 * o.dense.disk_bytes  # weight_orig + weight_mask
    assert o.pruned.sparse_bytes < o.dense.sparse_bytes  # CSR only stores the nonzeros
    assert C.is_pruned(o.model) and o.eval_examples == N
    assert 0.5 < o.pruned_accuracy <= o.dense_accuracy + 0.02


def test_prune_once_layer_scope_prunes_every_layer_alike() -> None:
    o = C.prune_once("mlp", C.PruneConfig(0.9, scope="layer"), eval_examples=N)
    for layer in o.report.layers:
        assert layer.zeros == round(0.9 * layer.total)


def test_structured_outcome_shrinks_tensors_and_times_three_runs() -> None:
    o = C.structured_outcome("mlp", C.StructuredConfig(0.5), batch_sizes=(1, 64), repeats=1, eval_examples=N)
    r = o.result
    assert r.params_after < 0.6 * r.params_before and r.macs_after < r.macs_before
    assert set(o.latency) == {"dense", "structured", "zeros"} and set(o.latency["dense"]) == {1, 64}
    assert [s.shape[0] for s in r.after][:-1] == [s.shape[0] // 2 for s in r.before][:-1]
    assert r.after[-1].shape[0] == r.before[-1].shape[0] == 10  # the class outputs stay (inputs shrink)


def test_compare_quant_paths_rows_sizes_and_a_path_without_a_kernel() -> None:
    q = C.compare_quant_paths(["ao_dynamic_int8", "fake_int4", "torchao_int4_weight_only"], batch_sizes=(1, 32),
                              repeats=1, eval_examples=N, cache=False)
    assert [r.path for r in q.rows] == ["fp32", "ao_dynamic_int8", "fake_int4", "torchao_int4_weight_only"]
    fp32, int8, int4, none = q.rows
    assert fp32.size_ratio == 1.0 and fp32.speedup == {1: 1.0, 32: 1.0}
    assert int8.available and int8.deprecated and int8.size_ratio > 3.5 and abs(int8.accuracy_drop) < 0.02
    assert int4.size_ratio > 7 and set(int4.speedup) == {1, 32}
    assert not none.available and none.reason and none.disk_bytes is None
    assert set(q.latency()) == {"fp32", "ao_dynamic_int8", "fake_int4"}
    assert q.row("fake_int4") is int4
    assert q.best(8) is int8 and q.best(4) is int4 and q.best(2) is None


@pytest.mark.parametrize("paths,match", [("ao_dynamic_int8", "must be a list"), ([], "empty"),
                                         (["int3"], "is not one of")])
def test_compare_quant_paths_refuses_bad_paths(paths, match) -> None:
    with pytest.raises(ValueError, match=match):
        C.compare_quant_paths(paths, cache=False)


def test_a_stopped_comparison_is_returned_and_not_kept() -> None:
    stop = threading.Event()
    stop.set()
    q = C.compare_quant_paths(["fake_int4"], repeats=1, eval_examples=N, stop_event=stop)
    assert q.status == "stopped" and not q.row("fake_int4").available
    assert not any(k[0] == "quant_paths" and k[2] == ("fake_int4",) for k in C.RESULTS.keys())


def test_share_outcome_uses_at_most_k_values_and_a_smaller_file() -> None:
    o = C.share_outcome(C.KMeansConfig(k=4), eval_examples=N)
    assert len(o.first_codebook) <= 4 and o.first_weight.numel() == 784 * 300
    assert o.shared_disk_bytes < o.dense_disk_bytes / 8  # 2-bit indices + 4 fp32 values per layer
    assert [layer.bits for layer in o.result.layers] == [2, 2, 2]


def test_binary_outcome_is_one_bit_per_weight_and_cached() -> None:
    cfg = C.BinaryConfig(fine_tune_steps=5)
    o = C.binary_outcome(cfg)
    assert o.binary_disk_bytes < o.dense_disk_bytes / 20 and o.status == "finished"
    assert C.binary_outcome(cfg) is o  # the finished run is kept


def test_soft_labels_are_the_softened_softmax() -> None:
    teacher = make_cnn()
    x = torch.rand(1, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    s = C.soft_labels(teacher, x, (1.0, 4.0, 20.0))
    z = teacher(x)[0].detach()
    for t, p in zip(s.temperatures, s.probs):
        torch.testing.assert_close(p, F.softmax(z / t, dim=0))
    assert s.entropy[0] < s.entropy[1] < s.entropy[2] <= torch.log(torch.tensor(10.0)).item() + 1e-6
    fig = P.soft_labels_figure(s, [str(i) for i in range(10)], x[0], "test")
    assert any("Soft labels" in ax.get_title() for ax in fig.get_axes())


@pytest.mark.parametrize("temps,match", [((0.0,), "temperature"), ((float("nan"),), "temperature"),
                                         (tuple(range(1, 10)), "1 to 8"), ("4", "1 to 8")])
def test_soft_labels_refuse_bad_temperatures(temps, match) -> None:
    with pytest.raises(ValueError, match=match):
        C.soft_labels(make_cnn(), torch.rand(1, 1, 8, 8), temps)


def test_peek_result_never_runs_and_finds_a_finished_run() -> None:
    cfg = C.IterativeConfig(target=0.5, rounds=1, steps_per_round=2, final_steps=0, eval_examples=100)
    assert C.peek_result("iterative", cfg) is None
    res = C.run_iterative("mlp", cfg)
    assert C.peek_result("iterative", cfg) is res
    with pytest.raises(ValueError, match="is not"):
        C.peek_result("table")


def test_paper_check_names_are_checked_and_cached_checks_never_train() -> None:
    assert C.CHECK_NAMES == ("pruning", "int8", "distillation") and set(C.CLAIMS) == set(C.CHECK_NAMES)
    with pytest.raises(ValueError, match="is not one of"):
        C.paper_checks(names=("speed",))
    with pytest.raises(ValueError, match="non-empty"):
        C.paper_checks(names=())
    C.clear_results()
    assert C.cached_checks() is None  # nothing has run: no training happens here


def test_the_new_figures_render() -> None:
    fig = P.accuracy_vs_sparsity(None, [(0.0, 0.9), (0.5, 0.88), (0.9, 0.4)])
    assert fig.get_axes()[0].get_title().startswith("One-shot")
    fig = P.codebook_histogram(torch.randn(1000), torch.linspace(-2, 2, 8))
    assert fig.get_axes()[0].get_title() == "Weights and codebook"
    with pytest.raises(ValueError, match="needs a result"):
        P.accuracy_vs_sparsity(None, None)
