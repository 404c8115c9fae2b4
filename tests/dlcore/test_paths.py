"""One cache root, and stale temporary folders of interrupted writes are cleaned."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from dlcore import paths


def test_one_environment_variable_sets_the_cache_root(monkeypatch, tmp_path):
    monkeypatch.setenv("DL_LAB_CACHE", str(tmp_path))
    assert paths.cache_root() == tmp_path
    assert paths.cache_dir("zoo") == tmp_path / "zoo"
    with pytest.raises(ValueError, match="cache kind"):
        paths.cache_dir("elsewhere")  # type: ignore[arg-type]
    monkeypatch.delenv("DL_LAB_CACHE")
    assert paths.cache_root().parts[-2:] == (".cache", "dl_lab")


def test_stale_temp_folders_of_dead_processes_are_removed(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    dead_pid = int(dead.stdout)  # that process has exited
    (tmp_path / "models").mkdir()
    stale = tmp_path / "models" / f".tmp-{dead_pid}-abc"
    stale.mkdir()
    (stale / "model.safetensors").write_bytes(b"x" * 1000)
    mine = paths.make_temp_dir(tmp_path / "models")  # this process is alive: kept
    old_style = tmp_path / ".tmp-xyz"
    old_style.mkdir()
    fresh_old_style = tmp_path / ".tmp-new"
    fresh_old_style.mkdir()
    past = time.time() - 3 * 3600
    os.utime(old_style, (past, past))
    removed = paths.clean_stale_temp(tmp_path)
    assert set(removed) == {stale, old_style}
    assert mine.is_dir() and fresh_old_style.is_dir() and not stale.exists()


def test_package_dir_finds_without_importing():
    assert paths.package_dir("sklearn") is not None
    assert paths.package_dir("no_such_package_here") is None
