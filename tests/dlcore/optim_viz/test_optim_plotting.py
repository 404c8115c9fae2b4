"""The optimizer lab's figures build from the library's results, and the click map inverts the drawing."""

from __future__ import annotations

import pytest
from matplotlib.figure import Figure

from dlcore.optim_viz import TrajectoryConfig, compare_warmup, get_surface, inspect_point, run_optimizers, surface_grid
from dlcore.optim_viz.warmup import WarmupConfig
from dlcore.plotting.optim_viz import hessian_figure, loss_figure, surface_figure, surface_image, warmup_figure


@pytest.mark.parametrize("name", ["saddle", "rosenbrock", "beale"])
def test_figures(name: str) -> None:
    s = get_surface(name)
    tr = run_optimizers(s, None, TrajectoryConfig(steps=40))
    assert isinstance(surface_figure(surface_grid(s, 40), tr), Figure)
    assert isinstance(loss_figure(tr), Figure)
    assert isinstance(hessian_figure(inspect_point(s, s.info.start)), Figure)


def test_click_map_inverts_the_axes() -> None:
    s = get_surface("rosenbrock")
    img, pm = surface_image(surface_grid(s, 40), None, "rosenbrock")
    assert img.shape == (pm.height, pm.width, 3)
    x0, x1, y0, y1 = s.info.box
    assert pm.to_data(pm.left, pm.bottom) == pytest.approx((x0, y0), abs=0.02)
    assert pm.to_data(pm.right, pm.top) == pytest.approx((x1, y1), abs=0.02)


def test_warmup_figure() -> None:
    c = compare_warmup(get_surface("saddle"), TrajectoryConfig(start=(0.5, 0.2)), WarmupConfig(10, 60, 5))
    assert isinstance(warmup_figure(c), Figure)


def test_the_kept_backdrop_draws_the_same_picture_as_the_whole_figure() -> None:
    """surface_image restores a surface's kept pixels and draws each race's marks on top: pixel for
    pixel the figure drawn from scratch, race after race, with nothing left behind in between."""
    import numpy as np

    from dlcore.plotting.optim_viz import _BACKDROPS, figure_pixels

    s = get_surface("saddle")
    grid = surface_grid(s, 40)
    long = run_optimizers(s, None, TrajectoryConfig(steps=60))
    short = run_optimizers(s, None, TrajectoryConfig(start=(-1.0, 0.5), steps=7))
    for tr, upto in ((long, None), (short, None), (long, 20)):
        img, pm = surface_image(grid, tr, upto=upto)
        ref, ref_pm = figure_pixels(surface_figure(grid, tr, upto=upto))
        assert pm == ref_pm
        assert np.array_equal(img, ref)
    b = _BACKDROPS["saddle"]
    assert not b.fig.legends and len(b.ax.lines) == 0 and b.ax.get_title() == " "
    assert not np.array_equal(surface_image(grid, long)[0], surface_image(grid, short)[0])
