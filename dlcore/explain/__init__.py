"""Explainable AI (seed 000 §9.4): which part of the input mattered, and what the model knows.

Local methods (one image; :data:`METHODS` is the registry a dropdown reads)::

    from dlcore import zoo
    from dlcore.explain import explain, explain_all
    name, model, split = zoo.image_classifier("cnn")
    a = explain(model, split.x_test[0], "smoothgrad", {"sigma_pct": 15, "n_samples": 50})
    e = explain_all(model, split.x_test[0])          # every method, one colour scale

Built on Captum (Saliency, InputXGradient, GuidedBackprop, NoiseTunnel's SmoothGrad /
SmoothGrad² / VarGrad, IntegratedGradients, Occlusion, LayerGradCam, Lime) and checked against
it. Around them: SmoothGrad's convergence over n and its σ sweep
(:mod:`~dlcore.explain.smoothgrad`), faithfulness by deletion/insertion
(:mod:`~dlcore.explain.faithfulness`), Adebayo et al.'s model-randomisation sanity check
(:mod:`~dlcore.explain.sanity`), maps before and after an attack (:mod:`~dlcore.explain.attack`),
and the global view: activation maximisation with and without a prior
(:mod:`~dlcore.explain.maximize`), PCA / t-SNE of the features (:mod:`~dlcore.explain.embedding`).
Models are never modified: hooks and randomisation happen on private copies, and the batched
hook-free methods run on a cached Conv + BatchNorm-fused twin (:mod:`~dlcore.explain.fast`).
Figures: :mod:`dlcore.plotting.explain`. The paper checks a UI shows beside the results
(measured value, the paper's, pass/fail): :mod:`~dlcore.explain.checks`.

The names below are loaded on first access (PEP 562), so ``import dlcore.explain.names`` (the
torch-free registries a UI builds its controls from) does not import torch.
"""

from __future__ import annotations

from dlcore.lazy import lazy_exports

#: public name -> submodule that defines it
_EXPORTS: dict[str, str] = {
    **{n: "methods" for n in ("METHODS", "METHOD_NAMES", "MethodSpec", "method_spec", "method_options",
                              "available_methods", "Explanation", "explain", "explain_all", "attribution_map")},
    **{n: "base" for n in ("Attribution", "OptionSpec", "options_of")},
    **{n: "metrics" for n in ("normalize_maps", "spearman", "ssim", "topk_overlap")},
    **{n: "gradients" for n in ("GradientConfig",)},
    **{n: "smoothgrad" for n in ("SmoothGradConfig", "SmoothGradConvergence", "smoothgrad_convergence", "SigmaSweep",
                                 "smoothgrad_sigma_sweep")},
    **{n: "integrated" for n in ("IGConfig", "make_baseline")},
    **{n: "occlusion" for n in ("OcclusionConfig",)},
    **{n: "gradcam" for n in ("GradCamConfig", "conv_layers")},
    **{n: "lime" for n in ("LimeConfig", "superpixels")},
    **{n: "faithfulness" for n in ("FaithfulnessConfig", "FaithfulnessResult", "deletion_insertion", "random_map",
                                   "AverageFaithfulness", "average_faithfulness")},
    **{n: "sanity" for n in ("SanityConfig", "SanityResult", "sanity_check", "randomizable_layers")},
    **{n: "attack" for n in ("AttackExplanation", "explain_attack")},
    **{n: "maximize" for n in ("ActMaxConfig", "ActMaxResult", "activation_maximization", "compare_priors",
                               "without_prior", "unit_layers")},
    **{n: "embedding" for n in ("EmbeddingConfig", "EmbeddingResult", "embed", "features", "test_set_embedding",
                                "nearest_point")},
    **{n: "inputs" for n in ("test_image", "image_from_upload", "input_side", "warmup")},
    **{n: "checks" for n in ("Check", "local_checks", "smoothgrad_checks", "faithfulness_checks", "sanity_checks",
                             "prior_checks", "attack_checks")},
    # the torch-free registries
    **{n: "names" for n in ("METHOD_DISPLAY", "SANITY_METHODS", "SANITY_MODES", "BASELINES", "OCCLUSION_BASELINES",
                            "SEGMENTATIONS", "NOISE_KINDS", "NORM_MODES", "UNITS", "EMBEDDING_METHODS",
                            "FEATURE_LAYERS", "ATTACK_TARGETS", "DEFAULT_NS", "DEFAULT_SIGMAS_PCT")},
}

__all__ = list(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
