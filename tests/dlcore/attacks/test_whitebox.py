"""White-box attacks: equal to torchattacks (a test-only oracle), inside the ball, in [0, 1],
targeted ones hit the target, and the base class's chores (state, batching, stop, errors)."""

from __future__ import annotations

import threading

import pytest
import torch
import torchattacks

from dlcore.attacks import (ATTACKS, BIM, FGSM, PGD, PGDL2, Attack, NotesAttack, kurakin_steps, make_attack,
                            robust_accuracy)
from tests.dlcore.attacks.fixtures import TinyCNN, digits_cnn, digits_data

N = 16  # a power of two: torchattacks averages the loss over the batch, so its gradient is
#         ours / N, exactly (no rounding difference) when N is a power of two


@pytest.fixture(scope="module")
def data():
    x, y = digits_data()
    return x[:N], y[:N]


@pytest.mark.parametrize("eps", [0.05, 0.2])
def test_fgsm_equals_torchattacks(data, eps):
    x, y = data
    m = digits_cnn()
    ours = FGSM(m, eps=eps)(x, y)
    theirs = torchattacks.FGSM(m, eps=eps)(x, y)
    torch.testing.assert_close(ours.x_adv, theirs, rtol=0, atol=0)


def test_fgsm_targeted_equals_torchattacks(data):
    x, y = data
    m = digits_cnn()
    ta = torchattacks.FGSM(m, eps=0.2)
    ta.set_mode_targeted_by_function(lambda im, lab: (lab + 1) % 10, quiet=True)
    torch.testing.assert_close(FGSM(m, eps=0.2)(x, y, target=(y + 1) % 10).x_adv, ta(x, y), rtol=0, atol=0)


@pytest.mark.parametrize("eps, alpha, steps", [(0.1, 0.01, 10), (0.3, 0.05, 7)])
def test_pgd_without_random_start_equals_torchattacks(data, eps, alpha, steps):
    x, y = data
    m = digits_cnn()
    ours = PGD(m, eps=eps, alpha=alpha, steps=steps, random_start=False)(x, y)
    theirs = torchattacks.PGD(m, eps=eps, alpha=alpha, steps=steps, random_start=False)(x, y)
    torch.testing.assert_close(ours.x_adv, theirs, rtol=0, atol=0)


def test_pgd_random_start_equals_torchattacks_from_the_same_global_seed(data):
    x, y = data
    m = digits_cnn()
    torch.manual_seed(7)
    ours = PGD(m, eps=0.1, alpha=0.02, steps=5)(x, y).x_adv
    torch.manual_seed(7)
    theirs = torchattacks.PGD(m, eps=0.1, alpha=0.02, steps=5, random_start=True)(x, y)
    torch.testing.assert_close(ours, theirs, rtol=0, atol=0)


def test_targeted_pgd_equals_torchattacks(data):
    x, y = data
    m = digits_cnn()
    ta = torchattacks.PGD(m, eps=0.2, alpha=0.02, steps=10, random_start=False)
    ta.set_mode_targeted_by_function(lambda im, lab: torch.full_like(lab, 3), quiet=True)
    ours = PGD(m, eps=0.2, alpha=0.02, steps=10, random_start=False, target_class=3)(x, y)
    torch.testing.assert_close(ours.x_adv, ta(x, y), rtol=0, atol=0)


def test_bim_equals_torchattacks_including_kurakins_step_rule(data):
    x, y = data
    m = digits_cnn()
    torch.testing.assert_close(BIM(m, eps=0.1, alpha=0.01, steps=10)(x, y).x_adv,
                               torchattacks.BIM(m, eps=0.1, alpha=0.01, steps=10)(x, y), rtol=0, atol=1e-6)
    auto = BIM(m, eps=8 / 255, alpha=1 / 255)
    assert auto.n_steps() == kurakin_steps(8 / 255) == torchattacks.BIM(m, eps=8 / 255, alpha=1 / 255, steps=0).steps
    torch.testing.assert_close(auto(x, y).x_adv, torchattacks.BIM(m, eps=8 / 255, alpha=1 / 255, steps=0)(x, y),
                               rtol=0, atol=1e-6)


def test_pgd_l2_equals_torchattacks_where_gradients_are_not_tiny(data):
    # torchattacks divides the batch-mean gradient by (‖g‖ + 1e-10): for a saturated image
    # (‖g‖ ~ 1e-9) that guard term depends on the batch size; a random net has large gradients
    x, y = data
    m = TinyCNN().eval()
    for rs in (False, True):
        torch.manual_seed(3)
        ours = PGDL2(m, eps=1.0, alpha=0.2, steps=10, random_start=rs)(x, y).x_adv
        torch.manual_seed(3)
        theirs = torchattacks.PGDL2(m, eps=1.0, alpha=0.2, steps=10, random_start=rs)(x, y)
        torch.testing.assert_close(ours, theirs, rtol=0, atol=1e-5)


def test_notes_loop_is_targeted_pgd_with_sign_updates_and_no_push_term(data):
    x, y = data
    m = digits_cnn()
    ta = torchattacks.PGD(m, eps=0.2, alpha=0.02, steps=10, random_start=False)
    ta.set_mode_targeted_by_function(lambda im, lab: torch.full_like(lab, 5), quiet=True)
    notes = NotesAttack(m, eps=0.2, lr=0.02, steps=10, update="sign", push_away=False, target_class=5)(x, y)
    torch.testing.assert_close(notes.x_adv, ta(x, y), rtol=0, atol=0)
    assert notes.loss_name == "L(x) = e(y, y_target)"
    # untargeted with sign updates, L = −e(y, ŷ): BIM
    torch.testing.assert_close(NotesAttack(m, eps=0.1, lr=0.01, steps=10, update="sign")(x, y).x_adv,
                               BIM(m, eps=0.1, alpha=0.01, steps=10)(x, y).x_adv, rtol=0, atol=1e-6)


def test_notes_raw_gradient_step_is_x_minus_lr_grad_L_then_clip(data):
    x, y = data
    m = digits_cnn()
    t = torch.full_like(y, 2)
    xr = x.clone().requires_grad_(True)
    logits = m(xr)
    L = -torch.nn.functional.cross_entropy(logits, y, reduction="sum") + \
        torch.nn.functional.cross_entropy(logits, t, reduction="sum")  # the notes' L(x), summed
    g, = torch.autograd.grad(L, xr)
    want = torch.clamp(torch.min(torch.max(x - 5.0 * g, x - 0.1), x + 0.1), 0, 1)  # x − lr·∇L, then clip
    got = NotesAttack(m, eps=0.1, lr=5.0, steps=1, target_class=2)(x, y)
    torch.testing.assert_close(got.x_adv, want, rtol=0, atol=1e-6)
    assert got.loss_per_step[-1] < got.loss_per_step[0]  # L falls: x* is its argmin


SWEEP = [(name, eps) for name in ATTACKS for eps in (0.05, 0.2)]


@pytest.mark.parametrize("name, eps", SWEEP)
def test_every_attack_stays_in_the_ball_and_in_0_1(data, name, eps):
    x, y = data
    kw = {"eps": eps}
    if ATTACKS[name].family == "black-box":
        kw.update(steps=3, max_queries=10_000)
    res = make_attack(name, digits_cnn(), seed=0, **kw)(x[:4], y[:4])
    norm = res.l2 if name == "pgd_l2" else res.linf
    assert float(norm.max()) <= eps + 1e-6
    assert float(res.x_adv.min()) >= 0 and float(res.x_adv.max()) <= 1
    assert res.robust_accuracy <= res.clean_accuracy
    assert len(res.loss_per_step) == res.steps_done + 1


@pytest.mark.parametrize("cls", [FGSM, PGD, NotesAttack])
def test_targeted_attacks_reach_the_target_on_a_tiny_model(data, cls):
    x, y = data
    m = digits_cnn()
    kw = {"eps": 0.4} if cls is FGSM else {"eps": 0.3, "steps": 40, **({"alpha": 0.02} if cls is PGD else {})}
    if cls is NotesAttack:  # the notes' loop with sign steps (raw gradients stall where the net is confident)
        kw.update(lr=0.02, update="sign")
    t = (y + 3) % 10
    res = cls(m, **kw)(x, y, target=t)
    rate = float((res.pred_after == t).float().mean())
    assert rate >= (0.4 if cls is FGSM else 0.9), rate


def test_robust_accuracy_is_at_most_clean_and_pgd_beats_fgsm(data):
    x, y = digits_data()
    m = digits_cnn()
    for name in ("fgsm", "bim", "pgd", "notes"):
        r = make_attack(name, m, eps=0.15, seed=0)(x, y)
        assert r.robust_accuracy <= r.clean_accuracy
    fgsm = FGSM(m, eps=0.15)(x, y)
    pgd = PGD(m, eps=0.15, alpha=0.015, steps=20, seed=0)(x, y)
    assert pgd.success_rate >= fgsm.success_rate
    assert robust_accuracy(m, x, y, "pgd", eps=0.15, alpha=0.015, steps=20, seed=0) == pytest.approx(
        pgd.robust_accuracy)


def test_untargeted_loss_rises_and_the_result_carries_what_the_ui_needs(data):
    x, y = data
    res = PGD(digits_cnn(), eps=0.2, alpha=0.02, steps=10, seed=1)(x, y)
    assert res.loss_per_step.shape == (11,) and res.loss_history.shape == (11, N)
    assert res.loss_per_step[-1] > res.loss_per_step[0]
    p, c = res.topk(3, after=False)
    assert p.shape == c.shape == (N, 3) and torch.all(p[:, :-1] >= p[:, 1:])
    torch.testing.assert_close(res.delta, res.x_adv - res.x)
    torch.testing.assert_close(res.l2, res.delta.flatten(1).norm(dim=1))
    assert res.queries.sum() == 0 and res.attack == "pgd" and res.config["steps"] == 10
    assert set(res.summary()) >= {"clean_accuracy", "robust_accuracy", "success_rate", "mean_linf"}


def test_model_state_is_restored_even_on_error():
    m = TinyCNN()
    m.train()
    m.conv.eval()  # a mixed state must come back as it was
    m.fc.weight.requires_grad_(False)
    x, y = digits_data()
    PGD(m, eps=0.1, steps=2)(x[:4], y[:4])
    assert m.training and not m.conv.training
    assert m.conv.weight.requires_grad and not m.fc.weight.requires_grad
    with pytest.raises(ValueError, match="target class 12"):
        PGD(m, eps=0.1, steps=2)(x[:4], y[:4], target=12)
    assert m.training and m.conv.weight.requires_grad


def test_batching_and_seeds_do_not_change_the_answer(data):
    x, y = data
    m = digits_cnn()
    a = PGD(m, eps=0.1, steps=5, alpha=0.02, random_start=False, batch_size=3)(x, y).x_adv
    b = PGD(m, eps=0.1, steps=5, alpha=0.02, random_start=False, batch_size=64)(x, y).x_adv
    torch.testing.assert_close(a, b, rtol=0, atol=1e-6)
    s1 = PGD(m, eps=0.1, steps=2, seed=4)(x, y).x_adv
    torch.testing.assert_close(s1, PGD(m, eps=0.1, steps=2, seed=4)(x, y).x_adv, rtol=0, atol=0)
    assert not torch.equal(s1, PGD(m, eps=0.1, steps=2, seed=5)(x, y).x_adv)


def test_callback_progress_and_stop(data):
    x, y = data
    seen = []
    res = PGD(digits_cnn(), eps=0.1, steps=10, batch_size=8, callback=lambda s, m: seen.append((s, m)))(x, y)
    assert [s for s, _ in seen] == list(range(1, 21)) and seen[-1][1]["progress"] == pytest.approx(1.0)
    assert not res.stopped
    stop = threading.Event()

    def cb(step, metrics):
        if step == 3:
            stop.set()

    res = PGD(digits_cnn(), eps=0.1, steps=10, batch_size=8, callback=cb, stop_event=stop)(x, y)
    assert res.stopped and res.steps_done == 3 and len(res.y) == 8  # only the first batch was attacked
    assert any("stopped" in n for n in res.notes)
    res = PGD(digits_cnn(), eps=0.1, steps=10, callback=lambda s, m: "stop" if s == 2 else None)(x, y)
    assert res.stopped and res.steps_done == 2


def test_early_stop_keeps_the_first_fooling_point(data):
    x, y = data
    m = digits_cnn()
    plain = PGD(m, eps=0.3, alpha=0.02, steps=30, random_start=False)(x, y)
    early = PGD(m, eps=0.3, alpha=0.02, steps=30, random_start=False, early_stop=True)(x, y)
    assert early.success_rate >= plain.success_rate
    assert float(early.linf.mean()) < float(plain.linf.mean())  # stopped before reaching the boundary


@pytest.mark.parametrize("kwargs, message", [
    ({"eps": -0.1}, "epsilon -0.1 must be in"),
    ({"eps": 1.5}, "epsilon 1.5 must be in"),
    ({"eps": "0.1"}, "epsilon '0.1' must be a number"),
    ({"eps": float("nan")}, "epsilon nan must be a finite"),
    ({"steps": 0}, "steps 0 must be in"),
    ({"steps": 10**6}, "steps 1000000 must be in"),
    ({"steps": 2.5}, "steps 2.5 must be a whole number"),
    ({"alpha": 0}, r"step size 0 must be in \(0"),
    ({"norm": "L3"}, "norm 'L3' must be one of"),
    ({"random_start": "yes"}, "random_start 'yes' must be True or False"),
    ({"target_class": -1}, "target class -1 must be in"),
    ({"epsilon": 0.1}, r"option\(s\) \['epsilon'\] are not options"),
    ({"batch_size": 0}, "batch size 0 must be in"),
])
def test_bad_configs_name_the_value(kwargs, message):
    with pytest.raises(ValueError, match=message):
        PGD(digits_cnn(), **kwargs)


def test_bad_inputs_name_the_problem(data):
    x, y = data
    atk = FGSM(digits_cnn(), eps=0.1)
    with pytest.raises(ValueError, match="pixel values"):
        atk(x * 2, y)
    with pytest.raises(ValueError, match="float tensor"):
        atk(x.numpy(), y)
    with pytest.raises(ValueError, match="labels must be an integer tensor"):
        atk(x, y[:3])
    with pytest.raises(ValueError, match="NaN"):
        atk(x.clone().fill_(float("nan")), y)
    with pytest.raises(ValueError, match="number of images"):
        atk(torch.zeros(0, 1, 8, 8), torch.zeros(0, dtype=torch.long))
    with pytest.raises(ValueError, match=r"target class 10 must be in \[0, 9\]"):
        atk(x, y, target=10)
    with pytest.raises(ValueError, match="attack 'cw' is not one of"):
        make_attack("cw", digits_cnn())
    with pytest.raises(ValueError, match="must be a torch.nn.Module"):
        PGD("model")  # type: ignore[arg-type]


def test_registry_lists_every_attack_with_its_options_and_paper_defaults():
    assert list(ATTACKS) == ["fgsm", "bim", "pgd", "pgd_l2", "notes", "finite_difference", "nes", "spsa"]
    assert len({s.display_name for s in ATTACKS.values()}) == len(ATTACKS)
    for spec in ATTACKS.values():
        assert issubclass(spec.cls, Attack) and spec.options[:2] == ("eps", "target_class")
        assert spec.family in ("white-box", "black-box") and spec.paper
        assert set(spec.defaults()) == set(spec.options)
    assert ATTACKS["pgd"].defaults() | {} == {"eps": 0.3, "target_class": None, "alpha": 0.01, "steps": 40,
                                             "norm": "Linf", "random_start": True}  # Madry et al. 2018, MNIST
    assert ATTACKS["fgsm"].defaults()["eps"] == 0.25  # Goodfellow et al. 2015, MNIST
    assert ATTACKS["bim"].defaults()["alpha"] == pytest.approx(1 / 255)  # Kurakin et al. 2017


def test_an_unlabelled_image_is_attacked_against_the_models_own_prediction(data):
    from dlcore.attacks import attack_prediction

    x, _ = data
    m = digits_cnn()
    res = attack_prediction(m, x[:2], "fgsm", eps=0.3)
    torch.testing.assert_close(res.y, m(x[:2]).argmax(1))
    assert res.clean_accuracy == 1.0 and res.success_rate == float(res.success.float().mean())
    res = attack_prediction(m, x[:2], "pgd", target=4, eps=0.3, steps=20, alpha=0.03)
    assert torch.all(res.pred_after == 4)


def test_robust_accuracy_of_a_stopped_attack_is_nan_not_an_overestimate(data):
    import math

    x, y = data
    m = digits_cnn()
    atk = PGD(m, eps=0.2, steps=10, callback=lambda s, metrics: "stop" if s == 1 else None)
    assert math.isnan(robust_accuracy(m, x, y, atk)) and atk.stopped
    with pytest.raises(ValueError, match="only for an attack given by name"):
        robust_accuracy(m, x, y, atk, eps=0.1)
