"""The adapted MiniLM's key and cache: what retrains and what reuses (no training here; see the e2e tests)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from core.settings import PROJECT_ROOT, Settings
from index.adapt import adapt_key, ensure_adapted
from index.build import collect_passages
from index.fingerprint import fingerprint


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    shutil.copytree(PROJECT_ROOT / "corpus", corpus, ignore=shutil.ignore_patterns("*.py", "_schemes", "__pycache__"))
    return corpus


def test_the_key_is_the_same_for_the_same_corpus_code_and_model(tmp_path: Path) -> None:
    assert adapt_key(Settings(data_dir=tmp_path / "a")) == adapt_key(Settings(data_dir=tmp_path / "b"))


def test_a_changed_report_changes_the_key(tmp_path: Path, corpus_copy: Path) -> None:
    before = adapt_key(Settings(data_dir=tmp_path, corpus_dir=corpus_copy))
    with (corpus_copy / "state-inl-mexico-fact-sheet-2005.txt").open("a", encoding="utf-8") as f:
        f.write("\nA sentence added later.\n")
    assert adapt_key(Settings(data_dir=tmp_path, corpus_dir=corpus_copy)) != before


def test_training_settings_change_the_key(tmp_path: Path) -> None:
    assert adapt_key(Settings(data_dir=tmp_path)) != adapt_key(Settings(data_dir=tmp_path, adapt_epochs=2))


def test_a_changed_gold_set_changes_the_key(tmp_path: Path) -> None:
    # The held-out texts decide which anchors are dropped.
    gold = tmp_path / "gold.jsonl"
    gold.write_text('{"question": "q", "evidence": [{"quote": "a quote"}]}\n')
    before = adapt_key(Settings(data_dir=tmp_path, adapt_holdout=[gold]))
    gold.write_text('{"question": "q", "evidence": [{"quote": "another quote"}]}\n')
    assert adapt_key(Settings(data_dir=tmp_path, adapt_holdout=[gold])) != before


def test_the_build_fingerprint_names_the_adapted_model_only_when_adapting(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, adapt=True)
    assert fingerprint(settings)["adapted"] == adapt_key(settings)
    assert fingerprint(Settings(data_dir=tmp_path))["adapted"] is None  # off by default


def test_a_model_with_a_matching_key_is_reused_without_training(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    cached = settings.adapted_models / adapt_key(settings)
    cached.mkdir(parents=True)
    (cached / "adapt.json").write_text(json.dumps({"seconds": 201.5, "pairs": 625}))
    adapted = ensure_adapted(settings, *collect_passages(settings))  # would train (minutes) on a miss
    assert (adapted.model_dir, adapted.trained, adapted.seconds, adapted.pairs) == (cached, False, 201.5, 625)


def test_what_a_killed_training_left_is_removed_and_a_running_ones_kept(tmp_path: Path) -> None:
    from index.adapt import _drop_strays

    dead, running = tmp_path / ".trainer-999999999", tmp_path / f".abc-{os.getpid()}"
    dead.mkdir()
    running.mkdir()
    _drop_strays(tmp_path)
    assert (dead.exists(), running.exists()) == (False, True)
