"""policyqa add / remove / documents: a report in, all or nothing, and only its own texts embedded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.errors import CorpusError, PolicyQAError
from core.settings import Settings
from corpus import load_catalog
from corpus.library import recognise_scheme, slug
from index.add import add_document, list_documents, remove_document
from index.snapshots import build_id
from qa.retrieve import Retriever
from tests.fakes import HashingEmbedder
from tests.library_fixtures import REPORT_MD, library, state
from tests.test_extract_errors import TEXT, scanned_pdf, text_pdf


@pytest.fixture
def lib(tmp_path: Path) -> Settings:
    return library(tmp_path)


def report(tmp_path: Path, name: str = "strategy.md", text: str = REPORT_MD) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_add_writes_original_text_pages_and_catalog(lib: Settings, tmp_path: Path) -> None:
    added = add_document(lib, report(tmp_path), doc_id="strategy-2030", embedder=HashingEmbedder())
    corpus = lib.corpus_dir
    assert (corpus / "originals" / "strategy-2030.md").read_text(encoding="utf-8") == REPORT_MD
    assert (corpus / "strategy-2030.txt").is_file()
    assert json.loads((corpus / "strategy-2030.pages.json").read_text()) == []
    assert [d.id for d in load_catalog(corpus)] == ["state-inl-mexico-fact-sheet-2005", "strategy-2030"]
    assert added.entry["title"] == "National Drug Strategy 2030"
    assert added.entry["scheme"] == "generic"
    assert added.build.documents == 2


def test_added_report_is_searchable(lib: Settings, tmp_path: Path) -> None:
    embedder = HashingEmbedder()
    add_document(lib, report(tmp_path), doc_id="strategy-2030", embedder=embedder)
    hits = Retriever.open(lib, embedder).search("certified treatment centre in every province", k=1)
    assert hits[0].passage.document_id == "strategy-2030"


def test_the_committed_corpus_matches_the_build(lib: Settings, tmp_path: Path) -> None:
    """The staged corpus was byte-identical: a build after the add has nothing to do."""
    from index.build import build_index

    add_document(lib, report(tmp_path), doc_id="strategy-2030", embedder=HashingEmbedder())
    assert build_index(lib, HashingEmbedder()).built is False


def test_add_embeds_only_the_new_reports_texts(lib: Settings, tmp_path: Path) -> None:
    """Into a library whose texts are embedded already, an add embeds exactly what the report alone needs."""
    into_library = HashingEmbedder()
    add_document(lib, report(tmp_path), doc_id="s", embedder=into_library)
    alone = HashingEmbedder()
    (tmp_path / "alone").mkdir()
    add_document(library(tmp_path / "alone", bundled=()), report(tmp_path), doc_id="s", embedder=alone)
    assert into_library.texts == alone.texts > 0


def test_default_id_is_a_slug_of_the_title(lib: Settings, tmp_path: Path) -> None:
    added = add_document(lib, report(tmp_path), embedder=HashingEmbedder())
    assert added.entry["id"] == "national-drug-strategy-2030"


def test_flags_override_metadata(lib: Settings, tmp_path: Path) -> None:
    added = add_document(
        lib,
        report(tmp_path),
        doc_id="s",
        title="Strategy",
        publisher="Ministry",
        date="2025-03",
        scheme="generic",
        embedder=HashingEmbedder(),
    )
    assert (added.entry["title"], added.entry["publisher"], added.entry["date"], added.entry["scheme"]) == (
        "Strategy",
        "Ministry",
        "2025-03",
        "generic",
    )


def test_a_scheme_that_does_not_fit_changes_nothing(lib: Settings, tmp_path: Path) -> None:
    _bad(lib, report(tmp_path), "MEM report: no part heading preface", scheme="mem")


def test_replace_swaps_the_report(lib: Settings, tmp_path: Path) -> None:
    add_document(lib, report(tmp_path), doc_id="s", embedder=HashingEmbedder())
    add_document(
        lib,
        report(tmp_path, "v2.md", REPORT_MD + "\nA new paragraph.\n"),
        doc_id="s",
        replace=True,
        embedder=HashingEmbedder(),
    )
    assert (lib.corpus_dir / "s.txt").read_text(encoding="utf-8").endswith("A new paragraph.\n")
    assert [d.id for d in load_catalog(lib.corpus_dir)].count("s") == 1


def test_remove_takes_the_report_out(lib: Settings, tmp_path: Path) -> None:
    add_document(lib, report(tmp_path), doc_id="s", embedder=HashingEmbedder())
    build = remove_document(lib, "s", embedder=HashingEmbedder())
    assert build is not None and build.documents == 1
    assert sorted(p.name for p in lib.corpus_dir.rglob("*") if p.is_file()) == [
        "catalog.json",
        "state-inl-mexico-fact-sheet-2005.txt",
    ]
    assert [d["id"] for d in list_documents(lib)] == ["state-inl-mexico-fact-sheet-2005"]


def test_remove_unknown_id(lib: Settings) -> None:
    before = state(lib)
    with pytest.raises(PolicyQAError, match=r"^no document 'nope'; valid: state-inl-mexico-fact-sheet-2005$"):
        remove_document(lib, "nope", embedder=HashingEmbedder())
    assert state(lib) == before


def test_empty_library_add_then_remove(tmp_path: Path) -> None:
    lib = library(tmp_path, bundled=())
    assert list_documents(lib) == []
    add_document(lib, report(tmp_path), doc_id="s", embedder=HashingEmbedder())
    assert [(d["id"], d["loaded"]) for d in list_documents(lib)] == [("s", True)]
    assert remove_document(lib, "s", embedder=HashingEmbedder()) is None
    assert list_documents(lib) == []
    assert build_id(lib.data_dir) is None


def test_empty_library_build_says_what_to_do(tmp_path: Path) -> None:
    from index.build import build_index

    lib = library(tmp_path, bundled=())
    with pytest.raises(PolicyQAError, match=r"^the corpus is empty; add a report with `policyqa add FILE`$"):
        build_index(lib, HashingEmbedder())


@pytest.mark.parametrize(
    ("text", "scheme"),
    [
        ("Multilateral Evaluation Mechanism\n" + "Priority Action 1.1\n" * 3, "mem"),
        ("Twenty-ninth Meeting of HONLAC\nHeads of National Drug Law Enforcement Agencies", "honlac"),
        ("Alliance Point One\nAlliance Point Two\nAlliance Point Three", "binational"),
        ("Chapter I\nArticle 5", "generic"),
    ],
)
def test_recognise_scheme(text: str, scheme: str) -> None:
    assert recognise_scheme(text) == scheme


def test_bundled_reports_are_recognised() -> None:
    from core.settings import PROJECT_ROOT

    found = {p.stem: recognise_scheme(p.read_text(encoding="utf-8")) for p in (PROJECT_ROOT / "corpus").glob("*.txt")}
    assert found == {
        "mem-mexico-2024": "mem",
        "unodc-honlac-29-2019": "honlac",
        "us-mexico-binational-drug-strategy-1998": "binational",
        "elementa-warlike-approach-2024": "generic",
        "state-inl-mexico-fact-sheet-2005": "generic",
    }


def test_slug() -> None:
    assert slug("Évaluation: MEM — México 2024!") == "evaluation-mem-mexico-2024"


# Bad input: a one-line error, and the corpus directory and the live index exactly as they were.


def _bad(lib: Settings, path: Path, expected: str, **kw: object) -> None:
    before = state(lib)
    with pytest.raises(CorpusError) as info:
        add_document(lib, path, embedder=HashingEmbedder(), **kw)  # type: ignore[arg-type]
    assert str(info.value) == expected
    assert state(lib) == before


def test_bad_encrypted_pdf(lib: Settings, tmp_path: Path) -> None:
    path = text_pdf(tmp_path / "locked.pdf", encrypt="secret")
    _bad(lib, path, "locked.pdf: the PDF is encrypted; save an unprotected copy and add that")


def test_bad_truncated_pdf(lib: Settings, tmp_path: Path) -> None:
    whole = text_pdf(tmp_path / "whole.pdf").read_bytes()
    (tmp_path / "cut.pdf").write_bytes(whole[: len(whole) // 2])
    _bad(lib, tmp_path / "cut.pdf", "cut.pdf: the PDF is damaged or truncated and cannot be opened")


def test_bad_not_a_pdf(lib: Settings, tmp_path: Path) -> None:
    path = report(tmp_path, "report.pdf", "<html><body>Not a PDF at all</body></html>")
    _bad(lib, path, "report.pdf: not a PDF file (no %PDF header); is it another format renamed .pdf?")


def test_bad_empty_file(lib: Settings, tmp_path: Path) -> None:
    _bad(lib, report(tmp_path, "empty.pdf", ""), "empty.pdf: the file is empty (0 bytes)")


def test_bad_over_the_size_limit(lib: Settings, tmp_path: Path) -> None:
    small = lib.model_copy(update={"max_upload_bytes": 100})
    _bad(small, report(tmp_path), "strategy.md: 461 bytes is over the size limit of 100 (POLICYQA_MAX_UPLOAD_BYTES)")


def test_bad_scanned_pdf_without_ocr(lib: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = scanned_pdf(tmp_path / "scan.pdf")
    monkeypatch.setenv("PATH", str(tmp_path))
    _bad(
        lib,
        path,
        "scan.pdf: a scanned PDF with no text layer, and OCR is not installed "
        "(apt-get install tesseract-ocr tesseract-ocr-spa)",
    )


def test_bad_duplicate_id(lib: Settings, tmp_path: Path) -> None:
    _bad(
        lib,
        report(tmp_path),
        "a document with id 'state-inl-mexico-fact-sheet-2005' already exists; add it with --replace to replace it",
        doc_id="state-inl-mexico-fact-sheet-2005",
    )


def test_bad_almost_no_text(lib: Settings, tmp_path: Path) -> None:
    path = text_pdf(tmp_path / "cover.pdf", ["Annual Report", "2024"])
    _bad(lib, path, "cover.pdf: almost no text could be extracted (16 letters or digits; at least 100 expected)")


def test_a_failed_build_changes_nothing(lib: Settings, tmp_path: Path) -> None:
    class Broken(HashingEmbedder):
        def encode(self, texts, *, progress=False):  # type: ignore[no-untyped-def]
            raise PolicyQAError("embedding failed")

    before = state(lib)
    with pytest.raises(PolicyQAError, match=r"^embedding failed$"):
        add_document(lib, report(tmp_path), doc_id="s", embedder=Broken())
    assert state(lib) == before


def test_pdf_added(lib: Settings, tmp_path: Path) -> None:
    path = text_pdf(tmp_path / "memo.pdf", TEXT)
    added = add_document(lib, path, doc_id="memo", embedder=HashingEmbedder())
    assert added.entry["format"] == "pdf"
    assert json.loads((lib.corpus_dir / "memo.pages.json").read_text())[0][0] == 0


_KILLED_ADD = """
import sys, time
from pathlib import Path
from core.settings import Settings
from index.add import add_document
from tests.fakes import HashingEmbedder

class Slow(HashingEmbedder):
    def encode(self, texts, *, progress=False):
        Path(sys.argv[4]).touch()  # the add is now embedding: files staged, nothing committed
        time.sleep(60)

settings = Settings(corpus_dir=sys.argv[1], data_dir=sys.argv[2], embedding_cache_dir=sys.argv[5])
add_document(settings, Path(sys.argv[3]), doc_id="s", embedder=Slow())
"""


def test_kill_9_mid_add_changes_nothing(lib: Settings, tmp_path: Path) -> None:
    import subprocess
    import sys
    import time

    from core.settings import PROJECT_ROOT

    before = state(lib)
    marker = tmp_path / "embedding"
    args = [str(lib.corpus_dir), str(lib.data_dir), str(report(tmp_path)), str(marker), str(lib.embedding_cache)]
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_ADD, *args], cwd=PROJECT_ROOT)
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
        proc.kill()  # SIGKILL: no cleanup runs
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert state(lib) == before
    assert [d.id for d in load_catalog(lib.corpus_dir)] == ["state-inl-mexico-fact-sheet-2005"]
    # The next add clears what the killed one left and lands.
    add_document(lib, report(tmp_path), doc_id="s", embedder=HashingEmbedder())
    assert [d.id for d in load_catalog(lib.corpus_dir)] == ["state-inl-mexico-fact-sheet-2005", "s"]
    assert list(lib.data_dir.glob(".add-*")) == []


def test_cli_bad_input_is_one_line_and_exit_2(lib: Settings, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from core.settings import PROJECT_ROOT

    (tmp_path / "empty.pdf").write_bytes(b"")
    env = {**os.environ, "POLICYQA_CORPUS_DIR": str(lib.corpus_dir), "POLICYQA_DATA_DIR": str(lib.data_dir)}
    before = state(lib)
    done = subprocess.run(
        [sys.executable, "-m", "cli", "add", str(tmp_path / "empty.pdf")],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (done.returncode, done.stderr) == (2, "error: empty.pdf: the file is empty (0 bytes)\n")
    assert state(lib) == before
    listed = subprocess.run(
        [sys.executable, "-m", "cli", "documents"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True
    )
    assert listed.stdout.startswith("state-inl-mexico-fact-sheet-2005  inl, 2005-08-10  Counternarcotics")


@pytest.mark.parametrize(
    ("title", "short"),
    [
        ("National Drug Strategy 2030", "National Drug Strategy 2030"),
        (
            "Multilateral Evaluation Mechanism (MEM), Evaluation Report on Drug Policies: Mexico, Comprehensive",
            "Multilateral Evaluation Mechanism (MEM)",
        ),
        (
            "Implementation of the recommendations adopted by the Twenty-eighth Meeting",
            "Implementation of the recommendations adopted by the…",
        ),
    ],
)
def test_short_title(title: str, short: str) -> None:
    from corpus.library import short_title

    assert short_title(title) == short


def test_a_text_with_no_title_line_is_titled_by_its_file_name(lib: Settings, tmp_path: Path) -> None:
    prose = "Every province opens a certified treatment centre and trains its staff in evidence-based care."
    text = f"OAS\n\n{prose}\n\n{prose}\n"  # a logo's word, then paragraphs
    added = add_document(lib, report(tmp_path, "national-plan.txt", text), embedder=HashingEmbedder())
    assert (added.entry["id"], added.entry["title"]) == ("national-plan", "national plan")
