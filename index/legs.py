"""What each embedding leg of a build encodes: the passages' texts and their answer units' texts.

Both models (MiniLM and multilingual-e5) embed the same two lists; the
embedding cache keys each vector by its exact text, so these strings decide
what a build can reuse.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from core.types import Passage
from index.sentences import UNIT_KINDS, answer_units, unit_embed_text

__all__ = ["leg_texts"]


def leg_texts(parsed: list[Any], passages: list[Passage]) -> tuple[list[str], np.ndarray, list[str], list[str]]:
    """What each embedding leg encodes: (passage texts, answer-unit rows, unit headers, unit texts).

    Answer units (sentences, list items, table rows) serve answers
    (``qa.answer``): each is embedded at build time, so no answer text is
    embedded at query time. A unit's row is (passage index, start, end, kind).
    """
    texts = {d.document.id: d.text for d in parsed}
    units = [(i, u) for i, p in enumerate(passages) for u in answer_units(p.text, p.start, texts[p.document_id])]
    rows = np.array([(i, u.start, u.end, UNIT_KINDS.index(u.kind)) for i, u in units], dtype=np.int64).reshape(-1, 4)
    headers = [u.header for _, u in units]
    unit_texts = [
        unit_embed_text(passages[i].text[u.start - passages[i].start : u.end - passages[i].start], u) for i, u in units
    ]
    return [p.embed_text for p in passages], rows, headers, unit_texts
