"""``policyqa bench --scale N``: the index, memory, load time and search latency at N reports.

The collection is synthetic (``eval.synth``: the bundled reports repeated,
perturbed, with derived vectors standing in for the models), written into a
temporary folder and removed afterwards. Measured:

- build: perturbing and deriving (not a model's work), writing the snapshot
  (FAISS, BM25, files, checksums), and the embedding a real build would add,
  estimated from the models' measured rates;
- the snapshot's size on disk, and which dense index it holds;
- load: verifying and loading the snapshot, and the retriever's own set-up
  over it, in process (the models are loaded before, apart);
- search p50/p95 in process (``Retriever.search``, routed), English and
  Spanish questions apart, each question encoded once before the timed
  passes (the encoders' cost does not grow with the collection; ``policyqa
  bench`` measures it), wall clock and CPU time;
- recall@10 of each approximate index against an exact scan of the same
  vectors (MiniLM for the English questions, multilingual-e5 for the
  Spanish ones, and the e5 leg's blended scores against its exact ones),
  and how many of the routed top 10 stay the same with exact indexes in
  their place (``eval.scale_recall``);
- over HTTP (``policyqa serve --workers N`` on the synthetic data): time to
  ready, ``POST /search`` p50/p95 from one client (English questions, query
  cache off: MiniLM's int8 encoder included), and each worker's RSS
  and PSS (pages shared between workers, the memory-mapped index among
  them, count 1/n in each).

It measures, it never judges: nothing here fails on a slow figure.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eval.scale_recall import approximate_figures
from eval.server import (
    http_load,
    latency_summary,
    process_memory,
    serving,
    wait_all_ready,
    wait_ready,
    workers_of,
)
from eval.synth import EMBED_RATES, write_synthetic

if TYPE_CHECKING:
    from core.settings import Settings
    from eval.gold import Question
    from index.embed import Embedder
    from qa.retrieve import Retriever

__all__ = ["SCALES", "run_scale"]

SCALES: tuple[int, ...] = (30, 100, 300)
"""The collection sizes the README reports; CI runs the first."""


def _disk_mb(root: Path) -> float:
    return round(sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) / 2**20, 1)


def _timed(search: Callable[[Any], object], questions: Sequence[Any], rounds: int) -> dict[str, Any] | None:
    """Wall-clock p50/p95 of ``search`` over ``questions``, and the CPU time's (``cpu_p50_ms``).

    The first pass is untimed: it encodes every question into the query cache,
    so the timed ones measure what grows with the collection, not the models.
    The CPU figures count this process's threads only, so other jobs on the
    machine do not inflate them as they do the wall clock.
    """
    if not questions:
        return None
    for q in questions:
        search(q)
    wall, cpu = [], []
    for _ in range(rounds):
        for q in questions:
            t0, c0 = time.perf_counter(), time.process_time()
            search(q)
            wall.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
    cpu_summary = latency_summary(cpu)
    return {**latency_summary(wall), "cpu_p50_ms": cpu_summary["p50_ms"], "cpu_p95_ms": cpu_summary["p95_ms"]}


def _open(settings: Settings, embedder: Embedder | None) -> tuple[Retriever, dict[str, float]]:
    """The retriever over ``settings``' index, the models loaded first so the load is timed alone."""
    from index.store import load_index
    from qa.encode import query_embedder, single_threaded_blas
    from qa.retrieve import Retriever
    from qa.translate import translator_for

    translator = None
    multilingual = embedder
    if embedder is None:
        from index.embed import E5Embedder

        single_threaded_blas()
        translator = translator_for(settings)
        multilingual = E5Embedder(for_queries=True)
    t0 = time.perf_counter()
    index = load_index(settings.index_dir)
    t1 = time.perf_counter()
    query = embedder if embedder is not None else query_embedder(settings, index)
    t2 = time.perf_counter()
    retriever = Retriever(index, query, settings, multilingual, translator)
    t3 = time.perf_counter()
    return retriever, {
        "verify_s": round(index.verify_seconds, 3),
        "load_index_s": round(t1 - t0, 3),
        "retriever_s": round(t3 - t2, 3),
        "load_s": round((t1 - t0) + (t3 - t2), 3),
    }


def _http(
    env: dict[str, str], questions: Sequence[str], requests: int, workers: int, log: Callable[[str], None]
) -> dict[str, Any]:
    with serving(env, workers, POLICYQA_QUERY_CACHE_SIZE="0", POLICYQA_RELOAD_INTERVAL="0") as (proc, port):
        t0 = time.perf_counter()
        wait_ready(proc, port)
        if workers > 1:
            wait_all_ready(port, workers)
        startup = time.perf_counter() - t0
        log(f"server ready in {startup:.1f}s")
        http_load(port, questions, min(len(questions), 20 * workers), workers)  # warm-up
        level = http_load(port, questions, requests, 1)
        memory = [{"pid": pid, **process_memory(pid)} for pid in workers_of(proc.pid)]
        return {"startup_s": round(startup, 3), "workers": workers, "search": level, "worker_memory": memory}


def _in_process(
    settings: Settings,
    embedder: Embedder | None,
    questions: Sequence[Question],
    rounds: int,
    log: Callable[[str], None],
) -> dict[str, Any]:
    """Load time, recall against exact, and search latency of one process over ``settings``' index."""
    retriever, load = _open(settings, embedder)
    log(f"loaded in {load['load_s']:.1f}s")
    english = [q.question for q in questions if q.language == "en"]
    other = [q for q in questions if q.language != "en"]
    figures: dict[str, Any] = {
        "load": load,
        **approximate_figures(retriever, questions),
        "in_process": {
            "en": _timed(lambda q: retriever.search(q, k=10), english, rounds),
            "es": _timed(lambda q: retriever.search(q.question, k=10, language=q.language), other, rounds),
        },
    }
    if figures["in_process"]["en"]:
        log(f"in process: p50 {figures['in_process']['en']['p50_ms']:.1f} ms (English)")
    return figures


def run_scale(
    reports: int,
    questions: Sequence[Question],
    settings: Settings,
    *,
    embedder: Embedder | None = None,
    rounds: int = 2,
    http: bool = True,
    requests: int = 100,
    workers: int = 2,
    rates: dict[str, float] | None = None,
    keep: Path | None = None,
    log: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    """Write a synthetic collection of ``reports`` reports from the live index, then measure it.

    ``embedder`` (tests) encodes the questions in place of both models and
    skips the HTTP part (a server loads the real models). ``keep`` writes the
    collection there and leaves it; otherwise it goes into a temporary folder, removed afterwards.
    """
    from index.store import load_index

    base = load_index(settings.index_dir)
    target = keep if keep is not None else Path(tempfile.mkdtemp(prefix="policyqa-scale-"))
    try:
        synthetic = write_synthetic(base, reports, target / f"scale-{reports}", settings, rates)
        log(
            f"{reports} reports: {synthetic.passages} passages, {synthetic.units} answer units, "
            f"dense index {synthetic.dense_index['kind']}; written in {synthetic.write_seconds:.1f}s"
        )
        # A query cache holding every question: the timed passes measure the index, not the encoders.
        scaled = settings.model_copy(
            update={"data_dir": synthetic.data_dir, "corpus_dir": synthetic.corpus_dir, "query_cache_size": 100_000}
        )
        figures: dict[str, Any] = {
            "reports": reports,
            "passages": synthetic.passages,
            "answer_units": synthetic.units,
            "dense_index": synthetic.dense_index,
            "build": {
                "perturb_s": round(synthetic.perturb_seconds, 3),
                "write_s": round(synthetic.write_seconds, 3),
                "embed_estimate_s": round(synthetic.embed_estimate_seconds, 1),
                "embed_rates": rates or EMBED_RATES,
            },
            "disk_mb": _disk_mb(synthetic.root),
            **_in_process(scaled, embedder, questions, rounds, log),
        }
        if http and embedder is None:
            env = dict(
                os.environ,
                HF_HUB_OFFLINE="1",
                TOKENIZERS_PARALLELISM="false",
                POLICYQA_DATA_DIR=str(synthetic.data_dir),
                POLICYQA_CORPUS_DIR=str(synthetic.corpus_dir),
            )
            english = [q.question for q in questions if q.language == "en"]
            figures["http"] = _http(env, english, requests, workers, log)
        else:
            figures["http"] = {"skipped": "--no-http" if not http else "fake embedder"}
        return figures
    finally:
        if keep is None:
            shutil.rmtree(target, ignore_errors=True)
