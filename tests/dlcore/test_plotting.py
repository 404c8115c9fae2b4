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


def _figures():
    """One of each house figure kind, deterministic (no random data)."""
    x = torch.linspace(0, 1, 64).reshape(8, 8)
    yield lambda: line_plot({"a": ([0, 1, 2], [0, 1, 4]), "b": ([0, 1, 2], [2, 1, 0])}, title="title", xlabel="x")
    yield lambda: heatmap(x[:5, :5], xlabels="abcde", ylabels="vwxyz", title="heat")
    yield lambda: image_grid(x.reshape(4, 1, 4, 4), titles=["a", "b", "c", "d"], suptitle="grid")

    def custom():
        fig, ax = new_figure(1, 2)
        ax[0].plot([0, 1], [0, 1], label="up")
        ax[0].legend()
        ax[1].bar([0, 1, 2], [3, 1, 2])
        ax[1].set_title("bars")
        return fig
    yield custom


def test_concurrent_renders_equal_sequential_ones_byte_for_byte():
    """Several threads drawing at once (as concurrent requests do) get exactly the sequential
    pictures, and no global matplotlib setting changes (issue 10: rc_context was not thread-safe)."""
    import matplotlib
    from concurrent.futures import ThreadPoolExecutor

    before = dict(matplotlib.rcParams)
    makers = list(_figures())
    expected = [figure_to_png(m()) for m in makers]
    jobs = [i % len(makers) for i in range(48)]
    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(lambda i: figure_to_png(makers[i]()), jobs))
    assert all(g == expected[i] for g, i in zip(got, jobs))
    assert dict(matplotlib.rcParams) == before


def test_house_style_is_carried_by_the_axes_not_global_state():
    import matplotlib

    fig, ax = new_figure()
    ax.set_title("t")
    leg = (ax.plot([0, 1], label="a"), ax.legend())[1]
    assert not ax.spines["top"].get_visible() and ax.title.get_fontsize() == 11
    assert leg.get_frame_on() is False
    assert matplotlib.rcParams["axes.spines.top"] is True  # matplotlib's default, untouched
    ax.clear()
    assert not ax.spines["right"].get_visible()  # style survives clear()
