"""The torch-free registries a UI reads, and the paper-check rows shown beside each result."""

from __future__ import annotations

import subprocess
import sys
import typing
from types import SimpleNamespace

import pytest
import torch

import dlcore.explain as ex
from dlcore.explain import checks, names
from tests.conftest import ROOT


def test_names_import_no_torch() -> None:
    code = "import sys, dlcore.explain.names, dlcore.explain\nprint('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-1000:]
    assert out.stdout.strip() == "False"


def _choices(cls: type, field: str) -> tuple:
    return typing.get_args(typing.get_type_hints(cls)[field])


def test_names_are_the_registries_the_library_uses() -> None:
    assert names.METHOD_NAMES == ex.METHOD_NAMES == tuple(ex.METHODS)
    assert {k: s.display for k, s in ex.METHODS.items()} == names.METHOD_DISPLAY
    assert set(names.SANITY_METHODS) <= set(names.METHOD_NAMES)
    assert _choices(ex.IGConfig, "baseline") == names.BASELINES
    assert _choices(ex.OcclusionConfig, "baseline") == names.OCCLUSION_BASELINES
    assert _choices(ex.LimeConfig, "segmentation") == names.SEGMENTATIONS
    assert _choices(ex.SanityConfig, "mode") == names.SANITY_MODES
    assert _choices(ex.ActMaxConfig, "unit") == names.UNITS
    assert _choices(ex.EmbeddingConfig, "method") == names.EMBEDDING_METHODS
    assert _choices(ex.EmbeddingConfig, "layer") == names.FEATURE_LAYERS
    from dlcore.explain.metrics import NormMode
    from dlcore.explain.smoothgrad import NoiseKind

    assert typing.get_args(NoiseKind) == names.NOISE_KINDS and typing.get_args(NormMode) == names.NORM_MODES
    assert ex.ATTACK_TARGETS is names.ATTACK_TARGETS and ex.DEFAULT_NS is names.DEFAULT_NS


def test_ig_completeness_check_on_the_zoo_cnn_and_a_broken_sum(cnn, image) -> None:
    _, model, _ = cnn
    e = ex.explain_all(model, image, ["gradient", "integrated_gradients"])
    (row,) = checks.local_checks(e)
    assert row.ok is True and "Σ IG" in row.measured
    a = e.attributions["integrated_gradients"]
    total = float(a.raw.sum())
    a.delta = 0.5 * total  # pretend the sum missed half of f(x) - f(x')
    assert checks.local_checks(e)[0].ok is False
    assert checks.local_checks(ex.explain_all(model, image, ["gradient"])) == []


def test_smoothgrad_checks_read_the_convergence_and_the_sweep() -> None:
    conv = SimpleNamespace(ns=[1, 10, 50, 100], spearman_to_final=[0.3, 0.6, 0.9, 1.0])
    row = checks.smoothgrad_checks(conv)[0]
    assert row.ok is True and "0.90" in row.measured
    conv.spearman_to_final = [0.3, 0.6, 0.7, 1.0]
    assert checks.smoothgrad_checks(conv)[0].ok is False
    sweep = SimpleNamespace(target=9, sigmas_pct=[0.0, 10.0, 15.0, 20.0, 50.0], noisy_accuracy=[1, 0.8, 0.08, 0, 0])
    rows = checks.smoothgrad_checks(conv, sweep, ("a",) * 9 + ("Ankle boot",))
    assert rows[1].ok is None and "not robust" in rows[1].measured and "Ankle boot" in rows[1].claim
    assert "15 %: 8%" in rows[1].measured
    sweep.noisy_accuracy = [1, 1, 1, 0.9, 0.1]
    assert "not robust" not in checks.smoothgrad_checks(conv, sweep)[1].measured


def test_faithfulness_checks_compare_with_the_random_map() -> None:
    res = SimpleNamespace(names=["gradient", "lime", "random"],
                          deletion_auc={"gradient": 0.1, "lime": 0.6, "random": 0.5},
                          insertion_auc={"gradient": 0.8, "lime": 0.7, "random": 0.4})
    rows = checks.faithfulness_checks(res)
    assert [r.ok for r in rows] == [True, False] and "Vanilla gradient" in rows[0].claim
    res.names = ["gradient"]
    assert checks.faithfulness_checks(res) == []


def test_sanity_checks_compare_verdicts_with_the_paper() -> None:
    res = SimpleNamespace(names=["gradient", "guided_backprop", "integrated_gradients", "smoothgrad"],
                          verdict={"gradient": "passes", "guided_backprop": "passes", "integrated_gradients": "fails",
                                   "smoothgrad": "passes"},
                          mean_spearman={"gradient": 0.1, "guided_backprop": 0.4, "integrated_gradients": 0.9,
                                         "smoothgrad": 0.05}, settings={"fail_threshold": 0.5})
    rows = {r.claim.split(" ")[0]: r for r in checks.sanity_checks(res)}
    assert rows["Vanilla"].ok is True and rows["Guided"].ok is False and rows["Integrated"].ok is None
    assert "fails the sanity check" in rows["Guided"].claim and "0.40" in rows["Guided"].measured


def test_prior_and_attack_checks() -> None:
    rough = torch.zeros(1, 8, 8)
    rough[0, ::2, ::2] = 1.0
    smooth = torch.full((1, 8, 8), 0.5)
    res = {"without prior": SimpleNamespace(final=rough, activation=[1.0, 9.0], target="class 3"),
           "with prior": SimpleNamespace(final=smooth, activation=[1.0, 5.0], target="class 3")}
    rows = checks.prior_checks(res)
    assert rows[0].ok is True and rows[1].ok is None and "9.00" in rows[1].measured
    res["with prior"], res["without prior"] = res["without prior"], res["with prior"]
    assert checks.prior_checks(res)[0].ok is False
    assert checks.prior_checks({}) == []
    clean = SimpleNamespace(predicted=1, predicted_probability=0.9)
    adv = SimpleNamespace(predicted=2, predicted_probability=0.7)
    ae = SimpleNamespace(clean=clean, adversarial=adv, linf=0.1, names=["gradient"], spearman={"gradient": 0.2},
                         topk_overlap={"gradient": 0.3}, k_pct=10.0)
    rows = checks.attack_checks(ae, ("a", "b", "c"))
    assert rows[0].ok is True and "b (p = 0.90) → c" in rows[0].measured and "30%" in rows[1].measured
    adv.predicted = 1
    assert checks.attack_checks(ae)[0].ok is False


@pytest.mark.parametrize("fn", [checks.local_checks, checks.faithfulness_checks, checks.sanity_checks,
                                checks.prior_checks, checks.attack_checks, checks.smoothgrad_checks])
def test_every_check_function_is_exported(fn) -> None:
    assert getattr(ex, fn.__name__) is fn and fn.__name__ in ex.__all__


def test_map_image_is_image_map_and_colour_bar() -> None:
    from dlcore.plotting.explain_pixels import map_image

    m = torch.zeros(6, 6)
    m[2, 3] = 1.0
    img = map_image(m, torch.full((1, 6, 6), 0.5), scale=3)
    assert img.dtype.name == "uint8" and img.shape == (18, 3 * (6 + 1 + 6 + 1 + 1), 3)
    hot, cold = img[2 * 3 + 1, (7 + 3) * 3 + 1], img[0, 7 * 3]  # the map's bright pixel vs its zero
    assert int(hot.sum()) > int(cold.sum()) + 300
    assert (img[:, :18] == img[0, 0]).all()  # the flat gray image
    signed = map_image(-m, signed=True, scale=1)
    assert signed.shape == (6, 6 + 1 + 1, 3) and signed[2, 3, 2] > signed[2, 3, 0]  # negative = blue
    with pytest.raises(ValueError, match="scale"):
        map_image(m, scale=0)
    with pytest.raises(ValueError, match=r"\(H, W\)"):
        map_image(torch.zeros(1, 6, 6))


def test_embedding_picture_pixels_map_back_to_data() -> None:
    from dlcore.plotting.explain_pixels import PixelMap, embedding_image

    g = torch.Generator().manual_seed(0)
    n = 40
    emb = SimpleNamespace(coords=torch.randn(n, 2, generator=g) * 5, labels=torch.arange(n) % 3,
                          predicted=torch.arange(n) % 3, indices=torch.arange(n), images=torch.rand(n, 1, 8, 8),
                          classes=("a", "b", "c"), method="pca", layer="penultimate", feature_dim=16,
                          explained_variance=[0.5, 0.2])
    img, pm = embedding_image(emb, highlight=4)
    assert img.shape == (pm.height, pm.width, 3) and pm.left < pm.right and pm.top < pm.bottom
    # the red ring drawn around the highlighted point maps back to that point's coordinates
    box = img[int(pm.top):int(pm.bottom), int(pm.left):int(pm.right)].astype(int)
    dist = ((box - [220, 38, 38]) ** 2).sum(-1)  # (h, w) squared distance to the ring's colour
    ys, xs = (dist < 900).nonzero()
    assert len(xs) > 20
    x, y = pm.to_data(pm.left + xs.mean(), pm.top + ys.mean())
    span = float(emb.coords.max() - emb.coords.min())
    assert abs(x - float(emb.coords[4, 0])) < 0.02 * span and abs(y - float(emb.coords[4, 1])) < 0.02 * span
    assert PixelMap.from_dict(pm.as_dict()) == pm
    with pytest.raises(ValueError, match="outside"):
        pm.to_data(-5, 10)
    with pytest.raises(ValueError, match="draw the embedding first"):
        PixelMap.from_dict(None)
