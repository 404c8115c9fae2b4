"""Fashion-MNIST, offline first, with an honest fallback chain.

One loader, :func:`load_fashion_mnist`, tries in order:

1. ``"debian"``: the IDX files of Debian's ``dataset-fashion-mnist`` package in
   ``/usr/share/datasets/fashion-mnist/`` (``train-images-idx3-ubyte.gz`` etc., MIT licence);
2. ``"torchvision"``: ``torchvision.datasets.FashionMNIST(download=True)``, only when the
   download host answers a TCP connect within about a second (no long hang offline);
3. ``"sklearn-digits"``: scikit-learn's bundled 8x8 handwritten digits (1,797 images),
   clearly labelled as a different data set.

The returned :class:`~dlcore.data.split.DataSplit` says in ``source`` which one was used.
Images are ``(N, 1, H, W)`` float32 in [0, 1]; labels int64. Results are kept in memory by the
one loader cache (:class:`dlcore.lazy.LazyCache`); torchvision's download goes to
``dlcore.paths.cache_dir("data")`` (``$DL_LAB_CACHE/data``), and ``HF_HUB_OFFLINE=1`` (the one
offline switch, :func:`dlcore.paths.offline_by_env`) skips the network.

Fashion-MNIST: Xiao, Rasul & Vollgraf 2017, https://arxiv.org/abs/1708.07747
IDX format: http://yann.lecun.com/exdb/mnist/ (big-endian header, then raw uint8).
"""

from __future__ import annotations

import concurrent.futures
import functools
import gzip
import socket
import struct
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from dlcore.data.split import DataSplit
from dlcore.lazy import LazyCache
from dlcore.paths import cache_dir, offline_by_env

__all__ = [
    "DEBIAN_DIR", "FASHION_CLASSES", "DIGITS_CLASSES", "FASHION_MEAN", "FASHION_STD",
    "Source", "SOURCES", "read_idx", "load_debian", "load_torchvision", "load_digits",
    "internet_reachable", "load_fashion_mnist", "clear_cache",
]

DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_CLASSES: tuple[str, ...] = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
DIGITS_CLASSES: tuple[str, ...] = tuple(str(i) for i in range(10))
FASHION_MEAN, FASHION_STD = 0.2860, 0.3530  # pixel statistics of the 60k training images

Source = Literal["auto", "debian", "torchvision", "sklearn-digits"]
SOURCES: tuple[str, ...] = ("debian", "torchvision", "sklearn-digits")
TORCHVISION_HOST = ("ossci-datasets.s3.amazonaws.com", 443)

#: Loaded splits per (source, Debian folder, download allowed); at most 4 argument sets.
_CACHE: LazyCache[tuple, DataSplit] = LazyCache("Fashion-MNIST", max_extra=4)


def read_idx(path: Path) -> np.ndarray:
    """Read one (optionally gzipped) IDX file into a uint8 array.

    Header: two zero bytes, a type code (0x08 = uint8), the number of dimensions ``d``,
    then ``d`` big-endian int32 sizes; the data follow.

    Raises:
        ValueError: if the magic number or the size does not match the IDX rule.
    """
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        raw = fh.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"{path} is not an unsigned-byte IDX file (magic {raw[:4]!r})")
    ndim = raw[3]
    dims = struct.unpack(">" + "i" * ndim, raw[4:4 + 4 * ndim])
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError(f"{path}: header says {dims} = {int(np.prod(dims))} values, "
                         f"file holds {data.size}")
    return data.reshape(dims)


def _to_split(name: str, source: str, detail: str, classes: tuple[str, ...],
              xtr: np.ndarray, ytr: np.ndarray, xte: np.ndarray, yte: np.ndarray,
              scale: float) -> DataSplit:
    def img(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(a.astype(np.float32) / scale).unsqueeze(1)  # (N, 1, H, W)

    def lab(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(a.astype(np.int64))  # (N,)

    return DataSplit(name, "multiclass", img(xtr), lab(ytr), img(xte), lab(yte),
                     len(classes), source, detail, classes)


def load_debian(directory: Path | str = DEBIAN_DIR) -> DataSplit:
    """Fashion-MNIST from the Debian package's IDX files (60,000 train / 10,000 test).

    Raises:
        FileNotFoundError: if one of the four files is missing.
    """
    d = Path(directory)
    names = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte",
             "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
    paths = []
    for n in names:
        cands = [d / f"{n}.gz", d / n]
        found = next((p for p in cands if p.is_file()), None)
        if found is None:
            raise FileNotFoundError(f"Fashion-MNIST file {n}(.gz) not found in {d}")
        paths.append(found)
    xtr, ytr, xte, yte = (read_idx(p) for p in paths)
    return _to_split("fashion_mnist", "debian", f"Debian dataset-fashion-mnist, {d}",
                     FASHION_CLASSES, xtr, ytr, xte, yte, 255.0)


def internet_reachable(host: tuple[str, int] = TORCHVISION_HOST, timeout: float = 1.0) -> bool:
    """True if a TCP connection to ``host`` opens within ``timeout`` seconds.

    DNS lookup runs in a worker thread so it is bounded by the same timeout (a plain
    ``getaddrinfo`` ignores socket timeouts). The offline switch (``HF_HUB_OFFLINE=1``,
    :func:`dlcore.paths.offline_by_env`) forces False.
    """
    if offline_by_env():
        return False

    def connect() -> bool:
        with socket.create_connection(host, timeout=timeout):
            return True

    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    try:
        return pool.submit(connect).result(timeout=timeout + 0.5)
    except Exception:  # noqa: BLE001 - any failure means "not reachable"
        return False
    finally:
        pool.shutdown(wait=False)


def load_torchvision(root: Path | str | None = None) -> DataSplit:
    """Fashion-MNIST through ``torchvision.datasets.FashionMNIST`` (downloads if needed).

    Raises:
        ConnectionError: if the download host is unreachable and no local copy exists.
    """
    from torchvision.datasets import FashionMNIST  # lazy: torchvision import is slow

    root = Path(root or cache_dir("data"))
    have_local = (root / "FashionMNIST" / "raw" / "t10k-labels-idx1-ubyte").exists()
    if not have_local and not internet_reachable():
        raise ConnectionError(f"{TORCHVISION_HOST[0]} unreachable and no copy in {root}")
    tr = FashionMNIST(str(root), train=True, download=not have_local)
    te = FashionMNIST(str(root), train=False, download=not have_local)
    return _to_split("fashion_mnist", "torchvision", f"torchvision FashionMNIST, {root}",
                     FASHION_CLASSES, tr.data.numpy(), tr.targets.numpy(),
                     te.data.numpy(), te.targets.numpy(), 255.0)


@functools.lru_cache(maxsize=4)
def load_digits(test_size: float = 0.2, seed: int = 0) -> DataSplit:
    """scikit-learn's bundled 8x8 digits (values 0..16 scaled to [0, 1]), stratified split.

    Not Fashion-MNIST: 10 digit classes, 1,797 images, ``(N, 1, 8, 8)``.
    """
    from sklearn.datasets import load_digits as sk_digits
    from sklearn.model_selection import train_test_split

    bunch = sk_digits()
    x = bunch.images  # (1797, 8, 8) float64 in [0, 16]
    y = bunch.target
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=test_size, random_state=seed,
                                          stratify=y)
    return _to_split("digits", "sklearn-digits",
                     f"sklearn.datasets.load_digits, test_size={test_size}, seed={seed}",
                     DIGITS_CLASSES, xtr, ytr, xte, yte, 16.0)


def load_fashion_mnist(source: Source = "auto", debian_dir: Path | str = DEBIAN_DIR,
                       allow_download: bool = True) -> DataSplit:
    """Fashion-MNIST from the first source that works; see the module docstring.

    Args:
        source: ``"auto"`` (default) walks the chain; a named source uses only that one.
        debian_dir: where the Debian IDX files live (default ``/usr/share/datasets/fashion-mnist``).
        allow_download: if False, skip the torchvision download step.

    Returns:
        A :class:`DataSplit`; ``split.source`` names the source, ``split.detail`` says why
        earlier sources were skipped. Cached per argument set.

    Raises:
        ValueError: for an unknown ``source``.
        FileNotFoundError / ConnectionError: when a *named* source is unavailable.
    """
    if source not in ("auto", *SOURCES):
        raise ValueError(f"source {source!r} is not one of {('auto', *SOURCES)}")
    key = (source, str(debian_dir), bool(allow_download))
    return _CACHE.get(key, lambda: _load_uncached(source, Path(debian_dir), bool(allow_download)))


def _load_uncached(source: Source, debian_dir: Path, allow_download: bool) -> DataSplit:
    if source == "debian":
        return load_debian(debian_dir)
    if source == "torchvision":
        return load_torchvision()
    if source == "sklearn-digits":
        return load_digits()
    skipped: list[str] = []
    try:
        return load_debian(debian_dir)
    except (FileNotFoundError, ValueError) as exc:
        skipped.append(f"debian: {exc}")
    if allow_download:
        try:
            return load_torchvision()
        except Exception as exc:  # noqa: BLE001 - network/IO errors of any kind
            skipped.append(f"torchvision: {type(exc).__name__}: {exc}")
    else:
        skipped.append("torchvision: download disabled")
    split = load_digits()
    note = "Fashion-MNIST unavailable, using sklearn 8x8 digits instead (" + "; ".join(skipped) + ")"
    return DataSplit(split.name, split.task, split.x_train, split.y_train, split.x_test,
                     split.y_test, split.n_classes, split.source, note, split.classes)


def clear_cache() -> None:
    """Forget cached data sets (tests use this to exercise the chain again)."""
    _CACHE.clear()
