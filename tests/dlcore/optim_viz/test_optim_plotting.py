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
