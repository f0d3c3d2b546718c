"""Erasure on request (admins only): one organisation's or one company's data (api/retention.py).

The answer says what was removed, per kind; the audit log gets one ``erase`` line with the
same counts, the admin who asked and when, and nothing of the erased data.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from api import retention
from api.audit import AdminDep
from api.deps import StoreDep
from api.routes import AUTH_ERRORS
from api.schemas import ErrorOut

router = APIRouter(prefix="/v1/admin", tags=["admin"], responses=AUTH_ERRORS)
FORBIDDEN: dict[int | str, dict[str, Any]] = {403: {"model": ErrorOut, "description": "Not an admin key or account"}}
Name = Annotated[str, Path(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]*\S[^\x00-\x1f\x7f]*$")]
DryRun = Annotated[bool, Query(description="count what would be removed, remove nothing, write no audit line")]


class Erased(BaseModel):
    target: str  # org:<name> | company:<name>
    dry_run: bool
    at: datetime
    removed: dict[str, int]  # per kind: jobs, results, uploads, feedback, observatory_lines, ...


def _out(report: retention.Report) -> Erased:
    return Erased(target=report.target or "", dry_run=report.dry_run, at=report.at, removed=report.counts)


@router.delete("/organisations/{org}/data", response_model=Erased, responses=FORBIDDEN)
async def erase_organisation(org: Name, admin: AdminDep, store: StoreDep, dry_run: DryRun = False) -> Erased:
    """Erase every upload, job, result, feedback, observatory line and event, and chosen site of
    one organisation (its keys and accounts stay: revoke or disable them separately)."""
    return _out(await run_in_threadpool(retention.erase, store, org=org, by=admin, dry_run=dry_run))


@router.delete("/companies/{company}/data", response_model=Erased, responses=FORBIDDEN)
async def erase_company(company: Name, admin: AdminDep, store: StoreDep, dry_run: DryRun = False) -> Erased:
    """Erase one company's observatory lines, events and chosen site, the jobs they were tracked
    from, and what company accounts of that name uploaded (with the feedback on those jobs)."""
    return _out(await run_in_threadpool(retention.erase, store, company=company, by=admin, dry_run=dry_run))
