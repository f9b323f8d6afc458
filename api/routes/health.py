"""Liveness and readiness probes."""

from __future__ import annotations

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
    tags=["health"],
)
async def healthz() -> Status:
    return Status(status="ok")


@router.get(
    "/readyz",
    operation_id="readyz",
    summary="Readiness",
    description="Answers 200 once the index and model are loaded, 503 before (or if loading failed).",
    response_model=Status,
    responses=ERRORS,
    tags=["health"],
)
async def readyz(loaded: Ready) -> Status:
    return Status(status="ready")
