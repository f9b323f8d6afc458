"""Run blocking work (a build, a load) from the event loop in a daemon thread, cancellably.

anyio's worker threads are not daemons, so Ctrl-C would wait for a
minute-long build to end; from a daemon thread the server stops at once,
and a build, which switches ``data/current`` only when complete, leaves the
previous index in place.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
import anyio.from_thread
import anyio.lowlevel

__all__ = ["in_daemon_thread"]

_T = TypeVar("_T")


async def in_daemon_thread(fn: Callable[[], _T], name: str = "policyqa-load") -> _T:
    """``fn()`` in a daemon thread, awaited; its error re-raised here."""
    token = anyio.lowlevel.current_token()
    done = anyio.Event()
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["value"] = fn()
        except BaseException as exc:  # handed to the waiting task, which re-raises it
            outcome["error"] = exc
        finally:
            with contextlib.suppress(RuntimeError):  # the loop is gone: the server stopped first
                anyio.from_thread.run_sync(done.set, token=token)

    threading.Thread(target=work, name=name, daemon=True).start()
    await done.wait()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]  # type: ignore[no-any-return]
