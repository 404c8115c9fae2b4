"""Two-dimensional loss surfaces an optimizer can walk on, each a real ``torch`` function.

Every surface maps a batch of points ``θ`` of shape ``(K, 2)`` (float64) to ``(K,)`` losses, so
``K`` optimizers advance with one forward and one backward pass per step:

* ``saddle``: the notes' one-sample network ``L = (y − w₁w₂x)² = (1 − w₁w₂)²`` with ``x = y = 1``
  (seed 000 §2.2.5): a saddle at the origin, minima on the hyperbola ``w₁w₂ = 1``;
* ``rosenbrock``: ``(1 − x)² + 100(y − x²)²`` (Rosenbrock 1960), minimum (1, 1);
* ``ill_conditioned``: ``½θᵀAθ`` with ``A`` of eigenvalues 1 and 25 rotated by 30°;
* ``beale``: Beale's function (Beale 1958), minimum (3, 0.5);
* ``noisy_quadratic``: ``½θᵀAθ + σ ξₜᵀθ`` with ``A`` of eigenvalues 1 and 10 rotated by 30° and
  fresh Gaussian noise ``ξₜ`` at every step ``t`` (a stochastic gradient, as a mini-batch gives);
  the noise table is seeded, so every optimizer sees the same noise at the same step;
* ``tiny_net``: a 2-16-16-2 tanh MLP trained on 2-D moons with the one :class:`~dlcore.train.Trainer`,
  sliced along two filter-normalised random directions (Li et al. 2018,
  https://arxiv.org/abs/1712.09913): ``L(a, b) = CE(f(X; θ* + a·d₁ + b·d₂), Y)``, evaluated by the
  real network through :func:`torch.func.functional_call` (vectorised over the ``K`` points).

:func:`get_surface` returns the :class:`Surface` (cached; the tiny network trains once, ~1 s).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import torch

from dlcore.lazy import LazyCache
from dlcore.train.runtime import torch_threads
from dlcore.optim_viz.names import MAX_STEPS, SURFACE_NAMES, SURFACES, SurfaceInfo

__all__ = ["Surface", "get_surface", "surface_grid", "SurfaceGrid", "NOISE_SIGMA", "QUADRATIC_A", "ILL_A", "tiny_net_parts",
           "noise_table"]

#: Standard deviation σ of the noisy quadratic's gradient noise.
NOISE_SIGMA = 1.0
_ROT = math.radians(30.0)
_R = torch.tensor([[math.cos(_ROT), -math.sin(_ROT)], [math.sin(_ROT), math.cos(_ROT)]], dtype=torch.float64)
#: The noisy quadratic's curvature: R diag(1, 10) Rᵀ.
QUADRATIC_A = _R @ torch.diag(torch.tensor([1.0, 10.0], dtype=torch.float64)) @ _R.T
#: The ill-conditioned quadratic's curvature: R diag(1, 25) Rᵀ (condition number 25).
ILL_A = _R @ torch.diag(torch.tensor([1.0, 25.0], dtype=torch.float64)) @ _R.T

LossFn = Callable[[torch.Tensor, int], torch.Tensor]


@dataclass(frozen=True)
class Surface:
    """A loss surface over ``θ = (x, y)``.

    Attributes:
        name: key of :data:`dlcore.optim_viz.names.SURFACES`.
        info: its label, formula, plot box, default start and learning rates.
        fn: ``fn(θ (K, 2), step) -> (K,)``, the loss an optimizer sees at ``step`` (noisy for
            ``noisy_quadratic``).
        expected: ``expected(θ (K, 2)) -> (K,)``, the noise-free loss (contours, Hessian).
        stochastic: True when ``fn`` adds noise.
        closed_grad: ``closed_grad(θ (K, 2), step) -> (L (K,), ∇L (K, 2))`` derived by hand, or None
            (autograd; see :meth:`value_and_grad`).
    """

    name: str
    info: SurfaceInfo
    fn: LossFn
    expected: Callable[[torch.Tensor], torch.Tensor]
    stochastic: bool = False
    closed_grad: Callable[[torch.Tensor, int], tuple[torch.Tensor, torch.Tensor]] | None = None

    def loss(self, theta: torch.Tensor, step: int = 0) -> torch.Tensor:
        """The loss an optimizer sees at ``step``. Shape: ``(K, 2) -> (K,)``."""
        return self.fn(theta, step)

    def value_and_grad(self, theta: torch.Tensor, step: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        """``(L_step(θ), ∇L_step(θ))``, shapes ``(K,)`` and ``(K, 2)``, ``theta`` a plain ``(K, 2)`` tensor.

        The analytic surfaces use their hand-derived gradient (a handful of tensor operations; the
        tests check it against autograd at random points); ``tiny_net`` runs autograd through the
        network. For K = 6 points autograd's graph costs more than the arithmetic: on Rosenbrock,
        0.29 ms a step against 0.03 ms (this 2-core CPU, one thread)."""
        if self.closed_grad is not None:
            return self.closed_grad(theta, step)
        with torch.enable_grad():
            th = theta.detach().clone().requires_grad_(True)
            f = self.fn(th, step)
            g, = torch.autograd.grad(f.sum(), th)
        return f.detach(), g


def _saddle(t: torch.Tensor) -> torch.Tensor:
    w1, w2 = t[:, 0], t[:, 1]
    return (1.0 - w1 * w2) ** 2  # (K,)  seed: L = (y − w1·w2·x)², x = y = 1


def _rosenbrock(t: torch.Tensor) -> torch.Tensor:
    x, y = t[:, 0], t[:, 1]
    return (1.0 - x) ** 2 + 100.0 * (y - x ** 2) ** 2


def _beale(t: torch.Tensor) -> torch.Tensor:
    x, y = t[:, 0], t[:, 1]
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y ** 2) ** 2 + (2.625 - x + x * y ** 3) ** 2


def _quadratic(t: torch.Tensor) -> torch.Tensor:
    return 0.5 * torch.einsum("ki,ij,kj->k", t, QUADRATIC_A.to(t.dtype), t)  # ½ θᵀAθ, (K,)


def _ill(t: torch.Tensor) -> torch.Tensor:
    return 0.5 * torch.einsum("ki,ij,kj->k", t, ILL_A.to(t.dtype), t)  # ½ θᵀAθ, κ = 25, (K,)


# ----------------------------------------------------------------------------- hand-derived gradients
# Each returns (L (K,), ∇L (K, 2)) of the function above it; tests/dlcore/optim_viz/test_optim_surfaces.py
# checks every one against torch.autograd.

def _saddle_vg(t: torch.Tensor, step: int) -> tuple[torch.Tensor, torch.Tensor]:
    e = 1.0 - t[:, 0] * t[:, 1]                                   # (K,)
    return e * e, t.flip(1) * (-2.0 * e)[:, None]                 # ∂/∂w₁ = −2e·w₂, ∂/∂w₂ = −2e·w₁


def _rosenbrock_vg(t: torch.Tensor, step: int) -> tuple[torch.Tensor, torch.Tensor]:
    x = t[:, 0]
    r, u = t[:, 1] - x * x, 1.0 - x                               # (K,) each
    gx = torch.addcmul(-2.0 * u, x, r, value=-400.0)              # −2(1−x) − 400x(y−x²)
    return torch.addcmul(u * u, r, r, value=100.0), torch.stack((gx, 200.0 * r), 1)


def _beale_vg(t: torch.Tensor, step: int) -> tuple[torch.Tensor, torch.Tensor]:
    x, y = t[:, 0], t[:, 1]
    y2 = y * y
    y3 = y2 * y
    u1, u2, u3 = 1.5 - x + x * y, 2.25 - x + x * y2, 2.625 - x + x * y3  # the three residuals
    gx = 2.0 * (u1 * (y - 1.0) + u2 * (y2 - 1.0) + u3 * (y3 - 1.0))
    gy = 2.0 * x * (u1 + 2.0 * u2 * y + 3.0 * u3 * y2)
    return u1 * u1 + u2 * u2 + u3 * u3, torch.stack((gx, gy), 1)


def _quadratic_vg_of(a: torch.Tensor) -> Callable[[torch.Tensor, int], tuple[torch.Tensor, torch.Tensor]]:
    def vg(t: torch.Tensor, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        g = t @ a.to(t.dtype)                                     # Aθ per row (A symmetric), (K, 2)
        return 0.5 * (t * g).sum(1), g
    return vg


def _noisy_quadratic_vg(t: torch.Tensor, step: int) -> tuple[torch.Tensor, torch.Tensor]:
    xi = NOISE_SIGMA * noise_table(0)[step % MAX_STEPS].to(t.dtype)  # (2,)
    g = t @ QUADRATIC_A.to(t.dtype)
    return 0.5 * (t * g).sum(1) + t @ xi, g + xi                  # ∇ = Aθ + σξₜ


_NOISE: dict[int, torch.Tensor] = {}


def noise_table(seed: int = 0) -> torch.Tensor:
    """ξ₀ … ξ_{MAX_STEPS-1} ~ N(0, I₂), the noisy quadratic's noise. Shape ``(MAX_STEPS, 2)``."""
    if seed not in _NOISE:
        _NOISE[seed] = torch.randn(MAX_STEPS, 2, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return _NOISE[seed]


def _noisy_quadratic(t: torch.Tensor, step: int) -> torch.Tensor:
    xi = noise_table(0)[step % MAX_STEPS].to(t.dtype)  # (2,), the same for every optimizer
    return _quadratic(t) + NOISE_SIGMA * (t @ xi)  # ∇ = Aθ + σξₜ


# ----------------------------------------------------------------------------- the tiny network's slice
TINY_HIDDEN = (16, 16)
TINY_SAMPLES = 200


def _tiny_slice() -> tuple[Callable[[torch.Tensor], torch.Tensor], dict[str, Any]]:
    """Train the 2-16-16-2 MLP on moons (the one Trainer: Adam, full batch, 300 steps, seed 0) and
    return its slice ``fn(ab (K, 2)) -> (K,)`` and the parts a test needs to re-check it."""
    from dlcore.data.toys import make_toy_2d
    from dlcore.models import build_mlp
    from dlcore.optim_viz.directions import model_params, random_direction
    from dlcore.train import TrainConfig, Trainer, seed_everything

    split = make_toy_2d("moons", n_samples=TINY_SAMPLES, noise=0.2, seed=0)
    seed_everything(0)
    net = build_mlp(in_features=2, out_features=2, hidden=TINY_HIDDEN, activation="tanh")
    cfg = TrainConfig(optimizer="Adam", lr=0.02, epochs=300, batch_size=len(split.x_train), seed=0, num_threads=1)
    with torch.enable_grad():  # the first caller may be inside no_grad (a contour grid)
        hist = Trainer(net, (split.x_train, split.y_train), None, cfg).fit()
    net = net.double().eval().requires_grad_(False)
    base = model_params(net)
    d1, d2 = random_direction(base, seed=1), random_direction(base, seed=2)  # filter-normalised
    x, y = split.x_train.double(), split.y_train
    layers = [n[: -len(".weight")] for n in base if n.endswith(".weight")]  # blocks.0.linear, blocks.1.linear, head

    def fn(ab: torch.Tensor) -> torch.Tensor:
        """All K points at once: each point's weights θ* + a·d₁ + b·d₂ as a batch of matrices."""
        out = []
        for i in range(0, len(ab), 64):                                   # chunks bound the memory
            a, b = ab[i:i + 64, 0], ab[i:i + 64, 1]                       # (k,)
            h = x.expand(len(a), *x.shape)                                # (k, N, 2)
            for j, name in enumerate(layers):
                w = {s: base[f"{name}.{s}"] + a.reshape(-1, *[1] * base[f"{name}.{s}"].dim()) * d1[f"{name}.{s}"]
                     + b.reshape(-1, *[1] * base[f"{name}.{s}"].dim()) * d2[f"{name}.{s}"] for s in ("weight", "bias")}
                h = torch.baddbmm(w["bias"][:, None, :], h, w["weight"].transpose(1, 2))  # (k, N, out)
                if j < len(layers) - 1:
                    h = torch.tanh(h)                                     # the MLP's activation
            logp = torch.log_softmax(h, dim=-1)                           # (k, N, 2)
            out.append(-logp.gather(2, y.expand(len(a), -1)[..., None]).squeeze(-1).mean(1))  # CE per point (k,)
        return torch.cat(out) if out else ab.new_zeros(0)

    return fn, {"train_loss": hist.step_loss[-1], "net": net, "base": base, "d1": d1, "d2": d2, "x": x, "y": y}


_TINY: LazyCache[str, tuple] = LazyCache("tiny network slice", max_extra=1)


def _tiny(t: torch.Tensor) -> torch.Tensor:
    fn, _ = _TINY.get("tiny_net", _tiny_slice)
    return fn(t)


def tiny_net_parts() -> dict[str, Any]:
    """The trained tiny network, θ*, the two directions and the data behind the ``tiny_net`` slice."""
    return _TINY.get("tiny_net", _tiny_slice)[1]


_FNS: dict[str, tuple[Callable[[torch.Tensor], torch.Tensor], bool, Any]] = {  # expected, noisy, value_and_grad
    "saddle": (_saddle, False, _saddle_vg), "rosenbrock": (_rosenbrock, False, _rosenbrock_vg),
    "ill_conditioned": (_ill, False, _quadratic_vg_of(ILL_A)), "beale": (_beale, False, _beale_vg),
    "noisy_quadratic": (_quadratic, True, _noisy_quadratic_vg), "tiny_net": (_tiny, False, None),
}
assert tuple(_FNS) == SURFACE_NAMES


def get_surface(name: str) -> Surface:
    """The surface ``name`` (one of :data:`~dlcore.optim_viz.names.SURFACE_NAMES`).

    Raises:
        ValueError: an unknown name.
    """
    if not isinstance(name, str) or name not in _FNS:
        raise ValueError(f"surface {str(name)[:40]!r} is not one of {list(SURFACE_NAMES)}")
    expected, noisy, vg = _FNS[name]
    fn: LossFn = _noisy_quadratic if noisy else (lambda t, step, f=expected: f(t))
    return Surface(name, SURFACES[name], fn, expected, noisy, vg)


@dataclass(frozen=True)
class SurfaceGrid:
    """The noise-free loss on a regular grid, for contour plots.

    Attributes:
        xs: ``(n,)``; ys: ``(n,)``; loss: ``(n, n)`` with ``loss[i, j] = L(xs[j], ys[i])``.
    """

    xs: torch.Tensor
    ys: torch.Tensor
    loss: torch.Tensor


_GRIDS: LazyCache[tuple[str, int], SurfaceGrid] = LazyCache("surface grids", max_extra=16)


def surface_grid(surface: Surface, n: int | None = None) -> SurfaceGrid:
    """``surface.expected`` on an ``n × n`` grid over its box (cached per surface and n).

    Default n: 120, or 60 for ``tiny_net`` (every grid point is a forward pass of the network
    over its 150 training points: 60² take about 0.5 s on one core)."""
    if n is None:
        n = 60 if surface.name == "tiny_net" else 120
    def build() -> SurfaceGrid:
        x0, x1, y0, y1 = surface.info.box
        xs = torch.linspace(x0, x1, n, dtype=torch.float64)
        ys = torch.linspace(y0, y1, n, dtype=torch.float64)
        gy, gx = torch.meshgrid(ys, xs, indexing="ij")  # (n, n) each
        with torch.no_grad(), torch_threads(1):
            loss = surface.expected(torch.stack([gx.reshape(-1), gy.reshape(-1)], 1)).reshape(n, n)
        return SurfaceGrid(xs, ys, loss)
    return _GRIDS.get((surface.name, int(n)), build)
