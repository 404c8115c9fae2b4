"""Shared wiring of the attack tab (not a tab): the page's labels, parameter checks, loading a zoo
model with its picture, streaming a library loop, and formatting.

:func:`stream` runs a :mod:`dlcore.attacks` / :mod:`dlcore.defenses` call that reports through
``callback(step, metrics)`` in a worker thread and yields the latest progress about twice a
second, so a generator handler can show it in its status line; the last item carries the result.
Torch-free at import.
"""

from __future__ import annotations

import threading
import time
import types
import uuid
from typing import Any, Callable, Iterator

import gradio as gr

from apps.common import guard, md_escape
from apps.imaging import INVERT_CHOICES, picked_image
from apps.streaming import progress_stream
from dlcore.textinput import parse_choice, parse_int, parse_number

__all__ = ["L", "EVERY_S", "stream", "load", "model_name", "positive", "pct", "conversion", "classes_of",
           "UNTARGETED", "check_picker", "natural_and_robust", "quick", "clear_loss_on_failure"]

#: The labels on the page, also used to name a bad value (one spelling for both; unique on the tab).
L = {"model": "model", "attack": "attack", "eps": "ε (budget: L∞, or L2 for PGD-L2)",
     "alpha": "step size α (lr for the notes' loop)", "steps": "steps T", "target": "target class",
     "random_start": "random start (PGD)", "update": "notes' update", "push_away": "keep −e(y, ŷ) when targeted",
     "bb_method": "gradient estimate", "bb_eps": "ε (black-box, L∞)", "bb_alpha": "step size α (black-box)",
     "bb_steps": "most steps (black-box)", "bb_queries": "query budget per image",
     "arch": "substitute network", "rounds": "substitute rounds ρ", "sub_epochs": "epochs per round",
     "lam": "Jacobian step λ", "n_seed": "seed images (the attacker's own)", "tr_attack": "attack on the substitute",
     "tr_eps": "ε (transfer)", "n_attack": "images attacked", "n_compare": "also attack by queries (first k images)",
     "defenses": "shields", "d_model": "model behind the shields", "d_eps": "ε (defences)",
     "d_steps": "PGD steps (defences)", "eot": "EOT samples", "d_n": "test images (defences)",
     "cost_n": "test images (cost)", "preview": "preview test image #",
     "r_rounds": "rounds (attack → add → retrain)", "r_attack": "attack that builds D_adv", "r_eps": "ε (retraining)",
     "r_steps": "PGD steps (retraining)", "r_epochs": "epochs per round (retraining)", "r_train": "training images",
     "r_test": "test images (retraining)",
     "c_models": "models", "c_shield": "passive shield for the curves", "c_attacks": "attacks (curves)",
     "c_n": "test images (curves)", "c_steps": "PGD steps (curves)", "c_eps": "budgets ε (comma-separated)",
     "p_n": "test images (paper check)", "p_steps": "PGD steps (paper check)"}
#: Seconds between two progress frames.
EVERY_S = 0.5
#: The target dropdown's value for an untargeted attack.
UNTARGETED = -1


def stream(work: Callable[[Callable[[int, dict[str, Any]], None]], Any], stop: threading.Event,
           every: float = EVERY_S) -> Iterator[tuple[dict[str, Any], Any, bool]]:
    """Run ``work(callback)`` in a worker thread; yield ``(latest metrics, None, False)`` every
    ``every`` seconds while it runs and ``(latest metrics, result, True)`` at the end. An
    exception in ``work`` is raised here (where the handler's error policy catches it); if the
    consumer goes away (the page closed), ``stop`` is set so the library ends at its next step."""
    t0 = time.perf_counter()
    inner = progress_stream(work, stop, every, accumulate=True, name="attacks-run")
    try:
        for snap, result, done in inner:
            yield {**snap, "seconds": time.perf_counter() - t0}, result, done
    finally:
        inner.close()  # a closed consumer closes the worker's stream now (it sets ``stop``)


def model_name(value: Any, label: str = L["model"]) -> str:
    """A zoo classifier name from the allow-list (:func:`dlcore.zoo.classifier_names`)."""
    from dlcore import zoo

    return parse_choice(value, label, zoo.classifier_names(available_only=False))


def check_picker(source: Any, index: Any, upload: Any, invert: Any) -> None:
    """Check the picker's values that a test image would ignore (so junk is named, not skipped)."""
    parse_choice("auto" if invert is None else invert, "negate", INVERT_CHOICES)
    if upload is not None and not isinstance(upload, (str, bytes)):
        raise ValueError("the picture must be an uploaded image file (a PNG, JPEG, GIF, BMP or WebP)")
    if isinstance(upload, str) and len(upload) > 4096:
        raise ValueError(f"the picture's file name has {len(upload):,} characters; upload the file itself")
    if source == "test image":
        parse_int(index, "test image #", lo=0, hi=9999)


def load(model: Any, source: Any, index: Any, upload: Any, invert: Any) -> tuple[Any, Any, tuple[str, ...]]:
    """(network, :class:`apps.imaging.PickedImage`, class names), every value checked."""
    from dlcore import zoo

    check_picker(source, index, upload, invert)
    picked = picked_image(model, source, index, upload, invert)
    return zoo.get(model), picked, classes_of(model)


def classes_of(model: str) -> tuple[str, ...]:
    """The class names of zoo model ``model``'s data."""
    from dlcore import zoo

    split = zoo.load_data(model)
    return tuple(split.classes) if split.classes else tuple(str(i) for i in range(10))


def natural_and_robust() -> tuple[str, str]:
    """The zoo's natural CNN and its adversarially trained twin on this machine's data."""
    from dlcore import zoo
    from dlcore.zoo.recipes_robust import ROBUST_TWINS

    names = zoo.classifier_names()
    natural = next(n for n in ROBUST_TWINS if n in names)
    return natural, ROBUST_TWINS[natural]


def positive(value: Any, name: str, hi: float) -> float:
    """A number in ``(0, hi]``."""
    v = parse_number(value, name, hi=hi)
    if v <= 0:
        raise ValueError(f"{name} = {v:g} must be above 0")
    return v


def pct(v: float) -> str:
    """``0.873`` -> ``"87.3 %"`` (``"n/a"`` for NaN)."""
    return "n/a" if v != v else f"{100 * v:.1f} %"


def conversion(picked: Any) -> Any:
    """The upload's conversion figure (shown), or hidden for a test image."""
    if picked.converted is None:
        return gr.update(value=None, visible=False)
    from dlcore.plotting.images import conversion_steps

    return gr.update(value=conversion_steps(picked.converted), visible=True)


def clear_loss_on_failure(dep: Any, loss: Any) -> Any:
    """After a failed attack, empty the native loss plot (``on`` leaves plots of this kind alone). It gets an
    empty table, not None: None unmounts the chart while its first draw may still be loading, and the
    browser then logs "Cannot read properties of null (reading 'offsetWidth')"."""
    def empty() -> Any:
        import pandas as pd

        return pd.DataFrame({"step": pd.Series(dtype=int), "loss": pd.Series(dtype=float)})
    dep.failure(empty, None, loss, queue=False, show_progress="hidden", api_visibility="private")
    return dep


def caption(picked: Any) -> str:
    return md_escape(picked.caption)


def quick(fn: Any, args: list[Any], note: str = "A quick preview on a few images: press the button for the full run."
          ) -> Callable[[], Any]:
    """A first-open preview of a streaming handler ``fn`` (guarded, with a ``request`` keyword): its
    last frame, run under a stop key of its own (so two sessions opening the tab never stop each
    other's preview), with ``note`` after the status."""
    @guard
    def preview() -> Any:
        out: Any = None
        for out in fn.__wrapped__(*args, request=types.SimpleNamespace(session_hash=uuid.uuid4().hex)):  # noqa: B007
            pass
        status, *rest = out
        return (f"{status}\n\n*{note}*", *rest)
    preview.__name__ = f"{getattr(fn, '__name__', 'handler')}_preview"
    return preview
