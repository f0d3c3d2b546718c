"""Concurrent POST /v1/match requests coalesced into one engine call (api/batcher.py).

Through the real app: requests that arrive while the engine is busy go in the next call
together, each still gets exactly its own lines back; different options are never mixed.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import Settings


@pytest.fixture
def client_for(tmp_path: Path, sqlite_key: Any) -> Any:
    url, key = sqlite_key(tmp_path, "batch")

    def make(matcher: Any, **kw: Any) -> tuple[TestClient, dict[str, str]]:
        settings = Settings(database_url=url, catalog="/nonexistent", rate_limit_per_minute=0, **kw)
        return TestClient(create_app(settings, matcher=matcher), raise_server_exceptions=False), {"Authorization": f"Bearer {key}"}

    return make


def _post_while_engine_busy(c: TestClient, h: dict[str, str], matcher: Any, gate: threading.Event,
                            bodies: list[dict[str, Any]]) -> list[Any]:
    """First body occupies the engine (held at the gate); the others queue; then the gate opens."""
    with ThreadPoolExecutor(len(bodies)) as pool:
        first = pool.submit(c.post, "/v1/match", json=bodies[0], headers=h)
        assert matcher.started.wait(10)
        rest = [pool.submit(c.post, "/v1/match", json=b, headers=h) for b in bodies[1:]]
        batcher = c.app.state.batcher
        end = time.monotonic() + 10
        while batcher._queue.qsize() < len(bodies) - 1 and time.monotonic() < end:
            time.sleep(0.01)
        gate.set()
        return [f.result(timeout=30) for f in [first, *rest]]


def test_waiting_requests_share_one_engine_call_and_get_their_own_lines(client_for, fake_matcher_cls) -> None:
    gate = threading.Event()
    matcher = fake_matcher_cls(gate=gate)
    c, h = client_for(matcher, batch_max_lines=64)
    bodies = [{"lines": [{"description": f"pièce {i}-{j}"} for j in range(i % 3 + 1)]} for i in range(6)]
    with c:
        responses = _post_while_engine_busy(c, h, matcher, gate, bodies)
        batcher = c.app.state.batcher
        assert [r.status_code for r in responses] == [200] * 6
        for body, r in zip(bodies, responses, strict=True):
            got = [ln["input"]["description"] for ln in r.json()["lines"]]
            assert got == [ln["description"] for ln in body["lines"]]
            assert [ln["line"] for ln in r.json()["lines"]] == list(range(1, len(body["lines"]) + 1))
            assert r.json()["summary"]["lines"] == len(body["lines"])
        # the first request alone, then the five that queued behind it in ONE call
        assert (matcher.calls, batcher.calls, batcher.requests) == (2, 2, 6)


def test_different_options_and_the_line_cap_split_batches(client_for, fake_matcher_cls) -> None:
    gate = threading.Event()
    matcher = fake_matcher_cls(gate=gate)
    c, h = client_for(matcher, batch_max_lines=4)
    one = {"lines": [{"description": "vis"}]}
    bodies = [one, {**one, "top": 1}, {**one, "top": 2}, one, one, {"lines": [{"description": "écrou"}] * 3}]
    with c:
        responses = _post_while_engine_busy(c, h, matcher, gate, bodies)
        assert [r.status_code for r in responses] == [200] * 6
        assert [len(r.json()["lines"][0]["suppliers"]) for r in responses] == [3, 1, 2, 3, 3, 3]
        # alone; then the two default-option 1-line requests (+3 lines would pass the cap of 4);
        # then top=1, top=2 and the 3-line request, each in a call of its own
        assert c.app.state.batcher.calls == 5


def test_coalescing_off_makes_one_call_per_request(client_for, fake_matcher_cls) -> None:
    gate = threading.Event()
    matcher = fake_matcher_cls(gate=gate)
    c, h = client_for(matcher, batch_max_lines=1)
    with c:
        responses = _post_while_engine_busy(c, h, matcher, gate, [{"lines": [{"description": "vis"}]}] * 4)
        assert [r.status_code for r in responses] == [200] * 4
        assert c.app.state.batcher.calls == 4


def test_engine_errors_reach_every_request_of_the_batch_without_internals(client_for, fake_matcher_cls) -> None:
    c, h = client_for(fake_matcher_cls(fail=True))
    with c, ThreadPoolExecutor(4) as pool:
        rs = list(pool.map(lambda _: c.post("/v1/match", json={"lines": [{"description": "vis"}]}, headers=h), range(4)))
    assert [r.status_code for r in rs] == [500] * 4
    assert all("secret" not in r.text for r in rs)
