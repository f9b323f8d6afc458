"""What ``policyqa bench --scale N`` prints and writes (the measuring is ``eval.scale``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.markup import escape
from rich.table import Table

from eval import console

__all__ = ["bench_scale"]


def bench_scale(
    reports: int, *, rounds: int, requests: int, http: bool, workers: int, gold: Path | None, out: Path
) -> Path:
    """Run the benchmark at ``reports`` reports, print its table, write ``bench-scale-N.json`` in ``out``."""
    from core.settings import get_settings
    from eval.gold import GOLD_PATHS, load_gold_sets
    from eval.scale import run_scale

    questions = load_gold_sets([gold] if gold else GOLD_PATHS)
    figures = run_scale(
        reports,
        questions,
        get_settings(),
        rounds=rounds,
        http=http,
        requests=requests,
        workers=workers,
        log=lambda m: console.err.print(f"[dim]{escape(m)}[/dim]"),
    )
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"bench-scale-{reports}.json"
    path.write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")
    print_scale(figures)
    console.out.print(f"wrote {escape(str(path))}")
    return path


def _ms(s: dict[str, Any] | None) -> str:
    if not s:
        return "-"
    cpu = f" (CPU {s['cpu_p50_ms']:.1f} / {s['cpu_p95_ms']:.1f})" if "cpu_p50_ms" in s else ""
    return f"{s['p50_ms']:.1f} / {s['p95_ms']:.1f}{cpu}"


def print_scale(f: dict[str, Any]) -> None:
    """One table of the figures of ``eval.scale.run_scale``."""
    table = Table(title=f"policyqa bench --scale {f['reports']}", title_justify="left")
    table.add_column("measure")
    table.add_column("value")
    b, load = f["build"], f["load"]
    spec = f["dense_index"]
    kind = spec["kind"] + (
        f" (M {spec['m']}, efConstruction {spec['ef_construction']}, efSearch {spec['ef_search']})"
        if spec["kind"] == "hnsw"
        else ""
    )
    rows = [
        ("collection", f"{f['reports']} reports, {f['passages']} passages, {f['answer_units']} answer units"),
        ("dense index", kind),
        ("Spanish (multilingual-e5) index", f.get("multilingual_index", "flat")),
        (
            "build: index write (measured)",
            f"{b['write_s']:.1f} s (perturbing and deriving vectors: {b['perturb_s']:.1f} s)",
        ),
        ("build: embedding at the models' rates (estimate)", f"{b['embed_estimate_s']:.0f} s"),
        ("index on disk", f"{f['disk_mb']} MB"),
        (
            "load in process (verify + read + retriever)",
            f"{load['load_s']:.2f} s (checksums {load['verify_s']:.2f} s, retriever {load['retriever_s']:.2f} s)",
        ),
        ("dense recall@10 against exact, English (MiniLM)", str(f["recall_at_10"])),
        ("routed top 10 as with an exact index, English", str(f["routed_top10_same_as_exact"])),
        (
            "e5 recall@10 against exact, Spanish: index / leg (with best units)",
            f"{f.get('e5_recall_at_10')} / {f.get('e5_leg_recall_at_10')}",
        ),
        ("routed top 10 as with an exact index, Spanish", str(f.get("routed_top10_same_as_exact_es"))),
        ("search p50 / p95 ms in process, English", _ms(f["in_process"]["en"])),
        ("search p50 / p95 ms in process, Spanish", _ms(f["in_process"]["es"])),
    ]
    h = f["http"]
    if "skipped" in h:
        rows.append(("HTTP", f"skipped: {h['skipped']}"))
    else:
        rows.append((f"server start to ready ({h['workers']} workers)", f"{h['startup_s']:.1f} s"))
        rows.append(("POST /search p50 / p95 ms, 1 client", _ms(h["search"])))
        for m in h["worker_memory"]:
            rows.append(
                (
                    f"worker {m['pid']}",
                    f"RSS {m.get('rss_mb')} MB (peak {m.get('peak_rss_mb')}), PSS {m.get('pss_mb')} MB",
                )
            )
    for name, value in rows:
        table.add_row(name, escape(value))
    console.out.print(table)
