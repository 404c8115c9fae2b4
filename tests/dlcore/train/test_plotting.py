"""Training figures: each builds, renders, and stays legible at a phone's 370 px column."""

import torch
from matplotlib.figure import Figure
from matplotlib.text import Text

from dlcore.plotting import figure_to_png
from dlcore.plotting.train import (confusion_plot, data_view_plot, decision_boundary_plot, grad_norm_plot,
                                   lr_schedule_plot, regression_plot, training_curves)
from dlcore.train.views import Confusion, DataView, RunCurves

NAN = float("nan")
PHONE_PX = 348  # a figure's width on a 414 px phone (measured in Chromium)


def _png(fig: Figure) -> bytes:
    assert isinstance(fig, Figure)
    data = figure_to_png(fig)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return data


def smallest_shown_pt(fig: Figure, width_px: int = PHONE_PX) -> float:
    """The smallest visible text of ``fig`` in points once shown at most ``width_px`` wide."""
    fig.canvas.draw()
    scale = min(1.0, width_px / (fig.get_figwidth() * fig.dpi))
    sizes = [t.get_fontsize() for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
    return min(sizes) * scale


def _curves(label, acc=True, n_epochs=2, spe=3):
    steps = n_epochs * spe
    return RunCurves(label, [(i + 1) / spe for i in range(steps)], [1.0 / (i + 1) for i in range(steps)],
                     [1.0 / (i + 1) for i in range(steps)], list(range(1, n_epochs + 1)), [0.6, 0.4][:n_epochs],
                     [0.7, 0.5][:n_epochs], ([0.5, 0.8] if acc else [NAN, NAN])[:n_epochs],
                     ([0.4, 0.7] if acc else [NAN, NAN])[:n_epochs], 10)


def test_curves_classification_regression_empty_and_one_epoch():
    fig = training_curves([_curves("#1")])
    assert len(fig.axes) == 2
    lines = fig.axes[0].get_lines()
    assert len(lines) == 3 and lines[0].get_alpha() == 0.2  # raw steps faint, EMA, validation per epoch
    assert fig.axes[0].get_xlim() == (0.0, 10.0)  # the whole run's epochs: the curve grows into it
    assert len(training_curves([_curves("#2", acc=False)]).axes) == 1  # regression: no accuracy panel
    one = training_curves([_curves("#3", n_epochs=1)])
    assert one.axes[0].get_lines()[-1].get_marker() == "o"  # a single epoch is a visible point
    _png(training_curves([]))
    several = training_curves([_curves("#1"), _curves("#2")])
    assert all(ln.get_alpha() != 0.2 for ln in several.axes[0].get_lines())  # overlays: EMA only


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
    assert data_view_plot(DataView("none")) is None


def test_confusion_plot_shows_counts_and_accuracy():
    cm = torch.tensor([[5, 1], [2, 2]])
    fig = confusion_plot(cm, ["a", "b"])
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.texts] == ["5", "1", "2", "2"]
    assert "70.0%" in ax.get_title()
    assert ax.texts[0].get_color() == "white" and ax.texts[1].get_color() == "black"
    assert "70.0%" in confusion_plot(Confusion(cm, ("a", "b"), 0.7)).axes[0].get_title()


def _images_view():
    names = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
             "Ankle boot")
    y = torch.arange(12) % 10
    return DataView("images", torch.rand(12, 1, 28, 28), y, (y + (torch.arange(12) % 3 == 0)) % 10,
                    class_names=names)


def test_every_figure_is_legible_on_a_phone():
    big = torch.randint(0, 120, (10, 10))
    figs = {
        "curves": training_curves([_curves("#1 Adam lr=0.01 [16, 16] relu")]),
        "compare": training_curves([_curves(f"#{i} SGD lr=0.05 [64, 32] relu+BN") for i in range(6)]),
        "lr": lr_schedule_plot([0.1] * 300, [0.1] * 100, steps_per_epoch=10),
        "grads": grad_norm_plot([f"{i}: Linear" for i in range(1, 12)], torch.rand(5, 11)),
        "boundary": decision_boundary_plot(torch.linspace(-1, 1, 10), torch.linspace(-1, 1, 10),
                                           torch.softmax(torch.randn(10, 10, 3), -1), torch.randn(5, 2),
                                           torch.randint(0, 3, (5,))),
        "regression": regression_plot(torch.randn(20, 1), torch.randn(20, 1), torch.randn(20, 1)),
        "images": data_view_plot(_images_view()),
        "confusion": confusion_plot(big, _images_view().class_names),
    }
    for name, fig in figs.items():
        assert smallest_shown_pt(fig) >= 8.0, (name, smallest_shown_pt(fig))
        assert fig.get_figwidth() <= 4.4, name
    titles = [t for t in figs["images"].axes[0].title.get_text()]
    assert titles  # every image is titled with its predicted class
