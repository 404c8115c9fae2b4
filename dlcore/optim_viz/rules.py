"""Every update rule of the registry written out by hand, with the numbers substituted.

Seed 003 §dl_1_4_1 (优化器) gives the rules; ``torch.optim`` implements them. Each function here
takes θ_t, g_t, the optimizer's state before step t and its hyper-parameters (read from the
optimizer's ``param_groups``, so the same ε and β's) and returns θ_{t+1}, the new state and the
lines of the computation. The tests check θ_{t+1} and the state against ``torch.optim`` for 100
steps of every optimizer (``assert_close``).

Where ``torch.optim`` and the notes differ, the hand-written rule follows torch (it must equal
it) and a :class:`Line` with ``seed_form=True`` gives the notes' formula with the same numbers:

* Momentum: the notes average, ``v_t = βv_{t−1} + (1−β)g_t``; torch sums, ``b_t = βb_{t−1} + g_t``
  (first step ``b_1 = g_1``). So ``v_t = (1−β)·b_t`` exactly and the notes' rule with
  ``η/(1−β)`` takes torch's step.
* Adagrad and RMSprop: the notes divide by ``√(G + ε)``; torch by ``√G + ε``.
* RAdam (seed 000 §2.2.1 names it): torch adds ε to ``√v_t`` and multiplies by ``√(1−β₂ᵗ)``
  (Liu et al. 2020, https://arxiv.org/abs/1908.03265, Algorithm 2).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import torch

__all__ = ["Line", "StepResult", "RULES", "hand_step", "vec"]

State = dict[str, torch.Tensor]


def vec(t: torch.Tensor | float, digits: int = 6) -> str:
    """A value as LaTeX: a number, or a tuple ``(a,\\ b)`` for a 2-vector."""
    if isinstance(t, torch.Tensor) and t.numel() > 1:
        return r"(" + r",\ ".join(_num(float(v), digits) for v in t.reshape(-1)) + r")"
    return _num(float(t), digits)


def _num(v: float, digits: int) -> str:
    if v != v or math.isinf(v):
        return r"\text{" + str(v) + "}"
    s = f"{v:.{digits}g}"
    if "e" in s:
        m, e = s.split("e")
        s = rf"{m}\times10^{{{int(e)}}}"
    return s


@dataclass(frozen=True)
class Line:
    """One line of a worked step.

    Attributes:
        symbol: LaTeX of the quantity (``m_t``).
        formula: the rule in LaTeX (``\\beta_1 m_{t-1} + (1-\\beta_1) g_t``).
        substituted: the rule with this step's numbers.
        value: the result (a tensor of θ's shape, or a 0-d tensor).
        seed_form: True when this line is the notes' formula where torch computes otherwise.
    """

    symbol: str
    formula: str
    substituted: str
    value: torch.Tensor
    seed_form: bool = False


@dataclass(frozen=True)
class StepResult:
    """θ_{t+1}, the state after step t, and the lines that computed them."""

    theta: torch.Tensor
    state: State
    lines: list[Line]


Rule = Callable[[torch.Tensor, torch.Tensor, State, dict[str, Any], int], StepResult]


def _sgd(theta: torch.Tensor, g: torch.Tensor, s: State, h: dict[str, Any], t: int) -> StepResult:
    lr = h["lr"]
    new = theta - lr * g
    return StepResult(new, {}, [Line(r"\theta_{t+1}", r"\theta_t - \eta\, g_t",
                                     rf"{vec(theta)} - {vec(lr)}\cdot{vec(g)}", new)])


def _momentum(theta: torch.Tensor, g: torch.Tensor, s: State, h: dict[str, Any], t: int,
              nesterov: bool = False) -> StepResult:
    lr, mu = h["lr"], h["momentum"]
    prev = s.get("momentum_buffer")
    if prev is None:                                      # torch: the first buffer is g itself
        b = g.clone()
        lines = [Line(r"b_t", r"g_t \ \ (\text{first step})", vec(g), b)]
    else:
        b = mu * prev + g
        lines = [Line(r"b_t", r"\beta\, b_{t-1} + g_t", rf"{vec(mu)}\cdot{vec(prev)} + {vec(g)}", b)]
    if nesterov:
        d = g + mu * b
        lines.append(Line(r"d_t", r"g_t + \beta\, b_t", rf"{vec(g)} + {vec(mu)}\cdot{vec(b)}", d))
        new = theta - lr * d
        lines.append(Line(r"\theta_{t+1}", r"\theta_t - \eta\, d_t", rf"{vec(theta)} - {vec(lr)}\cdot{vec(d)}", new))
        return StepResult(new, {"momentum_buffer": b}, lines)
    new = theta - lr * b
    lines.append(Line(r"\theta_{t+1}", r"\theta_t - \eta\, b_t", rf"{vec(theta)} - {vec(lr)}\cdot{vec(b)}", new))
    v = (1 - mu) * b                                      # the notes' averaged v_t = (1−β)·b_t
    lines.append(Line(r"v_t", r"\beta v_{t-1} + (1-\beta) g_t = (1-\beta)\, b_t", rf"{vec(1 - mu)}\cdot{vec(b)}",
                      v, seed_form=True))
    if mu < 1:
        seed_lr = lr / (1 - mu)
        lines.append(Line(r"\theta_{t+1}", r"\theta_t - \tfrac{\eta}{1-\beta}\, v_t",
                          rf"{vec(theta)} - {vec(seed_lr)}\cdot{vec(v)}", theta - seed_lr * v, seed_form=True))
    return StepResult(new, {"momentum_buffer": b}, lines)


def _nesterov(theta: torch.Tensor, g: torch.Tensor, s: State, h: dict[str, Any], t: int) -> StepResult:
    return _momentum(theta, g, s, h, t, nesterov=True)


def _adagrad(theta: torch.Tensor, g: torch.Tensor, s: State, h: dict[str, Any], t: int) -> StepResult:
    lr, eps = h["lr"] / (1 + (t - 1) * h.get("lr_decay", 0.0)), h["eps"]
    G0 = s["sum"]
    G = G0 + g * g
    new = theta - lr * g / (G.sqrt() + eps)
    seed = theta - lr * g / (G + eps).sqrt()
    return StepResult(new, {"sum": G}, [
        Line(r"G_t", r"G_{t-1} + g_t^2", rf"{vec(G0)} + {vec(g)}^2", G),
        Line(r"\theta_{t+1}", r"\theta_t - \frac{\eta}{\sqrt{G_t} + \epsilon}\, g_t",
             rf"{vec(theta)} - \frac{{{vec(lr)}}}{{\sqrt{{{vec(G)}}} + {vec(eps)}}}\cdot{vec(g)}", new),
        Line(r"\theta_{t+1}", r"\theta_t - \frac{\eta}{\sqrt{G_t + \epsilon}}\, g_t",
             rf"{vec(theta)} - \frac{{{vec(lr)}}}{{\sqrt{{{vec(G)} + {vec(eps)}}}}}\cdot{vec(g)}", seed, True)])


def _rmsprop(theta: torch.Tensor, g: torch.Tensor, s: State, h: dict[str, Any], t: int) -> StepResult:
    lr, beta, eps = h["lr"], h["alpha"], h["eps"]
    E0 = s["square_avg"]
    E = beta * E0 + (1 - beta) * g * g
    new = theta - lr * g / (E.sqrt() + eps)
    seed = theta - lr * g / (E + eps).sqrt()
    return StepResult(new, {"square_avg": E}, [
        Line(r"E[g^2]_t", r"\beta E[g^2]_{t-1} + (1-\beta) g_t^2",
             rf"{vec(beta)}\cdot{vec(E0)} + {vec(1 - beta)}\cdot{vec(g)}^2", E),
        Line(r"\theta_{t+1}", r"\theta_t - \frac{\eta}{\sqrt{E[g^2]_t} + \epsilon}\, g_t",
             rf"{vec(theta)} - \frac{{{vec(lr)}}}{{\sqrt{{{vec(E)}}} + {vec(eps)}}}\cdot{vec(g)}", new),
        Line(r"\theta_{t+1}", r"\theta_t - \frac{\eta}{\sqrt{E[g^2]_t + \epsilon}}\, g_t",
             rf"{vec(theta)} - \frac{{{vec(lr)}}}{{\sqrt{{{vec(E)} + {vec(eps)}}}}}\cdot{vec(g)}", seed, True)])


def _moments(g: torch.Tensor, s: State, b1: float, b2: float, t: int) -> tuple[torch.Tensor, torch.Tensor, list[Line]]:
    m0, v0 = s["exp_avg"], s["exp_avg_sq"]
    m = b1 * m0 + (1 - b1) * g
    v = b2 * v0 + (1 - b2) * g * g
    return m, v, [Line(r"m_t", r"\beta_1 m_{t-1} + (1-\beta_1) g_t",
                       rf"{vec(b1)}\cdot{vec(m0)} + {vec(1 - b1)}\cdot{vec(g)}", m),
                  Line(r"v_t", r"\beta_2 v_{t-1} + (1-\beta_2) g_t^2",
                       rf"{vec(b2)}\cdot{vec(v0)} + {vec(1 - b2)}\cdot{vec(g)}^2", v)]


def _adam(theta: torch.Tensor, g: torch.Tensor, s: State, h: dict[str, Any], t: int) -> StepResult:
    lr, (b1, b2), eps = h["lr"], h["betas"], h["eps"]
    wd = h.get("weight_decay", 0.0) if h.get("decoupled_weight_decay", False) else 0.0
    m, v, lines = _moments(g, s, b1, b2, t)
    c1, c2 = 1 - b1 ** t, 1 - b2 ** t
    mh, vh = m / c1, v / c2
    lines += [Line(r"\hat m_t", r"\frac{m_t}{1-\beta_1^t}", rf"\frac{{{vec(m)}}}{{1-{vec(b1)}^{{{t}}}}}", mh),
              Line(r"\hat v_t", r"\frac{v_t}{1-\beta_2^t}", rf"\frac{{{vec(v)}}}{{1-{vec(b2)}^{{{t}}}}}", vh)]
    step = lr * mh / (vh.sqrt() + eps)
    lines.append(Line(r"\Delta_t", r"\eta\,\frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}",
                      rf"{vec(lr)}\cdot\frac{{{vec(mh)}}}{{\sqrt{{{vec(vh)}}} + {vec(eps)}}}", step))
    if wd:                                                # AdamW: decoupled decay (1 − ηλ)θ_t
        new = (1 - lr * wd) * theta - step
        lines.append(Line(r"\theta_{t+1}", r"(1-\eta\lambda)\,\theta_t - \Delta_t",
                          rf"(1-{vec(lr)}\cdot{vec(wd)})\cdot{vec(theta)} - {vec(step)}", new))
    else:
        new = theta - step
        lines.append(Line(r"\theta_{t+1}", r"\theta_t - \Delta_t", rf"{vec(theta)} - {vec(step)}", new))
    return StepResult(new, {"exp_avg": m, "exp_avg_sq": v}, lines)


def _radam(theta: torch.Tensor, g: torch.Tensor, s: State, h: dict[str, Any], t: int) -> StepResult:
    lr, (b1, b2), eps = h["lr"], h["betas"], h["eps"]
    m, v, lines = _moments(g, s, b1, b2, t)
    c1, c2 = 1 - b1 ** t, 1 - b2 ** t
    mh = m / c1
    rho_inf = 2 / (1 - b2) - 1
    rho = rho_inf - 2 * t * b2 ** t / c2
    lines += [Line(r"\hat m_t", r"\frac{m_t}{1-\beta_1^t}", rf"\frac{{{vec(m)}}}{{1-{vec(b1)}^{{{t}}}}}", mh),
              Line(r"\rho_t", r"\rho_\infty - \frac{2t\beta_2^t}{1-\beta_2^t},\ \ \rho_\infty = \frac{2}{1-\beta_2} - 1",
                   rf"{vec(rho_inf)} - \frac{{2\cdot{t}\cdot{vec(b2)}^{{{t}}}}}{{{vec(c2)}}}", torch.tensor(rho))]
    if rho > 5.0:                                         # the variance of the adaptive term is tractable
        r = math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
        ad = math.sqrt(c2) / (v.sqrt() + eps)
        step = lr * mh * r * ad
        lines += [Line(r"r_t", r"\sqrt{\frac{(\rho_t-4)(\rho_t-2)\rho_\infty}{(\rho_\infty-4)(\rho_\infty-2)\rho_t}}",
                       rf"\text{{with }}\rho_t = {vec(rho)}", torch.tensor(r)),
                  Line(r"\Delta_t", r"\eta\, r_t\, \hat m_t\, \frac{\sqrt{1-\beta_2^t}}{\sqrt{v_t} + \epsilon}",
                       rf"{vec(lr)}\cdot{vec(r)}\cdot{vec(mh)}\cdot\frac{{\sqrt{{{vec(c2)}}}}}{{\sqrt{{{vec(v)}}} + {vec(eps)}}}",
                       step)]
    else:                                                 # ρ_t ≤ 5: no adaptive term yet (a built-in warm-up)
        step = lr * mh
        lines.append(Line(r"\Delta_t", r"\eta\, \hat m_t \ \ (\rho_t \le 5)", rf"{vec(lr)}\cdot{vec(mh)}", step))
    new = theta - step
    lines.append(Line(r"\theta_{t+1}", r"\theta_t - \Delta_t", rf"{vec(theta)} - {vec(step)}", new))
    return StepResult(new, {"exp_avg": m, "exp_avg_sq": v}, lines)


#: optimizer name -> its hand-written rule (keys = the registry's names; tested).
RULES: dict[str, Rule] = {"SGD": _sgd, "Momentum": _momentum, "Nesterov": _nesterov, "Adagrad": _adagrad,
                          "RMSprop": _rmsprop, "Adam": _adam, "AdamW": _adam, "RAdam": _radam}


def hand_step(name: str, theta: torch.Tensor, grad: torch.Tensor, state: State, hyper: dict[str, Any],
              t: int) -> StepResult:
    """Step ``t`` (1, 2, …) of optimizer ``name`` by hand.

    Args:
        name: a registry name. theta, grad: θ_t and g_t (same shape).
        state: the optimizer's state before the step, with torch's names (``exp_avg``, ``sum``, …;
            empty before the first step, except Adagrad's ``sum`` and the Adam family's zeros).
        hyper: the optimizer's param group (``lr``, ``betas``, ``eps``, ``momentum``, ``alpha``, …).
        t: the step number, from 1.

    Raises:
        ValueError: an unknown name or a step number below 1.
    """
    if name not in RULES:
        raise ValueError(f"optimizer {name!r} has no hand-written rule; choose from {list(RULES)}")
    if t < 1:
        raise ValueError(f"step t = {t} must be ≥ 1")
    coupled = hyper.get("weight_decay", 0.0) and not hyper.get("decoupled_weight_decay", False)
    if coupled:                                            # L2 in the gradient: g ← g + λθ (torch's weight_decay)
        grad = grad + hyper["weight_decay"] * theta
    if name in ("Adam", "AdamW", "RAdam"):
        state = {"exp_avg": state.get("exp_avg", torch.zeros_like(theta)),
                 "exp_avg_sq": state.get("exp_avg_sq", torch.zeros_like(theta))}
    elif name == "Adagrad":
        state = {"sum": state.get("sum", torch.full_like(theta, hyper.get("initial_accumulator_value", 0.0)))}
    elif name == "RMSprop":
        state = {"square_avg": state.get("square_avg", torch.zeros_like(theta))}
    return RULES[name](theta, grad, state, hyper, t)
