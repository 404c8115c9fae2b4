"""dlcore.bayes beyond the notes' runs: the KL against torch.distributions, the reparameterisation,
coverage and the total std, bad settings named, Stop, and the figures."""

from __future__ import annotations

import threading

import pytest
import torch
from matplotlib.figure import Figure
from torch.distributions import Normal, kl_divergence

from dlcore.bayes.models import BayesianLinear, DropoutMLP, kl_to_standard_normal
from dlcore.bayes.training import DropoutConfig, Frame, VIConfig, predictive, train_mc_dropout, train_variational
from dlcore.bayes.uncertainty import coverage, summarize, total_std, weight_view
from dlcore.bayes.views import dropout_settings, vi_settings, weight_settings
from tests.streams import last


@pytest.fixture(scope="module")
def vi_run():
    return last(train_variational(VIConfig(epochs=60)))


def test_closed_form_kl_equals_torch_distributions() -> None:
    g = torch.Generator().manual_seed(0)
    mu, logvar = torch.randn(50, generator=g, dtype=torch.float64), torch.randn(50, generator=g, dtype=torch.float64)
    ref = kl_divergence(Normal(mu, torch.exp(0.5 * logvar)), Normal(torch.zeros(50, dtype=torch.float64), 1.0)).sum()
    torch.testing.assert_close(kl_to_standard_normal(mu, logvar), ref)
    assert float(kl_to_standard_normal(torch.zeros(3), torch.zeros(3))) == 0.0  # q = p: no divergence


def test_layer_kl_sums_weights_and_biases() -> None:
    lin = BayesianLinear(3, 2, torch.Generator().manual_seed(1))
    ref = sum(kl_divergence(Normal(m, torch.exp(0.5 * lv)), Normal(0.0, 1.0)).sum()
              for m, lv in ((lin.w_mu, lin.w_logvar), (lin.b_mu, lin.b_logvar)))
    torch.testing.assert_close(lin.kl_loss(), ref)


def test_reparameterisation_draws_mu_plus_sigma_eps_and_carries_gradients() -> None:
    lin = BayesianLinear(4, 3, torch.Generator().manual_seed(2))
    x = torch.eye(4)
    out = lin(x, torch.Generator().manual_seed(7))                      # rows of wᵀ + b
    g = torch.Generator().manual_seed(7)
    w = lin.w_mu + torch.exp(0.5 * lin.w_logvar) * torch.randn(3, 4, generator=g)
    b = lin.b_mu + torch.exp(0.5 * lin.b_logvar) * torch.randn(3, generator=g)
    torch.testing.assert_close(out, x @ w.T + b, atol=0, rtol=0)
    out.sum().backward()
    assert lin.w_mu.grad is not None and lin.w_logvar.grad is not None and lin.w_logvar.grad.abs().sum() > 0
    torch.testing.assert_close(lin(x, sample=False), x @ lin.w_mu.T + lin.b_mu)  # no sample: the mean


def test_many_samples_of_one_weight_have_its_mean_and_std() -> None:
    lin = BayesianLinear(1, 1, torch.Generator().manual_seed(3))
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        draws = lin.w_mu + torch.exp(0.5 * lin.w_logvar) * torch.randn(20000, generator=g)  # (1, 20000)
    assert abs(float(draws.mean() - lin.w_mu.detach())) < 0.01
    assert abs(float(draws.std() / torch.exp(0.5 * lin.w_logvar.detach())) - 1) < 0.02


def test_dropout_keeps_one_minus_p_and_scales() -> None:
    net = DropoutMLP(64, 0.2, torch.Generator().manual_seed(0))
    h = torch.ones(2000, 64)
    out = net._dropout(h, torch.Generator().manual_seed(0), True)
    assert set(out.unique().tolist()) <= {0.0, 1.25}
    assert abs(float((out > 0).double().mean()) - 0.8) < 0.01
    assert torch.equal(net._dropout(h, None, False), h)


def test_coverage_and_total_std() -> None:
    y, mean = torch.tensor([0.0, 1.0, 2.0, 3.0]), torch.zeros(4)
    std = torch.full((4,), 0.5)
    assert coverage(y, mean, std) == 0.5               # |y| ≤ 1 for 0 and 1
    torch.testing.assert_close(total_std(torch.tensor([0.3]), 0.4), torch.tensor([0.5]))


def test_summary_numbers_are_consistent(vi_run) -> None:
    s = summarize(vi_run)
    assert s.wide.x[0] == -5 and s.wide.x[-1] == 5 and s.wide.samples.shape == (100, s.wide.x.numel())
    assert s.coverage_total >= s.coverage_epistemic            # adding σ_y only widens the band
    y = vi_run.y.squeeze(1)
    assert s.coverage_epistemic == coverage(y, s.train.mean, s.train.std)
    p1, p2 = predictive(vi_run, vi_run.x), predictive(vi_run, vi_run.x)
    assert torch.equal(p1.mean, p2.mean)                        # every call starts at the run's saved state


def test_weight_view_substitutes_and_matches_torch(vi_run) -> None:
    v = weight_view(vi_run, "fc2", 3, 7, eps_seed=5)
    lin = vi_run.model.fc2
    mu, lv = float(lin.w_mu.detach()[3, 7]), float(lin.w_logvar.detach()[3, 7])
    assert v.mu == mu and v.logvar == lv
    torch.testing.assert_close(torch.tensor(v.w), torch.tensor(mu + v.sigma * v.eps))
    torch.testing.assert_close(torch.tensor(v.kl), torch.tensor(v.kl_torch))
    b = weight_view(vi_run, "fc3", 0, -1)
    assert b.index == (0,) and b.mu == float(vi_run.model.fc3.b_mu.detach()[0])


@pytest.mark.parametrize("call,fragment", [
    (lambda: vi_settings(epochs=0), "epochs = 0 is below the minimum 1"),
    (lambda: vi_settings(lr=5), "learning rate = 5 is above the maximum 1"),
    (lambda: vi_settings(kl_weight=-1), "KL weight λ = -1 is below the minimum 0"),
    (lambda: vi_settings(samples=1), "predictive samples M = 1 is below the minimum 2"),
    (lambda: dropout_settings(p=0.95), "dropout p = 0.95 is above the maximum 0.9"),
    (lambda: dropout_settings(noise="abc"), "noise σ_y"),
    (lambda: weight_settings("fc3", 1, 0), "row = 1 is outside fc3's 1 output units"),
    (lambda: weight_settings("fc1", 0, 1), "column = 1 is outside fc1's 1 inputs"),
    (lambda: weight_settings("fc9", 0, 0), "layer"),
    (lambda: last(train_variational(VIConfig(epochs=0))), "epochs = 0 is below the minimum 1"),
    (lambda: last(train_mc_dropout(DropoutConfig(p=1.0))), "dropout p = 1 is above the maximum 0.9"),
])
def test_bad_settings_are_named(call, fragment) -> None:
    with pytest.raises(ValueError, match=None) as err:
        call()
    assert fragment in str(err.value), str(err.value)


def test_stop_ends_after_the_current_epoch_and_keeps_the_run() -> None:
    stop = threading.Event()
    gen = train_variational(VIConfig(epochs=500), stop, every=1)
    first = next(gen)
    assert isinstance(first, Frame) and first.epoch == 1 and first.kl > 0
    stop.set()
    run = last(gen)
    assert run.status == "stopped" and run.epochs_run == 1
    run = last(train_mc_dropout(DropoutConfig(epochs=3)))
    assert run.status == "done" and float(run.kl.abs().sum()) == 0


def test_divergence_is_reported() -> None:
    run = last(train_variational(VIConfig(epochs=50, lr=1.0, kl_weight=100)))
    assert run.status in ("done", "diverged")  # a huge step may or may not blow up; never an exception


def test_figures_build(vi_run) -> None:
    from dlcore.plotting.bayes import compare_figure, loss_figure, predictive_figure

    s = summarize(vi_run)
    mc = last(train_mc_dropout(DropoutConfig(epochs=20)))
    sm = summarize(mc)
    for fig in (predictive_figure(vi_run, s, True), predictive_figure(mc, sm), loss_figure(vi_run), loss_figure(mc),
                compare_figure([("a", vi_run, s), ("b", mc, sm)], True)):
        assert isinstance(fig, Figure) and fig.axes
    labels = [t.get_text() for t in predictive_figure(vi_run, s, True).legends[0].get_texts()]
    assert any("σ_y = 0.2 added" in t for t in labels) and any("epistemic" in t for t in labels)
