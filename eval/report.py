"""Outputs of an evaluation: results JSON, Markdown report, TREC runs and qrels, comparisons.

Everything is derived from the results dictionary (``to_json``), so a saved
``results.json`` can be compared with a new run without re-running the old
code.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from eval.answers import ANSWER_METRICS, aggregate_answers
from eval.metrics import (
    METRICS,
    Retrieved,
    aggregate,
    citation_qrels,
    evidence_qrels,
    passage_run,
    pool_by_question,
    section_qrels,
    section_run,
)
from eval.run import EvalResult

__all__ = ["MISS_METRICS", "compare", "to_json", "to_markdown", "write_outputs"]

ANSWER_GROUPS = (("by_kind", "kind"), ("by_unit", "unit"), ("by_language", "language"))
"""How answer figures are broken down: language, and within each language ("en: fact") the kind of
question and the kind of unit holding the evidence (an answer to a Spanish question is chosen
otherwise, so the two are never pooled)."""

MISS_METRICS = ("hit@5", "cit@1")
"""A question is listed as a miss for a configuration when either is 0: the evidence is not in the
top five, or the first citation names the wrong section (the two things evaluators quote)."""

_TOP_SHOWN = 10


def _group(per_query: Mapping[str, Mapping[str, float]], qids: Sequence[str]) -> dict[str, Any]:
    return {"n": len(qids), "metrics": {m: round(v, 4) for m, v in aggregate(per_query, qids).items()}}


def _by(questions: Iterable[Any], key: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for q in questions:
        out.setdefault(getattr(q, key), []).append(q.id)
    return dict(sorted(out.items()))


def _section_labels(result: EvalResult) -> dict[str, str]:
    """Every section's citation label, as the chunker writes it, by section id."""
    from index.chunk import make_label

    return {s.id: make_label(doc.document.short_title, s.path) for doc in result.documents.values() for s in doc.walk()}


def to_json(result: EvalResult) -> dict[str, Any]:
    """The results as plain JSON: aggregates per split, kind and report, and every question's run."""
    splits = {s: [q for q in result.questions if q.split == s] for s in ("dev", "test")}
    splits = {s: qs for s, qs in splits.items() if qs}
    if len(splits) > 1:  # "all" only when the run covered both splits; else it repeats the one
        splits["all"] = result.questions
    labels = _section_labels(result)
    expected = {q.id: [labels.get(sid, sid) for sid in q.gold_sections] for q in result.questions}
    configs: dict[str, Any] = {}
    units = result.units
    for run in result.configs:
        answers = None
        if run.answer_scores is not None:
            scores = run.answer_scores

            def _answer_group(qids: list[str], scores: Any = scores) -> dict[str, Any]:
                return {"n": len(qids), "metrics": {m: round(v, 4) for m, v in aggregate_answers(scores, qids).items()}}

            answers = {}
            for name, qs in splits.items():
                answers[name] = {**_answer_group([q.id for q in qs])}
                for key, attr in ANSWER_GROUPS:
                    groups: dict[str, list[str]] = {}
                    for q in qs:
                        value = units.get(q.id, "sentence") if attr == "unit" else getattr(q, attr)
                        if attr != "language":
                            value = f"{q.language}: {value}"
                        groups.setdefault(value, []).append(q.id)
                    answers[name][key] = {g: _answer_group(ids) for g, ids in sorted(groups.items())}
        configs[run.name] = {
            "seconds": round(run.seconds, 3),
            "splits": {
                name: {
                    **_group(run.per_query, [q.id for q in qs]),
                    "by_kind": {k: _group(run.per_query, ids) for k, ids in _by(qs, "kind").items()},
                    "by_document": {d: _group(run.per_query, ids) for d, ids in _by(qs, "document_id").items()},
                    "by_language": {lang: _group(run.per_query, ids) for lang, ids in _by(qs, "language").items()},
                }
                for name, qs in splits.items()
            },
            "questions": [
                {
                    "id": q.id,
                    "split": q.split,
                    "language": q.language,
                    "kind": q.kind,
                    "document_id": q.document_id,
                    "question": q.question,
                    "expected": expected[q.id],
                    "metrics": run.per_query[q.id],
                    "evidence_unit": units.get(q.id, "sentence"),
                    **({} if run.answers is None else {"answer": _answer_json(run, q.id)}),
                    "top": [
                        {"rank": i, "passage_id": r.passage_id, "section_ids": list(r.section_ids), "label": r.label}
                        for i, r in enumerate(run.ranked[q.id][:_TOP_SHOWN], 1)
                    ],
                }
                for q in result.questions
            ],
        }
        if answers is not None:
            configs[run.name]["answers"] = answers
    return {"meta": result.meta, "metrics": list(METRICS), "answer_metrics": list(ANSWER_METRICS), "configs": configs}


def _answer_json(run: Any, qid: str) -> dict[str, Any] | None:
    a = run.answers[qid]
    figures = run.answer_scores[qid]
    if a is None:
        return {"abstained": True, **figures}
    return {
        "text": a.text,
        "kind": a.kind,
        "passage_id": a.passage_id,
        "section_ids": list(a.section_ids),
        "char_start": a.start,
        "char_end": a.end,
        **figures,
    }


def _fmt(v: float) -> str:
    return f"{v:.3f}"


def _md_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    def esc(cell: str) -> str:
        return cell.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines.extend("| " + " | ".join(esc(c) for c in row) + " |" for row in rows)
    return lines


def to_markdown(data: Mapping[str, Any], splits: Sequence[str]) -> str:
    """The human report: per-configuration tables, per kind and per report, and the misses."""
    configs: Mapping[str, Any] = data["configs"]
    meta = data.get("meta", {})
    out = ["# Retrieval evaluation", ""]
    out += [f"- {k}: `{v}`" for k, v in meta.items() if not isinstance(v, dict)]
    out += [
        "",
        "hit@k: the evidence is in the top k passages. mrr@10, ndcg@10, r@k: gold sections in the "
        "section ranking. cit@1: the first passage cites a gold section. See 'For evaluators' in README.md.",
    ]
    for split in splits:
        first = next(iter(configs.values()))
        if split not in first["splits"]:
            continue
        out += ["", f"## Split `{split}` ({first['splits'][split]['n']} questions)", ""]
        out += _md_table(
            ["config", *METRICS],
            ([name, *(_fmt(c["splits"][split]["metrics"][m]) for m in METRICS)] for name, c in configs.items()),
        )
        for key, title in (
            ("by_language", "By language"),
            ("by_kind", "By kind of question"),
            ("by_document", "By report"),
        ):
            out += ["", f"### {title} (`{split}`): hit@5 / cit@1", ""]
            groups = first["splits"][split][key]
            out += _md_table(
                [key.removeprefix("by_"), "n", *configs],
                (
                    [
                        g,
                        str(groups[g]["n"]),
                        *(
                            f"{_fmt(c['splits'][split][key][g]['metrics']['hit@5'])} / "
                            f"{_fmt(c['splits'][split][key][g]['metrics']['cit@1'])}"
                            for c in configs.values()
                        ),
                    ]
                    for g in groups
                ),
            )
    out += _answers_markdown(configs, splits)
    out += ["", "## Misses", "", "Questions with hit@5 = 0 or cit@1 = 0, per configuration."]
    for name, c in configs.items():
        misses = [q for q in c["questions"] if any(q["metrics"][m] == 0 for m in MISS_METRICS)]
        out += ["", f"### `{name}`: {len(misses)} misses", ""]
        if misses:
            out += _md_table(
                ["id", "split", "kind", "question", "expected", "hit@5", "cit@1", "first result"],
                (
                    [
                        q["id"],
                        q["split"],
                        q["kind"],
                        q["question"],
                        "; ".join(q["expected"]),
                        _fmt(q["metrics"]["hit@5"]),
                        _fmt(q["metrics"]["cit@1"]),
                        q["top"][0]["label"] if q["top"] else "(nothing retrieved)",
                    ]
                    for q in misses
                ),
            )
    return "\n".join(out) + "\n"


def _answer_cells(m: Mapping[str, float]) -> list[str]:
    return [
        _fmt(m["evidence"]),
        f"{_fmt(m['evidence_top3'])} ({int(m['n_top3'])})",
        _fmt(m["section"]),
        _fmt(m["abstain"]),
    ]


def _answers_markdown(configs: Mapping[str, Any], splits: Sequence[str]) -> list[str]:
    """Answer accuracy per configuration and split, broken down; then the answers that missed."""
    answered = {name: c["answers"] for name, c in configs.items() if "answers" in c}
    if not answered:
        return []
    header = ["evidence", "evidence, top 3 (n)", "gold section", "abstain"]
    out = [
        "",
        "## Answers",
        "",
        "evidence: the answer holds a gold evidence quote; top 3: the same among questions whose evidence is in "
        "the top 3 passages; gold section: the answer comes from a gold section; abstain: no answer given.",
    ]
    for split in splits:
        rows = {name: a[split] for name, a in answered.items() if split in a}
        if not rows:
            continue
        out += ["", f"### Answers, split `{split}`", ""]
        out += _md_table(
            ["config", "n", *header], ([name, str(r["n"]), *_answer_cells(r["metrics"])] for name, r in rows.items())
        )
        for key, title in (("by_language", "language"), ("by_kind", "kind of question"), ("by_unit", "evidence unit")):
            for name, r in rows.items():
                out += ["", f"#### `{name}` by {title} (`{split}`)", ""]
                out += _md_table(
                    [key.removeprefix("by_"), "n", *header],
                    ([g, str(v["n"]), *_answer_cells(v["metrics"])] for g, v in r[key].items()),
                )
    for name in answered:
        missed = [q for q in configs[name]["questions"] if q["answer"]["top3"] and not q["answer"]["evidence"]]
        out += ["", f"### `{name}`: {len(missed)} answers that miss the evidence though it is in the top 3", ""]
        if missed:
            out += _md_table(
                ["id", "split", "kind", "question", "answer"],
                (
                    [q["id"], q["split"], q["kind"], q["question"], q["answer"].get("text", "(abstained)")[:200]]
                    for q in missed
                ),
            )
    return out


def _file_label(name: str) -> str:
    return name.replace(":", "_").replace("/", "_")


def _write_run(path: Path, rows: Iterable[tuple[str, str, int, float]], tag: str) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for qid, doc, rank, score in rows:
            fh.write(f"{qid} Q0 {doc} {rank} {score:.6f} {tag}\n")


def _write_qrels(path: Path, rows: Iterable[tuple[str, str, int]]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for qid, doc, rel in rows:
            fh.write(f"{qid} 0 {doc} {rel}\n")


def write_outputs(result: EvalResult, out_dir: Path, splits: Sequence[str]) -> list[Path]:
    """Write results.json, report.md, the section-level TREC runs and qrels, and the passage-level ones.

    ``run.<config>.trec`` + ``qrels.trec`` rescore mrr/ndcg/r@k;
    ``run.<config>.passages.trec`` with ``qrels.evidence.trec`` (or
    ``qrels.citation.trec``) rescore hit@k (cit@1) as ``Success@k``.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    data = to_json(result)
    written = [out_dir / "results.json", out_dir / "report.md"]
    written[0].write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    written[1].write_text(to_markdown(data, splits), encoding="utf-8")
    all_ranked: dict[str, list[Retrieved]] = {
        q.id: [r for run in result.configs for r in run.ranked[q.id]] for q in result.questions
    }
    judged = pool_by_question(all_ranked, result.pool)
    for path, rows in (
        (out_dir / "qrels.trec", section_qrels(result.questions)),
        (out_dir / "qrels.evidence.trec", evidence_qrels(result.questions, result.spans, judged)),
        (out_dir / "qrels.citation.trec", citation_qrels(result.questions, judged)),
    ):
        _write_qrels(path, rows)
        written.append(path)
    for run in result.configs:
        label = _file_label(run.name)
        for path, rows in (
            (out_dir / f"run.{label}.trec", section_run(run.ranked)),
            (out_dir / f"run.{label}.passages.trec", passage_run(run.ranked)),
        ):
            _write_run(path, rows, label)
            written.append(path)
    return written


def compare(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Metric deltas (new - old) for every configuration and split present in both results.

    Also lists the questions whose hit@5 or cit@1 flipped, so a change that
    helps on average but breaks particular questions shows.
    """
    rows: list[dict[str, Any]] = []
    for name, n in new["configs"].items():
        o = old["configs"].get(name)
        if o is None:
            continue
        before = {q["id"]: q["metrics"] for q in o["questions"]}
        flips: dict[str, dict[str, list[str]]] = {}
        for m in MISS_METRICS:
            gained = [q["id"] for q in n["questions"] if q["id"] in before and q["metrics"][m] > before[q["id"]][m]]
            lost = [q["id"] for q in n["questions"] if q["id"] in before and q["metrics"][m] < before[q["id"]][m]]
            flips[m] = {"gained": gained, "lost": lost}
        for split, s in n["splits"].items():
            if split not in o["splits"]:
                continue
            old_m, new_m = o["splits"][split]["metrics"], s["metrics"]
            rows.append(
                {
                    "config": name,
                    "split": split,
                    "n": (o["splits"][split]["n"], s["n"]),
                    "old": old_m,
                    "new": new_m,
                    "delta": {m: round(new_m[m] - old_m[m], 4) for m in METRICS if m in old_m},
                    "flips": flips,
                }
            )
    return rows
