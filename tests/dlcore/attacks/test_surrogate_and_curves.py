"""The substitute route (Papernot et al. 2017), accuracy-vs-ε curves, and the figures."""

from __future__ import annotations

import math
import threading

import pytest
import torch
from matplotlib.figure import Figure

from dlcore.attacks import FGSM, PGD, NESAttack
from dlcore.attacks.curves import accuracy_vs_eps
from dlcore.attacks.surrogate import SubstituteConfig, jacobian_augment, train_substitute, transfer_attack
from dlcore.plotting import figure_to_png
from dlcore.plotting import attacks as figs
from tests.dlcore.attacks.fixtures import TinyCNN, digits_cnn, digits_data

SMALL = SubstituteConfig(arch="small_cnn", rounds=3, epochs=3, seed=0)


@pytest.fixture(scope="module")
def substitute():
    from dlcore import zoo

    split = zoo.load_data("digits_cnn")
    seen = []
    sub = train_substitute(digits_cnn(), split.x_train[:100], SMALL, x_check=split.x_test[:200],
                           callback=lambda s, m: seen.append(m))
    return sub, seen


def test_substitute_doubles_its_set_and_counts_label_queries(substitute):
    sub, seen = substitute
    assert sub.queries == 100 * 2 ** (SMALL.rounds - 1) == len(sub.x_train) == len(sub.y_train)
    assert [r["n_train"] for r in sub.rounds] == [100, 200, 400]
    assert sub.check_queries == 200 and not sub.stopped
    torch.testing.assert_close(sub.y_train, digits_cnn()(sub.x_train).argmax(1))  # the target's labels
    assert sub.rounds[-1]["agreement"] > 0.6
    assert {m["phase"] for m in seen} == {"train", "round"}
    assert not sub.model.training and not any(p.requires_grad for p in sub.model.parameters())


def test_the_substitute_does_not_depend_on_torchs_global_rng(monkeypatch):
    """A server's threads share torch's global RNG: another user's run may re-seed it while this one builds
    its substitute. The substitute's weights come from a generator of its own, so they stay the same."""
    import dlcore.models as models
    from dlcore import zoo

    split = zoo.load_data("digits_cnn")
    cfg = SubstituteConfig(arch="small_cnn", rounds=1, epochs=1, seed=3)
    alone = train_substitute(digits_cnn(), split.x_train[:40], cfg).model.state_dict()
    real = models.build_model

    def meddled(*args, **kwargs):
        torch.manual_seed(999)  # what another thread's Trainer does at the wrong moment
        return real(*args, **kwargs)

    monkeypatch.setattr(models, "build_model", meddled)
    meddled_with = train_substitute(digits_cnn(), split.x_train[:40], cfg).model.state_dict()
    for k, v in alone.items():
        torch.testing.assert_close(meddled_with[k], v, rtol=0, atol=0)


def test_jacobian_augmentation_steps_lambda_along_the_sign():
    m = TinyCNN().eval()
    x, y = digits_data()
    new = jacobian_augment(m, x[:8], y[:8], 0.1)
    step = (new - x[:8]).abs()
    inside = (x[:8] > 0.1) & (x[:8] < 0.9)
    assert torch.allclose(step[inside], torch.full_like(step[inside], 0.1), atol=1e-6)
    assert float(new.min()) >= 0 and float(new.max()) <= 1


def test_transfer_attack_is_judged_on_the_target(substitute):
    sub, _ = substitute
    x, y = digits_data()
    target = digits_cnn()
    tr = transfer_attack(target, sub, x, y, "pgd", eps=0.3, alpha=0.03, steps=20, seed=0)
    with torch.no_grad():
        fooled = target(tr.result.x_adv).argmax(1) != y
        ok = target(x).argmax(1) == y
    assert tr.transfer_success_rate == pytest.approx(float(fooled[ok].float().mean()))
    assert tr.substitute_success_rate > 0.8 and 0.1 < tr.transfer_success_rate <= 1
    assert tr.label_queries == sub.queries and tr.queries == sub.queries + 2 * len(x)


def test_substitute_training_stops_on_request():
    stop = threading.Event()
    stop.set()
    x, _ = digits_data()
    sub = train_substitute(digits_cnn(), x[:40], SubstituteConfig(arch="lenet_300_100", rounds=4, epochs=1),
                           stop_event=stop)
    assert sub.stopped and len(sub.rounds) == 1
    with pytest.raises(ValueError, match="rounds 0 must be in"):
        train_substitute(digits_cnn(), x[:40], SubstituteConfig(rounds=0))


def test_accuracy_curves_stream_stay_below_clean_and_fall():
    x, y = digits_data()
    models = {"cnn": digits_cnn(), "random": TinyCNN().eval()}
    seen = []
    eps = [0.2, 0.0, 0.05, 0.1]
    c = accuracy_vs_eps(models, x, y, eps, ("fgsm", "pgd"), steps=10, callback=lambda s, m: seen.append(m))
    assert len(seen) == 2 * 2 * 4 and seen[-1]["progress"] == 1 and not c.stopped
    for m in models:
        for a in ("fgsm", "pgd"):
            acc = c.accuracy[m][a]
            assert all(v <= c.clean[m] for v in acc)  # robust ≤ clean
            assert acc[1] == c.clean[m]  # ε = 0
            ordered = [acc[eps.index(e)] for e in sorted(eps)]
            assert ordered == sorted(ordered, reverse=True)  # nested budgets: monotone
        assert all(p <= f for p, f in zip(c.accuracy[m]["pgd"], c.accuracy[m]["fgsm"]))
    plain = accuracy_vs_eps({"cnn": digits_cnn()}, x, y, [0.1], ("pgd",), steps=10, nested=False, early_stop=False)
    want = PGD(digits_cnn(), eps=0.1, alpha=0.025, steps=10, seed=0)(x, y).robust_accuracy
    assert plain.accuracy["cnn"]["pgd"][0] == pytest.approx(want)  # the textbook PGD when asked
    assert len(c.rows()) == 16


def test_accuracy_curves_stop_and_reject_bad_input():
    x, y = digits_data()
    stop = threading.Event()
    c = accuracy_vs_eps({"cnn": digits_cnn()}, x, y, [0, 0.1, 0.2], ("pgd",), steps=5,
                        callback=lambda s, m: stop.set(), stop_event=stop)
    assert c.stopped and sum(not math.isnan(v) for v in c.accuracy["cnn"]["pgd"]) == 1
    with pytest.raises(ValueError, match="attack 'cw' must be one of"):
        accuracy_vs_eps({"cnn": digits_cnn()}, x, y, [0.1], ("cw",))
    with pytest.raises(ValueError, match="epsilon 2 must be in"):
        accuracy_vs_eps({"cnn": digits_cnn()}, x, y, [2])
    with pytest.raises(ValueError, match="models must map"):
        accuracy_vs_eps({}, x, y)


def test_every_figure_renders_with_legible_titles(substitute):
    sub, _ = substitute
    x, y = digits_data()
    m = digits_cnn()
    res = PGD(m, eps=0.2, alpha=0.02, steps=8, seed=0)(x[:6], y[:6], target=1)
    bb = {"NES": NESAttack(m, eps=0.3, alpha=0.03, steps=10, seed=0)(x[:6], y[:6]),
          "FGSM": FGSM(m, eps=0.3)(x[:6], y[:6])}
    tr = transfer_attack(m, sub, x[:6], y[:6], "fgsm", eps=0.3)
    curves = accuracy_vs_eps({"cnn": m}, x[:16], y[:16], [0, 0.1], steps=3)
    from dlcore.defenses import defense_report
    from dlcore.defenses.training import RetrainResult, RetrainRound
    from dlcore.zoo.robust_check import CheckRow, PaperCheck

    rows = defense_report(m, x[:8], y[:8], ["jpeg", "random_noise"], eps=0.2, steps=3, eot_samples=2)
    retrain = RetrainResult([RetrainRound(0, 10, 0.9, 0.1, 1.0), RetrainRound(1, 20, 0.85, 0.4, 2.0)], m,
                            {"attack": "pgd", "eps": 0.1})
    check = PaperCheck([CheckRow("natural, PGD", 0.05, "a few %", "< 10 %", True),
                        CheckRow("robust, clean", 0.8, "98.8 %", "", None)], True, "a", "b", "digits", 0.2, 20, 8, 1.0)
    made = [figs.attack_images(res, 1, classes=[str(i) for i in range(10)]), figs.topk_bars(res, 0, k=4),
            figs.loss_per_step(res), figs.accuracy_curves(curves), figs.blackbox_summary(bb, tr),
            figs.substitute_rounds(sub), figs.defense_bars(rows, 0.2), figs.retrain_rounds(retrain),
            figs.paper_check_bars(check)]
    for fig in made:
        assert isinstance(fig, Figure) and figure_to_png(fig)[:4] == b"\x89PNG"
        for ax in fig.get_axes():
            if ax.get_title():
                assert ax.title.get_fontsize() >= 9
    title = made[0].get_axes()[1].get_title()
    assert "L∞ = 0.200" in title and "L2 =" in title
    with pytest.raises(ValueError, match="image index 9"):
        figs.attack_images(res, 9)


def test_conversion_steps_figure_shows_every_stage():
    import numpy as np
    from PIL import Image

    from dlcore.data.image_input import convert_image
    from dlcore.plotting.images import conversion_steps

    rgba = np.zeros((60, 40, 4), dtype=np.uint8)
    rgba[..., :3], rgba[10:50, 10:30, 3] = 30, 255  # a dark object on a transparent background
    conv = convert_image(Image.fromarray(rgba, "RGBA"))
    fig = conversion_steps(conv)
    axes = fig.get_axes()
    assert len(axes) == len(conv.steps) + 1 and axes[-1].get_title().startswith("model input 28×28")
    assert all(ax.title.get_fontsize() >= 9 for ax in axes)
    assert "RGBA" in fig._suptitle.get_text() and "transparent" in fig._supxlabel.get_text()
    assert figure_to_png(fig)[:4] == b"\x89PNG"


def test_attack_arrays_are_the_three_pictures_for_an_image_widget():
    x, y = digits_data()
    res = PGD(digits_cnn(), eps=0.2, steps=3, seed=0)(x[:2], y[:2])
    a = figs.attack_arrays(res, 1, scale=4)
    assert a["original"].shape == a["adversarial"].shape == a["perturbation"].shape == (32, 32, 3)
    assert a["original"].dtype.name == "uint8"
    torch.testing.assert_close(torch.from_numpy(a["original"][::4, ::4, 0]).float(),
                               (x[1, 0] * 255).round(), rtol=0, atol=1)
    assert float(a["amplify"]) == pytest.approx(1 / float(res.linf[1]), rel=1e-5)
    with pytest.raises(ValueError, match="scale 0 must be"):
        figs.attack_arrays(res, 0, scale=0)
