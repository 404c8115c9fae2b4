from __future__ import annotations


import pytest
import torch
from matplotlib.figure import Figure

from dlcore.plotting import figure_to_png, heatmap, image_grid, line_plot, new_figure


def test_no_module_of_dlcore_uses_pyplot():
    from pathlib import Path

    import dlcore

    offenders = [str(p) for p in Path(dlcore.__file__).parent.rglob("*.py")
                 if "import matplotlib.pyplot" in p.read_text() or "plt." in p.read_text()]
    assert offenders == []


def test_figures_render_to_png():
    fig, ax = new_figure()
    ax.plot([0, 1], [1, 0])
    png = figure_to_png(fig)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert isinstance(line_plot({"a": ([0, 1], [0, 1]), "b": ([0, 1], [1, 0])}), Figure)
    assert isinstance(heatmap(torch.eye(3), xlabels="abc", ylabels="abc"), Figure)


def test_image_grid_layout_and_titles():
    fig = image_grid(torch.rand(10, 1, 8, 8), titles=[str(i) for i in range(10)], ncols=5)
    axes = fig.get_axes()
    assert len(axes) == 10
    assert axes[3].get_title() == "3"
    with pytest.raises(ValueError, match="at least one image"):
        image_grid([])
    with pytest.raises(ValueError, match="shape"):
        image_grid([torch.rand(2, 2, 2, 2)])
