"""Span invariants every report's section tree must hold."""

from __future__ import annotations

import itertools

import pytest

from core.types import ParsedDocument
from corpus import load_corpus

DOCS = {doc.document.id: doc for doc in load_corpus()}


@pytest.fixture(params=sorted(DOCS))
def doc(request: pytest.FixtureRequest) -> ParsedDocument:
    return DOCS[request.param]


def test_spans_are_trimmed_nonempty_and_inside_the_text(doc: ParsedDocument) -> None:
    for s in doc.walk():
        for start, end in ([s.heading] if s.heading else []) + list(s.body):
            assert 0 <= start < end <= len(doc.text), s.id
            piece = doc.text[start:end]
            assert piece == piece.strip(), s.id


def test_body_spans_are_sorted_and_disjoint(doc: ParsedDocument) -> None:
    for s in doc.walk():
        for (_, end1), (start2, _) in zip(s.body, s.body[1:], strict=False):
            assert end1 <= start2, s.id


def test_no_body_span_contains_a_heading(doc: ParsedDocument) -> None:
    headings = [s.heading for s in doc.walk() if s.heading]
    for s in doc.walk():
        for start, end in s.body:
            assert not any(start < h_end and h_start < end for h_start, h_end in headings), s.id


def test_sections_of_different_bodies_never_overlap(doc: ParsedDocument) -> None:
    # Identical bodies are allowed (shared text cited by several sections); partial overlap is not.
    spans = sorted({span for s in doc.walk() for span in s.body})
    for (_, end1), (start2, _) in itertools.pairwise(spans):
        assert end1 <= start2
