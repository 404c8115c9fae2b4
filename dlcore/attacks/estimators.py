"""Gradient estimates from queries only (no access to the model's weights or gradients).

Each estimator takes ``f``, a function from a stack of ``K`` perturbed copies of a batch,
``(K, B, *S)``, to their losses ``(K, B)`` (every copy is one *query*), and the batch ``x``
``(B, *S)``; it returns ``(ĝ (B, *S), f(x) (B,) or None, queries per image)``.

* **Finite differences** (the notes, seed 000 §9.1.1): one query per coordinate,
  ``ĝ_i = (f(x + δ e_i) − f(x)) / δ`` (forward) or ``(f(x + δ e_i) − f(x − δ e_i)) / 2δ``
  (central). Exact as δ → 0 (error O(δ), resp. O(δ²)) but ``D + 1`` (``2D``) queries per
  estimate: 785 for one 28×28 image.
* **NES** (Ilyas et al. 2018, https://arxiv.org/abs/1804.08598, Alg. 1): Gaussian search
  directions in antithetic pairs, ``ĝ = 1/(n σ) Σ_{i≤n/2} (f(x + σu_i) − f(x − σu_i)) u_i``,
  ``u_i ~ N(0, I)`` — an unbiased estimate of the gradient of the Gaussian-smoothed loss, with
  ``n`` queries whatever the dimension (their defaults: σ = 0.001, n = 50).
* **SPSA** (Spall 1992; used as an attack by Uesato et al. 2018,
  https://arxiv.org/abs/1802.05666): the same with Rademacher ``v_i ∈ {−1, +1}^D`` and
  ``ĝ = 1/n Σ (f(x + δv_i) − f(x − δv_i)) / (2δ) · v_i`` (since ``1/v = v``); CleverHans'
  defaults δ = 0.01, n = 128.

For a quadratic loss the central difference, NES and SPSA are all unbiased for the true
gradient (the curvature term cancels between ``+`` and ``−``), which the tests check.
"""

from __future__ import annotations

from typing import Callable, Literal

import torch

__all__ = ["LossOracle", "finite_difference", "nes", "spsa", "ESTIMATORS", "FDScheme"]

#: ``f(xs) -> losses``: ``(K, B, *S) -> (K, B)``; each of the K·B inputs is one query.
LossOracle = Callable[[torch.Tensor], torch.Tensor]
FDScheme = Literal["forward", "central"]
#: Most perturbed copies evaluated at once (memory cap: K·B images).
CHUNK = 4096


def finite_difference(f: LossOracle, x: torch.Tensor, delta: float = 1e-3, scheme: FDScheme = "forward"
                      ) -> tuple[torch.Tensor, torch.Tensor | None, int]:
    """Coordinate-wise finite differences (the notes' ``gradient_estimation``), batched.

    Shape: ``x`` ``(B, *S)`` -> ``ĝ`` ``(B, *S)``, ``f(x)`` ``(B,)``; queries ``D + 1`` (forward,
    ``f(x)`` included) or ``2D`` (central) per image.
    """
    b, d = x.shape[0], x[0].numel()
    flat = x.reshape(b, d)  # (B, D)
    grad = torch.empty_like(flat)
    fx = f(x.unsqueeze(0))[0] if scheme == "forward" else None  # (B,)
    k = max(1, CHUNK // b)  # coordinates per chunk
    for start in range(0, d, k):
        idx = torch.arange(start, min(start + k, d), device=x.device)  # (k,)
        e = torch.zeros(len(idx), 1, d, device=x.device, dtype=x.dtype)  # (k, 1, D)
        e[torch.arange(len(idx)), 0, idx] = delta  # δ·e_i
        plus = f((flat.unsqueeze(0) + e).reshape(len(idx), b, *x.shape[1:]))  # (k, B)
        if scheme == "forward":
            grad[:, idx] = ((plus - fx.unsqueeze(0)) / delta).T  # (f(x + δe_i) − f(x)) / δ
        else:
            minus = f((flat.unsqueeze(0) - e).reshape(len(idx), b, *x.shape[1:]))
            grad[:, idx] = ((plus - minus) / (2 * delta)).T
    return grad.reshape_as(x), fx, d + 1 if scheme == "forward" else 2 * d


def _antithetic(f: LossOracle, x: torch.Tensor, dirs: torch.Tensor, scale: float) -> torch.Tensor:
    """``mean_i (f(x + s·u_i) − f(x − s·u_i)) / (2s) · u_i`` over directions ``u`` ``(P, B, *S)``."""
    total = torch.zeros_like(x)
    per = max(1, CHUNK // (2 * x.shape[0]))
    for start in range(0, len(dirs), per):
        u = dirs[start:start + per]  # (p, B, *S)
        diff = f(x.unsqueeze(0) + scale * u) - f(x.unsqueeze(0) - scale * u)  # (p, B)
        total += (diff.view(*diff.shape, *([1] * (x.dim() - 1))) * u).sum(0) / (2 * scale)
    return total / len(dirs)


def nes(f: LossOracle, x: torch.Tensor, sigma: float = 1e-3, samples: int = 50,
        generator: torch.Generator | None = None) -> tuple[torch.Tensor, None, int]:
    """NES with antithetic Gaussian directions (Ilyas et al. 2018). ``samples`` (even) queries."""
    u = torch.randn(samples // 2, *x.shape, generator=generator, device=x.device, dtype=x.dtype)  # (n/2, B, *S)
    return _antithetic(f, x, u, sigma), None, 2 * (samples // 2)


def spsa(f: LossOracle, x: torch.Tensor, delta: float = 0.01, samples: int = 128,
         generator: torch.Generator | None = None) -> tuple[torch.Tensor, None, int]:
    """SPSA with Rademacher directions (Uesato et al. 2018). ``samples`` (even) queries."""
    v = torch.randint(0, 2, (samples // 2, *x.shape), generator=generator, device=x.device).to(x.dtype) * 2 - 1
    return _antithetic(f, x, v, delta), None, 2 * (samples // 2)


#: name -> estimator, for the black-box attacks and a dropdown.
ESTIMATORS: dict[str, Callable[..., tuple[torch.Tensor, torch.Tensor | None, int]]] = {
    "finite_difference": finite_difference, "nes": nes, "spsa": spsa,
}
