"""Build the index: parse, chunk, embed, write a snapshot, switch atomically.

A build is skipped when the fingerprint (``index.fingerprint``) equals the
live index's and the live index's files still match their checksums; that
check imports neither torch nor FAISS, so a no-op build is quick. A damaged live index is
rebuilt, not reported "up to date".
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

from core.errors import CorruptIndexError, IndexStoreError
from core.settings import Settings
from core.types import BuildReport
from index.adapt import Adapted, ensure_adapted
from index.ann import DenseSpec
from index.chunk import collect_passages
from index.embed import Embedder
from index.embed_cache import CachedEmbedder
from index.embed_steps import export_query_encoder
from index.fingerprint import fingerprint
from index.legs import embed_legs, leg_texts
from index.lock import BUILD_LOCK, hold_lock
from index.models import cached_minilm, load_minilm
from index.persist import FORMAT_VERSION, write_snapshot
from index.snapshots import build_id, read_manifest, rollback, switch_current, verify_snapshot
from index.space import check_space, estimate_mb, no_space, out_of_space, remove_strays
from index.timing import timed

_log = logging.getLogger("policyqa.index")

__all__ = ["BUILD_STEPS", "OnStep", "build_index", "collect_passages", "rollback_index"]

BUILD_STEPS: tuple[str, ...] = (
    "loading the models",
    "parsing the reports",
    "embedding passages",
    "embedding answer units",
    "embedding passages (multilingual)",
    "embedding answer units (multilingual)",
    "exporting the query encoder",
    "writing the snapshot",
)
"""The steps of a build, in order: ``on_step(n, len(BUILD_STEPS), BUILD_STEPS[n - 1])`` as each begins."""

OnStep = Callable[[int, int, str], None]
"""Told (step number from 1, number of steps, what the step does) as each step of a build begins."""


def build_index(
    settings: Settings,
    embedder: Embedder | None = None,
    *,
    multilingual: Embedder | None = None,
    force: bool = False,
    progress: bool = False,
    check_files: bool = True,
    on_step: OnStep | None = None,
    before_switch: Callable[[], None] | None = None,
    adapt_later: bool = False,
) -> BuildReport:
    """Build the index unless the live one is up to date (or ``force``); serve first, then adapt MiniLM.

    When the build adapts MiniLM and the adapted model is not trained yet
    (``index.stages``), the index is built and switched live with the
    bundled MiniLM first (``before_switch`` runs there), then the model is
    trained and the index built again with it; with ``adapt_later`` only the
    first stage is made (a server adapts in the background). The report is
    the last stage's, its ``served_seconds`` when the first went live.

    Up to date means the same fingerprint and, with ``check_files``, every
    file matching the manifest's checksums: a damaged index is rebuilt.
    ``policyqa serve`` passes ``check_files=False``: its load verifies the
    files and reports damage (503 with what to run) instead of rebuilding
    for minutes behind the operator's back.

    By default the real models (MiniLM, and multilingual-e5 for the
    cross-lingual leg) are loaded, and only when a build is needed; tests
    pass a fake ``embedder``, which then stands in for both. ``on_step`` is
    told as each of ``BUILD_STEPS`` begins (the server's ``/readyz`` shows it).

    ``before_switch`` runs once the new snapshot is complete, just before
    ``data/current`` is switched to it (``index.add`` commits the corpus
    there); if it raises, the snapshot is dropped and the live index stays.
    """
    from index.stages import first_stage

    first = first_stage(settings) if embedder is None else None
    if first is None:
        return _build_once(settings, embedder, multilingual, force, progress, check_files, on_step, before_switch)
    t0 = time.perf_counter()
    served = _build_once(first, embedder, multilingual, force, progress, check_files, on_step, before_switch)
    if adapt_later:
        return served
    _log.info("serving the bundled MiniLM's index; adapting MiniLM to the reports next")
    adapted = ensure_adapted(settings, *collect_passages(settings))  # outside the build lock: adds go on
    report = _build_once(settings, embedder, multilingual, False, progress, check_files, on_step, None, adapted)
    return replace(report, seconds=time.perf_counter() - t0, served_seconds=served.seconds)


def _build_once(
    settings: Settings,
    embedder: Embedder | None,
    multilingual: Embedder | None,
    force: bool,
    progress: bool,
    check_files: bool,
    on_step: OnStep | None,
    before_switch: Callable[[], None] | None,
    adapted: Adapted | None = None,
) -> BuildReport:
    """One build with one MiniLM (bundled, or adapted: ``adapted`` if trained already, else trained here)."""

    told = threading.Lock()  # the two models' legs run in two threads (index.legs)

    def step(n: int) -> None:
        if on_step is not None:
            with told:
                on_step(n, len(BUILD_STEPS), BUILD_STEPS[n - 1])

    t0 = time.perf_counter()
    data_dir = settings.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    if embedder is not None and multilingual is None:
        multilingual = embedder
    wanted = fingerprint(settings, embedder, multilingual)
    with hold_lock(data_dir / BUILD_LOCK):  # one build at a time; readers never wait
        # What killed or failed builds left: unfinished snapshots, export scratch, cache temporaries.
        strays = remove_strays(
            data_dir, settings.embedding_cache, {build_id(data_dir) or "", build_id(data_dir, "previous") or ""}
        )
        if strays:
            _log.info("removed %d temporary files of earlier builds: %s", len(strays), ", ".join(sorted(strays)))
        damage: str | None = None
        try:
            current = read_manifest(settings.index_dir)
        except CorruptIndexError as exc:
            current, damage = None, str(exc)
        up_to_date = not force and current is not None and current.get("fingerprint") == wanted
        if up_to_date and check_files:
            try:
                verify_snapshot(settings.index_dir.resolve(), current)
            except CorruptIndexError as exc:
                up_to_date, damage = False, str(exc)
        if up_to_date:
            assert current is not None
            return BuildReport(
                False,
                str(settings.index_dir),
                current["passages"],
                current["sections"],
                current["documents"],
                time.perf_counter() - t0,
                "up to date",
            )
        if force:
            reason = "forced"
        elif damage is not None:
            reason = f"the live index is damaged: {damage.split('; run')[0]}"
            _log.warning("%s; rebuilding it", reason)
        else:
            reason = "no index yet" if current is None else "corpus, code or model changed"
        needed = estimate_mb(settings, exports_onnx=embedder is None)
        check_space(settings, needed)  # before minutes of embedding: say so now, in one line
        target = data_dir / "builds" / f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        scratch = Path(tempfile.mkdtemp(prefix=".export-", dir=data_dir))
        try:
            counts = _build_snapshot(
                settings,
                embedder,
                multilingual,
                wanted,
                reason,
                target,
                scratch,
                progress,
                step,
                before_switch,
                adapted,
            )
        except BaseException as exc:
            full = out_of_space(exc, data_dir)  # before the cleanup frees the space again
            # Interrupted or failed: drop the partial snapshot, keep the live index.
            shutil.rmtree(target, ignore_errors=True)
            if full:
                raise no_space(settings, needed) from exc
            raise
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        return BuildReport(True, str(settings.index_dir), *counts, time.perf_counter() - t0, reason)


def _build_snapshot(
    settings: Settings,
    embedder: Embedder | None,
    multilingual: Embedder | None,
    wanted: dict[str, Any],
    reason: str,
    target: Path,
    scratch: Path,
    progress: bool,
    step: Callable[[int], None],
    before_switch: Callable[[], None] | None = None,
    trained: Adapted | None = None,
) -> tuple[int, int, int]:
    """Embed the corpus and write the snapshot into ``target``, then switch to it; (passages, sections, reports)."""
    data_dir = settings.data_dir
    step(1)
    timings: dict[str, Any] = {}
    # Both real models: MiniLM loads (torch's import is most of it) in a thread while this one parses,
    # then embeds beside multilingual-e5 (index.legs). A given embedder (tests' fake) runs as before.
    concurrent = embedder is None and multilingual is None and settings.concurrent_legs and not settings.adapt
    loader = ThreadPoolExecutor(1, thread_name_prefix="policyqa-load") if concurrent else None
    with timed(timings, "models"):
        if loader is not None:
            loading = loader.submit(cached_minilm, settings, timings)
            english: Callable[[], CachedEmbedder] = loading.result
            adapted, parsed_early = None, None
        else:
            model, adapted, parsed_early = load_minilm(settings, embedder, trained)
            english = partial(CachedEmbedder, model, settings.embedding_cache)
        if multilingual is None:
            from index.embed import multilingual_passage_embedder

            multilingual = multilingual_passage_embedder(settings)
    _log.info("building the index (%s) into %s", reason, data_dir)
    # Texts embedded by an earlier build (same model, same text) are not embedded again.
    with timed(timings, "cache_load"):
        if multilingual is embedder:  # a fake standing in for both legs: one cache, not two writers
            cached = CachedEmbedder(embedder, settings.embedding_cache)
            english, multilingual = (lambda: cached), cached
        else:
            multilingual = CachedEmbedder(multilingual, settings.embedding_cache)
    step(2)
    try:
        with timed(timings, "parse"):
            parsed, passages = parsed_early or collect_passages(settings)
        if not parsed:
            raise IndexStoreError("the corpus is empty; add a report with `policyqa add FILE`")
        if not passages:
            raise IndexStoreError("the corpus produced no passages")
        _log.info("parsed %d reports into %d passages", len(parsed), len(passages))
        with timed(timings, "units"):
            passage_texts, sentences, headers, sentence_texts = leg_texts(parsed, passages)
        with timed(timings, "embed"):
            cached_english, legs = embed_legs(
                english,
                multilingual,
                passage_texts,
                sentence_texts,
                concurrent=concurrent,
                progress=progress,
                timings=timings,
                step=step,
            )
    finally:
        if loader is not None:
            loader.shutdown(wait=False, cancel_futures=True)
    model = cached_english.inner  # the model itself, for the ONNX export
    vectors, sentence_vectors = legs.passages, legs.units
    multilingual_vectors = (legs.multilingual_passages, legs.multilingual_units)
    roots = [s for doc in parsed for s in doc.sections]
    n_sections = sum(len(doc.walk()) for doc in parsed)
    manifest = {
        "format": FORMAT_VERSION,
        "model": settings.model_name,
        "multilingual_model": wanted["multilingual_model"],
        "dimension": int(vectors.shape[1]),
        "corpus_hash": wanted["corpus_hash"],
        "fingerprint": wanted,
        "passages": len(passages),
        "sections": n_sections,
        "documents": len(parsed),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        # Where the adapted MiniLM is (the torch query encoder loads it) and what it cost to train.
        "adapted": None
        if adapted is None
        else {
            "key": adapted.key,
            "model_dir": str(adapted.model_dir),
            "trained_here": adapted.trained,
            "training_seconds": round(adapted.seconds, 1),
            "pairs": adapted.pairs,
        },
        "timings": timings,
    }
    step(7)
    with timed(timings, "onnx_export"):
        extra = export_query_encoder(model, scratch, settings.embedding_cache)
    step(8)
    write_snapshot(
        target,
        manifest,
        [d.document for d in parsed],
        roots,
        passages,
        vectors,
        sentences,
        sentence_vectors,
        headers,
        multilingual_vectors,
        extra,
        texts={d.document.id: (d.document.file, d.text) for d in parsed},
        dense_spec=DenseSpec.for_size(len(passages), settings),
        multilingual_spec=DenseSpec.for_size(len(passages), settings, multilingual=True),
        timings=timings,
    )
    if before_switch is not None:
        before_switch()
    switch_current(data_dir, target)
    return len(passages), n_sections, len(parsed)


def rollback_index(settings: Settings) -> str:
    """Switch ``data/current`` back to the previous build, after verifying it; the build id now live.

    Takes the build lock, so it never races a build's own switch. A running
    server picks the change up like any new build (``api.reload``).
    """
    with hold_lock(settings.data_dir / BUILD_LOCK):
        return rollback(settings.data_dir)
