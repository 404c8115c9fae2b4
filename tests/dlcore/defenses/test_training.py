"""Active defences: the PGD batch hook inside the one Trainer, the notes' retraining loop, and
the adversarially trained zoo models (their manifest metrics are re-measured)."""

from __future__ import annotations

import dataclasses
import json
import threading
from pathlib import Path

import pytest
import torch

from dlcore import zoo
from dlcore.defenses import AdversarialTrainingConfig, RetrainConfig, adversarial_retraining, pgd_batch_hook
from dlcore.train import TrainConfig, Trainer
from dlcore.zoo import RECIPES, Zoo
from dlcore.zoo.recipes_robust import ROBUST_TWINS, robust_classifier, robust_metrics
from tests.dlcore.attacks.fixtures import TinyCNN, digits_cnn, digits_data


def test_pgd_hook_swaps_the_batch_for_its_adversarial_examples_inside_the_trainer():
    x, y = digits_data(64)
    seen = []
    hook = pgd_batch_hook(AdversarialTrainingConfig(eps=0.2, alpha=0.05, steps=3, mix=0.5))

    def spy(trainer, bx, by):
        was = (trainer.model.training, [p.requires_grad for p in trainer.model.parameters()])
        ax, ay = hook(trainer, bx, by)
        assert (trainer.model.training, [p.requires_grad for p in trainer.model.parameters()]) == was
        seen.append((bx, ax, ay, by))
        return ax, ay

    model = TinyCNN()
    hist = Trainer(model, (x, y), None, TrainConfig(epochs=1, batch_size=16, seed=0), batch_hook=spy).fit()
    assert hist.status == "finished" and len(seen) == 4
    for bx, ax, ay, by in seen:
        assert ax.shape == bx.shape and torch.equal(ay, by)
        half = len(bx) // 2
        assert float((ax[:half] - bx[:half]).abs().max()) <= 0.2 + 1e-6 and not torch.equal(ax[:half], bx[:half])
        torch.testing.assert_close(ax[half:], bx[half:], rtol=0, atol=0)  # mix = 0.5: the rest stays clean
    with pytest.raises(ValueError, match="adversarial share 0 must be in"):
        pgd_batch_hook(AdversarialTrainingConfig(mix=0))


def test_the_notes_retraining_loop_grows_the_data_and_gains_robustness():
    split = zoo.load_data("digits_cnn")
    seen = []
    res = adversarial_retraining(zoo.get("digits_cnn", fresh=True), (split.x_train[:200], split.y_train[:200]),
                                 (split.x_test[:100], split.y_test[:100]),
                                 RetrainConfig(rounds=2, eps=0.2, steps=5, epochs=3), callback=lambda s, m: seen.append(m))
    assert [r.round for r in res.rounds] == [0, 1, 2] and [r.n_train for r in res.rounds] == [200, 400, 600]
    assert all(r.robust_accuracy <= r.clean_accuracy for r in res.rounds)
    assert res.rounds[-1].robust_accuracy > res.rounds[0].robust_accuracy
    assert {m["phase"] for m in seen} == {"attack", "train", "evaluate"} and not res.stopped
    stop = threading.Event()
    stop.set()
    short = adversarial_retraining(zoo.get("digits_cnn", fresh=True), (split.x_train[:50], split.y_train[:50]),
                                   (split.x_test[:50], split.y_test[:50]), RetrainConfig(rounds=3, epochs=1),
                                   stop_event=stop)
    assert short.stopped and len(short.rounds) == 1
    with pytest.raises(ValueError, match="rounds 11 must be in"):
        adversarial_retraining(digits_cnn(), (split.x_train[:8], split.y_train[:8]),
                               (split.x_test[:8], split.y_test[:8]), RetrainConfig(rounds=11))


def test_the_retraining_loop_draws_no_dropout_mask_from_the_global_rng():
    """Two users retraining at once on one server share torch's global RNG: the loop's dropout masks
    come from a generator of its own (else the same settings give different answers), and the model
    gets its own nn.Dropout modules back."""
    split = zoo.load_data("digits_cnn")
    res = adversarial_retraining(zoo.get("digits_cnn", fresh=True), (split.x_train[:64], split.y_train[:64]),
                                 (split.x_test[:32], split.y_test[:32]), RetrainConfig(rounds=1, steps=2, epochs=1))
    after = torch.get_rng_state()
    torch.manual_seed(res.config["seed"] + 1)  # what the round's Trainer seeded; nothing drew from it since
    assert torch.equal(after, torch.get_rng_state())
    back = [m for m in res.model.modules() if isinstance(m, torch.nn.Dropout)]
    assert len(back) == 2 and all(getattr(m, "generator", None) is None for m in back)


def test_adversarial_recipes_are_registered_and_trained_through_the_trainer(tmp_path: Path, monkeypatch):
    from dlcore.zoo import recipes_robust

    assert set(ROBUST_TWINS.values()) <= set(RECIPES)
    r = RECIPES["digits_cnn_adv"]
    assert r.kind == "adversarial" and r.options["steps"] == 7 and r.options["mix"] == 1.0
    captured = {}
    real = recipes_robust.train_recipe

    def spy(name, recipe, progress, *, batch_hook=None, objective=None):
        captured["hook"] = batch_hook
        return real(name, recipe, progress, batch_hook=batch_hook, objective=objective)

    monkeypatch.setattr(recipes_robust, "train_recipe", spy)
    quick = dataclasses.replace(r, epochs=1)
    z = Zoo(tmp_path / "zoo", {"digits_cnn_adv": quick}, cache_dir=tmp_path / "cache")
    entry = z.build("digits_cnn_adv", progress=False)
    assert callable(captured["hook"])  # the one Trainer, with the PGD batch hook
    assert set(entry["metrics"]) == {"pgd20_accuracy"} and 0 <= entry["metrics"]["pgd20_accuracy"] <= 1
    assert json.loads((tmp_path / "zoo" / "manifest.json").read_text())["models"]["digits_cnn_adv"]["recipe"][
        "kind"] == "adversarial"
    again = z.build("digits_cnn_adv", progress=False)  # deterministic: the same bytes again
    assert again["sha256"] == entry["sha256"] and again["metrics"] == entry["metrics"]


def test_digits_adv_manifest_metrics_are_remeasured():
    entry = zoo.info("digits_cnn_adv")
    got = zoo.evaluate("digits_cnn_adv")
    n = RECIPES["digits_cnn_adv"].options["eval_n"]
    assert got["test_accuracy"] == pytest.approx(entry["test_accuracy"], abs=1e-6)
    assert got["pgd20_accuracy"] == pytest.approx(entry["metrics"]["pgd20_accuracy"], abs=2 / n)
    natural = robust_metrics(zoo.get("digits_cnn"), RECIPES["digits_cnn_adv"])["pgd20_accuracy"]
    assert natural < 0.10 < got["pgd20_accuracy"]  # adversarial training is what keeps it


@pytest.mark.slow
def test_fashion_adv_manifest_metrics_are_remeasured():
    try:
        zoo.load_data("fmnist_cnn_adv")
    except zoo.ZooDataUnavailable:
        pytest.skip("Fashion-MNIST not available on this machine")
    entry = zoo.info("fmnist_cnn_adv")
    got = zoo.evaluate("fmnist_cnn_adv")
    assert got["test_accuracy"] == pytest.approx(entry["test_accuracy"], abs=1e-6)
    assert got["pgd20_accuracy"] == pytest.approx(entry["metrics"]["pgd20_accuracy"], abs=2 / 1000)
    name, model, split = robust_classifier()
    assert name == "fmnist_cnn_adv" and split.name == "fashion_mnist"
