"""Early exits: the joint loss, the threshold sweep's extremes, real batched exits agree with the
sweep, and the shipped multi-exit checkpoints' manifest metrics are re-measured."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from dlcore import zoo
from dlcore.compression import (EXIT_CRITERIA, EarlyExitModel, MultiExitCNN, all_exit_logits, exit_macs, exit_sweep,
                                joint_loss, joint_objective, run_early_exit)
from tests.dlcore.compression.fixtures import digits


def _net() -> MultiExitCNN:
    torch.manual_seed(0)
    return MultiExitCNN(image_size=8).eval()


def test_joint_loss_is_the_weighted_mean_of_every_exit() -> None:
    net, d = _net(), digits()
    x, y = d.x_train[:32], d.y_train[:32]
    zs = net.exits(x)
    ce = [F.cross_entropy(z, y) for z in zs]
    torch.testing.assert_close(joint_loss(zs, y, (1.0, 2.0, 1.0)), (ce[0] + 2 * ce[1] + ce[2]) / 4)
    loss, out = joint_objective()(net, x, y)
    torch.testing.assert_close(loss, sum(ce) / 3)
    torch.testing.assert_close(out, net(x))
    with pytest.raises(ValueError, match="exit weights"):
        joint_loss(zs, y, (1.0, 1.0))


def test_exit_macs_grow_with_depth_and_match_a_hand_count() -> None:
    macs = exit_macs(_net(), (1, 8, 8))
    # block 1: 8·8 outputs × 16 × 9 taps; head 1: 4·4·16 → 10
    assert macs[0] == 8 * 8 * 16 * 9 + 16 * 16 * 10
    assert macs[0] < macs[1] < macs[2]


@pytest.mark.parametrize("criterion", EXIT_CRITERIA)
def test_sweep_extremes_and_real_exits_agree(criterion) -> None:
    net, d = _net(), digits()
    x, y = d.x_test[:200], d.y_test[:200]
    z = all_exit_logits(net, x)
    macs = exit_macs(net, (1, 8, 8))
    lo, hi = (0.0, 1.0) if criterion == "max_prob" else (1.0, 0.0)  # everyone exits first / nobody early
    first, last = exit_sweep(z, y, macs, [lo, hi], criterion)
    assert first.exit_fractions[0] == 1.0 and first.mean_macs == macs[0]
    assert first.accuracy == pytest.approx(float((z[0].argmax(1) == y).float().mean()))
    assert last.exit_fractions[-1] == 1.0 and last.mean_macs == macs[-1]
    for tau in (0.2, 0.5, 0.8):
        (p,) = exit_sweep(z, y, macs, [tau], criterion)
        with torch.no_grad():
            real = EarlyExitModel(net, tau, criterion)(x)
        assert float((real.argmax(1) == y).float().mean()) == pytest.approx(p.accuracy)
        assert sum(p.exit_fractions) == pytest.approx(1.0)


def test_bad_thresholds_raise() -> None:
    z = torch.zeros(3, 4, 10)
    with pytest.raises(ValueError, match="threshold 1.5"):
        exit_sweep(z, torch.zeros(4, dtype=torch.long), [1, 2, 3], [1.5])
    with pytest.raises(ValueError, match="criterion 'margin'"):
        exit_sweep(z, torch.zeros(4, dtype=torch.long), [1, 2, 3], [0.5], "margin")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="threshold 'high'"):
        EarlyExitModel(_net(), "high")  # type: ignore[arg-type]


def _check_manifest(name: str) -> None:
    entry = zoo.info(name)
    got = zoo.evaluate(name)
    assert got["test_accuracy"] == pytest.approx(entry["test_accuracy"], abs=1e-6)
    for k, v in entry["metrics"].items():
        assert got[k] == pytest.approx(v, abs=1e-6), k
    assert entry["metrics"]["exit1_accuracy"] <= entry["metrics"]["exit3_accuracy"]
    assert entry["bytes"] < 3e6


def test_digits_multiexit_manifest_metrics_are_remeasured() -> None:
    _check_manifest("digits_multiexit")


@pytest.mark.slow
def test_fmnist_multiexit_manifest_metrics_are_remeasured() -> None:
    try:
        zoo.load_data("fmnist_multiexit")
    except zoo.ZooDataUnavailable:
        pytest.skip("Fashion-MNIST not available on this machine")
    _check_manifest("fmnist_multiexit")


def test_run_early_exit_trades_accuracy_for_compute() -> None:
    res = run_early_exit((0.0, 0.5, 0.9, 0.99, 1.0), eval_examples=1000)
    macs = [p.mean_macs for p in res.points]
    assert macs == sorted(macs) and macs[0] == res.exit_macs[0] and macs[-1] == pytest.approx(res.exit_macs[-1])
    assert res.points[-1].accuracy == pytest.approx(res.exit_accuracy[-1])
    assert res.points[2].accuracy > res.points[0].accuracy  # exiting later on doubt pays
