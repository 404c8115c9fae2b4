"""Sinusoidal PE, the shift-is-a-rotation property, RoPE (against Hugging Face's), and the sweep."""

from __future__ import annotations

import math

import pytest
import torch

import threading

from dlcore.attention.complexity import counted_macs, measure_complexity, path_length, sweep_steps
from dlcore.attention.names import COMPLEXITY_TABLE, LAYER_KINDS, PAIRINGS
from dlcore.attention.positional import (frequencies, rope, rope_scores, shift_blocks, shift_matrix, shift_proof,
                                         sinusoidal_encoding)


def test_table_is_the_notes_formula_and_d2l_code():
    p = sinusoidal_encoding(7, 6)
    for i in range(7):
        for j in range(3):
            assert p[i, 2 * j].item() == pytest.approx(math.sin(i / 10000 ** (2 * j / 6)), abs=1e-15)
            assert p[i, 2 * j + 1].item() == pytest.approx(math.cos(i / 10000 ** (2 * j / 6)), abs=1e-15)
    # d2l's PositionalEncoding: X = i / 10000^(arange(0, d, 2)/d); P[:, 0::2] = sin X, P[:, 1::2] = cos X
    x = torch.arange(50, dtype=torch.float32).reshape(-1, 1) / torch.pow(10000, torch.arange(0, 32, 2,
                                                                                          dtype=torch.float32) / 32)
    ref = torch.zeros(50, 32)
    ref[:, 0::2], ref[:, 1::2] = torch.sin(x), torch.cos(x)
    torch.testing.assert_close(sinusoidal_encoding(50, 32, dtype=torch.float32), ref)


@pytest.mark.parametrize("d", [2, 8, 32, 128])
@pytest.mark.parametrize("delta", [0, 1, 3, 17])
def test_pe_of_p_plus_delta_is_a_fixed_rotation_of_pe_of_p(d, delta):
    proof = shift_proof(40, d, position=5, delta=delta)
    assert proof.residual < 1e-12                    # the same M_δ works for every position
    torch.testing.assert_close(proof.mapped, proof.pe_shifted, atol=1e-12, rtol=0)
    m = proof.matrix
    torch.testing.assert_close(m @ m.T, torch.eye(d, dtype=torch.float64), atol=1e-12, rtol=0)  # a rotation
    b = proof.blocks[0]
    a = delta * 1.0  # ω_0 = 1
    torch.testing.assert_close(b, torch.tensor([[math.cos(a), math.sin(a)], [-math.sin(a), math.cos(a)]],
                                               dtype=torch.float64))
    assert proof.fit_error < 1e-6                    # each block is recovered from the table alone


def test_rotation_composes_and_a_wrong_map_fails():
    torch.testing.assert_close(shift_matrix(2, 8) @ shift_matrix(3, 8), shift_matrix(5, 8), atol=1e-12, rtol=0)
    pe = sinusoidal_encoding(20, 8)
    wrong = shift_matrix(1, 8)  # the map for δ = 1 does not take PE(i) to PE(i + 2)
    assert float((pe[2:] - pe[:-2] @ wrong.T).abs().max()) > 0.1
    assert shift_blocks(0, 8).allclose(torch.eye(2, dtype=torch.float64).expand(4, 2, 2))


@pytest.mark.parametrize("kw,fragment", [({"n": 0, "d": 8}, "positions 0"), ({"n": 8, "d": 7}, "must be even"),
                                         ({"n": 8, "d": 1024}, "between 2 and 512"), ({"n": 600, "d": 8}, "positions 600")])
def test_bad_table_sizes(kw, fragment):
    with pytest.raises(ValueError, match=fragment):
        sinusoidal_encoding(**kw)
    with pytest.raises(ValueError, match="position p = 9"):
        shift_proof(9, 8, 9, 1)
    with pytest.raises(ValueError, match="base 1"):
        frequencies(8, base=1)


def test_rope_half_equals_hugging_face_llama():
    llama = pytest.importorskip("transformers.models.llama.modeling_llama")
    g = torch.Generator().manual_seed(0)
    q, k = torch.randn(2, 3, 7, 16, generator=g, dtype=torch.float64), torch.randn(2, 3, 7, 16, generator=g,
                                                                                   dtype=torch.float64)
    pos = torch.arange(7)
    ang = pos[:, None].double() * frequencies(16)[None]
    emb = torch.cat([ang, ang], -1)
    ref_q, ref_k = llama.apply_rotary_pos_emb(q, k, emb.cos()[None], emb.sin()[None])
    torch.testing.assert_close(rope(q, pos, pairing="half"), ref_q, atol=1e-12, rtol=0)
    torch.testing.assert_close(rope(k, pos, pairing="half"), ref_k, atol=1e-12, rtol=0)


def test_rope_interleaved_is_multiplication_by_e_to_the_i_m_theta():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(5, 8, generator=g, dtype=torch.float64)
    pos = torch.arange(5)
    z = torch.view_as_complex(x.reshape(5, 4, 2).contiguous())
    rot = z * torch.polar(torch.ones(5, 4, dtype=torch.float64), pos[:, None].double() * frequencies(8)[None])
    torch.testing.assert_close(rope(x, pos), torch.view_as_real(rot).reshape(5, 8), atol=1e-12, rtol=0)


@pytest.mark.parametrize("pairing", PAIRINGS)
def test_rope_scores_depend_on_the_offset_only_and_added_pe_does_not(pairing):
    g = torch.Generator().manual_seed(2)
    q, k = torch.randn(16, generator=g, dtype=torch.float64), torch.randn(16, generator=g, dtype=torch.float64)
    r = rope_scores(q, k, 12, pairing=pairing)
    assert r.spread < 1e-12 and r.absolute_spread > 0.1
    assert r.scores[3, 5].item() == pytest.approx(r.scores[0, 2].item(), abs=1e-12)
    assert r.by_offset[r.offsets.tolist().index(0)].item() == pytest.approx(float(q @ k), abs=1e-12)  # R_0 = I


def test_notes_table_and_counted_work():
    assert [row.layer for row in COMPLEXITY_TABLE] == list(LAYER_KINDS)
    assert [row.path for row in COMPLEXITY_TABLE] == ["O(n/k)", "O(n)", "O(1)"]
    assert counted_macs("CNN", 10, 4, 3) == 3 * 10 * 16
    assert counted_macs("self-attention", 64, 64) == counted_macs("RNN", 64, 64)  # n²d = nd² at n = d
    assert counted_macs("self-attention", 32, 64) < counted_macs("RNN", 32, 64)
    with pytest.raises(ValueError, match="layer 'MLP' is unknown"):
        counted_macs("MLP", 4, 4)


@pytest.mark.parametrize("n", [2, 5, 9, 16])
@pytest.mark.parametrize("k", [3, 5])
def test_measured_path_lengths_follow_the_table(n, k):
    assert path_length("CNN", n, k=k) == math.ceil((n - 1) / (k - 1))
    assert path_length("self-attention", n) == 1
    assert path_length("RNN", n) == n - 1


def test_small_sweep_structure_cache_and_validation():
    s = measure_complexity((8, 16), d=8)
    assert s.lengths == [8, 16] and set(s.times) == set(LAYER_KINDS)
    assert all(len(v) == 2 and all(t > 0 for t in v) for v in s.times.values())
    assert s.paths["RNN"] == [1, 3, 7, 15] and s.crossover == 8
    assert measure_complexity((16, 8), d=8) is s  # cached per process (sorted lengths)
    with pytest.raises(ValueError, match="lengths"):
        measure_complexity((1,))
    with pytest.raises(ValueError, match="kernel size k = 4"):
        measure_complexity((8,), k=4)


def test_sweep_streams_progress_and_a_stopped_sweep_is_not_cached():
    stop = threading.Event()
    seen = []
    for kind, n, sweep in sweep_steps((4, 6), d=4, stop_event=stop):
        seen.append((kind, n))
        if len(seen) == 2:
            stop.set()
    assert seen[:2] == [("CNN", 4), ("RNN", 4)] and sweep.stopped and len(sweep.times["CNN"]) == 1
    items = list(sweep_steps((4, 6), d=4))
    assert items[-1][0] == "done" and not items[-1][2].stopped  # measured again, not the stopped one
    assert [k for k, _, _ in sweep_steps((4, 6), d=4)] == ["cached"]
