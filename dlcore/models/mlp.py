"""Multi-layer perceptrons: a configurable builder and LeNet-300-100.

One hidden block follows the seed's order (seed 003 §dl_2_2, §dl_2_3)::

    Linear -> activation -> BatchNorm1d -> Dropout          h_{l+1} = f_l(h_l)

and with ``residual=True`` an equal-width block adds its input back (He et al. 2016,
https://arxiv.org/abs/1512.03385)::

    h_{l+1} = h_l + f_l(h_l)

which keeps a gradient path of slope 1 through a deep net (seed 000 §2.2.3: a deeper
plain net trains worse; the identity shortcut fixes it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from dlcore.models.layers import Activation, Dropout, Standardize, make_activation

__all__ = ["MLPConfig", "MLPBlock", "MLP", "build_mlp", "seed_mlp", "LeNet300100",
           "MAX_DEPTH", "MAX_WIDTH"]

MAX_DEPTH = 64
MAX_WIDTH = 4096


@dataclass(frozen=True)
class MLPConfig:
    """Architecture of an :class:`MLP`.

    Args:
        in_features: input size (flattened), default 10 (the seed's features).
        out_features: output size: 1 for binary/regression, ``C`` for ``C`` classes.
        depth: number of hidden blocks (default 2), ignored if ``hidden`` is given.
        width: units per hidden block (default 64), ignored if ``hidden`` is given.
        hidden: explicit widths, e.g. ``(128, 64, 32)`` for seed §dl_2_3.
        activation: one of :data:`~dlcore.models.layers.ACTIVATIONS` (default ``"relu"``).
        batchnorm: add ``BatchNorm1d`` after each activation (Ioffe & Szegedy 2015,
            https://arxiv.org/abs/1502.03167).
        dropout: drop probability after each block, in [0, 1) (Srivastava et al. 2014).
        residual: add the identity shortcut around every block whose input and output
            widths match (all but the first when widths are equal).
        output_activation: ``"sigmoid"`` for ``BCELoss`` as in §dl_2_2, else ``"none"``
            (logits, for ``CrossEntropyLoss``/``BCEWithLogitsLoss``/``MSELoss``).
    """

    in_features: int = 10
    out_features: int = 1
    depth: int = 2
    width: int = 64
    hidden: tuple[int, ...] | None = None
    activation: Activation = "relu"
    batchnorm: bool = False
    dropout: float = 0.0
    residual: bool = False
    output_activation: Literal["none", "sigmoid"] = "none"

    def widths(self) -> tuple[int, ...]:
        """The hidden widths this config builds, validated.

        Raises:
            ValueError: for non-positive or too large sizes, or a bad dropout.
        """
        for name, v in (("in_features", self.in_features), ("out_features", self.out_features)):
            if not 1 <= v <= 1_000_000:
                raise ValueError(f"{name} {v} must be a positive integer")
        if self.hidden is not None:
            ws = tuple(int(w) for w in self.hidden)
        else:
            if not 0 <= self.depth <= MAX_DEPTH:
                raise ValueError(f"depth {self.depth} must be between 0 and {MAX_DEPTH}")
            ws = (self.width,) * self.depth
        if len(ws) > MAX_DEPTH:
            raise ValueError(f"{len(ws)} hidden layers exceed the limit of {MAX_DEPTH}")
        for w in ws:
            if not 1 <= w <= MAX_WIDTH:
                raise ValueError(f"width {w} must be between 1 and {MAX_WIDTH}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout {self.dropout} must be in [0, 1)")
        if self.output_activation not in ("none", "sigmoid"):
            raise ValueError(f"output_activation {self.output_activation!r} is not 'none' "
                             "or 'sigmoid'")
        make_activation(self.activation)  # validates the name
        return ws


class MLPBlock(nn.Module):
    """``Linear -> act -> [BatchNorm1d] -> [Dropout]``, plus the input if ``residual``.

    Shape:
        ``(N, in_features)`` -> ``(N, out_features)``.
    """

    def __init__(self, in_features: int, out_features: int, activation: str = "relu",
                 batchnorm: bool = False, dropout: float = 0.0, residual: bool = False) -> None:
        super().__init__()
        if residual and in_features != out_features:
            raise ValueError(f"residual block needs equal widths, got {in_features} -> "
                             f"{out_features}")
        self.linear = nn.Linear(in_features, out_features)
        self.act = make_activation(activation)
        self.bn = nn.BatchNorm1d(out_features) if batchnorm else nn.Identity()
        self.drop = Dropout(dropout) if dropout > 0 else nn.Identity()
        self.residual = residual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.drop(self.bn(self.act(self.linear(x))))  # (N, out_features)
        return x + h if self.residual else h

    def extra_repr(self) -> str:
        return "residual=True" if self.residual else ""


class MLP(nn.Module):
    """Configurable MLP; input of any shape ``(N, *)`` is flattened first.

    Shape:
        ``(N, *)`` with ``prod(*) == in_features`` -> ``(N, out_features)``.
    """

    def __init__(self, config: MLPConfig) -> None:
        super().__init__()
        widths = config.widths()
        self.config = config
        sizes = (config.in_features, *widths)
        self.flatten = nn.Flatten()
        self.blocks = nn.ModuleList(
            MLPBlock(a, b, config.activation, config.batchnorm, config.dropout,
                     residual=config.residual and a == b)
            for a, b in zip(sizes[:-1], sizes[1:]))
        self.head = nn.Linear(sizes[-1], config.out_features)
        self.out_act = nn.Sigmoid() if config.output_activation == "sigmoid" else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.flatten(x)  # (N, in_features)
        for block in self.blocks:
            h = block(h)  # (N, width_l)
        return self.out_act(self.head(h))  # (N, out_features)

    def forward_with_activations(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Output and every hidden block's output (for activation histograms)."""
        h = self.flatten(x)
        acts: list[torch.Tensor] = []
        for block in self.blocks:
            h = block(h)
            acts.append(h)
        return self.out_act(self.head(h)), acts

    def linear_layers(self) -> list[tuple[str, nn.Linear]]:
        """``[("blocks.0.linear", layer), ..., ("head", layer)]`` in forward order."""
        out = [(f"blocks.{i}.linear", b.linear) for i, b in enumerate(self.blocks)]
        return out + [("head", self.head)]


def build_mlp(config: MLPConfig | None = None, **overrides: object) -> MLP:
    """Build an :class:`MLP` from a config and/or keyword overrides.

    Example: ``build_mlp(in_features=2, out_features=2, depth=10, activation="sigmoid")``.

    Raises:
        ValueError: for an invalid architecture (message names the value and the rule).
    """
    import dataclasses

    cfg = config or MLPConfig()
    if overrides:
        unknown = set(overrides) - {f.name for f in dataclasses.fields(MLPConfig)}
        if unknown:
            raise ValueError(f"unknown MLP option(s) {sorted(unknown)}")
        cfg = dataclasses.replace(cfg, **overrides)  # type: ignore[arg-type]
    return MLP(cfg)


def seed_mlp(n_classes: Literal[2, 5] = 2) -> MLP:
    """The seed's networks: §dl_2_2 (10-64-32-1, sigmoid output) or §dl_2_3 (10-128-64-32-5).

    Both use ReLU, BatchNorm1d and Dropout(0.2) in the seed's order.
    """
    if n_classes == 2:
        return build_mlp(in_features=10, out_features=1, hidden=(64, 32), batchnorm=True,
                         dropout=0.2, output_activation="sigmoid")
    if n_classes == 5:
        return build_mlp(in_features=10, out_features=5, hidden=(128, 64, 32), batchnorm=True,
                         dropout=0.2)
    raise ValueError(f"n_classes {n_classes} has no seed network (2 for §dl_2_2, 5 for §dl_2_3)")


class LeNet300100(nn.Module):
    """LeNet-300-100 (LeCun et al. 1998, http://yann.lecun.com/exdb/publis/pdf/lecun-98.pdf).

    ``x -> standardise -> 300 ReLU -> 100 ReLU -> n_classes`` on flattened pixels; the
    classic baseline of the pruning literature (Han et al. 2015).

    Args:
        in_features: 784 for 28x28 images (default), 64 for 8x8 digits.
        n_classes: 10.
        mean, std: input standardisation kept inside the model (inputs are [0, 1] pixels).

    Shape:
        ``(N, 1, H, W)`` or ``(N, in_features)`` -> ``(N, n_classes)`` logits.
    """

    def __init__(self, in_features: int = 784, n_classes: int = 10, mean: float = 0.0,
                 std: float = 1.0) -> None:
        super().__init__()
        if in_features < 1 or n_classes < 2:
            raise ValueError(f"in_features {in_features} must be >= 1 and n_classes "
                             f"{n_classes} >= 2")
        self.flatten = nn.Flatten()
        self.scale = Standardize(mean, std)
        self.fc1 = nn.Linear(in_features, 300)
        self.fc2 = nn.Linear(300, 100)
        self.fc3 = nn.Linear(100, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.scale(self.flatten(x))  # (N, in_features)
        h = torch.relu(self.fc1(h))  # (N, 300)
        h = torch.relu(self.fc2(h))  # (N, 100)
        return self.fc3(h)  # (N, n_classes)
