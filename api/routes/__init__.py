"""The API's routers, one module per resource; ``router`` includes them all.

Each router converts pipeline dataclasses into ``api.schemas`` models
(``api.convert``); errors are raised as ``core.errors`` types and mapped to
statuses in ``api.app``.
"""

from fastapi import APIRouter

from api.routes import chat, health, lookup, search

__all__ = ["router"]

router = APIRouter()
for _module in (search, lookup, health, chat):
    router.include_router(_module.router)
