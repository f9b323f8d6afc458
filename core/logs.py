"""Process setup shared by every face: offline libraries, policyqa's logs on stderr, a command's one-line error."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import typer

    from core.errors import PolicyQAError

__all__ = ["PROGRESS_SECONDS", "fail", "log_to_stderr", "quiet_libraries"]

PROGRESS_SECONDS = 5.0
"""How often a long step or wait logs how far along it is: a log file shows progress, not a silent minute."""


def quiet_libraries() -> None:
    """Never reach for a model hub; keep transformers' chatter and tokenizer threads out of the way."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def log_to_stderr() -> None:
    """policyqa's own INFO logs (build steps and progress, readiness) on stderr, timestamped.

    Long steps (a cold build, waiting for another build's lock) then say how
    far along they are in a log file, CI or ``make run``, not only on a
    terminal's progress bar. Libraries log their warnings only.
    """
    import logging

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    # By the handler, not by logger levels: bm25s sets its own logger to DEBUG when imported.
    handler.addFilter(lambda r: r.levelno >= logging.WARNING or r.name.split(".")[0] == "policyqa")
    logging.basicConfig(level=logging.INFO, handlers=[handler])


def fail(exc: PolicyQAError) -> typer.Exit:
    """Print ``exc`` as one red line on stderr, never cut at the terminal's width; the exit (status 2) to raise."""
    import typer
    from rich.console import Console
    from rich.markup import escape

    Console(stderr=True).print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True)
    return typer.Exit(2)
