"""``policyqa bench --scale``: the synthetic collection, and the dense index chosen by size.

CI runs the benchmark at 30 reports here, with the hashing embedder standing
in for the models (no server: it would load the real ones). Timings are
never asserted; the index's kind and its recall against exact search are.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core.settings import Settings
from eval.gold import load_gold_sets
from eval.scale import run_scale
from eval.synth import perturb, write_synthetic
from index.ann import DenseSpec, build_dense, search_dense
from index.store import load_index
from qa.retrieve import Retriever
from tests.fakes import HashingEmbedder


@pytest.fixture(scope="module")
def scale_30(fake_retriever: Retriever, fake_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The benchmark at 30 reports, with the approximate index switched on at half their passages."""
    passages = 30 // len(fake_retriever.index.documents) * len(fake_retriever.index.passages)
    settings = fake_settings.model_copy(update={"ann_min_passages": passages // 2})
    return run_scale(
        30,
        load_gold_sets(),
        settings,
        embedder=HashingEmbedder(),
        rounds=1,
        http=False,
        keep=tmp_path_factory.mktemp("scale"),
    )


def test_dense_index_is_flat_below_the_threshold_and_hnsw_at_it(fake_settings: Settings) -> None:
    settings = fake_settings.model_copy(update={"ann_min_passages": 1000})
    assert DenseSpec.for_size(999, settings).kind == "flat"
    assert DenseSpec.for_size(1000, settings) == DenseSpec(
        "hnsw", settings.hnsw_m, settings.hnsw_ef_construction, settings.hnsw_ef_search
    )
    # The e5 passages' index follows the same rule, with its own beam width.
    assert DenseSpec.for_size(999, settings, multilingual=True).kind == "flat"
    assert DenseSpec.for_size(1000, settings, multilingual=True) == DenseSpec(
        "hnsw", settings.hnsw_m, settings.hnsw_ef_construction, settings.hnsw_ef_search_multilingual
    )


def test_bundled_corpus_keeps_the_exact_flat_index(fake_retriever: Retriever) -> None:
    assert fake_retriever.index.manifest["dense_index"] == {"kind": "flat"}
    assert not hasattr(fake_retriever.index.dense, "hnsw")


def test_scale_30_switches_on_hnsw_at_its_threshold(scale_30: dict) -> None:
    assert scale_30["reports"] == 30
    assert scale_30["passages"] == 4230  # the 705 bundled passages, six times
    assert scale_30["dense_index"]["kind"] == "hnsw"


def test_scale_30_hnsw_recall_at_10_against_exact_is_at_least_097(scale_30: dict) -> None:
    assert scale_30["recall_at_10"] >= 0.97


def test_scale_30_switches_on_the_e5_hnsw_at_the_same_threshold(scale_30: dict) -> None:
    assert scale_30["multilingual_index"] == "hnsw"


def test_scale_30_e5_recall_at_10_against_exact_is_at_least_097(scale_30: dict) -> None:
    # The index alone, and the Spanish leg's blended scores (candidates' best units) against its exact ones.
    assert scale_30["e5_recall_at_10"] >= 0.97
    assert scale_30["e5_leg_recall_at_10"] >= 0.97
    assert 0 < scale_30["routed_top10_same_as_exact_es"] <= 1


def test_scale_30_reports_every_figure(scale_30: dict) -> None:
    assert scale_30["disk_mb"] > 0
    assert scale_30["load"]["load_s"] > 0
    assert scale_30["in_process"]["en"]["n"] > 0 and scale_30["in_process"]["es"]["n"] > 0
    assert scale_30["http"] == {"skipped": "--no-http"}


def test_perturb_keeps_the_length_and_changes_digits_and_words() -> None:
    text = "Priority action 2.6: Mexico certifies treatment personnel, 2019."
    vocabulary = ["mexico", "action", "treatment", "personnel", "priority", "certifies", "national", "programs"]
    copies = [perturb(text, copy, vocabulary) for copy in range(1, 6)]
    assert all(len(c) == len(text) for c in copies)
    assert len(set(copies)) == 5
    assert perturb(text, 3, vocabulary) == copies[2]  # deterministic


def test_synthetic_copy_offsets_index_into_its_own_text(
    fake_retriever: Retriever, fake_settings: Settings, tmp_path: Path
) -> None:
    synthetic = write_synthetic(fake_retriever.index, 10, tmp_path, fake_settings)
    index = load_index(synthetic.data_dir / "current")
    copy = next(p for p in index.passages if p.document_id.endswith("-copy001"))
    text = (synthetic.corpus_dir / index.documents[copy.document_id].file).read_text(encoding="utf-8")
    assert text[copy.start : copy.end] == copy.text
    original = next(p for p in index.passages if p.document_id + "-copy001" == copy.document_id)
    assert copy.text != original.text


def test_filtered_hnsw_search_returns_only_allowed_passages() -> None:
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((2000, 32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = build_dense(vectors, DenseSpec("hnsw", 16, 40, 50))
    for share in (0.1, 0.5):  # exact over the allowed rows; the graph with a selector
        allowed = rng.random(2000) < share
        _, idx = search_dense(index, vectors[0], allowed, 10)
        assert len(idx) >= 10 and allowed[idx].all()


@pytest.mark.e2e
def test_bench_scale_30_runs_from_the_command_line_and_serves(real_settings: Settings, tmp_path: Path) -> None:
    # The real models' vectors, the approximate index switched on low, and a server over the
    # collection: it must load the synthetic snapshot as up to date, never rebuild it.
    env = {
        **os.environ,
        "POLICYQA_DATA_DIR": str(real_settings.data_dir),
        "POLICYQA_ANN_MIN_PASSAGES": "2000",
    }
    args = ["bench", "--scale", "30", "--rounds", "1", "--workers", "1", "--requests", "20", "--out", str(tmp_path)]
    subprocess.run(
        [sys.executable, "-m", "cli", *args],
        env=env,
        check=True,
        timeout=1200,
        capture_output=True,
    )
    figures = json.loads((tmp_path / "bench-scale-30.json").read_text(encoding="utf-8"))
    assert figures["dense_index"]["kind"] == "hnsw"
    assert figures["recall_at_10"] >= 0.97
    assert figures["e5_recall_at_10"] >= 0.97 and figures["e5_leg_recall_at_10"] >= 0.97
    assert figures["http"]["search"]["n"] == 20 and figures["http"]["search"]["errors"] == 0
