"""Attention (seed 000 §8.4.1–§8.4.7, seed 003 §dl_10): from kernel regression to the Transformer.

Every equation of the notes, written out and checked against torch on the same numbers::

    from dlcore.attention import nw_data, nadaraya_watson, train_parametric
    d = nw_data()                                            # d2l's 1-D toy (50 pairs)
    r = nadaraya_watson(d.x_test, d.x_train, d.y_train, width=1.0)   # f(x) = Σ softmax(−(x−x_i)²/2) y_i
    run = list(train_parametric(d))[-1]                      # learn w through the one Trainer

    from dlcore.attention import attention_report, calc_config
    rep = attention_report("[[1, 0], [0, 1]]", "[[1, 0], [0, 1], [1, 1]]", "[[1, 2], [3, 4], [5, 6]]",
                           calc_config(mask="causal"))       # every step + F.scaled_dot_product_attention

* :mod:`~dlcore.attention.pooling`: Nadaraya–Watson (§8.4.1) and parametric attention pooling (§8.4.2);
* :mod:`~dlcore.attention.scoring`: dot / scaled dot / additive scoring, masks, the masked softmax (§8.4.3–4);
* :mod:`~dlcore.attention.multihead`: the multi-head split, equal to ``nn.MultiheadAttention`` (§8.4.3);
* :mod:`~dlcore.attention.calculator`: the calculator from typed text, steps in LaTeX, torch checks;
* :mod:`~dlcore.attention.positional`: sinusoidal PE, the shift-is-a-rotation proof, RoPE (§8.4.5);
* :mod:`~dlcore.attention.complexity`: CNN vs RNN vs self-attention, counted and measured (§8.4.5).

Figures: :mod:`dlcore.plotting.attention`. The names below are loaded on first access (PEP 562), so
``import dlcore.attention.names`` (the torch-free registries a UI builds its controls from) does not
import torch.
"""

from __future__ import annotations

from dlcore.lazy import lazy_exports

#: public name -> submodule that defines it
_EXPORTS: dict[str, str] = {
    **{n: "names" for n in ("SCORINGS", "MASKS", "KERNELS", "PROJECTIONS", "PAIRINGS", "COMPLEXITY_TABLE",
                            "CALC_EXAMPLES", "LAYER_KINDS")},
    **{n: "scoring" for n in ("AttentionResult", "AdditiveWeights", "make_mask", "masked_softmax",
                              "dot_product_attention", "additive_attention", "additive_weights", "one_thread")},
    **{n: "multihead" for n in ("MultiHeadWeights", "MultiHeadResult", "projection_weights", "multi_head_attention",
                                "torch_multihead")},
    **{n: "calculator" for n in ("CalcConfig", "calc_config", "Agreement", "AttentionReport", "attention_report",
                                 "random_qkv")},
    **{n: "pooling" for n in ("NWData", "nw_data", "kernel_scores", "PoolingResult", "nadaraya_watson",
                              "ParametricPooling", "ParametricConfig", "ParametricFrame", "ParametricRun",
                              "parametric_objective", "train_parametric")},
    **{n: "positional" for n in ("frequencies", "sinusoidal_encoding", "shift_blocks", "shift_matrix", "ShiftProof",
                                 "shift_proof", "rope", "rope_scores", "RopeScores")},
    **{n: "complexity" for n in ("ComplexitySweep", "measure_complexity", "sweep_steps", "counted_macs",
                                 "path_length", "DEFAULT_LENGTHS")},
    **{n: "views" for n in ("PoolingSettings", "pooling_settings", "training_settings", "PoolingView", "pooling_view",
                            "PositionalView", "positional_view", "complexity_rows", "complexity_settings")},
}

__all__ = list(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
