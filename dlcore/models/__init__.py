"""Small, readable ``nn.Module`` s: the MLP builder, LeNet-300-100, LeNet-5, a small CNN.

:func:`build_model` builds any of them from the shape of one example and the output width,
which is what a :class:`~dlcore.data.DataSplit` provides::

    split = dlcore.data.load_fashion_mnist()
    model = build_model("small_cnn", split.feature_shape, split.out_features)
"""

from __future__ import annotations

from typing import Any, Callable

from torch import nn

from dlcore.models.cnn import LeNet5, SmallCNN
from dlcore.models.layers import (
    ACTIVATIONS, Activation, Dropout, Standardize, count_parameters, make_activation, own_dropout_rng,
)
from dlcore.models.mlp import MLP, MLPBlock, MLPConfig, LeNet300100, build_mlp, seed_mlp

__all__ = [
    "ACTIVATIONS", "Activation", "Dropout", "own_dropout_rng", "Standardize", "count_parameters", "make_activation",
    "MLP", "MLPBlock", "MLPConfig", "build_mlp", "seed_mlp", "LeNet300100",
    "LeNet5", "SmallCNN", "MODELS", "build_model",
]


def _image_size(shape: tuple[int, ...], name: str) -> tuple[int, int]:
    if len(shape) != 3 or shape[1] != shape[2]:
        raise ValueError(f"{name} needs square images (C, S, S), got example shape {shape}")
    return shape[0], shape[1]


def _flat(shape: tuple[int, ...]) -> int:
    n = 1
    for s in shape:
        n *= int(s)
    return n


def _mlp(shape: tuple[int, ...], out: int, **kw: Any) -> nn.Module:
    return build_mlp(in_features=_flat(shape), out_features=out, **kw)


def _lenet300(shape: tuple[int, ...], out: int, **kw: Any) -> nn.Module:
    return LeNet300100(in_features=_flat(shape), n_classes=out, **kw)


def _lenet5(shape: tuple[int, ...], out: int, **kw: Any) -> nn.Module:
    c, s = _image_size(shape, "lenet5")
    return LeNet5(in_channels=c, n_classes=out, image_size=s, **kw)


def _small_cnn(shape: tuple[int, ...], out: int, **kw: Any) -> nn.Module:
    c, s = _image_size(shape, "small_cnn")
    return SmallCNN(in_channels=c, n_classes=out, image_size=s, **kw)


#: name -> builder(feature_shape, out_features, **options). Read by the UI and the zoo.
MODELS: dict[str, Callable[..., nn.Module]] = {
    "mlp": _mlp,
    "lenet_300_100": _lenet300,
    "lenet5": _lenet5,
    "small_cnn": _small_cnn,
}


def build_model(name: str, feature_shape: tuple[int, ...], out_features: int,
                **options: Any) -> nn.Module:
    """Build a registered model for inputs of ``feature_shape`` and ``out_features`` outputs.

    Args:
        name: a key of :data:`MODELS`.
        feature_shape: shape of one example, e.g. ``(10,)`` or ``(1, 28, 28)``.
        out_features: output width (classes, or 1 for binary/regression).
        **options: passed to the model (e.g. ``depth=4, batchnorm=True`` for ``"mlp"``).

    Raises:
        ValueError: for an unknown name or an invalid option/shape.
    """
    if name not in MODELS:
        raise ValueError(f"model {name!r} is not one of {tuple(MODELS)}")
    try:
        return MODELS[name](tuple(int(s) for s in feature_shape), int(out_features), **options)
    except TypeError as exc:  # unexpected keyword -> a user-facing message
        raise ValueError(f"bad option for model {name!r}: {exc}") from exc
