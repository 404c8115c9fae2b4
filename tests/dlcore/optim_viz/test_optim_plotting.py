"""The optimizer lab's figures build from the library's results, and the click map inverts the drawing."""

from __future__ import annotations

import pytest
from matplotlib.figure import Figure

from dlcore.optim_viz import TrajectoryConfig, compare_warmup, get_surface, inspect_point, run_optimizers, surface_grid
from dlcore.optim_viz.warmup import WarmupConfig
from dlcore.plotting.optim_viz import (hessian_figure, loss_figure, loss_image, loss_limits, surface_figure, surface_image,
                                       warmup_figure)


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
    b = _BACKDROPS.items["saddle"]
    assert not b.fig.legends and len(b.ax.lines) == 0 and b.ax.get_title() == " "
    assert not np.array_equal(surface_image(grid, long)[0], surface_image(grid, short)[0])


def test_the_kept_loss_backdrop_draws_the_same_picture_as_the_whole_figure() -> None:
    """loss_image keeps the axes of each set of limits and draws the lines, legend and title on top:
    pixel for pixel loss_figure, on log and linear axes, run after run, with nothing left behind."""
    import numpy as np

    from dlcore.plotting.optim_viz import _LOSS_BACKDROPS, figure_pixels

    saddle, rosen = get_surface("saddle"), get_surface("rosenbrock")
    runs = [run_optimizers(saddle, None, TrajectoryConfig(steps=300)),         # reaches L = 0: linear axis
            run_optimizers(rosen, None, TrajectoryConfig(steps=60)),           # every L > 0: log axis
            run_optimizers(rosen, None, TrajectoryConfig(steps=60, lr_adaptive=0.0199)),  # the same limits
            run_optimizers(saddle, None, TrajectoryConfig(steps=300))]
    assert float(runs[0].loss.min()) == 0.0
    logs = [loss_limits(tr)[0] for tr in runs]
    assert logs == [False, True, True, False]
    assert loss_limits(runs[1]) == loss_limits(runs[2])                        # one backdrop serves both
    lo, hi = loss_limits(runs[1])[2]
    assert lo <= float(runs[1].loss.min()) and hi >= float(runs[1].loss.max()) and hi / lo >= 10
    pictures = []
    for k, tr in enumerate(runs):
        title = f"run {k % 3}"                                                # runs 0 and 3: the same picture
        img = loss_image(tr, title)
        assert np.array_equal(img, figure_pixels(loss_figure(tr, title))[0])
        pictures.append(img)
    assert np.array_equal(pictures[0], pictures[3]) and not np.array_equal(pictures[1], pictures[2])
    b = _LOSS_BACKDROPS.items[loss_limits(runs[1])]
    assert len(b.ax.lines) == 0 and b.ax.get_legend() is None and b.ax.get_title() == " "
    flat = run_optimizers(saddle, None, TrajectoryConfig(start=(1.0, 1.0), steps=5, adamw_weight_decay=0.0))  # L = 0 always
    log, xlim, (lo, hi) = loss_limits(flat)
    assert not log and xlim == (0.0, 5.0) and lo <= -0.5 and hi >= 0.5 and lo == pytest.approx(-hi)
    assert np.array_equal(loss_image(flat), figure_pixels(loss_figure(flat))[0])
