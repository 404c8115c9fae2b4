"""The explain tab's handlers called directly (numbers, messages, stop), its defaults against the
library's, and what the generic harness cannot see (the clickable scatter, the streaming helper)."""

from __future__ import annotations

import dataclasses
import threading
import time
from types import SimpleNamespace

import gradio as gr
import pytest
import torch

import apps.explain as tab
from apps import explain_global as G
from apps import explain_local as X
from apps.explain_stream import stream
from dlcore.explain.names import METHOD_NAMES


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def test_ui_defaults_are_the_papers_defaults_of_the_library() -> None:
    from dlcore.attacks import PGD
    from dlcore.explain import ActMaxConfig, EmbeddingConfig, IGConfig, LimeConfig, OcclusionConfig, SmoothGradConfig

    sg, ig, occ, lime = SmoothGradConfig(), IGConfig(), OcclusionConfig(), LimeConfig()
    assert tab.D_OPTS == [sg.sigma_pct, sg.n_samples, ig.baseline, ig.n_steps, occ.patch, occ.stride, occ.baseline,
                          lime.n_samples]
    am = ActMaxConfig()
    assert tab.D_ACTMAX[4:] == [am.steps, am.lr, am.l2, am.tv, am.blur_sigma, am.blur_every, am.jitter, am.init]
    emb = EmbeddingConfig()
    assert tab.D_EMB[2:5] == [emb.layer, emb.n_points, emb.perplexity]  # PCA first (t-SNE takes ~10 s), documented
    assert "t-SNE (about 10 s" in open(tab.__file__, encoding="utf-8").read()
    assert PGD(torch.nn.Linear(1, 1), eps=0.1, alpha=0.01, steps=20).config.alpha == tab.D_ATTACK[8]
    assert set(G.ATTACK_CHOICES) <= set(__import__("dlcore.attacks", fromlist=["ATTACKS"]).ATTACKS)


def test_the_built_widgets_start_at_the_declared_defaults() -> None:
    with gr.Blocks() as demo:
        tab.build()
    values = {}
    for comp in demo.blocks.values():
        label = getattr(comp, "label", None)
        if label and label not in values and hasattr(comp, "value"):
            values[label] = comp.value
    assert values[X.L["sigma"]] == tab.D_OPTS[0] and values[X.L["n"]] == tab.D_OPTS[1]
    assert values[X.L["ig_steps"]] == tab.D_OPTS[3] and values[X.L["lime_n"]] == tab.D_OPTS[7]
    assert values[X.L["methods"]] == list(METHOD_NAMES)
    assert values[G.L["steps"]] == tab.D_ACTMAX[4] and values[G.L["tv"]] == tab.D_ACTMAX[7]


def test_local_maps_every_method_with_ig_completeness() -> None:
    status, fig, table, conv = X.local_maps(*tab.D_LOCAL)
    assert "The model says Ankle boot" in status and "✅" in status and "completeness" in status
    assert fig is not None and table.count("| **") == len(METHOD_NAMES)
    assert conv["visible"] is False


def test_local_maps_on_the_mlp_say_why_two_methods_cannot_run() -> None:
    status, _, table, _ = X.local_maps("fmnist_lenet300", *tab.D_LOCAL[1:])
    assert "Grad-CAM needs a convolutional layer" in table and "needs nn.ReLU modules" in table
    assert "with 8 methods" in status


@pytest.mark.parametrize("i,value,message", [
    (5, "gradient", "must be a list of method names"),
    (6, "predicted", "class to explain"),
    (7, "loud", "colour scale"),
    (8, "yes", "draw the maps over the image must be true or false"),
    (10, 0, "noisy copies n = 0 is below the minimum 1"),
    (11, "white", "IG baseline"),
    (16, 1e9, "LIME samples"),
])
def test_local_maps_names_each_bad_setting(i, value, message) -> None:
    args = list(tab.D_LOCAL)
    args[i] = value
    with pytest.raises(gr.Error, match=message):
        X.local_maps(*args)


def test_smoothgrad_frames_run_through_one_sequence_of_copies() -> None:
    s100, img = X.smoothgrad_frame(*tab.D_IMG, X.N_MAX, 15.0, "smoothgrad")
    assert "ρ = 1.00" in s100 and img.shape == (280, 280 * 2 + 20 + 20, 3)
    s50, _ = X.smoothgrad_frame(*tab.D_IMG, 50, 15.0, "smoothgrad")
    s1, _ = X.smoothgrad_frame(*tab.D_IMG, 1, 15.0, "smoothgrad")
    rho = [float(s.split("ρ = ")[1][:4]) for s in (s1, s50)]
    assert rho[0] < rho[1] < 1.0 and "a single noisy gradient" in s1
    with pytest.raises(gr.Error, match="average of"):
        X.smoothgrad_frame(*tab.D_IMG, 5, 15.0, "mean")


def test_strips_say_this_model_is_not_robust_to_the_papers_noise() -> None:
    status, conv, sweep = X.smoothgrad_strips(*tab.D_IMG, 15.0, "smoothgrad")
    assert "not robust to Gaussian noise" in status and "n = 50 is enough" in status
    assert conv is not None and sweep is not None


def _request(name: str) -> SimpleNamespace:
    return SimpleNamespace(session_hash=f"test-explain-{name}-{time.time()}")


def test_sanity_streams_and_stop_keeps_the_steps_done() -> None:
    req = _request("sanity")
    frames = []
    gen = X.sanity(*tab.D_SANITY, request=req)
    for out in gen:
        frames.append(out)
        if len(frames) == 1:
            assert X.stop_sanity(request=req).startswith("⏹")
    assert frames[0][0].startswith("⏳")
    assert "⏹ **stopped**" in frames[-1][0]
    assert "Nothing is running" in X.stop_sanity(request=req)


def test_sanity_default_states_the_papers_finding() -> None:
    status, fig, curve = X.sanity_default(*tab.D_SANITY)
    assert "Guided backprop fails the sanity check" in status and "Gradient × input fails the sanity check" in status
    assert "Vanilla gradient passes the sanity check" in status and fig is not None and curve is not None


def test_faithfulness_beats_random() -> None:
    status, fig = X.faithfulness(*tab.D_FAITH)
    assert status.count("✅") >= 4 and "beats a random map" in status and fig is not None


def test_activation_maximisation_stop_keeps_what_was_found() -> None:
    req = _request("actmax")
    args = [*tab.D_ACTMAX[:4], 400, *tab.D_ACTMAX[5:]]  # not the cached default
    frames = []
    for out in G.actmax(*args, request=req):
        frames.append(out)
        if len(frames) == 1:
            assert G.stop_actmax(request=req).startswith("⏹")
    assert "⏹ **stopped**" in frames[-1][0] and frames[-1][1] is not None
    with pytest.raises(gr.Error, match="index 99 must be < 10"):
        list(G.actmax(tab.MODEL, "class", 99, *tab.D_ACTMAX[3:], request=_request("bad")))


def test_the_smooth_prior_makes_x_star_smoother() -> None:
    status, fig = G.actmax_default(*tab.D_ACTMAX)
    assert "class 1 (Trouser)" in status and "✅" in status and fig is not None


def test_a_click_on_the_scatter_picks_the_point_under_it() -> None:
    *_, (text, img, pixmap, point) = list(G.embedding(*tab.D_EMB))
    assert point == 0 and img.shape == (pixmap["height"], pixmap["width"], 3)
    from dlcore.explain import test_set_embedding
    from dlcore.plotting.explain_pixels import PixelMap

    emb = test_set_embedding(tab.MODEL, {"method": "pca"})
    pm = PixelMap.from_dict(pixmap)
    k = 123
    cx, cy = (float(v) for v in emb.coords[k])
    px = pm.left + (cx - pm.xlim[0]) / (pm.xlim[1] - pm.xlim[0]) * (pm.right - pm.left)
    py = pm.bottom - (cy - pm.ylim[0]) / (pm.ylim[1] - pm.ylim[0]) * (pm.bottom - pm.top)
    _, _, _, chosen = G.clicked(*tab.D_EMB[:6], pixmap, SimpleNamespace(index=[px, py]))
    d = (emb.coords - emb.coords[k]).norm(dim=1)
    assert chosen == k or float(d[chosen]) < 0.01 * float(d.max())
    with pytest.raises(gr.Error, match="draw the embedding first"):
        G.clicked(*tab.D_EMB[:6], None, SimpleNamespace(index=[1, 2]))
    with pytest.raises(gr.Error, match="outside"):
        G.clicked(*tab.D_EMB[:6], pixmap, SimpleNamespace(index=[-10, 5]))


def test_attack_then_explain_flips_the_answer_and_moves_the_maps() -> None:
    status, fig, table, _ = G.attack_explain(*tab.D_ATTACK)
    assert "✅ | the attack changes the answer" in status and "Ankle boot" in status
    assert table.count("\n") == 1 + len(tab.ATTACK_METHODS) and fig is not None


def test_model_choices_lists_this_machines_classifiers_and_layers() -> None:
    m, targets, layers = G.model_choices("fmnist_cnn", "channel")
    assert m["value"] == "fmnist_cnn" and "fmnist_lenet300" in m["choices"]
    assert targets["choices"][0] == ("the predicted class", -1) and targets["choices"][10] == ("9 · Ankle boot", 9)
    assert [c[1] for c in layers["choices"]][:2] == ["auto", "block1.0"]
    _, _, neurons = G.model_choices("fmnist_lenet300", "neuron")
    assert [c[1] for c in neurons["choices"]] == ["auto", "fc1", "fc2", "fc3"]


def test_stream_reports_progress_returns_the_result_and_raises_errors() -> None:
    def slow(cb):
        for i in range(3):
            cb(i, {"value": i * 10})
            time.sleep(0.05)
        return "done"

    frames = list(stream(slow, every=0.02))
    assert frames[-1] == ({"step": 2, "value": 20}, "done") and all(r is None for _, r in frames[:-1])

    def broken(cb):
        raise ValueError("nope")

    with pytest.raises(ValueError, match="nope"):
        list(stream(broken))
    stop = threading.Event()

    def until_stopped(cb):
        while not stop.is_set():
            time.sleep(0.01)
        return "stopped"

    gen = stream(until_stopped, every=0.01, stop=stop)
    next(gen)
    gen.close()
    assert stop.is_set()


def test_endpoint_declarations_have_facts_for_every_example() -> None:
    names = [ep.api_name for ep in tab.ENDPOINTS]
    assert len(names) == len(set(names)) and names[0] == "explain_local"
    for ep in tab.ENDPOINTS:
        assert len(ep.facts) == len(ep.examples)
    assert dataclasses.is_dataclass(tab.ERROR_DEMO)
