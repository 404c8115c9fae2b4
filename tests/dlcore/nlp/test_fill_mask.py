"""Fill the blank (MLM head and causal rescoring) and the 80/10/10 masking rule."""

from __future__ import annotations

import pytest
import torch

from dlcore.nlp.fill_mask import (KEEP, NOT_CHOSEN, TO_MASK, TO_RANDOM, apply_80_10_10, fill_mask_causal,
                                  fill_mask_mlm, mask_sentence, sentence_logprobs, split_mask)
from tests.dlcore.nlp.tiny_bert import tiny_bert
from tests.dlcore.nlp.tiny_causal import tiny_llama


@pytest.mark.parametrize("text, fragment", [
    ("", "empty"), ("   ", "empty"), ("the cat sat", "no \\[MASK\\]"),
    ("[MASK] sat on the [MASK]", "2 \\[MASK\\]s"), ("the [MASK] " + "x" * 500, "the limit is 400"),
])
def test_split_mask_rejects_bad_sentences(text, fragment):
    with pytest.raises(ValueError, match=fragment):
        split_mask(text)


def test_split_mask_is_case_insensitive():
    assert split_mask("The cat sat on the [mask].") == ("The cat sat on the ", ".")


def test_mlm_head_matches_the_transformers_pipeline():
    from transformers import pipeline

    model, tok = tiny_bert(seed=2, mlm=True)
    got = fill_mask_mlm(model, tok, "the cat sat on the [MASK] .", top_k=5)
    ref = pipeline("fill-mask", model=model, tokenizer=tok, top_k=5, device="cpu")("the cat sat on the [MASK] .")
    assert [c.word for c in got.candidates] == [r["token_str"].replace(" ", "") for r in ref]
    torch.testing.assert_close(torch.tensor([c.prob for c in got.candidates]),
                               torch.tensor([r["score"] for r in ref]), atol=1e-6, rtol=1e-5)
    assert got.n_scored == len(tok) and "masked-LM head" in got.method


def test_sentence_logprobs_equal_token_by_token_sums():
    model, tok = tiny_llama(seed=4)
    texts = ["the cat sat on the mat", "the dog ran", "she loved the big red movie"]
    got = sentence_logprobs(model, tok, texts)
    start = tok.convert_tokens_to_ids("<|endoftext|>")
    for t, g in zip(texts, got):
        ids = [start] + tok(t, add_special_tokens=False)["input_ids"]
        with torch.no_grad():
            lp = model(input_ids=torch.tensor([ids])).logits[0].log_softmax(-1)
        ref = sum(float(lp[i - 1, ids[i]]) for i in range(1, len(ids)))
        assert abs(float(g) - ref) < 1e-4
    # given the shared prefix "the cat sat on the", the conditional log-probs differ by the same amount
    pair = ["the cat sat on the mat", "the cat sat on the dog"]
    full = sentence_logprobs(model, tok, pair)
    cond = sentence_logprobs(model, tok, pair, given_common_prefix=True)
    torch.testing.assert_close(full[0] - full[1], cond[0] - cond[1], atol=1e-4, rtol=0)
    assert (cond > full).all()  # the prefix term (negative) is left out


def test_causal_fill_ranks_by_sentence_likelihood():
    model, tok = tiny_llama(seed=5)
    r = fill_mask_causal(model, tok, "the cat sat on the [MASK] .", top_k=50, n_propose=8)
    probs = [c.prob for c in r.candidates]
    assert probs == sorted(probs, reverse=True) and abs(sum(probs) - 1) < 1e-5  # top_k >= n_scored here
    assert len(r.candidates) == r.n_scored and "not BERT" in r.method
    full = sentence_logprobs(model, tok, [f"the cat sat on the {c.word} ." for c in r.candidates])
    best = full.argmax()
    assert r.candidates[int(best)].word == r.candidates[0].word
    torch.testing.assert_close(full - full[0], torch.tensor([c.logscore for c in r.candidates])
                               - r.candidates[0].logscore, atol=1e-4, rtol=0)
    assert r.filled == f"the cat sat on the {r.candidates[0].word} ."


def test_80_10_10_statistics_and_invariants():
    g = torch.Generator().manual_seed(0)
    n = 200_000
    ids = torch.randint(5, 1000, (n,), generator=g)
    special = torch.zeros(n, dtype=torch.bool)
    special[::50] = True
    corrupted, labels, action = apply_80_10_10(ids, special, mask_id=4, vocab_size=1000,
                                               generator=torch.Generator().manual_seed(1))
    chosen = action != NOT_CHOSEN
    assert not chosen[special].any()
    frac = chosen.sum().item() / (~special).sum().item()
    assert abs(frac - 0.15) < 0.005
    k = chosen.sum().item()
    for code, expect in [(TO_MASK, 0.8), (TO_RANDOM, 0.1), (KEEP, 0.1)]:
        assert abs((action == code).sum().item() / k - expect) < 0.01
    assert (labels[chosen] == ids[chosen]).all() and (labels[~chosen] == -100).all()
    assert (corrupted[action == TO_MASK] == 4).all()
    assert (corrupted[(action == KEEP) | ~chosen] == ids[(action == KEEP) | ~chosen]).all()
    # a random replacement is uniform over the vocabulary, so it rarely equals the original
    assert (corrupted[action == TO_RANDOM] != ids[action == TO_RANDOM]).float().mean() > 0.99


def test_80_10_10_matches_the_transformers_collator():
    from transformers import DataCollatorForLanguageModeling

    _, tok = tiny_bert()
    ids = torch.randint(5, len(tok), (4, 64), generator=torch.Generator().manual_seed(3))
    special = torch.zeros_like(ids, dtype=torch.bool)
    special[:, 0] = special[:, -1] = True
    coll = DataCollatorForLanguageModeling(tok, mlm_probability=0.15, seed=7)
    if getattr(coll, "generator", None) is None:
        coll.generator = torch.Generator().manual_seed(7)
    ref_in, ref_labels = coll.torch_mask_tokens(ids.clone(), special_tokens_mask=special.long())
    got_in, got_labels, _ = apply_80_10_10(ids, special, mask_id=tok.mask_token_id, vocab_size=len(tok),
                                           generator=torch.Generator().manual_seed(7))
    torch.testing.assert_close(got_in, ref_in)
    torch.testing.assert_close(got_labels, ref_labels)


def test_mask_sentence_is_seeded_and_labelled():
    _, tok = tiny_bert()
    a = mask_sentence(tok, "the cat sat on the mat and the dog ran home", mask_prob=0.5, seed=3)
    b = mask_sentence(tok, "the cat sat on the mat and the dog ran home", mask_prob=0.5, seed=3)
    assert a == b and a.tokens[0] == "[CLS]" and a.actions[0] == "-" and a.actions[-1] == "-"
    assert a.n_chosen > 0
    for t, c, act, lab in zip(a.tokens, a.corrupted, a.actions, a.labels):
        assert (lab == t) if act != "-" else (lab == "" and c == t)
        if act == "[MASK]":
            assert c == "[MASK]"
    with pytest.raises(ValueError, match="between 0 and 1"):
        mask_sentence(tok, "the cat", mask_prob=1.5)
    with pytest.raises(ValueError, match="empty"):
        mask_sentence(tok, " ")
