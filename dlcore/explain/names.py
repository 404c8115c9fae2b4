"""The explain family's registries as plain names: importing this module does not import torch.

A UI builds its dropdowns and checkboxes from these tuples when the page is built (before torch
is loaded); the library modules import the same tuples, so the two can never disagree:

* :data:`METHOD_DISPLAY` — every local method (registry key -> label), in the order of
  :data:`dlcore.explain.METHODS`, which takes its display names from here;
* option choices: :data:`BASELINES` (Integrated Gradients), :data:`OCCLUSION_BASELINES`,
  :data:`SEGMENTATIONS` (LIME), :data:`NOISE_KINDS` (SmoothGrad family), :data:`NORM_MODES`,
  :data:`SANITY_MODES`, :data:`UNITS` (activation maximisation), :data:`EMBEDDING_METHODS`,
  :data:`FEATURE_LAYERS`, :data:`ATTACK_TARGETS`;
* default sweeps: :data:`DEFAULT_NS` (SmoothGrad's n), :data:`DEFAULT_SIGMAS_PCT` (its σ).
"""

from __future__ import annotations

__all__ = ["METHOD_DISPLAY", "METHOD_NAMES", "SANITY_METHODS", "BASELINES", "OCCLUSION_BASELINES", "SEGMENTATIONS",
           "NOISE_KINDS", "NORM_MODES", "SANITY_MODES", "UNITS", "EMBEDDING_METHODS", "FEATURE_LAYERS",
           "ATTACK_TARGETS", "DEFAULT_NS", "DEFAULT_SIGMAS_PCT"]

#: registry key -> the label a UI shows (registry order).
METHOD_DISPLAY: dict[str, str] = {
    "gradient": "Vanilla gradient",
    "gradient_x_input": "Gradient × input",
    "guided_backprop": "Guided backprop",
    "smoothgrad": "SmoothGrad",
    "smoothgrad_sq": "SmoothGrad²",
    "vargrad": "VarGrad",
    "integrated_gradients": "Integrated Gradients",
    "occlusion": "Occlusion",
    "gradcam": "Grad-CAM",
    "lime": "LIME",
}
METHOD_NAMES: tuple[str, ...] = tuple(METHOD_DISPLAY)
#: Methods the sanity check runs by default (occlusion and LIME can be added; they take longer).
SANITY_METHODS: tuple[str, ...] = ("gradient", "gradient_x_input", "guided_backprop", "smoothgrad",
                                   "integrated_gradients", "gradcam")

BASELINES: tuple[str, ...] = ("black", "blurred", "uniform")
OCCLUSION_BASELINES: tuple[str, ...] = ("black", "gray", "blurred")
SEGMENTATIONS: tuple[str, ...] = ("slic", "grid")
NOISE_KINDS: tuple[str, ...] = ("smoothgrad", "smoothgrad_sq", "vargrad")
NORM_MODES: tuple[str, ...] = ("abs", "signed")
SANITY_MODES: tuple[str, ...] = ("cascading", "independent")
UNITS: tuple[str, ...] = ("class", "channel", "neuron")
EMBEDDING_METHODS: tuple[str, ...] = ("pca", "tsne")
FEATURE_LAYERS: tuple[str, ...] = ("penultimate", "logits", "pixels")
ATTACK_TARGETS: tuple[str, ...] = ("own", "clean")

DEFAULT_NS: tuple[int, ...] = (1, 2, 5, 10, 20, 50, 100)
DEFAULT_SIGMAS_PCT: tuple[float, ...] = (0.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 50.0)
