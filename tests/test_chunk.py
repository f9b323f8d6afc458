"""Passages: exact spans, one section each, sized for the model, stable ids."""

from __future__ import annotations

import pytest

from core.settings import Settings
from core.types import Document, ParsedDocument, Passage
from corpus import CORPUS_DIR, load_corpus
from corpus._tree import Node, freeze
from index.chunk import chunk_document, count_tokens

MEM = "mem-mexico-2024"
PTR = f"{MEM}/thematic_area-measures-of-prevention-treatment-and-recovery/objective-2"


@pytest.fixture(scope="module")
def parsed() -> tuple[ParsedDocument, ...]:
    return load_corpus()


@pytest.fixture(scope="module")
def passages(parsed: tuple[ParsedDocument, ...]) -> list[Passage]:
    settings = Settings()
    out: list[Passage] = []
    for doc in parsed:
        out.extend(chunk_document(doc, settings.chunk_tokens, settings.context_tokens))
    return out


def test_every_passage_text_is_its_corpus_slice(parsed, passages) -> None:
    # Read the files independently of the parser so a shared bug cannot hide.
    files = {}
    for doc in parsed:
        with (CORPUS_DIR / doc.document.file).open(encoding="utf-8", newline="") as fh:
            files[doc.document.id] = fh.read()
    for p in passages:
        assert files[p.document_id][p.start : p.end] == p.text, p.id


def test_every_passage_lies_inside_one_section_body(parsed, passages) -> None:
    sections = {s.id: s for doc in parsed for s in doc.walk()}
    for p in passages:
        for sid in p.section_ids:
            body = sections[sid].body
            assert body[0][0] <= p.start and p.end <= body[-1][1], (p.id, sid)
            # Both ends fall inside body spans: the passage does not start or end in a child's text.
            assert any(s <= p.start < e for s, e in body)
            assert any(s < p.end <= e for s, e in body)


def test_every_embedded_text_fits_the_models_wordpiece_window(passages) -> None:
    # The real tokenizer of the packaged model; it ships with the model, no download.
    from transformers import AutoTokenizer

    settings = Settings()
    tokenizer = AutoTokenizer.from_pretrained(settings.model_path)
    longest = max(len(tokenizer(p.embed_text)["input_ids"]) for p in passages)
    # input_ids include [CLS] and [SEP]; the model reads at most 256 of them.
    assert longest <= settings.model_max_wordpieces


def test_every_embedded_text_is_within_the_tiktoken_budget(passages) -> None:
    budget = Settings().chunk_tokens
    # +2 for the newline joining context and body and the joins between units.
    assert max(count_tokens(p.embed_text) for p in passages) <= budget + 2


def test_passage_ids_are_unique(passages) -> None:
    assert len({p.id for p in passages}) == len(passages)


def test_rechunking_gives_the_same_ids(parsed, passages) -> None:
    again = [p.id for doc in parsed for p in chunk_document(doc, Settings().chunk_tokens, Settings().context_tokens)]
    assert again == [p.id for p in passages]


def _tiny(text: str) -> ParsedDocument:
    doc = Document("tiny", "Tiny", "Tiny", "me", "2024", "X", "test", "tiny.txt", "generic")
    a_start = text.index("Alpha body")
    b_start = text.index("Beta body")
    nodes = [
        Node("section", None, "Alpha", None, [(a_start, a_start + len("Alpha body."))]),
        Node("section", None, "Beta", None, [(b_start, b_start + len("Beta body."))]),
    ]
    return ParsedDocument(doc, text, freeze("tiny", nodes))


def test_passage_id_does_not_change_when_earlier_text_moves() -> None:
    before = chunk_document(_tiny("Alpha body.\n\nBeta body."), 200, 48)
    after = chunk_document(_tiny("Preface added.\n\nAlpha body.\n\nBeta body."), 200, 48)
    # Offsets shift by 16 characters, but section, ordinal and text are unchanged.
    assert after[1].start == before[1].start + 16
    assert [p.id for p in after] == [p.id for p in before]


def test_shared_body_is_cited_by_all_its_priority_actions(passages) -> None:
    shared = [p for p in passages if p.section_id == f"{PTR}/priority_action-2.1"]
    assert shared
    for p in shared:
        assert p.section_ids == tuple(f"{PTR}/priority_action-{n}" for n in ("2.1", "2.4", "2.5"))
        assert p.label.endswith("› Objective 2 › Priority Actions 2.1, 2.4, 2.5")


def test_label_names_report_area_objective_and_priority_action(passages) -> None:
    p = next(
        p for p in passages if p.section_id.endswith("institutional-strengthening/objective-2/priority_action-2.6")
    )
    assert p.label == "MEM Mexico 2024 — Institutional Strengthening › Objective 2 › Priority Action 2.6"


def test_split_table_pieces_repeat_the_header_in_their_embedded_text(passages) -> None:
    # The 2.1/2.4/2.5 coverage table is too long for one passage; its header row
    # starts "Population Group | Estimated Coverage".
    pieces = [p for p in passages if p.section_id == f"{PTR}/priority_action-2.1" and "\t" in p.text]
    assert len(pieces) >= 2
    for p in pieces:
        assert "Population Group | Estimated Coverage" in p.embed_text
