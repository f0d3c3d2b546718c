"""Rate limits and key revocation, per process or shared through Redis (issue 14, item 8).

Without ``RELOCMATCH_REDIS_URL`` each worker process keeps its own token buckets and its own
key cache (``api.deps``): with ``--workers 2`` a client gets up to twice its quota, and a key
revoked through one worker stays usable on another until that worker's cache entry expires
(30 s). With it, every process of every host pointed at the same Redis shares:

- one token bucket per key (same rate and burst as the per-process one), updated by a Lua
  script so that the read-refill-take-write step is atomic across processes, and timed with
  the Redis server's clock (workers' clocks may differ);
- a revocation list: revoking a key (``relocmatch keys revoke``, the admin page) writes
  ``<prefix>:revoked:<key id>``; the same script refuses a listed key before counting the
  request, so every process refuses it on its next request, cache or not. Entries outlive
  the key cache's time-to-live many times over, after which the store itself says "revoked".

Redis unreachable: requests with a key answer 503 (the limits and revocations cannot be
checked, so they are not skipped), and ``/ready`` says so.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("relocmatch.limits")
REVOKED_TTL_S = 7 * 86400  # >> the key cache's 30 s: afterwards the store refuses the key on its own

# KEYS[1] the key's bucket (hash tokens/ts), KEYS[2] its revocation marker.
# ARGV[1] tokens per second (0: no limit), ARGV[2] burst.
# Returns {allowed (1/0, -1 revoked), seconds to wait as a string (Lua numbers come back truncated)}.
_TAKE_LUA = """
if redis.call('EXISTS', KEYS[2]) == 1 then return {-1, '0'} end
local rate = tonumber(ARGV[1])
if rate <= 0 then return {1, '0'} end
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local v = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(v[1]) or burst
local ts = tonumber(v[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local allowed, wait = 0, 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  wait = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return {allowed, tostring(wait)}
"""


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


@dataclass(frozen=True)
class Admission:
    """The verdict on one request of a key: refused as revoked, or wait ``wait_s`` (None: go)."""

    revoked: bool = False
    wait_s: float | None = None


class LimitsUnavailable(RuntimeError):
    """Redis did not answer: the request cannot be checked."""


class ProcessLimits:
    """Today's behaviour: a token bucket per key in this process; revocations are seen here at
    once (the caller empties its key cache) and elsewhere when the other caches expire."""

    kind = "process"

    def __init__(self, rate_per_minute: float, burst: int) -> None:
        self.rate_per_minute = rate_per_minute
        self.bucket = RateLimiter(rate_per_minute, burst)
        self._named: dict[tuple[float, int], RateLimiter] = {}

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def admit(self, key_id: str, bucket: str = "key") -> Admission:
        return Admission(wait_s=self.bucket.take(f"{bucket}:{key_id}"))

    async def take(self, name: str, rate_per_minute: float, burst: int) -> float | None:
        """One token of a named bucket with its own rate (the sign-in limit per address)."""
        lim = self._named.get((rate_per_minute, burst))
        if lim is None:
            lim = self._named[(rate_per_minute, burst)] = RateLimiter(rate_per_minute, burst)
        return lim.take(name)

    async def publish_revocation(self, key_id: str) -> None:
        return None

    async def ping(self) -> bool:
        return True


class RedisLimits:
    """The same bucket and a revocation list in Redis, shared by every process using ``url``
    and ``prefix`` (give each deployment, or each test, its own prefix)."""

    kind = "redis"

    def __init__(self, url: str, prefix: str, rate_per_minute: float, burst: int) -> None:
        self.url = url
        self.prefix = prefix.rstrip(":")
        self.rate_per_minute = rate_per_minute
        self.burst = burst
        self._client: Any = None
        self._script: Any = None

    async def open(self) -> None:
        """Connect (in the event loop that will serve the requests)."""
        import redis.asyncio as aioredis

        self._client = aioredis.Redis.from_url(self.url, socket_timeout=2.0, socket_connect_timeout=2.0)
        self._script = self._client.register_script(_TAKE_LUA)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _conn(self) -> Any:
        if self._client is None:
            raise LimitsUnavailable("the Redis limits are not connected (the service is starting or stopping)")
        return self._client

    async def _run(self, bucket_key: str, revoked_key: str, rate_per_minute: float, burst: int) -> Admission:
        import redis

        self._conn()
        try:
            allowed, wait = await self._script(keys=[bucket_key, revoked_key],
                                               args=[rate_per_minute / 60.0, burst])
        except redis.RedisError as exc:
            log.error("Redis limits unreachable at %s: %s", self.url, exc)
            raise LimitsUnavailable(f"the shared rate limit store (Redis) does not answer: {exc}") from None
        allowed = int(allowed)
        if allowed < 0:
            return Admission(revoked=True)
        return Admission(wait_s=None if allowed else float(wait))

    async def admit(self, key_id: str, bucket: str = "key") -> Admission:
        return await self._run(f"{self.prefix}:rate:{bucket}:{key_id}", self.revoked_key(key_id),
                               self.rate_per_minute, self.burst)

    async def take(self, name: str, rate_per_minute: float, burst: int) -> float | None:
        got = await self._run(f"{self.prefix}:rate:{name}", f"{self.prefix}:never-revoked", rate_per_minute, burst)
        return got.wait_s

    def revoked_key(self, key_id: str) -> str:
        return f"{self.prefix}:revoked:{key_id}"

    async def publish_revocation(self, key_id: str) -> None:
        import redis

        try:
            await self._conn().set(self.revoked_key(key_id), "1", ex=REVOKED_TTL_S)
        except redis.RedisError as exc:
            raise LimitsUnavailable(f"could not list the revoked key in Redis: {exc}") from None

    async def ping(self) -> bool:
        import redis

        try:
            return bool(await self._conn().ping())
        except (redis.RedisError, LimitsUnavailable):
            return False


Limits = ProcessLimits | RedisLimits


def limits_for(settings: Any) -> Limits:
    """Redis limits when the settings name a Redis URL, else per-process ones."""
    if getattr(settings, "redis_url", None):
        return RedisLimits(settings.redis_url, settings.redis_prefix, settings.rate_limit_per_minute,
                           settings.rate_limit_burst)
    return ProcessLimits(settings.rate_limit_per_minute, settings.rate_limit_burst)


def publish_revocation_sync(url: str, prefix: str, key_id: str) -> None:
    """For the CLI (no event loop, no app): list a revoked key in Redis so that running
    services refuse it at once."""
    import redis

    client = redis.Redis.from_url(url, socket_timeout=5.0, socket_connect_timeout=5.0)
    try:
        client.set(f"{prefix.rstrip(':')}:revoked:{key_id}", "1", ex=REVOKED_TTL_S)
    except redis.RedisError as exc:
        raise LimitsUnavailable(f"could not list the revoked key in Redis at {url}: {exc}") from None
    finally:
        client.close()
