"""``policyqa serve``: run the HTTP API with uvicorn.

Imported when the CLI registers its commands, so it imports nothing heavy
at module level: uvicorn, FastAPI and the model load only when serving.
"""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = ["mcp_command", "serve_command"]


def serve_command(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.", min=0, max=65535)] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes; each loads its own model and index.", min=1)] = 1,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Serve the HTTP API (search, lookups, OpenAI-compatible chat, MCP at /mcp); builds the index first if missing."""
    import uvicorn

    _offline_env()
    uvicorn.run("api.app:create_app", factory=True, host=host, port=port, workers=workers, log_level=log_level)


def mcp_command() -> None:
    """Serve MCP over stdio for desktop chat clients (tools: search, fetch, list_documents, outline).

    Builds the index first if missing; logs go to stderr, stdout carries the protocol.
    """
    import logging
    import sys

    from api.mcp import run_stdio
    from qa.errors import PolicyQAError
    from qa.settings import get_settings

    _offline_env()
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("faiss", "sentence_transformers"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        settings = get_settings()
    except PolicyQAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise typer.Exit(2) from exc
    run_stdio(settings, base_url=settings.public_url)


def _offline_env() -> None:
    import os

    # Never reach for a model hub, and keep tokenizer threads from fighting the worker threads.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
