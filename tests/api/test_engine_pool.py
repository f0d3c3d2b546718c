"""Engine processes (api/engine_pool.py) behind POST /v1/match, with the real IREP catalog.

The processes load the catalog and the model themselves (spawned, not forked); a killed
one fails its batch with a 503 and Retry-After, and the pool comes back by itself.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.batcher import MatchBatcher
from api.main import create_app
from api.settings import Settings

LINES = [{"description": "roulements à billes", "code": "8482.10"}, {"description": "carton ondulé"},
         {"description": "Kugellager"}, {"description": "granulés de polypropylène"}]


def test_idle_engine_threads_never_hold_back_a_result() -> None:
    """With two engine threads, one waits for the next request while holding the batch lock: the
    other must still hand its result over (a lock shared with the statistics once hung the last
    requests of a run until a new request came)."""
    batcher = MatchBatcher(lambda m, groups, options, deadline: [{"n": len(g)} for g in groups], engines=2)

    async def one_after_another() -> list[dict[str, Any]]:
        return [await batcher.match(None, [object()] * k, {}, timeout_s=5) for k in (1, 2, 3)]  # type: ignore[list-item]

    try:
        assert asyncio.run(one_after_another()) == [{"n": 1}, {"n": 2}, {"n": 3}]
    finally:
        batcher.close()


@pytest.fixture(scope="module")
def pool_app(irep_catalog_dir: Path, tmp_path_factory: pytest.TempPathFactory, sqlite_key: Any) -> Any:
    url, key = sqlite_key(tmp_path_factory.mktemp("pool"), "pool")
    settings = Settings(database_url=url, catalog=str(irep_catalog_dir), rate_limit_per_minute=0, engine_processes=2,
                        sync_timeout_s=120)
    with TestClient(create_app(settings), raise_server_exceptions=False) as c:
        yield c, {"Authorization": f"Bearer {key}"}


@pytest.mark.model
def test_engine_processes_give_what_the_in_process_engine_gives(pool_app, matcher) -> None:  # type: ignore[no-untyped-def]
    from api import engine

    c, h = pool_app
    assert c.app.state.engine_pool is not None and c.app.state.engine_pool.processes == 2
    with ThreadPoolExecutor(8) as pool:
        rs = list(pool.map(lambda i: c.post("/v1/match", json={"lines": [LINES[i % 4]], "region": "44"}, headers=h),
                           range(16)))
    assert [r.status_code for r in rs] == [200] * 16
    want = {}
    for i, ln in enumerate(LINES):
        ref = engine.match_groups(matcher, [engine.lines_from_wire([ln])], {"region": "44"})[0]
        want[i] = [s["siret"] for s in ref["lines"][0]["suppliers"]]
        assert want[i], ln
    for i, r in enumerate(rs):
        got = r.json()["lines"][0]
        assert got["input"]["description"] == LINES[i % 4]["description"]
        assert [s["siret"] for s in got["suppliers"]] == want[i % 4]


@pytest.mark.model
def test_a_killed_engine_process_gives_503_then_the_pool_comes_back(pool_app) -> None:  # type: ignore[no-untyped-def]
    c, h = pool_app
    pool = c.app.state.engine_pool
    assert c.post("/v1/match", json={"lines": LINES[:1]}, headers=h).status_code == 200
    victim = next(iter(pool._executor._processes))
    os.kill(victim, signal.SIGKILL)
    end = time.monotonic() + 10
    r = c.post("/v1/match", json={"lines": LINES[:1]}, headers=h)
    while r.status_code == 200 and time.monotonic() < end:  # the pool notices the death asynchronously
        time.sleep(0.2)
        r = c.post("/v1/match", json={"lines": LINES[:1]}, headers=h)
    assert r.status_code == 503 and r.headers["retry-after"] == "5"
    assert "restarting" in r.json()["detail"] and "Traceback" not in r.text
    r = c.post("/v1/match", json={"lines": LINES[:2]}, headers=h)  # served by the new processes
    assert r.status_code == 200 and len(r.json()["lines"]) == 2
    assert victim not in pool._executor._processes


def test_with_two_engines_a_batch_takes_its_share_of_what_waits() -> None:
    """Both engines busy, ten one-line requests waiting: the first engine to be free takes five,
    the other the remaining five (not ten and then nothing), so the two batches run side by side."""
    import threading

    gate, holding, sizes = threading.Event(), [], []

    def groups_fn(_m: Any, groups: list, _o: dict, _d: float) -> list[dict[str, Any]]:
        if groups[0][0] == "hold":
            holding.append(1)
            gate.wait(10)
        else:
            sizes.append(len(groups))
        return [{"n": len(g)} for g in groups]

    batcher = MatchBatcher(groups_fn, engines=2)

    async def scenario() -> list[dict[str, Any]]:
        holds = [asyncio.ensure_future(batcher.match(None, ["hold"], {}, 10)) for _ in range(2)]  # type: ignore[list-item]
        while len(holding) < 2:  # both engine threads inside a call
            await asyncio.sleep(0.01)
        waiting = [asyncio.ensure_future(batcher.match(None, [f"l{i}"], {}, 10)) for i in range(10)]  # type: ignore[list-item]
        while batcher._queue.qsize() < 10:
            await asyncio.sleep(0.01)
        gate.set()
        return await asyncio.gather(*holds, *waiting)

    try:
        assert asyncio.run(scenario()) == [{"n": 1}] * 12
    finally:
        batcher.close()
    assert sorted(sizes) == [5, 5]
