"""``policyqa serve``: run the HTTP API with uvicorn.

Imported when the CLI registers its commands, so it imports nothing heavy
at module level: uvicorn, FastAPI and the model load only when serving.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from core.settings import Settings

__all__ = ["mcp_command", "serve_command"]


def serve_command(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.", min=0, max=65535)] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes; each loads its own model and index.", min=1)] = 1,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Serve the HTTP API (search, lookups, OpenAI-compatible chat, MCP at /mcp); builds the index first if missing."""
    import uvicorn

    from core.logs import log_to_stderr, quiet_libraries

    quiet_libraries()
    settings = _settings_or_exit()  # a bad setting is one line here, not a traceback from inside uvicorn
    log_to_stderr()  # the startup build logs how far along it is, in a form a log file reads well
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        # TCP_NODELAY with --workers too, the header timeout and a JSON 503 past the limit (api/protocol.py)
        http="api.protocol:ServerProtocol",
        timeout_keep_alive=settings.keep_alive_timeout,
        limit_concurrency=settings.max_connections,
    )


def mcp_command() -> None:
    """Serve MCP over stdio for desktop chat clients (tools: search, fetch, list_documents, outline).

    Builds the index first if missing; logs go to stderr, stdout carries the protocol.
    """
    from api.mcp_transport import run_stdio
    from core.logs import log_to_stderr, quiet_libraries

    quiet_libraries()
    log_to_stderr()
    settings = _settings_or_exit()
    run_stdio(settings, base_url=settings.public_url)


def _settings_or_exit() -> Settings:
    import sys

    from core.errors import PolicyQAError
    from core.settings import get_settings

    try:
        return get_settings()
    except PolicyQAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise typer.Exit(2) from exc
