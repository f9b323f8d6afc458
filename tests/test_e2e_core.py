"""End to end with the real MiniLM model and a real FAISS index (built once per session)."""

from __future__ import annotations

import pytest

from core.settings import Settings
from index.store import load_index
from qa.retrieve import Retriever

pytestmark = pytest.mark.e2e

PTR = "mem-mexico-2024/thematic_area-measures-of-prevention-treatment-and-recovery"


def test_manifest_records_model_dimension_and_corpus_hash(real_settings: Settings) -> None:
    manifest = load_index(real_settings.index_dir).manifest
    assert manifest["model"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert manifest["dimension"] == 384  # MiniLM-L6's embedding size
    assert len(manifest["corpus_hash"]) == 64  # sha256 hex


def test_named_priority_action_comes_first(real_retriever: Retriever) -> None:
    hits = real_retriever.search("What does priority action 2.6 under institutional strengthening say?", k=5)
    assert hits[0].passage.section_id == (
        "mem-mexico-2024/thematic_area-institutional-strengthening/objective-2/priority_action-2.6"
    )
    assert hits[0].passage.label == (
        "MEM Mexico 2024 — Institutional Strengthening › Objective 2 › Priority Action 2.6"
    )


def test_certification_paraphrase_finds_the_objective_4_assessment(real_retriever: Retriever) -> None:
    hits = real_retriever.search("Does Mexico certify people who work in rehabilitation services?", k=3)
    top3 = [h.passage for h in hits]
    match = [p for p in top3 if p.section_id == f"{PTR}/objective-4"]
    assert match, [p.label for p in top3]
    assert match[0].label == "MEM Mexico 2024 — Measures of Prevention, Treatment and Recovery Support › Objective 4"


def test_searching_builds_nothing(real_settings: Settings, real_retriever: Retriever) -> None:
    builds = sorted(p.name for p in (real_settings.data_dir / "builds").iterdir())
    real_retriever.search("alternative development programmes", k=5)
    Retriever.open(real_settings, real_retriever.embedder).search("money laundering", k=5)
    assert sorted(p.name for p in (real_settings.data_dir / "builds").iterdir()) == builds


def test_dense_leg_finds_a_paraphrase_bm25_has_no_words_for(real_retriever: Retriever) -> None:
    # "narcotics smuggled by aircraft" is Alliance Point 14's "interrupt drug
    # shipments by air" in other words: BM25's top 10 misses it, the dense leg finds it.
    query = "stopping narcotics smuggled by aircraft between the two countries"
    bm25 = real_retriever.search(query, k=10, config="bm25")
    dense = real_retriever.search(query, k=10, config="dense")
    assert not any("alliance_point-14" in h.passage.section_id for h in bm25)
    assert any("alliance_point-14" in h.passage.section_id for h in dense)


# -- Spanish questions over the English reports (multilingual-e5 leg, Spanish references) --


def test_spanish_priority_action_with_spanish_area_name_comes_first(real_retriever: Retriever) -> None:
    answered = real_retriever.ask("¿Qué dice la acción prioritaria 2.6 del fortalecimiento institucional?", k=5)
    assert answered.language == "es"
    assert answered.hits[0].passage.label == (
        "MEM Mexico 2024 — Institutional Strengthening › Objective 2 › Priority Action 2.6"
    )


def test_spanish_certification_question_finds_objective_4_with_an_answer(real_retriever: Retriever) -> None:
    # No section is named: only the cross-lingual leg can bring the English assessment first.
    answered = real_retriever.ask("¿Certifica México al personal que trabaja en servicios de rehabilitación?", k=5)
    assert answered.language == "es"
    assert answered.hits[0].passage.section_id == f"{PTR}/objective-4"
    assert answered.answer is not None
    # The answer is the report's verbatim English sentence, inside the cited passage.
    p = answered.answer.passage
    assert p.text[answered.answer.start - p.start : answered.answer.end - p.start] == answered.answer.text


def test_spanish_recommendation_reference_routes_to_honlac(real_retriever: Retriever) -> None:
    hits = real_retriever.search("recomendación 11", k=3)
    assert hits[0].passage.section_ids[0].startswith("unodc-honlac-29-2019/issue-3/recommendation-11")


def test_an_unanswerable_spanish_question_gets_no_answer(real_retriever: Retriever) -> None:
    assert real_retriever.ask("¿Cuál es la capital de Francia?", k=5).answer is None


def test_english_questions_never_encode_with_the_multilingual_model(
    real_settings: Settings, real_retriever: Retriever
) -> None:
    class Refusing:
        dim = 384
        fingerprint = "refusing"

        def encode(self, texts, *, progress=False):  # type: ignore[no-untyped-def]
            raise AssertionError(f"multilingual model asked to encode {texts!r}")

    retriever = Retriever(real_retriever.index, real_retriever.embedder, real_settings, Refusing())
    assert retriever.ask("Does Mexico certify rehabilitation staff?", k=3).language == "en"
