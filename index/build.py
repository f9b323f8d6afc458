"""Build the index: parse, chunk, embed, write a snapshot, switch atomically.

A build is skipped when the fingerprint (corpus hash, pipeline code hash,
model identity, chunking limits, format version) equals the live index's,
and that check imports neither torch nor FAISS, so a no-op build is quick.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from corpus import corpus_hash, load_corpus
from index.chunk import CHUNKER_VERSION, chunk_document
from index.embed import Embedder, e5_fingerprint
from index.sentences import split_sentences
from index.store import FORMAT_VERSION, read_manifest, switch_current, write_snapshot
from qa.errors import IndexStoreError
from qa.settings import Settings
from qa.types import BuildReport, Passage

__all__ = ["build_index", "collect_passages", "fingerprint"]

# The code whose output lands in the index: change it and the index is stale.
_PIPELINE_CODE = ("corpus", "index")


def _code_hash() -> str:
    root = Path(__file__).resolve().parent.parent
    h = hashlib.sha256()
    for pkg in _PIPELINE_CODE:
        for path in sorted((root / pkg).rglob("*.py")):
            h.update(path.relative_to(root).as_posix().encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def _model_fingerprint(settings: Settings) -> str:
    # Cheap identity of the on-disk model: its config plus the weights' size.
    model = Path(settings.model_path)
    h = hashlib.sha256(settings.model_name.encode())
    for name in ("config.json", "modules.json", "sentence_bert_config.json"):
        if (model / name).is_file():
            h.update((model / name).read_bytes())
    for weights in sorted(model.glob("*.safetensors")) + sorted(model.glob("*.bin")):
        h.update(f"{weights.name}:{weights.stat().st_size}".encode())
    return f"{settings.model_name}@{settings.model_max_wordpieces}#{h.hexdigest()[:16]}"


def fingerprint(
    settings: Settings, embedder: Embedder | None = None, multilingual: Embedder | None = None
) -> dict[str, Any]:
    """Everything that determines the index contents: both models included."""
    return {
        "format": FORMAT_VERSION,
        "corpus_hash": corpus_hash(settings.corpus_dir),
        "code_hash": _code_hash(),
        "chunker": CHUNKER_VERSION,
        "chunk_tokens": settings.chunk_tokens,
        "context_tokens": settings.context_tokens,
        "model": embedder.fingerprint if embedder is not None else _model_fingerprint(settings),
        "multilingual_model": multilingual.fingerprint if multilingual is not None else e5_fingerprint(),
    }


def collect_passages(settings: Settings) -> tuple[list[Any], list[Passage]]:
    """Parse and chunk the whole corpus: (parsed documents, passages)."""
    parsed = list(load_corpus(settings.corpus_dir))
    passages: list[Passage] = []
    for doc in parsed:
        passages.extend(chunk_document(doc, settings.chunk_tokens, settings.context_tokens))
    return parsed, passages


def build_index(
    settings: Settings,
    embedder: Embedder | None = None,
    *,
    multilingual: Embedder | None = None,
    force: bool = False,
    progress: bool = False,
) -> BuildReport:
    """Build the index unless the live one is up to date (or ``force``).

    By default the real models (MiniLM, and multilingual-e5 for the
    cross-lingual leg) are loaded, and only when a build is needed; tests
    pass a fake ``embedder``, which then stands in for both.
    """
    t0 = time.perf_counter()
    data_dir = settings.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    if embedder is not None and multilingual is None:
        multilingual = embedder
    wanted = fingerprint(settings, embedder, multilingual)
    with (data_dir / ".build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one build at a time; readers never wait
        current = read_manifest(settings.index_dir)
        if not force and current is not None and current.get("fingerprint") == wanted:
            return BuildReport(
                False,
                str(settings.index_dir),
                current["passages"],
                current["sections"],
                current["documents"],
                time.perf_counter() - t0,
                "up to date",
            )
        reason = "forced" if force else ("no index yet" if current is None else "corpus, code or model changed")
        if embedder is None:
            # Loaded only now: a no-op build never pays for importing torch.
            from index.embed import SentenceTransformerEmbedder

            embedder = SentenceTransformerEmbedder.from_settings(settings)
        if multilingual is None:
            from index.embed import E5Embedder

            multilingual = E5Embedder()
        parsed, passages = collect_passages(settings)
        if not passages:
            raise IndexStoreError("the corpus produced no passages")
        vectors = embedder.encode([p.embed_text for p in passages], progress=progress)
        # Sentence vectors serve answers (qa.answer): no sentence is embedded at query time.
        sentences = np.array(
            [(i, s, e) for i, p in enumerate(passages) for s, e in split_sentences(p.text, p.start)], dtype=np.int64
        ).reshape(-1, 3)
        sentence_texts = [
            passages[i].text[s - passages[i].start : e - passages[i].start] for i, s, e in sentences.tolist()
        ]
        sentence_vectors = embedder.encode(sentence_texts, progress=progress)
        # The cross-lingual leg: the same passages and answer units, in multilingual-e5's space.
        multilingual_vectors = (
            multilingual.encode([p.embed_text for p in passages], progress=progress),
            multilingual.encode(sentence_texts, progress=progress),
        )
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
        }
        target = data_dir / "builds" / f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        try:
            write_snapshot(
                target,
                manifest,
                [d.document for d in parsed],
                roots,
                passages,
                vectors,
                sentences,
                sentence_vectors,
                multilingual_vectors,
            )
            switch_current(data_dir, target)
        except BaseException:
            # Interrupted or failed: drop the partial snapshot, keep the live index.
            shutil.rmtree(target, ignore_errors=True)
            raise
        return BuildReport(
            True,
            str(settings.index_dir),
            len(passages),
            n_sections,
            len(parsed),
            time.perf_counter() - t0,
            reason,
        )
