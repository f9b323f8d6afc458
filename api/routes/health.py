"""Liveness and readiness probes."""

from __future__ import annotations

import time

from fastapi import APIRouter

from api.deps import ERRORS, Ready
from api.schemas import Status

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
        "(both change when the server reloads a new build); 503 before, or if the index failed to load "
        "or verify (the message says why and what to run)."
    ),
    response_model=Status,
    responses=ERRORS,
    tags=["health"],
)
async def readyz(loaded: Ready) -> Status:
    loaded_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(loaded.created))
    return Status(status="ready", build_id=loaded.build_id, loaded_at=loaded_at)
