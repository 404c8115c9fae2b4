"""Sequence models opened up: RNN, LSTM and GRU cells from the notes' equations, checked against torch.

Seed 003 §dl_9 (RNN), §dl_3 (LSTM), §dl_4 (GRU), §dl_5 (seq2seq); seed 000 §8.3 (RNN/GRU/LSTM, deep
and bidirectional RNNs, encoder-decoder, seq2seq, teacher forcing) and §8.4.8 (exposure bias).

* :mod:`~dlcore.sequence.cells`: hand-written cells and :func:`unroll` of a whole ``nn.LSTM`` (layers,
  directions), equal to torch to 1e-6; the notes' GRU (reset before) next to torch's (reset after).
* :mod:`~dlcore.sequence.predictors`: the seeds' sine / noisy-sine predictors, RNN vs LSTM vs GRU,
  trained side by side by the one Trainer; the seeds' exact runs reproduced.
* :mod:`~dlcore.sequence.inside`: every gate over one sequence, one step written out with numbers.
* :mod:`~dlcore.sequence.gradients`: ``‖∂h_T/∂h_t‖`` from hand-derived Jacobians vs autograd;
  gradient clipping on an exploding RNN.
* :mod:`~dlcore.sequence.charlm`: a char-level LM on Shakespeare, sampled with a temperature.
* :mod:`~dlcore.sequence.seq2seq`: reverse/sort digit strings, with/without attention, teacher
  forcing vs free running (exposure bias).

Names load on first access (PEP 562): ``import dlcore.sequence.names`` (the registries and configs
the UI reads) imports no torch.
"""

from __future__ import annotations

import importlib
from typing import Any

#: public name -> submodule that defines it
_EXPORTS: dict[str, str] = {
    **{n: "names" for n in ("CELLS", "GATES", "GRU_RESETS", "SINE_DATA", "SINE_PRESETS", "SEED_FIGURES", "NORMS",
                            "MODEL_SOURCES", "SEQ2SEQ_TASKS", "ATTENTIONS", "SineConfig", "ClipConfig", "CharConfig",
                            "Seq2SeqConfig")},
    **{n: "cells" for n in ("CellWeights", "rnn_cell", "lstm_cell", "gru_cell", "cell_step", "unroll", "Unrolled",
                            "torch_cell")},
    **{n: "data" for n in ("SineTask", "sine_windows", "noisy_sines", "sine_task", "SeedShuffleLoader")},
    **{n: "models" for n in ("SequenceRegressor", "CharModel", "seeded")},
    **{n: "predictors" for n in ("SineRace", "SineRow", "race_sines", "seed_test_error", "rolling_forecast")},
    **{n: "inside" for n in ("InsideStep", "inside_view", "sine_model")},
    **{n: "gradients" for n in ("JacobianNorms", "hidden_jacobians", "step_jacobian", "ClipRun", "clipping_runs")},
    **{n: "charlm" for n in ("Vocab", "CharData", "char_data", "sample_text", "next_char_table", "perplexity",
                             "CharProgress", "train_char")},
    **{n: "seq2seq" for n in ("Seq2Seq", "digit_strings", "Seq2SeqEval", "evaluate_seq2seq", "Seq2SeqProgress",
                              "train_seq2seq")},
}

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f"dlcore.sequence.{_EXPORTS[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
