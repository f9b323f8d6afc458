"""Run the gold set through a retriever (in process or over HTTP) and score it.

A *searcher* answers one query with ranked ``Retrieved`` passages; there is
one per retrieval configuration in process, and one for a live API. The
result of a run holds, per configuration, every question's metrics and top
passages, so reports, TREC exports and comparisons are all derived from it.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import EvaluationError
from core.types import ParsedDocument
from eval.answers import GivenAnswer, evidence_units, score_answers
from eval.gold import EvidenceSpan, Question, locate_evidence
from eval.metrics import DEPTH, Retrieved, aggregate, score
from qa.fusion import DEFAULT_FUSION

if TYPE_CHECKING:
    from qa.retrieve import Retriever

__all__ = [
    "DEFAULT_FUSION",
    "DEFAULT_SPECS",
    "Answerer",
    "ConfigResult",
    "EvalResult",
    "Searcher",
    "documents_of",
    "evaluate",
    "http_answerer",
    "http_searcher",
    "in_process_answerers",
    "in_process_searchers",
    "parse_spec",
    "pool_of",
    "run_eval",
]

DEFAULT_SPECS: tuple[str, ...] = ("bm25", "dense", "hybrid", "routed", "hybrid:rrf", "routed:rrf")
"""What ``policyqa eval`` runs by default: every configuration of ``qa.configs.CONFIGS``, plus the
other fusion beside the default, so the fusion choice is checked on every run."""


Searcher = Callable[[str, int], list[Retrieved]]
"""``(query, k) -> ranked passages``."""

Answerer = Callable[[str, int], tuple[list[Retrieved], GivenAnswer | None]]
"""``(query, k) -> (ranked passages, the extractive answer)`` from one request, as a user of that
configuration gets them (answer None: abstained)."""


@dataclass(frozen=True, slots=True)
class ConfigResult:
    """One configuration's run over the gold questions."""

    name: str
    ranked: dict[str, list[Retrieved]]
    per_query: dict[str, dict[str, float]]
    seconds: float
    answers: dict[str, GivenAnswer | None] | None = None
    """Each question's answer, for a configuration run with an answerer."""
    answer_scores: dict[str, dict[str, float]] | None = None
    """Each question's answer figures (``eval.answers.score_answers``)."""


@dataclass(frozen=True, slots=True)
class EvalResult:
    """A whole evaluation: questions, their evidence, and each configuration's run."""

    questions: list[Question]
    spans: dict[str, tuple[EvidenceSpan, ...]]
    documents: dict[str, ParsedDocument]
    configs: list[ConfigResult]
    pool: list[Retrieved] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    """The answer-unit kind of each question's gold evidence (``eval.answers.evidence_units``)."""


def parse_spec(spec: str, default_fusion: str = DEFAULT_FUSION) -> tuple[str, str, str]:
    """``"hybrid:convex"`` -> ``(label, config, fusion)``; names are checked, unknown ones raise.

    The label omits the fusion when it is the default, so ``hybrid`` always
    means the configuration as ``policyqa ask`` runs it.
    """
    from qa.configs import get_config
    from qa.fusion import get_fusion

    config, _, fusion = spec.partition(":")
    fusion = fusion or default_fusion
    get_config(config)
    get_fusion(fusion)
    label = config if fusion == DEFAULT_FUSION else f"{config}:{fusion}"
    return label, config, fusion


def in_process_searchers(
    retriever: Retriever, specs: Iterable[str], default_fusion: str = DEFAULT_FUSION
) -> dict[str, Searcher]:
    """One searcher per configuration spec, over an opened retriever (duplicates collapse)."""
    out: dict[str, Searcher] = {}
    for spec in specs:
        label, config, fusion = parse_spec(spec, default_fusion)

        def search(query: str, k: int, config: str = config, fusion: str = fusion) -> list[Retrieved]:
            return [Retrieved.of(h.passage) for h in retriever.search(query, k=k, config=config, fusion=fusion)]

        out[label] = search
    return out


def in_process_answerers(
    retriever: Retriever, specs: Iterable[str], default_fusion: str = DEFAULT_FUSION
) -> dict[str, Answerer]:
    """One answerer per configuration spec: ``Retriever.ask`` as every surface calls it.

    Answers are chosen after ranking from the same hits, so they never change a retrieval figure.
    """
    out: dict[str, Answerer] = {}
    for spec in specs:
        label, config, fusion = parse_spec(spec, default_fusion)

        def answer(
            query: str, k: int, config: str = config, fusion: str = fusion
        ) -> tuple[list[Retrieved], GivenAnswer | None]:
            answered = retriever.ask(query, k=k, config=config, fusion=fusion)
            ranked = [Retrieved.of(h.passage) for h in answered.hits]
            a = answered.answer
            if a is None:
                return ranked, None
            p = a.passage
            return ranked, GivenAnswer(p.id, p.document_id, p.section_ids, a.start, a.end, a.kind, a.text)

        out[label] = answer
    return out


def _post_search(base: str, query: str, k: int, timeout: float) -> dict[str, Any]:
    """A live API's ``POST /search`` response for ``query`` (top ``k``)."""
    body = json.dumps({"query": query, "top_k": k}).encode()
    request = urllib.request.Request(base + "/search", body, {"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.load(response)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise EvaluationError(f"POST {base}/search failed: {exc}") from exc


def _sections(citation: dict[str, Any]) -> tuple[str, ...]:
    # ``section_ids`` names every section a passage belongs to, so a passage shared by several
    # sections (MEM Prevention 2.1, 2.4, 2.5) is credited to all of them, as in process.
    return tuple(str(s) for s in citation.get("section_ids") or (citation["section_id"],))


def _ranked(payload: dict[str, Any]) -> list[Retrieved]:
    out: list[Retrieved] = []
    for item in payload.get("results", []):
        c = item["citation"]
        out.append(
            Retrieved(
                str(item["passage_id"]),
                str(c["document_id"]),
                _sections(c),
                str(c.get("label", "")),
                int(c["char_start"]),
                int(c["char_end"]),
            )
        )
    return out


def http_answerer(url: str, timeout: float = 30.0) -> Answerer:
    """The ranking and the answer of one ``POST /search`` to a live API (``answer.citation`` spans the answer)."""
    base = url.rstrip("/")

    def answer(query: str, k: int) -> tuple[list[Retrieved], GivenAnswer | None]:
        payload = _post_search(base, query, k, timeout)
        a = payload.get("answer")
        if not a:
            return _ranked(payload), None
        c = a["citation"]
        given = GivenAnswer(
            str(a["passage_id"]),
            str(c["document_id"]),
            _sections(c),
            int(c["char_start"]),
            int(c["char_end"]),
            str(a.get("kind", "sentence")),
            str(a["text"]),
        )
        return _ranked(payload), given

    return answer


def http_searcher(url: str, timeout: float = 30.0) -> Searcher:
    """A searcher over a live API's ``POST /search``."""
    base = url.rstrip("/")

    def search(query: str, k: int) -> list[Retrieved]:
        return _ranked(_post_search(base, query, k, timeout))

    return search


def run_eval(
    searchers: Mapping[str, Searcher],
    questions: Sequence[Question],
    documents: Mapping[str, ParsedDocument],
    pool: Iterable[Retrieved] = (),
    progress: Callable[[str], None] | None = None,
    answerers: Mapping[str, Answerer] | None = None,
) -> EvalResult:
    """Ask every question of every searcher and score the rankings.

    ``pool`` is the set of passages judged for the passage-level metrics
    besides the retrieved ones (the whole index, when it is at hand), so the
    exported passage qrels are complete. A configuration with an answerer
    (``answerers``, by searcher name) is asked once per question for both its
    ranking and its extractive answer, which are scored too; its ``seconds``
    then include choosing the answer.
    """
    if not questions:
        raise EvaluationError("no questions to evaluate (check the gold set and --split)")
    spans = locate_evidence(questions, documents)
    pool = list(pool)
    results: list[ConfigResult] = []
    for name, search in searchers.items():
        t0 = time.perf_counter()
        answers: dict[str, GivenAnswer | None] | None = None
        if answerers and name in answerers:
            # One request per question gives both the ranking and the answer, as a user gets them.
            asked = {q.id: answerers[name](q.question, DEPTH) for q in questions}
            ranked = {qid: hits for qid, (hits, _) in asked.items()}
            answers = {qid: given for qid, (_, given) in asked.items()}
        else:
            ranked = {q.id: search(q.question, DEPTH) for q in questions}
        seconds = time.perf_counter() - t0
        per_query = score(questions, ranked, spans, pool)
        answer_scores = None if answers is None else score_answers(questions, answers, spans, per_query)
        results.append(ConfigResult(name, ranked, per_query, seconds, answers, answer_scores))
        if progress is not None:
            progress(f"{name}: {len(questions)} questions in {seconds:.1f}s")
    units = evidence_units(questions, spans, documents)
    return EvalResult(list(questions), spans, dict(documents), results, pool, units=units)


def documents_of(corpus_dir: Path) -> dict[str, ParsedDocument]:
    """The parsed reports by id (the evidence quotes are located in them)."""
    from corpus import load_corpus

    return {d.document.id: d for d in load_corpus(corpus_dir)}


def pool_of(retriever: Retriever) -> list[Retrieved]:
    """Every passage of the retriever's index, as candidates for the passage qrels."""
    return [Retrieved.of(p) for p in retriever.index.passages]


def evaluate(
    retriever: Retriever, questions: Sequence[Question], config: str = "hybrid", fusion: str = DEFAULT_FUSION
) -> dict[str, float]:
    """Mean metrics of one configuration over ``questions`` (what the quality-floor test checks)."""
    label, _, _ = parse_spec(f"{config}:{fusion}")
    result = run_eval(
        in_process_searchers(retriever, [label]),
        questions,
        documents_of(retriever.settings.corpus_dir),
        pool_of(retriever),
    )
    (run,) = result.configs
    return aggregate(run.per_query, [q.id for q in questions])
