"""Index integrity: damage to any snapshot file is found by ask, serve and build, and build repairs it.

The index is built once with the hashing embedder and copied for each test,
then damaged one way: truncation, flipped bytes (same size), a garbled JSON
line (same size), a missing file. Each must be reported as a
``CorruptIndexError`` naming the file and saying to run ``policyqa build``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from core.errors import CorruptIndexError
from core.settings import Settings
from index.build import build_index, rollback_index
from index.snapshots import build_id, verify_snapshot
from index.store import load_index
from qa.retrieve import Retriever
from tests.conftest import copy_current
from tests.fakes import HashingEmbedder


def _truncate(root: Path) -> str:
    path = root / "dense.faiss"
    with path.open("r+b") as fh:
        fh.truncate(path.stat().st_size // 2)
    return "dense.faiss"


def _flip_bytes(root: Path) -> str:
    # Same size: only the checksum can tell. The middle of the file is vector data.
    path = root / "dense.faiss"
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 8] = bytes(b ^ 0xFF for b in data[middle : middle + 8])
    path.write_bytes(bytes(data))
    return "dense.faiss"


def _garble_json_line(root: Path) -> str:
    # One line of passages.jsonl made invalid JSON, same length: its first quote becomes a brace.
    path = root / "passages.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[3] = lines[3].replace('"', "}", 1)
    path.write_text("".join(lines), encoding="utf-8")
    return "passages.jsonl"


def _remove_file(root: Path) -> str:
    (root / "sentence_vectors.npy").unlink()
    return "sentence_vectors.npy"


DAMAGE: dict[str, Callable[[Path], str]] = {
    "truncated": _truncate,
    "flipped bytes": _flip_bytes,
    "garbled JSON line": _garble_json_line,
    "missing file": _remove_file,
}


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("pristine") / "data"
    build_index(Settings(data_dir=data), HashingEmbedder())
    return data


@pytest.fixture(params=list(DAMAGE))
def damaged(request: pytest.FixtureRequest, pristine: Path, tmp_path: Path) -> tuple[Settings, str]:
    """Settings over a copy of the index with one file damaged, and that file's name."""
    data = tmp_path / "data"
    shutil.copytree(pristine, data, symlinks=True)
    settings = Settings(data_dir=data, reload_interval=0)
    return settings, DAMAGE[request.param](settings.index_dir.resolve())


def _says_which_file_and_what_to_run(message: str, name: str) -> None:
    assert f"{name} " in message  # "index file .../dense.faiss is 1234 bytes, ..."
    assert "run `policyqa build`" in message


def test_an_undamaged_index_verifies(pristine: Path) -> None:
    root = (pristine / "current").resolve()
    verify_snapshot(root)
    # Every file but the manifest is listed: the BM25 folder's files included.
    manifest_files = set(load_index(root).manifest["files"])
    on_disk = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()} - {"manifest.json"}
    assert manifest_files == on_disk


def test_ask_reports_the_damaged_file(damaged: tuple[Settings, str]) -> None:
    settings, name = damaged
    with pytest.raises(CorruptIndexError) as caught:
        Retriever.open(settings, HashingEmbedder())
    _says_which_file_and_what_to_run(str(caught.value), name)


def test_the_ask_command_prints_one_line_and_exits_2(damaged: tuple[Settings, str]) -> None:
    settings, name = damaged
    env = {**os.environ, "POLICYQA_DATA_DIR": str(settings.data_dir), "COLUMNS": "80"}
    out = subprocess.run(
        [sys.executable, "-m", "cli", "ask", "What does priority action 2.6 say?"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 2
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr  # no traceback, not wrapped
    assert lines[0].startswith("error: index file ")
    _says_which_file_and_what_to_run(lines[0], name)


def test_a_server_started_on_it_answers_503_with_the_reason(damaged: tuple[Settings, str]) -> None:
    settings, name = damaged
    app = create_app(settings, embedder=HashingEmbedder())
    with TestClient(app) as client:
        deadline = time.monotonic() + 60
        while app.state.load_error is None:  # the load runs in a thread behind the lifespan
            assert time.monotonic() < deadline, "the load neither failed nor finished"
            time.sleep(0.05)
        ready = client.get("/readyz")
        search = client.post("/search", json={"query": "extradition"})
        documents = client.get("/documents")
    for response in (ready, search, documents):
        assert response.status_code == 503
        assert response.json()["error"]["type"] == "index_unavailable"
        _says_which_file_and_what_to_run(response.json()["error"]["message"], name)


def test_build_rebuilds_it_instead_of_saying_up_to_date(damaged: tuple[Settings, str]) -> None:
    settings, name = damaged
    before = build_id(settings.data_dir)
    report = build_index(settings, HashingEmbedder())
    assert report.built
    assert report.reason.startswith("the live index is damaged: index file ")
    assert name in report.reason
    assert build_id(settings.data_dir) != before
    index = load_index(settings.index_dir)  # verifies: the repair is whole
    assert len(index.passages) == report.passages


def test_a_garbled_manifest_is_damage_not_absence(pristine: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(pristine, data, symlinks=True)
    manifest = (data / "current").resolve() / "manifest.json"
    manifest.write_text(manifest.read_text(encoding="utf-8")[:-20], encoding="utf-8")
    with pytest.raises(CorruptIndexError, match=r"manifest\.json is not valid JSON; run `policyqa build`"):
        load_index(data / "current")
    assert build_index(Settings(data_dir=data), HashingEmbedder()).built


@pytest.fixture
def damaged_real_copy(real_settings: Settings, tmp_path: Path) -> Settings:
    """A copy of the session's real index with its FAISS file truncated (the fingerprint still matches)."""
    data = tmp_path / "data"
    copy_current(real_settings.data_dir, data)
    _truncate((data / "current").resolve())
    return Settings(data_dir=data)


@pytest.mark.e2e
def test_policyqa_serve_on_a_damaged_index_answers_503_naming_the_file(damaged_real_copy: Settings) -> None:
    import httpx

    from tests.conftest import free_port, policyqa_command

    port = free_port()
    env = {**os.environ, "POLICYQA_DATA_DIR": str(damaged_real_copy.data_dir)}
    process = subprocess.Popen(
        [policyqa_command(), "serve", "--port", str(port), "--log-level", "warning"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, "policyqa serve exited"
            try:
                ready = httpx.get(f"{url}/readyz", timeout=2)
                if "could not be loaded" in ready.text:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "policyqa serve neither failed to load nor got ready"
            time.sleep(0.25)
        search = httpx.post(f"{url}/search", json={"query": "extradition"}, timeout=10)
        for response in (ready, search):
            assert response.status_code == 503
            _says_which_file_and_what_to_run(response.json()["error"]["message"], "dense.faiss")
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=30)
    # The reason is logged on one line, without a traceback.
    assert "dense.faiss is " in stderr
    assert "Traceback" not in stderr


@pytest.mark.e2e
def test_the_onnx_query_encoder_agrees_with_torch(real_retriever: Retriever) -> None:
    # The build exported it into the snapshot and it is the default query encoder; per-channel
    # int8 keeps each query's vector close to torch's (measured: cosine mean 0.994, min 0.988).
    import numpy as np

    from eval.gold import GOLD_PATHS, load_gold_sets
    from index.embed import SentenceTransformerEmbedder
    from index.onnx_query import ONNX_QUERY_ENCODER, OnnxQueryEmbedder

    assert isinstance(real_retriever.embedder, OnnxQueryEmbedder)
    settings = real_retriever.settings
    onnx = OnnxQueryEmbedder(real_retriever.index.root / ONNX_QUERY_ENCODER, settings.model_path, settings.model_name)
    # The index's own MiniLM: adapted to the reports by default (index.adapt), exported from it.
    model_dir = (real_retriever.index.manifest.get("adapted") or {}).get("model_dir")
    torch_model = SentenceTransformerEmbedder.from_settings(settings, for_queries=True, model_path=model_dir)
    questions = [q.question for q in load_gold_sets(GOLD_PATHS[:1])]
    cosines = np.sum(torch_model.encode(questions) * onnx.encode(questions), axis=1)
    assert cosines.min() > 0.98


@pytest.mark.e2e
def test_policyqa_mcp_on_a_damaged_index_gives_the_short_reason(damaged_real_copy: Settings) -> None:
    import anyio

    from tests.test_mcp import _stdio

    async def call() -> str:
        async with _stdio(damaged_real_copy) as session:
            result = await session.call_tool("search", {"query": "extradition"})
            assert result.is_error
            return result.content[0].text

    message = anyio.run(call)
    # The same words as the HTTP server's 503: the file and what to run, no absolute path.
    assert "the index could not be loaded" in message
    _says_which_file_and_what_to_run(message, "dense.faiss")
    assert str(damaged_real_copy.data_dir) not in message


def test_a_repair_keeps_the_intact_previous_build(pristine: Path, tmp_path: Path) -> None:
    # Issue 21, finding 4: the repair used to make the damaged build `previous` and delete the intact
    # one, so `build --rollback` then failed on the damaged checksum.
    data = tmp_path / "data"
    shutil.copytree(pristine, data, symlinks=True)
    settings = Settings(data_dir=data, reload_interval=0)
    intact = build_id(data)
    build_index(settings, HashingEmbedder(), force=True)
    damaged = build_id(data)
    _flip_bytes((data / "current").resolve())
    assert build_index(settings, HashingEmbedder()).built
    assert build_id(data, "previous") == intact
    assert sorted(p.name for p in (data / "builds").iterdir()) == sorted([intact, build_id(data)])
    assert damaged not in {p.name for p in (data / "builds").iterdir()}
    assert rollback_index(settings) == intact  # verifies it: the good copy is whole
