"""Fine-tune (linear head on a frozen encoder) vs in-context learning, on tiny models."""

from __future__ import annotations

import pytest
import torch

from dlcore.nlp.fill_mask import sentence_logprobs
from dlcore.nlp.finetune import (Example, ProbeConfig, _k_per_class, compare, icl_classify, icl_prompt,
                                 parse_labelled, sentence_vectors, train_linear_head)
from tests.dlcore.nlp.tiny_bert import tiny_bert
from tests.dlcore.nlp.tiny_causal import tiny_llama

TRAIN = """# sentiment
positive: the movie was great
negative: the film was awful
positive: she loved it
negative: he hated the movie
"""


def test_parse_labelled():
    ex = parse_labelled(TRAIN)
    assert ex[0] == Example("the movie was great", "positive") and len(ex) == 4
    assert parse_labelled("Pos: a: b")[0] == Example("a: b", "pos")


@pytest.mark.parametrize("text, fragment", [
    ("", "empty"), ("no label here", "no 'label:' prefix"), ("two words: hi", "one word"),
    ("positive:   ", "is empty"), ("pos: " + "x" * 400, "the limit is 300"), ("a: b\n" * 50, "more than 40"),
])
def test_parse_labelled_rejects(text, fragment):
    with pytest.raises(ValueError, match=fragment):
        parse_labelled(text)


def test_sentence_vectors_cls_and_mean():
    model, tok = tiny_bert(seed=0)
    texts = ["the cat sat", "the dog ran to the big red home"]
    cls = sentence_vectors(model, tok, texts, "cls")
    mean = sentence_vectors(model, tok, texts, "mean")
    with torch.no_grad():  # reference: each sentence alone, no padding
        for i, t in enumerate(texts):
            h = model(**tok(t, return_tensors="pt")).last_hidden_state[0]
            torch.testing.assert_close(cls[i], h[0], atol=1e-5, rtol=1e-5)
            torch.testing.assert_close(mean[i], h.mean(0), atol=1e-5, rtol=1e-5)


def test_linear_head_fits_separable_features_and_is_seeded():
    g = torch.Generator().manual_seed(0)
    x = torch.cat([torch.randn(10, 8, generator=g) + 2, torch.randn(10, 8, generator=g) - 2])
    y = torch.tensor([0] * 10 + [1] * 10)
    seen = []
    head, losses = train_linear_head(x, y, 2, ProbeConfig(epochs=60, lr=0.05), callback=lambda e, l: seen.append(e))
    assert seen == list(range(1, 61)) and losses[-1] < 0.1 * losses[0]
    assert (head(x).argmax(1) == y).all()
    _, again = train_linear_head(x, y, 2, ProbeConfig(epochs=60, lr=0.05))
    assert again == losses
    with pytest.raises(ValueError, match="epochs 0"):
        train_linear_head(x, y, 2, ProbeConfig(epochs=0))


def test_k_shot_selection_and_prompt():
    ex = parse_labelled(TRAIN)
    assert _k_per_class(ex, 0, ["negative", "positive"]) == []
    one = _k_per_class(ex, 1, ["negative", "positive"])
    assert [e.label for e in one] == ["negative", "positive"]
    assert len(_k_per_class(ex, None, ["negative", "positive"])) == 4
    p = icl_prompt(one, ["negative", "positive"], "it was great")
    assert p.startswith("Classify each sentence as one of: negative, positive.")
    assert p.endswith("Sentence: it was great\nLabel:") and p.count("Label:") == 3


def test_icl_picks_the_label_with_the_highest_logprob():
    lm, tok = tiny_llama(seed=1)
    ex = parse_labelled(TRAIN)
    labels = ["negative", "positive"]
    r = icl_classify(lm, tok, ex, ["the film was great", "he hated it"], labels, k=1)
    for q, pred, row in zip(["the film was great", "he hated it"], r.predictions, r.logprobs):
        prompt = icl_prompt(_k_per_class(ex, 1, labels), labels, q)
        full = sentence_logprobs(lm, tok, [f"{prompt} {lab}" for lab in labels])
        assert pred == labels[int(full.argmax())]
        torch.testing.assert_close(row[1] - row[0], full[1] - full[0], atol=1e-4, rtol=0)


def test_compare_runs_both_halves_and_checks_labels():
    enc, etok = tiny_bert(seed=0)
    lm, ltok = tiny_llama(seed=0)
    train = parse_labelled(TRAIN)
    test = parse_labelled("positive: the movie was great\nnegative: the film was awful")
    c = compare(enc, etok, lm, ltok, train, test, ProbeConfig(epochs=200, lr=0.05))
    assert list(c.accuracies) == ["head on [CLS]", "zero-shot", "one-shot", "few-shot"]
    assert c.accuracies["head on [CLS]"] == 1.0  # the test sentences are training sentences
    assert all(0 <= a <= 1 for a in c.accuracies.values()) and len(c.losses) == 200
    with pytest.raises(ValueError, match="at least two labels"):
        compare(enc, etok, None, None, train[:1], test)
    with pytest.raises(ValueError, match="'neutral'"):
        compare(enc, etok, None, None, train, parse_labelled("neutral: ok"))
