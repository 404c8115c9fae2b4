"""The Attention tab through its handlers: every answer checked against a reference computed here
(torch's ``F.scaled_dot_product_attention`` / ``nn.MultiheadAttention``, the notes' formulas written
out independently), bad input as one gr.Error naming the value, Stop, the seeds' one-click examples."""

from __future__ import annotations

import math
import re

import gradio as gr
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import apps.attention as tab
import apps.attention_calc as calc
import apps.attention_more as more
from apps.common import live
from dlcore.attention.names import CALC_EXAMPLES
from dlcore.textinput import parse_tensor
from tests.streams import last as _last

HANDLERS = {"attention_pool": tab.pool, "attention_train": tab.train, "attention_train_stop": tab.stop_train,
            "attention_calc": calc.calculate, "attention_random": calc.randomize,
            "attention_positional": more.positional, "attention_complexity": more.complexity,
            "attention_complexity_stop": more.stop_complexity}


def _output(md: str) -> torch.Tensor:
    """The answer O the calculator prints (``**O** = `[[...]]```), 4 decimals."""
    m = re.search(r"\*\*O\*\* = `([^`]+)`", md)
    assert m, md[:300]
    return parse_tensor(m.group(1), "O", ndim=2)


def test_contract_and_build() -> None:
    assert tab.TITLE.startswith("Attention")
    assert {s.section for s in tab.SEEDS} >= {"8.4.1", "8.4.2", "8.4.3", "8.4.4", "8.4.5", "8.4.6", "8.4.7"}
    with gr.Blocks() as demo:
        tab.build()
    ids = {c["props"].get("elem_id") for c in demo.get_config_file()["components"]}
    assert {tab.RUN_BUTTON, calc.RUN_BUTTON, more.PE_BUTTON, more.CX_BUTTON} <= ids
    assert set(HANDLERS) == {e.api_name for e in tab.ENDPOINTS}


@pytest.mark.parametrize("ep", [e for e in tab.ENDPOINTS if e.bad], ids=lambda e: e.api_name)
def test_bad_inputs_raise_one_message_naming_the_value(ep) -> None:
    for args, fragment in ep.bad:
        with pytest.raises(gr.Error) as err:
            _last(HANDLERS[ep.api_name](*args))
        assert fragment in str(err.value.message), (args, err.value.message)


# ----------------------------------------------------------------------------- the calculator


def _reference(ex) -> torch.Tensor:
    """The example's answer from torch (or, for additive scoring, the notes' formula written out here)."""
    q, k, v = (parse_tensor(t, n, ndim=2) for t, n in ((ex.q, "Q"), (ex.k, "K"), (ex.v, "V")))
    n, m = q.shape[0], k.shape[0]
    keep = torch.ones(n, m, dtype=torch.bool)
    if "causal" in ex.mask:
        keep &= torch.ones(n, m, dtype=torch.bool).tril()
    if "padding" in ex.mask:
        keep &= (torch.arange(m) < ex.valid_keys)[None]
    if ex.heads > 1:
        from dlcore.attention.multihead import projection_weights

        w = projection_weights(ex.projection, q.shape[1], k.shape[1], v.shape[1], 0)
        mha = nn.MultiheadAttention(q.shape[1], ex.heads, bias=False, batch_first=True).double()
        with torch.no_grad():  # torch computes x Wᵀ: it stores the transposes of the notes' X W
            mha.in_proj_weight.copy_(torch.cat([w.w_q.T, w.w_k.T, w.w_v.T]))
            mha.out_proj.weight.copy_(w.w_o.T)
            out, _ = mha(q[None], k[None], v[None], attn_mask=~keep, need_weights=False)
        return out[0]
    if ex.scoring == "additive":
        from dlcore.attention.scoring import additive_weights

        a = additive_weights(q.shape[1], k.shape[1], 4, 0)
        s = torch.tanh((q @ a.w_q.T)[:, None, :] + (k @ a.w_k.T)[None, :, :]) @ a.w_v  # (n, m)
        return torch.softmax(s.masked_fill(~keep, -math.inf), -1) @ v
    return F.scaled_dot_product_attention(q, k, v, attn_mask=keep, scale=None if ex.scoring == "scaled_dot" else 1.0)


@pytest.mark.parametrize("ex", CALC_EXAMPLES, ids=[e.label for e in CALC_EXAMPLES])
def test_every_calculator_example_equals_torch(ex) -> None:
    md, checks = calc.calculate(*calc._example(ex))
    ref = _reference(ex)
    got = _output(md)
    assert got.shape == ref.shape
    torch.testing.assert_close(got, ref, atol=6e-5, rtol=0)  # printed to 4 decimals
    assert "✔" in checks and "DIFFERS" not in checks, checks
    assert f"O {tuple(ref.shape)}" in md


def test_default_writes_out_the_notes_steps_with_the_numbers() -> None:
    md, _ = calc.calculate(*calc.DEFAULTS)
    # Q = I, K = [[1,0],[0,1],[1,1]]: row 0 scores (1, 0, 1), scaled by 1/√2, softmax, times V
    s = torch.tensor([1.0, 0.0, 1.0]) / math.sqrt(2)
    a = torch.softmax(s, 0)
    for text in ("S / \\sqrt{2}", "0.7071", f"{a[0]:.4f}", f"{a[1]:.4f}"):
        assert text in md, text
    assert [i for i, _ in enumerate(re.findall(r"\*\*\d+\. ", md))] == list(range(4))  # scores, scale, softmax, AV


def test_notes_cross_attention_shape_one_query_four_keys() -> None:
    """§8.4.6: a (1 × 6) decoder query against (4 × 6) encoder keys and values comes back (1 × 6)."""
    ex = next(e for e in CALC_EXAMPLES if "encoder" in e.label)
    md, _ = calc.calculate(*calc._example(ex))
    assert "Q (1, 6), K (4, 6), V (4, 6) → O (1, 6)" in md


def test_notes_bahdanau_example_scores_a_3_dim_state_against_4_dim_encoder_states() -> None:
    """§8.4.4: the decoder state after 'Je suis' (query) against h(I), h(am), h(happy) (keys = values)."""
    ex = next(e for e in CALC_EXAMPLES if "Je suis" in e.label)
    md, checks = calc.calculate(*calc._example(ex))
    assert "Q (1, 3), K (3, 4), V (3, 4) → O (1, 4)" in md and "Python floats" in checks


def test_calculator_live_edit_shows_the_message_in_place_and_no_figure() -> None:
    md, checks = live(calc.calculate, 2)("[[1, 2], [3]]", *calc.DEFAULTS[1:])
    assert md.startswith("⚠ Q is ragged") and checks is None
    assert calc.figure_quiet("[[1, 2], [3]]", *calc.DEFAULTS[1:]) is None
    assert calc.figure_quiet(*calc.DEFAULTS) is not None


def test_random_qkv_is_seeded_shaped_and_rounded() -> None:
    q, k, v = calc.randomize(2, 3, 4, 2, 0)
    assert (q, k, v) == calc.randomize(2, 3, 4, 2, 0) and q != calc.randomize(2, 3, 4, 2, 1)[0]
    shapes = [tuple(parse_tensor(t, "x", ndim=2).shape) for t in (q, k, v)]
    assert shapes == [(2, 4), (3, 4), (3, 2)]
    g = torch.Generator().manual_seed(0)
    torch.testing.assert_close(parse_tensor(q, "Q", ndim=2),
                               torch.randn(2, 4, generator=g, dtype=torch.float64).round(decimals=2))
    md, _ = calc.calculate(q, k, v, *calc.DEFAULTS[3:])  # the random boxes go straight into the calculator
    assert "O (2, 2)" in md


# ----------------------------------------------------------------------------- kernel regression


def test_pool_prints_the_nadaraya_watson_prediction_of_the_notes_formula() -> None:
    from dlcore.attention.pooling import nw_data

    for sigma in (1.0, 0.3):
        md, reg, wts, curves = tab.pool(sigma, "gaussian", 50, 0.5, 0)
        d = nw_data(50, 0.5, 0)
        x = 2.5  # query 25 of d2l's grid 0, 0.1, …
        alpha = torch.softmax(-((x - d.x_train.double()) ** 2) / (2 * sigma ** 2), 0)  # §8.4.1
        f = float(alpha @ d.y_train.double())
        assert f"**{f:.4f}**" in md, (f, md[:200])
        mse = float(((torch.softmax(-((d.x_test.double()[:, None] - d.x_train.double()[None]) ** 2) /
                                    (2 * sigma ** 2), 1) @ d.y_train.double() - d.y_truth.double()) ** 2).mean())
        assert f"| {mse:.4f} |" in md
        assert reg is not None and wts is not None and curves["visible"] is False  # no stale training curves


def test_the_example_labels_are_true() -> None:
    """'σ = 0.3: 8× lower error than σ = 1', 'very narrow σ = 0.05: follows the noise' (worse again)."""
    def mse(sigma: float) -> float:
        md = tab.pool(sigma, "gaussian", 50, 0.5, 0)[0]
        return float(re.search(rf"\| NW, gaussian σ = {sigma:g} \| ([\d.]+) \|", md).group(1))

    assert mse(1.0) / mse(0.3) >= 8 and mse(0.05) > 2 * mse(0.3)


def test_boxcar_without_a_point_in_reach_says_so() -> None:
    md, *_ = tab.pool(0.05, "boxcar", 5, 0.5, 0)
    assert "have no training point within σ" in md


def test_train_learns_w_as_the_library_does_and_beats_the_notes_width() -> None:
    from dlcore.attention.pooling import nw_data, train_parametric
    from dlcore.attention.views import training_settings

    md, reg, wts, curves = _last(tab.train(*tab.TRAIN_DEFAULT))
    run = _last(train_parametric(nw_data(50, 0.5, 0), training_settings(5, 0.5, 0)))
    assert f"**w = {run.w:.4f}**" in md and curves["visible"] is True and curves["value"] is not None
    assert run.frames[-1].loss < run.frames[0].loss
    assert tab.stop_train().startswith("Nothing is training")


# ----------------------------------------------------------------------------- positional encoding


def test_positional_numbers_equal_sin_cos_and_an_independent_rope() -> None:
    n, d, p, delta, base = 60, 32, 5, 3, 10000.0
    md, pe_fig, rot_fig, rope_fig = more.positional(n, d, p, delta, base, "interleaved")
    assert r"\omega_j = 1/10000^{2j/32}" in md
    w2 = 1 / base ** (4 / d)  # pair j = 2 at position p + δ = 8
    assert f"{math.sin(8 * w2):.4f}" in md and f"{math.cos(8 * w2):.4f}" in md
    assert re.search(r"\*\*\d\.\de-1[4-6]\*\*", md), "the shift residual is float64 rounding"
    # RoPE, as complex numbers: pair j of a vector at position m is multiplied by e^{i m ω_j}
    g = torch.Generator().manual_seed(0)
    q, k = torch.randn(d, generator=g, dtype=torch.float64), torch.randn(d, generator=g, dtype=torch.float64)
    om = base ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)
    qc, kc = torch.complex(q[0::2], q[1::2]), torch.complex(k[0::2], k[1::2])

    def score(m: int, j: int) -> float:
        return float((qc * torch.exp(1j * m * om) * (kc * torch.exp(1j * j * om)).conj()).real.sum())

    assert f"(0, 2): {score(0, 2):.6f}" in md and f"(3, 5): {score(3, 5):.6f}" in md
    assert all(f is not None for f in (pe_fig, rot_fig, rope_fig))


# ----------------------------------------------------------------------------- complexity


def test_complexity_sweep_table_paths_and_stop(monkeypatch) -> None:
    import dlcore.attention.complexity as cx

    monkeypatch.setattr(cx, "DEFAULT_LENGTHS", (4, 8))
    gen = more.complexity(8, 3)
    assert next(gen)[0].startswith("⏳ timing CNN at n = 4 (1/6)")
    assert more.stop_complexity().startswith("⏹ Stopping")
    md, fig = next(gen)
    assert md.startswith("⏹ stopped at RNN, n = 4 (1/6 timings kept)") and fig is not None
    assert list(gen) == []  # the run ends (and lets go of its Stop button) after the stopped frame
    assert more.stop_complexity().startswith("Nothing is being measured")

    md, fig = _last(more.complexity(8, 3))  # not kept after a stop: measured in full now
    assert "measured on this server at" in md
    assert "| 4 |" in md and "| 0.50 |" in md and "| 1.00 |" in md  # MACs 2n²d / 2nd² = n/d
    # causal CNN reaches k − 1 = 2 tokens back per layer: ⌈(n − 1)/2⌉ layers; RNN n − 1 steps; attention 1
    assert "n = 4: CNN 2, RNN 3, self-attention 1" in md and "n = 8: CNN 4, RNN 7, self-attention 1" in md
    assert _last(more.complexity(8, 3))[0] == md  # kept: the same answer, word for word
