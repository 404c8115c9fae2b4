"""The one image picker of the image tabs (attack, explain, compression): a test image by number
or your own picture, with the conversion shown. Not a tab itself.

A tab builds it with :func:`image_picker` and passes ``picker.inputs`` to its events; the
handler turns those values into the model's input with :func:`picked_image`, which validates
every value (any type may arrive through the API) and converts uploads with the one converter
(:func:`dlcore.zoo.image_from_upload`). The upload component is lenient like the other inputs
of :mod:`apps.common`: it hands the uploaded file's path to the handler without decoding it, so a
file that is not an image is refused with the converter's own message, not a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from apps.common import Radio, Slider

__all__ = ["IMAGE_SOURCES", "Image", "ImagePicker", "PickedImage", "image_picker", "picked_image",
           "INVERT_CHOICES"]

IMAGE_SOURCES = ("test image", "your picture")
INVERT_CHOICES = ("auto", "yes", "no")
#: Test images offered by number (the Fashion-MNIST test split has 10,000).
MAX_TEST_INDEX = 9999


def _lenient_image_model() -> type:
    from gradio.data_classes import ImageData

    class LenientImageData(ImageData):
        """Junk sent through the API for an image is a clear message, not a validation traceback."""

        @classmethod
        def model_validate(cls, obj: Any, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
            try:
                return super().model_validate(obj, *args, **kwargs)
            except Exception:  # noqa: BLE001 - pydantic's ValidationError and friends
                raise gr.Error("the picture must be an uploaded image file (a PNG, JPEG, GIF, BMP or WebP)",
                               print_exception=False) from None

    return LenientImageData


class Image(gr.Image):
    """``gr.Image`` that passes the uploaded file's path to the handler undecoded (the handler
    converts it with :func:`dlcore.data.image_input.convert_image` and refuses non-images)."""

    is_template = True
    data_model = _lenient_image_model()

    def preprocess(self, payload: Any) -> Any:
        if payload is None:
            return None
        path = getattr(payload, "path", None)
        if path:
            return str(path)
        url = getattr(payload, "url", None) or ""
        if url.startswith("data:"):  # a pasted image arrives as a data URL
            import base64

            try:
                return base64.b64decode(url.split(",", 1)[1], validate=False)
            except (IndexError, ValueError):
                raise gr.Error("the pasted picture could not be read", print_exception=False) from None
        return None


@dataclass
class ImagePicker:
    """The picker's components; ``inputs`` is what a tab's events pass to :func:`picked_image`."""

    source: Any
    index: Any
    upload: Any
    invert: Any

    @property
    def inputs(self) -> list[Any]:
        return [self.source, self.index, self.upload, self.invert]


@dataclass
class PickedImage:
    """The model's input and where it came from.

    Attributes:
        x: ``(1, 1, S, S)`` pixels in [0, 1].
        label: the true class index of a test image (None for an upload).
        caption: e.g. ``"test image #12 (Sneaker)"`` or ``"your picture (640×480, RGB)"``.
        converted: the :class:`~dlcore.data.image_input.ConvertedImage` of an upload (None for a
            test image), for the conversion figure.
    """

    x: Any
    label: int | None
    caption: str
    converted: Any = None


def image_picker(default_index: int = 0, with_invert: bool = True) -> ImagePicker:
    """Build the picker inside the current layout (a test image by number, or an upload)."""
    with gr.Row():
        source = Radio(list(IMAGE_SOURCES), value=IMAGE_SOURCES[0], label="image", scale=1)
        index = Slider(0, MAX_TEST_INDEX, default_index, step=1, label="test image #", scale=2)
    with gr.Accordion("Your own picture", open=False):
        upload = Image(label="your picture (any photo; it is converted like Fashion-MNIST: gray, trimmed, "
                             "28×28, centred, negated if the background is light)",
                       type="filepath", image_mode=None, sources=["upload", "clipboard"], height=200)
        invert = Radio(list(INVERT_CHOICES), value="auto", label="negate (make a light object on black)",
                       visible=with_invert)
    return ImagePicker(source, index, upload, invert)


def picked_image(model_name: str, source: Any, index: Any, upload: Any, invert: Any) -> PickedImage:
    """Turn the picker's values into model ``model_name``'s input (validating every value).

    Raises:
        ValueError: an unknown source or model, a test image number outside the test set, no
            picture uploaded when "your picture" is chosen, or a file the converter refuses.
    """
    from dlcore import zoo
    from dlcore.textinput import parse_choice, parse_int

    model_name = parse_choice(model_name, "model", zoo.classifier_names(available_only=False))
    source = parse_choice(source, "image", IMAGE_SOURCES)
    if source == IMAGE_SOURCES[0]:
        i = parse_int(index, "test image #", lo=0, hi=MAX_TEST_INDEX)
        x, label, cls = zoo.test_image(model_name, i)
        return PickedImage(x, label, f"test image #{i} ({cls})")
    invert = parse_choice("auto" if invert is None else invert, "negate", INVERT_CHOICES)
    if upload is None or upload == "":
        raise ValueError("no picture uploaded: open “Your own picture” and drop an image there, or choose "
                         "“test image”")
    if not isinstance(upload, (str, bytes)):
        raise ValueError("the picture must be an uploaded image file (a PNG, JPEG, GIF, BMP or WebP)")
    conv = zoo.image_from_upload(upload, model_name, invert=invert)
    w, h = conv.original_size
    return PickedImage(conv.tensor, None, f"your picture ({w}×{h}, {conv.original_mode})", conv)
