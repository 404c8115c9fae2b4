"""Local stand-ins for the Hugging Face Hub: a black hole and a tiny HTTP hub (no internet).

* :func:`black_hole`: a socket that accepts connections and never answers (the worst network:
  a TCP connect succeeds, then nothing). ``HF_ENDPOINT`` pointed at it must fail within the deadline.
* :class:`FakeHub`: serves ``/api/models/<id>`` and ``/<id>/resolve/<rev>/<file>`` for a few
  in-memory repos, as ``huggingface_hub`` expects them; ``stall_after`` bytes makes every file
  body stop mid-way (a download that stalls); ``hang`` path prefixes never answer.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator


class BlackHole(str):
    """The URL of a :func:`black_hole`, with ``connections`` (how many were accepted) and ``hang_up()``
    (close them all and refuse new ones, so a waiting client fails at once: the test decides when)."""

    connections: list[socket.socket]
    hang_up: "threading.Event"


@contextlib.contextmanager
def black_hole() -> Iterator[BlackHole]:
    """Yield ``http://127.0.0.1:<port>``: accepts every connection, reads nothing, answers nothing."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)
    conns: list[socket.socket] = []
    stop = threading.Event()
    url = BlackHole(f"http://127.0.0.1:{srv.getsockname()[1]}")
    url.connections, url.hang_up = conns, threading.Event()

    def accept() -> None:
        srv.settimeout(0.1)
        while not stop.is_set():
            if url.hang_up.is_set():
                for c in conns:
                    c.close()
                srv.close()
                return
            try:
                c, _ = srv.accept()
                conns.append(c)  # keep it open and silent
            except OSError:
                continue

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    try:
        yield url
    finally:
        stop.set()
        t.join(1)
        for c in conns:
            c.close()
        srv.close()


def folder_files(folder: Path) -> dict[str, bytes]:
    """The files of a ``save_pretrained`` folder, for a :class:`FakeHub` repo."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


class FakeHub:
    """A minimal Hub: ``FakeHub({"me/tiny": {"config.json": b"..."}})`` then use ``hub.url``."""

    def __init__(self, repos: dict[str, dict[str, bytes]], *, stall_after: int | None = None,
                 hang: tuple[str, ...] = ()) -> None:
        self.repos = repos
        self.stall_after = stall_after
        self.hang = hang  # path prefixes that never answer (e.g. "/api/" : the file list never comes)
        self.requests: list[str] = []
        self.sha = "0123456789abcdef0123456789abcdef01234567"
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):  # quiet
                pass

            def _send(self, code: int, body: bytes, headers: dict[str, str], head: bool, file: bool = False) -> None:
                self.send_response(code)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if head:
                    return
                if file and hub.stall_after is not None and len(body) > hub.stall_after:
                    self.wfile.write(body[: hub.stall_after])
                    self.wfile.flush()
                    time.sleep(60)  # the rest never comes
                    return
                self.wfile.write(body)

            def _route(self, head: bool) -> None:
                path = self.path.split("?", 1)[0]
                hub.requests.append(f"{self.command} {path}")
                if any(path.startswith(h) for h in hub.hang):
                    time.sleep(60)
                    return
                if path == "/":
                    return self._send(200, b"ok", {}, head)
                if path.startswith("/api/models/"):
                    rest = path[len("/api/models/"):]
                    repo = rest.split("/revision/")[0]
                    if repo not in hub.repos:
                        return self._send(404, b'{"error":"Repository not found"}',
                                          {"X-Error-Code": "RepoNotFound", "Content-Type": "application/json"}, head)
                    files = hub.repos[repo]
                    info = {"id": repo, "modelId": repo, "sha": hub.sha, "private": False, "siblings": [
                        {"rfilename": n, "size": len(b), "blobId": hashlib.sha1(b).hexdigest()}
                        for n, b in files.items()]}
                    return self._send(200, json.dumps(info).encode(), {"Content-Type": "application/json"}, head)
                for repo, files in hub.repos.items():
                    prefix = f"/{repo}/resolve/"
                    if path.startswith(prefix):
                        rev, _, name = path[len(prefix):].partition("/")
                        if name in files:
                            body = files[name]
                            return self._send(200, body, {"X-Repo-Commit": hub.sha,
                                                          "ETag": f'"{hashlib.sha256(body).hexdigest()}"'}, head, True)
                return self._send(404, b"not found", {"X-Error-Code": "EntryNotFound"}, head)

            def do_GET(self):
                self._route(False)

            def do_HEAD(self):
                self._route(True)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "FakeHub":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
