"""The multilingual-e5 leg's approximate index: chosen by size, scored over its candidates only.

Below ``ann_min_passages`` the e5 leg scans every passage and unit exactly
(the bundled corpus: no second FAISS file). From there on a build writes an
HNSW index of the e5 passage vectors (``multilingual.faiss``) and the leg
computes each candidate passage's best unit over that passage's rows only;
these tests check that this equals the exact computation on the candidates,
that the file is checked like every other, and that a snapshot of the
format before it asks for a rebuild.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from core.errors import CorruptIndexError, IndexMissingError
from core.settings import Settings
from eval.gold import load_gold_sets
from eval.synth import write_synthetic
from index.persist import FORMAT_VERSION, MULTILINGUAL_INDEX
from index.snapshots import MANIFEST
from index.store import load_index
from qa.legs import LegQuery
from qa.legs.multilingual import candidate_best_units
from qa.retrieve import Retriever
from tests.fakes import HashingEmbedder


def _exact_best(units: np.ndarray, owners: np.ndarray, vector: np.ndarray, n: int) -> np.ndarray:
    """Every unit scored, each passage's best taken one by one (the plain definition)."""
    scores = units @ vector
    best = np.full(n, -np.inf, dtype=np.float32)
    for row, passage in enumerate(owners):
        best[passage] = max(best[passage], scores[row])
    return best


def test_candidate_best_units_equal_the_exact_best_unit_of_each_candidate() -> None:
    rng = np.random.default_rng(7)
    n = 200
    counts = rng.integers(0, 5, n)  # some passages have no unit
    owners = np.repeat(np.arange(n), counts)
    units = rng.standard_normal((len(owners), 16)).astype(np.float32)
    vector = rng.standard_normal(16).astype(np.float32)
    offsets = np.searchsorted(owners, np.arange(n + 1))
    candidates = np.sort(rng.choice(n, 60, replace=False))
    got = candidate_best_units(units, offsets, candidates, vector, n)
    exact = _exact_best(units, owners, vector, n)
    np.testing.assert_allclose(got[candidates], exact[candidates], rtol=1e-5)
    others = np.setdiff1d(np.arange(n), candidates)
    assert np.isneginf(got[others]).all()
    assert np.isneginf(got[candidates[counts[candidates] == 0]]).all()


def test_candidate_best_units_of_no_candidate_or_unit_less_ones_are_all_minus_infinity() -> None:
    offsets = np.array([0, 0, 2, 2])  # passage 1 owns units 0-1; passages 0 and 2 none
    units = np.eye(2, dtype=np.float32)
    vector = np.array([1.0, 0.0], dtype=np.float32)
    assert np.isneginf(candidate_best_units(units, offsets, np.array([], dtype=np.int64), vector, 3)).all()
    got = candidate_best_units(units, offsets, np.array([0, 1, 2]), vector, 3)
    assert got.tolist() == [-np.inf, 1.0, -np.inf]


def test_bundled_corpus_keeps_the_exact_e5_scan(fake_retriever: Retriever) -> None:
    index = fake_retriever.index
    assert index.manifest["multilingual_index"] == {"kind": "flat"}
    assert index.multilingual_dense is None and not index.multilingual_approximate
    assert not (index.root / MULTILINGUAL_INDEX).exists()


@pytest.fixture(scope="module")
def synthetic(fake_retriever: Retriever, fake_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Thirty reports (4,230 passages: more than the range sample) with the approximate indexes from 1,000."""
    settings = fake_settings.model_copy(update={"ann_min_passages": 1000})
    written = write_synthetic(fake_retriever.index, 30, tmp_path_factory.mktemp("e5ann"), settings)
    return settings.model_copy(update={"data_dir": written.data_dir, "corpus_dir": written.corpus_dir})


def test_e5_hnsw_is_written_and_loaded_at_the_threshold(synthetic: Settings) -> None:
    index = load_index(synthetic.index_dir)
    assert index.manifest["multilingual_index"]["kind"] == "hnsw"
    assert MULTILINGUAL_INDEX in index.manifest["files"]  # checksummed like the rest
    assert index.multilingual_approximate and index.multilingual_dense.ntotal == len(index.passages)
    # Its own beam width, measured for e5's vectors, written into the index file and the manifest.
    ef = synthetic.hnsw_ef_search_multilingual
    assert index.multilingual_dense.hnsw.efSearch == ef == index.manifest["multilingual_index"]["ef_search"]
    assert index.dense.hnsw.efSearch == synthetic.hnsw_ef_search


def test_e5_leg_over_candidates_scores_them_as_the_exact_leg_does(synthetic: Settings) -> None:
    retriever = Retriever.open(synthetic, HashingEmbedder())
    leg = retriever.leg("multilingual")
    questions = [q for q in load_gold_sets() if q.language != "en"][:10]
    for q in questions:
        vector = retriever.encode_query(q.question, q.language)
        query = LegQuery(q.question, q.language, None, lambda v=vector: v)
        approximate = leg.scores(query, None)
        ann, retriever.index.multilingual_dense = retriever.index.multilingual_dense, None
        try:
            exact = leg.scores(query, None)
        finally:
            retriever.index.multilingual_dense = ann
        candidates = np.isfinite(approximate)
        assert 0 < candidates.sum() < len(approximate)  # candidates only, never every passage
        np.testing.assert_allclose(approximate[candidates], exact[candidates], rtol=1e-5, atol=1e-6)


def test_damaged_e5_index_is_reported_by_name(synthetic: Settings, tmp_path: Path) -> None:
    copy = tmp_path / "snapshot"
    shutil.copytree(synthetic.index_dir.resolve(), copy)
    with (copy / MULTILINGUAL_INDEX).open("r+b") as fh:
        fh.seek(100)
        fh.write(b"\xff" * 16)
    with pytest.raises(CorruptIndexError, match=MULTILINGUAL_INDEX):
        load_index(copy)


def test_snapshot_of_the_previous_format_asks_for_a_rebuild(fake_settings: Settings, tmp_path: Path) -> None:
    copy = tmp_path / "old"
    shutil.copytree(fake_settings.index_dir.resolve(), copy)
    manifest = json.loads((copy / MANIFEST).read_text(encoding="utf-8"))
    manifest["format"] = FORMAT_VERSION - 1
    (copy / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexMissingError, match=r"format 7, this version reads 8; run `policyqa build`"):
        load_index(copy)


def test_bm25_scores_of_the_same_text_are_computed_once_and_read_only(fake_retriever: Retriever) -> None:
    # At scale the lexical leg and an approximate vector leg ask for the same text in one search.
    index = fake_retriever.index
    first = index.bm25_scores("certify treatment personnel")
    assert index.bm25_scores("certify treatment personnel") is first
    assert not first.flags.writeable
    other = index.bm25_scores("demand reduction")
    assert other is not first and not np.array_equal(other, first)
