"""Distillation loss = its formula (T² included), a fair alone-vs-distilled run; SVD low rank."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from dlcore.compression import (STUDENTS, DistillConfig, build_student, distill, distillation_loss, low_rank_model,
                                rank_sweep, separable_savings, singular_values, svd_factorize)
from dlcore.calculators.separable import compare_separable
from tests.dlcore.compression.fixtures import digits, make_cnn, make_mlp


@pytest.mark.parametrize("t", [1.0, 2.0, 4.0, 20.0])
@pytest.mark.parametrize("alpha", [0.0, 0.5, 0.9, 1.0])
def test_distillation_loss_equals_its_formula(t, alpha) -> None:
    g = torch.Generator().manual_seed(0)
    zs, zt = torch.randn(16, 10, generator=g), 3 * torch.randn(16, 10, generator=g)
    y = torch.randint(0, 10, (16,), generator=g)
    p_t, p_s = torch.softmax(zt / t, 1), torch.softmax(zs / t, 1)
    kl = (p_t * (p_t.log() - p_s.log())).sum(1).mean()  # KL(p_t ‖ p_s), averaged over the batch
    ce = -torch.log_softmax(zs, 1)[torch.arange(16), y].mean()
    torch.testing.assert_close(distillation_loss(zs, zt, y, t, alpha), alpha * t * t * kl + (1 - alpha) * ce)


def test_t_squared_keeps_the_soft_gradient_scale() -> None:
    """Hinton et al. §2: the soft term's gradient shrinks like 1/T²; times T² it stays O(1)."""
    g = torch.Generator().manual_seed(1)
    zt = torch.randn(64, 10, generator=g)
    norms = []
    for t in (4.0, 8.0, 16.0):
        zs = torch.randn(64, 10, generator=torch.Generator().manual_seed(2)).requires_grad_(True)
        distillation_loss(zs, zt, torch.zeros(64, dtype=torch.long), t, 1.0).backward()
        norms.append(float(zs.grad.norm()))
    assert max(norms) / min(norms) < 1.5  # without T² they would differ by 16×


def test_student_alone_and_distilled_get_the_same_budget() -> None:
    d = digits()
    teacher = make_cnn()
    seen: list[tuple[str, int]] = []
    cfg = DistillConfig(student="mlp_32", steps=20, eval_every=10, batch_size=32, train_examples=256, eval_examples=64)
    res = distill(teacher, d, cfg, callback=lambda step, m: seen.append((m["run"], step)))
    assert [s for s, _ in res.curves["alone"]] == [s for s, _ in res.curves["distilled"]] == [0, 10, 20]
    assert res.curves["alone"][0] == res.curves["distilled"][0]  # same initial student
    assert sum(r == "alone" for r, _ in seen) == sum(r == "distilled" for r, _ in seen) == 20
    assert (res.student_params, res.teacher_params) == (64 * 32 + 32 + 32 * 10 + 10, 1946)
    assert res.status == "finished"
    a, b = res.students["alone"], res.students["distilled"]
    assert not torch.equal(a[1].blocks[0].linear.weight, b[1].blocks[0].linear.weight)  # only the loss differed


def test_students_registry_builds_every_student() -> None:
    for name in STUDENTS:
        m = build_student(name, (1, 8, 8))  # type: ignore[arg-type]
        assert m(torch.rand(2, 1, 8, 8)).shape == (2, 10)


@pytest.mark.parametrize("bad, match", [(dict(temperature=0), "temperature 0"), (dict(alpha=1.5), "alpha 1.5"),
                                        (dict(student="resnet"), "student 'resnet'"), (dict(steps=0), "steps 0"),
                                        (dict(temperature="hot"), "temperature 'hot'")])
def test_bad_distillation_configs_raise(bad, match) -> None:
    with pytest.raises(ValueError, match=match):
        distill(make_cnn(), digits(), DistillConfig(**bad))


def test_svd_at_full_rank_reproduces_the_layer() -> None:
    torch.manual_seed(0)
    layer = nn.Linear(20, 12)
    two = svd_factorize(layer, 12)
    x = torch.randn(7, 20)
    torch.testing.assert_close(two(x), layer(x), atol=1e-5, rtol=1e-5)
    assert two[0].weight.shape == (12, 20) and two[1].weight.shape == (12, 12) and two[0].bias is None


def test_rank_k_error_is_the_tail_of_the_spectrum() -> None:
    torch.manual_seed(0)
    layer = nn.Linear(30, 16)
    s = singular_values(layer)
    for k in (1, 4, 10):
        f = svd_factorize(layer, k)
        w_k = f[1].weight @ f[0].weight  # (M, N)
        err = float((layer.weight - w_k).detach().norm())
        assert err == pytest.approx(float(s[k:].pow(2).sum().sqrt()), rel=1e-4)
        torch.testing.assert_close(torch.linalg.matrix_rank(w_k), torch.tensor(k))


def test_rank_sweep_counts_n_k_plus_k_m_and_reproduces_at_full_rank() -> None:
    d = digits()
    model = make_mlp()
    pts = rank_sweep(model, _flat(d), "1", [1, 8, 32])
    assert [p.params for p in pts] == [64 * k + k * 32 for k in (1, 8, 32)]
    assert all(p.dense_params == 64 * 32 for p in pts)
    assert pts[-1].rel_error == pytest.approx(0.0, abs=1e-5) and pts[-1].energy == pytest.approx(1.0)
    x = d.x_test[:20].flatten(1)
    torch.testing.assert_close(low_rank_model(model, "1", 32)(x), model(x), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("k", [0, -1, 33, 2.5, "3"])
def test_bad_ranks_raise_value_errors_naming_the_value(k) -> None:
    with pytest.raises(ValueError, match=f"rank K {k!r}" if isinstance(k, str) else f"rank K {k}"):
        low_rank_model(make_mlp(), "1", k)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="layer 'fc7'"):
        low_rank_model(make_mlp(), "fc7", 4)


def test_separable_savings_match_the_calculator() -> None:
    rows = separable_savings(make_cnn(), (1, 8, 8))
    assert [r.name for r in rows] == ["0", "4"]
    ref = compare_separable(8, 16, 3, 3, 4, 4, 1, 1)
    assert (rows[1].standard_params, rows[1].separable_params) == (ref.standard_params, ref.separable_params)
    assert rows[1].standard_macs == ref.standard_macs


def _flat(d):
    """The digits split with flattened images (for the test MLP that starts with Linear(64, ...))."""
    import dataclasses

    return dataclasses.replace(d, x_test=d.x_test.flatten(1), x_train=d.x_train.flatten(1))


def test_low_rank_on_the_zoo_digits_mlp_full_rank_is_lossless_and_accuracy_falls_with_k() -> None:
    from dlcore import zoo
    from dlcore.compression import accuracy

    model, d = zoo.get("digits_mlp"), digits()
    pts = rank_sweep(model, d, "fc1", [2, 16, 64])
    assert pts[-1].accuracy == pytest.approx(accuracy(model, d.x_test, d.y_test))
    assert pts[0].accuracy < pts[1].accuracy <= pts[2].accuracy + 0.01
    assert [p.energy for p in pts] == sorted(p.energy for p in pts)
