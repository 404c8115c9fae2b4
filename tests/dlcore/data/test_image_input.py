"""The one image converter: any picture -> (1, 1, S, S) in [0, 1], or a clear refusal."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from dlcore.data import image_input as ii
from dlcore.data.image_input import convert_image


def _png(im: Image.Image, fmt: str = "PNG", **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format=fmt, **kw)
    return buf.getvalue()


def _shirt(w: int = 120, h: int = 90, bg: int = 255, fg: int = 40) -> Image.Image:
    """A dark rectangle (the object) off-centre on a light background, like a product photo."""
    a = np.full((h, w), bg, np.uint8)
    a[20:70, 10:50] = fg
    return Image.fromarray(a)


def test_photo_is_trimmed_centred_negated_and_in_range() -> None:
    c = convert_image(_png(_shirt().convert("RGB")))
    x = c.tensor
    assert x.shape == (1, 1, 28, 28) and x.dtype == torch.float32
    assert 0.0 <= float(x.min()) and float(x.max()) <= 1.0
    assert c.inverted and float(x[0, 0, 0, 0]) < 0.05  # black background after negation
    # the object (50 high, 40 wide) fills the height and is centred horizontally
    cols = torch.nonzero(x[0, 0].amax(0) > 0.5).flatten()
    assert cols.min() >= 2 and 27 - cols.max() >= 2 and abs(int(cols.min()) - (27 - int(cols.max()))) <= 1
    assert [s[0].split(" ")[0] for s in c.steps] == ["grayscale", "trimmed", "resized", "negated"]
    assert any("colour converted" in n for n in c.notes)


def test_dark_background_is_not_negated_and_fashion_images_survive_the_trip() -> None:
    from dlcore import zoo

    name, model, split = zoo.image_classifier("cnn")
    xs = split.x_test[:200]
    size = xs.shape[-1]
    conv = torch.cat([convert_image((x[0].numpy() * 255).astype(np.uint8), size).tensor for x in xs])
    assert conv.shape == xs.shape
    with torch.no_grad():
        agree = (model(conv).argmax(1) == model(xs).argmax(1)).float().mean().item()
    assert agree >= 0.85, agree  # trimming + re-centring barely changes what the model sees


def test_alpha_sixteen_bit_palette_cmyk_and_animation_are_converted() -> None:
    rgba = Image.new("RGBA", (40, 40), (0, 0, 0, 0))
    rgba.paste((200, 30, 30, 255), (10, 10, 30, 30))
    c = convert_image(_png(rgba))
    assert any("transparent" in n for n in c.notes) and c.inverted  # transparent -> white -> light bg
    a16 = (np.linspace(0, 65535, 64 * 64).reshape(64, 64)).astype(np.uint16)
    c16 = convert_image(_png(Image.fromarray(a16)), invert="no", trim=False)
    assert any("16-bit" in n for n in c16.notes)
    assert float(c16.tensor.max()) > 0.9 and float(c16.tensor.min()) < 0.1  # scaled, not clipped to 255
    pal = _shirt().convert("P")
    assert convert_image(_png(pal, "GIF")).tensor.shape == (1, 1, 28, 28)
    cmyk = _shirt().convert("CMYK")
    assert any("CMYK" in n for n in convert_image(_png(cmyk, "JPEG")).notes)
    frames = [_shirt(fg=v) for v in (10, 200)]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:])
    assert any("first of 2 frames" in n for n in convert_image(buf.getvalue()).notes)


def test_exif_rotation_is_applied() -> None:
    im = _shirt(120, 60).convert("RGB")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° on display
    c = convert_image(_png(im, "JPEG", exif=exif))
    assert any("EXIF" in n for n in c.notes)


def test_arrays_and_other_sizes() -> None:
    a = np.zeros((30, 30, 3), np.float32)
    a[5:25, 10:20] = 1.0
    c = convert_image(a, 8)
    assert c.tensor.shape == (1, 1, 8, 8) and not c.inverted


@pytest.mark.parametrize("source,fragment", [
    (b"", "empty"),
    (b"GIF89a this is not really an image", "not an image"),
    ("definitely not a file on the server", "could not be found"),
    (12345, "must be an uploaded file"),
    (np.zeros((3, 3, 7)), "shape"),
])
def test_refusals_name_the_rule(source, fragment) -> None:
    with pytest.raises(ValueError, match=fragment):
        convert_image(source)


def test_tiny_huge_and_damaged_images_are_refused(monkeypatch) -> None:
    with pytest.raises(ValueError, match="at least 8 pixels"):
        convert_image(_png(Image.new("L", (4, 30))))
    bomb = _png(Image.new("1", (9000, 6000)))  # 54 megapixels in a few kB
    with pytest.raises(ValueError, match="megapixels"):
        convert_image(bomb)
    noisy = Image.fromarray(np.random.default_rng(0).integers(0, 255, (300, 300, 3), dtype=np.uint8))
    good = _png(noisy, "PNG")
    with pytest.raises(ValueError, match="damaged"):
        convert_image(good[: len(good) // 2])  # the header is intact, the pixel data cut short
    monkeypatch.setattr(ii, "MAX_BYTES", 100)
    with pytest.raises(ValueError, match="the limit is"):
        convert_image(good)


def test_bad_options_are_refused() -> None:
    with pytest.raises(ValueError, match="size"):
        convert_image(_png(_shirt()), 2)
    with pytest.raises(ValueError, match="invert"):
        convert_image(_png(_shirt()), invert="maybe")  # type: ignore[arg-type]
