"""The Fashion-MNIST loader chain: Debian IDX -> torchvision (if online) -> sklearn digits."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from dlcore.data import fashion_mnist as fm
from dlcore.data.split import DataSplit


def write_idx(path: Path, arr: np.ndarray) -> None:
    header = bytes([0, 0, 0x08, arr.ndim]) + struct.pack(">" + "i" * arr.ndim, *arr.shape)
    with gzip.open(path, "wb") as fh:
        fh.write(header + arr.astype(np.uint8).tobytes())


@pytest.fixture()
def fake_debian(tmp_path: Path) -> tuple[Path, dict[str, np.ndarray]]:
    rng = np.random.RandomState(0)
    arrays = {
        "train-images-idx3-ubyte": rng.randint(0, 256, (12, 28, 28)),
        "train-labels-idx1-ubyte": rng.randint(0, 10, 12),
        "t10k-images-idx3-ubyte": rng.randint(0, 256, (5, 28, 28)),
        "t10k-labels-idx1-ubyte": rng.randint(0, 10, 5),
    }
    for name, arr in arrays.items():
        write_idx(tmp_path / f"{name}.gz", arr)
    return tmp_path, arrays


@pytest.fixture(autouse=True)
def fresh_cache():
    fm.clear_cache()
    yield
    fm.clear_cache()


@pytest.fixture()
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Network absent: the reachability probe says no, and any real socket use would fail."""
    monkeypatch.setattr(fm, "internet_reachable", lambda *a, **k: False)


def test_read_idx_round_trip(fake_debian) -> None:
    d, arrays = fake_debian
    got = fm.read_idx(d / "train-images-idx3-ubyte.gz")
    np.testing.assert_array_equal(got, arrays["train-images-idx3-ubyte"].astype(np.uint8))


def test_read_idx_rejects_bad_magic(tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.write_bytes(b"\x01\x02\x03\x04rest")
    with pytest.raises(ValueError, match="not an unsigned-byte IDX"):
        fm.read_idx(bad)


def test_read_idx_rejects_truncated(tmp_path: Path) -> None:
    p = tmp_path / "short"
    p.write_bytes(bytes([0, 0, 8, 1]) + struct.pack(">i", 10) + b"\x00" * 3)
    with pytest.raises(ValueError, match="header says"):
        fm.read_idx(p)


def test_debian_source_is_used_first(fake_debian, offline) -> None:
    d, arrays = fake_debian
    split = fm.load_fashion_mnist(debian_dir=d)
    assert split.source == "debian"
    assert split.x_train.shape == (12, 1, 28, 28) and split.x_test.shape == (5, 1, 28, 28)
    assert split.x_train.dtype == torch.float32 and split.y_train.dtype == torch.int64
    expected = torch.tensor(arrays["train-images-idx3-ubyte"], dtype=torch.float32) / 255
    torch.testing.assert_close(split.x_train[:, 0], expected)
    torch.testing.assert_close(split.y_test, torch.tensor(arrays["t10k-labels-idx1-ubyte"]))
    assert split.classes == fm.FASHION_CLASSES


def test_debian_absent_and_offline_falls_back_to_digits(tmp_path: Path, offline) -> None:
    split = fm.load_fashion_mnist(debian_dir=tmp_path / "nowhere")
    assert split.source == "sklearn-digits"
    assert "debian" in split.detail and "torchvision" in split.detail
    assert "digits" in split.detail
    assert split.x_train.shape[1:] == (1, 8, 8)
    assert len(split.x_train) + len(split.x_test) == 1797
    assert 0.0 <= float(split.x_train.min()) and float(split.x_train.max()) <= 1.0
    assert set(split.y_test.tolist()) == set(range(10))


def test_torchvision_used_when_debian_absent_and_online(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    fake = DataSplit("fashion_mnist", "multiclass", torch.zeros(2, 1, 28, 28),
                     torch.zeros(2, dtype=torch.long), torch.zeros(1, 1, 28, 28),
                     torch.zeros(1, dtype=torch.long), 10, "torchvision", "fake")
    monkeypatch.setattr(fm, "load_torchvision", lambda root=None: fake)
    split = fm.load_fashion_mnist(debian_dir=tmp_path)
    assert split.source == "torchvision"


def test_torchvision_fails_fast_offline(tmp_path: Path, offline) -> None:
    with pytest.raises(ConnectionError, match="unreachable"):
        fm.load_torchvision(root=tmp_path)


def test_download_disabled_is_reported(tmp_path: Path) -> None:
    split = fm.load_fashion_mnist(debian_dir=tmp_path, allow_download=False)
    assert split.source == "sklearn-digits"
    assert "download disabled" in split.detail


def test_named_source_does_not_fall_back(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="not found"):
        fm.load_fashion_mnist("debian", debian_dir=tmp_path)


def test_unknown_source_is_rejected() -> None:
    with pytest.raises(ValueError, match="'mnist' is not one of"):
        fm.load_fashion_mnist("mnist")  # type: ignore[arg-type]


def test_offline_env_var_short_circuits_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # the one offline switch (dlcore.paths.offline_by_env)
    calls: list = []
    monkeypatch.setattr(fm.socket, "create_connection", lambda *a, **k: calls.append(a))
    assert fm.internet_reachable(("127.0.0.1", 9)) is False and calls == []
    import inspect
    assert "DLCORE_OFFLINE" not in inspect.getsource(fm) and "DLCORE_DATA" not in inspect.getsource(fm)


def test_torchvision_downloads_into_the_one_cache_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       offline) -> None:
    monkeypatch.setenv("DL_LAB_CACHE", str(tmp_path))
    with pytest.raises(ConnectionError, match=str(tmp_path / "data")):
        fm.load_torchvision()


def test_probe_of_closed_port_is_false() -> None:
    # port 9 (discard) on localhost is closed here: connection refused -> False
    assert fm.internet_reachable(("127.0.0.1", 9), timeout=0.5) is False


def test_result_is_cached(fake_debian) -> None:
    from dlcore.lazy import LazyCache

    d, _ = fake_debian
    assert fm.load_fashion_mnist(debian_dir=d) is fm.load_fashion_mnist(debian_dir=d)
    assert isinstance(fm._CACHE, LazyCache) and len(fm._CACHE) == 1  # the one loader cache


@pytest.mark.skipif(not (fm.DEBIAN_DIR / "t10k-labels-idx1-ubyte.gz").exists(),
                    reason="Debian dataset-fashion-mnist not installed")
def test_real_debian_files() -> None:
    split = fm.load_fashion_mnist("debian")
    assert split.x_train.shape == (60000, 1, 28, 28)
    assert split.x_test.shape == (10000, 1, 28, 28)
    assert torch.bincount(split.y_train).tolist() == [6000] * 10
    assert torch.bincount(split.y_test).tolist() == [1000] * 10
    assert abs(float(split.x_train.mean()) - fm.FASHION_MEAN) < 1e-3
    assert abs(float(split.x_train.std()) - fm.FASHION_STD) < 1e-3
