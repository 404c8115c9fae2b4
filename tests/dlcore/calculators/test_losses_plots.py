"""The loss tab's figures render and stay legible at a phone's 370 px column."""

import torch
from matplotlib.figure import Figure
from matplotlib.text import Text

from dlcore.calculators import losses_curves as curves
from dlcore.calculators.losses import calculate
from dlcore.calculators.losses_examples import CE_X, CE_Y, X, Y
from dlcore.calculators.losses_report import chance_report
from dlcore.plotting import figure_to_png
from dlcore.plotting.losses import bce_stability_figure, chance_figure, per_element_figure, regression_curves_figure


def smallest_shown_pt(fig: Figure, width_px: int = 348) -> float:  # 414 px phone
    fig.canvas.draw()
    scale = min(1.0, width_px / (fig.get_figwidth() * fig.dpi))
    return min(t.get_fontsize() for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()) * scale


def test_every_loss_figure_renders_and_is_legible_on_a_phone():
    e = torch.linspace(-3, 3, 101, dtype=torch.float64)
    r = chance_report(CE_X, CE_Y)
    wide = calculate("MSELoss", torch.rand(4, 8, dtype=torch.float64), torch.rand(4, 8, dtype=torch.float64))
    figs = {
        "mse": per_element_figure(calculate("MSELoss", X, Y)),
        "ce": per_element_figure(calculate("CrossEntropyLoss", CE_X, CE_Y)),
        "wide": per_element_figure(wide),
        "curves": regression_curves_figure(e, curves.regression_curves(e, 1.0, 1.0)),
        "chance": chance_figure(r.num_classes, r.p_true, r.margins),
        "stability": bce_stability_figure(curves.bce_stability(torch.linspace(-50, 50, 101), 0.0), 0.0),
    }
    for name, fig in figs.items():
        assert figure_to_png(fig)[:4] == b"\x89PNG"
        assert fig.get_figwidth() <= 4.4, name
        assert smallest_shown_pt(fig) >= 8.0, (name, smallest_shown_pt(fig))
    assert len(figs["ce"].axes[1].texts) == 12  # softmax probabilities written in every cell
    assert "0.01" in [t.get_text()[:4] for t in figs["mse"].axes[0].texts]
