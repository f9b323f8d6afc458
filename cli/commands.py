"""The engine's commands: build, ask and outline (``cli.main`` adds serve, mcp, eval and bench)."""

from __future__ import annotations

import json
import sys
from functools import partial
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from core.errors import InvalidQueryError, PolicyQAError, check_text, shown
from core.logs import fail, log_to_stderr, quiet_libraries
from core.types import Filters, Hit, Section
from qa.display import page_note
from qa.filters import FilterSpec, with_filter_parameters

__all__ = ["app"]

app = typer.Typer(
    help="Retrieval QA over drug-policy reports, with exact section citations.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
_out = Console(soft_wrap=True)
_err = Console(stderr=True)


@app.command()
def build(
    force: Annotated[bool, typer.Option("--force", help="Rebuild even if nothing changed.")] = False,
    rollback: Annotated[
        bool, typer.Option("--rollback", help="Switch back to the previous build (kept on disk); builds nothing.")
    ] = False,
) -> None:
    """Parse, chunk and embed the corpus into the index (does nothing if it is up to date and undamaged)."""
    from core.settings import get_settings
    from index.build import build_index, rollback_index

    quiet_libraries()
    log_to_stderr()
    if rollback:
        try:
            settings = get_settings()
            live = rollback_index(settings)
        except PolicyQAError as exc:
            raise fail(exc) from exc
        _out.print(f"rolled back: {settings.index_dir} -> builds/{live}")
        return
    try:
        report = build_index(get_settings(), force=force, progress=sys.stderr.isatty())
    except PolicyQAError as exc:
        raise fail(exc) from exc
    if report.served_seconds is not None:
        from index.stages import served_line

        _out.print(served_line(report.served_seconds))
    verb = "built" if report.built else "up to date"
    _out.print(
        f"index {verb}: {report.documents} documents, {report.sections} sections, "
        f"{report.passages} passages in {report.seconds:.1f}s ({report.reason}) -> {report.path}"
    )


def hit_json(hit: Hit, pages: tuple[int, int] | None = None) -> dict[str, Any]:
    """A hit as plain JSON (the CLI's ``--json`` output); ``pages``: its [first, last] PDF pages, if any."""
    p = hit.passage
    return {
        "rank": hit.rank,
        "score": round(hit.score, 6),
        "scores": {name: round(value, 6) for name, value in hit.scores.items()},
        "passage_id": p.id,
        "document_id": p.document_id,
        "section_id": p.section_id,
        "section_ids": list(p.section_ids),
        "label": p.label,
        "path": [{"kind": el.kind, "number": el.number, "title": el.title} for el in p.path],
        "char_start": p.start,
        "char_end": p.end,
        "pages": list(pages) if pages else None,
        "text": p.text,
    }


def _named_filters(given: list[str]) -> dict[str, str]:
    """``--filter`` values, ``NAME=VALUE`` each, by name; the engine checks the names when it searches."""
    named: dict[str, str] = {}
    for item in given:
        name, equals, value = item.partition("=")
        if not equals or not name.strip():
            raise InvalidQueryError(f"--filter {shown(item)}: write NAME=VALUE, e.g. --filter article=5")
        named[name.strip().lower().replace("-", "_")] = value.strip()
    return named


def _filter_option(spec: FilterSpec) -> tuple[Any, None]:
    """A filter as an option of ``policyqa ask``."""
    return Annotated[str | None, typer.Option(help=spec.help)], None


@app.command()
@partial(with_filter_parameters, parameter=_filter_option)
def ask(
    question: Annotated[str, typer.Argument(help="A question in plain language.")],
    k: Annotated[int, typer.Option("-k", "--top-k", help="How many passages.", min=1, max=50)] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
    config: Annotated[str, typer.Option(help="Retrieval configuration: bm25, dense, hybrid, routed.")] = "routed",
    fusion: Annotated[str, typer.Option(help="Fusion method: convex, rrf.")] = "convex",
    language: Annotated[str | None, typer.Option(help="The question's language: en or es. Default: detected.")] = None,
    more_filters: Annotated[
        list[str] | None,
        typer.Option(
            "--filter",
            metavar="NAME=VALUE",
            help="Any filter by name, also the kinds found in added reports: --filter article=5 (repeatable).",
        ),
    ] = None,
    **filter_values: str | None,
) -> None:
    """Print the passages that answer QUESTION, best first, each with its citation."""
    from qa.display import display_text
    from qa.retrieve import Retriever

    quiet_libraries()
    try:
        check_text(question)  # before loading anything: a question that is not text never waits for the models
        named = _named_filters(more_filters or [])
        retriever = Retriever.open()
        answered = retriever.ask(
            question,
            k=k,
            config=config,
            fusion=fusion,
            language=language,
            filters=Filters(**{**filter_values, **named}),
        )
    except PolicyQAError as exc:
        raise fail(exc) from exc
    hits, answer = answered.hits, answered.answer
    documents = retriever.index.documents

    def pages(document_id: str, start: int, end: int) -> tuple[int, int] | None:
        return documents[document_id].pages_of(start, end)

    if as_json:
        found = None
        if answer is not None:
            found = {
                "text": answer.text,
                "display": display_text(answer),
                "kind": answer.kind,
                "score": round(answer.score, 6),
                "passage_id": answer.passage.id,
                "section_id": answer.passage.section_id,
                "label": answer.passage.label,
                "char_start": answer.start,
                "char_end": answer.end,
                "pages": list(pages(answer.passage.document_id, answer.start, answer.end) or []) or None,
            }
        doc = {
            "query": question,
            "language": answered.language,
            "answer": found,
            "results": [hit_json(h, pages(h.passage.document_id, h.passage.start, h.passage.end)) for h in hits],
        }
        print(json.dumps(doc, ensure_ascii=False, indent=2))
        return
    if not hits:
        _out.print("no passage found")
    if answer is not None:
        # As a person reads it (no markdown markers; a table row with its named cell); the span is verbatim.
        _out.print(f"[bold green]Answer:[/bold green] {escape(display_text(answer))}")
        where = page_note(pages(answer.passage.document_id, answer.start, answer.end))
        _out.print(f"[dim]Source: {escape(answer.passage.label)}{where} [{answer.start}:{answer.end})[/dim]")
        _out.print()
    for h in hits:
        where = page_note(pages(h.passage.document_id, h.passage.start, h.passage.end))
        _out.print(f"[bold]{h.rank}. {escape(h.passage.label)}{where}[/bold]  [dim]score {h.score:.4f}[/dim]")
        _out.print(f"[dim]{h.passage.section_id} [{h.passage.start}:{h.passage.end})[/dim]")
        _out.print(escape(h.passage.text.strip()), soft_wrap=True)
        _out.print()


def outline_json(section: Section) -> dict[str, Any]:
    """A section subtree as nested ``{kind, number, title, children}`` (plus its id)."""
    return {
        "id": section.id,
        "kind": section.kind,
        "number": section.number,
        "title": section.title,
        "children": [outline_json(c) for c in section.children],
    }


@app.command()
def outline(
    doc: Annotated[str, typer.Argument(help="Document id (see catalog), e.g. mem-mexico-2024.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the nested JSON tree.")] = False,
) -> None:
    """Print the section tree of one report."""
    from core.settings import get_settings
    from corpus import load_corpus

    try:
        (parsed,) = load_corpus(get_settings().corpus_dir, only=doc)
    except PolicyQAError as exc:
        raise fail(exc) from exc
    if as_json:
        tree = {"document_id": doc, "children": [outline_json(s) for s in parsed.sections]}
        print(json.dumps(tree, ensure_ascii=False, indent=2))
        return

    def show(s: Section, depth: int) -> None:
        title = s.title if len(s.title) <= 90 else s.title[:87] + "..."
        head = s.path[-1].label
        line = head if head == s.title else f"{head}: {title}"
        _out.print("  " * depth + f"[cyan]{s.kind}[/cyan] " + escape(line if head != s.title else title))
        for c in s.children:
            show(c, depth + 1)

    _out.print(f"[bold]{escape(parsed.document.title)}[/bold]")
    for s in parsed.sections:
        show(s, 0)
