"""Memory across reloads: a served index switched back and forth, the worker's RSS before and after.

``policyqa bench`` runs it after the HTTP figures: a server that reloads a
new build every few minutes must give the old one's memory back.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.errors import EvaluationError
from eval.server import SERVER_START_TIMEOUT, http_load, process_memory, served_build, serving, wait_ready

__all__ = ["RELOADS", "reload_memory"]

RELOADS = 10


def reload_memory(
    env: dict[str, str], data_dir: Path, log: Callable[[str], None] = lambda _: None, reloads: int = RELOADS
) -> dict[str, Any]:
    """A server's resident memory before and after ``reloads`` reloads of a new build.

    The live build (and the previous one, or a copy of the live one) are
    copied into a temporary data dir; ``policyqa serve`` runs over it,
    polling every 0.2 s, and each round switches ``current`` to the other
    build (``rollback``), waits until ``/readyz`` serves it and asks one
    question. A reload that kept the old snapshot would grow RSS by the
    snapshot each round.
    """
    from index.snapshots import build_id, rollback

    tmp = Path(tempfile.mkdtemp(prefix="policyqa-reloads-"))
    try:
        (tmp / "builds").mkdir()
        current = (data_dir / "current").resolve()
        shutil.copytree(current, tmp / "builds" / current.name)
        previous = (data_dir / "previous").resolve() if (data_dir / "previous").exists() else None
        if previous is None or not (previous / "manifest.json").is_file():
            previous = tmp / "builds" / "00000000T000000-0-copy"
            shutil.copytree(current, previous)
            manifest = json.loads((previous / "manifest.json").read_text(encoding="utf-8"))
            (previous / "manifest.json").write_text(json.dumps({**manifest, "build_id": previous.name}))
        else:
            shutil.copytree(previous, tmp / "builds" / previous.name)
        (tmp / "current").symlink_to(f"builds/{current.name}")
        (tmp / "previous").symlink_to(f"builds/{previous.name}")
        with serving(env, POLICYQA_DATA_DIR=str(tmp), POLICYQA_RELOAD_INTERVAL="0.2", POLICYQA_VERIFY_INTERVAL="0") as (
            proc,
            port,
        ):
            wait_ready(proc, port)
            http_load(port, ["What does priority action 2.6 say?"], 5, 1)
            before = process_memory(proc.pid)
            t0 = time.perf_counter()
            for _ in range(reloads):
                rollback(tmp)
                wanted = build_id(tmp)
                deadline = time.monotonic() + SERVER_START_TIMEOUT
                while served_build(port) != wanted:
                    if time.monotonic() > deadline or proc.poll() is not None:
                        raise EvaluationError(f"the server did not reload build {wanted}")
                    time.sleep(0.1)
                http_load(port, ["What does priority action 2.6 say?"], 1, 1)
            after = process_memory(proc.pid)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log(f"{reloads} reloads: RSS {before.get('rss_mb')} -> {after.get('rss_mb')} MB")
    return {
        "reloads": reloads,
        "seconds": round(time.perf_counter() - t0, 1),
        "rss_before_mb": before.get("rss_mb"),
        "rss_after_mb": after.get("rss_mb"),
        "growth_mb": round(after.get("rss_mb", 0.0) - before.get("rss_mb", 0.0), 1),
    }
