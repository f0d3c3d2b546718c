"""Request dependencies: the shared objects on ``app.state``, the caller (auth) and its rate limit."""

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
from api.settings import Settings
from api.store import LOCAL_PRINCIPAL, Principal, Store

bearer = HTTPBearer(auto_error=False, description="API key from `relocmatch keys create`")


class RateLimiter:
    """Token bucket per key, in memory (per worker process): ``rate_per_minute`` sustained, ``burst`` at once."""

    def __init__(self, rate_per_minute: float, burst: int) -> None:
        self.rate = rate_per_minute / 60.0
        self.burst = float(burst)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> float | None:
        """Take one token; None when allowed, else the seconds to wait before retrying."""
        if self.rate <= 0:
            return None
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return None
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.rate


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
    wait = state.rate_limiter.take(principal.key_id)
    if wait is not None:
        raise HTTPException(429, f"rate limit of {settings.rate_limit_per_minute:g} requests/minute exceeded; "
                                 f"retry in {math.ceil(wait)} s", headers={"Retry-After": str(max(1, math.ceil(wait)))})
    return principal


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]
RunnerDep = Annotated[JobRunner, Depends(get_runner)]
MatcherDep = Annotated[Any, Depends(get_matcher)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
