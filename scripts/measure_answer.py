"""Measure each signal of the answer choice on the gold set's dev split (never test).

Retrieval runs once per question (``routed``, as users get it); then the
answer is chosen again under each setting: how many top passages compete
(``ANSWER_PASSAGES``) and the weight of each signal (``qa.answer``). For
every setting it prints the share of answers holding a gold evidence quote,
overall and among questions whose evidence is in the top 3 passages, per
language. The threshold is left out (``min_score=-1``): this measures which
unit is chosen, not whether to answer.

    .venv/bin/python scripts/measure_answer.py            # dev split
"""

from __future__ import annotations

import os
import sys
from statistics import fmean

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import qa.answer as answer_module
from eval.gold import GOLD_PATHS, load_gold_sets, locate_evidence
from eval.metrics import Retrieved, covers
from eval.run import documents_of
from qa.answer import extract_answer
from qa.retrieve import Retriever

_WEIGHTS = ("LEXICAL_WEIGHT", "RANK_WEIGHT", "GAP_WEIGHT", "LEAD_IN_WEIGHT", "NUMBER_WEIGHT", "TABLE_WEIGHT")
# (label, {constant: value}); each setting starts from the module's defaults and changes one thing.
SETTINGS: list[tuple[str, dict[str, float]]] = [
    ("defaults", {}),
    ("cosine only, 3 passages", {"ANSWER_PASSAGES": 3, **dict.fromkeys(_WEIGHTS, 0.0)}),
    *[(f"passages {n}", {"ANSWER_PASSAGES": n}) for n in (1, 2, 3, 4, 5, 7)],
    *[(f"lexical (BM25) {w}", {"LEXICAL_WEIGHT": w}) for w in (0.0, 0.25, 0.5, 0.75, 1.0)],
    *[(f"passage rank {w}", {"RANK_WEIGHT": w}) for w in (0.0, 0.1, 0.2, 0.3)],
    *[(f"passage score gap {w}", {"GAP_WEIGHT": w}) for w in (0.0, 1.0, 2.0, 3.0)],
    *[(f"lead-in {w}", {"LEAD_IN_WEIGHT": w}) for w in (0.0, 0.1, 0.2, 0.3)],
    *[(f"asks a number {w}", {"NUMBER_WEIGHT": w}) for w in (0.0, 0.2, 0.4)],
    *[(f"table row {w}", {"TABLE_WEIGHT": w}) for w in (0.0, 0.2, 0.4)],
]


def main(settings: list[tuple[str, dict[str, float]]] = SETTINGS) -> None:
    split = sys.argv[sys.argv.index("--split") + 1] if "--split" in sys.argv else "dev"
    retriever = Retriever.open()
    questions = load_gold_sets(GOLD_PATHS, [split])
    spans = locate_evidence(questions, documents_of(retriever.settings.corpus_dir))
    runs = []
    for q in questions:
        lang = retriever.language_of(q.question)
        hits = retriever.search(q.question, k=10, language=lang)
        top3 = any(covers(Retrieved.of(h.passage), s) for h in hits[:3] for s in spans[q.id])
        runs.append((q, lang, hits, top3))
    defaults = {
        name: getattr(answer_module, name)
        for name in (
            "ANSWER_PASSAGES",
            "LEXICAL_WEIGHT",
            "RANK_WEIGHT",
            "GAP_WEIGHT",
            "LEAD_IN_WEIGHT",
            "NUMBER_WEIGHT",
            "TABLE_WEIGHT",
        )
    }
    print(f"split {split}: " + ", ".join(f"{k}={v}" for k, v in defaults.items()))
    print(f"{'setting':28} {'lang':4} {'n':>4} {'evidence':>8} {'top3':>6} {'n3':>4}")
    for label, changes in settings:
        values = {**defaults, **changes}
        for name, value in values.items():
            setattr(answer_module, name, value)
        held: dict[str, list[tuple[bool, bool]]] = {}
        for q, lang, hits, top3 in runs:
            english = lang == "en"
            a = extract_answer(
                q.question,
                hits,
                retriever.encode_query(q.question, lang),
                retriever.units(lang),
                -1.0,
                words=q.question if english else (retriever.english_words(q.question, lang) or None),
            )
            ok = a is not None and any(covers(Retrieved.of(a.passage, (a.start, a.end)), s) for s in spans[q.id])
            held.setdefault(lang, []).append((ok, top3))
        for lang, rows in sorted(held.items()):
            in3 = [ok for ok, t in rows if t]
            print(
                f"{label:28} {lang:4} {len(rows):4d} {fmean(ok for ok, _ in rows):8.3f} "
                f"{fmean(in3) if in3 else 0:6.3f} {len(in3):4d}"
            )
    for name, value in defaults.items():
        setattr(answer_module, name, value)


if __name__ == "__main__":
    main()
