"""The method registry, the side-by-side entry point, and refusals of bad input."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch

import dlcore.explain as ex
from dlcore.explain import METHODS, explain, explain_all, normalize_maps, options_of


def test_registry_entries_are_complete() -> None:
    assert len({s.display for s in METHODS.values()}) == len(METHODS)
    assert set(METHODS) == {"gradient", "gradient_x_input", "guided_backprop", "smoothgrad", "smoothgrad_sq", "vargrad",
                            "integrated_gradients", "occlusion", "gradcam", "lime"}
    for name, spec in METHODS.items():
        assert spec.name == name and spec.paper.startswith("https://") and spec.captum and spec.summary
        assert spec.rule in ("abs", "signed", "positive")
        cfg = spec.config()  # defaults are valid
        for opt in spec.options:
            assert getattr(cfg, opt.name) == opt.default
            if opt.kind == "choice":
                assert opt.default in opt.choices and len(opt.choices) >= 2
            if opt.kind in ("int", "float") and opt.default is not None:
                assert opt.minimum is not None and opt.maximum is not None
                assert opt.minimum <= opt.default <= opt.maximum


def test_paper_defaults() -> None:
    sg = ex.SmoothGradConfig()
    assert 10 <= sg.sigma_pct <= 20 and sg.n_samples == 50  # Smilkov et al. 2017
    assert ex.IGConfig().n_steps == 50 and ex.IGConfig().baseline == "black"
    assert ex.LimeConfig().n_samples == 1000 and ex.LimeConfig().kernel_width == 0.25
    assert ex.GradCamConfig().relu
    assert {o.name for o in options_of(ex.IGConfig)} >= {"baseline", "n_steps"}
    assert [o.choices for o in options_of(ex.IGConfig) if o.name == "baseline"][0] == ex.BASELINES


def test_every_method_runs_on_the_zoo_cnn_with_one_scale(cnn, image) -> None:
    _, model, _ = cnn
    e = explain_all(model, image, configs={"lime": {"n_samples": 200}})
    assert e.names == list(METHODS) and not e.skipped
    assert e.maps.shape == (len(METHODS), *image.shape[-2:])
    assert float(e.maps.min()) >= 0 and float(e.maps.max()) <= 1
    assert e.predicted == int(e.probs.argmax()) and math.isclose(e.probs.sum().item(), 1, rel_tol=1e-5)
    for n, a in e.attributions.items():
        assert a.method == n and a.map.shape == image.shape[-2:] and torch.isfinite(a.map).all()
        assert a.raw.shape[-2:] == image.shape[-2:] and a.target == e.predicted
        assert a.probability == pytest.approx(e.predicted_probability) and a.seconds >= 0
        assert float(a.map.abs().max()) > 0, n
        if METHODS[n].rule != "signed":
            assert float(a.map.min()) >= 0, n
    # SmoothGrad² and VarGrad reuse SmoothGrad's noisy gradients (same settings)
    assert e.attributions["vargrad"].settings["samples_shared_with"] == "smoothgrad"
    sg = e.attributions["smoothgrad"]
    alone = explain(model, image, "vargrad")
    torch.testing.assert_close(alone.raw, e.attributions["vargrad"].raw)
    assert sg.settings["sigma"] == pytest.approx(0.15 * float(image.max() - image.min()))
    signed = explain_all(model, image, ["integrated_gradients", "gradient"], mode="signed")
    assert float(signed.maps[0].min()) < 0


def test_methods_that_cannot_run_on_an_mlp_are_skipped_with_a_reason(mlp, image) -> None:
    _, model, split = mlp
    x = split.x_test[:1]
    e = explain_all(model, x, configs={"lime": {"n_samples": 100}})
    assert set(e.skipped) == {"gradcam", "guided_backprop"}
    assert "convolutional" in e.skipped["gradcam"] and "nn.ReLU" in e.skipped["guided_backprop"]
    with pytest.raises(ValueError, match="convolutional"):
        explain(model, x, "gradcam")
    with pytest.raises(ValueError, match="convolutional"):
        explain_all(model, x, ["gradient", "gradcam"])


def test_explicit_target_and_normalisation(cnn, image) -> None:
    _, model, _ = cnn
    a = explain(model, image, "gradient", target=3)
    with torch.no_grad():
        p = torch.softmax(model(image), 1)[0]
    assert a.target == 3 and a.probability == pytest.approx(float(p[3])) and a.predicted == int(p.argmax())
    assert not torch.allclose(a.map, explain(model, image, "gradient").map)
    maps = torch.stack([torch.zeros(5, 5), torch.arange(25.0).view(5, 5) - 12])
    n = normalize_maps(maps, "signed")
    assert float(n[0].abs().max()) == 0 and float(n[1].max()) == 1.0 and float(n[1].min()) < 0
    assert float(normalize_maps(maps)[1].min()) >= 0


BAD_CONFIGS = [
    ("smoothgrad", {"sigma_pct": -1}, "sigma_pct -1"),
    ("smoothgrad", {"sigma_pct": float("nan")}, "sigma_pct nan"),
    ("smoothgrad", {"n_samples": 0}, "n_samples 0"),
    ("smoothgrad", {"n_samples": 10 ** 6}, "n_samples 1000000"),
    ("smoothgrad", {"n_samples": "50"}, "n_samples '50'"),
    ("smoothgrad", {"n_samples": 2.5}, "n_samples 2.5"),
    ("smoothgrad", {"noise": 1}, "unknown option"),
    ("integrated_gradients", {"baseline": "white"}, "baseline 'white'"),
    ("integrated_gradients", {"n_steps": True}, "n_steps True"),
    ("occlusion", {"patch": 2, "stride": 3}, "stride 3"),
    ("occlusion", {"patch": 40}, "patch 40"),
    ("occlusion", {"baseline": None}, "baseline None"),
    ("lime", {"segmentation": "quickshift"}, "segmentation 'quickshift'"),
    ("lime", {"n_samples": 10 ** 5}, "n_samples 100000"),
    ("gradcam", {"layer": "nope"}, "layer 'nope'"),
    ("gradcam", {"relu": "yes"}, "relu 'yes'"),
]


@pytest.mark.parametrize("method,config,message", BAD_CONFIGS)
def test_bad_configs_raise_value_errors_naming_the_value(cnn, image, method, config, message) -> None:
    _, model, _ = cnn
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        explain(model, image, method, config)


def test_whole_floats_from_a_slider_are_accepted() -> None:
    cfg = ex.SmoothGradConfig(n_samples=50.0, sigma_pct=15)
    assert cfg.n_samples == 50 and isinstance(cfg.n_samples, int) and isinstance(cfg.sigma_pct, float)
    assert dataclasses.asdict(cfg)["n_samples"] == 50


@pytest.mark.parametrize("bad,message", [
    ("cat.png", "must be a tensor or array"),
    (torch.rand(2, 1, 28, 28), "one image"),
    (torch.rand(1, 2, 28, 28), "C = 1 or 3"),
    (torch.full((28, 28), float("nan")), "NaN"),
    (torch.rand(28, 28) * 255, "must be in"),
    (torch.rand(600, 600), "between 4 and 256"),
])
def test_bad_images_are_refused(cnn, bad, message) -> None:
    _, model, _ = cnn
    with pytest.raises(ValueError, match=message):
        explain(model, bad, "gradient")


def test_numpy_images_and_other_refusals(cnn, image) -> None:
    _, model, _ = cnn
    a = explain(model, image[0, 0].numpy().astype(np.float64), "gradient")
    torch.testing.assert_close(a.map, explain(model, image, "gradient").map)
    for target, message in ((10, "target 10"), ("3", "target '3'"), (True, "target True"), (1.5, "target 1.5")):
        with pytest.raises(ValueError, match=message):
            explain(model, image, "gradient", target=target)
    with pytest.raises(ValueError, match="method 'saliency'"):
        explain(model, image, "saliency")
    with pytest.raises(ValueError, match="must be a torch nn.Module"):
        explain("fmnist_cnn", image, "gradient")
    with pytest.raises(ValueError, match="training mode"):
        explain(torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 10)), image, "gradient")
    with pytest.raises(ValueError, match="mode 'log'"):
        explain_all(model, image, ["gradient"], mode="log")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="must be a list"):
        explain_all(model, image, "gradient")


def test_callback_reports_each_method(cnn, image) -> None:
    _, model, _ = cnn
    seen = []
    explain_all(model, image, ["gradient", "gradcam"], callback=lambda i, m: seen.append((i, m["method"])))
    assert seen == [(0, "gradient"), (1, "gradcam")]


def test_the_digits_twin_runs_every_panel() -> None:
    """The 8 x 8 fallback (no Fashion-MNIST): every method, faithfulness and the sanity check."""
    from dlcore import zoo

    model, split = zoo.get("digits_cnn"), zoo.load_data("digits_cnn")
    x = split.x_test[:1]
    e = explain_all(model, x, configs={"lime": {"n_samples": 100}})
    assert e.names == list(METHODS) and e.maps.shape == (len(METHODS), 8, 8)
    assert e.attributions["lime"].settings["n_superpixels"] <= 16
    r = ex.deletion_insertion(model, x, e)
    assert len(r.fractions) == 9
    s = ex.sanity_check(model, x, ["gradient"])
    assert len(s.steps) == 5 and s.maps["gradient"].shape == (5, 8, 8)
    a = ex.activation_maximization(model, {"steps": 5}, image_shape=(1, 8, 8))
    assert a.final.shape == (1, 8, 8)
    with pytest.raises(ValueError, match=r"shape \(1, 28, 28\) does not fit this model"):
        explain(model, torch.zeros(28, 28), "gradient")
    with pytest.raises(ValueError, match="does not fit this model"):
        ex.activation_maximization(model, {"steps": 5})
