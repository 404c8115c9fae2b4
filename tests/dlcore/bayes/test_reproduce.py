"""The notes' two scripts (seed 003 §dl_6_2), run verbatim on torch's global RNG, against the library's
runs on their own seeded generator: bit-identical losses, parameters and predictions (atol = 0)."""

from __future__ import annotations

import pytest
import torch

from dlcore.bayes.names import N_GRID, X_RANGE
from dlcore.bayes.training import DropoutConfig, Run, VIConfig, predictive, train_mc_dropout, train_variational
from tests.dlcore.bayes.seed_scripts import mc_dropout_script, variational_script
from tests.streams import last

GRID = torch.linspace(X_RANGE[0], X_RANGE[1], N_GRID).unsqueeze(1)   # the notes' x_test


def _seed(script, epochs):
    before = torch.random.get_rng_state()
    with torch.random.fork_rng(devices=[]):
        out = script(epochs)
    assert torch.equal(torch.random.get_rng_state(), before)   # the global RNG is left as it was
    return out


@pytest.mark.parametrize("epochs", [2000, 7])
def test_variational_equals_the_notes_script(epochs: int) -> None:
    ref = _seed(variational_script, epochs)
    run: Run = last(train_variational(VIConfig(epochs=epochs)))
    assert run.status == "done" and run.epochs_run == epochs
    assert torch.equal(run.x, ref["x"]) and torch.equal(run.y, ref["y"])
    torch.testing.assert_close(run.losses, ref["losses"], atol=0, rtol=0)
    torch.testing.assert_close(run.model.fc1.w_mu.detach(), ref["w_mu"], atol=0, rtol=0)
    torch.testing.assert_close(run.model.fc1.w_logvar.detach(), ref["w_logvar"], atol=0, rtol=0)
    p = predictive(run, GRID)
    torch.testing.assert_close(p.mean, ref["mean"], atol=0, rtol=0)
    torch.testing.assert_close(p.std, ref["std"], atol=0, rtol=0)


@pytest.mark.parametrize("epochs", [2000, 7])
def test_mc_dropout_equals_the_notes_script(epochs: int) -> None:
    ref = _seed(mc_dropout_script, epochs)
    run: Run = last(train_mc_dropout(DropoutConfig(epochs=epochs)))
    assert torch.equal(run.y, ref["y"])
    torch.testing.assert_close(run.losses, ref["losses"], atol=0, rtol=0)
    p = predictive(run, GRID)
    torch.testing.assert_close(p.mean, ref["mean"], atol=0, rtol=0)
    torch.testing.assert_close(p.std, ref["std"], atol=0, rtol=0)


def test_the_library_never_touches_the_global_rng() -> None:
    before = torch.random.get_rng_state()
    run = last(train_variational(VIConfig(epochs=5)))
    predictive(run, GRID)
    last(train_mc_dropout(DropoutConfig(epochs=5)))
    assert torch.equal(torch.random.get_rng_state(), before)
