"""Figures for the layer calculator: the sliding window of one output element.

The input plane (one channel; 1-D inputs as one row) is drawn as a grid of its numbers with
the padding ring around it; the cells the selected output element reads are highlighted, and
next to it the output plane with that element marked. Works for convolution and pooling
results of :mod:`dlcore.calculators.arithmetic`.
"""

from __future__ import annotations

from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from dlcore.calculators.arithmetic import WorkedResult, num
from dlcore.plotting import PALETTE, new_figure

__all__ = ["sliding_window_figure", "MAX_CELLS"]

#: Planes larger than this are drawn without numbers.
MAX_CELLS = 400


def _grid(ax, values: list[list[float]] | None, rows: int, cols: int, pad: tuple[int, int], hi: set[tuple[int, int]],
          counts: dict[tuple[int, int], int], title: str, mark: tuple[int, int] | None = None,
          wts: dict[tuple[int, int], float] | None = None, pad_text: str = "0") -> None:
    pr, pc = pad
    ax.set_xlim(-pc - 0.5, cols + pc - 0.5)
    ax.set_ylim(rows + pr - 0.5, -pr - 0.5)
    ax.set_aspect("equal")
    ax.grid(False)
    ax.set_xticks([])
    ax.set_yticks([])
    for s in ax.spines.values():
        s.set_visible(False)
    show_numbers = (rows + 2 * pr) * (cols + 2 * pc) <= MAX_CELLS
    for r in range(-pr, rows + pr):
        for c in range(-pc, cols + pc):
            inside = 0 <= r < rows and 0 <= c < cols
            face = "#ffffff" if inside else "#e5e7eb"
            if (r, c) in hi:
                face = PALETTE[0] if inside else "#93c5fd"
            if mark == (r, c):
                face = PALETTE[1]
            ax.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, facecolor=face, edgecolor="#9ca3af", lw=0.6))
            if show_numbers:
                txt = num(values[r][c], 2) if inside and values is not None else (pad_text if not inside else "")
                if wts and (r, c) in wts:
                    txt += f"\n×{num(wts[(r, c)], 2)}"
                dark = (r, c) in hi and inside or mark == (r, c)
                ax.text(c, r, txt, ha="center", va="center", fontsize=7, color="white" if dark else "#111827")
                if counts.get((r, c), 0) > 1:
                    ax.text(c + 0.42, r - 0.42, f"×{counts[(r, c)]}", ha="right", va="top", fontsize=5,
                            color="white")
    ax.set_title(title, fontsize=9)


def sliding_window_figure(result: WorkedResult, x_plane: list, element: int = 0) -> Figure:
    """Draw which input cells output element ``element`` read.

    Args:
        result: a conv or pooling :class:`WorkedResult` (``spatial`` 1 or 2).
        x_plane: the input as a nested list, shape (N, C, *L) or (C, *L) as given to the layer.
        element: index into ``result.elements`` (row-major over the output).
    """
    if result.spatial not in (1, 2):
        raise ValueError(f"the sliding-window picture is for Conv and Pool layers, not {result.kind}")
    if not 0 <= element < len(result.elements):
        raise ValueError(f"output element {element} does not exist; the output has {len(result.elements)} elements "
                         f"(0 … {len(result.elements) - 1})")
    el = result.elements[element]
    n = result.spatial
    batched = len(el.index) == n + 2
    b = el.index[0] if batched else 0
    planes = x_plane[b] if batched else x_plane
    chans = sorted({r[0] for r in el.reads})
    out = result.output if not batched else result.output[b]  # (C_out, *L_out)
    oc, pos = el.index[-n - 1], el.index[-n:]
    show = chans[:3]
    fig, axes = new_figure(1, len(show) + 1, figsize=(3.0 * (len(show) + 1) + 0.4, 3.4), squeeze=False)
    pad = (0,) + tuple(result.padding) if n == 1 else tuple(result.padding)
    for ax, c in zip(axes[0], show):
        plane = planes[c] if n == 2 else [planes[c]]
        rows, cols = len(plane), len(plane[0])
        counts: dict[tuple[int, int], int] = {}
        wts: dict[tuple[int, int], float] = {}
        for j, rd in enumerate(el.reads):
            if rd[0] == c:
                key = (rd[1], rd[2]) if n == 2 else (0, rd[1])
                counts[key] = counts.get(key, 0) + 1
                if el.weights:
                    wts[key] = el.weights[j]
        _grid(ax, plane, rows, cols, pad, set(counts), counts,
              f"input ch {c}" + (" (× weight)" if wts else "") + ("; grey = padding" if any(pad) else ""),
              wts=wts, pad_text="−∞" if result.kind.startswith("MaxPool") else "0")
    o_plane = out[oc].tolist() if n == 2 else [out[oc].tolist()]
    _grid(axes[0][-1], o_plane, len(o_plane), len(o_plane[0]), (0, 0), set(), {},
          f"output channel {oc}: y{list(el.index)} = {num(el.value)}",
          mark=(pos[0], pos[1]) if n == 2 else (0, pos[0]))
    if len(chans) > len(show):
        fig.suptitle(f"(reads {len(chans)} input channels; the first {len(show)} are shown)", fontsize=8)
    return fig
