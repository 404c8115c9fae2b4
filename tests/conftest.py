"""Shared fixtures: the real app served in a subprocess, and the tab registry."""

from __future__ import annotations

import importlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

# Same as launch.py: idle OpenMP threads sleep rather than spin (set before torch is imported).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

ARTIFACTS = ROOT / "artifacts"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 120.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.25)
    raise TimeoutError(f"{url} did not answer 200 within {timeout} s")


class Server:
    """`python launch.py` in a subprocess on a free port; logs kept in artifacts/."""

    def __init__(self, *args: str, env: dict[str, str] | None = None, name: str = "server") -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        ARTIFACTS.mkdir(exist_ok=True)
        self.log_path = ARTIFACTS / f"{name}-{self.port}.log"
        self._log = open(self.log_path, "w")
        full_env = {**os.environ, "PYTHONUNBUFFERED": "1", "HF_HUB_OFFLINE": os.environ.get("HF_HUB_OFFLINE", "1"),
                    **(env or {})}
        self.proc = subprocess.Popen([sys.executable, "launch.py", "--port", str(self.port), *args],
                                     cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT, env=full_env)
        try:
            wait_http(self.url, proc=self.proc)
        except Exception:
            log = self.log()
            self.stop()
            raise RuntimeError(f"app did not start; log:\n{log[-4000:]}") from None

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self._log.close()


@pytest.fixture(scope="session")
def app_server():
    srv = Server(name="app")
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def client(app_server):
    from gradio_client import Client

    return Client(app_server.url, verbose=False)


IMPORT_ERRORS: dict[str, BaseException] = {}


def tab_modules():
    """(name, module) for every registered tab that imports; failures go to IMPORT_ERRORS
    (and fail ``tests/test_api.py::test_every_tab_imports``)."""
    from apps import TABS

    out = []
    for name in TABS:
        try:
            out.append((name, importlib.import_module(f"apps.{name}")))
        except Exception as exc:  # noqa: BLE001 - reported by a test, not at collection
            IMPORT_ERRORS[name] = exc
    return out
