"""Where an image tab's picture comes from: a zoo model's test image, or an uploaded picture.

Shared by every image tab (attacks, explanations, compression): uploads go through the one
converter :func:`dlcore.data.image_input.convert_image`, at the side length of the chosen zoo
model (28 for Fashion-MNIST, 8 for the digits twins), so every tab converts and refuses the same
way. :func:`classifier_names` is the allow-list of image classifiers a tab's model dropdown offers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from dlcore.data.image_input import ConvertedImage

__all__ = ["classifier_names", "input_side", "test_image", "image_from_upload"]


def _check_name(name: Any) -> str:
    from dlcore.zoo.recipes import RECIPES

    if not isinstance(name, str) or name not in RECIPES:
        shown = str(name)[:40] if isinstance(name, str) else type(name).__name__
        raise ValueError(f"zoo model {shown!r} is not one of {list(RECIPES)}")
    return name


def _data(name: str) -> Any:
    from dlcore.zoo.recipes import RECIPES, load_recipe_data

    return load_recipe_data(RECIPES[_check_name(name)])


def classifier_names(available_only: bool = True) -> list[str]:
    """Zoo image classifiers (supervised and adversarially trained), Fashion-MNIST first.

    With ``available_only`` (default), only those whose data is on this machine: the
    Fashion-MNIST models when its files are installed, else the digits twins.
    """
    from dlcore.zoo.recipes import RECIPES, ZooDataUnavailable

    names = [n for n, r in RECIPES.items() if r.kind in ("supervised", "adversarial")
             and r.arch in ("small_cnn", "lenet_300_100", "lenet5", "mlp")]
    if not available_only:
        return names
    try:
        _data("fmnist_cnn")
        fashion = True
    except ZooDataUnavailable:
        fashion = False
    return [n for n in names if (RECIPES[n].data == "fashion_mnist") == fashion]


def input_side(name: str) -> int:
    """Image side the zoo model ``name`` reads (28 or 8).

    Raises:
        ValueError: unknown zoo name.
    """
    return int(_data(name).feature_shape[-1])


def test_image(name: str, index: int) -> tuple["torch.Tensor", int, str]:
    """Test image ``index`` of zoo model ``name``'s data: ``((1, C, H, W), label, class name)``.

    Raises:
        ValueError: unknown name or an index outside the test set.
    """
    split = _data(name)
    n = len(split.x_test)
    if isinstance(index, bool) or not isinstance(index, (int, float)) or index != index or \
            index != int(index) or not 0 <= index < n:
        raise ValueError(f"test image # {index!r} must be a whole number in [0, {n - 1}]")
    i = int(index)
    label = int(split.y_test[i])
    return split.x_test[i:i + 1].clone(), label, (split.classes[label] if split.classes else str(label))


def image_from_upload(source: Any, name: str = "fmnist_cnn", invert: str = "auto") -> "ConvertedImage":
    """An uploaded picture as model ``name``'s input (a :class:`~dlcore.data.image_input.ConvertedImage`:
    ``.tensor`` is ``(1, 1, S, S)``, ``.steps`` the conversion stages for a figure).

    Raises:
        ValueError: not an image, too large or small (see ``convert_image``), unknown name.
    """
    from dlcore.data.image_input import convert_image

    return convert_image(source, size=input_side(name), invert=invert)  # type: ignore[arg-type]
