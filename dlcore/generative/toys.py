"""Target distributions for the live GAN and DDPM panels: 2-D toys and the seed's 1-D Gaussian.

Every toy (:data:`TOYS`) can draw seeded samples and names its *modes* (centres and a
"3 sigma" radius) so mode collapse can be counted (:func:`mode_coverage`):

========== ==== ======================================================================
name       dim  what
========== ==== ======================================================================
ring       2    8 Gaussians on a circle of radius 2, std 0.02 (Metz et al. 2017,
                https://arxiv.org/abs/1611.02163, the mode-collapse benchmark)
grid       2    25 Gaussians on a 5x5 grid, spacing 2, std 0.05 (Srivastava et al. 2017
                VEEGAN, https://arxiv.org/abs/1705.07761)
two_moons  2    scikit-learn's moons via :func:`dlcore.data.make_toy_2d` (standardised)
spiral     2    the two-arm spiral of :func:`dlcore.data.make_toy_2d` (standardised)
swiss_roll 2    scikit-learn's swiss roll, ``(x, z)`` plane, standardised (the classic
                2-D diffusion toy)
gauss_1d   1    N(3, 2^2), seed 003 §dl_8_2 (``x0 = randn(N, 1) * 2 + 3``)
========== ==== ======================================================================

For the mixtures the modes are the true means (radius 3 sigma); for the curves they are the
centres of a seeded k-means over 8,000 points, with radius 3 x the cluster's per-axis RMS
spread. A mode counts as *covered* when at least ``min_share`` of the samples sit within its
radius (PacGAN/VEEGAN count >= 20 of 2,500 samples, i.e. 0.8 %, the default here).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Callable, Literal

import numpy as np
import torch

from dlcore.generative._checks import as_choice, as_float, as_int

__all__ = ["ToyName", "Toy", "TOYS", "GAN_TOYS", "DIFFUSION_TOYS", "MAX_TOY_SAMPLES", "get_toy", "sample_toy",
           "ModeCoverage", "mode_coverage", "gauss_1d_density"]

ToyName = Literal["ring", "grid", "two_moons", "spiral", "swiss_roll", "gauss_1d"]
MAX_TOY_SAMPLES = 20_000
_POOL = 8_000  # points drawn once for the finite toys (moons, spiral, swiss roll)


@dataclass(frozen=True)
class Toy:
    """One target distribution.

    Attributes:
        name, dim, title: identity (``title`` for a dropdown).
        draw: ``draw(n, generator) -> (n, dim)`` float32 samples.
        modes: ``() -> (centres (K, dim), radius (K,))``, the 3-sigma balls of the modes.
        extent: plot box ``(xmin, xmax, ymin, ymax)`` (1-D: ``(xmin, xmax, 0, 0)``).
        mean, std: the true moments for the 1-D toy (NaN otherwise).
    """

    name: str
    dim: int
    title: str
    draw: Callable[[int, torch.Generator], torch.Tensor]
    modes: Callable[[], tuple[torch.Tensor, torch.Tensor]]
    extent: tuple[float, float, float, float]
    mean: float = math.nan
    std: float = math.nan


def _mixture(centres: torch.Tensor, std: float) -> tuple[Callable, Callable]:
    def draw(n: int, g: torch.Generator) -> torch.Tensor:
        k = torch.randint(0, len(centres), (n,), generator=g)           # (n,) mode of each sample
        return centres[k] + std * torch.randn(n, centres.shape[1], generator=g)  # (n, d)

    def modes() -> tuple[torch.Tensor, torch.Tensor]:
        return centres, torch.full((len(centres),), 3 * std)
    return draw, modes


_RING = torch.tensor([[2 * math.cos(2 * math.pi * k / 8), 2 * math.sin(2 * math.pi * k / 8)] for k in range(8)])
_GRID = torch.tensor([[float(i), float(j)] for i in (-4, -2, 0, 2, 4) for j in (-4, -2, 0, 2, 4)])


@functools.lru_cache(maxsize=8)
def _pool(name: str) -> torch.Tensor:
    """A fixed pool of points for the curve toys (reusing :mod:`dlcore.data.toys`)."""
    if name == "swiss_roll":
        from sklearn.datasets import make_swiss_roll

        x, _ = make_swiss_roll(_POOL, noise=0.5, random_state=0)
        x = x[:, [0, 2]]
        x = (x - x.mean(0)) / x.std(0)
        return torch.tensor(x, dtype=torch.float32)
    from dlcore.data import make_toy_2d

    split = (make_toy_2d("moons", n_samples=_POOL, noise=0.05) if name == "two_moons"
             else make_toy_2d("spirals", n_samples=_POOL, noise=0.05, n_classes=2))
    return torch.cat([split.x_train, split.x_test]).float()  # (POOL, 2)


@functools.lru_cache(maxsize=8)
def _kmeans_modes(name: str, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    from sklearn.cluster import KMeans

    x = _pool(name).numpy()
    km = KMeans(n_clusters=k, n_init=4, random_state=0).fit(x)
    centres = km.cluster_centers_
    d2 = ((x - centres[km.labels_]) ** 2).sum(1)
    rms = np.array([math.sqrt(d2[km.labels_ == j].mean() / x.shape[1]) for j in range(k)])
    return torch.tensor(centres, dtype=torch.float32), torch.tensor(3 * rms, dtype=torch.float32)


def _curve(name: str, k: int) -> tuple[Callable, Callable]:
    def draw(n: int, g: torch.Generator) -> torch.Tensor:
        pool = _pool(name)
        return pool[torch.randint(0, len(pool), (n,), generator=g)]  # (n, 2)
    return draw, functools.partial(_kmeans_modes, name, k)


def _gauss_1d(n: int, g: torch.Generator) -> torch.Tensor:
    return torch.randn(n, 1, generator=g) * 2 + 3  # (n, 1): N(3, 2^2), the seed's x0


def gauss_1d_density(x: torch.Tensor, mean: float = 3.0, std: float = 2.0) -> torch.Tensor:
    """The N(3, 2^2) density ``exp(-(x - 3)^2 / 8) / (2 sqrt(2 pi))`` at ``x``."""
    return torch.exp(-0.5 * ((x - mean) / std) ** 2) / (std * math.sqrt(2 * math.pi))


TOYS: dict[str, Toy] = {
    "ring": Toy("ring", 2, "ring of 8 Gaussians", *_mixture(_RING, 0.02), extent=(-3, 3, -3, 3)),
    "grid": Toy("grid", 2, "grid of 25 Gaussians", *_mixture(_GRID, 0.05), extent=(-6, 6, -6, 6)),
    "two_moons": Toy("two_moons", 2, "two moons", *_curve("two_moons", 8), extent=(-2.5, 2.5, -2.5, 2.5)),
    "spiral": Toy("spiral", 2, "two-arm spiral", *_curve("spiral", 12), extent=(-2.5, 2.5, -2.5, 2.5)),
    "swiss_roll": Toy("swiss_roll", 2, "swiss roll", *_curve("swiss_roll", 12), extent=(-2.5, 2.5, -2.5, 2.5)),
    "gauss_1d": Toy("gauss_1d", 1, "N(3, 2²) (the seed's 1-D example)", _gauss_1d,
                    lambda: (torch.tensor([[3.0]]), torch.tensor([6.0])), extent=(-7, 13, 0, 0), mean=3.0, std=2.0),
}
#: The toys each panel offers (a dropdown reads these).
GAN_TOYS: tuple[str, ...] = ("ring", "grid", "two_moons", "spiral", "swiss_roll")
DIFFUSION_TOYS: tuple[str, ...] = ("gauss_1d", "swiss_roll", "two_moons", "spiral", "ring")


def get_toy(name: str) -> Toy:
    """The toy called ``name``. Raises ValueError for an unknown name."""
    return TOYS[as_choice("data set", name, TOYS)]


def sample_toy(name: str, n: int = 1000, seed: int = 0) -> torch.Tensor:
    """``n`` seeded samples of toy ``name``: ``(n, dim)`` float32.

    Raises:
        ValueError: for an unknown toy or ``n`` outside ``[1, MAX_TOY_SAMPLES]``.
    """
    toy = get_toy(name)
    n = as_int("number of samples", n, 1, MAX_TOY_SAMPLES)
    return toy.draw(n, torch.Generator().manual_seed(int(seed)))


@dataclass
class ModeCoverage:
    """How many modes the samples cover.

    Attributes:
        covered: modes with at least ``min_share`` of the samples within their radius.
        n_modes: ``K``. counts: samples per mode ``(K,)``. high_quality: share of samples
            within the radius of *some* mode (the rest are off the data).
    """

    covered: int
    n_modes: int
    counts: torch.Tensor
    high_quality: float
    min_share: float


def mode_coverage(samples: torch.Tensor, name: str, min_share: float = 0.008) -> ModeCoverage:
    """Assign each sample to its nearest mode if within that mode's 3-sigma radius.

    Args:
        samples: ``(N, dim)`` generated points. name: the toy they imitate.
        min_share: share of the samples a mode needs to count as covered (default 0.8 %).
    """
    centres, radius = get_toy(name).modes()
    share = as_float("min_share", min_share, 0.0, 1.0, lo_open=True)
    d = torch.cdist(samples.float(), centres)            # (N, K)
    dmin, k = d.min(dim=1)                                # (N,)
    hit = dmin <= radius[k]
    counts = torch.bincount(k[hit], minlength=len(centres))
    n = max(samples.shape[0], 1)
    return ModeCoverage(int((counts >= share * n).sum()), len(centres), counts, float(hit.float().mean()), share)
