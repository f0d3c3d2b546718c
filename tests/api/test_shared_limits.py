"""Rate limits and key revocations shared by several processes through the real Redis (issue 14,
item 8), on SQLite and PostgreSQL. Two ``create_app()`` on one store and one Redis stand for two
worker processes (each has its own key cache and event loop, as uvicorn workers do); each test
uses a Redis key prefix of its own. Without Redis the same two apps keep today's per-process
behaviour, shown here too so the difference is measured, not assumed."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.accounts import accounts_of
from api.limits import RedisLimits
from api.main import create_app
from matching.cli import app as cli_app

pytestmark = pytest.mark.redis
PW = "a long enough password"


def _apps(db: Any, fake_matcher_cls: Any, redis_target: Any | None, **kw: Any) -> tuple[TestClient, TestClient]:
    extra: dict[str, Any] = dict(password_time_cost=1, password_memory_kib=1024, signin_per_minute=0)
    if redis_target is not None:
        extra.update(redis_url=redis_target.url, redis_prefix=redis_target.prefix)
    extra.update(kw)
    return tuple(TestClient(create_app(db.settings(**extra), matcher=fake_matcher_cls()),  # type: ignore[return-value]
                            base_url="http://127.0.0.1", raise_server_exceptions=False) for _ in range(2))


def _key(db: Any, name: str = "erp", org: str = "AD") -> tuple[str, str]:
    store = db.store()
    store.create_all()
    token, p = store.create_key(name, org)
    store.dispose()
    return token, p.key_id


def _h(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_two_processes_share_one_quota(db, fake_matcher_cls, redis_target) -> None:  # type: ignore[no-untyped-def]
    token, _ = _key(db)
    a, b = _apps(db, fake_matcher_cls, redis_target, rate_limit_per_minute=6, rate_limit_burst=4)
    with a, b:
        assert a.get("/ready").json()["limits"] == "redis" and b.get("/ready").json()["limits"] == "redis"
        codes = [(a if i % 2 == 0 else b).get("/v1/boms", headers=_h(token)).status_code for i in range(6)]
        assert codes == [200, 200, 200, 200, 429, 429]  # 4 in all, not 4 per process
        r = b.get("/v1/boms", headers=_h(token))
        assert r.status_code == 429 and 1 <= int(r.headers["retry-after"]) <= 10


def test_without_redis_each_process_has_its_own_quota(db, fake_matcher_cls) -> None:  # type: ignore[no-untyped-def]
    token, _ = _key(db)
    a, b = _apps(db, fake_matcher_cls, None, rate_limit_per_minute=6, rate_limit_burst=2)
    with a, b:
        assert a.get("/ready").json()["limits"] == "process"
        codes = [(a if i % 2 == 0 else b).get("/v1/boms", headers=_h(token)).status_code for i in range(6)]
        assert codes == [200, 200, 200, 200, 429, 429]  # burst 2 in each process: twice the quota


def _admin_revoke(c: TestClient, key_id: str) -> Any:
    accounts_of(c.app).create("admin@ad.fr", PW, role="admin")
    csrf = re.search(r'name="csrf" value="([^"]+)"', c.get("/signin").text).group(1)  # type: ignore[union-attr]
    r = c.post("/signin", data={"csrf": csrf, "email": "admin@ad.fr", "password": PW, "next": "/admin"},
               follow_redirects=False)
    assert r.status_code == 303, r.text
    page = c.get("/admin")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    return c.post(f"/admin/keys/{key_id}/revoke", data={"csrf": csrf})


def test_a_key_revoked_through_one_process_is_refused_by_the_other_at_once(  # type: ignore[no-untyped-def]
        db, fake_matcher_cls, redis_target) -> None:
    token, key_id = _key(db)
    a, b = _apps(db, fake_matcher_cls, redis_target, rate_limit_per_minute=0)
    with a, b:
        assert b.get("/v1/boms", headers=_h(token)).status_code == 200  # b now holds the key in its cache
        assert b.app.state.key_cache.get(token) is not None
        r = _admin_revoke(a, key_id)
        assert r.status_code == 200 and re.search(rf'data-key="{key_id}">.*?révoquée', r.text, re.S)
        r = b.get("/v1/boms", headers=_h(token))
        assert r.status_code == 401 and "revoked" in r.json()["detail"]
        assert a.get("/v1/boms", headers=_h(token)).status_code == 401
        revokes = [x for x in a.app.state.store.list_audit() if x["action"] == "key.revoke"]
        assert [x["target"] for x in revokes] == [key_id]
        assert revokes[0]["actor"] != "cli" and revokes[0]["actor"].endswith(accounts_of(a.app).get("admin@ad.fr").id)


def test_without_redis_another_process_keeps_a_revoked_key_until_its_cache_expires(  # type: ignore[no-untyped-def]
        db, fake_matcher_cls) -> None:
    token, key_id = _key(db)
    a, b = _apps(db, fake_matcher_cls, None, rate_limit_per_minute=0)
    with a, b:
        assert b.get("/v1/boms", headers=_h(token)).status_code == 200
        assert _admin_revoke(a, key_id).status_code == 200
        assert a.get("/v1/boms", headers=_h(token)).status_code == 401  # the revoking process: at once
        assert b.get("/v1/boms", headers=_h(token)).status_code == 200  # the other: its cache (30 s) still has it
        b.app.state.key_cache.clear()
        assert b.get("/v1/boms", headers=_h(token)).status_code == 401


def test_cli_revocation_reaches_running_processes_through_redis(  # type: ignore[no-untyped-def]
        db, fake_matcher_cls, redis_target, monkeypatch) -> None:
    token, key_id = _key(db)
    a, b = _apps(db, fake_matcher_cls, redis_target, rate_limit_per_minute=0)
    with a, b:
        assert a.get("/v1/boms", headers=_h(token)).status_code == 200
        monkeypatch.setenv("RELOCMATCH_REDIS_URL", redis_target.url)
        monkeypatch.setenv("RELOCMATCH_REDIS_PREFIX", redis_target.prefix)
        if db.schema:
            monkeypatch.setenv("RELOCMATCH_DATABASE_SCHEMA", db.schema)
        out = CliRunner().invoke(cli_app, ["keys", "revoke", f"rmk_{key_id}", "--database-url", db.url])
        assert out.exit_code == 0, out.output
        assert f"revoked key {key_id}" in out.stdout and "Redis" in out.stdout
        assert a.get("/v1/boms", headers=_h(token)).status_code == 401  # cached, yet refused
        assert b.get("/v1/boms", headers=_h(token)).status_code == 401


def test_unreachable_redis_refuses_keyed_requests_and_ready_says_so(db, fake_matcher_cls, redis_target) -> None:  # type: ignore[no-untyped-def]
    token, _ = _key(db)
    dead = type(redis_target)("redis://127.0.0.1:1/0", redis_target.prefix)  # nothing listens on port 1
    a, _b = _apps(db, fake_matcher_cls, dead)
    with a:
        r = a.get("/ready")
        assert r.status_code == 503 and r.json()["limits"] == "redis" and "Redis" in r.json()["detail"]
        r = a.get("/v1/boms", headers=_h(token))
        assert r.status_code == 503 and "Redis" in r.json()["detail"]


def test_the_bucket_is_atomic_under_concurrent_takes(redis_target) -> None:  # type: ignore[no-untyped-def]
    """50 requests at once from two clients on one bucket of burst 10 (and a refill far slower
    than the test): exactly 10 pass, whatever the interleaving."""

    async def run() -> list[bool]:
        lims = [RedisLimits(redis_target.url, redis_target.prefix, 0.01, 10) for _ in range(2)]
        for lim in lims:
            await lim.open()
        try:
            got = await asyncio.gather(*(lims[i % 2].admit("k1") for i in range(50)))
        finally:
            for lim in lims:
                await lim.close()
        return [g.wait_s is None for g in got]

    allowed = asyncio.run(run())
    assert sum(allowed) == 10 and len(allowed) == 50


def test_sign_in_attempts_are_counted_across_processes(db, fake_matcher_cls, redis_target) -> None:  # type: ignore[no-untyped-def]
    a, b = _apps(db, fake_matcher_cls, redis_target, signin_per_minute=2)

    def attempt(c: TestClient) -> int:
        csrf = re.search(r'name="csrf" value="([^"]+)"', c.get("/signin").text).group(1)  # type: ignore[union-attr]
        return c.post("/signin", data={"csrf": csrf, "email": "x@ad.fr", "password": "wrong password!!"},
                      follow_redirects=False).status_code

    with a, b:
        assert [attempt(a), attempt(b), attempt(a), attempt(b)] == [401, 401, 429, 429]


def test_the_environment_chooses_shared_or_per_process_limits() -> None:
    from api.limits import ProcessLimits, limits_for
    from api.settings import Settings

    env = {"RELOCMATCH_REDIS_URL": "redis://127.0.0.1:6379/0", "RELOCMATCH_REDIS_PREFIX": "agency-a"}
    shared = limits_for(Settings.from_env(env))
    assert isinstance(shared, RedisLimits) and (shared.kind, shared.prefix) == ("redis", "agency-a")
    assert isinstance(limits_for(Settings.from_env({})), ProcessLimits)
    with pytest.raises(ValueError, match="redis_prefix"):
        Settings.from_env({"RELOCMATCH_REDIS_PREFIX": "bad prefix*"})
