"""Training figures: each builds and renders from what the trainer returns."""

import torch
from matplotlib.figure import Figure

from dlcore.plotting import figure_to_png
from dlcore.plotting.train import (confusion_plot, decision_boundary_plot, grad_norm_plot, lr_schedule_plot,
                                   regression_plot, training_curves)

NAN = float("nan")


def _png(fig: Figure) -> bytes:
    assert isinstance(fig, Figure)
    data = figure_to_png(fig)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return data


def test_curves_classification_regression_and_empty():
    cls = ("#1", [1, 2], [1.0, 0.5], [1.1, 0.6], [0.5, 0.8], [0.4, 0.7])
    reg = ("#2", [1, 2], [1.0, 0.5], [1.1, 0.6], [NAN, NAN], [NAN, NAN])
    assert len(training_curves([cls, reg]).axes) == 2
    assert len(training_curves([reg]).axes) == 1  # no accuracy panel for regression
    _png(training_curves([]))
    wide = ("#3", [1, 2, 3], [1.0, 0.1, 0.001], [1.0, 1.5, 2.0], [0.5, 0.9, 1.0], [0.5, 0.6, 0.6])
    assert training_curves([wide]).axes[0].get_yscale() == "log"  # spans > 2 decades


def test_grad_norm_plot_reports_the_first_to_last_ratio():
    fig = grad_norm_plot(["1: Linear", "2: Linear", "3: Linear"], torch.tensor([[1e-6, 1e-3, 1e-1]]))
    assert "1.0e-05" in fig.axes[0].get_title()
    _png(fig)
    _png(grad_norm_plot(["1: Linear"], torch.zeros(0, 1)))


def test_other_figures_render():
    _png(lr_schedule_plot([0.0, 0.5, 1.0, 0.5], [0.0, 0.5], steps_per_epoch=2))
    xs = torch.linspace(-1, 1, 10)
    for c in (2, 3):
        probs = torch.softmax(torch.randn(10, 10, c), -1)
        _png(decision_boundary_plot(xs, xs, probs, torch.randn(5, 2), torch.randint(0, c, (5,))))
    x = torch.linspace(-3, 3, 20).unsqueeze(1)
    fig = regression_plot(x, torch.sin(x), torch.sin(x) + 0.1, (x, torch.sin(x)))
    assert "MSE 0.01" in fig.axes[0].get_title()
    _png(regression_plot(torch.randn(20, 2), torch.randn(20, 1), torch.randn(20, 1)))


def test_confusion_plot_shows_counts_and_accuracy():
    cm = torch.tensor([[5, 1], [2, 2]])
    fig = confusion_plot(cm, ["a", "b"])
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.texts] == ["5", "1", "2", "2"]
    assert "70.0%" in ax.get_title()
    assert ax.texts[0].get_color() == "white" and ax.texts[1].get_color() == "black"
