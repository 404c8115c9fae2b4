"""dlcore.hub: ids checked on the string, a real probe with a deadline, background fetches with deadlines.

Against two local stand-ins (no internet): a black hole (accepts, never answers) and a fake hub
serving real files. Time bounds here are generous "did not hang" checks (a black hole would
otherwise hang for minutes), not speed measurements.
"""

from __future__ import annotations

import threading
import time

import pytest

from dlcore import hub

SMALL = {"config.json": b'{"model_type": "x"}', "model.safetensors": b"w" * 5000, "tokenizer.json": b"{}",
         "README.md": b"# card", "pytorch_model.bin": b"old" * 100, "onnx/model.onnx": b"o" * 100}
HANG_BOUND_S = hub.PROBE_TIMEOUT_S + 4.0


@pytest.mark.parametrize("name", [["gpt2"], {"a": 1}, None, 5, 2.5, True, "x" * 100_000, "[" * 5000, "a/b/c", "../etc",
                                  "/root/.ssh", "~/.ssh", "a--b", "a..b", "-gpt2", "gp t2", "🙂", "", "   ", "g" * 97])
def test_bad_ids_are_a_clear_value_error_checked_on_the_string(name):
    with pytest.raises(ValueError) as info:
        hub.validate_repo_id(name)
    msg = str(info.value)
    assert type(info.value) is ValueError and len(msg) < 300
    assert any(k in msg for k in ("must be text", "not a valid hub id", "is empty"))
    with pytest.raises(ValueError):
        hub.local_snapshot(name)  # never used as a file name (no OSError: File name too long)


@pytest.mark.parametrize("name", ["gpt2", "bert-base-uncased", "HuggingFaceTB/SmolLM2-135M-Instruct", "a", "o/n.v2_x"])
def test_good_ids(name):
    assert hub.validate_repo_id(f"  {name} ") == name


def test_probe_of_a_black_hole_answers_false_at_its_deadline(black_holed_hub):
    t0 = time.monotonic()
    ok, reason = hub.hub_reachable()
    assert not ok and ("within" in reason or "timed out" in reason)
    assert time.monotonic() - t0 < HANG_BOUND_S


def test_probe_is_one_real_request_cached_for_a_minute(fake_hub_factory, monkeypatch):
    fh = fake_hub_factory({})
    assert hub.hub_reachable() == hub.hub_reachable()
    assert hub.hub_reachable()[0] is True
    assert fh.requests.count("HEAD /") == 1
    assert hub.last_probe() == (True, f"HTTP 200 from {fh.url}")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert hub.hub_reachable() == (False, "HF_HUB_OFFLINE is set") and fh.requests.count("HEAD /") == 1


def test_black_hole_fetch_fails_with_one_message_and_callers_share_one_probe(black_holed_hub):
    errors: list[BaseException] = []

    def call() -> None:
        try:
            hub.fetch("gpt2")
        except ValueError as exc:
            errors.append(exc)

    t0 = time.monotonic()
    threads = [threading.Thread(target=call) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert time.monotonic() - t0 < HANG_BOUND_S
    assert len(errors) == 4 and all(isinstance(e, hub.HubUnreachable) for e in errors)
    assert len({str(e) for e in errors}) == 1
    assert "'gpt2' cannot be loaded" in str(errors[0]) and "unreachable or too slow" in str(errors[0])
    with pytest.raises(hub.HubUnreachable, match="unreachable"):  # the last probe said no: no network at all
        hub.require_local("gpt2")


def test_fetch_downloads_only_what_a_model_needs_then_is_local(fake_hub_factory):
    fh = fake_hub_factory({"me/tiny": SMALL})
    seen = [st.state for st in hub.iter_fetch("me/tiny", poll_s=0.05)]
    assert seen[-1] == "done"
    path = hub.local_snapshot("me/tiny")
    assert path is not None and path.is_dir() and path.is_relative_to(hub.snapshot_root())
    assert sorted(p.name for p in path.iterdir()) == ["config.json", "model.safetensors", "tokenizer.json"]
    assert (path / "model.safetensors").read_bytes() == SMALL["model.safetensors"]
    fetched = [r for r in fh.requests if r.startswith("GET /me/tiny/resolve/")]
    assert len(fetched) == 3
    assert hub.fetch("me/tiny") == path and hub.require_local("ME/TINY") == path  # no new request, any case
    assert [r for r in fh.requests if r.startswith("GET /me/tiny/resolve/")] == fetched
    (path / "tokenizer.json").unlink()  # an incomplete snapshot is not complete
    assert hub.local_snapshot("me/tiny") is None


def test_safetensors_missing_falls_back_to_pytorch_bin(fake_hub_factory):
    fake_hub_factory({"me/old": {"config.json": b"{}", "pytorch_model.bin": b"b" * 50, "vocab.txt": b"a\nb"}})
    path = hub.fetch("me/old")
    assert sorted(p.name for p in path.iterdir()) == ["config.json", "pytorch_model.bin", "vocab.txt"]


@pytest.mark.parametrize("repos, name, fragment", [
    ({}, "nobody/nothing", "does not exist on the Hub"),
    ({"me/noweights": {"config.json": b"{}"}}, "me/noweights", "no PyTorch weights"),
])
def test_refusals_from_the_hub(fake_hub_factory, repos, name, fragment):
    fake_hub_factory(repos)
    with pytest.raises(ValueError, match=fragment):
        hub.fetch(name)


def test_too_big_is_refused_before_downloading(fake_hub_factory, monkeypatch):
    fh = fake_hub_factory({"me/big": SMALL})
    monkeypatch.setattr(hub, "MAX_DOWNLOAD_BYTES", 1000)
    with pytest.raises(ValueError, match="downloads at most"):
        hub.fetch("me/big")
    assert not [r for r in fh.requests if "/resolve/" in r]


def test_a_stalled_download_fails_after_the_stall_deadline(fake_hub_factory, monkeypatch):
    fake_hub_factory({"me/slow": SMALL}, stall_after=10)
    monkeypatch.setattr(hub, "STALL_S", 1.0)
    with pytest.raises(hub.HubUnreachable, match="no data for 1 s"):
        for _ in hub.iter_fetch("me/slow", poll_s=0.1):
            pass


def test_a_file_list_that_never_comes_fails_at_the_list_deadline(fake_hub_factory, monkeypatch):
    fake_hub_factory({"me/x": SMALL}, hang=("/api/models/",))
    monkeypatch.setattr(hub, "LIST_DEADLINE_S", 1.0)
    t0 = time.monotonic()
    with pytest.raises(hub.HubUnreachable, match="no file list within 1 s"):
        hub.fetch("me/x")
    assert time.monotonic() - t0 < 10  # the listing request itself would wait REQUEST_TIMEOUT_S
    with pytest.raises(hub.HubUnreachable, match="no file list"):  # still reported while its thread lives
        hub.require_local("me/x")


def test_require_local_never_waits_it_starts_the_download(fake_hub_factory):
    fake_hub_factory({"me/tiny": SMALL})
    with pytest.raises(hub.NotFetched, match="being downloaded in the background"):
        hub.require_local("me/tiny")
    deadline = time.monotonic() + 30
    while hub.local_snapshot("me/tiny") is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert hub.require_local("me/tiny") == hub.local_snapshot("me/tiny")


def test_offline_by_env_never_starts_a_download(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(hub.HubUnreachable, match="HF_HUB_OFFLINE"):
        hub.require_local("gpt2")
    with pytest.raises(hub.HubUnreachable, match="HF_HUB_OFFLINE"):
        hub.fetch("gpt2")
    assert hub.fetch_status("gpt2") is None


def test_at_most_max_jobs_downloads_at_once(fake_hub_factory, monkeypatch):
    fake_hub_factory({f"me/m{i}": SMALL for i in range(3)}, stall_after=10)
    monkeypatch.setattr(hub, "MAX_JOBS", 2)
    assert hub.start_fetch("me/m0").state in ("listing", "downloading")
    assert hub.start_fetch("me/m1").state in ("listing", "downloading")
    assert hub.start_fetch("me/m0").state in ("listing", "downloading")  # joining is not a new download
    with pytest.raises(ValueError, match="2 other downloads are running"):
        hub.start_fetch("me/m2")


def test_status_lines():
    st = hub.FetchStatus("gpt2", "downloading", 12_300_000, 548_100_000, 3.2)
    assert st.describe() == "Downloading gpt2 … (12.3 of 548.1 MB, 3 s)"
    assert "asking the Hub" in hub.FetchStatus("gpt2", "listing").describe()
