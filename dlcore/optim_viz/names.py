"""The option registries of the optimizer lab, torch-free: what the UI's widgets and the code both read.

Importing this module imports neither torch nor matplotlib, so the tab can build its dropdowns
before anything heavy is loaded. :mod:`dlcore.optim_viz.surfaces` checks that its registry has
exactly the keys of :data:`SURFACES` (tested), and the optimizer names are the training
registry's own (:data:`dlcore.train.names.OPTIMIZER_NAMES`), never a copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from dlcore.train.names import OPTIMIZER_NAMES, OPTIMIZER_RULES

__all__ = ["check_whole",
           "SurfaceName", "SURFACE_NAMES", "SurfaceInfo", "SURFACES", "OPTIMIZER_NAMES", "OPTIMIZER_RULES",
           "SGD_FAMILY", "ADAPTIVE", "SEED_SIX", "MAX_STEPS", "MAX_RUNS", "Verdict", "VERDICTS", "NormName",
           "NORMS", "IgnoreName", "IGNORES", "LR_RANGE_LOG10"]

SurfaceName = Literal["saddle", "rosenbrock", "ill_conditioned", "beale", "noisy_quadratic", "tiny_net"]
SURFACE_NAMES: tuple[str, ...] = get_args(SurfaceName)


@dataclass(frozen=True)
class SurfaceInfo:
    """What the UI shows of a surface before torch is imported.

    Attributes:
        label: the dropdown text.
        formula: the loss in LaTeX.
        box: ``(x_min, x_max, y_min, y_max)`` of the contour plot.
        start: a start that shows the surface's lesson.
        log10_lr_sgd, log10_lr_adaptive: learning rates (log₁₀) that suit the surface for the SGD
            family and for the adaptive optimizers.
        minima: known minima (for the plot's stars), as ``(x, y)`` pairs.
        lesson: one line of what to look for.
    """

    label: str
    formula: str
    box: tuple[float, float, float, float]
    start: tuple[float, float]
    log10_lr_sgd: float
    log10_lr_adaptive: float
    minima: tuple[tuple[float, float], ...]
    lesson: str


SURFACES: dict[str, SurfaceInfo] = {
    "saddle": SurfaceInfo(
        "The notes' saddle: L = (1 − w₁w₂)² (§2.2.5)", r"L(w_1, w_2) = (1 - w_1 w_2)^2",
        (-2.0, 2.0, -2.0, 2.0), (1.0, -0.999), -1.3, -1.3, ((1.0, 1.0), (-1.0, -1.0)),
        "The origin is a saddle (λ = −2, +2). Started just off the line w₁ = −w₂, every optimizer first slides "
        "into the saddle, where the gradient vanishes, and lingers; it leaves along (1, 1)/√2 towards a minimum "
        "on the curve w₁w₂ = 1. The table counts the steps each needs."),
    "rosenbrock": SurfaceInfo(
        "Rosenbrock's banana valley", r"L(x, y) = (1 - x)^2 + 100\,(y - x^2)^2",
        (-2.0, 2.0, -1.0, 3.0), (-1.5, 2.5), -3.3, -1.7, ((1.0, 1.0),),
        "A long curved valley: the gradient points across it, not along it. SGD creeps along the floor, "
        "momentum builds up speed along it."),
    "ill_conditioned": SurfaceInfo(
        "An ill-conditioned quadratic (condition number 25)",
        r"L(\theta) = \tfrac12\,\theta^\top A\,\theta,\quad A = R_{30^\circ}\,\mathrm{diag}(1, 25)\,R_{30^\circ}^\top",
        (-3.0, 3.0, -3.0, 3.0), (-2.5, 2.0), -1.4, -1.3, ((0.0, 0.0),),
        "One direction 25× steeper than the other (Hessian eigenvalues 1 and 25). Plain SGD is stable only for "
        "η < 2/25 = 0.08 (try 0.09: it diverges along the steep axis); at such an η the flat direction "
        "shrinks by only (1 − η) per step."),
    "beale": SurfaceInfo(
        "Beale's function", r"L(x, y) = (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2",
        (-4.5, 4.5, -4.5, 4.5), (1.0, 1.4), -2.5, -1.3, ((3.0, 0.5),),
        "Flat plateaus and steep walls: gradients differ by orders of magnitude, which the adaptive methods "
        "divide away."),
    "noisy_quadratic": SurfaceInfo(
        "A noisy quadratic (stochastic gradients)",
        r"L_t(\theta) = \tfrac12\,\theta^\top A\,\theta + \sigma\,\xi_t^\top\theta,\quad A \text{ with eigenvalues } 1, 10",
        (-3.0, 3.0, -3.0, 3.0), (-2.5, 2.0), -1.3, -1.3, ((0.0, 0.0),),
        "Each step sees the gradient plus fresh noise ξₜ ~ N(0, I) (a mini-batch's error). The contour is the "
        "expected loss. The noise keeps every optimizer jittering around the minimum instead of settling; "
        "with the same η, momentum's effective step η/(1−β) also multiplies the noise."),
    "tiny_net": SurfaceInfo(
        "A real tiny network's 2-D slice (MLP on moons)",
        r"L(a, b) = \mathrm{CE}\big(f(X;\ \theta^\ast + a\,d_1 + b\,d_2),\ Y\big)",
        (-1.5, 1.5, -1.5, 1.5), (-1.1, 1.2), -1.0, -1.0, ((0.0, 0.0),),
        "A 2-16-16-2 MLP trained on 2-D moons (θ* at the origin), sliced along two filter-normalised random "
        "directions (Li et al. 2018): every step runs the real network forward and backward."),
}
assert tuple(SURFACES) == SURFACE_NAMES

#: Optimizers whose step is η times a gradient (their η is in units of 1/curvature).
SGD_FAMILY: tuple[str, ...] = ("SGD", "Momentum", "Nesterov")
#: Optimizers that divide by a running gradient scale (their η is roughly a step length).
ADAPTIVE: tuple[str, ...] = tuple(n for n in OPTIMIZER_NAMES if n not in SGD_FAMILY)
#: The six update rules the notes write out (seed 003 §dl_1_4_1).
SEED_SIX: tuple[str, ...] = ("SGD", "Momentum", "Adagrad", "RMSprop", "Adam", "AdamW")

#: Most optimizer steps of one trajectory run.
MAX_STEPS = 2000
#: Most trajectories drawn in one run.
MAX_RUNS = 12
#: log₁₀ η range of the learning-rate sliders.
LR_RANGE_LOG10 = (-4.0, 0.5)

Verdict = Literal["minimum", "maximum", "saddle", "degenerate", "not critical"]
VERDICTS: tuple[str, ...] = get_args(Verdict)

#: Direction normalisations of a loss-landscape slice (Li et al. 2018, https://arxiv.org/abs/1712.09913).
NormName = Literal["filter", "layer", "none"]
NORMS: tuple[str, ...] = get_args(NormName)
#: ``biasbn``: biases and BatchNorm parameters get a zero direction (the paper's default).
IgnoreName = Literal["biasbn", "none"]
IGNORES: tuple[str, ...] = get_args(IgnoreName)


def check_whole(name: str, v: object, lo: int, hi: int) -> None:
    """Raise ``ValueError`` ("<name> <v> must be a whole number in [lo, hi]") unless ``v`` is an int
    (not a bool) with ``lo <= v <= hi``: the one settings check of the optimizer lab's configs."""
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise ValueError(f"{name} {v!r} must be a whole number in [{lo}, {hi}]")
