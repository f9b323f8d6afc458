"""MiniLM adapted to the reports: fine-tuned at build time on pairs from the corpus alone.

Staff's paraphrased questions miss when they name a thing in everyday words
and the report in its own terms. Training the bundled MiniLM on the reports'
own statements and sentences (``index.pairs``) with MultipleNegativesRankingLoss
(in-batch negatives plus one BM25 hard negative) moves those questions closer
to their passages. English only: the Spanish leg (multilingual-e5) is not trained.

Training is deterministic (fixed seeds, CPU, one data order) and cached:
``<data_dir>/adapted/<key>/`` (``settings.adapted_models``) holds the adapted model, ``key`` a digest of the
corpus, the code that makes the pairs and trains, the base model's weights,
the settings of the pairs and the training, and the held-out texts. A build
with the same key reuses the model; anything else trains anew.

With ``POLICYQA_ADAPT_INTERPOLATE`` below 1 the build embeds with a mix of the
two models' weights (WiSE-FT, Wortsman et al. 2022): every weight is
``(1 - alpha) * bundled + alpha * adapted``. The mix keeps more of the bundled
model's ranking of plain questions while keeping part of the adaptation's
gain; it is made in seconds from the cached trained model, so changing alpha
does not retrain. It lives beside it, ``<key>-wiseNN/`` (NN = alpha in hundredths).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from core.settings import Settings
from core.types import ParsedDocument, Passage
from corpus import corpus_hash
from index.code import code_hash
from index.lock import hold_lock
from index.pairs import PairConfig, build_pairs
from index.space import process_alive
from index.train import TrainConfig, interpolate, train
from index.weights import weights_digest

__all__ = [
    "Adapted",
    "TrainConfig",
    "adapt_key",
    "adapted_id",
    "ensure_adapted",
    "interpolate",
    "is_trained",
    "read_holdout",
    "train",
]

_log = logging.getLogger("policyqa.index")

_META = "adapt.json"
_TRAIN_LOCK = ".train.lock"  # one training at a time: a second process waits, then reuses the model
_KEEP = 3  # adapted models kept on disk (the newest), so a rollback's model is usually still there

# The code whose output is the adapted model: the parsing and chunking that make the passages,
# the pair builder, the trainer and this module. A change elsewhere (the store, the retriever) does not retrain.
_CODE = ("corpus", "index/chunk.py", "index/sentences.py", "index/pairs.py", "index/train.py", "index/adapt.py")


@dataclass(frozen=True, slots=True)
class Adapted:
    """The adapted model of one build: where it is, its key, and whether this build trained it."""

    model_dir: Path
    key: str
    trained: bool
    seconds: float
    pairs: int


def read_holdout(paths: Iterable[Path]) -> list[str]:
    """The texts training must never use as anchors: each JSONL line's question (or query) and evidence quotes."""
    out: list[str] = []
    for path in paths:
        if not path.is_file():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            item = json.loads(line)
            out.extend(str(item[k]) for k in ("question", "query") if item.get(k))
            out.extend(str(e["quote"]) for e in item.get("evidence", ()) if e.get("quote"))
    return out


def configs(settings: Settings) -> tuple[PairConfig, TrainConfig]:
    """The pairs' and the training's settings, from ``POLICYQA_ADAPT_*``."""
    pairs = PairConfig(
        statement_passages=settings.adapt_statement_passages,
        cloze_sentences=settings.adapt_cloze_sentences,
        table_rows=settings.adapt_table_rows,
        heading_passages=settings.adapt_heading_passages,
        hard_negatives=settings.adapt_hard_negatives,
    )
    training = TrainConfig(
        epochs=settings.adapt_epochs,
        learning_rate=settings.adapt_learning_rate,
        batch_size=settings.adapt_batch_size,
        max_wordpieces=settings.adapt_max_wordpieces,
        mini_batch_size=settings.adapt_mini_batch_size,
        bf16=settings.adapt_bf16,
    )
    return pairs, training


def adapt_key(settings: Settings) -> str:
    """What the adapted model depends on, as one digest (cheap: no model is loaded)."""
    pairs, training = configs(settings)
    holdout = hashlib.sha256("\n".join(sorted(read_holdout(settings.adapt_holdout))).encode()).hexdigest()
    parts = {
        "corpus": corpus_hash(settings.corpus_dir),
        "code": code_hash(_CODE),
        "base": weights_digest(settings.model_path, settings.embedding_cache / "weights.json"),
        "pairs": asdict(pairs),
        "training": asdict(training),
        "holdout": holdout,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


def _alpha(settings: Settings) -> float:
    """The interpolation weight in hundredths: 0.5 and 0.501 are one model, not two."""
    return round(settings.adapt_interpolate, 2)


def adapted_id(settings: Settings) -> str:
    """The model a build embeds with: the training's key, and the interpolation weight when below 1.

    The build's fingerprint holds it, so changing the weight rebuilds the index (and reuses the training).
    """
    key = adapt_key(settings)
    alpha = _alpha(settings)
    return key if alpha >= 1.0 else f"{key}-wise{round(alpha * 100):02d}"


def is_trained(settings: Settings) -> bool:
    """Whether the adapted model this build wants is trained already (cheap: reads one file's presence).

    The interpolation with the bundled weights is not asked: it takes seconds.
    """
    return (settings.adapted_models / adapt_key(settings) / _META).is_file()


def _publish(root: Path, name: str, fill: Callable[[Path], dict[str, Any]]) -> None:
    """Make ``root/name`` whole or not at all: ``fill`` writes a scratch folder and returns its
    ``adapt.json``, then one rename puts it in place (a kill leaves only the scratch, ``_drop_strays``)."""
    partial = root / f".{name}-{os.getpid()}"
    shutil.rmtree(partial, ignore_errors=True)
    try:
        meta = fill(partial)
        (partial / _META).write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
        shutil.rmtree(root / name, ignore_errors=True)
        partial.rename(root / name)
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def _drop_strays(root: Path) -> None:
    """Remove what a killed training left (``.trainer-PID``, ``.KEY-PID``): its process is gone."""
    for stray in root.glob(".*-*"):
        pid = stray.name.rsplit("-", 1)[-1]
        if stray.is_dir() and pid.isdigit() and not process_alive(int(pid)):
            shutil.rmtree(stray, ignore_errors=True)


def _prune(root: Path, keep: str) -> None:
    """Keep the ``_KEEP`` newest trainings (``keep``'s among them); a training's interpolations go with it."""
    groups: dict[str, list[Path]] = {}
    for p in root.iterdir():
        if p.is_dir() and (p / _META).is_file():
            groups.setdefault(p.name.split("-wise")[0], []).append(p)
    newest = sorted(groups, key=lambda k: max(p.stat().st_mtime for p in groups[k]))
    for key in newest[:-_KEEP]:
        if key != keep:
            for p in groups[key]:
                shutil.rmtree(p, ignore_errors=True)


def ensure_adapted(settings: Settings, parsed: Sequence[ParsedDocument], passages: Sequence[Passage]) -> Adapted:
    """The model this build embeds with: the adapted one (cached or trained now), interpolated if asked."""
    trained = _ensure_trained(settings, parsed, passages)
    alpha = _alpha(settings)
    if alpha >= 1.0 or not trained.pairs:  # no pairs: nothing was trained, the bundled model serves
        return trained
    ident = adapted_id(settings)
    root = settings.adapted_models
    target = root / ident
    if not (target / _META).is_file():

        def mix(partial: Path) -> dict[str, Any]:
            t0 = time.monotonic()
            interpolate(settings.model_path, trained.model_dir, alpha, partial, skip=(_META,))
            return {
                "key": ident,
                "trained_key": trained.key,
                "interpolate": alpha,
                "base": settings.model_path,
                "pairs": trained.pairs,
                "seconds": round(trained.seconds, 1),  # the training's: what this model cost
                "interpolate_seconds": round(time.monotonic() - t0, 1),
            }

        _publish(root, ident, mix)
        _log.info("interpolated the adapted MiniLM with the bundled one (alpha %.2f): %s", alpha, ident)
    else:
        os.utime(target)
    _prune(root, trained.key)
    return Adapted(target, ident, trained.trained, trained.seconds, trained.pairs)


def _ensure_trained(settings: Settings, parsed: Sequence[ParsedDocument], passages: Sequence[Passage]) -> Adapted:
    """The adapted model for this corpus and code: the cached one when its key matches, else trained now.

    Trainings take a lock, so two processes wanting the same model (a server adapting in the
    background and ``policyqa add``) train it once: the second waits, then reuses it.
    """
    root = settings.adapted_models
    root.mkdir(parents=True, exist_ok=True)
    with hold_lock(root / _TRAIN_LOCK):
        return _train_unless_cached(settings, parsed, passages)


def _train_unless_cached(settings: Settings, parsed: Sequence[ParsedDocument], passages: Sequence[Passage]) -> Adapted:
    key = adapt_key(settings)
    root = settings.adapted_models
    target = root / key
    if (target / _META).is_file():
        meta = json.loads((target / _META).read_text(encoding="utf-8"))
        _log.info("reusing the adapted model %s (trained in %.0f s on %d pairs)", key, meta["seconds"], meta["pairs"])
        os.utime(target)  # the newest used is the last pruned
        model_dir = target if meta["pairs"] else Path(settings.model_path)  # no pairs: the bundled model
        return Adapted(model_dir, key, False, float(meta["seconds"]), int(meta["pairs"]))
    pair_config, train_config = configs(settings)
    t0 = time.monotonic()
    pairs = build_pairs(parsed, passages, pair_config, read_holdout(settings.adapt_holdout))
    if pair_config.hard_negatives:  # the loss takes a negative for every pair or for none
        pairs = [p for p in pairs if p.negative is not None]
    if not pairs:
        # Nothing to learn from (a report of a few lines): the bundled model is this corpus's, as if
        # adaptation were off, and the key remembers it so no build tries again.
        _log.info("the corpus gave no training pairs: MiniLM is used as bundled")

        def bundled(partial: Path) -> dict[str, Any]:
            partial.mkdir()
            return {"key": key, "base": settings.model_path, "pairs": 0, "seconds": 0.0, "bundled": True}

        _publish(root, key, bundled)
        return Adapted(Path(settings.model_path), key, False, 0.0, 0)
    counts: dict[str, int] = {}
    for p in pairs:
        counts[p.source] = counts.get(p.source, 0) + 1
    _log.info("adapting MiniLM to the reports: %d pairs %s, %s", len(pairs), counts, train_config)
    _drop_strays(root)

    def trained(partial: Path) -> dict[str, Any]:
        train(settings.model_path, pairs, train_config, partial)
        return {
            "key": key,
            "base": settings.model_path,
            "pairs": len(pairs),
            "sources": counts,
            "pair_config": asdict(pair_config),
            "train_config": asdict(train_config),
            "seconds": round(time.monotonic() - t0, 1),
            "trained_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }

    _publish(root, key, trained)
    seconds = time.monotonic() - t0
    _log.info("adapted MiniLM in %.0f s", seconds)
    _prune(root, key)
    return Adapted(target, key, True, seconds, len(pairs))
