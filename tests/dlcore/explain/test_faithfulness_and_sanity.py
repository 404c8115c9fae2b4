"""Deletion/insertion curves and the model-randomisation sanity check."""

from __future__ import annotations

import copy

import pytest
import torch

from dlcore.explain import (
    average_faithfulness, deletion_insertion, explain, explain_all, randomizable_layers, random_map, sanity_check,
)
from dlcore.explain.faithfulness import salience_order
from dlcore.explain.sanity import randomize_layer


def test_curves_shapes_and_auc(cnn, image) -> None:
    _, model, _ = cnn
    e = explain_all(model, image, ["gradient", "occlusion"])
    r = deletion_insertion(model, image, e)
    assert r.names == ["gradient", "occlusion", "random"]
    assert len(r.fractions) == 29 and r.fractions[0] == 0 and r.fractions[-1] == 1  # RISE: one row per step
    with torch.no_grad():
        p = float(torch.softmax(model(image), 1)[0, r.target])
        p_black = float(torch.softmax(model(torch.zeros_like(image)), 1)[0, r.target])
    for n in r.names:
        assert r.deletion[n][0] == pytest.approx(p, rel=1e-5)  # nothing removed yet
        assert r.deletion[n][-1] == pytest.approx(p_black, rel=1e-4)  # everything removed: a black image
        assert r.insertion[n][-1] == pytest.approx(p, rel=1e-5)  # everything inserted: the image
        assert 0 <= r.deletion_auc[n] <= 1 and 0 <= r.insertion_auc[n] <= 1
    one = deletion_insertion(model, image, e.attributions["gradient"].map, config={"n_steps": 7, "include_random": False})
    assert one.names == ["map"] and len(one.fractions) == 8
    assert one.deletion_auc["map"] == pytest.approx(float(torch.trapezoid(torch.tensor(one.deletion["map"]),
                                                                          torch.tensor(one.fractions))))


def test_a_perfect_map_of_a_one_pixel_model(one_pixel) -> None:
    x = 0.2 + 0.8 * torch.rand(1, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    m = explain(one_pixel, x, "occlusion", {"patch": 1, "stride": 1}).map
    r = deletion_insertion(one_pixel, x, {"occlusion": m}, config={"n_steps": 784, "insertion_start": "black"})
    # the one pixel goes first: the score drops to p(black) after the first step and stays there
    assert r.deletion["occlusion"][1] == pytest.approx(0.5)
    assert r.deletion_auc["occlusion"] < 0.51 < r.deletion_auc["random"]
    assert r.insertion_auc["occlusion"] > r.insertion_auc["random"]


def test_ties_are_broken_at_random_not_top_left() -> None:
    m = torch.zeros(10, 10)
    m[5, 5] = 1.0
    order = salience_order(m, seed=0)
    assert int(order[0]) == 55 and sorted(order.tolist()) == list(range(100))
    assert order[1:11].float().mean() > 20  # not 0, 1, 2, ... (the first row)
    assert not torch.equal(salience_order(m, seed=1), order)
    assert torch.equal(random_map(4, 4, 3), random_map(4, 4, 3))


def test_gradient_beats_a_random_map_on_average(cnn) -> None:
    """Petsiuk et al.'s test, on the zoo CNN: averaged over 12 test images, removing the pixels
    the gradient ranks first hurts sooner than removing random ones, and inserting them helps sooner."""
    _, model, split = cnn
    avg = average_faithfulness(model, split.x_test[:12], ["gradient", "smoothgrad"], config={"batch_size": 512})
    assert avg.n_images == 12 and avg.names == ["gradient", "smoothgrad", "random"]
    for n in ("gradient", "smoothgrad"):
        assert avg.deletion_auc[n] < avg.deletion_auc["random"], avg.deletion_auc
        assert avg.insertion_auc[n] > avg.insertion_auc["random"] + 0.05, avg.insertion_auc


def test_faithfulness_refusals(cnn, image) -> None:
    _, model, _ = cnn
    with pytest.raises(ValueError, match=r"must be a \(28, 28\) tensor"):
        deletion_insertion(model, image, {"bad": torch.zeros(5, 5)})
    with pytest.raises(ValueError, match="maps must be"):
        deletion_insertion(model, image, [1, 2])
    with pytest.raises(ValueError, match="n_steps 1"):
        deletion_insertion(model, image, torch.zeros(28, 28), config={"n_steps": 1})
    big = {f"m{i}": torch.rand(28, 28) for i in range(40)}
    with pytest.raises(ValueError, match="exceed 50,000,000 pixels"):
        deletion_insertion(model, image, big, config={"n_steps": 1024})
    with pytest.raises(ValueError, match="1 <= N <= 200"):
        average_faithfulness(model, torch.zeros(201, 1, 28, 28))


def test_randomize_layer_touches_only_that_layer(cnn) -> None:
    _, model, _ = cnn
    m = copy.deepcopy(model)
    names = [n for n, _ in randomizable_layers(m)]
    assert names[0] == "classifier.5" and names[-1] == "block1.0"  # top first
    before = {k: v.clone() for k, v in m.state_dict().items()}
    randomize_layer(m, "block2.0", torch.Generator().manual_seed(0))
    after = m.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed == {"block2.0.weight", "block2.0.bias", "block2.1.weight", "block2.1.bias",
                       "block2.1.running_mean", "block2.1.running_var", "block2.1.num_batches_tracked"}
    assert float(after["block2.0.weight"].abs().max()) <= 1 / (32 * 9) ** 0.5


def test_sanity_check_gradient_drops_and_gradient_x_input_does_not(cnn, image) -> None:
    """Adebayo et al. 2018: the gradient depends on the weights; gradient × input mostly shows the input."""
    _, model, _ = cnn
    steps = []
    r = sanity_check(model, image, ["gradient", "gradient_x_input", "gradcam"], callback=lambda i, m: steps.append(i))
    assert r.steps[0] == "original" and len(r.steps) == 5 and steps == [0, 1, 2, 3]
    for n in r.names:
        assert r.maps[n].shape == (5, 28, 28) and r.spearman[n][0] == pytest.approx(1.0)
        assert r.ssim[n][0] == pytest.approx(1.0)
    assert max(r.spearman["gradient"][1:]) < 0.5 and r.verdict["gradient"] == "passes"
    assert min(r.spearman["gradient_x_input"][1:]) > 0.7 and r.verdict["gradient_x_input"] == "fails"
    assert r.mean_spearman["gradient_x_input"] > r.mean_spearman["gradient"]
    assert r.probability[0] > 0.9 and r.probability[-1] < r.probability[0]  # the model itself is destroyed
    assert "0." in r.reason["gradient"]


def test_sanity_independent_mode_and_stop(cnn, image) -> None:
    import threading

    _, model, _ = cnn
    r = sanity_check(model, image, ["gradient"], config={"mode": "independent"})
    assert r.mode == "independent" and len(r.steps) == 5
    ev = threading.Event()
    r = sanity_check(model, image, ["gradient"], callback=lambda i, m: ev.set(), stop=ev)
    assert r.stopped and len(r.steps) == 2
    with pytest.raises(ValueError, match="method 'saliency'"):
        sanity_check(model, image, ["saliency"])
    with pytest.raises(ValueError, match="mode 'top'"):
        sanity_check(model, image, ["gradient"], config={"mode": "top"})
