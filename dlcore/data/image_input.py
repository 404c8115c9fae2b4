"""Your own picture as a model input: one converter for every image tab.

The zoo's classifiers read ``(N, 1, S, S)`` grayscale pixels in [0, 1], a light object on a
black background (Fashion-MNIST, or scikit-learn's 8x8 digits). :func:`convert_image` turns
any picture into that, the way Fashion-MNIST itself was made from product photos (Xiao et al.
2017, https://arxiv.org/abs/1708.07747, section 2), and records every step so a tab can show
it:

1. **decode** safely: refuse non-images, files over :data:`MAX_BYTES`, images over
   :data:`MAX_PIXELS` (decompression bombs) or under :data:`MIN_SIDE` pixels a side; apply
   the EXIF orientation; take the first frame of an animation;
2. **grayscale** ``L = 0.299 R + 0.587 G + 0.114 B`` (ITU-R 601), after compositing any
   transparency onto white; 16-bit and float images are scaled by their own range, not
   clipped;
3. **trim** the edges that are close to the colour of the corner pixels (the background);
4. **resize** the longest edge to ``S`` (aspect kept, antialiased), then **pad** the short edge
   to ``S`` with the background colour, object centred;
5. **negate** when the background is light (photos), so the object is bright on black,
   like the training data (``invert="auto"``).

Every refusal is a ``ValueError`` that says what was wrong and the rule.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

__all__ = ["MAX_BYTES", "MAX_PIXELS", "MIN_SIDE", "ConvertedImage", "decode_image", "convert_image",
           "InvertMode"]

#: Largest accepted file (bytes).
MAX_BYTES = 20_000_000
#: Largest accepted image (width x height), checked before decoding the pixels.
MAX_PIXELS = 40_000_000
#: Smallest accepted side (pixels).
MIN_SIDE = 8
InvertMode = Literal["auto", "yes", "no"]


@dataclass
class ConvertedImage:
    """The result of :func:`convert_image`.

    Attributes:
        tensor: ``(1, 1, S, S)`` float32 in [0, 1], ready for the classifier.
        steps: ``(caption, (H, W) float tensor in [0, 1])`` after each stage, for a figure.
        notes: what was done, in words (e.g. ``"16-bit image scaled by 1/65535"``).
        original_size: ``(width, height)`` of the decoded image.
        original_mode: PIL mode of the decoded image (``"RGBA"``, ``"I;16"``, ...).
        inverted: whether the intensities were negated.
    """

    tensor: torch.Tensor
    steps: list[tuple[str, torch.Tensor]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    original_size: tuple[int, int] = (0, 0)
    original_mode: str = ""
    inverted: bool = False


def _open(source: Any) -> Any:
    """``source`` (bytes, path, PIL image or numpy array) -> an un-decoded PIL image."""
    from PIL import Image

    if isinstance(source, Image.Image):
        return source
    if isinstance(source, np.ndarray):
        return _from_array(source)
    if isinstance(source, (str, Path)):
        p = Path(source)
        if not p.is_file():
            raise ValueError("the uploaded file could not be found on the server; upload it again")
        size = p.stat().st_size
        if size > MAX_BYTES:
            raise ValueError(f"the file has {size / 1e6:.1f} MB; the limit is {MAX_BYTES / 1e6:.0f} MB")
        data = p.read_bytes()
    elif isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        if len(data) > MAX_BYTES:
            raise ValueError(f"the file has {len(data) / 1e6:.1f} MB; the limit is {MAX_BYTES / 1e6:.0f} MB")
    else:
        raise ValueError(f"an image must be an uploaded file, got {type(source).__name__}")
    if not data:
        raise ValueError("the file is empty (0 bytes): upload a PNG, JPEG, GIF, BMP or WebP picture")
    try:
        im = Image.open(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - PIL raises many kinds; all mean "not an image"
        raise ValueError("the file is not an image this lab can read (PNG, JPEG, GIF, BMP, TIFF, WebP): "
                         f"{type(exc).__name__}") from None
    return im


def _from_array(a: np.ndarray) -> Any:
    from PIL import Image

    if a.ndim == 3 and a.shape[-1] == 1:
        a = a[..., 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[-1] not in (3, 4)):
        raise ValueError(f"an image array must have shape (H, W), (H, W, 3) or (H, W, 4), got {a.shape}")
    if a.dtype == np.uint8:
        return Image.fromarray(a)
    if a.dtype == np.uint16 and a.ndim == 2:
        return Image.fromarray(a.astype(np.int32), mode="I")
    if np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.integer):
        x = a.astype(np.float64)
        if not np.isfinite(x).all():
            raise ValueError("the image array contains NaN or infinity")
        lo, hi = float(x.min()), float(x.max())
        x = (x - lo) / (hi - lo) if hi > lo else np.zeros_like(x)
        return Image.fromarray((x * 255).round().astype(np.uint8))
    raise ValueError(f"an image array of dtype {a.dtype} is not supported")


def decode_image(source: Any) -> tuple[np.ndarray, list[str], tuple[int, int], str]:
    """Decode ``source`` into a float64 grayscale array in [0, 1] (steps 1-2 of the module doc).

    Returns:
        ``(gray (H, W), notes, (width, height), original PIL mode)``.

    Raises:
        ValueError: not an image, too large (bytes or pixels), too small, or unreadable pixels.
    """
    from PIL import Image, ImageOps

    im = _open(source)
    w, h = im.size
    if w * h > MAX_PIXELS:
        raise ValueError(f"the image is {w}×{h} = {w * h / 1e6:.0f} megapixels; the limit is "
                         f"{MAX_PIXELS / 1e6:.0f} megapixels")
    if min(w, h) < MIN_SIDE:
        raise ValueError(f"the image is {w}×{h} pixels; each side must be at least {MIN_SIDE} pixels")
    notes: list[str] = []
    mode = im.mode
    try:
        if getattr(im, "n_frames", 1) > 1:
            notes.append(f"animated image: used the first of {im.n_frames} frames")
            im.seek(0)
        im.load()
        im = ImageOps.exif_transpose(im) or im
    except Image.DecompressionBombError:
        raise ValueError(f"the image is too large to decode safely (limit {MAX_PIXELS / 1e6:.0f} megapixels)") from None
    except Exception as exc:  # noqa: BLE001 - truncated or corrupt data
        raise ValueError(f"the image data is damaged and cannot be decoded ({type(exc).__name__})") from None
    if im.size != (w, h):
        notes.append("rotated by its EXIF orientation")
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        a = np.asarray(im, dtype=np.float64)
        if mode.startswith("I;16"):
            a = a / 65535.0
            notes.append("16-bit image scaled by 1/65535")
        else:
            lo, hi = float(a.min()), float(a.max())
            a = (a - lo) / (hi - lo) if hi > lo else np.zeros_like(a)
            notes.append(f"{'32-bit integer' if mode == 'I' else 'floating-point'} image scaled from "
                         f"[{lo:g}, {hi:g}] to [0, 1]")
        return np.clip(a, 0.0, 1.0), notes, (w, h), mode
    has_alpha = mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in im.info)
    if has_alpha:
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        im = Image.alpha_composite(white, rgba)
        notes.append("transparent parts composited onto white")
    if mode == "CMYK":
        notes.append("CMYK converted to RGB")
    if im.mode != "L":
        if im.mode not in ("RGB", "RGBA", "L"):
            im = im.convert("RGB")
        im = im.convert("L")  # ITU-R 601: L = 0.299 R + 0.587 G + 0.114 B
        if mode not in ("L", "1"):
            notes.append("colour converted to grayscale (L = 0.299 R + 0.587 G + 0.114 B)")
    return np.asarray(im, dtype=np.float64) / 255.0, notes, (w, h), mode


def _trim(a: np.ndarray, tol: float) -> tuple[np.ndarray, float]:
    """Crop the edges whose pixels are within ``tol`` of the mean corner colour."""
    corners = np.array([a[0, 0], a[0, -1], a[-1, 0], a[-1, -1]])
    bg = float(np.median(corners))
    mask = np.abs(a - bg) > tol
    if not mask.any():
        return a, bg
    rows, cols = np.where(mask.any(1))[0], np.where(mask.any(0))[0]
    return a[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1], bg


def convert_image(source: Any, size: int = 28, *, invert: InvertMode = "auto", trim: bool = True,
                  trim_tolerance: float = 0.1) -> ConvertedImage:
    """Convert any picture into a ``(1, 1, size, size)`` model input, recording each step.

    Args:
        source: file bytes, a path, a PIL image or a numpy array (H, W[, 3|4]).
        size: side ``S`` of the model input (28 for Fashion-MNIST, 8 for the digits). Default 28.
        invert: ``"auto"`` (negate when the background is light, default), ``"yes"`` or ``"no"``.
        trim: crop the background edges first (Fashion-MNIST's step 2). Default True.
        trim_tolerance: how far from the corner colour a pixel counts as object. Default 0.1.

    Raises:
        ValueError: see :func:`decode_image`; a bad ``size`` or ``invert``.
    """
    from PIL import Image

    if isinstance(size, bool) or not isinstance(size, int) or not 4 <= size <= 256:
        raise ValueError(f"size {size!r} must be a whole number between 4 and 256")
    if invert not in ("auto", "yes", "no"):
        raise ValueError(f"invert {invert!r} must be 'auto', 'yes' or 'no'")
    gray, notes, wh, mode = decode_image(source)
    steps: list[tuple[str, torch.Tensor]] = [(f"grayscale {wh[0]}×{wh[1]}", torch.from_numpy(gray).float())]
    # 3. trim the background
    if trim:
        cropped, bg = _trim(gray, trim_tolerance)
        if cropped.shape != gray.shape:
            notes.append(f"trimmed the background edges: {gray.shape[1]}×{gray.shape[0]} → "
                         f"{cropped.shape[1]}×{cropped.shape[0]}")
            steps.append(("trimmed", torch.from_numpy(cropped).float()))
    else:
        cropped, bg = gray, float(np.median([gray[0, 0], gray[0, -1], gray[-1, 0], gray[-1, -1]]))
    # 4. longest edge -> size, then pad the short edge with the background, centred
    h, w = cropped.shape
    scale = size / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    pil = Image.fromarray((cropped * 255).round().astype(np.uint8))
    small = np.asarray(pil.resize((nw, nh), Image.Resampling.LANCZOS), dtype=np.float64) / 255.0
    canvas = np.full((size, size), bg)
    top, left = (size - nh) // 2, (size - nw) // 2
    canvas[top:top + nh, left:left + nw] = small
    steps.append((f"resized to {nw}×{nh}, centred on {size}×{size}", torch.from_numpy(canvas).float()))
    # 5. negate a light background so the object is bright on black, like the training data
    do_invert = invert == "yes" or (invert == "auto" and bg > 0.5)
    if do_invert:
        canvas = 1.0 - canvas
        notes.append(f"negated (background {bg:.2f} is light; the model was trained on light objects on black)"
                     if invert == "auto" else "negated (asked for)")
        steps.append(("negated", torch.from_numpy(canvas).float()))
    x = torch.from_numpy(np.clip(canvas, 0.0, 1.0)).float()[None, None]  # (1, 1, S, S)
    return ConvertedImage(x, steps, notes, wh, mode, do_invert)
