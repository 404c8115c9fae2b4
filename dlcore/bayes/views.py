"""What the Bayes tab's panels show, from raw widget values (the tab only formats it).

Every ``*_settings`` function takes values as they arrive from a page or an HTTP caller (any type)
and checks each by the name the learner sees, with :mod:`dlcore.textinput`, before anything trains.
"""

from __future__ import annotations

from dlcore.bayes.names import (LAYERS, MAX_DROPOUT, MAX_EPOCHS, MAX_KL_WEIGHT, MAX_LR, MAX_NOISE, MAX_SAMPLES,
                                MAX_SEED)
from dlcore.bayes.training import DropoutConfig, VIConfig
from dlcore.bayes.uncertainty import Summary, WeightView
from dlcore.textinput import parse_bool, parse_choice, parse_int, parse_number

__all__ = ["vi_settings", "dropout_settings", "weight_settings", "compare_rows", "weight_latex"]


def _common(epochs: object, lr: object, samples: object, noise: object, seed: object) -> dict:
    return {"epochs": parse_int(epochs, "epochs", lo=1, hi=MAX_EPOCHS),
            "lr": parse_number(lr, "learning rate", lo=1e-5, hi=MAX_LR),
            "samples": parse_int(samples, "predictive samples M", lo=2, hi=MAX_SAMPLES),
            "noise": parse_number(noise, "noise σ_y", lo=0, hi=MAX_NOISE),
            "seed": parse_int(seed, "seed", lo=0, hi=MAX_SEED)}


def vi_settings(epochs: object = 2000, lr: object = 0.01, kl_weight: object = 1e-3, samples: object = 100,
                noise: object = 0.2, seed: object = 42) -> VIConfig:
    """:class:`VIConfig` from raw values (defaults: the notes')."""
    c = _common(epochs, lr, samples, noise, seed)
    return VIConfig(kl_weight=parse_number(kl_weight, "KL weight λ", lo=0, hi=MAX_KL_WEIGHT), **c)


def dropout_settings(epochs: object = 2000, lr: object = 0.01, p: object = 0.2, samples: object = 100,
                     noise: object = 0.2, seed: object = 42) -> DropoutConfig:
    """:class:`DropoutConfig` from raw values (defaults: the notes')."""
    c = _common(epochs, lr, samples, noise, seed)
    return DropoutConfig(p=parse_number(p, "dropout p", lo=0, hi=MAX_DROPOUT), **c)


def weight_settings(layer: object = "fc1", row: object = 0, col: object = 0, with_noise: object = False,
                    hidden: int = 20) -> tuple[str, int, int, bool]:
    """(layer, row, column, add σ_y) from raw values, the index checked against the layer's shape in the
    1-``hidden``-``hidden``-1 net (fc1 is hidden × 1, fc2 hidden × hidden, fc3 1 × hidden; column −1 = the bias)."""
    name = parse_choice(layer, "layer", LAYERS)
    r, c = parse_int(row, "row"), parse_int(col, "column")
    n_out, n_in = {"fc1": (hidden, 1), "fc2": (hidden, hidden), "fc3": (1, hidden)}[name]
    if not 0 <= r < n_out:
        raise ValueError(f"row = {r} is outside {name}'s {n_out} output units (0 … {n_out - 1})")
    if not -1 <= c < n_in:
        raise ValueError(f"column = {c} is outside {name}'s {n_in} inputs (0 … {n_in - 1}, or −1 for the bias)")
    return name, r, c, parse_bool(with_noise, "add the observation noise σ_y")


def compare_rows(items: list[tuple[str, Summary]]) -> list[list[str]]:
    """Rows ``[method, RMSE vs sin, band width in, band width out, out/in, coverage epistemic, coverage
    total, train s]`` (widths = mean 2·std, epistemic)."""
    rows = []
    for label, s in items:
        rows.append([label, f"{s.rmse:.4f}", f"{s.width_in:.3f}", f"{s.width_out:.3f}",
                     f"{s.width_out / s.width_in:.2f}×" if s.width_in > 0 else "—",
                     f"{100 * s.coverage_epistemic:.0f} %", f"{100 * s.coverage_total:.0f} %", f"{s.seconds:.1f} s"])
    return rows


def _n(v: float) -> str:
    return f"{v:.4f}" if abs(v) >= 1e-3 or v == 0 else f"{v:.3e}"


def weight_latex(v: WeightView) -> list[str]:
    """The weight's three steps as display-LaTeX lines, numbers substituted."""
    idx = ",".join(str(i) for i in v.index)
    name = rf"{'w' if len(v.index) == 2 else 'b'}^{{\mathrm{{{v.layer}}}}}_{{{idx}}}"
    return [rf"$$\sigma = e^{{\frac12 \log\sigma^2}} = e^{{\frac12 \cdot ({_n(v.logvar)})}} = {_n(v.sigma)}$$",
            rf"$${name} = \mu + \sigma\varepsilon = {_n(v.mu)} + {_n(v.sigma)} \times ({_n(v.eps)}) = {_n(v.w)}$$",
            rf"$$\mathrm{{KL}} = \tfrac12(\sigma^2 + \mu^2 - 1 - \log\sigma^2) = \tfrac12({_n(v.sigma ** 2)} + "
            rf"{_n(v.mu ** 2)} - 1 - ({_n(v.logvar)})) = {_n(v.kl)}$$"]
