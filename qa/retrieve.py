"""Retrieval: hybrid BM25 + dense search, section routing, filters, de-duplication.

A configuration is a small pure function from the legs' score arrays to one
ranking score, chosen by name (``CONFIGS``); routing (sections named by
number) is a flag of the configuration, so evaluators can compare
``bm25``, ``dense``, ``hybrid`` and ``routed`` on the same index.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from core.errors import IndexStoreError, InvalidQueryError, UnknownVariantError, check_text, shown
from core.types import Answered, Filters, Hit, Passage
from qa.fusion import DEFAULT_FUSION, Fusion, convex, get_fusion
from qa.lang import check_language, detect_language
from qa.route import Route, named_documents, route

if TYPE_CHECKING:
    from core.settings import Settings
    from index.embed import Embedder
    from index.store import StoredIndex
    from qa.translate import Translator

_log = logging.getLogger("policyqa.qa")

__all__ = [
    "CONFIGS",
    "DEFAULT_CONFIG",
    "SPANISH_LEXICAL_WEIGHT",
    "SPANISH_SENTENCE_WEIGHT",
    "TRANSLATED_LEXICAL_WEIGHT",
    "Config",
    "Retriever",
    "get_config",
    "query_embedder",
]

SPANISH_LEXICAL_WEIGHT = 0.0
"""Share of the (English) BM25 leg in convex fusion for a non-English question, beside the
multilingual-e5 leg. Measured on the Spanish gold set's dev split (54 questions), routed:
weight 0.0 hit@5 0.833 / cit@1 0.667, 0.1 0.815 / 0.519, 0.3 0.537 / 0.259. Spanish words
("de", "la", "personal") match English text by accident, and min-max normalisation lifts that
noise to the dense leg's scale; so the Spanish ranking is the cross-lingual leg alone, with
routing (section numbers, report and area names) on top. This holds without a translator; with
one, the BM25 leg reads the question's English instead (``TRANSLATED_LEXICAL_WEIGHT``)."""

TRANSLATED_LEXICAL_WEIGHT = 0.2
"""Share of the BM25 leg for a non-English question when it reads the question's English words
(Apertium, ``qa.translate``) rather than its own. Rough English, but the reports' words, codes and
names ("NOM-028", "Bicentennial Agreement") now match. Measured on the Spanish gold set's dev
split (55 questions), routed, hit@1 / hit@3 / hit@5 / cited section at 1: weight 0.0 0.582 / 0.764
/ 0.855 / 0.691; 0.1 0.636 / 0.818 / 0.891 / 0.745; 0.2 0.691 / 0.855 / 0.945 / 0.800; 0.3 0.691 /
0.836 / 0.927 / 0.800. English questions never read a translation: their figures are unchanged."""

SPANISH_SENTENCE_WEIGHT = 0.5
"""Weight of a passage's best sentence beside the passage itself in the cross-lingual leg.

A long passage's e5 vector is close to many Spanish questions (a "hub": one
Elementa passage came first for about 13 unrelated ones); the sentence that
states the asked fact is not. Scoring a passage by (passage + w * best
unit) / (1 + w), a unit being an answer unit (sentence, list item, table
row), measured routed on the Spanish dev split (55 questions): w 0 hit@5
0.800 / cit@1 0.636 / MRR@10 0.726; w 0.5 0.855 / 0.691 / 0.787; w 1.0
0.855 / 0.709 / 0.789. (With sentences only, on the 54 of the earlier
split: w 0 0.815 / 0.667, w 0.5 0.870 / 0.722, the best unit alone 0.796 /
0.593.) English keeps the passage vector alone (see ``Retriever._legs``)."""


_Vectors = dict[tuple[str, str], np.ndarray]
"""One request's query vectors by (language, text): each text is encoded once per request,
and handed to the dense leg, the topic leg and the answer, even with the cache off."""


@dataclass(frozen=True, slots=True)
class _Legs:
    bm25: np.ndarray
    dense: np.ndarray


def _bm25(legs: _Legs, fusion: Fusion) -> np.ndarray:
    return legs.bm25


def _dense(legs: _Legs, fusion: Fusion) -> np.ndarray:
    return legs.dense


def _hybrid(legs: _Legs, fusion: Fusion) -> np.ndarray:
    return fusion([legs.bm25, legs.dense])


@dataclass(frozen=True, slots=True)
class Config:
    """A named retrieval configuration."""

    name: str
    score: Callable[[_Legs, Fusion], np.ndarray]
    routing: bool
    description: str


CONFIGS: dict[str, Config] = {
    c.name: c
    for c in (
        Config("bm25", _bm25, False, "BM25 only (bm25s, English stemming and stopwords)"),
        Config("dense", _dense, False, "MiniLM embeddings in FAISS only"),
        Config("hybrid", _hybrid, False, "BM25 + dense, fused"),
        Config("routed", _hybrid, True, "hybrid, with sections named by number routed first"),
    )
}
DEFAULT_CONFIG = "routed"


def get_config(name: str) -> Config:
    """The configuration called ``name``; the error lists the valid names."""
    try:
        return CONFIGS[name]
    except KeyError:
        raise UnknownVariantError("retrieval configuration", name, list(CONFIGS)) from None


_WORD = re.compile(r"[a-z0-9]{3,}")
DUPLICATE_JACCARD = 0.85
"""Word-set overlap above which two passages count as the same text."""


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


class Retriever:
    """Answers queries over one loaded index. Thread-safe for concurrent reads."""

    def __init__(
        self,
        index: StoredIndex,
        embedder: Embedder,
        settings: Settings,
        multilingual: Embedder | None = None,
        translator: Translator | None = None,
    ) -> None:
        self.index = index
        self.embedder = embedder
        # English words of a non-English question, for its BM25 leg and its answer's lexical match (qa.translate).
        self.translator = translator
        # Encodes non-English questions for the cross-lingual leg (multilingual-e5 query side).
        # Unit tests index with one fake embedder for both legs and pass only that one.
        self.multilingual = multilingual if multilingual is not None else embedder
        self.settings = settings
        self._words = [frozenset(_WORD.findall(p.text.lower())) for p in index.passages]
        # Each passage's sentence vectors, embedded at build time: answers
        # (qa.answer) read them instead of embedding sentences per request.
        self.sentence_vectors: dict[str, np.ndarray] = index.sentence_vectors_by_passage()
        self.multilingual_sentence_vectors = index.sentence_vectors_by_passage(multilingual=True)
        self._sentence_passage = np.asarray(index.sentences[:, 0], dtype=np.int64)  # passage of each answer unit's row
        # ... and the answer units those vectors are of (sentences, list items, table rows).
        self.answer_units = index.units_by_passage()
        self._query_vectors: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._query_lock = threading.Lock()
        self.encodings = 0  # queries encoded by a model since start (cache misses), for the benchmark
        self._areas = sorted({el.title for s in index.sections.values() for el in s.path if el.kind == "thematic_area"})
        # The areas' names in other languages ("Fortalecimiento Institucional"), from the catalog.
        self._area_aliases = {name: title for d in index.documents.values() for title, name in d.area_names}
        # Fixed for the index's life: computed once, not on every filtered search.
        numbers = {
            kind: sorted({s.number for s in index.sections.values() if s.kind == kind and s.number}, key=_numkey)
            for kind in ("objective", "priority_action")
        }
        self._valid: dict[str, tuple[str, ...]] = {
            "document": tuple(sorted(index.documents)),
            "thematic_area": tuple(self._areas),
            **{kind: tuple(values) for kind, values in numbers.items()},
        }

    @classmethod
    def open(
        cls,
        settings: Settings | None = None,
        embedder: Embedder | None = None,
        multilingual: Embedder | None = None,
        translator: Translator | None = None,
    ) -> Retriever:
        """Load the built index and the models; never builds or embeds the corpus.

        A fake ``embedder`` given alone (unit tests) stands in for both legs,
        with no translator unless one is given. With the real models, the
        translator is the settings' (``qa.translate.translator_for``).
        """
        from core.settings import get_settings
        from index.store import load_index
        from qa.translate import translator_for

        settings = settings or get_settings()
        if embedder is None and translator is None:
            translator = translator_for(settings)  # before the index: a configuration error fails fast
        index = load_index(settings.index_dir)
        if embedder is None:
            _single_threaded_blas()
            embedder = query_embedder(settings, index)
            if multilingual is None:
                from index.embed import E5Embedder

                multilingual = E5Embedder(for_queries=True)
        return cls(index, embedder, settings, multilingual, translator)

    def reopen(self) -> Retriever:
        """A retriever over the index now at ``data/current``, sharing this one's models.

        What a server's reload calls: the new snapshot is verified and loaded
        (seconds), the models are not loaded again. Refuses an index whose
        dimension or query encoder does not fit the models in memory.
        """
        from index.store import load_index

        index = load_index(self.settings.index_dir)
        if index.manifest.get("dimension") not in (None, self.embedder.dim):
            raise IndexStoreError(
                f"index {index.build_id} has {index.manifest.get('dimension')}-d vectors, the loaded model "
                f"{self.embedder.dim}-d; restart the server to load the new model"
            )
        embedder = self.embedder
        if getattr(embedder, "onnx_path", None) is not None:
            # The ONNX encoder ships with each snapshot: load the new build's own export.
            embedder = query_embedder(self.settings, index)
        return Retriever(index, embedder, self.settings, self.multilingual, self.translator)

    # -- filters -------------------------------------------------------------

    def valid_filter_values(self) -> dict[str, list[str]]:
        """What each filter accepts, for error messages and API docs."""
        return {name: list(values) for name, values in self._valid.items()}

    def _resolve_area(self, value: str) -> str:
        v = _norm(value)
        aliases = [title for name, title in self._area_aliases.items() if _norm(name) == v]
        if aliases:
            return aliases[0]
        partial_alias = {title for name, title in self._area_aliases.items() if v and v in _norm(name)}
        if len(partial_alias) == 1:
            return partial_alias.pop()
        exact = [a for a in self._areas if _norm(a) == v]
        if exact:
            return exact[0]
        partial = [a for a in self._areas if v and v in _norm(a)]
        if len(partial) == 1:
            return partial[0]
        raise InvalidQueryError(
            f"thematic_area {shown(value)} matches {'several' if partial else 'no'} thematic areas; "
            f"valid: {'; '.join(partial or self._areas)} (or in Spanish: {'; '.join(sorted(self._area_aliases))})"
        )

    def filter_mask(self, filters: Filters | None) -> np.ndarray | None:
        """Boolean mask of passages the filters allow (None: no filter)."""
        if filters is None or filters.is_empty():
            return None
        valid = self._valid
        checks: list[Callable[[Passage], bool]] = []
        if filters.document:
            if filters.document not in self.index.documents:
                raise InvalidQueryError(
                    f"document {shown(filters.document)} does not exist; valid: {', '.join(valid['document'])}"
                )
            checks.append(lambda p: p.document_id == filters.document)
        for kind, value in (
            ("thematic_area", filters.thematic_area),
            ("objective", filters.objective),
            ("priority_action", filters.priority_action),
        ):
            if not value:
                continue
            if kind == "thematic_area":
                value = self._resolve_area(value)
                checks.append(_path_has(kind, lambda el, v=value: el.title == v))
            else:
                value = value.strip()
                if value not in valid[kind]:
                    raise InvalidQueryError(f"{kind} {shown(value)} matches nothing; valid: {', '.join(valid[kind])}")
                checks.append(_path_has(kind, lambda el, v=value: el.number == v))
        mask = np.array([all(c(p) for c in checks) for p in self.index.passages], dtype=bool)
        if not mask.any():
            raise InvalidQueryError("these filters together match no passage; loosen one of them")
        return mask

    # -- search --------------------------------------------------------------

    def encode_query(self, query: str, language: str = "en") -> np.ndarray:
        """The query's embedding, computed once and shared by every consumer of one request.

        The dense leg, the topic leg and answer extraction all read this
        vector; a small LRU cache (``settings.query_cache_size``) also serves repeated
        questions without encoding. The returned array is read-only. A
        non-English question is encoded by the multilingual model only: its
        dense leg and its answer read e5 vectors.
        """
        key = (language, query)
        with self._query_lock:
            vector = self._query_vectors.get(key)
            if vector is not None:
                self._query_vectors.move_to_end(key)
                return vector
        model = self.embedder if language == "en" else self.multilingual
        vector = model.encode([query])[0]
        vector.setflags(write=False)
        with self._query_lock:
            self.encodings += 1
            self._query_vectors[key] = vector
            if len(self._query_vectors) > self.settings.query_cache_size:
                self._query_vectors.popitem(last=False)
        return vector

    def ask(
        self,
        query: str,
        k: int = 10,
        filters: Filters | None = None,
        config: str = DEFAULT_CONFIG,
        fusion: str = DEFAULT_FUSION,
        language: str | None = None,
    ) -> Answered:
        """``search`` plus the extractive answer from its top passages: what every surface returns.

        The query is encoded once (``encode_query``) for the dense leg and the answer.
        ``language`` (``en``, ``es``) overrides the detected one. A Spanish
        question's answer is still an English sentence, verbatim, chosen with
        the multilingual vectors against its own calibrated threshold.
        """
        from qa.answer import ANSWER_PASSAGES, extract_answer

        q = self.check_query(query)
        lang = self.language_of(q, language)
        vectors: _Vectors = {}
        # The answer may come from any of the top ANSWER_PASSAGES passages, however few results were
        # asked for: "top_k": 1 must not change the answer, only the list.
        hits = self.search(
            q, k=max(k, ANSWER_PASSAGES), filters=filters, config=config, fusion=fusion, language=lang, _vectors=vectors
        )
        english = lang == "en"
        answer = extract_answer(
            q,
            hits,
            self._vector(q, lang, vectors),
            self.embedder if english else self.multilingual,
            self.settings.answer_min_score if english else self.settings.answer_min_score_multilingual,
            cache=self.sentence_vectors if english else self.multilingual_sentence_vectors,
            units=self.answer_units,
            lexical=True if english else self.english_words(q, lang),
        )
        return Answered(hits[:k], answer, lang)

    def english_words(self, query: str, language: str) -> str | bool:
        """A non-English question's English words (``qa.translate``), or False without a translator.

        The BM25 leg and the answer's lexical match read them: Spanish words
        match the English reports only by accident, Apertium's rough English
        matches their words.
        """
        if self.translator is None:
            return False
        return self.translator.translate(query, language) or False

    def language_of(self, query: str, language: str | None = None) -> str:
        """``language`` checked, or the question's detected language."""
        return check_language(language) if language else detect_language(query)

    def check_query(self, query: str) -> str:
        """The stripped query, or ``InvalidQueryError`` saying what to fix; nothing invalid reaches the model."""
        q = check_text(query).strip()
        if not q:
            raise InvalidQueryError("query is empty; ask a question, e.g. 'What does priority action 2.6 say?'")
        if len(q) > self.settings.max_query_chars:
            raise InvalidQueryError(f"query is {len(q)} characters; the limit is {self.settings.max_query_chars}")
        return q

    def search(
        self,
        query: str,
        k: int = 10,
        filters: Filters | None = None,
        config: str = DEFAULT_CONFIG,
        fusion: str = DEFAULT_FUSION,
        language: str | None = None,
        _vectors: _Vectors | None = None,
    ) -> list[Hit]:
        """The ``k`` best passages for ``query``, best first, near-duplicates collapsed.

        An English question (detected, or ``language="en"``) runs the English
        pipeline; any other uses the multilingual-e5 leg as its dense leg,
        weighted against BM25 as measured on Spanish questions. ``_vectors``
        (from ``ask``) collects the query vectors this search encoded, for the answer.
        """
        vectors: _Vectors = {} if _vectors is None else _vectors
        q = self.check_query(query)
        if not 1 <= k <= self.settings.max_top_k:
            raise InvalidQueryError(f"k must be between 1 and {self.settings.max_top_k}, got {k}")
        cfg = get_config(config)
        fuse = get_fusion(fusion)
        lang = self.language_of(q, language)
        mask = self.filter_mask(filters)
        legs, fused_by = self._legs_fused(q, mask, cfg, lang, vectors, fuse)
        scores = cfg.score(legs, fused_by)
        ranked_all = np.argsort(-scores, kind="stable")
        order: list[int] = ranked_all[np.isfinite(scores[ranked_all])].tolist()  # vectorised: ~1 ms less a query
        # Tiers: passages of sections the question names by number (2), then
        # passages of a report it names ("according to the MEM") (1), then the rest.
        tier = np.zeros(len(scores), dtype=np.int64)
        reading_order = False
        if cfg.routing:
            named = route(q, self.index.sections.values(), self.index.documents.values())
            within = scores
            if named.sections and named.topic:
                # Inside the named sections, weigh what is asked about them
                # ("... say about gender?") as much as the whole question, whose
                # reference words match every passage of the section alike.
                topic = cfg.score(*self._legs_fused(named.topic, mask, cfg, lang, vectors, fuse))
                within = np.where(np.isfinite(topic), scores + topic, scores)
            routed = self._routed(named, within, mask)
            reading_order = bool(routed) and not named.topical
            tier[routed] = 2
            if filters is None or not filters.document:
                docs = set(named_documents(q, self.index.documents.values()))
                if docs:
                    in_named = [i for i in order if self.index.passages[i].document_id in docs and not tier[i]]
                    tier[in_named] = 1
            ranked = routed + [i for i in order if tier[i] == 1] + [i for i in order if tier[i] == 0]
            order = list(dict.fromkeys(ranked))
        hits: list[Hit] = []
        kept: list[int] = []
        for i in order:
            if any(self._duplicate(i, j) for j in kept):
                continue
            kept.append(i)
            # A leg that did not retrieve the passage has no score to show (-inf is not JSON).
            components = {
                name: float(value)
                for name, value in (("bm25", legs.bm25[i]), ("dense", legs.dense[i]), ("fused", scores[i]))
                if np.isfinite(value)
            }
            if tier[i] == 2:
                components["route"] = 1.0
                if reading_order:
                    components["reading_order"] = 1.0
            elif tier[i] == 1:
                components["document"] = 1.0
            # A higher tier outranks any fused score (convex scores lie in [0, 1]); the score says so.
            score = components.get("fused", 0.0) + 2.0 * float(tier[i])
            if hits and score > hits[-1].score:
                # A named section read in order ("PA 2.6": its opening first) ranks by position, not
                # relevance: the score is capped by the one above so that it orders the list as shown.
                # The relevance itself stays in components["fused"].
                score = hits[-1].score
            hits.append(Hit(self.index.passages[i], score, len(hits) + 1, components))
            if len(hits) == k:
                break
        return hits

    def _vector(self, text: str, language: str, vectors: _Vectors) -> np.ndarray:
        """``text``'s vector, encoded at most once per request whatever the cache holds (``vectors``)."""
        key = (language, text)
        vector = vectors.get(key)
        if vector is None:
            vector = vectors[key] = self.encode_query(text, language)
        return vector

    def _legs_fused(
        self, text: str, mask: np.ndarray | None, cfg: Config, language: str, vectors: _Vectors, fuse: Fusion
    ) -> tuple[_Legs, Fusion]:
        """``text``'s legs and how to fuse them.

        English: as asked. Another language: the dense leg is multilingual-e5
        on ``text``; the BM25 leg reads ``text``'s English when the translator
        gives it (weight ``TRANSLATED_LEXICAL_WEIGHT`` in convex fusion), else
        ``text`` itself (weight ``SPANISH_LEXICAL_WEIGHT``, 0).
        """
        if language == "en":
            return self._legs(text, text, mask, cfg, language, vectors), fuse
        words = self.english_words(text, language)
        legs = self._legs(text, words or text, mask, cfg, language, vectors)
        if fuse is convex:
            fuse = _translated_convex if words else _spanish_convex
        return legs, fuse

    def _legs(
        self, query: str, lexical: str, mask: np.ndarray | None, cfg: Config, language: str, vectors: _Vectors
    ) -> _Legs:
        """The BM25 leg over ``lexical``'s words and the dense leg over ``query``'s vector."""
        n = len(self.index.passages)
        bm25 = np.full(n, -np.inf, dtype=np.float32)
        dense = np.full(n, -np.inf, dtype=np.float32)
        if cfg.name != "dense":
            raw = self.index.bm25_scores(lexical)
            bm25 = np.where(raw > 0, raw, -np.inf).astype(np.float32)  # no shared term: not retrieved
            if mask is not None:
                bm25[~mask] = -np.inf
        if cfg.name != "bm25" and language != "en":
            vector = self._vector(query, language, vectors)
            dense = self.index.multilingual_scores(vector, mask)
            if SPANISH_SENTENCE_WEIGHT:
                best = self._best_sentence(self.index.multilingual_sentences @ vector.astype(np.float32), dense)
                dense = ((dense + SPANISH_SENTENCE_WEIGHT * best) / (1 + SPANISH_SENTENCE_WEIGHT)).astype(np.float32)
        elif cfg.name != "bm25":
            vector = self._vector(query, "en", vectors)
            # The passage vector alone: mixing in the closest sentence's cosine was
            # measured worse on dev (hybrid hit@1 0.64 -> 0.60 at weight 0.3), since
            # a sentence out of context ("Mexico has ...") matches too many questions.
            dense = self.index.dense_scores(vector, mask)
        return _Legs(bm25, dense)

    def _best_sentence(self, sentence_scores: np.ndarray, passage_scores: np.ndarray) -> np.ndarray:
        """Each passage's best sentence score (its own score where it has no sentence; -inf stays -inf)."""
        best = np.full(len(passage_scores), -np.inf, dtype=np.float32)
        np.maximum.at(best, self._sentence_passage, sentence_scores.astype(np.float32))
        return np.where(np.isfinite(passage_scores), np.where(np.isfinite(best), best, passage_scores), -np.inf)

    def _routed(self, r: Route, scores: np.ndarray, mask: np.ndarray | None) -> list[int]:
        """Passages of the named sections, ahead of everything else.

        Each named section contributes one head passage first, so every match
        shows on the first page; then the rest of their text, descendants
        included ("alliance point 6" covers its objectives and actions). A
        topical question ("Chile's reply to recommendation 8") orders by
        relevance; a bare reference ("PA 1.3") reads the section in order.
        """
        heads: list[int] = []
        rest: list[int] = []
        for section in r.sections:
            own = self.index.section_passages.get(section.id, [])
            inner = [i for child in section.walk()[1:] for i in self.index.section_passages.get(child.id, [])]
            candidates = [i for i in own + inner if mask is None or mask[i]]
            if not candidates:
                continue
            heads.append(max(candidates, key=lambda i: (_finite(scores[i]), -i)) if r.topical else candidates[0])
            rest.extend(candidates)
        if r.topical:
            heads.sort(key=lambda i: -_finite(scores[i]))
            rest.sort(key=lambda i: (-_finite(scores[i]), i))
        return list(dict.fromkeys(heads + rest))

    def _duplicate(self, i: int, j: int) -> bool:
        a, b = self._words[i], self._words[j]
        if not a or not b:
            return False
        return len(a & b) / len(a | b) >= DUPLICATE_JACCARD


def query_embedder(settings: Settings, index: StoredIndex) -> Embedder:
    """The configured MiniLM query encoder (``settings.query_encoder``) for ``index``.

    ``onnx-int8`` reads the export the build wrote into the snapshot (checksummed with it);
    without one, torch.
    """
    if settings.query_encoder == "onnx-int8":
        from index.embed import ONNX_QUERY_ENCODER, OnnxQueryEmbedder

        path = index.root / ONNX_QUERY_ENCODER
        if path.is_file():
            return OnnxQueryEmbedder(
                path, settings.model_path, settings.model_name, settings.model_max_wordpieces, settings.query_threads
            )
        # A snapshot built without the real model (tests' fake embedder) has no export; torch
        # computes the same vectors, only slower. Every real build writes the file, and a build
        # that lost it fails verification before this point.
        _log.warning("index %s has no %s; encoding queries with torch", index.build_id, ONNX_QUERY_ENCODER)
    from index.embed import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder.from_settings(settings, for_queries=True)


def _single_threaded_blas() -> None:
    """Keep numpy's (and FAISS's) OpenBLAS to one thread in a process that answers queries.

    A query's matrix products are small (a few thousand rows of 384), so BLAS
    threads gain nothing; but after each product they spin, and on 2 cores
    they fight multilingual-e5's OpenMP threads: a Spanish search took 82 ms
    in process, of which the e5 encoding alone is 15 ms, and 17 ms with one
    BLAS thread (measured with a warm retriever, cache off, same questions).
    """
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


def _spanish_convex(legs: list[np.ndarray]) -> np.ndarray:
    return convex(legs, [SPANISH_LEXICAL_WEIGHT, 1 - SPANISH_LEXICAL_WEIGHT])


def _translated_convex(legs: list[np.ndarray]) -> np.ndarray:
    return convex(legs, [TRANSLATED_LEXICAL_WEIGHT, 1 - TRANSLATED_LEXICAL_WEIGHT])


def _finite(x: float) -> float:
    return float(x) if np.isfinite(x) else -1e9


def _numkey(n: str) -> tuple[int, ...]:
    return tuple(int(x) for x in n.split(".") if x.isdigit())


def _path_has(kind: str, pred: Callable[..., bool]) -> Callable[[Passage], bool]:
    return lambda p: any(el.kind == kind and pred(el) for path in p.paths for el in path)
