"""Fixtures shared by the language-model tests."""

from __future__ import annotations

import socket
import threading

import pytest

from dlcore.nlp import hub


@pytest.fixture
def black_holed_network(monkeypatch):
    """A network where a connect never answers (the worst offline case): nothing is cached
    locally, offline flags are off, and ``socket.create_connection`` hangs until released."""
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setattr(hub, "_in_local_cache", lambda name: False)
    release = threading.Event()

    def hang(*a, **k):
        release.wait(30)
        raise OSError("timed out")

    monkeypatch.setattr(socket, "create_connection", hang)
    yield
    release.set()
