"""The locks that keep one build (and one library change) at a time: readers never wait.

An ``flock`` on a file in the data directory, released by the kernel when its
holder exits, however it exits: a killed build never leaves the lock held.
"""

from __future__ import annotations

import fcntl
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from core.logs import PROGRESS_SECONDS

__all__ = ["BUILD_LOCK", "hold_lock"]

_log = logging.getLogger("policyqa.index")

BUILD_LOCK = ".build.lock"
"""The build lock's file name, in the data directory."""


@contextmanager
def hold_lock(path: Path) -> Iterator[None]:
    """Hold the lock file ``path`` (made if missing) for the ``with`` block, waiting while another holds it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as lock:
        _wait(lock)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _wait(lock: IO[str]) -> None:
    """Take the lock, logging while another build holds it (a second build may wait minutes)."""
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return
    except BlockingIOError:
        pass
    t0 = time.monotonic()
    _log.info("another build is running; waiting for it to finish")
    while True:
        time.sleep(0.5)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            _log.info("the other build finished after %.0f s", time.monotonic() - t0)
            return
        except BlockingIOError:
            waited = time.monotonic() - t0
            if int(waited / PROGRESS_SECONDS) != int((waited - 0.5) / PROGRESS_SECONDS):
                _log.info("still waiting for the other build (%.0f s)", waited)
