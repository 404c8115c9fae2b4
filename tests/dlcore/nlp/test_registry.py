"""dlcore.nlp.registry: an allow-list of names checked on the string, normalised keys, one bounded cache."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from dlcore.lazy import LazyCache
from dlcore.nlp import registry as R
from dlcore.nlp.tokens import readable_token, special_meaning
from tests.conftest import ROOT


@pytest.fixture
def local_tiny(tmp_path):
    d = tmp_path / "tiny_model"
    d.mkdir()
    R.register_local_model("tiny", d)
    yield d
    R.unregister_local_model("tiny")


def test_offered_names_and_aliases_resolve_to_one_key():
    assert R.resolve_causal("").key == R.resolve_causal(" SmolLM2 ").key == "smollm2"
    assert R.resolve_causal("HuggingFaceTB/SmolLM2-135M-Instruct").key == "smollm2"
    assert R.resolve_causal("GPT2").cache_key == R.resolve_causal("gpt2 ").cache_key == ("causal", "hub:gpt2")
    assert R.resolve_encoder("All-MiniLM-L6-v2").key == R.resolve_encoder("").key == "minilm"
    assert R.resolve_encoder("bert-base-uncased").cache_key != R.resolve_mlm("bert-base-uncased").cache_key
    assert R.resolve_fill(R.OFFLINE_FILL).role == "causal" and R.resolve_fill("bert-base-uncased").role == "mlm"
    ref = R.resolve_causal("gpt2")
    assert (ref.source, ref.location) == ("hub", "gpt2") and "Hugging Face Hub" in ref.label


@pytest.mark.parametrize("resolve", [R.resolve_causal, R.resolve_encoder, R.resolve_mlm])
def test_a_server_path_answers_exactly_like_any_invalid_name(resolve, tmp_path):
    """Whether a folder exists on the server never changes the answer (nothing is looked up on disk)."""
    real = [os.path.expanduser("~/.ssh"), str(tmp_path), "/etc", "/", "."]
    fake = ["/no/such/dir/x", str(tmp_path / "missing"), "/etz", "//", ".."]
    for r, f in zip(real, fake):
        with pytest.raises(ValueError) as a:
            resolve(r)
        with pytest.raises(ValueError) as b:
            resolve(f)
        ma, mb = str(a.value), str(b.value)
        assert ma.split(" ", 1)[0] == mb.split(" ", 1)[0] and ma.split(" is not one")[1] == mb.split(" is not one")[1]
        assert "not one of the offered models" in ma and "exist" not in ma


@pytest.mark.parametrize("junk", [["gpt2"], {"a": 1}, None, 3, 1.5, float("nan"), True, b"gpt2"])
def test_non_text_names(junk):
    with pytest.raises(ValueError, match="must be text"):
        R.resolve_causal(junk)
    with pytest.raises(ValueError, match="must be text"):
        R.resolve_encoder(junk)


@pytest.mark.parametrize("junk", ["x" * 100_000, "[" * 5000, "🙂" * 50, "a/b/c", "a b", "\x00", "<script>"])
def test_malformed_names_are_refused_briefly(junk):
    with pytest.raises(ValueError, match="not one of the offered models") as info:
        R.resolve_causal(junk)
    assert len(str(info.value)) < 400


def test_local_models_only_by_name(local_tiny, monkeypatch, tmp_path):
    ref = R.resolve_causal("TINY")
    assert (ref.source, ref.key, ref.location) == ("local", "local:tiny", str(local_tiny))
    assert str(local_tiny) not in ref.label  # the UI never shows a server path
    assert "tiny" in R.causal_choices() and "tiny" in R.encoder_choices()
    with pytest.raises(ValueError, match="not one of the offered models"):
        R.resolve_causal(str(local_tiny))  # the path of a registered model is still refused
    other = tmp_path / "other"
    other.mkdir()
    monkeypatch.setenv(R.ENV_LOCAL, f"other={other}, bad name=/x ,=/y")
    assert R.local_models()["other"] == other and set(R.local_models()) == {"tiny", "other"}
    assert R.resolve_encoder("other").location == str(other)


@pytest.mark.parametrize("name, fragment", [("smollm2", "not an offered name"), ("a/b", "letters"), ("", "letters")])
def test_register_refuses_bad_names(name, fragment, tmp_path):
    with pytest.raises(ValueError, match=fragment):
        R.register_local_model(name, tmp_path)
    with pytest.raises(ValueError, match="not a folder"):
        R.register_local_model("x", tmp_path / "missing")


def test_the_model_cache_pins_the_defaults_and_keeps_two_others():
    assert isinstance(R.MODELS, LazyCache) and R.MODELS.max_extra == 2
    assert {("causal", "smollm2"), ("encoder", "minilm")} == R.MODELS.pinned
    for k in [("causal", "smollm2"), ("causal", "hub:a"), ("encoder", "minilm"), ("causal", "hub:b"), ("mlm", "hub:c")]:
        R.MODELS.get(k, lambda: object())
    assert set(R.MODELS.keys()) == {("causal", "smollm2"), ("encoder", "minilm"), ("causal", "hub:b"), ("mlm", "hub:c")}


def test_availability_and_loading_note_never_touch_the_network(monkeypatch):
    from dlcore import hub

    monkeypatch.setattr(hub, "_probe", lambda *a: pytest.fail("no probe from a status line"))
    ref = R.resolve_causal("gpt2")
    assert "Not on this machine yet" in R.availability(ref) and "Loading gpt2" in R.loading_note(ref)
    R.MODELS.put(ref.cache_key, object())
    assert R.availability(ref) == "Loaded." and R.loading_note(ref) == ""


def test_registry_modules_import_no_torch():
    code = ("import sys; import dlcore.nlp.registry, dlcore.hub, dlcore.nlp.tables, dlcore.nlp.tokens, "
            "dlcore.nlp.examples, dlcore.nlp.prompts; "
            "bad = [m for m in ('torch', 'transformers', 'huggingface_hub') if m in sys.modules]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("tok, shown", [(" the", "␣the"), ("\n", "⏎"), ("", "∅"),
                                        ("<|im_end|>", "<|im_end|> (end of turn)"),
                                        ("[unused411]", "[unused411] (an unused vocabulary slot, never seen in "
                                                        "training)"),
                                        ("<|endoftext|>", "<|endoftext|> (end of text)"), ("[CLS]", "[CLS]"),
                                        ("##ing", "##ing")])
def test_readable_tokens(tok, shown):
    assert readable_token(tok) == shown
    assert (special_meaning(tok.strip()) is None) == (shown == tok.replace(" ", "␣").replace("\n", "⏎") or tok == "")
