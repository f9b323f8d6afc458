"""What the eval and bench commands share: their consoles and the library quieting.

Their one-line error exit is every command's: ``core.logs.fail``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from rich.console import Console

__all__ = ["OUT_DIR", "err", "out", "quiet"]

OUT_DIR = Path(__file__).resolve().parent / "out"
"""Where runs and benchmarks write by default (``eval/out``)."""

# Piped output (CI logs, files) gets a fixed width wide enough for the metric tables instead of
# rich's default of 80 columns, which would truncate them.
out = Console(width=None if sys.stdout.isatty() else 120)
err = Console(stderr=True)


def quiet() -> None:
    """As in `policyqa ask`: no hub lookups, no transformers noise; a build on the way logs its progress."""
    from core.logs import log_to_stderr, quiet_libraries

    quiet_libraries()
    log_to_stderr()
