"""Adversarial attacks (seed 000 §9.1.1): white-box, black-box by queries, black-box by transfer.

    from dlcore.attacks import PGD, robust_accuracy
    result = PGD(model, eps=0.1, alpha=0.01, steps=40, norm="Linf", random_start=True)(x, y)
    result.x_adv, result.linf, result.success, result.loss_per_step, result.topk(3)
    robust_accuracy(model, x, y, PGD(model, eps=0.1, alpha=0.01, steps=20))   # -> float

:data:`ATTACKS` (name -> :class:`AttackSpec`) is the one list of attacks, read by the code,
the tests and a dropdown: display name, family (white-box / black-box), paper and the options
each takes with their defaults. Transfer attacks through a substitute live in
:mod:`dlcore.attacks.surrogate`; accuracy-vs-ε curves in :mod:`dlcore.attacks.curves`; the
Madry et al. paper check (on the zoo's models) in :mod:`dlcore.zoo.robust_check`.
"""

from __future__ import annotations

from dlcore.attacks.base import (MAX_SAMPLES, MAX_STEPS, NORMS, Attack, AttackConfig, AttackResult, Callback, Norm,
                                 StepOut, check_choice, check_inputs, check_number, frozen, lp_norms, model_device,
                                 project)
from dlcore.attacks.blackbox import (MAX_QUERIES, BlackBoxConfig, FiniteDifferenceAttack, FiniteDifferenceConfig,
                                     GradientEstimationAttack, NESAttack, NESConfig, SPSAAttack, SPSAConfig)
from dlcore.attacks.estimators import ESTIMATORS, finite_difference, nes, spsa
from dlcore.attacks.fgsm import FGSM, FGSMConfig
from dlcore.attacks.notes import UPDATES, NotesAttack, NotesConfig
from dlcore.attacks.pgd import BIM, PGD, PGDL2, BIMConfig, PGDConfig, PGDL2Config, kurakin_steps
from dlcore.attacks.registry import (ATTACKS, AttackSpec, attack_names, attack_prediction, make_attack,
                                     robust_accuracy)
from dlcore.attacks.curves import CURVE_ATTACKS, DEFAULT_EPS, AccuracyCurves, accuracy_vs_eps
from dlcore.attacks.surrogate import (SUBSTITUTE_ARCHS, SubstituteConfig, SubstituteResult, TransferResult,
                                      train_substitute, transfer_attack)

__all__ = [
    "ATTACKS", "AttackSpec", "make_attack", "robust_accuracy", "attack_names", "attack_prediction",
    "Attack", "AttackConfig", "AttackResult", "StepOut", "Callback", "Norm", "NORMS", "MAX_SAMPLES", "MAX_STEPS",
    "MAX_QUERIES", "check_number", "check_choice", "check_inputs", "frozen", "lp_norms", "model_device", "project",
    "FGSM", "FGSMConfig", "BIM", "BIMConfig", "PGD", "PGDConfig", "PGDL2", "PGDL2Config", "kurakin_steps",
    "NotesAttack", "NotesConfig", "UPDATES", "GradientEstimationAttack", "BlackBoxConfig",
    "FiniteDifferenceAttack", "FiniteDifferenceConfig", "NESAttack", "NESConfig", "SPSAAttack", "SPSAConfig",
    "ESTIMATORS", "finite_difference", "nes", "spsa",
    "accuracy_vs_eps", "AccuracyCurves", "CURVE_ATTACKS", "DEFAULT_EPS",
    "SubstituteConfig", "SubstituteResult", "TransferResult", "train_substitute", "transfer_attack", "SUBSTITUTE_ARCHS",
]
