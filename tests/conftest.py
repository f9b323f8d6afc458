"""Shared fixtures: settings pointing at temporary data dirs, a fake-embedder index, the real one.

Unit tests build the index from the real bundled corpus with the hashing
embedder (a second or two). End-to-end tests (marked ``e2e``) build once per
session with the real MiniLM model and FAISS.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from core.settings import PROJECT_ROOT, Settings
from index.build import build_index
from qa.retrieve import Retriever
from tests.fakes import HashingEmbedder

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    return Settings(data_dir=data_dir, **overrides)  # type: ignore[arg-type]


def copy_current(data_dir: Path, target: Path) -> Path:
    """A data dir at ``target`` holding only ``data_dir``'s live build: no ``previous`` to fall back to
    (a two-stage build leaves the bundled MiniLM's there, ``index.stages``), no locks or caches."""
    live = (data_dir / "current").resolve()
    (target / "builds").mkdir(parents=True)
    shutil.copytree(live, target / "builds" / live.name)
    (target / "current").symlink_to(Path("builds") / live.name)
    return target


@pytest.fixture
def small_corpus(tmp_path: Path) -> Path:
    """A corpus of one bundled report, the INL fact sheet (4 pages): adapting MiniLM to it takes seconds."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    catalog = json.loads((PROJECT_ROOT / "corpus" / "catalog.json").read_text(encoding="utf-8"))
    entry = next(d for d in catalog if d["id"] == "state-inl-mexico-fact-sheet-2005")
    (corpus / "catalog.json").write_text(json.dumps([entry]), encoding="utf-8")
    shutil.copy(PROJECT_ROOT / "corpus" / entry["file"], corpus / entry["file"])
    return corpus


@pytest.fixture(scope="session")
def fake_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return make_settings(tmp_path_factory.mktemp("fake-data"))


@pytest.fixture(scope="session")
def fake_retriever(fake_settings: Settings) -> Retriever:
    """The bundled corpus indexed with the hashing embedder."""
    embedder = HashingEmbedder()
    build_index(fake_settings, embedder)
    return Retriever.open(fake_settings, embedder)


@pytest.fixture(scope="module")
def client(fake_retriever: Retriever) -> TestClient:
    """The app over the fake index, through FastAPI's TestClient (a module may define its own)."""
    return TestClient(create_app(retriever=fake_retriever))


@pytest.fixture(scope="session")
def real_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Settings whose data dir holds an index built with the real model (built once)."""
    # The vectors of earlier sessions' builds (same model, same texts) are reused: a fresh clone
    # (CI) embeds everything, a second `make test` only what the code changed.
    # So is the MiniLM adapted to the reports when POLICYQA_ADAPT=true (minutes of training): trained again
    # only when its key changes.
    cache = PROJECT_ROOT / ".cache" / "embeddings"
    adapted = PROJECT_ROOT / ".cache" / "adapted"
    settings = make_settings(tmp_path_factory.mktemp("real-data"), embedding_cache_dir=cache, adapt_cache_dir=adapted)
    build_index(settings)
    yield settings


@pytest.fixture(scope="session")
def real_retriever(real_settings: Settings) -> Retriever:
    return Retriever.open(real_settings)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, deadline: float, alive: Callable[[], bool] = lambda: True) -> None:
    """Poll ``url``/readyz until it answers 200; fail if ``deadline`` (monotonic) passes or the server died."""
    while True:
        assert alive(), f"the server at {url} exited"
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"the server at {url} did not get ready"
        time.sleep(0.05)


def policyqa_command() -> str:
    """The installed ``policyqa`` console script of this interpreter's environment."""
    return str(Path(sys.executable).parent / "policyqa")


@pytest.fixture(scope="session")
def live_server(real_settings: Settings) -> Iterator[str]:
    """``policyqa serve`` in a subprocess on loopback over the session's real index; yields its base URL."""
    port = free_port()
    env = {**os.environ, "POLICYQA_DATA_DIR": str(real_settings.data_dir)}
    command = [policyqa_command(), "serve", "--port", str(port), "--log-level", "warning"]
    process = subprocess.Popen(command, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120  # the index is built; loading the model takes seconds
        wait_ready(url, deadline, alive=lambda: process.poll() is None)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
