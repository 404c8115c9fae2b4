"""Handlers of the optimizers tab: real runs, numbers against torch.optim, the lessons' claims, bad inputs."""

from __future__ import annotations

import math
import re
from types import SimpleNamespace

import pytest
import torch

from apps import optim as tab
from apps import optim_landscape as LP
from apps import optim_minima as MP
from apps import optim_panels as P
from dlcore.optim_viz import TrajectoryConfig, get_surface, run_optimizers
from dlcore.optim_viz.names import SEED_SIX, SURFACES
from dlcore.optim_viz.trajectories import RunSpec


def row(md: str, name: str) -> str:
    return next(line for line in md.splitlines() if line.startswith(f"| **{name}**"))


def test_default_race_is_torch_optim() -> None:
    md, img, fig, pm = P.race(*P.D_RACE)
    assert img.shape == (pm["height"], pm["width"], 3) and fig is not None
    for n in SEED_SIX:
        assert row(md, n)
    # SGD's final θ, by a plain torch.optim.SGD loop with the slider's η = 10^-1.3
    p = torch.nn.Parameter(torch.tensor([1.0, -0.999], dtype=torch.float64))
    opt = torch.optim.SGD([p], lr=10 ** -1.3)
    s = get_surface("saddle")
    first = None
    for t in range(300):
        opt.zero_grad()
        loss = s.expected(p[None])[0]
        if first is None and float(loss.detach()) < 1e-2:
            first = t
        loss.backward()
        opt.step()
    assert P._pt(p.detach(), 3) in row(md, "SGD")
    assert f"| {first} |" in row(md, "SGD")
    assert "The origin is a saddle" in md


def test_exactly_on_the_stable_line_nobody_leaves() -> None:
    ex = [*P.D_RACE]
    ex[3] = -1.0
    md, *_ = P.race(*ex)
    for n in SEED_SIX:
        assert "| — |" in row(md, n), row(md, n)  # never below L = 0.01: the saddle holds them (L(0) = 1)


def test_ill_conditioned_example_diverges_for_sgd_only() -> None:
    args = tab.ENDPOINTS[0].examples[1]
    md, *_ = P.race(*args)
    assert 10 ** args[5] > 2 / 25
    assert "diverged at step" in row(md, "SGD") and "diverged" not in row(md, "Adam")


@pytest.mark.parametrize("surface,better,worse", [("rosenbrock", "Momentum", "SGD"), ("beale", "Adam", "SGD"),
                                                  ("beale", "RMSprop", "SGD")])
def test_the_lessons_hold_at_the_defaults(surface: str, better: str, worse: str) -> None:
    info = SURFACES[surface]
    tr = run_optimizers(get_surface(surface), [RunSpec(better), RunSpec(worse)], TrajectoryConfig(steps=500))
    assert float(tr.loss[0, -1]) < float(tr.loss[1, -1]) and tr.diverged_at == [None, None]
    assert info.lesson


def test_noisy_quadratic_lesson_momentum_multiplies_the_noise() -> None:
    tr = run_optimizers(get_surface("noisy_quadratic"), [RunSpec("SGD"), RunSpec("Momentum")],
                        TrajectoryConfig(steps=300))
    tail = tr.loss[:, -100:].mean(dim=1)
    assert float(tail[1]) > 3 * float(tail[0]) and float(tail[0]) > 0


def test_click_sets_the_start_and_reruns() -> None:
    _, _, _, pm = P.race(*P.D_RACE)
    # the pixel of (0.5, 0.5): invert the axes' box
    px = pm["left"] + (0.5 - pm["xlim"][0]) / (pm["xlim"][1] - pm["xlim"][0]) * (pm["right"] - pm["left"])
    py = pm["bottom"] - (0.5 - pm["ylim"][0]) / (pm["ylim"][1] - pm["ylim"][0]) * (pm["bottom"] - pm["top"])
    r = list(P.D_RACE)
    x, y, md, img, fig, pm2 = P.race_click(r[0], r[1], *r[4:], pm, SimpleNamespace(index=[px, py]))
    assert abs(x - 0.5) < 0.02 and abs(y - 0.5) < 0.02
    assert f"θ₀ = {P._pt((x, y))}" in md
    with pytest.raises(Exception, match="outside the contour plot"):
        P.race_click(r[0], r[1], *r[4:], pm, SimpleNamespace(index=[1, 1]))
    with pytest.raises(Exception, match="run the race once"):
        P.race_click(r[0], r[1], *r[4:], None, SimpleNamespace(index=[px, py]))


@pytest.mark.parametrize("name", ["SGD", "Momentum", "Nesterov", "Adagrad", "RMSprop", "Adam", "AdamW", "RAdam"])
def test_one_step_equals_torch(name: str) -> None:
    for t in (1, 50):
        md = P.one_step(*P.D_RACE, name, t)
        assert "equal to what torch.optim did" in md, md
        assert f"| **▶ {t}**" in md


def test_one_step_numbers_are_the_notes_formulas() -> None:
    """Adam at step 1: m₁ = (1 − β₁)g₁, v₁ = (1 − β₂)g₁², m̂₁ = g₁ (the notes' §dl_1_4_1, with the numbers)."""
    md = P.one_step(*P.D_RACE, "Adam", 1)
    g = re.search(r"g_t = ∇L\(θ_t\) = \(([-\d.e]+), ([-\d.e]+)\)", md)
    assert g
    g1 = float(g.group(1))
    m_line = next(line for line in md.splitlines() if line.startswith("$$m_t"))
    assert f"{0.1 * g1:.6g}" in m_line.split("=")[-1]
    mh_line = next(line for line in md.splitlines() if line.startswith(r"$$\hat m_t"))
    assert f"{g1:.6g}" in mh_line.split("=")[-1]


def test_saddle_inspector_reproduces_the_notes() -> None:
    md, img, pm = P.inspect(*tab.D_HESS)
    assert img.shape == (pm["height"], pm["width"], 3)
    assert r"H = \begin{bmatrix}0&-2\\-2&0\end{bmatrix}" in md
    assert r"\lambda_1 = -2" in md and r"\lambda_2 = 2" in md and "a saddle point" in md
    assert "u = (0.7071, 0.7071)" in md and "L = **0.25**" in md
    assert "cannot decide" in P.inspect("saddle", 1.0, 1.0)[0]
    assert "a local minimum" in P.inspect("rosenbrock", 1.0, 1.0)[0]


def test_click_on_the_inspector_inspects_there() -> None:
    _, _, pm = P.inspect(*tab.D_HESS)
    px = pm["left"] + (0.3 - pm["xlim"][0]) / (pm["xlim"][1] - pm["xlim"][0]) * (pm["right"] - pm["left"])
    py = pm["bottom"] - (-0.2 - pm["ylim"][0]) / (pm["ylim"][1] - pm["ylim"][0]) * (pm["bottom"] - pm["top"])
    x, y, md, img, pm2 = P.inspect_click("saddle", pm, SimpleNamespace(index=[px, py]))
    assert abs(x - 0.3) < 0.01 and abs(y + 0.2) < 0.01
    assert f"θ′ = {P._pt((x, y), 6)}" in md and "not a critical point" in md
    assert pm2["xlim"][0] < x < pm2["xlim"][1]  # the new window is centred on the new point
    with pytest.raises(Exception, match="outside the contour plot"):
        P.inspect_click("saddle", pm, SimpleNamespace(index=[1, 1]))


def test_warmup_panel() -> None:
    md, fig = P.warmups(*tab.D_WARM)
    assert f"η·√2 = {P._f(10 ** -1.7 * math.sqrt(2))}" in md
    lines = {line.split("|")[1].strip(): line for line in md.splitlines() if line.startswith("| Adam") or line.startswith("| RAdam")}
    no_w = lines["Adam, no warm-up"].split("|")
    w = lines["Adam, warm-up 20 steps"].split("|")
    assert float(w[2]) == 0.0 and float(w[3]) < float(no_w[3])


@pytest.mark.parametrize("args,fragment", [(["saddle", [], *P.D_RACE[2:]], "tick at least one optimizer"),
                                           (["saddle", ["SGD"], 3.0, *P.D_RACE[3:]], "outside the plotted box"),
                                           (["tiny_net", ["SGD"], 0.0, 0.0, 500, *P.D_RACE[5:]], "above the maximum 300"),
                                           (["saddle", ["SGD"], "abc", *P.D_RACE[3:]], "start θ₁ (x)"),
                                           (["saddle", "SGD", *P.D_RACE[2:]], "must be a list")])
def test_bad_race_inputs(args: list, fragment: str) -> None:
    with pytest.raises(Exception, match=re.escape(fragment)):
        P.race(*args)


def test_every_example_of_the_tab_runs() -> None:
    for ep in tab.ENDPOINTS:
        fn = {"optim_race": P.race, "optim_step": P.one_step, "optim_hessian": P.inspect,
              "optim_warmup": P.warmups, "optim_landscape": lambda *a: list(LP.landscape(*a))[-1],
              "optim_landscape_stop": LP.stop_landscape, "optim_minima": lambda *a: list(MP.minima(*a))[-1],
              "optim_minima_stop": MP.stop_minima}[ep.api_name]
        for args, fact in zip(ep.examples, ep.facts):
            out = fn(*args)
            text = out if isinstance(out, str) else out[0]
            assert fact in text, (ep.api_name, fact)
        for args, frag in ep.bad:
            with pytest.raises(Exception, match=re.escape(frag)):
                fn(*args)


def test_picking_a_surface_fills_its_start_and_rates() -> None:
    x, y, lr1, lr2, steps = P.pick_surface("rosenbrock")
    info = SURFACES["rosenbrock"]
    assert (x, y, lr1, lr2) == (*info.start, info.log10_lr_sgd, info.log10_lr_adaptive) and steps == 500
    assert P.pick_surface("tiny_net")[4] <= P.MAX_TINY_STEPS
    with pytest.raises(Exception, match="surface"):
        P.pick_surface(["saddle"])


def test_tiny_net_race_converges_at_its_defaults() -> None:
    """The real network's slice: from its default start, SGD and Adam reach θ* (the trained weights, the origin)."""
    info = SURFACES["tiny_net"]
    md, *_ = P.race("tiny_net", ["SGD", "Adam"], *info.start, 150, info.log10_lr_sgd, info.log10_lr_adaptive, 0.9,
                    0.999, 0.99, 0.01)
    for n in ("SGD", "Adam"):
        assert float(row(md, n).split("|")[-2]) < 0.05, row(md, n)
