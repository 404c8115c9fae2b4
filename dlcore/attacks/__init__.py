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

The names below are loaded on first access (PEP 562), so ``import dlcore.attacks.names`` (the
torch-free names the UI's dropdowns read) does not import torch.
"""

from __future__ import annotations

from dlcore.lazy import lazy_exports

#: public name -> submodule that defines it
_EXPORTS: dict[str, str] = {
    **{n: "base" for n in ("MAX_SAMPLES", "MAX_STEPS", "Attack", "AttackConfig", "AttackResult", "Callback", "Norm",
                           "StepOut", "check_choice", "check_inputs", "check_number", "frozen", "lp_norms",
                           "model_device", "project")},
    **{n: "names" for n in ("NORMS", "UPDATES", "CURVE_ATTACKS", "DEFAULT_EPS", "ATTACK_NAMES", "ATTACK_DISPLAY",
                            "ATTACK_FAMILY", "WHITE_BOX", "BLACK_BOX", "LAB_DEFAULTS")},
    **{n: "blackbox" for n in ("MAX_QUERIES", "BlackBoxConfig", "FiniteDifferenceAttack", "FiniteDifferenceConfig",
                               "GradientEstimationAttack", "NESAttack", "NESConfig", "SPSAAttack", "SPSAConfig")},
    **{n: "estimators" for n in ("ESTIMATORS", "finite_difference", "nes", "spsa")},
    **{n: "fgsm" for n in ("FGSM", "FGSMConfig")},
    **{n: "notes" for n in ("NotesAttack", "NotesConfig")},
    **{n: "pgd" for n in ("BIM", "PGD", "PGDL2", "BIMConfig", "PGDConfig", "PGDL2Config", "kurakin_steps")},
    **{n: "registry" for n in ("ATTACKS", "AttackSpec", "attack_names", "attack_prediction", "make_attack",
                               "robust_accuracy")},
    **{n: "curves" for n in ("AccuracyCurves", "accuracy_vs_eps")},
    **{n: "surrogate" for n in ("SUBSTITUTE_ARCHS", "SubstituteConfig", "SubstituteResult", "TransferResult",
                                "train_substitute", "transfer_attack")},
}

__all__ = list(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
