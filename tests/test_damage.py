"""Never down for one damaged file (issue 21, findings 2 and 3).

A vector file truncated under a running server used to kill it with SIGBUS
on the next search; damage in place (same size) was served silently; and a
restart on a damaged ``current`` answered 503 everywhere although an intact
build was on disk. Now damage is found before it is touched (a size check of
the mapped files before each request, the checksums re-verified every
``verify_interval`` seconds), the newest intact build is served, and
``/readyz`` says "degraded", why and what to run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from core.settings import PROJECT_ROOT, Settings
from index.build import build_index
from index.snapshots import build_id
from tests.conftest import copy_current, free_port, wait_ready
from tests.fakes import HashingEmbedder


def _overwrite_4k(path: Path) -> None:
    """4 KiB in the middle of ``path`` overwritten in place: same size, only a checksum can tell."""
    with path.open("r+b") as fh:
        fh.seek(path.stat().st_size // 2)
        fh.write(b"\xa5" * 4096)


def _wait_for(check, seconds: float = 30.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


@pytest.fixture
def two_builds(tmp_path: Path) -> tuple[Settings, str, str]:
    """A fake-embedder data dir with two intact builds: (settings, previous id, current id)."""
    settings = Settings(data_dir=tmp_path / "data", reload_interval=0.2, verify_interval=0.3)
    build_index(settings, HashingEmbedder())
    build_index(settings, HashingEmbedder(), force=True)
    previous, current = build_id(settings.data_dir, "previous"), build_id(settings.data_dir)
    assert previous is not None and current is not None and previous != current
    return settings, previous, current


def _degraded(client: TestClient):  # type: ignore[no-untyped-def]
    body = client.get("/readyz").json()
    return body if body.get("status") == "degraded" else None


def test_an_overwrite_in_place_is_found_within_the_interval(two_builds: tuple[Settings, str, str]) -> None:
    settings, previous, current = two_builds
    app = create_app(settings, embedder=HashingEmbedder())
    with TestClient(app) as client:
        _wait_for(lambda: client.get("/readyz").status_code == 200)
        assert client.get("/readyz").json()["build_id"] == current
        _overwrite_4k(settings.index_dir.resolve() / "dense.faiss")
        t0 = time.monotonic()
        body = _wait_for(lambda: _degraded(client), seconds=10)
        assert time.monotonic() - t0 < 3 * settings.verify_interval + 2  # one interval, plus the fallback load
        assert body["build_id"] == previous
        assert body["reason"].startswith(f"build {current} is damaged: index file dense.faiss does not match")
        assert body["fix"].startswith("run `policyqa build`")
        assert client.post("/search", json={"query": "extradition"}).status_code == 200


def test_a_restart_on_a_damaged_current_serves_the_previous_build(two_builds: tuple[Settings, str, str]) -> None:
    settings, previous, current = two_builds
    _overwrite_4k(settings.index_dir.resolve() / "dense.faiss")
    app = create_app(settings.model_copy(update={"verify_interval": 0}), embedder=HashingEmbedder())
    with TestClient(app) as client:
        body = _wait_for(lambda: _degraded(client))
        assert body["build_id"] == previous
        assert f"build {current} is damaged" in body["reason"]
        search = client.post("/search", json={"query": "extradition"})
        section = client.get(f"/sections/{search.json()['results'][0]['citation']['section_id']}")
    assert search.status_code == 200 and section.status_code == 200


def test_a_repair_build_ends_the_degraded_state(two_builds: tuple[Settings, str, str]) -> None:
    settings, previous, current = two_builds
    app = create_app(settings, embedder=HashingEmbedder())
    with TestClient(app) as client:
        _wait_for(lambda: client.get("/readyz").status_code == 200)
        _overwrite_4k(settings.index_dir.resolve() / "dense.faiss")
        _wait_for(lambda: _degraded(client))
        build_index(settings, HashingEmbedder())  # the fix /readyz names
        repaired = build_id(settings.data_dir)
        assert repaired not in (previous, current)
        assert build_id(settings.data_dir, "previous") == previous  # the intact build is kept
        body = _wait_for(lambda: (b := client.get("/readyz").json())["status"] == "ready" and b)
        assert body["build_id"] == repaired


@pytest.fixture
def real_with_previous(real_settings: Settings, tmp_path: Path) -> tuple[Path, str]:
    """A copy of the session's real data dir whose build is also there as an older ``previous``."""
    data = tmp_path / "data"
    copy_current(real_settings.data_dir, data)
    current = (data / "current").resolve()
    older = data / "builds" / "20000101T000000-0-previous"
    shutil.copytree(current, older)
    manifest = json.loads((older / "manifest.json").read_text(encoding="utf-8"))
    (older / "manifest.json").write_text(json.dumps({**manifest, "build_id": older.name}), encoding="utf-8")
    (data / "previous").symlink_to(older.relative_to(data))
    return data, older.name


@pytest.mark.e2e
def test_truncating_a_live_vector_file_does_not_kill_the_server(real_with_previous: tuple[Path, str]) -> None:
    # The repro: `truncate -s 4096 data/current/multilingual_passages.npy`, then a Spanish search
    # (the multilingual leg reads that file). It used to end the process with SIGBUS (exit 135).
    data, previous = real_with_previous
    port = free_port()
    env = {**os.environ, "POLICYQA_DATA_DIR": str(data), "POLICYQA_VERIFY_INTERVAL": "0"}
    process = subprocess.Popen(
        [sys.executable, "-m", "cli", "serve", "--port", str(port), "--log-level", "warning"],
        env=env,
        cwd=PROJECT_ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    spanish = {"query": "¿Qué dice el informe sobre la extradición?"}
    try:
        wait_ready(url, time.monotonic() + 180, alive=lambda: process.poll() is None)
        assert httpx.post(f"{url}/search", json=spanish, timeout=30).status_code == 200
        os.truncate(data / "current" / "multilingual_passages.npy", 4096)
        first = httpx.post(f"{url}/search", json=spanish, timeout=30)
        assert first.status_code == 503
        assert "multilingual_passages.npy is 4096 bytes" in first.json()["error"]["message"]

        def degraded() -> dict | None:  # type: ignore[type-arg]
            body = httpx.get(f"{url}/readyz", timeout=5).json()
            return body if body.get("status") == "degraded" else None

        body = _wait_for(degraded, seconds=60)
        assert process.poll() is None
        assert body["build_id"] == previous
        assert "multilingual_passages.npy is 4096 bytes" in body["reason"]
        assert body["fix"].startswith("run `policyqa build`")
        after = httpx.post(f"{url}/search", json=spanish, timeout=30)
        assert after.status_code == 200 and after.json()["results"]
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=30)
    assert process.returncode in (0, -15), stderr  # stopped by us, not by SIGBUS (-7)
