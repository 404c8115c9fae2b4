"""Every attention figure renders from what the library returns, with legible text."""

from __future__ import annotations

import torch
from matplotlib.text import Text

from dlcore.attention import (attention_report, calc_config, measure_complexity, nadaraya_watson, nw_data,
                              rope_scores, shift_proof, train_parametric)
from dlcore.attention.names import CALC_EXAMPLES
from dlcore.plotting import figure_to_png
from dlcore.plotting.attention import (calculator_figure, complexity_figure, pe_figure, pooling_weights_figure,
                                       regression_figure, rope_figure, rotation_figure, training_figure)


def _figures():
    d = nw_data(20)
    r = nadaraya_watson(d.x_test, d.x_train, d.y_train, 0.5)
    *_, run = list(train_parametric(d))
    yield regression_figure(d, {"σ = 0.5": r.prediction, "learned": run.prediction})
    yield pooling_weights_figure(d, {"σ = 0.5": r.weights, "learned": run.weights})
    yield training_figure(run.frames, run.w0)
    for e in (CALC_EXAMPLES[1], CALC_EXAMPLES[6]):
        rep = attention_report(e.q, e.k, e.v, calc_config(e.scoring, e.mask, e.valid_keys, e.heads, e.projection,
                                                          row=e.row))
        yield calculator_figure(rep)
    p = shift_proof(30, 16, 3, 2)
    yield pe_figure(p.pe, [3, 5])
    yield rotation_figure(p)
    g = torch.Generator().manual_seed(0)
    yield rope_figure(rope_scores(torch.randn(8, generator=g, dtype=torch.float64),
                                  torch.randn(8, generator=g, dtype=torch.float64), 10))
    yield complexity_figure(measure_complexity((8, 16), d=8))


def test_figures_render_with_text_of_at_least_8_pt():
    n = 0
    for fig in _figures():
        assert figure_to_png(fig)[:4] == b"\x89PNG"
        sizes = [t.get_fontsize() for t in fig.findobj(Text) if t.get_text()]
        assert min(sizes) >= 8, min(sizes)
        assert any(ax.get_title() for ax in fig.axes)
        n += 1
    assert n == 9
