"""English words for Spanish questions: the translator, its settings, and what the answer does with them."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import pytest

import qa.translate as translate_module
from core.errors import SettingsError
from core.settings import Settings
from qa.answer import UnitStore, extract_answer
from qa.retrieve import Retriever
from qa.translate import ApertiumTranslator, translator_for

CERTIFY_ES = "¿Certifica México al personal que trabaja en servicios de rehabilitación?"
NOT_CERTIFIED = "does not certify personnel who work in rehabilitation"

needs_apertium = pytest.mark.skipif(
    ApertiumTranslator.missing() is not None,
    reason=f"Apertium is not installed ({ApertiumTranslator.missing()}); `make test` installs it",
)


class RecordingTranslator:
    """A translator that answers from a table and records what it was asked."""

    name = "recording"

    def __init__(self, table: dict[str, str]) -> None:
        self.table = table
        self.asked: list[tuple[str, str]] = []

    def translate(self, text: str, language: str) -> str | None:
        self.asked.append((text, language))
        return self.table.get(text)


# -- the answer with a translation (hashing embedder, no Apertium) ---------------------


def test_translated_words_choose_the_answer_among_the_candidates(fake_retriever: Retriever) -> None:
    hits = fake_retriever.search("certification of rehabilitation and treatment personnel", k=3)
    # The Spanish words share nothing with the English units: the hashing cosines say little,
    # so the English words matched by BM25 decide, and they name the sentence that answers.
    answer = extract_answer(
        CERTIFY_ES,
        hits,
        fake_retriever.encode_query(CERTIFY_ES, "es"),
        UnitStore(fake_retriever.multilingual),
        min_score=-1.0,
        words="Certify Mexico to the personnel that works in services of rehabilitation?",
    )
    assert answer is not None
    assert NOT_CERTIFIED in answer.text


def test_spanish_answer_is_chosen_with_the_translation(fake_settings: Settings, fake_retriever) -> None:
    words = "Certify Mexico to the personnel that works in services of rehabilitation?"
    translator = RecordingTranslator({CERTIFY_ES: words})
    retriever = Retriever.open(fake_settings, fake_retriever.embedder, translator=translator)
    answered = retriever.ask(CERTIFY_ES, k=5, language="es")
    assert set(translator.asked) == {(CERTIFY_ES, "es")}  # the search's BM25 leg and the answer
    hits = retriever.search(CERTIFY_ES, k=5, language="es")
    assert answered.hits == hits
    expected = extract_answer(
        CERTIFY_ES,
        hits,
        retriever.encode_query(CERTIFY_ES, "es"),
        retriever.units("es"),
        retriever.settings.answer_min_score_multilingual,
        words=words,
    )
    assert answered.answer == expected


def test_spanish_bm25_leg_reads_the_translation(fake_settings: Settings, fake_retriever) -> None:
    words = "certify personnel rehabilitation"
    retriever = Retriever.open(
        fake_settings, fake_retriever.embedder, translator=RecordingTranslator({CERTIFY_ES: words})
    )
    row = {p.id: i for i, p in enumerate(retriever.index.passages)}
    english = retriever.index.bm25_scores(words)
    hits = retriever.search(CERTIFY_ES, k=10, language="es")
    # Each hit's BM25 score is the English words' score of that passage, not the Spanish words'.
    assert [h.scores.get("bm25") for h in hits] == [
        float(english[row[h.passage.id]]) if english[row[h.passage.id]] > 0 else None for h in hits
    ]
    assert any(h.scores.get("bm25") for h in hits)


def test_untranslated_spanish_bm25_leg_does_not_move_the_ranking(fake_settings: Settings, fake_retriever) -> None:
    # Without English words the BM25 leg (Spanish words on English text) has weight 0: the
    # ranking is the dense leg's, whatever BM25 says.
    retriever = Retriever.open(fake_settings, fake_retriever.embedder, translator=RecordingTranslator({}))
    routed = retriever.search(CERTIFY_ES, k=10, language="es", config="hybrid")
    dense = retriever.search(CERTIFY_ES, k=10, language="es", config="dense")
    assert [h.passage.id for h in routed][:5] == [h.passage.id for h in dense][:5]


def test_an_english_question_is_never_translated(fake_settings: Settings, fake_retriever) -> None:
    translator = RecordingTranslator({})
    retriever = Retriever.open(fake_settings, fake_retriever.embedder, translator=translator)
    retriever.ask("Does Mexico certify rehabilitation staff?", k=3, language="en")
    assert translator.asked == []


def test_without_a_translator_a_spanish_answer_matches_no_words(fake_retriever: Retriever) -> None:
    assert fake_retriever.translator is None  # unit tests pass none
    assert fake_retriever.english_words(CERTIFY_ES, "es") is False


def test_a_failed_translation_leaves_the_answer_without_words(fake_settings: Settings, fake_retriever) -> None:
    retriever = Retriever.open(fake_settings, fake_retriever.embedder, translator=RecordingTranslator({}))
    assert retriever.english_words(CERTIFY_ES, "es") is False  # the table has no entry: None -> no words


# -- settings ---------------------------------------------------------------------------


def test_translator_none_is_no_translator(fake_settings: Settings) -> None:
    assert translator_for(fake_settings.model_copy(update={"translator": "none"})) is None


def test_translator_apertium_without_apertium_is_a_settings_error(
    fake_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(translate_module, "MODES_DIR", tmp_path)  # a machine without the pair
    with pytest.raises(SettingsError, match=r"POLICYQA_TRANSLATOR=apertium.*spa-eng.*apt-get install apertium"):
        translator_for(fake_settings.model_copy(update={"translator": "apertium"}))


def test_translator_auto_without_apertium_is_no_translator(
    fake_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(translate_module, "MODES_DIR", tmp_path)
    assert translator_for(fake_settings.model_copy(update={"translator": "auto"})) is None


def test_translator_setting_rejects_an_unknown_name() -> None:
    with pytest.raises(ValueError, match="auto"):
        Settings(translator="google")  # type: ignore[arg-type]


def test_mode_pipeline_flushes_every_stage_at_nul(tmp_path: Path) -> None:
    (tmp_path / "spa-eng.mode").write_text(
        "lt-proc '/d/spa-eng.automorf.bin' | apertium-tagger -g $2 '/d/spa-eng.prob' | lt-proc $1 '/d/gen.bin'\n"
    )
    # Every stage gets -z and unbuffered output; $1 is the generator's "leave unknown words unmarked"
    # flag (-n, as `apertium -u`), $2 the tagger's optional flag (none).
    assert ApertiumTranslator(tmp_path).command("spa-eng") == (
        "stdbuf -o0 lt-proc -z /d/spa-eng.automorf.bin"
        " | stdbuf -o0 apertium-tagger -z -g /d/spa-eng.prob"
        " | stdbuf -o0 lt-proc -z -n /d/gen.bin"
    )


def test_a_language_without_a_pair_is_not_translated() -> None:
    assert ApertiumTranslator().translate("Bonjour", "fr") is None  # no pipeline is started for it


# -- Apertium itself --------------------------------------------------------------------


@needs_apertium
def test_apertium_gives_the_reports_words_for_a_spanish_question() -> None:
    translator = ApertiumTranslator()
    try:
        english = translator.translate(CERTIFY_ES, "es")
    finally:
        translator.close()
    assert english is not None
    words = set(english.lower().replace("?", " ").split())
    assert {"certify", "personnel", "rehabilitation", "services"} <= words


@needs_apertium
def test_apertium_reads_reserved_characters_and_line_breaks_as_spaces() -> None:
    translator = ApertiumTranslator()
    try:
        english = translator.translate("¿Qué dice la acción 2.6?\n<b>^$@ [x] {y}</b> y/o #1", "es")
    finally:
        translator.close()
    assert english is not None
    assert "\n" not in english and "2.6" in english


@needs_apertium
def test_apertium_pipeline_that_dies_is_started_again() -> None:
    translator = ApertiumTranslator()
    try:
        first = translator.translate("el presupuesto", "es")
        os.killpg(translator._pipes["spa-eng"].pid, signal.SIGKILL)
        translator._pipes["spa-eng"].wait()
        lost = translator.translate("la prevención", "es")  # written to a dead pipeline
        again = translator.translate("el tratamiento", "es")  # a new one
    finally:
        translator.close()
    assert first is not None and lost is None and again == "The treatment"


@needs_apertium
def test_apertium_answers_each_thread_its_own_question() -> None:
    questions = {i: f"el objetivo {i} de la meta {i + 1}" for i in range(24)}
    reference, translator = ApertiumTranslator(), ApertiumTranslator()
    results: dict[int, str | None] = {}

    def ask(i: int) -> None:
        results[i] = translator.translate(questions[i], "es")

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(24)]
    try:
        expected = {i: reference.translate(q, "es") for i, q in questions.items()}  # one at a time
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        reference.close()
        translator.close()
    # One pipeline, one question in it at a time: no reply is another thread's or cut short.
    assert all(expected[i] and f"{i} " in f"{expected[i]} " for i in questions)
    assert results == expected


# -- end to end, real models ----------------------------------------------------------------


@needs_apertium
@pytest.mark.e2e
def test_spanish_list_question_is_answered_with_the_list_item(real_retriever: Retriever) -> None:
    assert real_retriever.translator is not None  # auto: Apertium is installed
    answer = real_retriever.ask("¿Qué instituciones forman el Subgrupo de Política de Drogas?").answer
    assert answer is not None
    assert answer.kind == "list_item"
    assert "Drug Policy Subgroup" in answer.text
