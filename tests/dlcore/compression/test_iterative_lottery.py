"""The prune → fine-tune loop (masks stay applied, progress, stop) and the lottery ticket's starts."""

from __future__ import annotations

import threading

import pytest
import torch

from dlcore import zoo
from dlcore.compression import (SCHEDULES, TICKET_INITS, IterativeConfig, LotteryConfig, iterative_prune,
                                lottery_ticket, one_shot_curve, original_init, prunable_layers, sparsity_schedule)
from dlcore.compression.lottery import ticket_start
from dlcore.compression.pruning import PruneConfig, prune_unstructured
from tests.dlcore.compression.fixtures import digits


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_schedules_rise_to_the_target(schedule) -> None:
    s = sparsity_schedule(0.9, 6, schedule)
    assert len(s) == 6 and s[-1] == 0.9 and all(a < b for a, b in zip(s, s[1:])) and s[0] > 0
    if schedule == "linear":
        assert s == pytest.approx([0.15, 0.3, 0.45, 0.6, 0.75, 0.9])  # the notes' equal steps


def test_iterative_pruning_reaches_the_target_and_keeps_pruned_weights_at_zero() -> None:
    model, d = zoo.get("digits_mlp", fresh=True), digits()
    seen: list[dict] = []
    res = iterative_prune(model, d, IterativeConfig(target=0.8, rounds=3, steps_per_round=5, final_steps=5,
                                                    batch_size=64), callback=lambda s, m: seen.append(m))
    assert res.status == "finished" and len(res.rounds) == 3
    assert res.rounds[-1].sparsity == pytest.approx(0.8, abs=1e-3)
    assert [r.sparsity for r in res.rounds] == sorted(r.sparsity for r in res.rounds)
    for _, m in prunable_layers(model):  # fine-tuning moved weights but never a pruned one
        assert torch.all(m.weight[m.weight_mask == 0] == 0)
    rounds = [m for m in seen if "acc_finetuned" in m]
    assert len(rounds) == 3 and sum("loss" in m for m in seen) == 3 * 5 + 5
    assert res.size is not None and res.size.compression > 3


def test_iterative_pruning_stops_on_request() -> None:
    stop = threading.Event()

    def cb(step: int, metrics: dict) -> None:
        if step >= 3:
            stop.set()

    res = iterative_prune(zoo.get("digits_mlp", fresh=True), digits(),
                          IterativeConfig(target=0.8, rounds=4, steps_per_round=10, batch_size=64), cb, stop)
    assert res.status == "stopped" and len(res.rounds) == 1


def test_one_shot_curve_leaves_the_model_alone() -> None:
    model, d = zoo.get("digits_mlp"), digits()
    pts = one_shot_curve(model, d, [0.0, 0.5, 0.95])
    assert [round(s, 2) for s, _ in pts] == [0.0, 0.5, 0.95]
    assert pts[0][1] == pytest.approx(zoo.info("digits_mlp")["test_accuracy"], abs=1e-6)
    assert pts[-1][1] < pts[0][1]


@pytest.mark.parametrize("bad, match", [(dict(target=1.0), "target 1.0"), (dict(rounds=0), "rounds 0"),
                                        (dict(schedule="exp"), "schedule 'exp'"), (dict(lr=0), "lr 0"),
                                        (dict(steps_per_round=-1), "steps_per_round -1"),
                                        (dict(rounds=50, steps_per_round=1000), "exceeds 10000"),
                                        (dict(target="0.9"), "target '0.9' must be a number")])
def test_bad_iterative_configs_raise(bad, match) -> None:
    with pytest.raises(ValueError, match=match):
        iterative_prune(zoo.get("digits_mlp", fresh=True), digits(), IterativeConfig(**bad))


def test_original_init_is_the_recipe_seed_init_and_deterministic() -> None:
    a, b = original_init("digits_mlp"), original_init("digits_mlp")
    trained = zoo.get("digits_mlp")
    for (_, la), (_, lb), (_, lt) in zip(prunable_layers(a), prunable_layers(b), prunable_layers(trained)):
        torch.testing.assert_close(la.weight, lb.weight)
        assert not torch.equal(la.weight, lt.weight)


def test_ticket_starts_keep_the_mask_and_the_promised_weights() -> None:
    theta0 = original_init("digits_mlp")
    trained = zoo.get("digits_mlp", fresh=True)
    prune_unstructured(trained, PruneConfig(0.8))
    masks = {n: m.weight_mask for n, m in prunable_layers(trained)}
    starts = {i: ticket_start(theta0, masks, i) for i in TICKET_INITS}  # type: ignore[arg-type]
    for name, m0 in prunable_layers(theta0):
        mask = masks[name].bool()
        w = {i: dict(prunable_layers(s))[name].weight for i, s in starts.items()}
        torch.testing.assert_close(w["original"], m0.weight * mask)
        assert torch.all(w["random"][~mask] == 0) and not torch.equal(w["random"][mask], m0.weight[mask])
        assert torch.equal(torch.sign(w["signs"][mask]), torch.sign(m0.weight[mask]))
        torch.testing.assert_close(w["signs"].abs(), w["random"].abs())  # random magnitudes, θ₀'s signs


def test_lottery_ticket_runs_every_start_on_the_same_budget() -> None:
    res = lottery_ticket("digits_mlp", digits(), LotteryConfig(sparsity=0.8, steps=10, eval_every=5, batch_size=64,
                                                               eval_examples=100))
    assert set(res.curves) == {*TICKET_INITS, "dense"}
    assert all([s for s, _ in c] == [0, 5, 10] for c in res.curves.values())
    assert res.sparsity == pytest.approx(0.8, abs=1e-3) and res.status == "finished"


@pytest.mark.parametrize("bad, match", [(dict(inits=("orig",)), "init 'orig'"), (dict(inits="original"), "inits"),
                                        (dict(sparsity=1.2), "sparsity 1.2"), (dict(eval_every=0), "eval_every 0")])
def test_bad_lottery_configs_raise(bad, match) -> None:
    with pytest.raises(ValueError, match=match):
        lottery_ticket("digits_mlp", digits(), LotteryConfig(**bad))
