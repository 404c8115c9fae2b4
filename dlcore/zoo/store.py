"""The checkpoint store: manifest, sha256 verification, atomic writes, rebuild on demand.

Layout of a zoo directory::

    manifest.json      {"format": 1, "models": {name: entry}}
    <name>.pt          a state_dict saved with torch.save, loaded with weights_only=True

A manifest entry records ``file``, ``sha256``, ``bytes``, ``arch``, ``data``,
``data_source``, ``recipe``, ``test_accuracy``, ``n_test``, ``params``, ``version``.
Loading verifies the sha256 first; a missing or corrupt file is rebuilt from its recipe
(with a tqdm progress bar) and written atomically (temporary file, then ``os.replace``).
If the zoo directory is read-only (e.g. an installed package or a Space replica), rebuilt
files go to an overlay cache directory (``$DL_LAB_CACHE/zoo``, see :mod:`dlcore.paths`).
Manifest updates take an advisory file lock, so two processes building different models
into one zoo never lose each other's entries.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import torch
from torch import nn

from dlcore.lazy import LazyCache
from dlcore.models import count_parameters
from dlcore.paths import cache_dir as _cache_dir
from dlcore.zoo.recipes import KINDS, RECIPES, Recipe, build_from_recipe

__all__ = ["Zoo", "Status", "sha256_file", "atomic_write_bytes", "MANIFEST", "FORMAT"]

MANIFEST = "manifest.json"
FORMAT = 1


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so readers see the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; checkpoints are shared read-only files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class Status:
    """Verification result of one checkpoint: ``ok`` or the ``problem`` found."""

    name: str
    ok: bool
    problem: str
    path: Path | None


def _writable(d: Path) -> bool:
    return os.access(d, os.W_OK) if d.exists() else os.access(d.parent, os.W_OK)


@contextlib.contextmanager
def _manifest_lock(d: Path) -> Iterator[None]:
    """An exclusive advisory lock on ``d/.manifest.lock`` (no-op where fcntl is missing)."""
    d.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with open(d / ".manifest.lock", "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


class Zoo:
    """A directory of named checkpoints with a manifest.

    Args:
        root: directory holding ``manifest.json`` and the ``*.pt`` files.
        recipes: name -> :class:`Recipe` used to (re)build (default :data:`RECIPES`).
        cache_dir: overlay used when ``root`` is read-only.
    """

    def __init__(self, root: Path | str, recipes: dict[str, Recipe] | None = None,
                 cache_dir: Path | str | None = None) -> None:
        self.root = Path(root)
        self.recipes = dict(RECIPES if recipes is None else recipes)
        self.cache_dir = Path(cache_dir or _cache_dir("zoo"))
        self._lock = threading.RLock()
        # every zoo model is small (< 2 MB): no bound needed, but the one loader cache
        self._models: LazyCache[tuple[str, str], nn.Module] = LazyCache("zoo models", max_extra=None)

    # -- manifest ---------------------------------------------------------------------------
    def _read_manifest(self, d: Path) -> dict[str, Any]:
        try:
            data = json.loads((d / MANIFEST).read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return {}
        return data.get("models", {}) if isinstance(data, dict) else {}

    def _write_manifest(self, d: Path, models: dict[str, Any]) -> None:
        text = json.dumps({"format": FORMAT, "models": dict(sorted(models.items()))},
                          indent=2, sort_keys=False) + "\n"
        atomic_write_bytes(d / MANIFEST, text.encode())

    def manifest(self) -> dict[str, Any]:
        """Entries by name: the overlay's rebuilt entries override the root's."""
        merged = self._read_manifest(self.root)
        merged.update(self._read_manifest(self.cache_dir))
        return merged

    def names(self) -> list[str]:
        """Every checkpoint name that has a recipe or a manifest entry."""
        return sorted(set(self.recipes) | set(self._read_manifest(self.root)))

    def info(self, name: str) -> dict[str, Any]:
        """The manifest entry of ``name`` (empty dict if never built).

        Raises:
            KeyError: for an unknown name.
        """
        self._check_name(name)
        return dict(self.manifest().get(name, {}))

    def _check_name(self, name: str) -> None:
        if name not in self.names():
            raise KeyError(f"zoo model {name!r} is not one of {self.names()}")

    # -- verification -----------------------------------------------------------------------
    def _verify_in(self, d: Path, name: str) -> Status:
        entry = self._read_manifest(d).get(name)
        if not entry:
            return Status(name, False, "no manifest entry", None)
        path = d / entry["file"]
        if not path.is_file():
            return Status(name, False, "file missing", path)
        if sha256_file(path) != entry["sha256"]:
            return Status(name, False, "checksum mismatch", path)
        return Status(name, True, "", path)

    def verify(self, name: str) -> Status:
        """Check ``name``'s file against its sha256 (root first, then the overlay)."""
        self._check_name(name)
        first = self._verify_in(self.root, name)
        if first.ok:
            return first
        second = self._verify_in(self.cache_dir, name)
        return second if second.ok else first

    def status(self) -> list[Status]:
        """:meth:`verify` for every name."""
        return [self.verify(n) for n in self.names()]

    # -- build ------------------------------------------------------------------------------
    def build(self, name: str, progress: bool = True) -> dict[str, Any]:
        """Train ``name`` from its recipe, write file + manifest entry atomically.

        Returns:
            The new manifest entry.

        Raises:
            KeyError: unknown name; ZooDataUnavailable: the recipe's data is missing here.
        """
        self._check_name(name)
        if name not in self.recipes:
            raise KeyError(f"zoo model {name!r} has no recipe to build it from")
        recipe = self.recipes[name]
        with self._lock:
            result = KINDS[recipe.kind].train(name, recipe, progress)
            import io

            buf = io.BytesIO()
            torch.save(result.model.state_dict(), buf)
            blob = buf.getvalue()
            target = self.root if _writable(self.root) else self.cache_dir
            entry = {
                "file": f"{name}.pt", "sha256": hashlib.sha256(blob).hexdigest(),
                "bytes": len(blob), "arch": recipe.arch, "data": recipe.data,
                "data_source": result.data_source, "recipe": recipe.to_json(),
                "test_accuracy": None if result.test_accuracy is None else round(result.test_accuracy, 6),
                "n_test": result.n_test,
                "metrics": {k: round(float(v), 6) for k, v in result.metrics.items()},
                "params": count_parameters(result.model),
                "version": 0,  # set below
                "torch": torch.__version__, "threads": result.threads,
                "train_seconds": round(result.seconds, 1),
                "built": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
            previous = self.info(name)
            same = previous.get("sha256") == entry["sha256"]  # identical rebuild: same version
            entry["version"] = int(previous.get("version", 0)) + (0 if same else 1)
            if not entry["metrics"]:
                del entry["metrics"]
            with _manifest_lock(target):
                atomic_write_bytes(target / entry["file"], blob)
                models = self._read_manifest(target)
                models[name] = entry
                self._write_manifest(target, models)
            for key in self._models.keys():
                if key[0] == name:
                    self._models.discard(key)
            return entry

    # -- load -------------------------------------------------------------------------------
    def load_state(self, name: str, rebuild: bool = True, progress: bool = True
                   ) -> dict[str, torch.Tensor]:
        """The verified state dict of ``name`` (``weights_only=True``); rebuilds if needed.

        Raises:
            FileNotFoundError: if the file is missing/corrupt and ``rebuild`` is False.
        """
        st = self.verify(name)
        if not st.ok:
            if not rebuild:
                raise FileNotFoundError(f"zoo model {name!r}: {st.problem} ({st.path})")
            self.build(name, progress=progress)
            st = self.verify(name)
            if not st.ok:  # pragma: no cover - a rebuild always writes a verified file
                raise RuntimeError(f"zoo model {name!r} still fails after rebuild: {st.problem}")
        assert st.path is not None
        return torch.load(st.path, map_location="cpu", weights_only=True)

    def get(self, name: str, device: str | torch.device = "cpu", fresh: bool = False,
            rebuild: bool = True, progress: bool = True) -> nn.Module:
        """The trained model ``name`` in eval mode, cached per device.

        The cached model is shared and frozen (``requires_grad=False`` on its weights;
        gradients with respect to *inputs* still work). Pass ``fresh=True`` for a private,
        trainable copy.

        Args:
            name: e.g. ``"fmnist_cnn"``.
            device: where to put it (default CPU).
            fresh: return a private copy the caller may modify (prune, fine-tune).
            rebuild: rebuild a missing/corrupt checkpoint (default True).
            progress: show a tqdm bar while rebuilding.
        """
        self._check_name(name)
        key = (name, str(device))

        def load() -> nn.Module:
            state = self.load_state(name, rebuild=rebuild, progress=progress)
            recipe = self.recipes.get(name) or Recipe(**self.info(name)["recipe"])
            model = build_from_recipe(recipe)
            model.load_state_dict(state)
            return model.to(device).eval()

        if fresh:
            with self._lock:
                return load()
        with self._lock:
            def shared() -> nn.Module:
                # shared between requests: freeze the weights so concurrent backward passes
                # (saliency, attacks need input gradients only) never accumulate .grad here
                return load().requires_grad_(False)
            return self._models.get(key, shared)

    def clear_cache(self) -> None:
        """Forget loaded models (next :meth:`get` reads the file again)."""
        with self._lock:
            self._models.clear()
