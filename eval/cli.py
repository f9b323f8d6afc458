"""``policyqa eval`` (registered by ``cli.main``; ``policyqa bench`` is ``eval.bench_cli``).

Only typer and rich are imported here; the retriever, torch and
ir-measures load inside the commands, so ``policyqa --help`` stays fast.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from core.errors import PolicyQAError
from core.logs import fail
from eval import console

__all__ = ["eval_command", "run_dir"]

_SPLIT_CHOICES = ("dev", "test", "all")
_RUN_FILES = ("results.json", "report.md", "*.trec", "compare.json")


def run_dir(out: Path | None, base: Path = console.OUT_DIR) -> Path:
    """The folder one evaluation run writes to, holding nothing from an earlier run.

    Without ``out``: a new timestamped folder under ``base``, with ``base/latest``
    pointing at it. With ``out``: that folder, cleared of the files a run writes,
    so a TREC run of a configuration not evaluated this time never lingers.
    """
    if out is None:
        out = base / time.strftime("%Y%m%dT%H%M%S")
        suffix = 1
        while out.exists():
            suffix += 1
            out = base / f"{time.strftime('%Y%m%dT%H%M%S')}-{suffix}"
        out.mkdir(parents=True)
        latest = base / "latest"
        if latest.is_symlink() or not latest.exists():
            latest.unlink(missing_ok=True)
            latest.symlink_to(out.name)
        return out
    out.mkdir(parents=True, exist_ok=True)
    for pattern in _RUN_FILES:
        for stale in out.glob(pattern):
            stale.unlink()
    return out


def _git_commit() -> str | None:
    # Which code produced the numbers; absent outside a git checkout.
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def _metrics_table(title: str, rows: dict[str, dict[str, float]], metrics: tuple[str, ...]) -> Table:
    # Compact (no side padding) so the nine metrics fit an 80-column terminal.
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, padding=(0, 1), pad_edge=False)
    table.add_column("config", no_wrap=True)
    for m in metrics:
        table.add_column(m, justify="right", min_width=len(m))
    for name, values in rows.items():
        table.add_row(escape(name), *(f"{values[m]:.3f}" for m in metrics))
    return table


def _print_compare(rows: list[dict[str, Any]], metrics: tuple[str, ...]) -> None:
    if not rows:
        console.out.print("[yellow]nothing to compare: no configuration and split in common[/yellow]")
        return
    table = _metrics_table("Change against the old results (new - old)", {}, metrics)
    for r in rows:
        cells = []
        for m in metrics:
            d = r["delta"].get(m, 0.0)
            colour = "green" if d > 0 else "red" if d < 0 else "dim"
            cells.append(f"[{colour}]{d:+.3f}[/{colour}]")
        table.add_row(escape(f"{r['config']} / {r['split']}"), *cells)
    console.out.print(table)
    for r in rows:
        if r["n"][0] != r["n"][1]:
            console.out.print(
                f"[yellow]{escape(r['config'])} / {r['split']}: {r['n'][0]} questions before, {r['n'][1]} now; "
                "the gold set differs, so the deltas mix two sets[/yellow]"
            )
    seen: set[str] = set()
    for r in rows:
        if r["config"] in seen:
            continue
        seen.add(r["config"])
        for m, f in r["flips"].items():
            if f["gained"] or f["lost"]:
                console.out.print(
                    f"{escape(r['config'])} {m}: gained {', '.join(f['gained']) or '-'}; "
                    f"lost {', '.join(f['lost']) or '-'}"
                )


def eval_command(
    config: Annotated[
        list[str] | None,
        typer.Option(
            "--config",
            "-c",
            help="Configuration to evaluate, repeatable: bm25, dense, hybrid, routed, or NAME:FUSION "
            "(hybrid:rrf). Default: all, plus hybrid:rrf and routed:rrf.",
        ),
    ] = None,
    fusion: Annotated[str, typer.Option(help="Fusion for configurations named without one: convex, rrf.")] = "convex",
    split: Annotated[
        str | None,
        typer.Option(help="Only this split: dev, test or all. Default: run all, report dev and test apart."),
    ] = None,
    gold: Annotated[
        list[Path] | None,
        typer.Option(
            help="Gold set (JSONL), repeatable. Default: the bundled eval/gold.jsonl (English) and "
            "eval/gold_es.jsonl (Spanish), reported per language."
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Folder for this run's results.json, report.md and TREC files. "
            "Default: a new timestamped folder under eval/out/ (eval/out/latest links to it)."
        ),
    ] = None,
    url: Annotated[
        str | None,
        typer.Option(help="Evaluate a live API (POST URL/search) instead of the in-process retriever."),
    ] = None,
    compare: Annotated[
        Path | None, typer.Option(help="An earlier results.json: print the change of every metric against it.")
    ] = None,
) -> None:
    """Score retrieval on the gold set: hit@k, MRR, nDCG, recall and citation accuracy per configuration."""
    import time
    from dataclasses import replace

    from core.settings import get_settings
    from eval.gold import GOLD_PATHS, load_gold_sets
    from eval.metrics import METRICS
    from eval.report import compare as compare_results
    from eval.report import write_outputs
    from eval.run import (
        DEFAULT_SPECS,
        documents_of,
        http_answerer,
        http_searcher,
        in_process_answerers,
        in_process_searchers,
        parse_spec,
        pool_of,
        run_eval,
    )

    console.quiet()
    if split is not None and split not in _SPLIT_CHOICES:
        console.err.print(f"[red]error:[/red] unknown split {split!r}; valid: {', '.join(_SPLIT_CHOICES)}")
        raise typer.Exit(2)
    if url and config:
        console.err.print(
            "[red]error:[/red] with --url only the server's own configuration is evaluated; drop --config"
        )
        raise typer.Exit(2)
    golds = list(gold or GOLD_PATHS)
    shown = ["dev", "test"] if split is None else [split]
    try:
        old = json.loads(compare.read_text(encoding="utf-8")) if compare else None
    except (OSError, ValueError) as exc:
        console.err.print(f"[red]error:[/red] cannot read {compare}: {escape(str(exc))}")
        raise typer.Exit(2) from exc
    try:
        specs = list(config or DEFAULT_SPECS)
        for spec in specs:
            parse_spec(spec, fusion)  # a bad name fails before the model loads
        questions = load_gold_sets(golds, None if split in (None, "all") else [split])
        settings = get_settings()
        meta: dict[str, Any] = {
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "gold": ", ".join(str(g) for g in golds),
            "questions": len(questions),
            "commit": _git_commit(),
        }
        if url:
            searchers = {"api": http_searcher(url)}
            answerers = {"api": http_answerer(url)}
            pool: list[Any] = []
            meta.update(mode="http", url=url)
        else:
            from index.build import build_index
            from qa.retrieve import Retriever

            # Evaluate what the code builds now: a stale index would score old code.
            # A no-op (well under a second) when the index is up to date.
            report = build_index(settings)
            if report.built:
                console.err.print(f"[dim]built the index first ({report.reason}, {report.seconds:.1f}s)[/dim]")
            retriever = Retriever.open(settings)
            searchers = in_process_searchers(retriever, specs, fusion)
            answerers = in_process_answerers(retriever, specs, fusion)
            pool = pool_of(retriever)
            manifest = retriever.index.manifest
            meta.update(mode="in-process", index_built_at=manifest.get("built_at"), passages=manifest.get("passages"))
        result = run_eval(
            searchers,
            questions,
            documents_of(settings.corpus_dir),
            pool,
            lambda m: console.err.print(f"[dim]{m}[/dim]"),
            answerers,
        )
        result = replace(result, meta=meta)
        out = run_dir(out)
        written = write_outputs(result, out, shown)
    except PolicyQAError as exc:
        raise fail(exc) from exc
    data = json.loads(written[0].read_text(encoding="utf-8"))
    for s in shown:
        runs = {name: c["splits"][s]["metrics"] for name, c in data["configs"].items() if s in c["splits"]}
        if runs:
            first = next(iter(data["configs"].values()))["splits"][s]
            languages = first["by_language"]
            if len(languages) == 1:
                console.out.print(_metrics_table(f"split {s} ({first['n']} questions)", runs, METRICS))
                continue
            for lang, group in languages.items():
                per_lang = {
                    name: c["splits"][s]["by_language"][lang]["metrics"]
                    for name, c in data["configs"].items()
                    if s in c["splits"]
                }
                console.out.print(_metrics_table(f"split {s}, questions in {lang} ({group['n']})", per_lang, METRICS))
    for s in shown:
        _print_answers(data, s)
    if not url:
        _print_comparison(retriever, shown, out)
    if old is not None:
        _print_compare(compare_results(old, data), METRICS)
    console.out.print(
        f"wrote {len(written)} files to {escape(str(out))}: results.json, report.md, qrels*.trec, run.*.trec"
    )


def _print_comparison(retriever: Any, splits: list[str], out: Path) -> None:
    """The comparison view on eval/compare.jsonl (``eval.compare``): which reports address each question.

    In process only (``--url`` evaluates the server's ranking and answers); written to compare.json.
    """
    from eval.compare import load_compare, score_comparison, trigger_counts
    from eval.gold import GOLD_PATHS, load_gold_sets

    figures: dict[str, Any] = {}
    for s in splits:
        wanted = None if s == "all" else [s]
        questions = load_compare(splits=wanted)
        if not questions:
            continue
        f = figures[s] = score_comparison(retriever, questions)
        f["trigger"] = trigger_counts(questions, load_gold_sets(GOLD_PATHS, wanted))
        table = Table(
            title=f"comparison view, split {s} ({f['questions']} questions, {f['pairs']} question-report pairs)",
            title_justify="left",
            box=box.SIMPLE_HEAD,
            padding=(0, 1),
            pad_edge=False,
        )
        for column in ("relevant", "cut", "precision", "recall", "tp", "fp", "fn"):
            table.add_column(column, justify="right" if column not in ("relevant", "cut") else "left")

        def row(what: str, cut: str, m: dict[str, float], table: Table = table) -> None:
            table.add_row(
                what, cut, f"{m['precision']:.3f}", f"{m['recall']:.3f}", *(str(m[k]) for k in ("tp", "fp", "fn"))
            )

        row("reports", "served", f["reports"])
        for cut, m in f["report_cuts"].items():
            row("reports (en)", f"cosine >= {cut}", m)
        for margin, m in f["passage_margins"].items():
            row("passages", f"threshold - {margin}", m)
        console.out.print(table)
        t = f["trigger"]
        console.out.print(
            f"comparison asked: {t['caught']} of {t['comparison']} comparison questions caught, "
            f"{t['flipped']} of {t['ordinary']} gold questions flipped"
        )
        for line in f["errors"]:
            console.out.print(f"  [dim]{escape(line)}[/dim]")
    (out / "compare.json").write_text(json.dumps(figures, indent=2), encoding="utf-8")


_ANSWER_COLUMNS = ("evidence", "evidence_top3", "n_top3", "section", "abstain")


def _answer_table(title: str, first: str, rows: dict[str, dict[str, float]]) -> Table:
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, padding=(0, 1), pad_edge=False)
    table.add_column(first, no_wrap=True)
    for m in ("n", *_ANSWER_COLUMNS):
        table.add_column(m, justify="right")
    for name, m in rows.items():
        table.add_row(
            escape(name),
            str(int(m["n"])),
            *(str(int(m[c])) if c == "n_top3" else f"{m[c]:.3f}" for c in _ANSWER_COLUMNS),
        )
    return table


def _print_answers(data: dict[str, Any], split: str) -> None:
    """Answer accuracy beside retrieval: per configuration and language, then per kind for the first."""
    answered = {name: c["answers"][split] for name, c in data["configs"].items() if split in c.get("answers", {})}
    if not answered:
        return
    rows = {
        f"{name} / {lang}": {"n": g["n"], **g["metrics"]}
        for name, a in answered.items()
        for lang, g in a["by_language"].items()
    }
    console.out.print(_answer_table(f"answers, split {split}: holds the gold evidence (all; top 3)", "config", rows))
    name = "routed" if "routed" in answered else next(iter(answered))
    for key, label in (("by_kind", "kind of question"), ("by_unit", "evidence unit")):
        groups = {g: {"n": v["n"], **v["metrics"]} for g, v in answered[name][key].items()}
        console.out.print(_answer_table(f"answers of {name}, split {split}, by {label}", label, groups))
