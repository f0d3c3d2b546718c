"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from api.schemas import Health, Ready

router = APIRouter(tags=["service"])


@router.get("/health", response_model=Health)
def health() -> Health:
    """The process answers."""
    return Health(status="ok")


@router.get("/ready", response_model=Ready, responses={503: {"model": Ready, "description": "Not ready"}})
async def ready(request: Request) -> JSONResponse:
    """Ready when the catalog is loaded, the database answers and, with shared limits, Redis
    answers (503 otherwise). ``limits`` says whether rate limits and key revocations are shared
    through Redis or kept by each process."""
    state = request.app.state
    catalog = getattr(state, "matcher", None) is not None
    store = getattr(state, "store", None)
    database = store is not None and await run_in_threadpool(store.ping)
    limits = state.limits
    limits_ok = await limits.ping()
    detail = None if catalog else f"catalog not loaded: {getattr(state, 'matcher_error', 'starting')}"
    if not database:
        detail = (detail + "; " if detail else "") + "database unreachable"
    if not limits_ok:
        detail = (detail + "; " if detail else "") + "Redis (shared rate limits and revocations) unreachable"
    body = Ready(ready=catalog and database and limits_ok, catalog=catalog, database=database, limits=limits.kind,
                 detail=detail)
    return JSONResponse(body.model_dump(), status_code=200 if body.ready else 503)
