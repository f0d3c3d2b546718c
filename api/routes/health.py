"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.schemas import Health, Ready

router = APIRouter(tags=["service"])


@router.get("/health", response_model=Health)
def health() -> Health:
    """The process answers."""
    return Health(status="ok")


@router.get("/ready", response_model=Ready, responses={503: {"model": Ready, "description": "Not ready"}})
def ready(request: Request) -> JSONResponse:
    """Ready when the catalog is loaded and the database answers (503 otherwise)."""
    state = request.app.state
    catalog = getattr(state, "matcher", None) is not None
    store = getattr(state, "store", None)
    database = store is not None and store.ping()
    detail = None if catalog else f"catalog not loaded: {getattr(state, 'matcher_error', 'starting')}"
    if not database:
        detail = (detail + "; " if detail else "") + "database unreachable"
    body = Ready(ready=catalog and database, catalog=catalog, database=database, detail=detail)
    return JSONResponse(body.model_dump(), status_code=200 if body.ready else 503)
