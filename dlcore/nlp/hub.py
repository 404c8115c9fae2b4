"""Is the Hugging Face Hub reachable? Answer fast, so a UI never hangs on the network.

Without a network, ``transformers.from_pretrained("gpt2")`` retries for about 50 s before it
fails. A teaching app cannot wait that long, so every hub load goes through
:func:`ensure_hub_model` first:

1. ``HF_HUB_OFFLINE=1`` (or ``TRANSFORMERS_OFFLINE=1``) means offline, no probe at all;
2. otherwise one TCP connect to the hub's host on port 443 (or to the HTTPS proxy, when one is
   configured), bounded by ``timeout`` (default 1.2 s, DNS lookup included, because the
   probe runs in a daemon thread that we stop waiting for);
3. the answer is cached for :data:`CACHE_SECONDS`, so a burst of requests probes once.

When the hub is unreachable, a model that is already in the local Hugging Face cache still
loads (``local_files_only=True``); anything else is a ``ValueError`` that says what happened.
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from urllib.parse import urlparse

__all__ = [
    "CACHE_SECONDS",
    "HubUnreachable",
    "hub_offline_by_env",
    "hub_reachable",
    "validate_repo_id",
    "ensure_hub_model",
    "reset_cache",
]

#: How long a probe result is trusted (seconds).
CACHE_SECONDS: float = 60.0
#: Default probe timeout (seconds); the whole check returns within about this long.
DEFAULT_TIMEOUT: float = 1.2

_REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}(/[A-Za-z0-9][A-Za-z0-9._-]{0,95})?$")
_lock = threading.Lock()
_cached: tuple[float, bool, str] | None = None  # (time, reachable, reason)


class HubUnreachable(ValueError):
    """The hub cannot be reached and the model is not in the local cache."""


def _truthy(v: str | None) -> bool:
    return (v or "").strip().lower() in {"1", "true", "yes", "on"}


def hub_offline_by_env() -> bool:
    """True when ``HF_HUB_OFFLINE`` or ``TRANSFORMERS_OFFLINE`` asks for offline mode."""
    return _truthy(os.environ.get("HF_HUB_OFFLINE")) or _truthy(os.environ.get("TRANSFORMERS_OFFLINE"))


def _probe_target() -> tuple[str, int]:
    """(host, port) to connect to: the HTTPS proxy if one is set, else the hub endpoint."""
    proxy = os.environ.get("HTTPS_PROXY") or os.environ.get("https_proxy")
    if proxy:
        u = urlparse(proxy if "://" in proxy else f"http://{proxy}")
        if u.hostname:
            return u.hostname, u.port or 8080
    u = urlparse(os.environ.get("HF_ENDPOINT") or "https://huggingface.co")
    return u.hostname or "huggingface.co", u.port or (443 if u.scheme != "http" else 80)


def _probe(timeout: float) -> tuple[bool, str]:
    host, port = _probe_target()
    result: list[tuple[bool, str]] = []

    def run() -> None:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                result.append((True, f"connected to {host}:{port}"))
        except OSError as exc:
            result.append((False, f"cannot connect to {host}:{port} ({type(exc).__name__}: {exc})"))

    t = threading.Thread(target=run, daemon=True, name="hub-probe")
    t.start()
    t.join(timeout + 0.1)  # getaddrinfo has no timeout of its own: stop waiting for it
    if not result:
        return False, f"no answer from {host}:{port} within {timeout:g} s"
    return result[0]


def hub_reachable(timeout: float = DEFAULT_TIMEOUT, *, use_cache: bool = True) -> tuple[bool, str]:
    """Return ``(reachable, reason)``; at most one probe per :data:`CACHE_SECONDS`.

    Args:
        timeout: seconds to wait for the TCP connect (DNS included). Default 1.2.
        use_cache: reuse a probe made in the last minute. Default True.
    """
    global _cached
    if hub_offline_by_env():
        return False, "HF_HUB_OFFLINE is set"
    with _lock:
        now = time.monotonic()
        if use_cache and _cached is not None and now - _cached[0] < CACHE_SECONDS:
            return _cached[1], _cached[2]
        ok, reason = _probe(timeout)
        _cached = (time.monotonic(), ok, reason)
        return ok, reason


def reset_cache() -> None:
    """Forget the last probe (tests, or after the network came back)."""
    global _cached
    with _lock:
        _cached = None


def validate_repo_id(name: str) -> str:
    """Strip and check a hub model id like ``gpt2`` or ``HuggingFaceTB/SmolLM2-135M-Instruct``."""
    name = (name or "").strip()
    if not name:
        raise ValueError("model name is empty: type a hub id such as 'gpt2'")
    if not _REPO_ID.match(name) or ".." in name:
        raise ValueError(f"model name {name!r} is not a valid hub id (expected 'name' or 'owner/name', "
                         "letters, digits, '.', '_', '-')")
    return name


def _in_local_cache(name: str) -> bool:
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:  # pragma: no cover - huggingface_hub ships with transformers
        return False
    hit = try_to_load_from_cache(name, "config.json")
    return isinstance(hit, str)


def ensure_hub_model(name: str, timeout: float = DEFAULT_TIMEOUT) -> dict[str, bool]:
    """Check that hub model ``name`` can be loaded now; return extra ``from_pretrained`` kwargs.

    Returns ``{}`` when the hub is reachable, ``{"local_files_only": True}`` when it is not but
    the model is in the local Hugging Face cache.

    Raises:
        HubUnreachable (a ValueError): the hub is unreachable and the model is not cached.
            Returns within about ``timeout`` seconds.
    """
    name = validate_repo_id(name)
    ok, reason = hub_reachable(timeout)
    if ok:
        return {}
    if _in_local_cache(name):
        return {"local_files_only": True}
    raise HubUnreachable(
        f"hub model {name!r} cannot be loaded: the Hugging Face Hub is unreachable ({reason}) and "
        "the model is not in the local cache. Use the offline default model, or run where the hub "
        "is reachable (e.g. on Hugging Face Spaces).")
