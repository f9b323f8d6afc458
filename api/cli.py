"""``policyqa serve``: run the HTTP API with uvicorn.

Imported when the CLI registers its commands, so it imports nothing heavy
at module level: uvicorn, FastAPI and the model load only when serving.
"""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = ["serve_command"]


def serve_command(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.", min=0, max=65535)] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes; each loads its own model and index.", min=1)] = 1,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Serve the HTTP API (search, lookups, OpenAI-compatible chat); builds the index first if missing."""
    import os

    import uvicorn

    # Never reach for a model hub, and keep tokenizer threads from fighting the worker threads.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    uvicorn.run("api.app:create_app", factory=True, host=host, port=port, workers=workers, log_level=log_level)
