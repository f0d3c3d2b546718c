"""Request dependencies: the shared objects on ``app.state``, the caller (auth) and its rate limit
(``app.state.limits``, api/limits.py: per process or shared through Redis)."""

from __future__ import annotations

import hashlib
import math
import threading
import time
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.jobs import JobRunner
from api.limits import LimitsUnavailable, RateLimiter  # noqa: F401  (RateLimiter: re-exported for older callers)
from api.settings import Settings
from api.store import LOCAL_PRINCIPAL, Principal, Store

bearer = HTTPBearer(auto_error=False, description="API key from `relocmatch keys create`")


class KeyCache:
    """Verified tokens for a few seconds (keyed by the token's sha256), to spare a DB read per request."""

    def __init__(self, ttl_s: float = 30.0) -> None:
        self.ttl = ttl_s
        self._d: dict[bytes, tuple[Principal, float]] = {}
        self._lock = threading.Lock()

    def get(self, token: str) -> Principal | None:
        h = hashlib.sha256(token.encode()).digest()
        with self._lock:
            hit = self._d.get(h)
            if hit and hit[1] > time.monotonic():
                return hit[0]
            return None

    def put(self, token: str, p: Principal) -> None:
        h = hashlib.sha256(token.encode()).digest()
        with self._lock:
            if len(self._d) > 10_000:
                self._d.clear()
            self._d[h] = (p, time.monotonic() + self.ttl)

    def clear(self) -> None:
        """Forget every verified token (a key was revoked through this process)."""
        with self._lock:
            self._d.clear()


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_store(request: Request) -> Store:
    return request.app.state.store


async def get_runner(request: Request) -> JobRunner:
    return request.app.state.runner


async def get_matcher(request: Request) -> Any:
    """The loaded Matcher, or 503 when the catalog could not be loaded."""
    m = request.app.state.matcher
    if m is None:
        raise HTTPException(503, f"the supplier catalog is not loaded: {request.app.state.matcher_error}")
    return m


async def get_principal(
    request: Request,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The caller: the key's principal (401 without a valid key), or the local one in --no-auth mode.
    Then one token of the caller's rate limit (429 with Retry-After when empty).

    The dependencies here are ``async``: a plain ``def`` one costs every request a hop to the
    thread pool; only a key-cache miss reads the database, in the pool."""
    state = request.app.state
    settings: Settings = state.settings
    if settings.auth == "none":
        principal = LOCAL_PRINCIPAL
    else:
        if creds is None or creds.scheme.lower() != "bearer" or not creds.credentials:
            raise HTTPException(401, "missing API key: send 'Authorization: Bearer <key>'",
                                headers={"WWW-Authenticate": "Bearer"})
        token = creds.credentials
        principal = state.key_cache.get(token)
        if principal is None:
            principal = await run_in_threadpool(state.store.verify_key, token)
            if principal is None:
                raise HTTPException(401, "invalid or revoked API key", headers={"WWW-Authenticate": "Bearer"})
            state.key_cache.put(token, principal)
    request.scope.setdefault("state", {})["key_id"] = principal.key_id
    try:  # the key's rate limit, and its revocation when limits are shared (api/limits.py)
        verdict = await state.limits.admit(principal.key_id)
    except LimitsUnavailable as exc:
        raise HTTPException(503, str(exc)) from None
    if verdict.revoked:  # revoked through another process: this one's cache did not know yet
        state.key_cache.clear()
        raise HTTPException(401, "invalid or revoked API key", headers={"WWW-Authenticate": "Bearer"})
    wait = verdict.wait_s
    if wait is not None:
        raise HTTPException(429, f"rate limit of {settings.rate_limit_per_minute:g} requests/minute exceeded; "
                                 f"retry in {math.ceil(wait)} s", headers={"Retry-After": str(max(1, math.ceil(wait)))})
    return principal


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]
RunnerDep = Annotated[JobRunner, Depends(get_runner)]
MatcherDep = Annotated[Any, Depends(get_matcher)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
