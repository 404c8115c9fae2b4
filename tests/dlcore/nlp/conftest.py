"""Fixtures shared by the language-model tests: a private cache, a black-holed hub, a fake hub."""

from __future__ import annotations

import pytest

from dlcore import hub
from dlcore.nlp.registry import MODELS
from tests.dlcore.nlp.fakehub import FakeHub, black_hole


@pytest.fixture(autouse=True)
def _fresh_state(monkeypatch, tmp_path):
    """Each test: its own DL_LAB_CACHE, no probe answers or downloads, no loaded models, no hub overrides."""
    monkeypatch.setenv("DL_LAB_CACHE", str(tmp_path / "lab_cache"))
    for var in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "HF_ENDPOINT"):
        monkeypatch.delenv(var, raising=False)
    hub.reset_cache()
    saved = {k: MODELS.peek(k) for k in MODELS.keys()}
    MODELS.clear()
    yield
    hub.reset_cache()
    MODELS.clear()
    for k, v in saved.items():  # keep the real models loaded by other tests of this session
        MODELS.put(k, v)


@pytest.fixture
def online(monkeypatch):
    """Offline flags off (the test decides where HF_ENDPOINT points)."""
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    # huggingface_hub reads HF_HUB_OFFLINE once, at import: when CI exports it and an earlier
    # test imported the package, the frozen constant would still refuse every request.
    import huggingface_hub.constants as hf_constants

    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", False)


@pytest.fixture
def black_holed_hub(online, monkeypatch):
    """HF_ENDPOINT at a socket that accepts and never answers (the worst network)."""
    with black_hole() as url:
        monkeypatch.setenv("HF_ENDPOINT", url)
        yield url


@pytest.fixture
def fake_hub_factory(online, monkeypatch):
    """``make(repos, **kw)`` serves a :class:`FakeHub` and points HF_ENDPOINT at it."""
    hubs: list[FakeHub] = []

    def make(repos, **kw) -> FakeHub:
        h = FakeHub(repos, **kw).__enter__()
        hubs.append(h)
        monkeypatch.setenv("HF_ENDPOINT", h.url)
        return h

    yield make
    for h in hubs:
        h.__exit__(None, None, None)
