"""Optimizers on loss surfaces, saddle points and the Hessian, and warm-up.

Seed 003 §dl_1_4_1 (优化器: SGD, momentum, Adagrad, RMSProp, Adam, AdamW) and seed 000 §2.2.5
(局部极小值 OR 鞍点?: the Taylor expansion, the Hessian, L = (1 − w₁w₂)²) and §2.2.1 (warm-up)::

    from dlcore.optim_viz import get_surface, run_optimizers, TrajectoryConfig, inspect_point
    s = get_surface("rosenbrock")
    tr = run_optimizers(s, None, TrajectoryConfig(steps=300))   # every optimizer of dlcore.train.optim
    worked_step(s, "Adam", TrajectoryConfig(steps=300), t=3)     # m, v, m̂, v̂ with the numbers, = torch.optim
    inspect_point(get_surface("saddle"), (0.0, 0.0))             # H = [[0, −2], [−2, 0]], λ = ±2: a saddle

Modules: :mod:`~dlcore.optim_viz.names` (torch-free registries), :mod:`~dlcore.optim_viz.surfaces`,
:mod:`~dlcore.optim_viz.trajectories` (the registry's ``torch.optim`` objects on a 2-D surface),
:mod:`~dlcore.optim_viz.rules` (every update rule by hand), :mod:`~dlcore.optim_viz.worked` (one step
written out and compared with torch), :mod:`~dlcore.optim_viz.hessian` (the second-order test),
:mod:`~dlcore.optim_viz.directions` (filter normalisation, used by the tiny network's slice),
:mod:`~dlcore.optim_viz.warmup`, :mod:`~dlcore.optim_viz.landscape` (the zoo CNN's loss on a random
filter-normalised plane, Li et al. 2018; :mod:`~dlcore.optim_viz.cnnforward` makes it fast),
:mod:`~dlcore.optim_viz.minima` (SGD and Adam from one start: the line between their minima, their sharpness).
Figures: :mod:`dlcore.plotting.optim_viz`.

The names below load on first access (PEP 562): ``import dlcore.optim_viz.names`` stays torch-free.
"""

from __future__ import annotations

from dlcore.lazy import lazy_exports

#: public name -> submodule that defines it
_EXPORTS: dict[str, str] = {
    **{n: "surfaces" for n in ("Surface", "get_surface", "surface_grid", "SurfaceGrid")},
    **{n: "trajectories" for n in ("RunSpec", "TrajectoryConfig", "Trajectories", "Snapshot", "run_optimizers",
                                   "apply_betas", "default_runs")},
    **{n: "rules" for n in ("Line", "StepResult", "RULES", "hand_step")},
    **{n: "worked" for n in ("WorkedStep", "worked_step")},
    **{n: "hessian" for n in ("PointReport", "inspect_point", "SEED_CORRECTION")},
    **{n: "directions" for n in ("random_direction", "normalize_direction", "filter_norms", "model_params")},
    **{n: "landscape" for n in ("LandscapeConfig", "Landscape", "compute_landscape", "iter_landscape",
                                "zoo_landscape", "landscape_directions")},
    **{n: "minima" for n in ("MinimaConfig", "Minimum", "MinimaComparison", "compare_minima")},
    **{n: "warmup" for n in ("WarmupConfig", "WarmupComparison", "compare_warmup")},
    **{n: "names" for n in ("SURFACES", "SURFACE_NAMES", "OPTIMIZER_NAMES", "SEED_SIX", "VERDICTS", "MAX_STEPS",
                             "MAX_RUNS")},
}

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
