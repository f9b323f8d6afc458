"""The retriever: runs a question through the legs, fusion and routing, then picks the answer.

It only orchestrates. The legs (``qa.legs``) score passages; a
configuration (``qa.configs``) names which legs to fuse and whether to
route; the fusion (``qa.fusion``) combines their scores; routing
(``qa.route``, ``qa.rank``) puts sections the question names first; the
filters (``qa.filters``), the query encoders and their cache
(``qa.encode``) and the answer (``qa.answer``) live in their own modules.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np

from core.errors import IndexStoreError, InvalidQueryError, check_text
from core.types import Answered, Filters, Hit
from qa.answer import ANSWER_PASSAGES, UnitStore, extract_answer
from qa.configs import DEFAULT_CONFIG, Config, get_config
from qa.encode import QueryEncoder, Vectors, query_embedder, single_threaded_blas
from qa.filters import FilterIndex
from qa.fusion import DEFAULT_FUSION, Fusion, get_fusion
from qa.lang import check_language, detect_language
from qa.legs import Leg, LegQuery, get_leg
from qa.rank import Ranked, Ranker, best_first
from qa.route import named_documents, route

if TYPE_CHECKING:
    from pathlib import Path

    from core.settings import Settings
    from index.embed import Embedder
    from index.store import StoredIndex
    from qa.translate import Translator

__all__ = ["Retriever"]


class Retriever:
    """Answers queries over one loaded index. Thread-safe for concurrent reads."""

    def __init__(
        self,
        index: StoredIndex,
        embedder: Embedder,
        settings: Settings,
        multilingual: Embedder | None = None,
        translator: Translator | None = None,
        encoder: QueryEncoder | None = None,
    ) -> None:
        self.index = index
        self.settings = settings
        # English words of a non-English question, for its BM25 leg and its answer's lexical match (qa.translate).
        self.translator = translator
        # Unit tests index with one fake embedder for both languages and pass only that one.
        self.encoder = encoder or QueryEncoder(
            embedder, multilingual if multilingual is not None else embedder, settings.query_cache_size
        )
        self.filters = FilterIndex(index)
        self.ranker = Ranker(index.passages, index.section_passages)
        # Each passage's answer units and their vectors, embedded at build time, per question language.
        units = index.units_by_passage()
        self._units = {
            "en": UnitStore(self.encoder.embedder, index.sentence_vectors_by_passage(), units),
            "xx": UnitStore(self.encoder.multilingual, index.sentence_vectors_by_passage(multilingual=True), units),
        }
        self._legs: dict[str, Leg] = {}
        self._legs_lock = threading.Lock()

    @classmethod
    def open(
        cls,
        settings: Settings | None = None,
        embedder: Embedder | None = None,
        multilingual: Embedder | None = None,
        translator: Translator | None = None,
        root: Path | None = None,
    ) -> Retriever:
        """Load the built index (``root``, default ``data/current``) and the models; never builds or embeds.

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
        index = load_index(root or settings.index_dir)
        if embedder is None:
            single_threaded_blas()
            embedder = query_embedder(settings, index)
            if multilingual is None:
                from index.embed import E5Embedder

                multilingual = E5Embedder(for_queries=True)
        return cls(index, embedder, settings, multilingual, translator)

    def reopen(self, root: Path | None = None) -> Retriever:
        """A retriever over the index now at ``data/current`` (or ``root``), sharing this one's models.

        What a server's reload calls: the new snapshot is verified and loaded
        (seconds), the models are not loaded again. Refuses an index whose
        dimension or query encoder does not fit the models in memory.
        """
        from index.store import load_index

        index = load_index(root or self.settings.index_dir)
        embedder = self.encoder.embedder
        if index.manifest.get("dimension") not in (None, embedder.dim):
            raise IndexStoreError(
                f"index {index.build_id} has {index.manifest.get('dimension')}-d vectors, the loaded model "
                f"{embedder.dim}-d; restart the server to load the new model"
            )
        if getattr(embedder, "onnx_path", None) is not None:
            # The ONNX encoder ships with each snapshot: load the new build's own export.
            embedder = query_embedder(self.settings, index)
        return Retriever(index, embedder, self.settings, self.encoder.multilingual, self.translator)

    @property
    def embedder(self) -> Embedder:
        """The English (MiniLM) query encoder."""
        return self.encoder.embedder

    @property
    def multilingual(self) -> Embedder:
        """The encoder of questions in other languages (multilingual-e5)."""
        return self.encoder.multilingual

    # -- the parts of a search -------------------------------------------------

    def leg(self, name: str) -> Leg:
        """The leg called ``name`` over this index, made on first use (a leg registered later works too)."""
        leg = self._legs.get(name)
        if leg is None:
            factory = get_leg(name)
            with self._legs_lock:
                leg = self._legs.setdefault(name, factory(self.index))
        return leg

    def valid_filter_values(self) -> dict[str, list[str]]:
        """What each filter accepts here (GET /filters): the report ids, and the kinds some report has."""
        return self.filters.valid_values()

    def filter_mask(self, filters: Filters | None) -> np.ndarray | None:
        """Boolean mask of passages the filters allow (None: no filter)."""
        return self.filters.mask(filters)

    def encode_query(self, query: str, language: str = "en") -> np.ndarray:
        """The query's embedding in its language's model, from the cache when asked recently."""
        return self.encoder.encode(query, language)

    def units(self, language: str) -> UnitStore:
        """The answer units and their vectors an answer in ``language`` is chosen from."""
        return self._units["en" if language == "en" else "xx"]

    def english_words(self, query: str, language: str) -> str | bool:
        """A non-English question's English words (``qa.translate``), or False without a translator."""
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

    # -- search and ask ----------------------------------------------------------

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

        The query is encoded once for the legs and the answer. ``language``
        (``en``, ``es``) overrides the detected one. A Spanish question's
        answer is still an English sentence, verbatim, chosen with the
        multilingual vectors against its own calibrated threshold.
        """
        q = self.check_query(query)
        lang = self.language_of(q, language)
        vectors: Vectors = {}
        # The answer may come from any of the top ANSWER_PASSAGES passages, however few results were
        # asked for: "top_k": 1 must not change the answer, only the list.
        hits = self.search(
            q, k=max(k, ANSWER_PASSAGES), filters=filters, config=config, fusion=fusion, language=lang, _vectors=vectors
        )
        english = lang == "en"
        answer = extract_answer(
            q,
            hits,
            self.encoder.vector(q, lang, vectors),
            self.units(lang),
            self.settings.answer_min_score if english else self.settings.answer_min_score_multilingual,
            words=q if english else (self.english_words(q, lang) or None),
        )
        return Answered(hits[:k], answer, lang)

    def search(
        self,
        query: str,
        k: int = 10,
        filters: Filters | None = None,
        config: str = DEFAULT_CONFIG,
        fusion: str = DEFAULT_FUSION,
        language: str | None = None,
        _vectors: Vectors | None = None,
    ) -> list[Hit]:
        """The ``k`` best passages for ``query``, best first, near-duplicates collapsed.

        The configuration's legs that serve the question's language are
        fused (a lone leg ranks by its own scores). ``_vectors`` (from
        ``ask``) collects the query vectors this search encoded, for the answer.
        """
        vectors: Vectors = {} if _vectors is None else _vectors
        q = self.check_query(query)
        if not 1 <= k <= self.settings.max_top_k:
            raise InvalidQueryError(f"k must be between 1 and {self.settings.max_top_k}, got {k}")
        cfg = get_config(config)
        fuse = get_fusion(fusion)
        lang = self.language_of(q, language)
        mask = self.filter_mask(filters)
        ranked = self._score(q, lang, mask, cfg, fuse, vectors)
        scores = ranked.fused
        finite = np.isfinite(scores)
        order: Iterable[int] = best_first(np.flatnonzero(finite), scores)
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
                topic = self._score(named.topic, lang, mask, cfg, fuse, vectors).fused
                within = np.where(np.isfinite(topic), scores + topic, scores)
            routed = self.ranker.routed(named, within, mask)
            reading_order = bool(routed) and not named.topical
            tier[routed] = 2
            if filters is None or not filters.get("document"):
                docs = set(named_documents(q, self.index.documents.values()))
                if docs:
                    tier[finite & (tier == 0) & self.ranker.in_documents(docs)] = 1
            # Routed passages (distinct, tier 2) first, then each tier best first: the tiers are disjoint.
            order = itertools.chain(
                routed,
                best_first(np.flatnonzero(finite & (tier == 1)), scores),
                best_first(np.flatnonzero(finite & (tier == 0)), scores),
            )
        return self.ranker.hits(ranked, order, tier, reading_order, k)

    def _score(
        self, text: str, language: str, mask: np.ndarray | None, cfg: Config, fuse: Fusion, vectors: Vectors
    ) -> Ranked:
        """``text`` scored by the configuration's legs that serve ``language``, fused."""
        english = None if language == "en" else (self.english_words(text, language) or None)
        query = LegQuery(text, language, english, lambda: self.encoder.vector(text, language, vectors))
        legs = [leg for leg in map(self.leg, cfg.legs) if leg.applies(query)]
        if not legs:
            raise InvalidQueryError(f"configuration {cfg.name!r} has no leg for questions in {language!r}")
        scores = [leg.scores(query, mask) for leg in legs]
        fused = scores[0] if len(legs) == 1 else fuse(scores, [leg.weight(query) for leg in legs])
        return Ranked(fused, {leg.component: s for leg, s in zip(legs, scores, strict=True)})
