"""A build's four embedding legs: what each encodes, and running them (both models at once on a real build).

Both models (MiniLM and multilingual-e5) embed the same two lists, the
passages' texts and their answer units' texts; the embedding cache keys
each vector by its exact text, so these strings decide what a build can reuse.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from core.types import Passage
from index.embed import Embedder
from index.embed_cache import CachedEmbedder
from index.embed_steps import LegStoppedError, encode_logged
from index.sentences import UNIT_KINDS, answer_units, unit_embed_text

__all__ = ["LegVectors", "embed_legs", "leg_texts"]

_T = TypeVar("_T")


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


@dataclass(frozen=True)
class LegVectors:
    """What the four legs made: MiniLM's and multilingual-e5's vectors of the passages and of the answer units."""

    passages: np.ndarray
    units: np.ndarray
    multilingual_passages: np.ndarray
    multilingual_units: np.ndarray


def embed_legs(
    english: Callable[[], CachedEmbedder],
    multilingual: Embedder,
    passage_texts: list[str],
    unit_texts: list[str],
    *,
    concurrent: bool,
    progress: bool,
    timings: dict[str, Any],
    step: Callable[[int], None],
) -> tuple[CachedEmbedder, LegVectors]:
    """Embed the passages' and answer units' texts with both models: (the English embedder used, the vectors).

    ``english()`` gives MiniLM (behind its cache): loaded, or waiting for a
    load begun earlier (``index.build`` starts it before parsing).
    With ``concurrent``, MiniLM is loaded and runs its two legs in a thread
    of its own while this thread runs multilingual-e5's: each engine leaves
    a core idle part of the time (tokenising, moving batches, importing
    torch, the e5 word table's dequantisation), which the other then uses.
    Each engine keeps its own threads and batches, so each vector is the
    one a build on its own would make. A failure in either stops the other
    at its next call of 128 texts.
    """
    stop = threading.Event()

    def run_english() -> tuple[CachedEmbedder, np.ndarray, np.ndarray]:
        embedder = english()
        step(3)
        a = encode_logged(embedder, passage_texts, "passages", progress, timings, stop)
        step(4)
        return embedder, a, encode_logged(embedder, unit_texts, "sentences", progress, timings, stop)

    def run_multilingual() -> tuple[np.ndarray, np.ndarray]:
        # The cross-lingual leg: the same passages and answer units, in multilingual-e5's space.
        step(5)
        a = encode_logged(multilingual, passage_texts, "passages (multilingual)", progress, timings, stop)
        step(6)
        return a, encode_logged(multilingual, unit_texts, "sentences (multilingual)", progress, timings, stop)

    if not concurrent:
        embedder, passages, units = run_english()
        return embedder, LegVectors(passages, units, *run_multilingual())

    def stopping_the_other(run: Callable[[], _T]) -> Callable[[], _T]:
        def guarded() -> _T:
            try:
                return run()
            except BaseException:
                stop.set()
                raise

        return guarded

    with ThreadPoolExecutor(1, thread_name_prefix="policyqa-minilm") as pool:
        job = pool.submit(stopping_the_other(run_english))
        try:
            ml = stopping_the_other(run_multilingual)()
        except LegStoppedError:
            job.result()  # MiniLM's failure stopped this leg: that failure is the one to report
            raise
        embedder, passages, units = job.result()
    timings["legs_concurrent"] = True
    return embedder, LegVectors(passages, units, *ml)
