"""Admin operations: read the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, BeforeValidator

from api.audit import AdminDep
from api.deps import StoreDep
from api.routes import AUTH_ERRORS
from api.schemas import ErrorOut

router = APIRouter(prefix="/v1", tags=["admin"], responses=AUTH_ERRORS)
FORBIDDEN: dict[int | str, dict[str, Any]] = {403: {"model": ErrorOut, "description": "Not an admin key or account"}}
Text = Annotated[str | None, Query(min_length=1, max_length=300, pattern=r"^[^\x00-\x1f\x7f]*$")]


def _iso_only(value: object) -> object:
    """The documented format is an ISO date-time; pydantic alone also reads ``0.5`` as a Unix time."""
    if isinstance(value, str) and not (len(value) >= 10 and value[:4].isdigit() and value[4] == "-"):
        raise ValueError("expected an ISO 8601 date-time such as 2026-12-01T00:00:00Z")
    return value


IsoDateTime = Annotated[datetime, BeforeValidator(_iso_only)]


class AuditEntry(BaseModel):
    id: int
    at: datetime
    actor: str  # key:<id>, user:<id>, local, cli:<os user>, system
    org: str | None
    action: str  # upload, read, export, delete, feedback, erase, purge, job.*, key.*, observatory.*
    target: str | None  # the object: a job, upload or feedback id, org:<name>, company:<name>, ...
    key_id: str | None
    detail: Any


class AuditList(BaseModel):
    entries: list[AuditEntry]


@router.get("/audit", response_model=AuditList, responses=FORBIDDEN)
async def list_audit(
    _admin: AdminDep, store: StoreDep,
    actor: Text = None, action: Annotated[str | None, Query(pattern=r"^[a-z][a-z._]{0,63}$")] = None,
    target: Text = None, org: Text = None,
    since: Annotated[IsoDateTime | None, Query(description="ISO date-time, inclusive")] = None,
    until: Annotated[IsoDateTime | None, Query(description="ISO date-time, exclusive")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> AuditList:
    """Who did what to which object, when: newest first (admins only)."""
    rows = await run_in_threadpool(store.list_audit, actor=actor, action=action, target=target, org=org, since=since,
                                   until=until, limit=limit, newest_first=True)
    return AuditList(entries=[AuditEntry(**{k: r[k] for k in AuditEntry.model_fields}) for r in rows])
