"""One loader cache for everything the lab loads lazily: zoo models, language models, data.

:class:`LazyCache` is the single way ``dlcore`` keeps a loaded thing in memory:

* **load once**: a per-key lock, so two requests asking for the same model build it once;
  other keys load in parallel;
* **normalised keys**: callers pass a canonical key (``LazyCache.get`` never sees two
  spellings of one model because names are resolved before they get here);
* **bounded**: at most ``max_extra`` entries that are not *pinned* (the offline defaults
  are pinned); the least recently used extra entry is dropped first (an LRU), so a stream
  of different hub names cannot grow memory without bound;
* **thread-safe** and dependency-free (no torch import).

A dropped entry is only forgotten by the cache: a request still using it keeps it alive
until it finishes.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from typing import Callable, Generic, Hashable, Iterable, TypeVar

__all__ = ["LazyCache", "all_caches", "lazy_exports"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

_REGISTRY: "weakref.WeakSet[LazyCache]" = weakref.WeakSet()


class LazyCache(Generic[K, V]):
    """A bounded, thread-safe load-once cache.

    Args:
        name: what it holds (for status lines and tests), e.g. ``"causal LM"``.
        max_extra: most entries kept besides the pinned ones (default 2). ``None`` = no bound.
        pinned: keys never evicted (the offline defaults).
    """

    def __init__(self, name: str, max_extra: int | None = 2, pinned: Iterable[K] = ()) -> None:
        if max_extra is not None and max_extra < 0:
            raise ValueError(f"max_extra {max_extra} must be >= 0 or None")
        self.name = name
        self.max_extra = max_extra
        self.pinned: set[K] = set(pinned)
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()
        self._key_locks: dict[K, threading.Lock] = {}
        _REGISTRY.add(self)

    def get(self, key: K, build: Callable[[], V]) -> V:
        """The value for ``key``, calling ``build()`` once if it is not loaded yet.

        ``build`` runs outside the cache's global lock (only under ``key``'s own lock), so a
        slow load never blocks other keys. An exception from ``build`` is raised to the
        caller and nothing is stored.
        """
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._items:
                    self._items.move_to_end(key)
                    return self._items[key]
            value = build()
            with self._lock:
                self._items[key] = value
                self._items.move_to_end(key)
                self._evict()
                self._key_locks.pop(key, None)
            return value

    def _evict(self) -> None:
        if self.max_extra is None:
            return
        extra = [k for k in self._items if k not in self.pinned]
        while len(extra) > self.max_extra:
            self._items.pop(extra.pop(0), None)

    def put(self, key: K, value: V) -> None:
        """Store ``value`` (replacing any old one), then apply the bound."""
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            self._evict()

    def peek(self, key: K) -> V | None:
        """The value if loaded, else None (does not count as a use)."""
        with self._lock:
            return self._items.get(key)

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._items

    def keys(self) -> list[K]:
        """Loaded keys, least recently used first."""
        with self._lock:
            return list(self._items)

    def discard(self, key: K) -> None:
        """Forget one entry (no error if absent)."""
        with self._lock:
            self._items.pop(key, None)

    def clear(self) -> None:
        """Forget every entry (tests; after a rebuild)."""
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def __repr__(self) -> str:
        return f"LazyCache({self.name!r}, {len(self)} loaded, max_extra={self.max_extra})"


def all_caches() -> list[LazyCache]:
    """Every live cache in this process (for a memory/status report)."""
    return list(_REGISTRY)


def lazy_exports(package: str, exports: dict[str, str], namespace: dict) -> tuple[Callable, Callable]:
    """``__getattr__`` and ``__dir__`` for a package whose exports load on first access (PEP 562).

    ``exports`` maps each public name to the submodule defining it, so
    ``from dlcore.attacks import PGD`` imports ``dlcore.attacks.pgd`` (and torch) only then, and the
    UI can import the package's torch-free ``names`` module without paying for the rest. Use::

        __all__ = list(_EXPORTS)
        __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
    """
    import importlib

    def __getattr__(name: str) -> object:
        if name in exports:
            value = getattr(importlib.import_module(f"{package}.{exports[name]}"), name)
            namespace[name] = value
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted({*namespace, *exports})

    return __getattr__, __dir__
