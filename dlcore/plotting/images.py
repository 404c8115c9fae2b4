"""Figures for uploaded pictures: how :func:`dlcore.data.image_input.convert_image` turned a
picture into the model's input (shared by the attack and the explain tabs)."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

from matplotlib.figure import Figure

from dlcore.plotting import _to_hwc, new_figure

if TYPE_CHECKING:  # pragma: no cover
    from dlcore.data.image_input import ConvertedImage

__all__ = ["conversion_steps"]


def conversion_steps(converted: "ConvertedImage", max_steps: int = 5) -> Figure:
    """Each conversion stage left to right (grayscale, trimmed, resized and centred, negated),
    then the final model input; the notes of what was done are written under the images."""
    steps = list(converted.steps)[:max_steps]
    final = converted.tensor[0, 0]  # (S, S)
    panels = steps + [(f"model input {final.shape[1]}×{final.shape[0]}", final)]
    n = len(panels)
    notes = "; ".join(converted.notes) or "no conversion was needed"
    wrapped = "\n".join(textwrap.wrap(notes, width=int(28 * n)))
    fig, axes = new_figure(1, n, figsize=(2.3 * n + 0.4, 3.1 + 0.18 * wrapped.count("\n")), squeeze=False)
    for ax, (caption, img) in zip(axes[0], panels):
        ax.imshow(_to_hwc(img), cmap="gray", vmin=0, vmax=1)
        ax.set_title("\n".join(textwrap.wrap(caption, 22)), fontsize=9)
        ax.axis("off")
    w, h = converted.original_size
    fig.suptitle(f"your picture ({w}×{h}, {converted.original_mode or '?'}) → model input", fontsize=11)
    fig.supxlabel(wrapped, fontsize=9)
    return fig
