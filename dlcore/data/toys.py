"""Toy data sets: the seed notes' generators (exact arguments and seeds) and 2-D/1-D toys.

Seed 003 §dl_2_2 / §dl_2_3 build their classification sets as::

    torch.manual_seed(123); np.random.seed(321)
    X, y = make_classification(n_samples=2000, n_features=10, n_informative=8,
                               n_redundant=2, n_repeated=0, n_classes=2 (or 5),
                               flip_y=0.15, class_sep=0.8)
    train_test_split(X, y, test_size=0.2, random_state=42); StandardScaler fitted on train

:func:`seed_classification` reproduces those arrays bit for bit without touching the global
NumPy state (``RandomState(321)`` draws the same stream as ``np.random.seed(321)``).
The 2-D sets (moons, circles, spirals, blobs) are TensorFlow-Playground-style toys that
a decision boundary can be drawn for; the 1-D sets are the seeds' sine examples.
"""

from __future__ import annotations

import functools
import math
from typing import Callable, Literal

import numpy as np
import torch

from dlcore.data.split import DataSplit

__all__ = [
    "Toy2D", "TOY_2D", "seed_classification", "seed_linear_regression", "make_toy_2d",
    "sine_regression", "sine_sequence", "TOY_DATASETS", "load_toy",
]

Toy2D = Literal["moons", "circles", "spirals", "blobs"]
TOY_2D: tuple[str, ...] = ("moons", "circles", "spirals", "blobs")


def _frozen(split: DataSplit) -> DataSplit:
    """Mark a cached split: its tensors are shared between callers, never edit in place."""
    return split


@functools.lru_cache(maxsize=8)
def seed_classification(n_classes: Literal[2, 5] = 2, n_samples: int = 2000,
                        n_features: int = 10) -> DataSplit:
    """Seed 003 §dl_2_2 (``n_classes=2``) / §dl_2_3 (``n_classes=5``) data, exactly.

    Args:
        n_classes: 2 -> task ``"binary"``, targets float32 ``(N, 1)`` for ``BCELoss``;
            5 (or any >2) -> ``"multiclass"``, int64 ``(N,)`` for ``CrossEntropyLoss``.
        n_samples: 2000 in the seed (1,600 train / 400 test).
        n_features: 10 in the seed (8 informative, 2 redundant).

    Raises:
        ValueError: if the arguments break ``make_classification``'s rules.
    """
    from sklearn.datasets import make_classification
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    if n_features < 10:
        raise ValueError(f"n_features {n_features} must be >= 10 (8 informative + 2 redundant)")
    if not 2 <= n_classes <= 10:
        raise ValueError(f"n_classes {n_classes} must be between 2 and 10")
    if n_samples < 50:
        raise ValueError(f"n_samples {n_samples} must be at least 50")
    x, y = make_classification(n_samples=n_samples, n_features=n_features, n_informative=8,
                               n_redundant=2, n_repeated=0, n_classes=n_classes,
                               flip_y=0.15, class_sep=0.8,
                               random_state=np.random.RandomState(321))
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.2, random_state=42)
    scaler = StandardScaler()
    xtr = scaler.fit_transform(xtr)
    xte = scaler.transform(xte)
    binary = n_classes == 2

    def lab(a: np.ndarray) -> torch.Tensor:
        if binary:
            return torch.tensor(a, dtype=torch.float32).view(-1, 1)  # (N, 1)
        return torch.tensor(a, dtype=torch.long)  # (N,)

    return _frozen(DataSplit(
        f"seed_{'binary' if binary else 'multiclass'}", "binary" if binary else "multiclass",
        torch.tensor(xtr, dtype=torch.float32), lab(ytr),
        torch.tensor(xte, dtype=torch.float32), lab(yte), n_classes, "generated",
        f"seed 003 §dl_2_{2 if binary else 3}: make_classification(n_samples={n_samples}, "
        f"n_features={n_features}, n_informative=8, n_redundant=2, n_classes={n_classes}, "
        "flip_y=0.15, class_sep=0.8), np seed 321, split random_state=42, StandardScaler",
        tuple(f"class {i}" for i in range(n_classes))))


@functools.lru_cache(maxsize=2)
def seed_linear_regression(n_samples: int = 100) -> DataSplit:
    """Seed 003 §dl_2_1: ``y = b + X beta + 0.1 eps`` with ``torch.manual_seed(123)``.

    The seed trains on all 100 points; here the test half is 50 fresh points drawn from the
    same generator afterwards (the training points are the seed's exactly).
    """
    g = torch.Generator().manual_seed(123)
    x = torch.randn(n_samples, 2, generator=g)  # (N, 2)
    beta = torch.rand(2, generator=g)
    intercept = torch.rand(1, generator=g)
    y = (intercept + x @ beta + torch.randn(n_samples, generator=g) * 0.1).reshape(-1, 1)
    xt = torch.randn(50, 2, generator=g)
    yt = (intercept + xt @ beta + torch.randn(50, generator=g) * 0.1).reshape(-1, 1)
    return _frozen(DataSplit("seed_linear", "regression", x, y, xt, yt, 1, "generated",
                             f"seed 003 §dl_2_1, manual_seed(123); true beta="
                             f"{[round(float(b), 4) for b in beta]}, "
                             f"intercept={float(intercept):.4f}"))


def _spirals(n: int, n_classes: int, noise: float, rng: np.random.RandomState):
    per = n // n_classes
    xs, ys = [], []
    for k in range(n_classes):
        r = np.linspace(0.05, 1.0, per)  # radius grows along the arm
        t = np.linspace(0, 2 * math.pi * 0.75, per) + 2 * math.pi * k / n_classes
        t = t + rng.randn(per) * noise
        xs.append(np.stack([r * np.sin(t), r * np.cos(t)], 1))
        ys.append(np.full(per, k))
    return np.concatenate(xs), np.concatenate(ys)


@functools.lru_cache(maxsize=32)
def make_toy_2d(kind: Toy2D = "moons", n_samples: int = 400, noise: float = 0.2,
                n_classes: int = 2, seed: int = 0, test_fraction: float = 0.25) -> DataSplit:
    """2-D classification toys for decision-boundary plots (int64 labels, standardised).

    Args:
        kind: ``"moons"``, ``"circles"`` (factor 0.5), ``"spirals"`` (``n_classes`` arms),
            ``"blobs"`` (``n_classes`` Gaussian blobs, std ``1 + 4 * noise``).
        n_samples: total points (train + test), 20..20,000.
        noise: Gaussian noise level (moons/circles std; spirals angle std in radians).
        n_classes: classes for spirals/blobs (2..6); moons and circles are always 2.
        seed: RNG seed; same seed -> same points.
        test_fraction: held-out share (default 0.25).

    Raises:
        ValueError: for an unknown ``kind`` or out-of-range sizes.
    """
    from sklearn.datasets import make_blobs, make_circles, make_moons
    from sklearn.model_selection import train_test_split

    if kind not in TOY_2D:
        raise ValueError(f"kind {kind!r} is not one of {TOY_2D}")
    if not 20 <= n_samples <= 20_000:
        raise ValueError(f"n_samples {n_samples} must be between 20 and 20000")
    if not 0.0 <= noise <= 2.0:
        raise ValueError(f"noise {noise} must be between 0 and 2")
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction {test_fraction} must be strictly between 0 and 1")
    if kind in ("moons", "circles"):
        n_classes = 2
    elif not 2 <= n_classes <= 6:
        raise ValueError(f"n_classes {n_classes} must be between 2 and 6 for {kind}")
    rng = np.random.RandomState(seed)
    if kind == "moons":
        x, y = make_moons(n_samples, noise=noise, random_state=rng)
    elif kind == "circles":
        x, y = make_circles(n_samples, noise=noise * 0.5, factor=0.5, random_state=rng)
    elif kind == "spirals":
        x, y = _spirals(n_samples, n_classes, noise, rng)
    else:
        x, y = make_blobs(n_samples, centers=n_classes, cluster_std=1.0 + 4 * noise,
                          random_state=rng)
    x = (x - x.mean(0)) / x.std(0)  # standardise both axes
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=test_fraction, random_state=seed,
                                          stratify=y)
    return _frozen(DataSplit(
        kind, "multiclass", torch.tensor(xtr, dtype=torch.float32),
        torch.tensor(ytr, dtype=torch.long), torch.tensor(xte, dtype=torch.float32),
        torch.tensor(yte, dtype=torch.long), n_classes, "generated",
        f"{kind}: n_samples={n_samples}, noise={noise}, seed={seed}",
        tuple(f"class {i}" for i in range(n_classes))))


@functools.lru_cache(maxsize=8)
def sine_regression(n_samples: int = 100, noise: float = 0.2, seed: int = 42) -> DataSplit:
    """Seed 003 §dl_6_2: ``x = linspace(-3, 3, N)``, ``y = sin(x) + 0.2 * randn``.

    The training set is the seed's exactly (``torch.manual_seed(42)``); the test set is
    ``n_samples`` fresh noisy points at uniformly drawn ``x`` from the same generator (sorted).
    """
    if not 10 <= n_samples <= 20_000:
        raise ValueError(f"n_samples {n_samples} must be between 10 and 20000")
    if not 0.0 <= noise <= 2.0:
        raise ValueError(f"noise {noise} must be between 0 and 2")
    g = torch.Generator().manual_seed(seed)
    x = torch.linspace(-3, 3, n_samples).unsqueeze(1)  # (N, 1)
    y = torch.sin(x) + noise * torch.randn(x.shape, generator=g)  # (N, 1)
    xt = torch.sort(torch.rand(n_samples, 1, generator=g) * 6 - 3, dim=0).values
    yt = torch.sin(xt) + noise * torch.randn(xt.shape, generator=g)
    return _frozen(DataSplit("sine", "regression", x, y, xt, yt, 1, "generated",
                             f"seed 003 §dl_6_2: y = sin(x) + {noise}*noise, "
                             f"x in [-3, 3], seed {seed}"))


@functools.lru_cache(maxsize=4)
def sine_sequence(total_length: int = 1000, noise: float = 0.1,
                  seed: int = 42) -> tuple[np.ndarray, np.ndarray, int]:
    """Seed 003 §dl_3_2: ``sin(linspace(0, 20 pi, 1000)) + N(0, 0.1)`` with ``np.random.seed(42)``.

    Returns:
        ``(time_steps, data_sequence, split_idx)`` with ``split_idx = int(0.8 * total_length)``
        (the seed's 80/20 split). Arrays are read-only.
    """
    if total_length < 50:
        raise ValueError(f"total_length {total_length} must be at least 50")
    rng = np.random.RandomState(seed)
    time_steps = np.linspace(0, 20 * np.pi, total_length)
    data = np.sin(time_steps) + rng.normal(0, noise, total_length)
    time_steps.flags.writeable = False
    data.flags.writeable = False
    return time_steps, data, int(total_length * 0.8)


#: Registry the playground's data dropdown reads: name -> zero-argument loader.
TOY_DATASETS: dict[str, Callable[[], DataSplit]] = {
    "seed_binary": lambda: seed_classification(2),
    "seed_multiclass": lambda: seed_classification(5),
    "seed_linear": seed_linear_regression,
    "moons": lambda: make_toy_2d("moons"),
    "circles": lambda: make_toy_2d("circles"),
    "spirals": lambda: make_toy_2d("spirals", noise=0.1),
    "blobs": lambda: make_toy_2d("blobs", n_classes=3),
    "sine": sine_regression,
}


def load_toy(name: str) -> DataSplit:
    """Load a toy set by registry name (see :data:`TOY_DATASETS`).

    Raises:
        ValueError: for an unknown name.
    """
    if name not in TOY_DATASETS:
        raise ValueError(f"toy data set {name!r} is not one of {tuple(TOY_DATASETS)}")
    return TOY_DATASETS[name]()
