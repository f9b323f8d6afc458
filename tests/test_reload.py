"""Reload without restart, the previous build kept on disk, and rollback.

A server over a fake-embedder index in a temporary data dir, on loopback
(uvicorn in a thread): a new build switches ``data/current`` and the server
swaps it in under load without failing a request; a build that fails
verification is not swapped in; ``rollback`` switches back.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from api.app import create_app
from api.reload import check_once
from core.errors import IndexMissingError
from core.settings import Settings
from corpus import CORPUS_DIR
from index.build import build_index, rollback_index
from index.snapshots import build_id
from index.store import load_index
from tests.conftest import free_port, wait_ready
from tests.fakes import HashingEmbedder

NEW_TEXT = "The zorblax quokka certification programme trains rehabilitation staff in every state."
INL = "state-inl-mexico-fact-sheet-2005.txt"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """A data dir with one fake-embedder build over a copy of the corpus (which a test may change)."""
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS_DIR, corpus, ignore=shutil.ignore_patterns("*.py", "_schemes", "__pycache__"))
    settings = Settings(data_dir=tmp_path / "data", corpus_dir=corpus, reload_interval=0.2)
    build_index(settings, HashingEmbedder())
    return settings


def _change_corpus(settings: Settings) -> None:
    """Add ``NEW_TEXT`` as a paragraph in the middle of the INL fact sheet (its tail is web boilerplate)."""
    path = settings.corpus_dir / INL
    text = path.read_text(encoding="utf-8")
    cut = text.index("\n\n", len(text) // 2)
    path.write_text(text[:cut] + "\n\n" + NEW_TEXT + text[cut:], encoding="utf-8")


@pytest.fixture
def server(settings: Settings) -> Iterator[str]:
    """The app on a loopback port, loading and watching the index itself; yields the base URL."""
    port = free_port()
    config = uvicorn.Config(
        create_app(settings, embedder=HashingEmbedder()), host="127.0.0.1", port=port, log_level="warning"
    )
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    wait_ready(url, time.monotonic() + 60, alive=thread.is_alive)
    yield url
    uv.should_exit = True
    thread.join(timeout=30)


def test_readyz_names_the_live_build_and_when_it_was_loaded(settings: Settings, server: str) -> None:
    body = httpx.get(f"{server}/readyz").json()
    assert body["status"] == "ready"
    assert body["build_id"] == build_id(settings.data_dir)
    assert time.strptime(body["loaded_at"], "%Y-%m-%dT%H:%M:%SZ")


def test_a_new_build_is_swapped_in_under_load_without_a_failed_request(settings: Settings, server: str) -> None:
    old = httpx.get(f"{server}/readyz").json()["build_id"]
    questions = ["What does priority action 2.6 say?", "certification of treatment staff", "extradition"]
    statuses: Counter[int] = Counter()
    errors: list[str] = []
    served: list[str] = []  # the build id each /readyz poll saw, in order
    lock = threading.Lock()
    stop = threading.Event()

    def client(n: int) -> None:
        with httpx.Client(base_url=server, timeout=30) as http:
            i = n
            while not stop.is_set():
                try:
                    status = http.post("/search", json={"query": questions[i % 3], "top_k": 5}).status_code
                except httpx.HTTPError as exc:
                    with lock:
                        errors.append(repr(exc))
                    continue
                with lock:
                    statuses[status] += 1
                i += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    try:
        _change_corpus(settings)
        report = build_index(settings, HashingEmbedder())  # switches data/current while the clients search
        assert report.built
        new = build_id(settings.data_dir)
        deadline = time.monotonic() + 30
        while not served or served[-1] != new:
            assert time.monotonic() < deadline, f"the server still serves {served[-1:]} 30 s after the switch"
            served.append(httpx.get(f"{server}/readyz").json()["build_id"])
            time.sleep(0.05)
        # Keep the load on past the swap until a few hundred requests are done in all.
        deadline = time.monotonic() + 60
        while sum(statuses.values()) < 300 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert errors == []
    assert set(statuses) == {200}
    assert sum(statuses.values()) >= 300
    assert new != old and served[-1] == new
    # The new text is searchable now; the old build is still on disk (previous) for rollback.
    top = httpx.post(f"{server}/search", json={"query": NEW_TEXT, "top_k": 1}).json()["results"][0]
    assert NEW_TEXT in top["text"]
    assert build_id(settings.data_dir, "previous") == old
    assert (settings.data_dir / "builds" / old / "manifest.json").is_file()


def test_a_build_that_fails_verification_is_not_swapped_in(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(settings.model_copy(update={"reload_interval": 0}), embedder=HashingEmbedder())
    with TestClient(app) as client:
        deadline = time.monotonic() + 60
        while app.state.loaded is None:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        old = app.state.loaded.build_id
        _change_corpus(settings)
        build_index(settings, HashingEmbedder())
        bad = build_id(settings.data_dir)
        (settings.data_dir / "builds" / bad / "dense.faiss").write_bytes(b"not an index")
        with caplog.at_level(logging.ERROR, logger="policyqa.api"):
            assert not anyio.run(check_once, app, settings, HashingEmbedder())
        assert f"build {bad} not loaded, still serving {old}" in caplog.text
        assert "dense.faiss is 12 bytes" in caplog.text
        ready = client.get("/readyz")
        assert (ready.status_code, ready.json()["build_id"]) == (200, old)
        assert client.post("/search", json={"query": "extradition"}).status_code == 200
        # The next build repairs the damage and is swapped in.
        build_index(settings, HashingEmbedder())
        assert anyio.run(check_once, app, settings, HashingEmbedder())
        assert client.get("/readyz").json()["build_id"] == build_id(settings.data_dir) != old


def test_only_the_current_and_previous_builds_are_kept(settings: Settings) -> None:
    first = build_id(settings.data_dir)
    second = build_index(settings, HashingEmbedder(), force=True) and build_id(settings.data_dir)
    third = build_index(settings, HashingEmbedder(), force=True) and build_id(settings.data_dir)
    assert sorted(p.name for p in (settings.data_dir / "builds").iterdir()) == sorted([second, third])
    assert first not in (second, third)
    assert build_id(settings.data_dir, "previous") == second


def test_rollback_switches_back_to_the_previous_build_and_back_again(settings: Settings) -> None:
    old = build_id(settings.data_dir)
    _change_corpus(settings)
    build_index(settings, HashingEmbedder())
    new = build_id(settings.data_dir)
    assert rollback_index(settings) == old
    assert build_id(settings.data_dir) == old
    assert not any(NEW_TEXT in p.text for p in load_index(settings.index_dir).passages)
    assert rollback_index(settings) == new  # the two swapped places
    assert any(NEW_TEXT in p.text for p in load_index(settings.index_dir).passages)


def test_rollback_without_a_previous_build_says_so(settings: Settings) -> None:
    with pytest.raises(IndexMissingError, match="no previous build"):
        rollback_index(settings)


def test_the_build_command_rolls_back(settings: Settings) -> None:
    old = build_id(settings.data_dir)
    build_index(settings, HashingEmbedder(), force=True)
    env = {**os.environ, "POLICYQA_DATA_DIR": str(settings.data_dir), "POLICYQA_CORPUS_DIR": str(settings.corpus_dir)}
    out = subprocess.run(
        [sys.executable, "-m", "cli", "build", "--rollback"], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith(f"builds/{old}")
    assert build_id(settings.data_dir) == old


def test_readyz_says_why_a_new_build_was_refused_until_one_loads(settings: Settings, server: str) -> None:
    # It stayed a bare "ready": only the log said that the new build had been refused (issue 21, finding 8).
    old = httpx.get(f"{server}/readyz").json()
    assert "last_reload_error" not in old
    build_index(settings, HashingEmbedder(), force=True)
    bad = build_id(settings.data_dir)
    (settings.data_dir / "builds" / bad / "dense.faiss").write_bytes(b"not an index")
    deadline = time.monotonic() + 30
    while (ready := httpx.get(f"{server}/readyz")).json().get("last_reload_error") is None:
        assert time.monotonic() < deadline, "the refused build never showed on /readyz"
        time.sleep(0.1)
    assert ready.status_code == 200 and ready.json()["build_id"] == old["build_id"]
    message = ready.json()["last_reload_error"]
    assert message.startswith(f"build {bad} was not loaded (still serving {old['build_id']}): index file dense.faiss")
    assert message.endswith("run `policyqa build` to rebuild the index") and str(settings.data_dir) not in message
    # A repaired build loads, and the error is gone.
    build_index(settings, HashingEmbedder())
    while (ready := httpx.get(f"{server}/readyz").json())["build_id"] in (old["build_id"], bad):
        assert time.monotonic() < deadline + 30, "the repaired build was never loaded"
        time.sleep(0.1)
    assert "last_reload_error" not in ready
