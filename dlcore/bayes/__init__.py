"""Bayesian neural networks (seed 003 §dl_6): variational inference and MC Dropout on the notes' toy.

Every run reproduces the notes' scripts bit for bit at their settings, on its own seeded generator::

    from dlcore.bayes import VIConfig, train_variational, summarize
    *frames, run = train_variational(VIConfig())      # 1-20-20-1, λ = 1e-3, Adam 0.01, 2000 epochs
    s = summarize(run)                                # mean ± 2 std on [-5, 5], coverage, widths

* :mod:`~dlcore.bayes.models`: the data, BayesianLinear (w = μ + σ ε), the dropout net;
* :mod:`~dlcore.bayes.training`: the two trainers (streaming, stoppable) and the predictive sampler;
* :mod:`~dlcore.bayes.uncertainty`: coverage, the total (epistemic + noise) std, one weight written out;
* :mod:`~dlcore.bayes.views`: settings from raw widget values, comparison rows.

Figures: :mod:`dlcore.plotting.bayes`. Names load on first access (PEP 562); ``dlcore.bayes.names``
is torch-free.
"""

from __future__ import annotations

from dlcore.lazy import lazy_exports

#: public name -> submodule that defines it
_EXPORTS: dict[str, str] = {
    **{n: "names" for n in ("METHODS", "METHOD_LABELS", "LAYERS")},
    **{n: "models" for n in ("sine_data", "kl_to_standard_normal", "BayesianLinear", "BayesianMLP", "DropoutMLP")},
    **{n: "training" for n in ("VIConfig", "DropoutConfig", "Frame", "Run", "Predictive", "train_variational",
                               "train_mc_dropout", "predictive", "check_config")},
    **{n: "uncertainty" for n in ("coverage", "total_std", "Summary", "summarize", "WeightView", "weight_view")},
    **{n: "views" for n in ("vi_settings", "dropout_settings", "weight_settings", "compare_rows", "weight_latex")},
}

__all__ = list(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
