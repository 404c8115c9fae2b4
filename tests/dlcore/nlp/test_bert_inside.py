"""Inside BERT on a tiny random BERT: tokens, segments, the embedding sum, attention maps."""

from __future__ import annotations

import pytest
import torch

from dlcore.nlp.bert_inside import attention_from, encode_pair, inside_bert
from tests.dlcore.nlp.tiny_bert import tiny_bert


@pytest.fixture(scope="module")
def bert():
    return tiny_bert(seed=1, layers=3, heads=4)


def test_pair_tokens_and_segments(bert):
    model, tok = bert
    r = inside_bert(model, tok, "the cats sat", "on the mat.")
    assert r.tokens == ["[CLS]", "the", "cat", "##s", "sat", "[SEP]", "on", "the", "mat", ".", "[SEP]"]
    assert r.segment_ids.tolist() == [0] * 6 + [1] * 5
    assert r.position_ids.tolist() == list(range(11))


def test_embedding_sum_equals_model_pre_layernorm(bert):
    model, tok = bert
    r = inside_bert(model, tok, "the dog ran home", "she was happy")
    emb = model.embeddings
    # the components really are rows of the model's own tables
    torch.testing.assert_close(r.token_emb, emb.word_embeddings.weight[r.input_ids])
    torch.testing.assert_close(r.segment_emb[-1], emb.token_type_embeddings.weight[1])
    torch.testing.assert_close(r.emb_sum, r.model_pre_ln, atol=1e-5, rtol=0)
    # and LayerNorm of that sum is what enters layer 1 (eval mode: dropout is the identity)
    torch.testing.assert_close(emb.LayerNorm(r.emb_sum), r.embeddings, atol=1e-5, rtol=1e-5)
    # the segment term matters: swapping segments changes the sum
    assert not torch.allclose(emb.token_type_embeddings.weight[0], emb.token_type_embeddings.weight[1])


def test_attention_shapes_rows_and_reference(bert):
    model, tok = bert
    r = inside_bert(model, tok, "the cat sat on the mat")
    L = len(r.tokens)
    assert r.attentions.shape == (3, 4, L, L)
    assert r.hidden_states.shape == (4, L, 32)
    torch.testing.assert_close(r.attentions.sum(-1), torch.ones(3, 4, L))
    enc = tok("the cat sat on the mat", return_tensors="pt")
    with torch.no_grad():
        ref = model(**enc, output_attentions=True).attentions
    torch.testing.assert_close(r.attentions[2, 1], ref[2][0, 1])
    row = attention_from(r, layer=3, head=2, token=4)
    torch.testing.assert_close(row, ref[2][0, 1, 4])
    torch.testing.assert_close(attention_from(r, 1, None, 0), ref[0][0].mean(0)[0])


@pytest.mark.parametrize("args, fragment", [
    ((0, 1, 0), "layer 0 is out of range"), ((4, 1, 0), "layers 1..3"),
    ((1, 5, 0), "heads 1..4"), ((1, 1, 99), "token index 99"),
])
def test_attention_from_rejects_bad_indices(bert, args, fragment):
    model, tok = bert
    r = inside_bert(model, tok, "the cat")
    with pytest.raises(ValueError, match=fragment.replace(".", r"\.")):
        attention_from(r, *args)


def test_bad_text(bert):
    _, tok = bert
    with pytest.raises(ValueError, match="sentence A is empty"):
        encode_pair(tok, "   ")
    with pytest.raises(ValueError, match="the limit is 8"):
        encode_pair(tok, "the cat sat on the mat and the dog ran home", max_tokens=8)
    with pytest.raises(ValueError, match="characters; the limit"):
        encode_pair(tok, "cat " * 400)


def test_concurrent_requests_capture_their_own_embeddings(bert):
    import threading

    model, tok = bert
    texts = ["the cat sat", "the dog ran to the big red home", "she was happy", "he loved the film"]
    results: dict[str, object] = {}

    def run(t: str) -> None:
        for _ in range(5):
            results[t] = inside_bert(model, tok, t)

    threads = [threading.Thread(target=run, args=(t,)) for t in texts]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for t in texts:
        r = results[t]
        torch.testing.assert_close(r.emb_sum, r.model_pre_ln, atol=1e-5, rtol=0)
