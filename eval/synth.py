"""A synthetic collection of N reports for ``policyqa bench --scale N``, made from a built index.

The bundled reports are repeated: copy 0 is each report itself, every
further copy gets new ids (report, sections, passages) and its digits and
words perturbed so that no two passages are identical. The perturbation
keeps every token's length, so the character offsets of sections, passages
and answer units stay valid in the copy's own text file, which is written
into a corpus folder of its own (with a catalog) that the server can read.

No model runs. A deterministic fake embedder stands in for both: a copy's
vector is its original passage's (or answer unit's) real vector plus
Gaussian noise seeded by (copy, leg), renormalised, at a level where a copy
keeps a cosine of about ``COPY_COSINE`` to its original. So the index sees
vectors with the real model's geometry (the base index's) in clusters of
near-duplicates, as rounds of the same evaluation would give, and query
vectors from the real encoders land among them. What the models would have
cost is estimated from their measured embedding rates (``EMBED_RATES``).
BM25 indexes the perturbed texts for real.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from core.settings import Settings
from core.types import Document, Passage, Section
from corpus import corpus_hash, read_text
from index.ann import DenseSpec, storage_vectors
from index.fingerprint import fingerprint
from index.onnx_query import ONNX_QUERY_ENCODER
from index.persist import write_snapshot
from index.snapshots import switch_current
from index.store import StoredIndex

__all__ = ["COPY_COSINE", "EMBED_RATES", "Synthetic", "perturb", "write_synthetic"]

COPY_COSINE = 0.9
"""Expected cosine of a copy's vector to its original's (noise per dimension sqrt((1/c^2 - 1) / d))."""

EMBED_RATES: dict[str, float] = {
    "minilm_passages": 52.4,
    "minilm_units": 152.1,
    "e5_passages": 37.7,
    "e5_units": 113.3,
}
"""Texts a second each model embeds in `policyqa bench`'s cold build (2 cores, the default precision:
multilingual-e5 in bfloat16, MiniLM in float32; e5's rates of 2 December 2026, MiniLM's those of the
same day's bfloat16 run times the float32/bfloat16 ratio measured side by side on 3 December, 0.60):
the estimate of what embedding a synthetic collection would cost. Pass another build's figures to
``write_synthetic``."""

_TOKEN = re.compile(r"[A-Za-z]{4,}|[0-9]")
_WORD_SHARE = 0.15  # share of the (4+ letter) vocabulary a copy replaces


@dataclass(frozen=True, slots=True)
class Synthetic:
    """A written synthetic collection and what writing it took."""

    data_dir: Path
    corpus_dir: Path
    root: Path  # the snapshot
    reports: int
    passages: int
    units: int
    perturb_seconds: float  # texts perturbed, vectors derived
    write_seconds: float  # FAISS, BM25, files and checksums
    embed_estimate_seconds: float  # the real models at EMBED_RATES
    dense_index: dict[str, Any]


def _h(*parts: object) -> int:
    return int.from_bytes(hashlib.blake2b(repr(parts).encode(), digest_size=8).digest(), "little")


class _Perturber:
    """One copy's deterministic, length-preserving token map: digits permuted, some words swapped."""

    def __init__(self, copy: int, by_length: dict[int, list[str]]) -> None:
        self.copy = copy
        rng = np.random.default_rng(copy)
        self.digits = [str(d) for d in rng.permutation(10)]
        self.by_length = by_length

    def _word(self, m: re.Match[str]) -> str:
        token = m.group(0)
        if token.isdigit():
            return self.digits[int(token)]
        lower = token.lower()
        if _h(self.copy, lower) % 1000 >= _WORD_SHARE * 1000:
            return token
        pool = self.by_length.get(len(token), [])
        if not pool:
            return token
        new = pool[_h(self.copy, lower, "w") % len(pool)]
        if token.isupper():
            return new.upper()
        return new.capitalize() if token[0].isupper() else new

    def __call__(self, text: str) -> str:
        return _TOKEN.sub(self._word, text)


def perturb(text: str, copy: int, vocabulary: list[str]) -> str:
    """``text`` as copy ``copy`` reads it: same length, digits permuted and ~15% of words swapped."""
    by_length: dict[int, list[str]] = {}
    for w in sorted(set(vocabulary)):
        by_length.setdefault(len(w), []).append(w)
    return _Perturber(copy, by_length)(text)


def _noisy(vectors: np.ndarray, copy: int, leg: str) -> np.ndarray:
    if copy == 0:
        return np.asarray(vectors, dtype=np.float32)
    d = vectors.shape[1]
    sigma = np.sqrt((1 / COPY_COSINE**2 - 1) / d)
    rng = np.random.default_rng(_h(copy, leg))
    out = vectors + sigma * rng.standard_normal(vectors.shape, dtype=np.float32)
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out.astype(np.float32)


def _copy_section(s: Section, old: str, new: str) -> Section:
    return replace(
        s,
        id=new + s.id[len(old) :],
        document_id=new,
        children=tuple(_copy_section(c, old, new) for c in s.children),
    )


def write_synthetic(
    base: StoredIndex,
    reports: int,
    target: Path,
    settings: Settings,
    rates: dict[str, float] | None = None,
) -> Synthetic:
    """Write ``reports`` reports made from ``base``'s into ``target`` (a data dir and a corpus dir).

    The dense index is chosen by size as a build would (``settings``); the
    snapshot becomes ``target/data/current``, with a fingerprint a server on
    these settings reads as up to date (so ``policyqa serve`` loads it, never rebuilds it).
    """
    t0 = time.perf_counter()
    rates = rates or EMBED_RATES
    corpus_dir, data_dir = target / "corpus", target / "data"
    corpus_dir.mkdir(parents=True)
    data_dir.mkdir(parents=True)
    base_docs = list(base.documents.values())
    catalog = {row["id"]: row for row in json.loads((settings.corpus_dir / "catalog.json").read_text("utf-8"))}
    texts = {d.id: read_text(d, settings.corpus_dir) for d in base_docs}
    vocabulary = sorted({w.lower() for t in texts.values() for w in re.findall(r"[A-Za-z]{4,}", t)})
    by_length: dict[int, list[str]] = {}
    for w in vocabulary:
        by_length.setdefault(len(w), []).append(w)
    doc_passages: dict[str, list[int]] = {}
    for i, p in enumerate(base.passages):
        doc_passages.setdefault(p.document_id, []).append(i)
    base_vectors = storage_vectors(base.dense)
    unit_rows = np.asarray(base.sentences)
    units_of = {doc: np.flatnonzero(np.isin(unit_rows[:, 0], rows)) for doc, rows in doc_passages.items()}

    documents: list[Document] = []
    roots: list[Section] = []
    passages: list[Passage] = []
    legs: dict[str, list[np.ndarray]] = {"dense": [], "e5p": [], "units": [], "e5u": [], "rows": []}
    headers: list[str] = []
    catalog_rows: list[dict[str, Any]] = []
    snapshot_texts: dict[str, tuple[str, str]] = {}  # what the snapshot keeps of each report's text
    for n in range(reports):
        doc, copy = base_docs[n % len(base_docs)], n // len(base_docs)
        new_id = doc.id if copy == 0 else f"{doc.id}-copy{copy:03d}"
        change = _Perturber(copy, by_length) if copy else (lambda text: text)
        file = doc.file if copy == 0 else f"{new_id}.txt"
        copy_text = change(texts[doc.id])
        (corpus_dir / file).write_text(copy_text, encoding="utf-8", newline="")
        snapshot_texts[new_id] = (file, copy_text)
        title = doc.title if copy == 0 else f"{doc.title} (synthetic copy {copy})"
        documents.append(replace(doc, id=new_id, file=file, title=title))
        catalog_rows.append({**catalog[doc.id], "id": new_id, "file": file, "title": title})
        roots.extend(_copy_section(r, doc.id, new_id) for r in base.roots if r.document_id == doc.id)
        rows = doc_passages.get(doc.id, [])
        offset = len(passages)
        renumber = {old: offset + k for k, old in enumerate(rows)}
        for i in rows:
            p = base.passages[i]
            passages.append(
                replace(
                    p,
                    id=p.id if copy == 0 else f"{_h(copy, p.id):016x}",
                    document_id=new_id,
                    section_ids=tuple(new_id + s[len(doc.id) :] for s in p.section_ids),
                    text=change(p.text),
                    embed_text=change(p.embed_text),
                )
            )
        units = units_of.get(doc.id, np.zeros(0, dtype=np.int64))
        moved = unit_rows[units].copy()
        moved[:, 0] = [renumber[int(i)] for i in moved[:, 0]]
        legs["rows"].append(moved)
        headers.extend(change(base.headers[u]) for u in units)
        legs["dense"].append(_noisy(base_vectors[rows], copy, "dense"))
        legs["e5p"].append(_noisy(np.asarray(base.multilingual_passages)[rows], copy, "e5p"))
        legs["units"].append(_noisy(np.asarray(base.sentence_vectors)[units], copy, "units"))
        legs["e5u"].append(_noisy(np.asarray(base.multilingual_sentences)[units], copy, "e5u"))
    (corpus_dir / "catalog.json").write_text(json.dumps(catalog_rows, ensure_ascii=False, indent=1), "utf-8")
    arrays = {name: np.vstack(parts) for name, parts in legs.items()}
    perturb_seconds = time.perf_counter() - t0

    synth_settings = settings.model_copy(update={"corpus_dir": corpus_dir, "data_dir": data_dir})
    wanted = {
        **fingerprint(synth_settings),
        # The models that made the base vectors (a test's fake, or the real ones).
        "model": base.manifest["fingerprint"]["model"],
        "multilingual_model": base.manifest["fingerprint"]["multilingual_model"],
        "corpus_hash": corpus_hash(corpus_dir),
    }
    manifest = {
        **{
            k: v
            for k, v in base.manifest.items()
            if k not in ("files", "build_id", "dense_index", "multilingual_index")
        },
        "fingerprint": wanted,
        "corpus_hash": wanted["corpus_hash"],
        "passages": len(passages),
        "sections": sum(len(r.walk()) for r in roots),
        "documents": len(documents),
        "synthetic": {"reports": reports, "from": base.build_id, "copy_cosine": COPY_COSINE},
    }
    spec = DenseSpec.for_size(len(passages), settings)
    root = data_dir / "builds" / f"synthetic-{reports}"
    extra = tuple(p for p in (base.root / ONNX_QUERY_ENCODER,) if p.is_file())
    t1 = time.perf_counter()
    write_snapshot(
        root,
        manifest,
        documents,
        roots,
        passages,
        arrays["dense"],
        arrays["rows"],
        arrays["units"],
        headers,
        (arrays["e5p"], arrays["e5u"]),
        extra,
        texts=snapshot_texts,
        dense_spec=spec,
        multilingual_spec=DenseSpec.for_size(len(passages), settings, multilingual=True),
    )
    write_seconds = time.perf_counter() - t1
    switch_current(data_dir, root)
    n_units = len(arrays["rows"])
    estimate = (
        len(passages) / rates["minilm_passages"]
        + n_units / rates["minilm_units"]
        + len(passages) / rates["e5_passages"]
        + n_units / rates["e5_units"]
    )
    return Synthetic(
        data_dir,
        corpus_dir,
        root,
        reports,
        len(passages),
        n_units,
        perturb_seconds,
        write_seconds,
        estimate,
        spec.as_dict(),
    )
