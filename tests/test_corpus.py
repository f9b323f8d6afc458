"""The catalog: validation, and adding a report with only a file and an entry."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from core.errors import CorpusError
from corpus import CORPUS_DIR, load_catalog, load_corpus


def _copy_corpus(tmp_path: Path) -> Path:
    target = tmp_path / "corpus"
    shutil.copytree(CORPUS_DIR, target, ignore=shutil.ignore_patterns("*.py", "_schemes", "__pycache__"))
    return target


def test_catalog_lists_the_five_reports_with_every_field() -> None:
    docs = load_catalog()
    assert [d.id for d in docs] == [
        "mem-mexico-2024",
        "elementa-warlike-approach-2024",
        "state-inl-mexico-fact-sheet-2005",
        "us-mexico-binational-drug-strategy-1998",
        "unodc-honlac-29-2019",
    ]
    assert all(d.title and d.publisher and d.date and d.country and d.kind and d.file for d in docs)


def test_bundled_reports_are_the_shared_originals_unchanged() -> None:
    shared = CORPUS_DIR.parent.parent / "shared" / "corpus"
    if not shared.is_dir():
        pytest.skip("../shared/corpus is not beside this checkout")
    for doc in load_catalog():
        assert (CORPUS_DIR / doc.file).read_bytes() == (shared / doc.file).read_bytes(), doc.file


def test_a_sixth_report_needs_only_its_file_and_a_catalog_entry(tmp_path: Path) -> None:
    corpus_dir = _copy_corpus(tmp_path)
    (corpus_dir / "new-report.txt").write_text("# Summary\n\nFirst finding.\n\n## Details\n\nMore text.\n")
    catalog = json.loads((corpus_dir / "catalog.json").read_text())
    catalog.append(
        {
            "id": "new-report",
            "title": "A New Report",
            "short_title": "New 2025",
            "publisher": "Someone",
            "date": "2025",
            "country": "Mexico",
            "kind": "report",
            "file": "new-report.txt",
            "scheme": "generic",
        }
    )
    (corpus_dir / "catalog.json").write_text(json.dumps(catalog))
    (new,) = load_corpus(corpus_dir, only="new-report")
    # Markdown headings become sections; "Details" nests under "Summary".
    assert [(s.kind, s.title) for s in new.walk()] == [("section", "Summary"), ("section", "Details")]


def test_an_unknown_scheme_is_refused_with_the_valid_ones(tmp_path: Path) -> None:
    corpus_dir = _copy_corpus(tmp_path)
    catalog = json.loads((corpus_dir / "catalog.json").read_text())
    catalog[0]["scheme"] = "roman"
    (corpus_dir / "catalog.json").write_text(json.dumps(catalog))
    with pytest.raises(CorpusError, match="unknown scheme 'roman'; valid: binational, elementa, generic"):
        load_catalog(corpus_dir)
