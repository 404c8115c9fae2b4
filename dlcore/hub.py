"""The Hugging Face Hub with deadlines: nothing that computes ever waits on the network.

A hub model is used in two separate steps:

1. **fetch** (:func:`fetch`, :func:`iter_fetch`): download the files the model needs into the
   lab's cache (``$DL_LAB_CACHE/models/hub``). The download runs in a background daemon thread;
   callers *join* it (two requests for ``gpt2`` share one download) and give up at a deadline:

   * the probe (:func:`hub_reachable`): one real HTTP request to ``$HF_ENDPOINT`` (default
     https://huggingface.co, through ``HTTPS_PROXY`` when set) must answer within
     :data:`PROBE_TIMEOUT_S` (connect + first byte); its answer is cached for :data:`PROBE_CACHE_S`;
   * the file list must arrive within :data:`LIST_DEADLINE_S` of the start;
   * no new bytes for :data:`STALL_S` is a failure, and so is a download longer than
     :data:`MAX_DOWNLOAD_S`; every request has its own timeout (:data:`REQUEST_TIMEOUT_S`);

   every network failure is the same :class:`HubUnreachable` message (a ``ValueError``).
2. **load**: :func:`local_snapshot` says whether the snapshot is complete on disk (a marker
   written after every file was checked); loaders then read it with ``local_files_only=True``.
   :func:`require_local` is what a compute step calls: the path, or at once a clear
   :class:`NotFetched` (the background download has been started) — never a network wait.

The hub id is checked first (:func:`validate_repo_id`): any non-string, over-long or
malformed name is a ``ValueError`` naming the rule; a name is never used as a server path.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Literal

from dlcore.paths import cache_dir, offline_by_env

__all__ = ["PROBE_TIMEOUT_S", "PROBE_CACHE_S", "REQUEST_TIMEOUT_S", "LIST_DEADLINE_S", "STALL_S", "MAX_DOWNLOAD_S",
           "MAX_DOWNLOAD_BYTES", "MAX_JOBS", "FAILURE_TTL_S", "HubUnreachable", "NotFetched", "FetchStatus",
           "validate_repo_id", "hub_endpoint", "hub_offline_by_env", "hub_reachable", "last_probe", "reset_cache",
           "snapshot_root", "local_snapshot", "start_fetch", "fetch_status", "iter_fetch", "fetch", "require_local",
           "unreachable_message"]

#: Connect + first byte of the probe, seconds.
PROBE_TIMEOUT_S: float = 2.0
#: How long a probe answer is trusted, seconds.
PROBE_CACHE_S: float = 60.0
#: Timeout of each request of a download (listing, file metadata, each read), seconds.
REQUEST_TIMEOUT_S: float = 10.0
#: The file list must have arrived this long after a download started (probe included), seconds.
LIST_DEADLINE_S: float = 8.0
#: No new bytes for this long fails a download, seconds.
STALL_S: float = 30.0
#: A whole download may take at most this long, seconds.
MAX_DOWNLOAD_S: float = 900.0
#: Largest download accepted (≈ 600M float32 parameters): a laptop CPU, a teaching app.
MAX_DOWNLOAD_BYTES: int = 2_500_000_000
#: Downloads running at the same time (a stream of new names cannot start threads without bound).
MAX_JOBS: int = 2
#: A failed download is reported again for this long before it may be retried, seconds.
FAILURE_TTL_S: float = 60.0
MAX_REPO_ID_CHARS = 96 * 2 + 1

_PART = r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?"
_REPO_ID = re.compile(rf"^{_PART}(?:/{_PART})?$")
_MARKER = "dl_lab_snapshot.json"


class HubUnreachable(ValueError):
    """The model is not on this machine and the Hub did not answer in time (one message for every case)."""


class NotFetched(ValueError):
    """A hub model is not on disk yet; its download has been started in the background."""


def hub_offline_by_env() -> bool:
    """True when ``HF_HUB_OFFLINE`` (or ``TRANSFORMERS_OFFLINE``) asks for offline mode."""
    return offline_by_env()


def _shown(v: Any) -> str:
    if isinstance(v, str):
        return repr(v) if len(v) <= 60 else f"{v[:40]!r}… ({len(v):,} characters)"
    if isinstance(v, (list, tuple, dict, set)):
        return f"a {type(v).__name__} of {len(v)} item(s)"
    r = repr(v)
    return r if len(r) <= 60 else r[:59] + "…"


def validate_repo_id(name: Any, field: str = "model name") -> str:
    """Strip and check a hub id such as ``gpt2`` or ``HuggingFaceTB/SmolLM2-135M-Instruct``.

    Rule: ``name`` or ``owner/name``, each part 1–96 letters, digits, ``.``, ``_``, ``-``, starting and
    ending with a letter or digit, no ``--`` or ``..``. Checked on the string only (never on disk).

    Raises:
        ValueError: not a string, empty, too long or malformed (the message names the rule).
    """
    if not isinstance(name, str):
        raise ValueError(f"{field} must be text, got {_shown(name)}")
    s = name.strip()
    if not s:
        raise ValueError(f"{field} is empty: type a hub id such as 'gpt2'")
    if len(s) > MAX_REPO_ID_CHARS or not _REPO_ID.match(s) or ".." in s or "--" in s:
        raise ValueError(f"{field} {_shown(s)} is not a valid hub id (expected 'name' or 'owner/name': letters, "
                         "digits, '.', '_', '-', at most 96 characters each)")
    return s


def _key(repo_id: str) -> str:
    return repo_id.lower().replace("/", "--")


def unreachable_message(repo_id: str, reason: str) -> str:
    """The one message for every network failure (probe, listing, stall, time cap)."""
    return (f"hub model {repo_id!r} cannot be loaded: it is not on this machine and the Hugging Face Hub is "
            f"unreachable or too slow ({reason}). Choose an offline model, or run where the Hub is reachable "
            "(e.g. on Hugging Face Spaces).")


# ----------------------------------------------------------------------------- probe
def hub_endpoint() -> str:
    """``$HF_ENDPOINT`` or https://huggingface.co (no trailing slash)."""
    return (os.environ.get("HF_ENDPOINT") or "https://huggingface.co").rstrip("/")


_probe_lock = threading.Lock()  # one probe at a time (held while probing)
_answers_lock = threading.Lock()  # guards _probes only (never held across the network)
_probes: dict[tuple[str, str], tuple[float, bool, str]] = {}  # (endpoint, proxy) -> (time, ok, reason)


def _probe_key() -> tuple[str, str]:
    proxy = os.environ.get("HTTPS_PROXY") or os.environ.get("https_proxy") or ""
    return hub_endpoint(), proxy


def _probe(endpoint: str, timeout: float) -> tuple[bool, str]:
    result: list[tuple[bool, str]] = []

    def run() -> None:  # urllib honours HTTPS_PROXY / NO_PROXY by itself
        req = urllib.request.Request(endpoint + "/", method="HEAD", headers={"User-Agent": "dl-lab-probe"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                result.append((True, f"HTTP {r.status} from {endpoint}"))
        except urllib.error.HTTPError as exc:  # the server answered: reachable unless it is failing
            result.append((exc.code < 500, f"HTTP {exc.code} from {endpoint}"))
        except (urllib.error.URLError, OSError, ValueError) as exc:
            why = getattr(exc, "reason", exc)
            result.append((False, f"{endpoint}: {type(why).__name__}: {str(why)[:120]}"))

    t = threading.Thread(target=run, daemon=True, name="hub-probe")
    t.start()
    t.join(timeout)  # DNS has no timeout of its own: stop waiting at the deadline, whatever hangs
    if not result:
        return False, f"no answer from {endpoint} within {timeout:g} s"
    return result[0]


def hub_reachable(timeout: float | None = None, *, use_cache: bool = True) -> tuple[bool, str]:
    """``(reachable, reason)``: one real HTTP request (connect + first byte within ``timeout``).

    Args:
        timeout: deadline in seconds. Default :data:`PROBE_TIMEOUT_S` (2 s).
        use_cache: reuse an answer from the last :data:`PROBE_CACHE_S` seconds. Default True.
    """
    if offline_by_env():
        return False, "HF_HUB_OFFLINE is set"
    key = _probe_key()
    with _probe_lock:  # one probe at a time: a burst of requests waits for one answer
        with _answers_lock:
            hit = _probes.get(key)
        if use_cache and hit is not None and time.monotonic() - hit[0] < PROBE_CACHE_S:
            return hit[1], hit[2]
        ok, reason = _probe(key[0], PROBE_TIMEOUT_S if timeout is None else timeout)
        with _answers_lock:
            _probes[key] = (time.monotonic(), ok, reason)
        return ok, reason


def last_probe() -> tuple[bool, str] | None:
    """The cached probe answer, if any is fresh; never touches the network and never waits for a probe."""
    if offline_by_env():
        return False, "HF_HUB_OFFLINE is set"
    with _answers_lock:
        hit = _probes.get(_probe_key())
    if hit is None or time.monotonic() - hit[0] >= PROBE_CACHE_S:
        return None
    return hit[1], hit[2]


# ----------------------------------------------------------------------------- on disk
def snapshot_root() -> Path:
    """Where snapshots live: ``$DL_LAB_CACHE/models/hub`` (Hugging Face's cache layout)."""
    return cache_dir("models") / "hub"


def _marker_path(repo_id: str) -> Path:
    return snapshot_root() / "complete" / f"{_key(repo_id)}.json"


def local_snapshot(repo_id: str) -> Path | None:
    """The folder of a complete snapshot of ``repo_id`` on this machine, or None. Disk only.

    Complete = the marker written after a download lists every file, and each still has its size.
    """
    repo_id = validate_repo_id(repo_id)
    try:
        meta = json.loads(_marker_path(repo_id).read_text())
        folder = snapshot_root() / meta["path"]
        for name, size in meta["files"].items():
            if os.path.getsize(folder / name) != size:
                return None
        return folder if meta["files"] else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _dir_bytes(folder: Path) -> int:
    try:
        return sum(e.stat().st_size for e in os.scandir(folder) if e.is_file())
    except OSError:
        return 0


# ----------------------------------------------------------------------------- download
State = Literal["done", "listing", "downloading", "failed"]


@dataclass(frozen=True)
class FetchStatus:
    """Where a fetch stands.

    Attributes:
        repo_id: the hub id.
        state: "done", "listing" (waiting for the file list), "downloading" or "failed".
        bytes_done: bytes on disk so far; bytes_total: size of the files to fetch (None until listed).
        elapsed_s: seconds since the download started. path: the snapshot folder when done.
        message: the failure message (same as the exception's) when failed.
    """

    repo_id: str
    state: State
    bytes_done: int = 0
    bytes_total: int | None = None
    elapsed_s: float = 0.0
    path: Path | None = None
    message: str = ""

    def describe(self) -> str:
        """One status line, e.g. ``Downloading gpt2 … (12.3 of 548.1 MB)``."""
        if self.state == "done":
            return f"{self.repo_id} is on this machine"
        if self.state == "failed":
            return self.message
        if self.state == "listing" or self.bytes_total is None:
            return f"Downloading {self.repo_id} … (asking the Hub for its files, {self.elapsed_s:.0f} s)"
        return (f"Downloading {self.repo_id} … ({self.bytes_done / 1e6:.1f} of {self.bytes_total / 1e6:.1f} MB, "
                f"{self.elapsed_s:.0f} s)")


_WEIGHTS = (".safetensors",)
_SIDE_FILES = (".json", ".txt", ".model", ".tiktoken", ".jinja")


def _select_files(siblings: list[Any]) -> dict[str, int]:
    """Top-level files a transformers model needs: configs, tokenizer, safetensors (else .bin) weights."""
    top = {s.rfilename: int(s.size or 0) for s in siblings if "/" not in s.rfilename}
    weights = [n for n in top if n.endswith(_WEIGHTS)] or \
        [n for n in top if n.startswith("pytorch_model") and n.endswith(".bin")]
    side = [n for n in top if n.endswith(_SIDE_FILES)]
    return {n: top[n] for n in sorted(set(weights + side))}


class _Job:
    """One background download; callers read its status (deadlines are judged when anyone looks)."""

    def __init__(self, repo_id: str) -> None:
        self.repo_id = repo_id
        self.started = time.monotonic()
        self.listed_at: float | None = None
        self.total: int | None = None
        self.seen_bytes, self.progress_at = -1, self.started
        self.path: Path | None = None
        self.error: ValueError | None = None
        self.failed_at: float | None = None
        self.blobs = snapshot_root() / f"models--{repo_id.replace('/', '--')}" / "blobs"
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._run, daemon=True, name=f"hub-fetch-{_key(repo_id)}")

    def _fail(self, exc: ValueError) -> None:
        with self.lock:
            if self.error is None:
                self.error, self.failed_at = exc, time.monotonic()

    def _run(self) -> None:
        try:
            ok, reason = hub_reachable()
            if not ok:
                raise HubUnreachable(unreachable_message(self.repo_id, reason))
            from huggingface_hub import HfApi, hf_hub_download

            endpoint = hub_endpoint()
            info = HfApi(endpoint=endpoint).model_info(self.repo_id, files_metadata=True, timeout=REQUEST_TIMEOUT_S)
            files = _select_files(list(info.siblings or []))
            if not any(n.endswith((".safetensors", ".bin")) for n in files):
                raise ValueError(f"hub model {self.repo_id!r} has no PyTorch weights (model.safetensors or "
                                 "pytorch_model.bin) in its top folder")
            total = sum(files.values())
            if total > MAX_DOWNLOAD_BYTES:
                raise ValueError(f"hub model {self.repo_id!r} is {total / 1e9:.1f} GB; this lab downloads at most "
                                 f"{MAX_DOWNLOAD_BYTES / 1e9:.1f} GB (a laptop CPU)")
            with self.lock:
                self.total, self.listed_at = total, time.monotonic()
            folder = None
            for name in files:  # one file at a time, each request with its own timeout
                if self.error is not None:
                    return  # declared failed by a deadline: stop after the current file
                p = hf_hub_download(self.repo_id, name, revision=info.sha, cache_dir=snapshot_root(),
                                    etag_timeout=REQUEST_TIMEOUT_S, endpoint=endpoint)
                folder = Path(p).parent
            assert folder is not None
            for name, size in files.items():
                if size and os.path.getsize(folder / name) != size:
                    raise HubUnreachable(unreachable_message(self.repo_id, f"{name} arrived incomplete"))
            marker = _marker_path(self.repo_id)
            marker.parent.mkdir(parents=True, exist_ok=True)
            tmp = marker.with_name(f".tmp-{os.getpid()}-{marker.name}")
            tmp.write_text(json.dumps({"repo_id": self.repo_id, "revision": info.sha,
                                       "path": str(folder.relative_to(snapshot_root())),
                                       "files": {n: os.path.getsize(folder / n) for n in files}}))
            os.replace(tmp, marker)
            self.path = folder
        except ValueError as exc:
            self._fail(exc)
        except Exception as exc:  # noqa: BLE001 - any failure of the network or the Hub: one message
            name = type(exc).__name__
            if name in ("RepositoryNotFoundError", "GatedRepoError", "RevisionNotFoundError"):
                self._fail(ValueError(f"hub model {self.repo_id!r} does not exist on the Hub, or it is private "
                                      "or gated (this lab loads public models only)"))
            else:
                self._fail(HubUnreachable(unreachable_message(self.repo_id, f"{name}: {str(exc)[:120]}")))

    def status(self) -> FetchStatus:
        now = time.monotonic()
        with self.lock:
            listed, total = self.listed_at, self.total
        b = _dir_bytes(self.blobs)
        with self.lock:
            if b != self.seen_bytes:
                self.seen_bytes, self.progress_at = b, now
            progress_at = self.progress_at
        if self.error is None and self.path is None:  # judge the deadlines
            if listed is None and now - self.started > LIST_DEADLINE_S:
                self._fail(HubUnreachable(unreachable_message(
                    self.repo_id, f"no file list within {LIST_DEADLINE_S:g} s")))
            elif listed is not None and now - max(progress_at, listed) > STALL_S:
                self._fail(HubUnreachable(unreachable_message(self.repo_id, f"no data for {STALL_S:g} s")))
            elif now - self.started > MAX_DOWNLOAD_S:
                self._fail(HubUnreachable(unreachable_message(
                    self.repo_id, f"the download took longer than {MAX_DOWNLOAD_S:g} s")))
        el = now - self.started
        if self.error is not None:
            return FetchStatus(self.repo_id, "failed", b, total, el, message=str(self.error))
        if self.path is not None:
            return FetchStatus(self.repo_id, "done", total or b, total, el, path=self.path)
        return FetchStatus(self.repo_id, "listing" if listed is None else "downloading", min(b, total or b), total, el)


_jobs_lock = threading.Lock()
_jobs: dict[str, _Job] = {}


def _job_for(repo_id: str) -> _Job | None:
    """The job to join for ``repo_id``, starting one if needed (None when the snapshot is on disk)."""
    key = _key(repo_id)
    with _jobs_lock:
        job = _jobs.get(key)
        if job is not None:
            alive = job.thread.is_alive()
            if job.path is not None and not alive:
                del _jobs[key]
                return None
            failed_long_ago = job.failed_at is not None and time.monotonic() - job.failed_at > FAILURE_TTL_S
            if alive or not failed_long_ago:
                return job  # join it (a failure is reported again until its TTL is over)
            del _jobs[key]
        if local_snapshot(repo_id) is not None:
            return None
        if offline_by_env():
            raise HubUnreachable(unreachable_message(repo_id, "HF_HUB_OFFLINE is set"))
        running = [j for j in _jobs.values() if j.thread.is_alive()]
        if len(running) >= MAX_JOBS:
            raise ValueError(f"hub model {repo_id!r} cannot be downloaded now: {len(running)} other downloads are "
                             f"running ({', '.join(j.repo_id for j in running)}); try again when they are done")
        job = _jobs[key] = _Job(repo_id)
        job.thread.start()
        return job


def start_fetch(repo_id: str) -> FetchStatus:
    """Start (or join) the background download of ``repo_id``; returns at once. No network here."""
    repo_id = validate_repo_id(repo_id)
    job = _job_for(repo_id)
    if job is None:
        return FetchStatus(repo_id, "done", path=local_snapshot(repo_id))
    return job.status()


def fetch_status(repo_id: str) -> FetchStatus | None:
    """The status of a download started earlier (None if there is none). No network."""
    with _jobs_lock:
        job = _jobs.get(_key(validate_repo_id(repo_id)))
    return None if job is None else job.status()


def iter_fetch(repo_id: str, poll_s: float = 0.5) -> Iterator[FetchStatus]:
    """Fetch ``repo_id`` (joining a running download), yielding its status every ``poll_s`` seconds.

    Raises:
        HubUnreachable: at the first deadline that passes (the same message for every case).
        ValueError: bad id, a repo that does not exist, too big, no PyTorch weights, too many downloads.
    """
    repo_id = validate_repo_id(repo_id)
    job = _job_for(repo_id)
    if job is None:
        yield FetchStatus(repo_id, "done", path=local_snapshot(repo_id))
        return
    while True:
        st = job.status()
        if st.state == "failed":
            raise job.error or HubUnreachable(st.message)
        yield st
        if st.state == "done":
            return
        job.thread.join(poll_s)


def fetch(repo_id: str, progress: Callable[[FetchStatus], None] | None = None) -> Path:
    """Download ``repo_id`` (or find it on disk) and return its snapshot folder; see :func:`iter_fetch`."""
    st = None
    for st in iter_fetch(repo_id):
        if progress is not None:
            progress(st)
    assert st is not None and st.path is not None
    return st.path


def require_local(repo_id: str) -> Path:
    """The snapshot folder of ``repo_id`` if it is on disk; otherwise raise at once. No network.

    Raises:
        HubUnreachable: offline by environment, or the last probe / download of it failed.
        NotFetched: not on disk yet; a background download has been started (fetch it, then retry).
    """
    repo_id = validate_repo_id(repo_id)
    path = local_snapshot(repo_id)
    if path is not None:
        return path
    probe = last_probe()
    if probe is not None and not probe[0]:
        raise HubUnreachable(unreachable_message(repo_id, probe[1]))
    job = _job_for(repo_id)
    st = job.status() if job is not None else None
    if st is None or (st.state == "done" and st.path is not None):
        path = local_snapshot(repo_id)
        if path is not None:
            return path
        raise NotFetched(f"hub model {repo_id!r} is not on this machine yet; fetch it first, then try again")
    if st.state == "failed" and job is not None and job.error is not None:
        raise job.error
    raise NotFetched(f"hub model {repo_id!r} is not on this machine yet: it is being downloaded in the background "
                     f"({st.describe()}); fetch it first, then try again")


def reset_cache() -> None:
    """Forget probe answers and downloads (tests; after the network came back).

    A download still running is abandoned to its daemon thread (it ends at its request timeouts).
    """
    with _answers_lock:
        _probes.clear()
    with _jobs_lock:
        _jobs.clear()
