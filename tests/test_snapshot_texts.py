"""A snapshot carries the texts its spans index: a rollback across a corpus change cites exactly.

Issue 21, finding 1: build, insert a line early in a report, build again,
roll back. The server used to read the texts from the corpus directory, so
the rolled-back build's spans landed on the edited file (6 of the INL fact
sheet's 7 sections started mid-word). Through the HTTP app, every section's
text must equal its span in the text that build parsed.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from core.settings import Settings
from corpus import CORPUS_DIR
from index.build import build_index, rollback_index
from index.store import load_index
from qa.retrieve import Retriever
from tests.fakes import HashingEmbedder

INL = "state-inl-mexico-fact-sheet-2005.txt"
INL_ID = "state-inl-mexico-fact-sheet-2005"
EARLY_LINE = "An inserted line near the top shifts every later offset of this report.\n"


@pytest.fixture
def rolled_back(tmp_path: Path) -> tuple[Settings, str]:
    """Build, insert a line near the top of the INL fact sheet, build, roll back; (settings, the original text)."""
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS_DIR, corpus, ignore=shutil.ignore_patterns("*.py", "_schemes", "__pycache__"))
    settings = Settings(data_dir=tmp_path / "data", corpus_dir=corpus, reload_interval=0)
    embedder = HashingEmbedder()
    build_index(settings, embedder)
    path = corpus / INL
    with path.open(encoding="utf-8", newline="") as fh:
        original = fh.read()
    cut = original.index("\n") + 1
    path.write_text(original[:cut] + EARLY_LINE + original[cut:], encoding="utf-8")
    assert build_index(settings, embedder).built
    rollback_index(settings)
    return settings, original


def test_the_snapshot_holds_the_text_its_build_parsed(rolled_back: tuple[Settings, str]) -> None:
    settings, original = rolled_back
    index = load_index(settings.index_dir)
    assert index.texts[INL_ID] == original
    assert f"texts/{INL_ID}/{INL}" in index.manifest["files"]  # checksummed like every file


def test_every_section_after_a_rollback_is_its_span_of_the_snapshots_text(rolled_back: tuple[Settings, str]) -> None:
    settings, original = rolled_back
    app = create_app(settings, Retriever.open(settings, HashingEmbedder()))
    index = app.state.loaded.retriever.index
    sections = [sid for sid, s in index.sections.items() if s.document_id == INL_ID]
    assert len(sections) == 7
    with TestClient(app) as client:
        for sid in sections:
            body = client.get(f"/sections/{sid}").json()
            assert body["text"] == original[body["char_start"] : body["char_end"]], sid
            for piece in body["pieces"]:
                assert piece["text"] == original[piece["char_start"] : piece["char_end"]], sid
