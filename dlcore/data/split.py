"""The one container every loader returns: a train/test split plus where it came from.

The seed notes build every experiment the same way (seed 003 §dl_1_3, §dl_2_2):
tensors -> ``TensorDataset`` -> ``DataLoader``; ``random_split`` when there is no test set.
:class:`DataSplit` keeps the tensors and says which task they pose, so a trainer, a tab
and a test can all read the same fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import torch
from torch.utils.data import DataLoader, TensorDataset

__all__ = ["Task", "DataSplit", "make_loaders", "random_split_tensors"]

Task = Literal["binary", "multiclass", "regression"]


@dataclass(frozen=True, eq=False)  # eq on tensors is ambiguous; identity instead
class DataSplit:
    """Train and test tensors of one data set.

    Attributes:
        name: registry name, e.g. ``"fashion_mnist"`` or ``"moons"``.
        task: ``"binary"`` (targets float ``(N, 1)`` in {0, 1}, for ``BCELoss`` as in
            §dl_2_2), ``"multiclass"`` (targets int64 ``(N,)`` in ``[0, n_classes)``, for
            ``CrossEntropyLoss`` as in §dl_2_3) or ``"regression"`` (float ``(N, 1)``).
        x_train: features, ``(N_train, *feature_shape)`` float32 (images ``(N, 1, H, W)``
            in [0, 1]).
        y_train: targets as described by ``task``.
        x_test, y_test: the held-out split, same layout.
        n_classes: number of classes (1 for regression, 2 for binary).
        source: where the data came from (``"debian"``, ``"torchvision"``,
            ``"sklearn-digits"``, ``"generated"``).
        detail: human-readable provenance (path, seed, arguments).
        classes: class names, ``len(classes) == n_classes`` for classification.
    """

    name: str
    task: Task
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    n_classes: int
    source: str
    detail: str = ""
    classes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def feature_shape(self) -> tuple[int, ...]:
        """Shape of one example, e.g. ``(10,)`` or ``(1, 28, 28)``."""
        return tuple(self.x_train.shape[1:])

    @property
    def in_features(self) -> int:
        """Number of input values of one flattened example."""
        n = 1
        for s in self.feature_shape:
            n *= int(s)
        return n

    @property
    def out_features(self) -> int:
        """Width of the output layer this task needs (1 for binary and regression)."""
        return self.n_classes if self.task == "multiclass" else 1

    def subset(self, n_train: int | None = None, n_test: int | None = None,
               seed: int = 0) -> "DataSplit":
        """A deterministic random subset (same ``seed`` -> same rows).

        Raises:
            ValueError: if a requested size is not positive.
        """
        g = torch.Generator().manual_seed(seed)

        def pick(x: torch.Tensor, y: torch.Tensor, n: int | None, what: str):
            if n is None or n >= len(x):
                return x, y
            if n <= 0:
                raise ValueError(f"{what} {n} must be a positive number of examples")
            idx = torch.randperm(len(x), generator=g)[:n]
            return x[idx], y[idx]

        xtr, ytr = pick(self.x_train, self.y_train, n_train, "n_train")
        xte, yte = pick(self.x_test, self.y_test, n_test, "n_test")
        return DataSplit(self.name, self.task, xtr, ytr, xte, yte, self.n_classes,
                         self.source, f"{self.detail}; subset {len(xtr)}/{len(xte)} seed {seed}",
                         self.classes)


def make_loaders(split: DataSplit, batch_size: int = 64, seed: int = 0,
                 shuffle: bool = True) -> tuple[DataLoader, DataLoader]:
    """``TensorDataset`` + ``DataLoader`` for both halves, as in seed 003 §dl_2_2.

    The training loader shuffles with its own seeded generator, so two runs with the same
    ``seed`` see the same batches.

    Raises:
        ValueError: if ``batch_size`` is not positive.
    """
    if batch_size <= 0:
        raise ValueError(f"batch_size {batch_size} must be a positive integer")
    g = torch.Generator().manual_seed(seed)
    train = DataLoader(TensorDataset(split.x_train, split.y_train), batch_size=batch_size,
                       shuffle=shuffle, generator=g)
    test = DataLoader(TensorDataset(split.x_test, split.y_test), batch_size=max(batch_size, 256),
                      shuffle=False)
    return train, test


def random_split_tensors(x: torch.Tensor, y: torch.Tensor, test_fraction: float = 0.2,
                         seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor,
                                                 torch.Tensor]:
    """Split tensors like ``torch.utils.data.random_split`` (seed 003 §dl_1_3).

    Returns:
        ``(x_train, x_test, y_train, y_test)`` (sklearn's order, as the seed uses).

    Raises:
        ValueError: if ``test_fraction`` is not in (0, 1) or a split would be empty.
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction {test_fraction} must be strictly between 0 and 1")
    n = len(x)
    n_test = int(round(n * test_fraction))
    if n_test == 0 or n_test == n:
        raise ValueError(f"test_fraction {test_fraction} of {n} examples leaves an empty split")
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    te, tr = perm[:n_test], perm[n_test:]
    return x[tr], x[te], y[tr], y[te]
