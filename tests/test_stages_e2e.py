"""A build that must adapt MiniLM serves the bundled model's index first, then the adapted one:
in ``policyqa build``, after an add, and in a server, which adapts in the background and reloads.
On a one-report corpus (the INL fact sheet), so training takes seconds."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from core.settings import PROJECT_ROOT, Settings
from index.adapt import adapted_id
from index.build import build_index
from index.snapshots import read_manifest
from index.stages import awaits_adaptation
from tests.conftest import free_port, policyqa_command, wait_ready

pytestmark = pytest.mark.e2e

_CACHE = PROJECT_ROOT / ".cache" / "embeddings"  # e5's and the bundled MiniLM's vectors of earlier sessions


def _settings(tmp_path: Path, corpus: Path) -> Settings:
    # Three steps: with one, the warm-up keeps the learning rate at zero. A fresh adapted-model
    # folder per test, so the model is trained here.
    return Settings(
        data_dir=tmp_path / "data",
        corpus_dir=corpus,
        embedding_cache_dir=_CACHE,
        adapt_cache_dir=tmp_path / "adapted",
        adapt_epochs=3,
    )  # type: ignore[call-arg]


def _adapted(settings: Settings, which: str = "current") -> str | None:
    manifest = read_manifest(settings.data_dir / which)
    assert manifest is not None
    return None if manifest["adapted"] is None else str(manifest["adapted"]["key"])


def test_a_build_serves_the_bundled_model_then_the_adapted_one(tmp_path: Path, small_corpus: Path) -> None:
    settings = _settings(tmp_path, small_corpus)
    report = build_index(settings)
    assert report.served_seconds is not None and 0 < report.served_seconds < report.seconds
    assert (_adapted(settings, "previous"), _adapted(settings)) == (None, adapted_id(settings))
    again = build_index(settings)
    assert (again.built, again.served_seconds) == (False, None)


def test_adapt_later_serves_the_bundled_model_and_a_build_then_adapts(tmp_path: Path, small_corpus: Path) -> None:
    settings = _settings(tmp_path, small_corpus)
    report = build_index(settings, adapt_later=True)
    assert (report.built, report.served_seconds, _adapted(settings)) == (True, None, None)
    assert awaits_adaptation(settings)
    build_index(settings)
    assert (_adapted(settings), awaits_adaptation(settings)) == (adapted_id(settings), False)


def test_a_server_adapts_in_the_background_and_reloads_the_adapted_build(tmp_path: Path, small_corpus: Path) -> None:
    settings = _settings(tmp_path, small_corpus)
    port = free_port()
    env = {
        **os.environ,
        "POLICYQA_DATA_DIR": str(settings.data_dir),
        "POLICYQA_CORPUS_DIR": str(small_corpus),
        "POLICYQA_EMBEDDING_CACHE_DIR": str(_CACHE),
        "POLICYQA_ADAPT_CACHE_DIR": str(tmp_path / "adapted"),
        "POLICYQA_ADAPT_EPOCHS": "3",
        "POLICYQA_RELOAD_INTERVAL": "0.5",
    }
    process = subprocess.Popen([policyqa_command(), "serve", "--port", str(port), "--log-level", "warning"], env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, time.monotonic() + 300, alive=lambda: process.poll() is None)
        first = httpx.get(f"{url}/readyz").json()["build_id"]
        assert _adapted(settings) is None  # served before any training
        seen_adapting = False
        deadline = time.monotonic() + 600
        while (ready := httpx.get(f"{url}/readyz").json())["build_id"] == first:
            seen_adapting |= bool(ready.get("adapting"))
            assert process.poll() is None and time.monotonic() < deadline, "the adapted build was not served"
            time.sleep(0.2)
        assert seen_adapting and "adaptation_error" not in ready
        assert _adapted(settings) == adapted_id(settings)
        hits = httpx.post(f"{url}/search", json={"query": "eradication of opium poppy", "top_k": 3}).json()["results"]
        assert len(hits) == 3
    finally:
        process.terminate()
        process.wait(timeout=30)
