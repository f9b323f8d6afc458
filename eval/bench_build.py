"""Benchmark steps for builds: each leg's embedding rate, and adding a report to a running server.

- Rates come from the snapshot's manifest (``timings``, written by
  ``index.build``): per leg the texts, those actually encoded (cache
  misses), seconds, and texts encoded per second.
- Adding a report: a corpus of the bundled reports but one (the MEM report
  by default) is built cold into its own data dir, served by
  ``policyqa serve``; then the report is added (``add_by_rebuild``: put it
  back into the catalog and run ``policyqa build``, which embeds only its
  texts, the others' vectors being in the embedding cache) and the clock
  runs until ``/readyz`` names the new build: the incremental build plus the
  server's reload. The step is a parameter (``AddStep``), so a
  ``policyqa add`` command can take its place without changing the rest.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import EvaluationError

__all__ = ["AddContext", "AddStep", "add_by_rebuild", "bench_add", "leg_rates", "snapshot_timings"]

ADDED_REPORT = "mem-mexico-2024"
_RELOAD_POLL = 0.1  # seconds between /readyz probes while waiting for the new build
_ADD_TIMEOUT = 900.0


@dataclass(frozen=True)
class AddContext:
    """What an add step gets: the served corpus, where the report's entry and file come from, the child env."""

    corpus_dir: Path
    source_dir: Path
    document_id: str
    env: dict[str, str]
    run_cli: Callable[[list[str], dict[str, str]], dict[str, Any]]


AddStep = Callable[[AddContext], dict[str, Any]]
"""Adds ``document_id`` to the served collection; returns the ``policyqa`` child's figures."""


def snapshot_timings(data_dir: Path, which: str = "current") -> dict[str, Any]:
    """The ``timings`` of the build ``data_dir/which`` points at (empty for a build that recorded none).

    After a build made in two stages (``index.stages``), ``previous`` is the first, the bundled
    MiniLM's, where both models embedded every text; ``current`` the adapted one's.
    """
    try:
        manifest = json.loads((data_dir / which / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise EvaluationError(f"cannot read the build's manifest in {data_dir}: {exc}") from exc
    return dict(manifest.get("timings") or {})


def leg_rates(timings: dict[str, Any]) -> dict[str, float | None]:
    """Texts encoded per second, per embedding leg (the entries of ``timings`` that are legs)."""
    return {name: leg.get("texts_per_s") for name, leg in timings.items() if isinstance(leg, dict)}


def _catalog(corpus_dir: Path) -> list[dict[str, Any]]:
    return json.loads((corpus_dir / "catalog.json").read_text(encoding="utf-8"))


def _write_catalog(corpus_dir: Path, entries: list[dict[str, Any]]) -> None:
    (corpus_dir / "catalog.json").write_text(json.dumps(entries, ensure_ascii=False, indent=1), encoding="utf-8")


def corpus_without(source_dir: Path, target: Path, document_id: str) -> None:
    """Copy the corpus at ``source_dir`` (catalog and report files) to ``target``, less ``document_id``."""
    entries = _catalog(source_dir)
    if document_id not in {e["id"] for e in entries}:
        raise EvaluationError(f"no report {document_id} in {source_dir}")
    target.mkdir(parents=True, exist_ok=True)
    kept = [e for e in entries if e["id"] != document_id]
    for entry in kept:
        shutil.copy2(source_dir / entry["file"], target / entry["file"])
    _write_catalog(target, kept)


def add_by_rebuild(ctx: AddContext) -> dict[str, Any]:
    """Add the report as staff would today: its file and catalog entry into the corpus, then ``policyqa build``."""
    entry = next(e for e in _catalog(ctx.source_dir) if e["id"] == ctx.document_id)
    shutil.copy2(ctx.source_dir / entry["file"], ctx.corpus_dir / entry["file"])
    _write_catalog(ctx.corpus_dir, [*_catalog(ctx.corpus_dir), entry])
    return ctx.run_cli(["build"], ctx.env)


def bench_add(
    env: dict[str, str],
    work_dir: Path,
    source_dir: Path,
    run_cli: Callable[[list[str], dict[str, str]], dict[str, Any]],
    log: Callable[[str], None],
    *,
    document_id: str = ADDED_REPORT,
    add: AddStep = add_by_rebuild,
) -> dict[str, Any]:
    """Time adding ``document_id`` to a served collection of the others, until ``/readyz`` names the new build."""
    from eval.server import served_build, serving, wait_ready

    corpus_dir, data_dir = work_dir / "corpus", work_dir / "data"
    corpus_without(source_dir, corpus_dir, document_id)
    env = {
        **env,
        "POLICYQA_CORPUS_DIR": str(corpus_dir),
        "POLICYQA_DATA_DIR": str(data_dir),
        "POLICYQA_EMBEDDING_CACHE_DIR": str(data_dir / "embeddings"),
    }
    others = run_cli(["build", "--force"], env)
    log(f"cold build of the collection without {document_id}: {others['seconds']:.1f}s")
    with serving(env, POLICYQA_RELOAD_INTERVAL="0.25") as (server, port), ThreadPoolExecutor(1) as pool:
        wait_ready(server, port)
        before = served_build(port)
        t0 = time.perf_counter()
        # The add runs beside the clock: a build that adapts MiniLM (index.stages) serves the report
        # with the bundled model first, then trains and builds again; both moments are timed.
        job = pool.submit(add, AddContext(corpus_dir, source_dir, document_id, env, run_cli))

        def next_build(than: str | None) -> str:
            deadline = time.monotonic() + _ADD_TIMEOUT
            while (served := served_build(port)) in (than, None):
                if job.done() and (failure := job.exception()) is not None:
                    raise failure  # the add's own error, not a timeout minutes later
                if server.poll() is not None or time.monotonic() > deadline:
                    raise EvaluationError(f"the server never served the build with {document_id}")
                time.sleep(_RELOAD_POLL)
            return served

        served = next_build(before)
        total = time.perf_counter() - t0
        child = job.result()
        built = time.perf_counter() - t0
        adapted_s = None
        if child.get("served_s") is not None:  # a second, adapted build: until the server serves it
            served = next_build(served)
            adapted_s = round(time.perf_counter() - t0, 3)
    # The served build's rates (both models on the new texts); the adapted stage's MiniLM apart.
    timings = snapshot_timings(data_dir, "current" if adapted_s is None else "previous")
    adapted_timings = None if adapted_s is None else snapshot_timings(data_dir)
    log(f"added {document_id}: {total:.1f}s until /readyz named build {served} (build {built:.1f}s)")
    if adapted_s is not None:
        log(f"  served with the bundled MiniLM at {total:.1f}s; adapted MiniLM served at {adapted_s:.1f}s")
    return {
        "document": document_id,
        "seconds": round(total, 3),
        "adapted_s": adapted_s,
        "build_s": round(built, 3),
        "reload_s": round(total - built, 3) if adapted_s is None else None,
        "build": child,
        "timings": timings,
        "rates": leg_rates(timings),
        "adapted_rates": None if adapted_timings is None else leg_rates(adapted_timings),
        "others_cold": others,
        "how": "incremental `policyqa build` after adding the report to the corpus, embedding cache of the others "
        "warm, plus the server's reload (POLICYQA_RELOAD_INTERVAL=0.25) until /readyz names the new build "
        "(seconds); with MiniLM adapted to the reports, until it names the adapted build (adapted_s)",
    }
