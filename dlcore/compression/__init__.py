"""Make it small (notes §9.2): pruning, quantization, weight sharing, binary weights,
distillation, low rank, early exits — and one table that measures them all.

=================  =======================================================  ==========================
family             module                                                   paper
=================  =======================================================  ==========================
unstructured       :mod:`~dlcore.compression.pruning`, ``iterative``,       Han 2015, Molchanov 2017,
pruning            ``sparse`` (honest latency), ``lottery``                 Frankle & Carbin 2019,
                                                                            Zhou 2019
structured         :mod:`~dlcore.compression.structured` (Torch-Pruning)    Li 2017, Fang 2023
quantization       :mod:`~dlcore.compression.quantization` (torch.ao,       Jacob 2018
                   torchao, packed int4)
weight sharing     :mod:`~dlcore.compression.sharing` (k-means)             Han 2016
binary weights     :mod:`~dlcore.compression.binary` (BinaryConnect + STE)  Courbariaux 2015
distillation       :mod:`~dlcore.compression.distillation`                  Hinton 2015
low rank           :mod:`~dlcore.compression.lowrank` (SVD; separable)      Denton 2014, Howard 2017
early exit         :mod:`~dlcore.compression.early_exit`                    Teerapittayanon 2016,
                                                                            Huang 2018
=================  =======================================================  ==========================

Each UI panel has one call that runs a method on the zoo base and measures before/after
(:mod:`~dlcore.compression.panels`). Registries: :data:`METHODS` (family → method names, the dropdowns), :data:`VARIANTS` (the
rows of :func:`compression_table`). Heavy runs (:mod:`~dlcore.compression.experiments`) are
cached in process; sizes are measured by serialising, latencies are medians of thread CPU time
at fixed torch threads (:mod:`~dlcore.compression.measure`). Nothing heavy happens at import:
torchao and Torch-Pruning are imported on first use.

    from dlcore import compression as C
    res = C.run_iterative("mlp", C.IterativeConfig(target=0.92), callback=print)
    table = C.compression_table(attack=my_pgd)       # attack(model, x, y) -> x_adv
    table.to_csv(); [c.passed for c in C.paper_checks()]
"""

from dlcore.compression.binary import SCALINGS, BinaryConfig, BinaryResult, binarize, binarize_weight
from dlcore.compression.checks import (CHECK_NAMES, CLAIMS, INT8_PATHS, PaperCheck, cached_checks, check_distillation,
                                      check_int8, check_pruning, paper_checks)
from dlcore.compression.distillation import (STUDENTS, DistillConfig, DistillResult, SoftLabels, build_student, distill,
                                             distillation_loss, soft_labels, teacher_logits)
from dlcore.compression.early_exit import (EXIT_CRITERIA, EarlyExitModel, ExitPoint, MultiExitCNN, all_exit_logits,
                                           exit_macs, exit_sweep, joint_loss, joint_objective)
from dlcore.compression.experiments import (RESULTS, EarlyExitResult, LowRankResult, clear_results, load_base_name,
                                            peek_result, run_distillation, run_early_exit, run_iterative, run_lottery,
                                            run_low_rank, run_one_shot)
from dlcore.compression.iterative import (SCHEDULES, IterativeConfig, IterativeResult, RoundLog, fine_tune,
                                          iterative_prune, one_shot_curve, sparsity_schedule)
from dlcore.compression.lottery import TICKET_INITS, LotteryConfig, LotteryResult, lottery_ticket, original_init
from dlcore.compression.lowrank import (LowRankPoint, SeparableRow, linear_layers, low_rank_model, rank_sweep,
                                        separable_savings, singular_values, svd_factorize)
from dlcore.compression.measure import (BaseModel, Latency, ModelSize, accuracy, load_base, measure_latency,
                                        model_size, serialized_bytes, sparse_state_dict)
from dlcore.compression.packing import PackedLayer, pack_bits, unpack_bits
from dlcore.compression.panels import (BinaryOutcome, PruneOutcome, QuantComparison, QuantRow, ShareOutcome,
                                       StructuredOutcome, binary_outcome, compare_quant_paths, prune_once, share_outcome,
                                       structured_outcome)
from dlcore.compression.pruning import (CRITERIA, SCOPES, LayerSparsity, PruneConfig, PruneReport, copy_pruned,
                                        finalize, importance_scores, is_pruned, prunable_layers, prune_unstructured,
                                        pruned_state_dict, sparsity_report)
from dlcore.compression.quantization import (QUANT_PATHS, QuantConfig, QuantPathInfo, QuantUnavailable, path_available,
                                             quantize)
from dlcore.compression.sharing import KMEANS_INITS, KMeansConfig, ShareResult, kmeans_1d, share_weights
from dlcore.compression.sparse import SPARSE_RUNS, to_csr, unstructured_latency
from dlcore.compression.structured import (STRUCTURED_IMPORTANCES, StructuredConfig, StructuredResult, count_macs,
                                           prune_structured)
from dlcore.compression.table import (CompressionTable, TableConfig, TableRow, cached_table, compression_table,
                                      write_csv)
from dlcore.compression.variants import DEFAULT_VARIANTS, METHODS, VARIANTS, VariantSpec

__all__ = [
    # registries
    "METHODS", "VARIANTS", "DEFAULT_VARIANTS", "VariantSpec", "CRITERIA", "SCOPES", "SCHEDULES",
    "STRUCTURED_IMPORTANCES", "QUANT_PATHS", "KMEANS_INITS", "SCALINGS", "STUDENTS", "TICKET_INITS",
    "EXIT_CRITERIA", "SPARSE_RUNS", "INT8_PATHS", "CLAIMS", "CHECK_NAMES",
    # measurement
    "BaseModel", "load_base", "load_base_name", "accuracy", "ModelSize", "model_size", "serialized_bytes",
    "sparse_state_dict", "Latency", "measure_latency",
    # pruning
    "PruneConfig", "PruneReport", "LayerSparsity", "prunable_layers", "importance_scores", "prune_unstructured",
    "sparsity_report", "is_pruned", "copy_pruned", "finalize", "pruned_state_dict", "IterativeConfig",
    "IterativeResult", "RoundLog", "sparsity_schedule", "iterative_prune", "fine_tune", "one_shot_curve",
    "to_csr", "unstructured_latency", "LotteryConfig", "LotteryResult", "lottery_ticket", "original_init",
    "StructuredConfig", "StructuredResult", "prune_structured", "count_macs",
    # quantization, sharing, binary
    "QuantConfig", "QuantPathInfo", "QuantUnavailable", "quantize", "path_available", "PackedLayer", "pack_bits",
    "unpack_bits", "KMeansConfig", "ShareResult", "kmeans_1d", "share_weights", "BinaryConfig", "BinaryResult",
    "binarize", "binarize_weight",
    # distillation, low rank, early exit
    "DistillConfig", "DistillResult", "distillation_loss", "build_student", "teacher_logits", "distill",
    "SoftLabels", "soft_labels",
    "svd_factorize", "singular_values", "low_rank_model", "LowRankPoint", "rank_sweep", "linear_layers",
    "SeparableRow", "separable_savings", "MultiExitCNN", "joint_loss", "joint_objective", "exit_macs", "ExitPoint",
    "exit_sweep", "EarlyExitModel", "all_exit_logits",
    # experiments (cached), table, checks
    "RESULTS", "run_iterative", "run_one_shot", "run_lottery", "run_distillation", "run_early_exit",
    "EarlyExitResult", "run_low_rank", "LowRankResult", "clear_results", "TableConfig", "TableRow",
    "CompressionTable", "compression_table", "cached_table", "write_csv", "PaperCheck", "check_pruning", "check_int8",
    "check_distillation", "paper_checks", "cached_checks", "peek_result",
    # one call per UI panel (measured before/after)
    "PruneOutcome", "prune_once", "StructuredOutcome", "structured_outcome", "QuantRow", "QuantComparison",
    "compare_quant_paths", "ShareOutcome", "share_outcome", "BinaryOutcome", "binary_outcome",
]
