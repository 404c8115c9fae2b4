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
Figures: :mod:`dlcore.plotting.explain`.
"""

from dlcore.explain.attack import ATTACK_TARGETS, AttackExplanation, explain_attack
from dlcore.explain.base import Attribution, OptionSpec, options_of
from dlcore.explain.embedding import (
    EMBEDDING_METHODS, FEATURE_LAYERS, EmbeddingConfig, EmbeddingResult, embed, features, nearest_point,
    test_set_embedding,
)
from dlcore.explain.faithfulness import (
    AverageFaithfulness, FaithfulnessConfig, FaithfulnessResult, average_faithfulness, deletion_insertion, random_map,
)
from dlcore.explain.gradcam import GradCamConfig, conv_layers
from dlcore.explain.gradients import GradientConfig
from dlcore.explain.inputs import image_from_upload, input_side, test_image, warmup
from dlcore.explain.integrated import BASELINES, IGConfig, make_baseline
from dlcore.explain.lime import SEGMENTATIONS, LimeConfig, superpixels
from dlcore.explain.maximize import UNITS, ActMaxConfig, ActMaxResult, activation_maximization, compare_priors, \
    unit_layers, without_prior
from dlcore.explain.methods import (
    METHOD_NAMES, METHODS, Explanation, MethodSpec, attribution_map, available_methods, explain, explain_all,
    method_options, method_spec,
)
from dlcore.explain.metrics import NORM_MODES, normalize_maps, spearman, ssim, topk_overlap
from dlcore.explain.occlusion import OCCLUSION_BASELINES, OcclusionConfig
from dlcore.explain.sanity import SANITY_METHODS, SanityConfig, SanityResult, randomizable_layers, sanity_check
from dlcore.explain.smoothgrad import (
    DEFAULT_NS, DEFAULT_SIGMAS_PCT, NOISE_KINDS, SigmaSweep, SmoothGradConfig, SmoothGradConvergence,
    smoothgrad_convergence, smoothgrad_sigma_sweep,
)

__all__ = [
    # registry and local methods
    "METHODS", "METHOD_NAMES", "MethodSpec", "method_spec", "method_options", "available_methods", "options_of",
    "OptionSpec", "Attribution", "Explanation", "explain", "explain_all", "attribution_map", "normalize_maps",
    "NORM_MODES", "GradientConfig", "SmoothGradConfig", "IGConfig", "OcclusionConfig", "GradCamConfig", "LimeConfig",
    "BASELINES", "OCCLUSION_BASELINES", "SEGMENTATIONS", "NOISE_KINDS", "make_baseline", "superpixels",
    "conv_layers",
    # SmoothGrad convergence
    "SmoothGradConvergence", "smoothgrad_convergence", "SigmaSweep", "smoothgrad_sigma_sweep", "DEFAULT_NS",
    "DEFAULT_SIGMAS_PCT",
    # faithfulness and sanity
    "FaithfulnessConfig", "FaithfulnessResult", "deletion_insertion", "random_map", "AverageFaithfulness",
    "average_faithfulness", "SanityConfig", "SanityResult", "sanity_check", "randomizable_layers",
    "SANITY_METHODS", "spearman", "ssim", "topk_overlap",
    # attack, then explain
    "AttackExplanation", "explain_attack", "ATTACK_TARGETS",
    # global
    "ActMaxConfig", "ActMaxResult", "activation_maximization", "compare_priors", "without_prior", "unit_layers",
    "UNITS", "EmbeddingConfig", "EmbeddingResult", "embed", "features", "test_set_embedding", "nearest_point",
    "EMBEDDING_METHODS", "FEATURE_LAYERS",
    # inputs
    "test_image", "image_from_upload", "input_side", "warmup",
]
