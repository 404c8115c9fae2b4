"""Local minimum or saddle point? The gradient, the Hessian and its eigenvalues at a point.

Seed 000 §2.2.5 (局部极小值 OR 鞍点?): around θ' the loss is, to second order (Taylor),

    L(θ) ≈ L(θ') + (θ − θ')ᵀ g + ½ (θ − θ')ᵀ H (θ − θ'),    g_i = ∂L/∂θ_i,  H_ij = ∂²L/∂θ_i∂θ_j

At a critical point (g = 0) the quadratic form ½uᵀHu decides: all eigenvalues λ of H positive →
a local minimum, all negative → a local maximum, mixed signs → a saddle. For an eigenvector u of
H, uᵀHu = λ‖u‖², so along the eigenvector of a negative λ the loss goes **down**:
L(θ' + u) ≈ L(θ') + ½λ‖u‖² < L(θ') — the escape direction. (The notes write
uᵀHu = −uᵀ(λu) = −λ‖u‖²; the minus signs are a slip: with them a negative λ would make the loss
go up, the opposite of the conclusion the notes draw next. See :data:`SEED_CORRECTION`.)

The notes' example: one sample x = y = 1, L = (1 − w₁w₂)², H = [[2w₂², −2 + 4w₁w₂],
[−2 + 4w₁w₂, 2w₁²]] = [[0, −2], [−2, 0]] at the origin, λ = −2 and 2: a saddle; escape along
(1, 1)/√2. Here the Hessian is ``torch.autograd.functional.hessian`` of the real function and the
eigen-decomposition ``torch.linalg.eigh``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from dlcore.optim_viz.names import Verdict
from dlcore.optim_viz.surfaces import Surface

__all__ = ["PointReport", "inspect_point", "SEED_CORRECTION", "GRAD_TOL", "EIG_TOL"]

#: ‖g‖ below this (relative to 1 + |L|) counts as a critical point.
GRAD_TOL = 1e-6
#: |λ| below this (relative to 1 + max|λ|) counts as zero curvature.
EIG_TOL = 1e-9
SEED_CORRECTION = ("The notes write uᵀHu = −uᵀ(λu) = −λ‖u‖²; it is uᵀHu = uᵀ(λu) = +λ‖u‖² (Hu = λu). With the "
                   "notes' sign a negative λ would make the loss rise along u; with the right sign it falls, "
                   "which is the notes' own conclusion (L(θ) < L(θ') when λ < 0).")


@dataclass(frozen=True)
class PointReport:
    """What the second-order test says at one point.

    Attributes:
        surface: the surface's name. point: θ' ``(2,)``. loss: L(θ').
        grad: g ``(2,)``; grad_norm: ‖g‖.
        hessian: H ``(2, 2)``.
        eigenvalues: λ ascending ``(2,)``; eigenvectors: the columns, ``(2, 2)``.
        verdict: ``minimum`` / ``maximum`` / ``saddle`` (g ≈ 0), ``degenerate`` (g ≈ 0 and a λ ≈ 0:
            the test cannot decide), ``not critical`` (g ≠ 0).
        escape: the unit eigenvector of the most negative λ (sign chosen so that gᵀu ≤ 0), or None
            when no λ is negative.
        step: the step length s used for the check below.
        loss_after: L(θ' + s·u) along ``escape`` (the real function).
        taylor_after: L(θ') + s·gᵀu + ½λs² (the notes' second-order prediction).
        window: ``(xs (n,), ys (n,), loss (n, n), taylor (n, n))`` around the point: the real loss and
            its second-order model L(θ') + uᵀg + ½uᵀHu, for the picture (``[i, j]`` at ``(xs[j], ys[i])``).
    """

    surface: str
    point: torch.Tensor
    loss: float
    grad: torch.Tensor
    grad_norm: float
    hessian: torch.Tensor
    eigenvalues: torch.Tensor
    eigenvectors: torch.Tensor
    verdict: Verdict
    escape: torch.Tensor | None
    step: float
    loss_after: float | None
    taylor_after: float | None
    window: tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]


def _verdict(gnorm: float, loss: float, lam: torch.Tensor) -> Verdict:
    if gnorm > GRAD_TOL * (1 + abs(loss)):
        return "not critical"
    tol = EIG_TOL * (1 + float(lam.abs().max()))
    if bool((lam.abs() <= tol).any()):
        return "degenerate"
    if bool((lam > 0).all()):
        return "minimum"
    if bool((lam < 0).all()):
        return "maximum"
    return "saddle"


def inspect_point(surface: Surface, point: tuple[float, float], step: float = 1.0, radius: float | None = None,
                  n: int = 61) -> PointReport:
    """Gradient, Hessian, eigen-decomposition and verdict of ``surface`` at ``point``.

    Args:
        surface: from :func:`~dlcore.optim_viz.surfaces.get_surface` (its noise-free loss is used).
        point: θ' = (x, y), finite, |x|, |y| ≤ 1e4.
        step: s > 0, how far to walk along the escape direction for the check (default 1, the
            notes' θ = θ' + u with ‖u‖ = 1).
        radius: half-width of the picture's window (default: a quarter of the surface's box).
        n: window grid side (default 61).

    Raises:
        ValueError: a non-finite or huge point, or a bad step.
    """
    if len(point) != 2 or not all(isinstance(v, (int, float)) and math.isfinite(v) and abs(v) <= 1e4 for v in point):
        raise ValueError(f"point {point!r} must be two finite numbers with |x|, |y| ≤ 10000")
    if not (isinstance(step, (int, float)) and math.isfinite(step) and 0 < step <= 100):
        raise ValueError(f"step length {step!r} must be in (0, 100]")
    theta = torch.tensor([float(point[0]), float(point[1])], dtype=torch.float64)

    def f(p: torch.Tensor) -> torch.Tensor:
        return surface.expected(p[None])[0]

    x = theta.clone().requires_grad_(True)
    value = f(x)
    g, = torch.autograd.grad(value, x)                                   # 1. gradient (2,)
    h = torch.autograd.functional.hessian(f, theta)                      # 2. Hessian (2, 2)
    h = 0.5 * (h + h.T)                                                  #    symmetric up to rounding
    lam, vecs = torch.linalg.eigh(h)                                     # 3. λ ascending, eigenvectors as columns
    loss, gnorm = float(value.detach()), float(g.norm())
    verdict = _verdict(gnorm, loss, lam)
    escape = after = taylor = None
    if float(lam[0]) < -EIG_TOL * (1 + float(lam.abs().max())):          # 4. a direction of negative curvature
        u = vecs[:, 0].clone()
        gu = float(g @ u)
        if gu > 0 or (gu == 0 and float(u[u.abs().argmax()]) < 0):      # downhill; at g = 0: largest entry > 0
            u = -u
        escape = u
        with torch.no_grad():
            after = float(f(theta + step * u))
        taylor = loss + step * float(g @ u) + 0.5 * float(lam[0]) * step ** 2
    return PointReport(surface.name, theta, loss, g.detach(), gnorm, h, lam, vecs, verdict, escape, float(step),
                       after, taylor, _window(theta, loss, g.detach(), h, radius, surface, n))


def _window(theta: torch.Tensor, loss: float, g: torch.Tensor, h: torch.Tensor, radius: float | None,
            surface: Surface, n: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    x0, x1, y0, y1 = surface.info.box
    r = radius if radius is not None else max(x1 - x0, y1 - y0) / 4
    xs = torch.linspace(float(theta[0]) - r, float(theta[0]) + r, n, dtype=torch.float64)
    ys = torch.linspace(float(theta[1]) - r, float(theta[1]) + r, n, dtype=torch.float64)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    pts = torch.stack([gx.reshape(-1), gy.reshape(-1)], 1)               # (n², 2)
    with torch.no_grad():
        real = surface.expected(pts).reshape(n, n)
    u = pts - theta                                                      # (n², 2): θ − θ'
    quad = loss + u @ g + 0.5 * torch.einsum("ki,ij,kj->k", u, h, u)     # the notes' Taylor model
    return xs, ys, real, quad.reshape(n, n)
