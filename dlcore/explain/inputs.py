"""Where the explained image comes from: a zoo test image or an uploaded picture.

Uploads go through the one converter of the image tabs,
:func:`dlcore.data.image_input.convert_image` (same steps and refusals as the attack tab),
at the side length of the chosen zoo model (28 for Fashion-MNIST, 8 for the digits twins).
:func:`warmup` pays the one-off costs (Captum and scikit-learn imports, the default t-SNE) so
the first click of a tab is fast.
"""

from __future__ import annotations

from typing import Any

import torch

__all__ = ["input_side", "test_image", "image_from_upload", "warmup"]


def _check_name(name: Any) -> str:
    from dlcore import zoo

    if not isinstance(name, str) or name not in zoo.NAMES:
        raise ValueError(f"zoo model {name!r} is not one of {list(zoo.NAMES)}")
    return name


def input_side(name: str) -> int:
    """Image side the zoo model ``name`` reads (28 or 8).

    Raises:
        ValueError: unknown zoo name.
    """
    from dlcore import zoo

    return int(zoo.load_data(_check_name(name)).feature_shape[-1])


def test_image(name: str, index: int) -> tuple[torch.Tensor, int, str]:
    """Test image ``index`` of zoo model ``name``'s data: ``((1, C, H, W), label, class name)``.

    Raises:
        ValueError: unknown name or an index outside the test set.
    """
    from dlcore import zoo

    split = zoo.load_data(_check_name(name))
    n = len(split.x_test)
    if isinstance(index, bool) or not isinstance(index, (int, float)) or index != int(index) or not 0 <= index < n:
        raise ValueError(f"index {index!r} must be a whole number in [0, {n - 1}]")
    i = int(index)
    label = int(split.y_test[i])
    return split.x_test[i:i + 1].clone(), label, (split.classes[label] if split.classes else str(label))


def image_from_upload(source: Any, name: str = "fmnist_cnn", invert: str = "auto") -> Any:
    """An uploaded picture as model ``name``'s input (a :class:`~dlcore.data.image_input.ConvertedImage`:
    ``.tensor`` is ``(1, 1, S, S)``, ``.steps`` the conversion stages for a figure).

    Raises:
        ValueError: not an image, too large or small (see ``convert_image``), unknown name.
    """
    from dlcore.data.image_input import convert_image

    return convert_image(source, size=input_side(name), invert=invert)  # type: ignore[arg-type]


def warmup(name: str = "fmnist_cnn", embedding: bool = True) -> None:
    """Import Captum and scikit-learn, run every method once and (optionally) the default t-SNE."""
    from dlcore import zoo
    from dlcore.explain.embedding import test_set_embedding
    from dlcore.explain.methods import explain_all

    x, _, _ = test_image(name, 0)
    explain_all(zoo.get(name), x, configs={"lime": {"n_samples": 50}})
    if embedding:
        test_set_embedding(name)
