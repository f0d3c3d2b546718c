"""Feedback on proposed suppliers: stored with its owner key, audited, reusable by the ranker."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from fastapi.concurrency import run_in_threadpool

from api.deps import PrincipalDep, StoreDep
from api.routes import AUTH_ERRORS, NOT_FOUND
from api.schemas import FeedbackIn, FeedbackList, FeedbackOut
from api.store import Feedback

router = APIRouter(prefix="/v1", tags=["feedback"], responses=AUTH_ERRORS)


def _out(f: Feedback) -> FeedbackOut:
    return FeedbackOut(id=f.id, siret=f.siret, label=f.label, job_id=f.job_id, line=f.line, line_text=f.line_text,
                       comment=f.comment, created_at=f.created_at)


@router.post("/feedback", status_code=201, response_model=FeedbackOut, responses=NOT_FOUND)
async def post_feedback(body: FeedbackIn, principal: PrincipalDep, store: StoreDep) -> FeedbackOut:
    """Mark a proposed supplier relevant / not_relevant / contacted / contracted for a line."""
    fb = await run_in_threadpool(
        store.record_feedback, principal, siret=body.siret, label=body.label, job_id=body.job_id, line=body.line,
        line_text=body.line_text, comment=body.comment,
    )
    if fb is None:
        raise HTTPException(404, f"no job {body.job_id}")
    return _out(fb)


@router.get("/feedback", response_model=FeedbackList)
def list_feedback(principal: PrincipalDep, store: StoreDep,
                  limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> FeedbackList:
    """Your feedback, newest first."""
    return FeedbackList(feedback=[_out(f) for f in store.list_feedback(owner=principal, limit=limit)])
