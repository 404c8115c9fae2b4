"""The char-level model and the tiny seq2seq: they learn, sample reproducibly, and say what is wrong."""

from __future__ import annotations

import math
import threading

import pytest
import torch

from dlcore.sequence.charlm import Stepper, char_data, next_char_table, perplexity, sample_text, train_char
from dlcore.sequence.models import CharModel
from dlcore.sequence.names import CharConfig, Seq2SeqConfig
from dlcore.sequence.seq2seq import EOS, PAD, Seq2Seq, decode_tokens, digit_strings, evaluate_seq2seq, train_seq2seq
from tests.streams import last as _last


@pytest.fixture(scope="module")
def char_run():
    return _last(train_char(CharConfig(steps=120, sample_every=40, max_chars=40_000)))


def test_char_model_learns_beyond_the_unigram_baseline(char_run):
    p = char_run
    assert p.status == "finished" and p.step == 120 and p.message == "finished 120 steps"
    first, last = p.val_ppl[0][1], p.val_ppl[-1][1]
    assert first == pytest.approx(len(p.data.vocab), rel=0.3)      # untrained: about a uniform guess over V
    assert last < p.data.unigram_ppl < first                      # beats character frequencies alone
    assert [s for s, _ in p.samples] == [0, 40, 80, 120]           # sampled as it trains
    assert all(len(text) == 160 for _, text in p.samples)
    assert p.step_loss[-1] < p.step_loss[0]


@pytest.mark.parametrize("cell, layers", [("lstm", 1), ("gru", 2), ("rnn", 1)])
def test_the_stepper_equals_the_model(cell, layers):
    torch.manual_seed(0)
    m = CharModel(20, cell, 16, layers, 8).eval()
    ids = torch.randint(0, 20, (12,))
    step = Stepper(m)
    with torch.no_grad():
        ref = m(ids.view(1, -1))[0]
        for t, c in enumerate(ids.tolist()):
            torch.testing.assert_close(step(c), ref[t], atol=1e-5, rtol=1e-5)


def test_sampling_is_reproducible_and_temperature_sharpens(char_run):
    m, vocab = char_run.model, char_run.data.vocab
    a = sample_text(m, vocab, "HAMLET.", 80, 0.8, seed=3)
    assert a == sample_text(m, vocab, "HAMLET.", 80, 0.8, seed=3) and len(a) == 80
    assert a != sample_text(m, vocab, "HAMLET.", 80, 0.8, seed=4)
    chars, probs = next_char_table(m, vocab, "the kin", (0.5, 1.0, 2.0))
    assert len(chars) == 8 and probs.shape == (3, 8)
    assert probs[0, 0] > probs[1, 0] > probs[2, 0]                # low T: the top choice takes more mass
    with torch.no_grad():
        full = torch.softmax(m(vocab.encode("the kin").view(1, -1))[0, -1], -1)
    assert float(probs[1, 0]) == pytest.approx(float(full.max()), abs=1e-6)


def test_char_inputs_are_checked(char_run):
    m, vocab = char_run.model, char_run.data.vocab
    with pytest.raises(ValueError, match="do not occur in the training text"):
        sample_text(m, vocab, "ÆØ", 5)
    with pytest.raises(ValueError, match="prime is empty"):
        sample_text(m, vocab, "", 5)
    with pytest.raises(ValueError, match="temperature"):
        sample_text(m, vocab, "a", 5, temperature=0)
    with pytest.raises(ValueError, match="steps"):
        CharConfig(steps=0).validate()
    with pytest.raises(ValueError, match="prime has 201 characters"):
        CharConfig(prime="a" * 201).validate()
    with pytest.raises(ValueError):
        char_data("no such play")
    assert math.isfinite(perplexity(m, char_run.data.val))


def test_a_stop_ends_char_training_with_a_last_sample():
    stop = threading.Event()
    it = train_char(CharConfig(steps=500, max_chars=20_000), stop_event=stop)
    for p in it:
        if p.step == 5:
            stop.set()
    assert p.status == "stopped" and p.step < 500 and p.samples[-1][0] == p.step


def test_digit_strings_reverse_and_sort():
    for task, f in (("reverse", lambda s: s[::-1]), ("sort", sorted)):
        src, tgt = digit_strings(task, 50, 3, 7, seed=1)
        for s, t in zip(src, tgt):
            digits = [int(v) for v in s if v != PAD]
            assert 3 <= len(digits) <= 7
            assert decode_tokens(t) == "".join(str(d) for d in f(digits))
            assert EOS in t.tolist()


@pytest.mark.parametrize("attention", ["none", "dot", "general", "concat"])
def test_seq2seq_shapes_and_attention_rows_sum_to_one(attention):
    torch.manual_seed(0)
    m = Seq2Seq(attention, 12, 6)
    src, tgt = digit_strings("reverse", 5, 2, 6, seed=0)
    logits, attn = m(src, tgt, teacher_forcing=0.0, return_attention=True)
    assert logits.shape == (*tgt.shape, 13)
    if attention == "none":
        assert attn is None
    else:
        assert attn.shape == (*tgt.shape, src.shape[1])
        torch.testing.assert_close(attn.sum(-1), torch.ones(tgt.shape))
        pad = src.unsqueeze(1).expand_as(attn) == PAD
        assert pad.any() and float(attn.detach()[pad].abs().max()) == 0.0  # padding gets weight 0


def test_attention_learns_to_reverse_and_free_running_is_worse():
    p = _last(train_seq2seq(Seq2SeqConfig(epochs=2)))
    assert p.status == "finished" and p.final is not None
    assert p.final.fr_exact > 0.8                                 # 2 epochs of 4,096 strings
    assert p.final.fr_error >= p.final.tf_error                    # exposure bias: its own guesses hurt
    assert p.curve[0][1] > p.curve[-1][1]
    inp, out, w = p.attention_map(0)
    assert w.shape == (len(out), len(inp))
    rows = p.examples(4)
    assert len(rows) == 4 and all(r[3] == (r[1] == r[2]) for r in rows)


def test_seq2seq_settings_are_checked():
    with pytest.raises(ValueError, match="shortest string 9 is longer than the longest 4"):
        Seq2SeqConfig(min_len=9, max_len=4).validate()
    with pytest.raises(ValueError, match="teacher forcing ratio"):
        Seq2SeqConfig(teacher_forcing=1.5).validate()
    with pytest.raises(ValueError, match="exceed 20000 optimizer steps"):
        Seq2SeqConfig(epochs=100, n_train=50_000, batch_size=1).validate()
    with pytest.raises(ValueError, match="attention 'bahdanau'"):
        Seq2SeqConfig(attention="bahdanau").validate()  # type: ignore[arg-type]
    m = Seq2Seq("none", 8, 4)
    e = evaluate_seq2seq(m, *digit_strings("sort", 8, 2, 3, seed=0))
    assert 0 <= e.tf_error <= 1 and e.exposure_gap == pytest.approx(e.fr_error - e.tf_error)
