"""``policyqa bench`` (registered by ``cli.main``): build, search and HTTP timings, or ``--scale N``.

Only typer and rich are imported here; the retriever, torch and the
measuring modules (``eval.bench``, ``eval.scale``) load inside the command.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from core.errors import PolicyQAError
from core.logs import fail
from eval import console

__all__ = ["bench_command", "print_bench"]


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
    out: Annotated[Path, typer.Option(help="Where to write bench.json.")] = console.OUT_DIR,
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

        console.quiet()
        try:
            bench_scale(scale, rounds=rounds, requests=requests, http=http, workers=workers, gold=gold, out=out)
        except PolicyQAError as exc:
            raise fail(exc) from exc
        return
    from eval.bench import run_bench
    from eval.gold import GOLD_PATHS, load_gold_sets
    from qa.configs import CONFIGS

    console.quiet()
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
            log=lambda m: console.err.print(f"[dim]{escape(m)}[/dim]"),
        )
    except PolicyQAError as exc:
        raise fail(exc) from exc
    out.mkdir(parents=True, exist_ok=True)
    path = out / "bench.json"
    path.write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")
    print_bench(figures)
    console.out.print(f"wrote {escape(str(path))}")


def _beside(build: dict[str, Any]) -> str:
    """A note for the rates of a build that ran both models at once (``index.legs``): each leg shared the cores."""
    return ", beside the other model" if (build.get("timings") or {}).get("legs_concurrent") else ""


def _adapted_rates(table: Table, what: str, build: dict[str, Any]) -> None:
    """The rates of a two-stage build's adapted stage: the legs it embedded again (MiniLM's)."""
    for name, rate in (build.get("adapted_rates") or {}).items():
        if rate is not None:
            table.add_row(f"  {what}, adapted, {escape(name)}", "", "", "", "", f"{rate} texts/s")


def print_bench(f: dict[str, Any]) -> None:
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
            if b.get("served_s") is not None:  # index.stages: the bundled MiniLM's build went live first
                table.add_row("  served (bundled MiniLM)", "", "", "", "", f"{b['served_s']:.2f} s, then adapted")
        for name, rate in f["build"]["cold"].get("rates", {}).items():
            table.add_row(
                f"  cold build, {escape(name)}", "", "", "", "", f"{rate} texts/s{_beside(f['build']['cold'])}"
            )
        _adapted_rates(table, "cold build", f["build"]["cold"])
        if a := f["build"].get("add"):
            table.add_row(
                f"add {escape(a['document'])} to a running server",
                "",
                "",
                "",
                "",
                f"{a['seconds']:.2f} s (build {a['build_s']:.2f} s, reload {a['reload_s']:.2f} s)"
                if a.get("adapted_s") is None
                else f"{a['seconds']:.2f} s served (bundled MiniLM); adapted served at {a['adapted_s']:.2f} s",
            )
            for name, rate in a["rates"].items():
                table.add_row(f"  add, {escape(name)}", "", "", "", "", f"{rate} texts/s{_beside(a)}")
            _adapted_rates(table, "add", a)
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
    console.out.print(table)
