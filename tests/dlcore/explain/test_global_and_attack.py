"""Activation maximisation, feature embeddings, attack-then-explain, uploads and figures."""

from __future__ import annotations

import io
import threading

import numpy as np
import pytest
import torch
from PIL import Image

import dlcore.explain as ex
from dlcore.explain.maximize import _tv2


def test_activation_maximization_raises_the_class_and_the_prior_smooths(cnn) -> None:
    _, model, _ = cnn
    seen = []
    res = ex.compare_priors(model, {"index": 1, "steps": 80}, callback=lambda s, m: seen.append(s))
    plain, prior = res["without prior"], res["with prior"]
    assert seen == list(range(1, 161))
    for r in (plain, prior):
        assert r.images.shape == (81, 1, 28, 28) and r.recorded == list(range(81))
        assert r.activation[-1] > r.activation[0] + 5 and r.predicted == 1 and r.predicted_probability > 0.9
        assert float(r.final.min()) >= 0 and float(r.final.max()) <= 1
    assert plain.settings["tv"] == 0 and plain.settings["jitter"] == 0
    assert _tv2(prior.final) < 0.5 * _tv2(plain.final)  # the smoothness prior at work
    assert plain.activation[-1] > prior.activation[-1]  # the prior costs some activation
    assert plain.objective == pytest.approx(plain.activation)  # no prior: objective = unit


def test_written_out_adam_equals_torch_adam() -> None:
    from dlcore.explain.maximize import _Adam

    g = torch.Generator().manual_seed(0)
    a = torch.rand(3, 4, generator=g)
    b = a.clone().requires_grad_(True)
    ours, ref = _Adam(a, 0.05), torch.optim.Adam([b], lr=0.05)
    for _ in range(20):
        grad = torch.randn(3, 4, generator=g)
        ours.ascend(grad)
        b.grad = -grad  # torch minimises: ascent on f = descent on -f
        ref.step()
    torch.testing.assert_close(a, b.detach())


def test_activation_maximization_of_channels_and_neurons_on_a_private_copy(cnn) -> None:
    _, model, _ = cnn
    layers = ex.unit_layers(model)
    assert layers["block2.0"] == ("channel", 64) and layers["classifier.2"] == ("neuron", 128)
    r = ex.activation_maximization(model, {"unit": "channel", "index": 5, "steps": 30})
    assert r.target == "channel 5 of block2.2" and r.activation[-1] > r.activation[0]
    r = ex.activation_maximization(model, {"unit": "neuron", "index": 7, "steps": 30, "record_every": 10})
    assert r.target == "neuron 7 of classifier.2" and r.recorded == [0, 10, 20, 30]
    assert not any(m._forward_hooks for m in model.modules())
    with pytest.raises(ValueError, match="index 64 must be < 64"):
        ex.activation_maximization(model, {"unit": "channel", "index": 64, "steps": 2})
    with pytest.raises(ValueError, match="layer 'classifier.2' has no channels"):
        ex.activation_maximization(model, {"unit": "channel", "layer": "classifier.2"})
    with pytest.raises(ValueError, match="steps 5000"):
        ex.activation_maximization(model, {"steps": 5000})
    with pytest.raises(ValueError, match="index 12 must be < 10"):
        ex.activation_maximization(model, {"index": 12, "steps": 2})


def test_activation_maximization_stops_and_searches_a_generator(cnn) -> None:
    _, model, _ = cnn
    ev = threading.Event()
    r = ex.activation_maximization(model, {"steps": 100}, callback=lambda s, m: s == 3 and ev.set(), stop=ev)
    assert r.stopped and len(r.activation) == 3
    torch.manual_seed(0)
    lin = torch.nn.Linear(8, 784)
    gen = lambda z: torch.sigmoid(lin(z)).view(1, 1, 28, 28)  # noqa: E731 - a toy generator G(z)
    r = ex.activation_maximization(model, {"index": 3, "steps": 40, "lr": 0.1}, generator=gen, z_dim=8)
    assert r.activation[-1] > r.activation[0] and r.images.shape[1:] == (1, 28, 28)
    with pytest.raises(ValueError, match="z_dim 0"):
        ex.activation_maximization(model, {"steps": 2}, generator=gen, z_dim=0)


def test_features_and_pca_embedding(cnn, mlp) -> None:
    from sklearn.decomposition import PCA

    _, model, split = cnn
    x, y = split.x_test[:80], split.y_test[:80]
    f = ex.features(model, x)
    assert f.shape == (80, 128)
    with torch.no_grad():
        logits = model(x)
    # the penultimate features times the last layer are the logits
    torch.testing.assert_close(f @ model.classifier[5].weight.T + model.classifier[5].bias, logits, rtol=1e-4, atol=1e-4)
    assert ex.features(mlp[1], mlp[2].x_test[:5]).shape == (5, 100)
    e = ex.embed(model, x, y, {"method": "pca"}, classes=split.classes)
    ref = PCA(2, random_state=0).fit_transform(f.double().numpy())
    assert np.allclose(np.abs(e.coords.numpy()), np.abs(ref), atol=1e-3)  # equal up to the sign of each axis
    assert e.explained_variance[0] >= e.explained_variance[1] > 0 and e.feature_dim == 128
    assert e.predicted.tolist() == logits.argmax(1).tolist()
    i = ex.nearest_point(e, float(e.coords[7, 0]), float(e.coords[7, 1]))
    assert i == 7
    with pytest.raises(ValueError, match="coordinate nan"):
        ex.nearest_point(e, float("nan"), 0)


def test_tsne_of_the_test_set_is_cached(cnn) -> None:
    name = cnn[0]
    cfg = {"n_points": 60, "perplexity": 10.0}
    a = ex.test_set_embedding(name, cfg)
    assert a.coords.shape == (60, 2) and a.method == "tsne" and a.kl_divergence is not None
    assert ex.test_set_embedding(name, cfg) is a  # second call: from the cache
    from dlcore import zoo

    data = zoo.load_data(name)
    torch.testing.assert_close(a.images, data.x_test[a.indices])
    assert a.labels.tolist() == data.y_test[a.indices].tolist()
    with pytest.raises(ValueError, match="zoo model 'resnet'"):
        ex.test_set_embedding("resnet")
    with pytest.raises(ValueError, match="perplexity 50 must be smaller"):
        ex.embed(zoo.get(name), data.x_test[:20], data.y_test[:20], {"perplexity": 50})


def _pgd(model, x: torch.Tensor, eps: float, steps: int = 10) -> torch.Tensor:
    """A plain L-inf PGD (Madry et al. 2018) standing in for dlcore.attacks (not a dependency)."""
    with torch.no_grad():
        y = model(x).argmax(1)
    xa = x.clone()
    for _ in range(steps):
        xa.requires_grad_(True)
        (g,) = torch.autograd.grad(torch.nn.functional.cross_entropy(model(xa), y), xa)
        xa = (x + (xa.detach() + 2.5 * eps / steps * g.sign() - x).clamp(-eps, eps)).clamp(0, 1)
    return xa.detach()


def test_attack_then_explain(cnn, image) -> None:
    _, model, _ = cnn
    methods = ["gradient", "smoothgrad", "gradcam"]
    same = ex.explain_attack(model, image, image.clone(), methods)
    assert same.spearman == pytest.approx({m: 1.0 for m in methods}) and same.linf == 0.0
    assert same.topk_overlap == {m: 1.0 for m in methods}
    adv = _pgd(model, image, 0.15)
    ae = ex.explain_attack(model, image, adv, methods, k_pct=10)
    assert ae.adversarial.predicted != ae.clean.predicted  # the attack flipped the answer
    assert ae.maps.shape == (2, 3, 28, 28) and 0.1 < ae.linf <= 0.15 + 1e-6
    assert all(ae.spearman[m] < 0.99 for m in methods) and all(0 <= ae.topk_overlap[m] <= 1 for m in methods)
    assert ae.adversarial.target == ae.adversarial.predicted
    clean_t = ex.explain_attack(model, image, adv, ["gradient"], target="clean")
    assert clean_t.adversarial.target == clean_t.clean.predicted
    with pytest.raises(ValueError, match="differ in shape"):
        ex.explain_attack(model, image, torch.zeros(1, 1, 8, 8))
    with pytest.raises(ValueError, match="adversarial image pixels"):
        ex.explain_attack(model, image, image + 2)
    with pytest.raises(ValueError, match="target 'adv'"):
        ex.explain_attack(model, image, adv, target="adv")  # type: ignore[arg-type]


def test_upload_goes_through_the_one_converter(cnn) -> None:
    name, model, _ = cnn
    a = np.full((90, 120), 255, np.uint8)
    a[20:70, 30:60] = 30  # a dark garment on a white photo background
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format="PNG")
    conv = ex.image_from_upload(buf.getvalue(), name)
    assert conv.tensor.shape == (1, 1, ex.input_side(name), ex.input_side(name)) and conv.inverted
    assert ex.explain(model, conv.tensor, "gradient").map.shape == conv.tensor.shape[-2:]
    with pytest.raises(ValueError, match="not an image"):
        ex.image_from_upload(b"hello", name)
    x, label, cls = ex.test_image(name, 3)
    assert x.shape[0] == 1 and isinstance(label, int) and cls
    with pytest.raises(ValueError, match="test image # -1 must be a whole number"):
        ex.test_image(name, -1)


def test_shared_zoo_models_are_never_modified(cnn, image) -> None:
    """Every entry point that hooks, randomises or optimises leaves the shared model as it was."""
    _, model, split = cnn
    state = {k: v.clone() for k, v in model.state_dict().items()}
    flags = {k: p.requires_grad for k, p in model.named_parameters()}
    ex.explain_all(model, image, configs={"lime": {"n_samples": 50}})
    ex.sanity_check(model, image, ["gradient", "guided_backprop", "gradcam"])
    ex.activation_maximization(model, {"unit": "channel", "steps": 3})
    ex.features(model, split.x_test[:10])
    ex.smoothgrad_sigma_sweep(model, image, (0, 20), {"n_samples": 4})
    for k, v in model.state_dict().items():
        assert torch.equal(v, state[k]), k
    assert {k: p.requires_grad for k, p in model.named_parameters()} == flags
    assert all(p.grad is None for p in model.parameters())
    assert not model.training
    for m in model.modules():
        assert not m._forward_hooks and not m._forward_pre_hooks and not m._backward_hooks
        assert not getattr(m, "_backward_pre_hooks", {})


@pytest.mark.slow
def test_every_figure_renders(cnn, image) -> None:
    from matplotlib.figure import Figure

    import dlcore.plotting.explain as pe
    from dlcore.plotting import figure_to_png

    _, model, split = cnn
    e = ex.explain_all(model, image, ["gradient", "smoothgrad", "occlusion"])
    sc = ex.sanity_check(model, image, ["gradient", "gradient_x_input"])
    am = ex.compare_priors(model, {"steps": 5})
    emb = ex.embed(model, split.x_test[:40], split.y_test[:40], {"method": "pca"}, split.classes)
    figs = [
        pe.explanation_figure(e, split.classes), pe.explanation_figure(e, overlay=True),
        pe.attribution_figure(e.attributions["occlusion"], e.image, split.classes),
        pe.attribution_figure(ex.explain(model, image, "integrated_gradients"), overlay=True),
        pe.map_figure(e.attributions["gradient"].map, title="n = 1"),
        pe.convergence_figure(ex.smoothgrad_convergence(model, image, ns=(1, 4))),
        pe.sigma_sweep_figure(ex.smoothgrad_sigma_sweep(model, image, (0, 15), {"n_samples": 4})),
        pe.faithfulness_figure(ex.deletion_insertion(model, image, e)),
        pe.sanity_figure(sc), pe.sanity_curve_figure(sc),
        pe.activation_maximization_figure(am, classes=split.classes),
        pe.embedding_figure(emb, highlight=3), pe.embedding_figure(emb, color_by="predicted"),
        pe.attack_explanation_figure(ex.explain_attack(model, image, _pgd(model, image, 0.1, 3), ["gradient"]),
                                     split.classes),
    ]
    assert figure_to_png(figs[0])[:8] == b"\x89PNG\r\n\x1a\n"
    for f in figs:
        assert isinstance(f, Figure)
        f.savefig(io.BytesIO(), format="png", dpi=30)  # draws everything (layout included), quickly
        for ax in f.axes:
            if ax.get_title():
                assert ax.title.get_fontsize() >= 9
    with pytest.raises(ValueError, match="highlight 40"):
        pe.embedding_figure(emb, highlight=40)
