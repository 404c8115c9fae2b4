"""The attack family's names, torch-free: read by the library (its classes and registries) and by
the UI when it builds its dropdowns (importing this module does not import torch).

* :data:`ATTACK_NAMES` / :data:`ATTACK_DISPLAY` / :data:`ATTACK_FAMILY`: the attacks of
  :data:`dlcore.attacks.ATTACKS`, in the order a learner meets them;
* :data:`NORMS`, :data:`UPDATES`, :data:`CURVE_ATTACKS`, :data:`DEFAULT_EPS`,
  :data:`SUBSTITUTE_ARCH_NAMES`: option lists of the attacks, curves and substitutes;
* :data:`DEFENSE_NAMES` / :data:`DEFENSE_DISPLAY`, :data:`ADAPTIVE_MODES`: the passive defences of
  :data:`dlcore.defenses.DEFENSES` and the adaptive attacks against them;
* :data:`LAB_DEFAULTS`: this lab's settings for the 28×28 Fashion-MNIST models (the configs' own
  defaults are the papers', for MNIST; see each entry's ``paper`` text).
"""

from __future__ import annotations

from typing import Any

__all__ = ["ATTACK_NAMES", "ATTACK_DISPLAY", "ATTACK_FAMILY", "WHITE_BOX", "BLACK_BOX", "NORMS", "UPDATES",
           "CURVE_ATTACKS", "DEFAULT_EPS", "SUBSTITUTE_ARCH_NAMES", "DEFENSE_NAMES", "DEFENSE_DISPLAY",
           "ADAPTIVE_MODES", "LAB_DEFAULTS"]

#: registry name -> what a dropdown shows.
ATTACK_DISPLAY: dict[str, str] = {
    "fgsm": "FGSM (one step, L∞)",
    "bim": "BIM / I-FGSM (iterative, L∞)",
    "pgd": "PGD (L∞, random start)",
    "pgd_l2": "PGD (L2, random start)",
    "notes": "Notes §9.1.1: L(x) = −e(y, ŷ) + e(y, y_target), update then clip",
    "finite_difference": "Finite differences (notes §9.1.1, black-box)",
    "nes": "NES (Ilyas et al. 2018, black-box)",
    "spsa": "SPSA (Uesato et al. 2018, black-box)",
}
ATTACK_NAMES: tuple[str, ...] = tuple(ATTACK_DISPLAY)
#: ``"white-box"`` (needs the model's gradients) or ``"black-box"`` (queries only).
ATTACK_FAMILY: dict[str, str] = {n: "black-box" if n in ("finite_difference", "nes", "spsa") else "white-box"
                                 for n in ATTACK_NAMES}
WHITE_BOX: tuple[str, ...] = tuple(n for n in ATTACK_NAMES if ATTACK_FAMILY[n] == "white-box")
BLACK_BOX: tuple[str, ...] = tuple(n for n in ATTACK_NAMES if ATTACK_FAMILY[n] == "black-box")

NORMS: tuple[str, ...] = ("Linf", "L2")
#: the notes' raw-gradient step, or the sign of it (FGSM/PGD's step).
UPDATES: tuple[str, ...] = ("gradient", "sign")
#: attacks an accuracy-vs-ε curve can use.
CURVE_ATTACKS: tuple[str, ...] = ("fgsm", "pgd")
#: the 8 budgets of the issue's accuracy-vs-ε figure (0 = clean).
DEFAULT_EPS: tuple[float, ...] = (0.0, 0.02, 0.04, 0.06, 0.08, 0.1, 0.15, 0.2)
#: substitute architectures of the transfer attack (``dlcore.models`` names).
SUBSTITUTE_ARCH_NAMES: tuple[str, ...] = ("lenet5", "small_cnn", "lenet_300_100")

#: passive defence name -> what a dropdown shows.
DEFENSE_DISPLAY: dict[str, str] = {
    "gaussian_blur": "Gaussian blur",
    "median_blur": "Median blur",
    "jpeg": "JPEG compression",
    "bit_depth": "Bit-depth reduction",
    "random_resize": "Random resize and pad",
    "random_noise": "Random Gaussian noise",
}
DEFENSE_NAMES: tuple[str, ...] = tuple(DEFENSE_DISPLAY)
#: none = plain attack on the defended model; auto = BPDA for a non-differentiable shield, EOT for
#: a random one (both when both).
ADAPTIVE_MODES: tuple[str, ...] = ("none", "auto", "bpda", "eot", "bpda+eot")

#: This lab's settings for the 28×28 Fashion-MNIST models, per attack: the options a UI starts
#: from, and what the paper used (its values are each config's defaults). Fashion-MNIST's
#: textured classes break at a smaller budget than MNIST's strokes, so the lab uses ε = 0.1
#: (the budget the zoo's adversarially trained CNN was trained for) where the MNIST papers use 0.3.
LAB_DEFAULTS: dict[str, dict[str, Any]] = {
    "fgsm": {"options": {"eps": 0.1},
             "paper": "Goodfellow et al. 2015: ε = 0.25 on MNIST"},
    "bim": {"options": {"eps": 0.1, "alpha": 1 / 255, "steps": 29},
            "paper": "Kurakin et al. 2017: α = 1/255, min(255ε + 4, 1.25·255ε) steps (= 29 at ε = 0.1)"},
    "pgd": {"options": {"eps": 0.1, "alpha": 0.01, "steps": 40, "random_start": True},
            "paper": "Madry et al. 2018: ε = 0.3, α = 0.01, 40 steps (100 to evaluate), random start, MNIST"},
    "pgd_l2": {"options": {"eps": 1.5, "alpha": 0.1, "steps": 40, "random_start": True},
               "paper": "no MNIST L2 recipe in Madry et al.; the usual MNIST L2 budget is ε = 2.0, α = 2.5·ε/steps"},
    "notes": {"options": {"eps": 0.1, "lr": 1.0, "steps": 20, "update": "gradient", "push_away": True},
              "paper": "the notes give no numbers: ε = 0.1, lr = 1 for raw gradients (~0.01 with the sign), T = 20"},
    "finite_difference": {"options": {"eps": 0.1, "alpha": 0.01, "steps": 20, "max_queries": 20_000},
                          "paper": "the notes' estimator: 785 queries per step for a 28×28 image"},
    "nes": {"options": {"eps": 0.1, "alpha": 0.01, "steps": 100, "max_queries": 10_000},
            "paper": "Ilyas et al. 2018: σ = 0.001, 50 queries per estimate, α = 0.01, ε = 0.05 (ImageNet)"},
    "spsa": {"options": {"eps": 0.1, "alpha": 0.01, "steps": 100, "max_queries": 20_000},
             "paper": "Uesato et al. 2018 (CleverHans defaults): δ = 0.01, 128 queries per estimate"},
}
