"""Audit lines written by the routes, and the admin check.

The store writes the lines of the changes it makes (upload, delete, feedback, job and key
events) in the same transaction as the change. Reads and exports change nothing, so the
routes declare them: ``dependencies=[audited("read", "{job_id}")]`` writes one line when the
route succeeds (an exception, 404 included, leaves none: nothing was read; a route may also
set ``request.state.audit_skip``, as a job status poll without results does).

Who is acting is ``api.store.actor_of(principal)``: ``key:<id>``, ``local``, or whatever
``actor`` attribute an account principal carries (``user:<id>``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool

from api.deps import PrincipalDep, StoreDep
from api.store import LOCAL_KEY_ID, Principal


def is_admin(p: Any) -> bool:
    """An admin key (``relocmatch keys create --admin``), an account with the admin role, or the
    key-less local operator."""
    return bool(getattr(p, "admin", False)) or getattr(p, "role", None) == "admin" or p.key_id == LOCAL_KEY_ID


def audited(action: str, target: str | None = None) -> Any:
    """A route dependency: one audit line ``action`` once the route has returned; ``target`` is
    formatted with the path parameters (``"{job_id}"``, ``"{company}#{line}"``)."""

    async def write_audit_line(request: Request, principal: PrincipalDep, store: StoreDep) -> AsyncIterator[None]:
        yield
        if getattr(request.state, "audit_skip", False):  # the route said nothing was read (a status poll)
            return
        obj = target.format(**request.path_params)[:300] if target else None
        await run_in_threadpool(store.audit, principal, action, obj, None)

    return Depends(write_audit_line)


async def require_admin(principal: PrincipalDep) -> Principal:
    if not is_admin(principal):
        raise HTTPException(403, "this needs an admin key (`relocmatch keys create --admin`) or an admin account")
    return principal


AdminDep = Annotated[Principal, Depends(require_admin)]
