"""Model zoo: shipped checkpoints verify, manifest accuracy is real, corrupt files get rebuilt."""

from __future__ import annotations

import dataclasses
import json
import pickle
import shutil
from pathlib import Path

import pytest
import torch

from dlcore import zoo
from dlcore.data import load_digits
from dlcore.zoo import RECIPES, Zoo, evaluate_accuracy
from dlcore.zoo import store as store_mod
from dlcore.zoo.__main__ import main as zoo_cli

DIGITS = ("digits_cnn", "digits_mlp")


def make_tmp_zoo(tmp_path: Path, names=DIGITS, recipes=None) -> Zoo:
    """A private zoo holding copies of the shipped digits checkpoints and their entries."""
    root = tmp_path / "zoo"
    root.mkdir()
    manifest = json.loads((zoo.ZOO_DIR / "manifest.json").read_text())
    models = {n: manifest["models"][n] for n in names}
    for entry in models.values():
        shutil.copy(zoo.ZOO_DIR / entry["file"], root / entry["file"])
    (root / "manifest.json").write_text(json.dumps({"format": 1, "models": models}))
    return Zoo(root, recipes or {n: RECIPES[n] for n in names}, cache_dir=tmp_path / "cache")


def test_every_recipe_is_shipped_and_verifies() -> None:
    statuses = {s.name: s for s in zoo.status()}
    assert set(statuses) == set(RECIPES)
    bad = {n: s.problem for n, s in statuses.items() if not s.ok}
    assert not bad


def test_manifest_records_the_code_recipe_and_metadata() -> None:
    total = 0
    for name, recipe in RECIPES.items():
        entry = zoo.info(name)
        assert entry["recipe"] == json.loads(json.dumps(recipe.to_json()))
        assert entry["sha256"] == store_mod.sha256_file(zoo.ZOO_DIR / entry["file"])
        assert entry["bytes"] == (zoo.ZOO_DIR / entry["file"]).stat().st_size
        assert entry["data"] == recipe.data and entry["arch"] == recipe.arch
        total += entry["bytes"]
    assert total <= 30e6  # the budget for committed weights


def test_accuracy_bars_in_manifest() -> None:
    assert zoo.info("fmnist_cnn")["test_accuracy"] >= 0.90
    assert zoo.info("fmnist_lenet300")["test_accuracy"] >= 0.88
    assert zoo.info("fmnist_cnn")["data_source"] in ("debian", "torchvision")
    for n in DIGITS:
        assert zoo.info(n)["test_accuracy"] >= 0.95


@pytest.mark.parametrize("name", DIGITS)
def test_digits_accuracy_is_remeasured_on_the_test_split(name: str) -> None:
    split = load_digits()
    model = zoo.get(name)
    acc = evaluate_accuracy(model, split.x_test, split.y_test)
    entry = zoo.info(name)
    assert entry["n_test"] == len(split.x_test)
    assert acc == pytest.approx(entry["test_accuracy"], abs=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize("name, bar", [("fmnist_cnn", 0.90), ("fmnist_lenet300", 0.88)])
def test_fashion_accuracy_is_remeasured(name: str, bar: float) -> None:
    try:
        split = zoo.load_data(name)
    except zoo.ZooDataUnavailable:
        pytest.skip("Fashion-MNIST not available on this machine")
    acc = evaluate_accuracy(zoo.get(name), split.x_test, split.y_test)
    assert acc == pytest.approx(zoo.info(name)["test_accuracy"], abs=1e-6)
    assert acc >= bar


def test_get_returns_cached_eval_model_and_fresh_copies() -> None:
    m = zoo.get("digits_mlp")
    assert m is zoo.get("digits_mlp") and not m.training
    f = zoo.get("digits_mlp", fresh=True)
    assert f is not m
    torch.testing.assert_close(f.fc1.weight, m.fc1.weight)
    assert not any(p.requires_grad for p in m.parameters())  # shared copy is frozen
    assert all(p.requires_grad for p in f.parameters())
    x = torch.rand(2, 1, 8, 8, requires_grad=True)
    out = m(x)
    assert out.shape == (2, 10)
    out[:, 3].sum().backward()  # input gradients (saliency, attacks) still flow
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_checkpoints_are_plain_state_dicts_loadable_with_weights_only() -> None:
    for name in RECIPES:
        state = torch.load(zoo.ZOO_DIR / zoo.info(name)["file"], weights_only=True)
        assert all(isinstance(v, torch.Tensor) for v in state.values())


class _Evil:
    def __reduce__(self):
        return (print, ("pwned",))


def test_zoo_refuses_pickled_code_even_with_a_matching_checksum(tmp_path: Path) -> None:
    z = make_tmp_zoo(tmp_path, ("digits_mlp",))
    path = z.root / "digits_mlp.pt"
    torch.save({"x": _Evil()}, path)
    manifest = json.loads((z.root / "manifest.json").read_text())
    manifest["models"]["digits_mlp"]["sha256"] = store_mod.sha256_file(path)
    (z.root / "manifest.json").write_text(json.dumps(manifest))
    assert z.verify("digits_mlp").ok
    with pytest.raises(pickle.UnpicklingError):
        z.get("digits_mlp", progress=False)


def test_corrupt_file_is_detected_and_rebuilt(tmp_path: Path) -> None:
    z = make_tmp_zoo(tmp_path, ("digits_mlp",))
    path = z.root / "digits_mlp.pt"
    blob = bytearray(path.read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    path.write_bytes(bytes(blob))
    st = z.verify("digits_mlp")
    assert not st.ok and st.problem == "checksum mismatch"
    model = z.get("digits_mlp", progress=False)  # rebuilt from the recipe, no crash
    assert z.verify("digits_mlp").ok
    entry = z.info("digits_mlp")
    shipped = zoo.info("digits_mlp")
    # deterministic recipe: on the machine that built it, the rebuild is byte-identical
    assert entry["version"] == shipped["version"] + (entry["sha256"] != shipped["sha256"])
    split = load_digits()
    acc = evaluate_accuracy(model, split.x_test, split.y_test)
    assert acc == pytest.approx(entry["test_accuracy"], abs=1e-6) and acc >= 0.95
    assert not list(z.root.glob("*.tmp"))  # atomic write left no temporary file


def _quick(name: str) -> dict:
    return {name: dataclasses.replace(RECIPES[name], epochs=2)}


def test_missing_file_is_rebuilt_deterministically(tmp_path: Path) -> None:
    z = make_tmp_zoo(tmp_path, ("digits_cnn",), recipes=_quick("digits_cnn"))
    (z.root / "digits_cnn.pt").unlink()
    assert z.verify("digits_cnn").problem == "file missing"
    with pytest.raises(FileNotFoundError, match="file missing"):
        z.load_state("digits_cnn", rebuild=False)
    a = z.load_state("digits_cnn", progress=False)
    sha_a = z.info("digits_cnn")["sha256"]
    z.build("digits_cnn", progress=False)
    b = z.load_state("digits_cnn", rebuild=False)
    assert z.info("digits_cnn")["sha256"] == sha_a  # same recipe -> same bytes
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=0)


def test_read_only_root_rebuilds_into_the_overlay(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    z = make_tmp_zoo(tmp_path, ("digits_mlp",), recipes=_quick("digits_mlp"))
    original = (z.root / "manifest.json").read_text()
    (z.root / "digits_mlp.pt").write_bytes(b"garbage")
    monkeypatch.setattr(store_mod, "_writable", lambda d: d != z.root)
    z.get("digits_mlp", progress=False)
    assert (z.cache_dir / "digits_mlp.pt").is_file()
    assert (z.root / "manifest.json").read_text() == original  # root untouched
    st = z.verify("digits_mlp")
    assert st.ok and st.path == z.cache_dir / "digits_mlp.pt"


def test_atomic_write_keeps_the_old_file_on_failure(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "f.bin"
    store_mod.atomic_write_bytes(target, b"old")

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(store_mod.os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        store_mod.atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]


def test_unknown_names_are_rejected() -> None:
    with pytest.raises(KeyError, match="'resnet50' is not one of"):
        zoo.get("resnet50")
    with pytest.raises(ValueError, match="kind 'rnn'"):
        zoo.image_classifier("rnn")  # type: ignore[arg-type]


def test_image_classifier_falls_back_to_the_digits_twin(monkeypatch: pytest.MonkeyPatch) -> None:
    from dlcore.zoo import recipes

    monkeypatch.setattr(recipes, "load_fashion_mnist", lambda: load_digits())
    name, model, split = zoo.image_classifier("mlp")
    assert name == "digits_mlp" and split.source == "sklearn-digits"
    assert model(split.x_test[:4]).shape == (4, 10)


def test_cli_list_verify_and_bad_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert zoo_cli(["list"]) == 0
    assert "digits_cnn" in capsys.readouterr().out
    assert zoo_cli(["verify"]) == 0
    with pytest.raises(SystemExit):
        zoo_cli(["build", "nope"])
