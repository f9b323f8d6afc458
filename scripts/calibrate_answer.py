"""Measure the answer score on answerable and unanswerable questions and pick ``answer_min_score``.

Runs every question of ``eval/answerability.jsonl`` through the real
retriever and answer extraction with no threshold, prints both distributions
of the answer's relevance (the best cosine among the candidate units, what
the threshold is compared with), the threshold that classifies the most
questions right (midpoint between neighbouring scores, so it does not sit on
a data point), and its precision and recall for answerable questions.

    .venv/bin/python scripts/calibrate_answer.py               # English: answer_min_score
    .venv/bin/python scripts/calibrate_answer.py --language es # Spanish (eval/answerability_es.jsonl,
                                                               # multilingual-e5): answer_min_score_multilingual
"""

from __future__ import annotations

import itertools
import json
import os
import statistics
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from core.settings import PROJECT_ROOT
from qa.answer import extract_answer
from qa.retrieve import Retriever


def main() -> None:
    language = sys.argv[sys.argv.index("--language") + 1] if "--language" in sys.argv else "en"
    name = "answerability.jsonl" if language == "en" else f"answerability_{language}.jsonl"
    rows = [json.loads(line) for line in (PROJECT_ROOT / "eval" / name).read_text(encoding="utf-8").splitlines()]
    retriever = Retriever.open()
    english = language == "en"
    scored: list[tuple[float, bool, str]] = []
    for row in rows:
        hits = retriever.search(row["query"], k=10, language=language)
        if hits and "route" in hits[0].scores:
            print(f"routed (answered whatever the score): {row['query']}")
            continue
        answer = extract_answer(
            row["query"],
            hits,
            retriever.encode_query(row["query"], language),
            retriever.units(language),
            min_score=-1.0,
            words=row["query"] if english else (retriever.english_words(row["query"], language) or None),
        )
        scored.append((answer.relevance if answer else -1.0, row["answerable"], row["query"]))
    for label, flag in (("answerable", True), ("unanswerable", False)):
        values = sorted(s for s, a, _ in scored if a is flag)
        quartiles = statistics.quantiles(values, n=4)
        print(
            f"{label:13} n={len(values)} min={values[0]:.3f} q1={quartiles[0]:.3f} "
            f"median={quartiles[1]:.3f} q3={quartiles[2]:.3f} max={values[-1]:.3f}"
        )
    points = sorted({s for s, _, _ in scored})
    cuts = [(a + b) / 2 for a, b in itertools.pairwise(points)]
    best = max(cuts, key=lambda t: (sum((s >= t) == a for s, a, _ in scored), -abs(t - 0.5)))
    right = sum((s >= best) == a for s, a, _ in scored)
    answered = [a for s, a, _ in scored if s >= best]
    answerable = sum(a for _, a, _ in scored)
    precision = sum(answered) / len(answered) if answered else 0.0
    recall = sum(answered) / answerable if answerable else 0.0
    print(f"best threshold {best:.3f}: {right}/{len(scored)} classified right")
    print(
        f"answering at {best:.3f}: precision {precision:.3f} ({sum(answered)}/{len(answered)} answered are "
        "answerable), "
        f"recall {recall:.3f} ({sum(answered)}/{answerable} answerable answered)"
    )
    for s, a, q in sorted(scored):
        if (s >= best) != a:
            print(f"  wrong: {s:.3f} answerable={a} {q}")


if __name__ == "__main__":
    main()
