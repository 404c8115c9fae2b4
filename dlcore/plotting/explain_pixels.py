"""Explanation pictures as pixels: a map as an RGB array (a slider's frame in a few
milliseconds, no matplotlib layout), and the embedding scatter as an image whose pixels map
back to data coordinates (so a click on the picture can choose the nearest point).

* :func:`map_image` — image | map | colour bar, upscaled without smoothing (each input pixel
  stays a visible square);
* :func:`embedding_image` — :func:`dlcore.plotting.explain.embedding_figure` rendered to an
  ``(H, W, 3)`` array, with a :class:`PixelMap` from picture pixels to the scatter's axes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg

from dlcore.plotting.explain import MAP_CMAP, SIGNED_CMAP, _gray, embedding_figure

__all__ = ["map_image", "PixelMap", "embedding_image", "MAX_SCALE"]

MAX_SCALE = 32


def _rgb(values: np.ndarray, cmap: str, lo: float, hi: float) -> np.ndarray:
    """(H, W) values -> (H, W, 3) uint8 through a colour map on [lo, hi]."""
    t = np.clip((values - lo) / (hi - lo), 0.0, 1.0)
    return (colormaps[cmap](t)[..., :3] * 255).round().astype(np.uint8)


def map_image(m: torch.Tensor, image: torch.Tensor | None = None, signed: bool = False, scale: int = 10) -> np.ndarray:
    """One map as pixels: the image (gray), the map (its 99th percentile = full colour), a colour bar.

    Args:
        m: ``(H, W)`` map. image: ``(C, H, W)`` / ``(1, C, H, W)`` / ``(H, W)`` shown on the left, or None.
        signed: blue-white-red on [-1, 1] (evidence against / for) instead of inferno on [0, 1].
        scale: each input pixel becomes ``scale × scale`` pixels (1 … :data:`MAX_SCALE`).

    Shape: ``(H·scale, W'·scale... , 3)`` uint8 — the panels side by side with a white gap.

    Raises:
        ValueError: a map that is not 2-D or a bad scale.
    """
    from dlcore.explain.metrics import normalize_maps

    if not isinstance(m, torch.Tensor) or m.ndim != 2:
        raise ValueError(f"map must be an (H, W) tensor, got {tuple(m.shape) if isinstance(m, torch.Tensor) else m!r}")
    if isinstance(scale, bool) or not isinstance(scale, int) or not 1 <= scale <= MAX_SCALE:
        raise ValueError(f"scale {scale!r} must be a whole number in [1, {MAX_SCALE}]")
    h, w = m.shape
    shown = normalize_maps(m[None].float(), "signed" if signed else "abs")[0].numpy()  # (H, W) in [-1, 1] / [0, 1]
    panels = []
    if image is not None:
        panels.append(_rgb(_gray(image), "gray", 0.0, 1.0))
    panels.append(_rgb(shown, SIGNED_CMAP if signed else MAP_CMAP, -1.0 if signed else 0.0, 1.0))
    bar = np.linspace(1.0, -1.0 if signed else 0.0, h)[:, None].repeat(max(1, w // 10), 1)  # (H, w/10), top = 1
    panels.append(_rgb(bar, SIGNED_CMAP if signed else MAP_CMAP, -1.0 if signed else 0.0, 1.0))
    gap = np.full((h, 1, 3), 255, np.uint8)
    row = np.concatenate([p for pan in panels for p in (pan, gap)][:-1], axis=1)  # (H, W', 3)
    return row.repeat(scale, 0).repeat(scale, 1)


@dataclass(frozen=True)
class PixelMap:
    """Where the scatter's axes sit in the rendered picture, and their data limits.

    Attributes:
        left, top, right, bottom: the axes' box in picture pixels (origin top-left, y down).
        xlim, ylim: the data range the box shows.
        width, height: the picture's size in pixels.
    """

    left: float
    top: float
    right: float
    bottom: float
    xlim: tuple[float, float]
    ylim: tuple[float, float]
    width: int
    height: int

    def to_data(self, px: float, py: float) -> tuple[float, float]:
        """Picture pixel ``(px, py)`` (x right, y down) -> data ``(x, y)`` (linear axes).

        Raises:
            ValueError: a non-finite pixel, or one outside the picture.
        """
        for v in (px, py):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v):
                raise ValueError(f"pixel coordinate {v!r} must be a finite number")
        if not (0 <= px <= self.width and 0 <= py <= self.height):
            raise ValueError(f"pixel ({px:g}, {py:g}) is outside the {self.width}×{self.height} picture")
        fx = (px - self.left) / (self.right - self.left)
        fy = (self.bottom - py) / (self.bottom - self.top)
        return (self.xlim[0] + fx * (self.xlim[1] - self.xlim[0]), self.ylim[0] + fy * (self.ylim[1] - self.ylim[0]))

    def as_dict(self) -> dict[str, Any]:
        return {"left": self.left, "top": self.top, "right": self.right, "bottom": self.bottom,
                "xlim": list(self.xlim), "ylim": list(self.ylim), "width": self.width, "height": self.height}

    @classmethod
    def from_dict(cls, d: Any) -> "PixelMap":
        """Rebuild from :meth:`as_dict` (e.g. from a UI's session state).

        Raises:
            ValueError: not such a dict.
        """
        try:
            return cls(float(d["left"]), float(d["top"]), float(d["right"]), float(d["bottom"]),
                       (float(d["xlim"][0]), float(d["xlim"][1])), (float(d["ylim"][0]), float(d["ylim"][1])),
                       int(d["width"]), int(d["height"]))
        except (KeyError, TypeError, IndexError, ValueError):
            raise ValueError("no scatter picture to click on yet: draw the embedding first") from None


def embedding_image(emb: Any, highlight: int | None = None, color_by: str = "label") -> tuple[np.ndarray, PixelMap]:
    """:func:`~dlcore.plotting.explain.embedding_figure` as an ``(H, W, 3)`` uint8 picture and its
    :class:`PixelMap` (for "click a point to see its image").

    Raises:
        ValueError: as :func:`~dlcore.plotting.explain.embedding_figure`.
    """
    fig = embedding_figure(emb, highlight, color_by)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    rgba = np.asarray(canvas.buffer_rgba())
    height, width = rgba.shape[:2]
    ax = fig.axes[0]
    box = ax.get_window_extent()  # display pixels, origin bottom-left
    pm = PixelMap(float(box.x0), float(height - box.y1), float(box.x1), float(height - box.y0),
                  tuple(float(v) for v in ax.get_xlim()), tuple(float(v) for v in ax.get_ylim()),  # type: ignore[arg-type]
                  int(width), int(height))
    return rgba[..., :3].copy(), pm
