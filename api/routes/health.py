"""Liveness and readiness probes."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.deps import loaded_from
from api.schemas import ErrorResponse, Progress, Status
from index.snapshots import build_id

__all__ = ["router"]

router = APIRouter()


@router.get(
    "/healthz",
    operation_id="healthz",
    summary="Liveness",
    description="Answers 200 as soon as the process serves HTTP, loaded or not.",
    response_model=Status,
    response_model_exclude_none=True,
    tags=["health"],
)
async def healthz() -> Status:
    return Status(status="ok")


@router.get(
    "/readyz",
    operation_id="readyz",
    summary="Readiness",
    description=(
        "Answers 200 once the index and model are loaded, with the build served and when it was loaded "
        "(both change when the server reloads a new build), and `last_reload_error` when a newer build was "
        "refused (the server keeps serving the one it has). `status` is `degraded` when the build "
        "`data/current` names is damaged and an older intact build is served instead: `reason` says which "
        'and why, `fix` what to run. 503 before: `{"status": "building", "progress": ...}` while the '
        "startup build runs (step N of M), else an error saying why (still loading, or the index failed "
        "to load or verify, and what to run)."
    ),
    response_model=Status,
    response_model_exclude_none=True,
    responses={
        503: {
            "model": Status | ErrorResponse,  # type: ignore[dict-item]
            "description": "Building (a Status with progress), or the index is not loaded (an error saying why).",
        }
    },
    tags=["health"],
)
async def readyz(request: Request) -> Status | JSONResponse:
    state = request.app.state
    progress: Progress | None = getattr(state, "progress", None)
    if state.loaded is None and state.load_error is None and progress is not None:
        body = Status(status="building", progress=progress).model_dump(exclude_none=True)
        return JSONResponse(body, status_code=503, headers={"Retry-After": "5"})
    loaded = loaded_from(request.app)  # 503 with the reason when not loaded
    loaded_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(loaded.created))
    degraded = loaded.degraded
    refused = getattr(state, "reload_error", None)  # a newer build api.reload refused
    adapting = {  # api.adapting: MiniLM adapted to the reports in the background
        "adapting": True if getattr(state, "adapting", False) else None,
        "adaptation_error": getattr(state, "adaptation_error", None),
    }
    # Degraded while data/current still names another build than the one served (a rollback to it ends it).
    if degraded is not None and build_id(loaded.retriever.settings.data_dir) != loaded.build_id:
        return Status(
            status="degraded",
            build_id=loaded.build_id,
            loaded_at=loaded_at,
            reason=f"build {degraded.damaged} is damaged: {degraded.reason}; serving build {loaded.build_id}",
            fix=degraded.fix,
            last_reload_error=refused,
            **adapting,
        )
    return Status(status="ready", build_id=loaded.build_id, loaded_at=loaded_at, last_reload_error=refused, **adapting)
