"""The playground: settings -> data + MLP + trainer; the presets do what their labels say."""

import dataclasses

import pytest
import torch
from torch import nn

from dlcore.train.playground import (MAX_LAYERS, MAX_TRAIN_STEPS, PLAYGROUND_DATA, PRESETS, PlaygroundSpec,
                                     build_playground, parse_hidden)


@pytest.mark.parametrize("text,widths", [
    ("128, 64, 32", (128, 64, 32)), ("10x32", (32,) * 10), ("2x64, 32", (64, 64, 32)), ("", ()),
    ("3 × 8", (8, 8, 8)), (16, (16,)), ([4, 5], (4, 5)),
])
def test_parse_hidden(text, widths):
    assert parse_hidden(text) == widths


@pytest.mark.parametrize("text,fragment", [
    ("16, 0", "width 0"), ("16, abc", "not a width"), ("0x16", "repeat count 0"), (f"{MAX_LAYERS + 1}x4", "more than"),
])
def test_parse_hidden_bad(text, fragment):
    with pytest.raises(ValueError, match=fragment):
        parse_hidden(text)


def _linear_shapes(model: nn.Module) -> list[tuple[int, int]]:
    return [(m.in_features, m.out_features) for m in model.modules() if isinstance(m, nn.Linear)]


def test_seed_dl_2_3_preset_is_the_seeds_network():
    spec = PRESETS["Seed §dl_2_3: 5-class net, BatchNorm + Dropout, Adam lr 0.05"]
    pg = build_playground(spec)
    assert _linear_shapes(pg.model) == [(10, 128), (128, 64), (64, 32), (32, 5)]
    kinds = [type(m).__name__ for m in pg.model.modules() if not list(m.children())]
    assert kinds[:5] == ["Flatten", "Linear", "ReLU", "BatchNorm1d", "Dropout"]
    assert [m.p for m in pg.model.modules() if isinstance(m, nn.Dropout)] == [0.2] * 3
    assert isinstance(pg.trainer.optimizer, torch.optim.Adam) and pg.trainer.config.lr == 0.05
    assert pg.trainer.config.task == "multiclass" and pg.trainer.config.batch_size == 64
    assert pg.split.x_train.shape == (1600, 10) and pg.trainer.steps_per_epoch == 25


@pytest.mark.parametrize("label", list(PRESETS))
def test_every_preset_builds(label):
    pg = build_playground(PRESETS[label])
    assert pg.trainer.history.total_steps <= MAX_TRAIN_STEPS
    assert pg.trainer.config.num_threads == 1


def _ratio(label: str, epochs: int = 3) -> float:
    spec = dataclasses.replace(PRESETS[label], epochs=epochs)
    h = build_playground(spec).trainer.fit()
    g = h.epochs[-1].grad_norms
    return (g[0] / g[-1]).item()


def test_deep_sigmoid_starves_its_first_layers_and_relu_bn_residual_does_not():
    assert _ratio("Too deep (§2.2.3): 10-layer plain sigmoid net") < 1e-4
    assert _ratio("Too deep, fixed: 10-layer ReLU + BatchNorm + residual") > 1e-1


def test_same_spec_same_run():
    spec = dataclasses.replace(PlaygroundSpec(), dropout=0.2, epochs=3)
    a = build_playground(spec).trainer.fit()
    b = build_playground(spec).trainer.fit()
    assert a.step_loss == b.step_loss


@pytest.mark.parametrize("name", [n for n in PLAYGROUND_DATA if n != "fashion_mnist"] + ["fashion_mnist"])
def test_every_data_set_trains_one_epoch(name):
    pg = build_playground(PlaygroundSpec(dataset=name, hidden="8", epochs=1, batch_size=256))
    h = pg.trainer.fit()
    assert h.status == "finished" and len(h.epochs) == 1
    assert pg.model(pg.split.x_test[:3]).shape == (3, pg.split.out_features)


@pytest.mark.parametrize("kwargs,fragment", [
    ({"epochs": 0}, "Epochs = 0 is below the minimum 1"), ({"epochs": 10_000}, "Epochs = 10000 is above"),
    ({"epochs": 500, "batch_size": 1}, "cap"), ({"dataset": "imagenet"}, "imagenet"),
    ({"lr": 100.0}, "Learning rate η = 100 is above"), ({"hidden": "8, 0"}, "width 0"),
    ({"activation": "swish2"}, "swish2"), ({"dropout": 1.0}, "Dropout p = 1"), ({"epochs": 2.5}, "whole number"),
    ({"batch_size": 2.5}, "Batch size must be a whole number, got 2.5"), ({"lr": 0.0}, "must be above 0"),
])
def test_bad_spec(kwargs, fragment):
    with pytest.raises(ValueError, match=fragment):
        build_playground(dataclasses.replace(PlaygroundSpec(), **kwargs))


def test_cnns_on_images():
    pg = build_playground(PlaygroundSpec(dataset="fashion_mnist", architecture="lenet5", epochs=1, batch_size=256))
    assert pg.trainer.history.layer_names[0] == "1: Conv2d 1→6"
    h = pg.trainer.fit()
    assert h.status == "finished" and h.epochs[-1].val_acc > 0.3  # 10 classes: chance is 0.1
    small = build_playground(PlaygroundSpec(dataset="fashion_mnist", architecture="small_cnn", dropout=0.3))
    assert small.model(small.split.x_test[:2]).shape == (2, 10)
    with pytest.raises(ValueError, match="needs image data"):
        build_playground(PlaygroundSpec(dataset="moons", architecture="small_cnn"))
    with pytest.raises(ValueError, match="Model 'vgg' is not one of"):
        build_playground(PlaygroundSpec(dataset="fashion_mnist", architecture="vgg"))


def test_playground_data_is_loaded_once_through_the_one_loader_cache():
    from dlcore.lazy import LazyCache
    from dlcore.train import playground

    assert isinstance(playground._DATA, LazyCache)
    a = playground.load_playground_data("moons")
    assert playground.load_playground_data("moons") is a and "moons" in playground._DATA
    with pytest.raises(ValueError, match="is not one of"):
        playground.load_playground_data(["moons"])
