"""A small library (corpus directory + built index) for the add/remove tests, and a digest of its state."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

from core.settings import PROJECT_ROOT, Settings
from index.build import build_index
from tests.fakes import HashingEmbedder

__all__ = ["REPORT_MD", "library", "state"]

REPORT_MD = """# National Drug Strategy 2030

Published by the National Commission on Drugs, March 2025.

## Article 1. Purpose

The strategy sets out how the ministries reduce the harms of drug use, with treatment in every province.

## Article 2. Treatment

Every province opens a certified treatment centre and trains its staff in evidence-based care by 2027.

## Article 3. Monitoring

The observatory publishes yearly figures on treatment demand, overdoses and seizures.
"""


def library(root: Path, *, bundled: tuple[str, ...] = ("state-inl-mexico-fact-sheet-2005",)) -> Settings:
    """A corpus directory holding ``bundled`` reports (or none), indexed with the hashing embedder."""
    corpus, data = root / "corpus", root / "data"
    corpus.mkdir()
    entries = [e for e in json.loads((PROJECT_ROOT / "corpus" / "catalog.json").read_text()) if e["id"] in bundled]
    for e in entries:
        shutil.copyfile(PROJECT_ROOT / "corpus" / e["file"], corpus / e["file"])
    if bundled:
        (corpus / "catalog.json").write_text(json.dumps(entries, indent=2), encoding="utf-8")
    settings = Settings(corpus_dir=corpus, data_dir=data, embedding_cache_dir=root / "cache")  # type: ignore[call-arg]
    if bundled:
        build_index(settings, HashingEmbedder())
    return settings


def state(settings: Settings) -> str:
    """A digest of every file of the corpus directory and of the live index (``data/current`` and its target)."""
    h = hashlib.sha256()
    for root in (settings.corpus_dir, settings.index_dir):
        if not root.exists():
            h.update(f"{root.name}: none".encode())
            continue
        if root.is_symlink():
            h.update(os.readlink(root).encode())
        for path in sorted(root.resolve().rglob("*")):
            h.update(str(path.relative_to(root.resolve())).encode())
            if path.is_file():
                h.update(path.read_bytes())
    return h.hexdigest()
