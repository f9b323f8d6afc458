"""How far can the answer choice go with the signals this machine can compute? (dev split, English).

``qa/answer.py`` scores every candidate unit with a hand-weighted sum of a
few signals measured one by one on dev. This script asks the question the
other way round: given many more candidate features, what does a *learned*
combination reach when each question is scored by weights fitted on the
other questions only (leave one question out)? If that stays at the
hand-weighted figure, the signals, not their weights, are the limit.

Per candidate: the module's own score, its unit cosine (MiniLM), its BM25
among the candidates, its passage's fused gap, rank, dense cosine and BM25
score, its kind, figure and table-row flags for questions asking a number,
the lead-in, fragment and label flags, a negation in a yes/no question's
candidate, its position and length in its passage, whether it is a CICAD
assessment sentence, how many query stems its section label holds, its
cosine minus its passage's best, and its multilingual-e5 cosine. The model
is a listwise softmax over one question's candidates (the probability of the
candidates holding a gold quote), L2-regularised, fitted by gradient descent.
The threshold is left out, as in ``scripts/measure_answer.py``.

    .venv/bin/python scripts/answer_ceiling.py
"""

from __future__ import annotations

import os
import re

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np

import qa.answer as answer_module
from eval.gold import GOLD_PATHS, load_gold_sets, locate_evidence
from eval.metrics import Retrieved, covers
from eval.run import documents_of
from index.lexical import UNITS
from index.sentences import unit_embed_text
from qa.retrieve import Retriever

_YES_NO = re.compile(r"^(does|do|is|are|has|have|can|was|were|did|must|should|will|had)\b", re.I)
_NEGATION = re.compile(r"\b(not|no|none|never|lacks?|without|neither|nor)\b|n't", re.I)
_ASSESSMENT = re.compile(r"\bCICAD (notes|observes|recognizes|acknowledges)\b")
FEATURES = (
    "score cos bm25 gap rank passage_dense passage_bm25 list_item table_row figure figure_row lead_in fragment "
    "label yes_no_negation position first log_length assessment label_overlap cos_below_best e5"
).split()
L2 = 1.0


def _features(query: str, c, cos: float, bm25: float, score: float, hit, best: float, e5: float) -> list[float]:  # type: ignore[no-untyped-def]
    text = c.text()
    asks = bool(answer_module._ASKS_NUMBER.search(query))
    query_stems = UNITS.stems(query)
    return [
        score,
        cos,
        bm25,
        c.gap,
        c.rank,
        hit.scores.get("dense", 0.0),
        hit.scores.get("bm25", 0.0),
        c.unit.kind == "list_item",
        c.unit.kind == "table_row",
        asks and bool(answer_module._DIGIT.search(text)),
        asks and c.unit.kind == "table_row",
        text.endswith(":"),
        c.unit.kind == "sentence" and len(text.split()) < answer_module.FRAGMENT_WORDS,
        answer_module._is_label(c),
        bool(_YES_NO.match(query)) and bool(_NEGATION.search(text)),
        c.index / max(1, len(c.units) - 1),
        c.index == 0,
        np.log1p(len(text.split())),
        bool(_ASSESSMENT.search(text)),
        len(query_stems & UNITS.stems(c.passage.label)) / max(1, len(query_stems)),
        cos - best,
        e5,
    ]


def _fit(groups: list[tuple[np.ndarray, np.ndarray]], steps: int = 400, rate: float = 0.05) -> np.ndarray:
    """Weights maximising the summed log-probability of each question's gold-holding candidates."""
    w = np.zeros(groups[0][0].shape[1])
    for _ in range(steps):
        grad = 2 * L2 * w
        for x, good in groups:
            s = x @ w
            p = np.exp(s - s.max())
            p_good = p * good
            grad -= x.T @ (p_good / p_good.sum()) - x.T @ (p / p.sum())
        w -= rate * grad / len(groups)
    return w


def main() -> None:
    retriever = Retriever.open()
    questions = load_gold_sets(GOLD_PATHS, ["dev"])
    spans = locate_evidence(questions, documents_of(retriever.settings.corpus_dir))
    captured: dict[str, object] = {}
    choose = answer_module._choice_scores

    def spy(query, candidates, cosines, lexical):  # type: ignore[no-untyped-def]
        scores = choose(query, candidates, cosines, lexical)
        captured["last"] = (candidates, cosines, scores)
        return scores

    answer_module._choice_scores = spy  # read the candidates the module builds, unchanged
    fixed: list[tuple[bool, bool]] = []  # (answered right, evidence in top 3) where no choice is made
    groups: list[tuple[np.ndarray, np.ndarray, bool]] = []
    for q in questions:
        if retriever.language_of(q.question) != "en":
            continue
        hits = retriever.search(q.question, k=10, language="en")
        top3 = any(covers(Retrieved.of(h.passage), s) for h in hits[:3] for s in spans[q.id])
        captured.clear()
        vector = retriever.encode_query(q.question, "en")
        a = answer_module.extract_answer(
            q.question, hits, vector, retriever.units("en"), -1.0, words=q.question
        )  # fmt: skip
        if "last" not in captured:  # a bare section number: read in order, no choice
            fixed.append((a is not None and _holds(a.passage, a.start, a.end, spans[q.id]), top3))
            continue
        candidates, cosines, scores = captured["last"]  # type: ignore[misc]
        bm25 = UNITS.rank_among(UNITS.stems(q.question), [unit_embed_text(c.text(), c.unit) for c in candidates])
        e5_query = retriever.encode_query(q.question, "es")  # any non-English code selects e5
        by_id = {h.passage.id: h for h in hits}
        best: dict[str, float] = {}
        for c, cos in zip(candidates, cosines, strict=True):
            best[c.passage.id] = max(best.get(c.passage.id, -1.0), float(cos))
        rows, good = [], []
        for c, cos, b, s in zip(candidates, cosines, bm25, scores, strict=True):
            e5 = float(retriever.units("es").vectors[c.passage.id][c.index] @ e5_query)
            rows.append(
                _features(q.question, c, float(cos), float(b), float(s), by_id[c.passage.id], best[c.passage.id], e5)
            )
            start, end = (
                answer_module._widen(c.passage.text, c.units, c.index, c.passage.start)
                if c.unit.kind == "sentence"
                else (c.unit.start, c.unit.end)
            )
            good.append(_holds(c.passage, start, end, spans[q.id]))
        groups.append((np.array(rows, dtype=float), np.array(good, dtype=float), top3))
    answer_module._choice_scores = choose

    stacked = np.vstack([x for x, _, _ in groups])
    stacked[~np.isfinite(stacked)] = -5.0  # a label's -inf score
    mean, std = stacked.mean(0), stacked.std(0) + 1e-9

    def norm(x: np.ndarray) -> np.ndarray:
        x = np.where(np.isfinite(x), x, -5.0)
        return (x - mean) / std

    data = [(norm(x), g, t) for x, g, t in groups]
    for label, cols in (("hand-weighted score alone", [0]), ("all features, learned", list(range(len(FEATURES))))):
        right = []
        for i, (x, g, t) in enumerate(data):
            train = [(xx[:, cols], gg) for j, (xx, gg, _) in enumerate(data) if j != i and gg.any()]
            w = _fit(train)
            right.append((bool(g[int(np.argmax(x[:, cols] @ w))]), t))
        right += fixed
        n3 = sum(t for _, t in right)
        print(
            f"{label:28} leave-one-out: overall {sum(ok for ok, _ in right)}/{len(right)} "
            f"= {np.mean([ok for ok, _ in right]):.3f}; evidence in top 3: "
            f"{sum(ok for ok, t in right if t)}/{n3} = {sum(ok for ok, t in right if t) / n3:.3f}"
        )


def _holds(passage, start: int, end: int, spans) -> bool:  # type: ignore[no-untyped-def]
    return any(covers(Retrieved.of(passage, (start, end)), s) for s in spans)


if __name__ == "__main__":
    main()
