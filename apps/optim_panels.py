"""Handlers of the optimizers tab: the race on a 2-D surface (and a click to move the start), one step
written out, the saddle inspector and Adam's warm-up. Thin glue over :mod:`dlcore.optim_viz`.

Torch-free at import (choices come from :mod:`dlcore.optim_viz.names`); every handler validates every
parameter by the name the learner sees before anything heavy runs.
"""

from __future__ import annotations

import math
from typing import Any

import gradio as gr

from apps.common import guard, md_escape
from dlcore.optim_viz.names import (LR_RANGE_LOG10, OPTIMIZER_NAMES, SEED_SIX, SGD_FAMILY, SURFACE_NAMES, SURFACES)
from dlcore.textinput import parse_choice, parse_choices, parse_int, parse_number

#: The labels on the page, also used to name a bad value (one spelling for both).
L = {"surface": "surface", "optimizers": "optimizers", "x": "start θ₁ (x)", "y": "start θ₂ (y)",
     "steps": "steps T", "lr_sgd": "log₁₀ η of SGD / Momentum / Nesterov", "lr_ad": "log₁₀ η of the adaptive ones",
     "beta1": "β₁ (momentum, Adam's β₁)", "beta2": "β₂ (Adam)", "alpha": "RMSprop β (torch's alpha)",
     "wd": "AdamW weight decay λ", "optimizer": "optimizer to write out", "t": "step t",
     "px": "point θ₁", "py": "point θ₂", "warmup": "warm-up steps W", "wsteps": "run steps",
     "wlr": "log₁₀ η (Adam)"}
#: Most steps of one race on the page (the library allows more); the tiny network costs a forward pass per step.
MAX_UI_STEPS = 1000
MAX_TINY_STEPS = 300
#: The race's defaults: the notes' saddle with the six rules the notes write out.
D_RACE = ["saddle", list(SEED_SIX), 1.0, -0.999, 300, -1.3, -1.3, 0.9, 0.999, 0.99, 0.01]


def _f(v: float, digits: int = 4) -> str:
    if v != v or math.isinf(v):
        return str(v)
    return f"{v:.{digits}g}"


def _pt(t: Any, digits: int = 4) -> str:
    return "(" + ", ".join(_f(float(v), digits) for v in t) + ")"


def cell(text: Any) -> str:
    return md_escape(str(text)).replace("|", "\\|").replace("\n", " ")


# ----------------------------------------------------------------------------- parsing
def parse_optimizers(value: Any) -> list[str]:
    """A non-empty list of optimizer names (duplicates dropped, registry order kept)."""
    return parse_choices(value, L["optimizers"], OPTIMIZER_NAMES, noun="optimizer")


def parse_point(surface: str, x: Any, y: Any, lx: str = L["x"], ly: str = L["y"]) -> tuple[float, float]:
    """A point inside the surface's plotted box."""
    x0, x1, y0, y1 = SURFACES[surface].box
    px = parse_number(x, lx)
    py = parse_number(y, ly)
    if not x0 <= px <= x1:
        raise ValueError(f"{lx} = {px:g} is outside the plotted box [{x0:g}, {x1:g}] of this surface")
    if not y0 <= py <= y1:
        raise ValueError(f"{ly} = {py:g} is outside the plotted box [{y0:g}, {y1:g}] of this surface")
    return px, py


def parse_race(surface: Any, optimizers: Any, x: Any, y: Any, steps: Any, lr_sgd: Any, lr_ad: Any, beta1: Any,
               beta2: Any, alpha: Any, wd: Any) -> tuple[str, list[str], Any]:
    """Every setting of the race checked and named; returns (surface, optimizers, TrajectoryConfig)."""
    s = parse_choice(surface, L["surface"], SURFACE_NAMES)
    names = parse_optimizers(optimizers)
    start = parse_point(s, x, y)
    cap = MAX_TINY_STEPS if s == "tiny_net" else MAX_UI_STEPS
    n = parse_int(steps, L["steps"], lo=1, hi=cap)
    lo, hi = LR_RANGE_LOG10
    lr1 = parse_number(lr_sgd, L["lr_sgd"], lo=lo, hi=hi)
    lr2 = parse_number(lr_ad, L["lr_ad"], lo=lo, hi=hi)
    b1 = parse_number(beta1, L["beta1"], lo=0.0, hi=0.999)
    b2 = parse_number(beta2, L["beta2"], lo=0.0, hi=0.9999)
    a = parse_number(alpha, L["alpha"], lo=0.0, hi=0.9999)
    lam = parse_number(wd, L["wd"], lo=0.0, hi=1.0)
    from dlcore.optim_viz import TrajectoryConfig

    return s, names, TrajectoryConfig(start, n, 10 ** lr1, 10 ** lr2, b1, b2, a, lam)


# ----------------------------------------------------------------------------- the race
def _threshold(surface: Any) -> float:
    """"Arrived" = within 0.01 of the lowest known minimum's loss."""
    import torch

    mins = torch.tensor(surface.info.minima, dtype=torch.float64)
    return float(surface.expected(mins).min()) + 1e-2


def race_table(tr: Any, surface: Any) -> str:
    import torch

    thr = _threshold(surface)
    lines = [f"| optimizer | final L | final θ | first step with L < {_f(thr, 3)} | final distance to a minimum |",
             "|---|---:|---|---:|---:|"]
    mins = torch.tensor(surface.info.minima, dtype=torch.float64)  # (M, 2)
    for k, spec in enumerate(tr.specs):
        hit = (tr.loss[k] < thr).nonzero()
        first = str(int(hit[0])) if len(hit) else "—"
        dist = float(torch.cdist(tr.points[k, -1:], mins).min())              # the final point's
        div = tr.diverged_at[k]
        final = f"✗ diverged at step {div}" if div is not None else _f(float(tr.loss[k, -1]), 3)
        lines.append(f"| **{spec.name}** | {final} | {_pt(tr.points[k, -1], 3)} | {first} | {_f(dist, 3)} |")
    return "\n".join(lines)


def race_md(tr: Any, surface: Any) -> str:
    info = surface.info
    c = tr.config
    head = (f"### {md_escape(info.label)}\n\n$${info.formula}$$\n\n{md_escape(info.lesson)}\n\n"
            f"From θ₀ = {_pt(c.start)}, {c.steps} steps; η = {_f(c.lr_sgd, 3)} for SGD / Momentum / Nesterov and "
            f"{_f(c.lr_adaptive, 3)} for the adaptive ones; β₁ = {_f(c.beta1)}, β₂ = {_f(c.beta2)}, "
            f"RMSprop β = {_f(c.rmsprop_alpha)}, AdamW λ = {_f(c.adamw_weight_decay)}. Every path is a real "
            f"`torch.optim` optimizer from the training registry, stepped on this function "
            f"({tr.seconds * 1000:.0f} ms for all of them).")
    if surface.stochastic:
        head += " Each step's gradient carries fresh noise (the same noise for every optimizer); the contours and L are the noise-free loss."
    if tr.stopped_at is not None:
        head += f"\n\n**Stopped at step {tr.stopped_at}.**"
    return "*Click the picture to start from there.*\n\n" + head + "\n\n" + race_table(tr, surface)


def _run_race(surface: Any, optimizers: Any, x: Any, y: Any, steps: Any, lr_sgd: Any, lr_ad: Any, beta1: Any,
              beta2: Any, alpha: Any, wd: Any, progress: Any = None) -> tuple[str, Any, Any, dict[str, Any]]:
    s, names, cfg = parse_race(surface, optimizers, x, y, steps, lr_sgd, lr_ad, beta1, beta2, alpha, wd)
    from dlcore.optim_viz import get_surface, run_optimizers, surface_grid
    from dlcore.optim_viz.trajectories import RunSpec
    from dlcore.plotting.optim_viz import loss_image, surface_image

    surf = get_surface(s)
    if progress is not None and s == "tiny_net":  # the only slow surface: a network forward per step and grid point
        progress(0, desc="the tiny network (trained once, then a forward and backward pass per step)")
    tick = None if progress is None else (lambda t, _: progress((t, cfg.steps), desc="optimizer steps"))
    tr = run_optimizers(surf, [RunSpec(n) for n in names], cfg, callback=tick)
    if progress is not None and s == "tiny_net":
        progress(1, desc="the contour grid (3,600 forward passes)")
    img, pm = surface_image(surface_grid(surf), tr)
    return race_md(tr, surf), img, loss_image(tr, "loss per step (noise-free)"), pm.as_dict()


@guard
def race(surface: Any, optimizers: Any, x: Any, y: Any, steps: Any, lr_sgd: Any, lr_ad: Any, beta1: Any, beta2: Any,
         alpha: Any, wd: Any, progress: Any = gr.Progress()) -> tuple[str, Any, Any, dict[str, Any]]:
    """Every chosen optimizer from one start on the surface: paths, loss per step, and a table."""
    return _run_race(surface, optimizers, x, y, steps, lr_sgd, lr_ad, beta1, beta2, alpha, wd, progress)


@guard
def race_click(surface: Any, optimizers: Any, steps: Any, lr_sgd: Any, lr_ad: Any, beta1: Any, beta2: Any, alpha: Any,
               wd: Any, pixmap: Any, evt: gr.SelectData, progress: Any = gr.Progress()) -> tuple[Any, ...]:
    """A click on the picture: the new start, and the race from there."""
    from dlcore.plotting.explain_pixels import PixelMap

    idx = getattr(evt, "index", None)
    if not isinstance(idx, (list, tuple)) or len(idx) != 2:
        raise ValueError("click on the contour picture to choose a start")
    if not isinstance(pixmap, dict):
        raise ValueError("run the race once before clicking on the picture")
    x, y = PixelMap.from_dict(pixmap).to_data(*idx)
    s = parse_choice(surface, L["surface"], SURFACE_NAMES)
    x0, x1, y0, y1 = SURFACES[s].box
    if not (x0 <= x <= x1 and y0 <= y <= y1):
        raise ValueError(f"the click at ({x:.3g}, {y:.3g}) is outside the contour plot; click inside the axes")
    x, y = round(x, 3), round(y, 3)
    return (x, y, *_run_race(s, optimizers, x, y, steps, lr_sgd, lr_ad, beta1, beta2, alpha, wd, progress))


@guard
def pick_surface(surface: Any) -> tuple[float, float, float, float, int]:
    """The surface's own start, learning rates and a number of steps that suits it."""
    s = parse_choice(surface, L["surface"], SURFACE_NAMES)
    info = SURFACES[s]
    steps = 150 if s == "tiny_net" else 500 if s in ("rosenbrock", "beale") else 300
    return info.start[0], info.start[1], info.log10_lr_sgd, info.log10_lr_adaptive, steps


# ----------------------------------------------------------------------------- one step written out
def _line_md(ln: Any) -> str:
    from dlcore.optim_viz.rules import vec

    tag = " *(the notes' form)*" if ln.seed_form else ""
    return f"$${ln.symbol} = {ln.formula} = {ln.substituted} = {vec(ln.value)}$${tag}"


def _steps_table(tr: Any, t: int) -> str:
    """torch.optim's numbers around step t: θ_t, g_t, η_t, the update θ_{t+1} − θ_t and L(θ_t)."""
    lo, hi = max(1, t - 3), min(tr.config.steps, t + 6)
    rows = ["| t | θ_t | g_t | η_t | θ_{t+1} − θ_t | L(θ_t) |", "|---:|---|---|---:|---|---:|"]
    for s in range(lo, hi + 1):
        mark = "**▶ " + str(s) + "**" if s == t else str(s)
        d = tr.points[0, s] - tr.points[0, s - 1]
        rows.append(f"| {mark} | {_pt(tr.points[0, s - 1], 6)} | {_pt(tr.grads[0, s - 1], 6)} | "
                    f"{_f(float(tr.lrs[0, s - 1]), 4)} | {_pt(d, 6)} | {_f(float(tr.loss[0, s - 1]), 6)} |")
    return "\n".join(rows)


@guard
def one_step(surface: Any, optimizers: Any, x: Any, y: Any, steps: Any, lr_sgd: Any, lr_ad: Any, beta1: Any,
             beta2: Any, alpha: Any, wd: Any, optimizer: Any, t: Any) -> str:
    """Step t of one optimizer with the numbers substituted, the proof it equals torch.optim, and the
    neighbouring steps as a table."""
    s, _, cfg = parse_race(surface, list(SEED_SIX), x, y, steps, lr_sgd, lr_ad, beta1, beta2, alpha, wd)
    name = parse_choice(optimizer, L["optimizer"], OPTIMIZER_NAMES)
    step = parse_int(t, L["t"], lo=1, hi=cfg.steps)
    from dlcore.optim_viz import get_surface, run_optimizers, worked_step
    from dlcore.optim_viz.trajectories import RunSpec

    surf = get_surface(s)
    w = worked_step(surf, name, cfg, t=step)
    tr = run_optimizers(surf, [RunSpec(name)], cfg)
    hyper = ", ".join(f"{k} = {v if isinstance(v, tuple) else _f(v, 6)}" for k, v in w.hyper.items())
    verdict = (f"✅ **equal to what torch.optim did**: max |θ_hand − θ_torch| = {w.max_diff:.1e} (over θ and the "
               f"optimizer's state, float64)" if w.equal else
               f"❌ **differs from torch.optim by {w.max_diff:.3g}** (please report this)")
    out = [f"### {name}, step t = {step} on {md_escape(SURFACES[s].label)}",
           f"Rule: {md_escape(w.rule)}  \nHyper-parameters at this step (torch's names): {hyper}",
           f"\nθ_t = {_pt(w.theta, 6)}, L(θ_t) = {_f(w.loss, 6)}, g_t = ∇L(θ_t) = {_pt(w.grad, 6)}. Squares, roots "
           "and divisions of vectors are element-wise (each parameter has its own state).", ""]
    out += [_line_md(ln) for ln in w.lines]
    out.append(f"\n{verdict}: torch gives θ_t+1 = {_pt(w.theta_torch, 8)}.")
    if w.seed_theta is not None:
        if w.seed_diff is not None and w.seed_diff <= 1e-12:
            out.append(f"\nThe notes' form gives the same θ_t+1 (difference {w.seed_diff:.1e}).")
        else:
            out.append(f"\nThe notes' form (ε inside the square root) gives {_pt(w.seed_theta, 8)}: "
                       f"{w.seed_diff:.2g} from torch's.")
    if name == "Momentum":
        out.append("\nThe notes average, v_t = βv_t−1 + (1−β)g_t; torch sums, b_t = βb_t−1 + g_t. So v_t = (1−β)b_t, "
                   "and the notes' rule takes torch's step with η/(1−β).")
    if name in ("Adagrad", "RMSprop"):
        out.append("\nThe notes write √(G + ε); torch computes √G + ε. Both are shown with the same numbers.")
    out.append(f"\n**The steps around t, as `torch.optim` took them** ({'SGD family' if name in SGD_FAMILY else 'adaptive'} η):\n")
    out.append(_steps_table(tr, step))
    return "\n".join(out)


# ----------------------------------------------------------------------------- the saddle inspector
def _matrix(h: Any) -> str:
    return (r"\begin{bmatrix}" + r"\\".join("&".join(_f(float(v), 6) for v in row) for row in h) + r"\end{bmatrix}")


VERDICT_TEXT = {"minimum": "all eigenvalues > 0: **a local minimum**",
                "maximum": "all eigenvalues < 0: **a local maximum**",
                "saddle": "eigenvalues of both signs: **a saddle point** (鞍点)",
                "degenerate": "an eigenvalue is 0: **the second-order test cannot decide** (flat along its eigenvector)",
                "not critical": "the gradient is not zero: **not a critical point**, the gradient itself points downhill"}


@guard
def inspect(surface: Any, x: Any, y: Any) -> tuple[str, Any, dict[str, Any]]:
    """Gradient, Hessian (torch.autograd.functional.hessian), eigenvalues and eigenvectors, the verdict and the
    escape direction at one point."""
    return _inspect(surface, x, y)


@guard
def inspect_click(surface: Any, pixmap: Any, evt: gr.SelectData) -> tuple[Any, ...]:
    """A click on the inspector's picture: inspect the clicked point."""
    from dlcore.plotting.explain_pixels import PixelMap

    idx = getattr(evt, "index", None)
    if not isinstance(idx, (list, tuple)) or len(idx) != 2:
        raise ValueError("click on the picture to choose a point")
    if not isinstance(pixmap, dict):
        raise ValueError("inspect a point once before clicking on the picture")
    pm = PixelMap.from_dict(pixmap)
    x, y = pm.to_data(*idx)
    if not (min(pm.xlim) <= x <= max(pm.xlim) and min(pm.ylim) <= y <= max(pm.ylim)):
        raise ValueError(f"the click at ({x:.3g}, {y:.3g}) is outside the contour plot; click inside the axes")
    x, y = round(x, 3), round(y, 3)
    return (x, y, *_inspect(surface, x, y))


def _inspect(surface: Any, x: Any, y: Any) -> tuple[str, Any, dict[str, Any]]:
    s = parse_choice(surface, L["surface"], SURFACE_NAMES)
    p = parse_point(s, x, y, L["px"], L["py"])
    from dlcore.optim_viz import get_surface, inspect_point
    from dlcore.optim_viz.hessian import SEED_CORRECTION
    from dlcore.plotting.optim_viz import hessian_image

    r = inspect_point(get_surface(s), p)
    lam, vecs = r.eigenvalues, r.eigenvectors
    out = [f"### At θ′ = {_pt(r.point, 6)} on {md_escape(SURFACES[s].label)}",
           f"$$L(\\theta') = {_f(r.loss, 6)},\\quad g = {_pt(r.grad, 6)},\\quad \\|g\\| = {_f(r.grad_norm, 3)}$$",
           f"$$H = {_matrix(r.hessian)}$$ (`torch.autograd.functional.hessian` of the real function)",
           f"$$\\lambda_1 = {_f(float(lam[0]), 6)},\\ u_1 = {_pt(vecs[:, 0], 4)};\\qquad "
           f"\\lambda_2 = {_f(float(lam[1]), 6)},\\ u_2 = {_pt(vecs[:, 1], 4)}$$",
           f"Verdict: {VERDICT_TEXT[r.verdict]}."]
    if r.escape is not None:
        what = "Escape direction" if r.verdict == "saddle" else "Direction of negative curvature"
        out.append(f"\n**{what}** (the eigenvector of λ = {_f(float(lam[0]), 4)}): u = {_pt(r.escape, 4)}. "
                   f"Stepping θ = θ′ + u: L = **{_f(r.loss_after, 6)}** (the real function) vs "
                   f"{_f(r.taylor_after, 6)} predicted by the second-order Taylor model, both below L(θ′) = "
                   f"{_f(r.loss, 6)}." if r.loss_after is not None and r.loss_after < r.loss else
                   f"\nDirection of negative curvature: u = {_pt(r.escape, 4)} (L(θ′ + u) = {_f(r.loss_after or 0, 6)}, "
                   f"Taylor {_f(r.taylor_after or 0, 6)}: a unit step is beyond the quadratic model here).")
    if s == "saddle":
        out.append(f"\n> ⚠ **The notes' sign slip:** {md_escape(SEED_CORRECTION)}")
    out.append("\nPicture: the real loss (filled), the Taylor model L(θ′) + uᵀg + ½uᵀHu (dashed), the "
               "eigenvectors (red: negative curvature, blue: positive) and −g (green). **Click it to inspect "
               "another point.**")
    img, pm = hessian_image(r)
    return "\n\n".join(out), img, pm.as_dict()


# ----------------------------------------------------------------------------- warm-up
@guard
def warmups(surface: Any, x: Any, y: Any, lr: Any, beta1: Any, beta2: Any, w: Any, steps: Any) -> tuple[str, Any]:
    """Adam with and without warm-up (a linear ramp, the notes' lr_lambda) and RAdam from one start."""
    s = parse_choice(surface, L["surface"], SURFACE_NAMES)
    start = parse_point(s, x, y)
    lo, hi = LR_RANGE_LOG10
    eta = 10 ** parse_number(lr, L["wlr"], lo=lo, hi=hi)
    b1 = parse_number(beta1, L["beta1"], lo=0.0, hi=0.999)
    b2 = parse_number(beta2, L["beta2"], lo=0.0, hi=0.9999)
    n = parse_int(steps, L["wsteps"], lo=10, hi=MAX_TINY_STEPS if s == "tiny_net" else MAX_UI_STEPS)
    ws = parse_int(w, L["warmup"], lo=1, hi=n)
    from dlcore.optim_viz import TrajectoryConfig, compare_warmup, get_surface
    from dlcore.optim_viz.warmup import WarmupConfig
    from dlcore.plotting.optim_viz import warmup_figure

    surf = get_surface(s)
    c = compare_warmup(surf, TrajectoryConfig(start=start, lr_adaptive=eta, beta1=b1, beta2=b2),
                       WarmupConfig(ws, n, min(10, n)))
    tr = c.traj
    rows = [f"| run | step 1 length | longest of the first {c.early} | final L |", "|---|---:|---:|---:|"]
    for k, spec in enumerate(tr.specs):
        div = tr.diverged_at[k]
        final = f"✗ diverged at step {div}" if div is not None else _f(float(tr.loss[k, -1]))
        rows.append(f"| {cell(spec.name)} | {_f(float(c.first_step[k]))} | {_f(float(c.early_max[k]))} | {final} |")
    out = [f"### Adam's first steps on {md_escape(SURFACES[s].label)}, η = {_f(eta, 3)}",
           f"Without warm-up, step 1 is m̂₁/√v̂₁ = g₁/|g₁| = sign(g₁): a step of length up to **η·√2 = "
           f"{_f(c.adam_first_bound)}** whatever the gradient's size, on a scale estimated from one gradient. "
           f"A warm-up ramps η from 0 over W = {ws} steps (LambdaLR's factor at step 0 is 0, so step 1 does not "
           "move); the notes' lr_lambda (§2.2.1) then also decays η linearly to 0 at the last step. RAdam "
           "(Liu et al. 2020) replaces the adaptive step with plain momentum while its variance estimate is "
           "unreliable (ρ_t ≤ 5, the first 5 steps with β₂ = 0.999): those steps are η·m̂, as large as the "
           "gradient, which is not small on a steep surface.", "\n".join(rows)]
    return "\n\n".join(out), warmup_figure(c)
