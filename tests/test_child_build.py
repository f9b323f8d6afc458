"""The build in a child process (index.child): the same report, each step told in order, errors as ours."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from core.errors import CorpusError
from core.settings import Settings
from index.build import BUILD_STEPS
from index.child import build_in_child
from index.store import load_index
from tests.fakes import HashingEmbedder


def test_a_child_build_tells_each_step_and_returns_its_report(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    steps: list[tuple[int, int, str]] = []
    report = build_in_child(settings, HashingEmbedder(), on_step=lambda *s: steps.append(s))
    assert report.built and report.reason == "no index yet"
    assert steps == [(n, len(BUILD_STEPS), what) for n, what in enumerate(BUILD_STEPS, start=1)]
    index = load_index(settings.index_dir)
    assert len(index.passages) == report.passages
    assert index.manifest["build_id"].split("-")[1] != str(os.getpid())  # written by another process


def test_a_child_builds_error_arrives_as_the_same_error(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "catalog.json").write_text('[{"id": "x"}]', encoding="utf-8")
    settings = Settings(data_dir=tmp_path / "data", corpus_dir=corpus)
    with pytest.raises(CorpusError, match="catalog entry 0 lacks title"):
        build_in_child(settings, HashingEmbedder())
