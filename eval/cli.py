"""``policyqa eval`` and ``policyqa bench`` (registered by ``cli.main``).

Only typer and rich are imported here; the retriever, torch and
ir-measures load inside the commands, so ``policyqa --help`` stays fast.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from core.errors import PolicyQAError

__all__ = ["bench_command", "eval_command", "run_dir"]

_OUT_DIR = Path(__file__).resolve().parent / "out"
_SPLIT_CHOICES = ("dev", "test", "all")
# Piped output (CI logs, files) gets a fixed width wide enough for the metric tables instead of
# rich's default of 80 columns, which would truncate them.
_out = Console(width=None if sys.stdout.isatty() else 120)
_err = Console(stderr=True)


def _quiet() -> None:
    """As in `policyqa ask`: no hub lookups, no transformers noise; a build on the way logs its progress."""
    from core.logs import log_to_stderr, quiet_libraries

    quiet_libraries()
    log_to_stderr()


def _fail(exc: PolicyQAError) -> typer.Exit:
    _err.print(f"[red]error:[/red] {escape(str(exc))}")
    return typer.Exit(2)


_RUN_FILES = ("results.json", "report.md", "*.trec", "compare.json")


def run_dir(out: Path | None, base: Path = _OUT_DIR) -> Path:
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
        _out.print("[yellow]nothing to compare: no configuration and split in common[/yellow]")
        return
    table = _metrics_table("Change against the old results (new - old)", {}, metrics)
    for r in rows:
        cells = []
        for m in metrics:
            d = r["delta"].get(m, 0.0)
            colour = "green" if d > 0 else "red" if d < 0 else "dim"
            cells.append(f"[{colour}]{d:+.3f}[/{colour}]")
        table.add_row(escape(f"{r['config']} / {r['split']}"), *cells)
    _out.print(table)
    for r in rows:
        if r["n"][0] != r["n"][1]:
            _out.print(
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
                _out.print(
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

    _quiet()
    if split is not None and split not in _SPLIT_CHOICES:
        _err.print(f"[red]error:[/red] unknown split {split!r}; valid: {', '.join(_SPLIT_CHOICES)}")
        raise typer.Exit(2)
    if url and config:
        _err.print("[red]error:[/red] with --url only the server's own configuration is evaluated; drop --config")
        raise typer.Exit(2)
    golds = list(gold or GOLD_PATHS)
    shown = ["dev", "test"] if split is None else [split]
    try:
        old = json.loads(compare.read_text(encoding="utf-8")) if compare else None
    except (OSError, ValueError) as exc:
        _err.print(f"[red]error:[/red] cannot read {compare}: {escape(str(exc))}")
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
                _err.print(f"[dim]built the index first ({report.reason}, {report.seconds:.1f}s)[/dim]")
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
            lambda m: _err.print(f"[dim]{m}[/dim]"),
            answerers,
        )
        result = replace(result, meta=meta)
        out = run_dir(out)
        written = write_outputs(result, out, shown)
    except PolicyQAError as exc:
        raise _fail(exc) from exc
    data = json.loads(written[0].read_text(encoding="utf-8"))
    for s in shown:
        runs = {name: c["splits"][s]["metrics"] for name, c in data["configs"].items() if s in c["splits"]}
        if runs:
            first = next(iter(data["configs"].values()))["splits"][s]
            languages = first["by_language"]
            if len(languages) == 1:
                _out.print(_metrics_table(f"split {s} ({first['n']} questions)", runs, METRICS))
                continue
            for lang, group in languages.items():
                per_lang = {
                    name: c["splits"][s]["by_language"][lang]["metrics"]
                    for name, c in data["configs"].items()
                    if s in c["splits"]
                }
                _out.print(_metrics_table(f"split {s}, questions in {lang} ({group['n']})", per_lang, METRICS))
    for s in shown:
        _print_answers(data, s)
    if not url:
        _print_comparison(retriever, shown, out)
    if old is not None:
        _print_compare(compare_results(old, data), METRICS)
    _out.print(f"wrote {len(written)} files to {escape(str(out))}: results.json, report.md, qrels*.trec, run.*.trec")


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
        _out.print(table)
        t = f["trigger"]
        _out.print(
            f"comparison asked: {t['caught']} of {t['comparison']} comparison questions caught, "
            f"{t['flipped']} of {t['ordinary']} gold questions flipped"
        )
        for line in f["errors"]:
            _out.print(f"  [dim]{escape(line)}[/dim]")
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
    _out.print(_answer_table(f"answers, split {split}: holds the gold evidence (all; top 3)", "config", rows))
    name = "routed" if "routed" in answered else next(iter(answered))
    for key, label in (("by_kind", "kind of question"), ("by_unit", "evidence unit")):
        groups = {g: {"n": v["n"], **v["metrics"]} for g, v in answered[name][key].items()}
        _out.print(_answer_table(f"answers of {name}, split {split}, by {label}", label, groups))


def bench_command(
    config: Annotated[
        list[str] | None,
        typer.Option("--config", "-c", help="Configuration to time in process, repeatable. Default: all."),
    ] = None,
    rounds: Annotated[int, typer.Option(help="Timed passes over the questions in process.", min=1)] = 2,
    requests: Annotated[int, typer.Option(help="HTTP requests per concurrency level.", min=1)] = 200,
    build: Annotated[
        bool, typer.Option(help="Time a cold and a no-op build into a temporary data dir (else use the live index).")
    ] = True,
    http: Annotated[bool, typer.Option(help="Time `policyqa serve` over loopback HTTP.")] = True,
    workers: Annotated[int, typer.Option(help="Server worker processes for the HTTP figures.", min=1)] = 2,
    add: Annotated[
        bool, typer.Option(help="With --build, time adding the MEM report to a running server (another cold build).")
    ] = True,
    gold: Annotated[Path | None, typer.Option(help="Questions to send (gold set JSONL).")] = None,
    out: Annotated[Path, typer.Option(help="Where to write bench.json.")] = _OUT_DIR,
    scale: Annotated[
        int | None,
        typer.Option(
            help="Instead: a synthetic collection of N reports made from the live index (index size, load, "
            "memory, latency, recall; see README 'Scale'); writes bench-scale-N.json.",
            min=1,
        ),
    ] = None,
) -> None:
    """Measure speed and memory: build times, search latency p50/p95/p99, HTTP throughput, peak RSS."""
    if scale is not None:
        from eval.scale_cli import bench_scale

        _quiet()
        try:
            bench_scale(scale, rounds=rounds, requests=requests, http=http, workers=workers, gold=gold, out=out)
        except PolicyQAError as exc:
            raise _fail(exc) from exc
        return
    from eval.bench import run_bench
    from eval.gold import GOLD_PATHS, load_gold_sets
    from qa.configs import CONFIGS

    _quiet()
    try:
        # English and Spanish questions: the timings include the multilingual leg where it runs.
        questions = [q.question for q in load_gold_sets([gold] if gold else GOLD_PATHS)]
        figures = run_bench(
            questions,
            list(config or CONFIGS),
            rounds=rounds,
            requests=requests,
            build=build,
            http=http,
            workers=workers,
            add=add,
            log=lambda m: _err.print(f"[dim]{escape(m)}[/dim]"),
        )
    except PolicyQAError as exc:
        raise _fail(exc) from exc
    out.mkdir(parents=True, exist_ok=True)
    path = out / "bench.json"
    path.write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")
    _print_bench(figures)
    _out.print(f"wrote {escape(str(path))}")


def _print_bench(f: dict[str, Any]) -> None:
    table = Table(title="policyqa bench", title_justify="left")
    for col in ("measure", "p50 ms", "p95 ms", "p99 ms", "req/s", "other"):
        table.add_column(col, justify="left" if col in ("measure", "other") else "right")
    if f.get("build"):
        for name in ("cold", "cached", "noop"):
            b = f["build"].get(name)
            if b is None:
                continue
            cpu = f", {b['cpu_s']:.0f} CPU s" if "cpu_s" in b else ""
            table.add_row(
                f"build ({name})", "", "", "", "", f"{b['seconds']:.2f} s{cpu}, peak RSS {b['peak_rss_mb']} MB"
            )
        for name, rate in f["build"]["cold"].get("rates", {}).items():
            table.add_row(f"  cold build, {escape(name)}", "", "", "", "", f"{rate} texts/s")
        if a := f["build"].get("add"):
            table.add_row(
                f"add {escape(a['document'])} to a running server",
                "",
                "",
                "",
                "",
                f"{a['seconds']:.2f} s (build {a['build_s']:.2f} s, reload {a['reload_s']:.2f} s)",
            )
            for name, rate in a["rates"].items():
                table.add_row(f"  add, {escape(name)}", "", "", "", "", f"{rate} texts/s")
    adapted = f.get("adaptation")
    if adapted:
        how = "in the cold build above" if f.get("build") else "when the live index's model was trained"
        table.add_row(
            "adapting MiniLM (training)",
            "",
            "",
            "",
            "",
            f"{adapted['training_seconds']:.0f} s on {adapted['pairs']} pairs, {how}",
        )
    table.add_row(
        "open index + model", "", "", "", "", f"{f['open_s']:.2f} s (checksums verified in {f['verify_ms']} ms)"
    )
    table.add_row(
        "query encodings per request",
        "",
        "",
        "",
        "",
        f"{f['encodings_per_request']} ({escape(f['meta']['query_encoder'])})",
    )
    for name, s in f["in_process"].items():
        qps = 1000 / s["mean_ms"] if s["mean_ms"] else 0.0
        table.add_row(
            f"in-process {name}", f"{s['p50_ms']:.1f}", f"{s['p95_ms']:.1f}", f"{s['p99_ms']:.1f}", f"{qps:.1f}", ""
        )
    table.add_row("peak RSS (this process)", "", "", "", "", f"{f['peak_rss_mb']} MB")
    h = f["http"]
    if "skipped" in h:
        table.add_row("HTTP", "", "", "", "", f"skipped: {escape(h['skipped'])}")
    else:
        table.add_row("server start to ready", "", "", "", "", f"{h['startup_s']:.2f} s")
        for lvl in [*h["levels"], h["chat"]]:
            what = "POST /search" if lvl["path"] == "/search" else "chat completion"
            table.add_row(
                f"HTTP {what}, {lvl['concurrency']} client{'s' if lvl['concurrency'] > 1 else ''}",
                f"{lvl['p50_ms']:.1f}",
                f"{lvl['p95_ms']:.1f}",
                f"{lvl['p99_ms']:.1f}",
                f"{lvl['requests_per_s']:.1f}",
                f"{lvl['errors']} errors" + (f", {lvl['shed']} shed (503)" if lvl.get("shed") else ""),
            )
        for m in h["worker_memory"]:
            table.add_row(
                f"server worker {m['pid']} of {h['workers']}",
                "",
                "",
                "",
                "",
                f"RSS {m.get('rss_mb')} MB (peak {m.get('peak_rss_mb')}), PSS {m.get('pss_mb')} MB",
            )
    if f.get("reloads"):
        r = f["reloads"]
        table.add_row(
            f"server after {r['reloads']} reloads",
            "",
            "",
            "",
            "",
            f"RSS {r['rss_before_mb']} -> {r['rss_after_mb']} MB",
        )
    _out.print(table)
