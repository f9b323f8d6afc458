"""The library commands: ``policyqa add``, ``policyqa remove`` and ``policyqa documents``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from cli.commands import _err, _out
from core.errors import PolicyQAError
from core.logs import fail, log_to_stderr, quiet_libraries

__all__ = ["add_command", "documents_command", "remove_command"]


def add_command(
    file: Annotated[Path, typer.Argument(help="The report: PDF, DOCX, HTML, Markdown or plain text.")],
    doc_id: Annotated[str | None, typer.Option("--id", help="Its id (default: a slug of its title).")] = None,
    title: Annotated[str | None, typer.Option(help="Its title (default: the file's metadata or first page).")] = None,
    publisher: Annotated[str | None, typer.Option(help="Its publisher (default: the file's author).")] = None,
    date: Annotated[
        str | None, typer.Option(help="Its date, 2024 or 2024-03-15 (default: from its first page).")
    ] = None,
    scheme: Annotated[
        str | None, typer.Option(help="Numbering scheme: mem, honlac, binational, generic... (default: recognised).")
    ] = None,
    replace: Annotated[bool, typer.Option("--replace", help="Replace the report with the same id.")] = False,
) -> None:
    """Add a report to the corpus and rebuild the index; a running server picks it up without a restart."""
    from core.settings import get_settings
    from index.add import add_document

    quiet_libraries()
    log_to_stderr()
    try:
        added = add_document(
            get_settings(),
            file,
            doc_id=doc_id,
            title=title,
            publisher=publisher,
            date=date,
            scheme=scheme,
            replace=replace,
            progress=sys.stderr.isatty(),
        )
    except PolicyQAError as exc:
        raise fail(exc) from exc
    e, b = added.entry, added.build
    _out.print(
        f"added {e['id']} ({e['format']}{', OCR' if added.ocr else ''}, scheme {e['scheme']}): {escape(e['title'])}"
    )
    _out.print(f"index: {b.documents} documents, {b.sections} sections, {b.passages} passages in {b.seconds:.1f}s")
    _adapt()


def remove_command(doc_id: Annotated[str, typer.Argument(help="The report's id (see `policyqa documents`).")]) -> None:
    """Remove a report from the corpus and rebuild the index."""
    from core.settings import get_settings
    from index.add import remove_document

    quiet_libraries()
    log_to_stderr()
    try:
        build = remove_document(get_settings(), doc_id, progress=sys.stderr.isatty())
    except PolicyQAError as exc:
        raise fail(exc) from exc
    if build is None:
        _out.print(f"removed {doc_id}; the library is now empty (no index until a report is added)")
    else:
        _out.print(f"removed {doc_id}; index: {build.documents} documents, {build.passages} passages")
        _adapt()


def _adapt() -> None:
    """Adapt MiniLM to the changed corpus, if the add or remove served it with the bundled model (index.stages)."""
    from core.settings import get_settings
    from index.build import build_index
    from index.stages import awaits_adaptation

    settings = get_settings()
    if not awaits_adaptation(settings):
        return
    _out.print("served with the bundled MiniLM; adapting MiniLM to the changed reports (minutes)...")
    try:
        report = build_index(settings, progress=sys.stderr.isatty())
    except PolicyQAError as exc:
        raise fail(exc) from exc
    _out.print(f"adapted: the index serves MiniLM adapted to the reports ({report.seconds:.1f}s)")


def documents_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
) -> None:
    """List the reports of the catalog and whether the live index serves them."""
    from core.settings import get_settings
    from index.add import list_documents

    try:
        docs = list_documents(get_settings())
    except PolicyQAError as exc:
        raise fail(exc) from exc
    if as_json:
        print(json.dumps(docs, ensure_ascii=False, indent=2))
        return
    if not docs:
        _err.print("no reports yet: add one with `policyqa add FILE`")
    for d in docs:
        mark = "" if d["loaded"] else "  [yellow](not in the live index: run policyqa build)[/yellow]"
        _out.print(f"{d['id']}  [dim]{d['scheme']}, {d['date']}[/dim]  {escape(d['title'])}{mark}")
