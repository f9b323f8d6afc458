"""Adapt MiniLM in the background: the server answers from the bundled model's index meanwhile.

When the live index is the first stage of a build (``index.stages``: the
corpus indexed with the bundled MiniLM, the adapted model not trained yet),
as after a fresh clone's first start or a report added, the server trains
the model and builds the index again in a child process (``index.child``),
answering from the live index all the while; the reload watcher
(``api.reload``) then swaps the new build in. It looks again only when
``data/current`` changes (one ``readlink`` a ``reload_interval``; with
reloads off, ``POLICYQA_RELOAD_INTERVAL=0``, it does not run). A failed
adaptation is logged and shown on ``/readyz`` (``adaptation_error``) and
not retried until ``data/current`` changes; the bundled model's index goes
on serving.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import anyio
import anyio.to_thread

from api.daemon import in_daemon_thread
from core.errors import PolicyQAError, public_reason
from index.snapshots import build_id

if TYPE_CHECKING:
    from fastapi import FastAPI

    from core.settings import Settings

__all__ = ["adapt_forever", "adapt_once"]

_log = logging.getLogger("policyqa.api")


async def adapt_once(app: FastAPI, settings: Settings) -> bool:
    """Adapt MiniLM and rebuild if the live index awaits it; whether it did (its failure on ``app.state``)."""
    from index.child import build_in_child
    from index.stages import awaits_adaptation

    if not await anyio.to_thread.run_sync(awaits_adaptation, settings):
        return False
    _log.info("adapting MiniLM to the reports in the background; serving the bundled model's index meanwhile")
    app.state.adapting = True
    try:
        report = await in_daemon_thread(lambda: build_in_child(settings, check_files=False), "policyqa-adapt")
    except PolicyQAError as exc:
        app.state.adaptation_error = f"adapting MiniLM to the reports failed: {public_reason(exc)}"
        _log.error("adapting MiniLM to the reports failed (serving the bundled model's index): %s", exc)
        return False
    finally:
        app.state.adapting = False
    app.state.adaptation_error = None
    _log.info("adapted MiniLM to the reports in %.0f s; the new build loads at the next reload", report.seconds)
    return True


async def adapt_forever(app: FastAPI, settings: Settings) -> None:
    """Each time ``data/current`` names another build, adapt if that build awaits it (``adapt_once``)."""
    interval = settings.reload_interval
    checked: str | None = None
    while True:
        current = build_id(settings.data_dir)
        if current is not None and current != checked:
            checked = current
            await adapt_once(app, settings)
        await anyio.sleep(interval)
