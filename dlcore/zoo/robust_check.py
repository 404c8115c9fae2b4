"""The paper check of the attack tab: does PGD adversarial training work here as Madry et al. 2018 report?

It measures the zoo's own models, so it lives in the zoo (the attack library never imports the zoo).

Madry, Makelov, Schmidt, Tsipras & Vladu 2018 (https://arxiv.org/abs/1706.06083), MNIST at
ε = 0.3: the adversarially trained network keeps 98.8 % clean accuracy, 93.2 % under PGD-40
and 89.3 % under PGD-100, while a naturally trained one falls to a few percent under PGD.

This lab's version (CPU-sized, see :mod:`dlcore.zoo.recipes_robust`) measures, on a fixed test
subset, the zoo's natural CNN and its adversarially trained twin under the same PGD:

1. the natural CNN's PGD accuracy collapses: **below 10 %**;
2. the adversarially trained CNN **keeps most of its accuracy**: PGD accuracy ≥ half its clean
   accuracy (Madry's keeps 93.2 / 98.8 = 94 %);
3. and it is far more robust than the natural one: PGD accuracy ≥ 5× the natural CNN's and at
   least 40 points higher.

On Fashion-MNIST at ε = 0.1 (``fmnist_cnn`` vs ``fmnist_cnn_adv``); where Fashion-MNIST is absent,
on the 8×8 digits at ε = 0.2 (``digits_cnn`` vs ``digits_cnn_adv``).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from dlcore.attacks.base import Callback, check_number

__all__ = ["PAPER", "CheckRow", "PaperCheck", "madry_check"]

#: Madry et al. 2018, MNIST, ε = 0.3 (Table 1 / section 5).
PAPER: dict[str, str] = {
    "robust_clean": "98.8 %", "robust_pgd40": "93.2 %", "robust_pgd100": "89.3 %",
    "natural_pgd": "a few %", "eps": "0.3 (MNIST)",
}


@dataclass
class CheckRow:
    """One line of the check: what was measured, the paper's figure beside it, the rule, pass/fail."""

    label: str
    measured: float
    paper: str
    rule: str
    passed: bool | None  # None = informative only


@dataclass
class PaperCheck:
    """The whole check, ready for a table (``rows``) and a verdict (``passed``)."""

    rows: list[CheckRow]
    passed: bool
    natural: str
    robust: str
    data: str
    eps: float
    steps: int
    n: int
    seconds: float
    notes: list[str] = field(default_factory=list)


def madry_check(n: int = 1000, steps: int = 20, alpha: float = 0.01, eps: float | None = None, *,
                callback: Callback | None = None, stop_event: threading.Event | None = None) -> PaperCheck:
    """Measure the natural and the adversarially trained zoo CNN under PGD and judge the three rules.

    Args:
        n: test images (the first n of the test split), 50..10,000. Default 1000.
        steps: PGD steps, 1..200. Default 20. alpha: PGD step. Default 0.01.
        eps: budget; None = the adversarial model's training budget (0.1 Fashion-MNIST, 0.2 digits).
        callback: ``callback(step, metrics)`` during the attacks (progress over both models).
        stop_event: stops the attacks; the check then reports ``passed=False`` with a note.
    """
    from dlcore import zoo
    from dlcore.attacks import PGD
    from dlcore.train.metrics import evaluate_accuracy
    from dlcore.zoo.recipes_robust import ROBUST_TWINS, robust_classifier

    n = int(check_number("number of test images", n, 50, 10_000, integer=True))
    steps = int(check_number("steps", steps, 1, 200, integer=True))
    alpha = check_number("step size", alpha, 0.0, 1.0, open_lo=True)
    t0 = time.perf_counter()
    robust_name, robust, split = robust_classifier()
    natural_name = next(k for k, v in ROBUST_TWINS.items() if v == robust_name)
    natural = zoo.get(natural_name)
    if eps is None:
        eps = float(zoo.RECIPES[robust_name].options["eval_eps"])
    eps = check_number("epsilon", eps, 0.0, 1.0, open_lo=True)
    x, y = split.x_test[:n], split.y_test[:n]
    figures: dict[str, tuple[float, float]] = {}
    stopped = False
    for k, (name, model) in enumerate(((natural_name, natural), (robust_name, robust))):
        def progress(step: int, m: dict, k: int = k) -> object:
            return None if callback is None else callback(step, {**m, "model": name, "progress": (k + m["progress"]) / 2})

        res = PGD(model, eps=eps, alpha=alpha, steps=steps, random_start=True, seed=0, batch_size=500,
                  callback=progress, stop_event=stop_event)(x, y)
        stopped = stopped or res.stopped
        figures[name] = (evaluate_accuracy(model, x, y), res.robust_accuracy)
    nat_clean, nat_pgd = figures[natural_name]
    rob_clean, rob_pgd = figures[robust_name]
    tag = f"PGD-{steps}, ε = {eps:g}"
    rows = [
        CheckRow(f"natural CNN, clean ({natural_name})", nat_clean, "—", "", None),
        CheckRow(f"natural CNN, {tag}", nat_pgd, PAPER["natural_pgd"], "< 10 %", nat_pgd < 0.10),
        CheckRow(f"adversarially trained, clean ({robust_name})", rob_clean, PAPER["robust_clean"], "", None),
        CheckRow(f"adversarially trained, {tag}", rob_pgd, f"{PAPER['robust_pgd40']} (PGD-40), "
                 f"{PAPER['robust_pgd100']} (PGD-100)", "≥ ½ of its clean accuracy", rob_pgd >= 0.5 * rob_clean),
        CheckRow("robust minus natural under PGD", rob_pgd - nat_pgd, "≈ 90 points", "≥ 40 points and ≥ 5×",
                 rob_pgd - nat_pgd >= 0.40 and rob_pgd >= 5 * nat_pgd),
    ]
    notes = [f"{split.name} ({split.source}), first {len(x)} test images; Madry et al. use MNIST at ε = 0.3, "
             "a wider network and ~100k GPU training steps"]
    if stopped:
        notes.append("stopped before the end: the figures are partial and the check is not passed")
    passed = not stopped and all(r.passed for r in rows if r.passed is not None)
    return PaperCheck(rows, passed, natural_name, robust_name, split.name, eps, steps, len(x),
                      time.perf_counter() - t0, notes)
