"""A server whose index fails to load tells clients a short reason and what to run; the log keeps the detail."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app
from index.build import build_index
from tests.conftest import make_settings
from tests.fakes import HashingEmbedder

# -- 5. a failed load tells clients a short reason, the log the detail ----------------------


def test_an_index_that_fails_to_load_answers_503_without_paths_or_library_internals(tmp_path: Path, caplog) -> None:
    settings = make_settings(tmp_path)
    embedder = HashingEmbedder()
    build_index(settings, embedder)
    faiss_file = settings.index_dir / "dense.faiss"
    faiss_file.write_bytes(faiss_file.read_bytes()[:100])  # truncated: FAISS cannot read it

    caplog.set_level(logging.ERROR, logger="policyqa.api")
    with TestClient(create_app(settings, embedder=embedder)) as client:
        deadline = time.monotonic() + 30
        while (response := client.get("/readyz")).status_code == 503 and "loading" in response.text:
            assert time.monotonic() < deadline, "the load neither finished nor failed"
            time.sleep(0.05)
        search = client.get("/search", params={"q": "budget"})
    assert response.status_code == 503 and search.status_code == 503
    message = response.json()["error"]["message"]
    assert message == search.json()["error"]["message"]
    # The file that is damaged, by name, and what to run; not where the data dir lies.
    assert message.startswith("the index could not be loaded: index file dense.faiss ")
    assert "run `policyqa build`" in message and str(tmp_path) not in message
    # The operator's log keeps the full detail, the path included.
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert str(tmp_path / "data") in logged or str(tmp_path) in logged
