"""Defences against adversarial examples (seed 000 §9.1.2), and the attacks that test them honestly.

* passive (:mod:`~dlcore.defenses.passive`): a shield in front of an unchanged model —
  Gaussian/median blur, JPEG, bit-depth reduction, random resize/pad, random noise —
  ``Defended(model, transform)``; :func:`defense_cost` = the clean accuracy it costs;
* adaptive attacks (:mod:`~dlcore.defenses.adaptive`): BPDA and EOT (Athalye et al. 2018),
  which break the passive shields;
* active (:mod:`~dlcore.defenses.training`): PGD adversarial training as a Trainer batch hook
  (Madry et al. 2018; the zoo's ``fmnist_cnn_adv``) and the notes' attack → augment → retrain loop.
"""

from dlcore.defenses.adaptive import (ADAPTIVE_MODES, BPDA, EOT, AdaptiveMode, DefenseRow, adaptive_attack,
                                     adaptive_model, defense_report)
from dlcore.defenses.passive import (DEFENSES, JPEG, BitDepth, Defended, DefenseCost, DefenseSpec, GaussianBlur,
                                     MedianBlur, RandomNoise, RandomResizePad, defend, defense_cost, make_defense,
                                     seed_shield)
from dlcore.defenses.training import (AdversarialTrainingConfig, RetrainConfig, RetrainResult, RetrainRound,
                                      adversarial_retraining, pgd_batch_hook)

__all__ = [
    "DEFENSES", "DefenseSpec", "make_defense", "defend", "Defended", "DefenseCost", "defense_cost", "seed_shield",
    "GaussianBlur", "MedianBlur", "JPEG", "BitDepth", "RandomResizePad", "RandomNoise",
    "ADAPTIVE_MODES", "AdaptiveMode", "BPDA", "EOT", "adaptive_model", "adaptive_attack", "DefenseRow",
    "defense_report",
    "AdversarialTrainingConfig", "pgd_batch_hook", "RetrainConfig", "RetrainRound", "RetrainResult",
    "adversarial_retraining",
]
