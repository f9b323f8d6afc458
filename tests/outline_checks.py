"""Checks every scheme parser must pass, shared by the per-report outline tests."""

from __future__ import annotations

from core.types import ParsedDocument, Section, Span
from corpus import load_corpus

__all__ = ["of_kind", "parse", "partly_covered_lines", "span_text", "uncovered_lines"]


def parse(document_id: str) -> ParsedDocument:
    """One bundled report, parsed through the public corpus API."""
    (doc,) = load_corpus(only=document_id)
    return doc


def of_kind(doc: ParsedDocument, kind: str) -> list[Section]:
    """Every section of ``kind``, in document order."""
    return [s for s in doc.walk() if s.kind == kind]


def span_text(doc: ParsedDocument, span: Span) -> str:
    return doc.text[span[0] : span[1]]


def _covered(doc: ParsedDocument) -> bytearray:
    covered = bytearray(len(doc.text))
    for s in doc.walk():
        for start, end in ([s.heading] if s.heading else []) + list(s.body):
            covered[start:end] = b"\x01" * (end - start)
    return covered


def _lines(doc: ParsedDocument, ignore: str) -> list[tuple[int, str, list[int]]]:
    """(1-based number, line, offsets of its characters that count) for every line."""
    out, pos = [], 0
    for number, line in enumerate(doc.text.split("\n"), start=1):
        chars = [pos + i for i, ch in enumerate(line) if not ch.isspace() and ch not in ignore]
        out.append((number, line, chars))
        pos += len(line) + 1
    return out


def uncovered_lines(doc: ParsedDocument, ignore: str = "") -> list[tuple[int, str]]:
    """(number, stripped text) of each line with a character outside every heading and body span.

    Characters in ``ignore`` do not count (markdown asterisks left between
    two spans of a fused heading line, say).
    """
    covered = _covered(doc)
    return [(n, line.strip()) for n, line, chars in _lines(doc, ignore) if any(not covered[i] for i in chars)]


def partly_covered_lines(doc: ParsedDocument) -> list[str]:
    """Lines that are half in a span and half out: a span boundary cut through text."""
    covered = _covered(doc)
    return [line for _, line, chars in _lines(doc, "") if 0 < sum(covered[i] for i in chars) < len(chars)]
