"""Service mechanics through the real app (TestClient), on SQLite and PostgreSQL.

These use the FakeMatcher (tests/api/conftest.py) because they are about auth, limits,
errors and job durability, not about matching quality; test_app_real.py covers every
endpoint with the real Matcher over the real IREP catalog.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import threading
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from api.main import create_app
from api.settings import Settings

LINE = {"description": "roulements à billes", "code": "8482.10"}


def wait_for(client: TestClient, url: str, headers: dict[str, str], statuses: set[str], timeout: float = 30) -> dict:
    end = time.monotonic() + timeout
    while True:
        r = client.get(url, headers=headers)
        assert r.status_code == 200, r.text
        body = r.json()
        if body["status"] in statuses:
            return body
        if time.monotonic() > end:
            raise AssertionError(f"job still {body['status']} after {timeout}s: {body}")
        time.sleep(0.05)


@pytest.fixture
def setup(db, fake_matcher_cls, key_for):  # type: ignore[no-untyped-def]
    store = db.store()
    store.create_all()
    keys = [key_for(store, "alice", "org-a"), key_for(store, "bob", "org-b")]
    store.dispose()

    def make(matcher: Any = None, **kw: Any) -> TestClient:
        app = create_app(db.settings(**kw), matcher=matcher or fake_matcher_cls())
        return TestClient(app, raise_server_exceptions=False)

    return make, keys


def test_keys_required_and_second_key_gets_404(setup, bearer) -> None:  # type: ignore[no-untyped-def]
    make, (ka, kb) = setup
    with make() as c:
        r = c.post("/v1/match", json={"lines": [LINE]})
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
        assert c.post("/v1/match", json={"lines": [LINE]}, headers=bearer("rmk_x.y")).status_code == 401
        r = c.post("/v1/boms", json={"lines": [LINE, LINE]}, headers=bearer(ka))
        assert r.status_code == 202, r.text
        job = r.json()
        assert r.headers["location"] == f"/v1/boms/{job['id']}" and job["progress"]["total"] == 2
        done = wait_for(c, r.headers["location"], bearer(ka), {"done"})
        assert done["result"]["lines"][0]["suppliers"][0]["siret"] == "12345678900000"
        for method, url in (("GET", f"/v1/boms/{job['id']}"), ("GET", f"/v1/boms/{job['id']}/export?format=csv"),
                            ("DELETE", f"/v1/boms/{job['id']}")):
            r = c.request(method, url, headers=bearer(kb))
            assert r.status_code == 404, (method, url, r.text)
            assert job["id"] in r.json()["detail"]
        r = c.post("/v1/feedback", json={"siret": "12345678900000", "label": "relevant", "job_id": job["id"], "line": 1},
                   headers=bearer(kb))
        assert r.status_code == 404
        assert c.get("/v1/boms", headers=bearer(kb)).json()["jobs"] == []
        assert [j["id"] for j in c.get("/v1/boms", headers=bearer(ka)).json()["jobs"]] == [job["id"]]
        # the owner still has everything
        assert c.get(f"/v1/boms/{job['id']}/export?format=json", headers=bearer(ka)).status_code == 200
        assert c.delete(f"/v1/boms/{job['id']}", headers=bearer(ka)).status_code == 204
        assert c.get(f"/v1/boms/{job['id']}", headers=bearer(ka)).status_code == 404


def test_rate_limit_answers_429_with_retry_after(setup, bearer) -> None:  # type: ignore[no-untyped-def]
    make, (ka, kb) = setup
    with make(rate_limit_per_minute=6, rate_limit_burst=2) as c:
        codes = [c.get("/v1/boms", headers=bearer(ka)).status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        r = c.get("/v1/boms", headers=bearer(ka))
        assert r.status_code == 429 and 1 <= int(r.headers["retry-after"]) <= 10
        assert "6 requests/minute" in r.json()["detail"]
        assert c.get("/v1/boms", headers=bearer(kb)).status_code == 200  # per key


async def _asgi_call(app: Any, path: str, headers: list[tuple[bytes, bytes]], chunks: list[bytes]) -> tuple[int, int]:
    """Drive the ASGI app directly with a streamed body; returns (status, chunks the app pulled)."""
    pulled = 0
    status: list[int] = []

    async def receive() -> dict:
        nonlocal pulled
        if pulled < len(chunks):
            pulled += 1
            return {"type": "http.request", "body": chunks[pulled - 1], "more_body": pulled < len(chunks)}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "", "headers": headers,
             "client": ("127.0.0.1", 1234), "server": ("127.0.0.1", 80), "state": {}}
    await asyncio.wait_for(app(scope, receive, send), 10)
    return status[0], pulled


def test_oversized_upload_is_refused_before_it_is_read(setup, bearer) -> None:  # type: ignore[no-untyped-def]
    make, (ka, _) = setup
    with make(max_upload_bytes=10_000, max_request_bytes=5_000) as c:
        app = c.app
        hdr = [(b"authorization", f"Bearer {ka}".encode()), (b"content-type", b"multipart/form-data; boundary=xx")]
        # declared too big: refused without pulling a single byte
        status, pulled = asyncio.run(_asgi_call(app, "/v1/boms", hdr + [(b"content-length", b"50000000")], [b"x" * 1000] * 50))
        assert (status, pulled) == (413, 0)
        # chunked (no length): cut off as soon as the limit is crossed, long before the end
        head = b'--xx\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\nContent-Type: text/csv\r\n\r\n'
        status, pulled = asyncio.run(_asgi_call(app, "/v1/boms", hdr, [head] + [b"x;" * 500] * 1000))
        assert status == 413 and pulled <= 11
        # the same through HTTP, with the limit in the message
        r = c.post("/v1/boms", files={"file": ("big.csv", b"a;b\n" * 5000)}, headers=bearer(ka))
        assert r.status_code == 413 and "10000 bytes" in r.json()["detail"]
        r = c.post("/v1/match", json={"lines": [{"description": "x" * 1500}] * 4}, headers=bearer(ka))
        assert r.status_code == 413 and "5000 bytes" in r.json()["detail"]


def test_line_and_row_limits_point_to_the_job_endpoint(setup, bearer) -> None:  # type: ignore[no-untyped-def]
    make, (ka, _) = setup
    with make(max_sync_lines=2, max_bom_rows=3) as c:
        r = c.post("/v1/match", json={"lines": [LINE] * 3}, headers=bearer(ka))
        assert r.status_code == 413 and "limit of 2 lines" in r.json()["detail"] and "/v1/boms" in r.json()["detail"]
        assert c.post("/v1/match", json={"lines": [LINE] * 2}, headers=bearer(ka)).status_code == 200
        r = c.post("/v1/boms", json={"lines": [LINE] * 4}, headers=bearer(ka))
        assert r.status_code == 413 and "limit of 3 lines" in r.json()["detail"]
        body = "description;code\n" + "".join(f"vis {i};7318\n" for i in range(4))
        r = c.post("/v1/boms", files={"file": ("b.csv", body.encode())}, headers=bearer(ka))
        assert r.status_code == 413 and "limit of 3 lines" in r.json()["detail"]


def test_slow_sync_match_times_out_towards_jobs(setup, bearer, fake_matcher_cls) -> None:  # type: ignore[no-untyped-def]
    make, (ka, _) = setup
    gate = threading.Event()
    try:
        with make(fake_matcher_cls(gate=gate), sync_timeout_s=0.3) as c:
            r = c.post("/v1/match", json={"lines": [LINE]}, headers=bearer(ka))
            assert r.status_code == 504 and "POST /v1/boms" in r.json()["detail"]
    finally:
        gate.set()


def test_errors_never_leak_internals_and_carry_request_ids(setup, bearer, fake_matcher_cls) -> None:  # type: ignore[no-untyped-def]
    make, (ka, _) = setup
    with make(fake_matcher_cls(fail=True)) as c:
        r = c.post("/v1/match", json={"lines": [LINE]}, headers={**bearer(ka), "X-Request-ID": "req-42"})
        assert r.status_code == 500
        assert r.headers["x-request-id"] == "req-42" and r.json()["request_id"] == "req-42"
        assert "secret" not in r.text and "Traceback" not in r.text and "RuntimeError" not in r.text
        r = c.get("/health")
        assert r.status_code == 200 and len(r.headers["x-request-id"]) == 32  # generated when absent
        # a job whose matching crashes fails with a reason that does not leak either
        job = c.post("/v1/boms", json={"lines": [LINE]}, headers=bearer(ka)).json()
        failed = wait_for(c, f"/v1/boms/{job['id']}", bearer(ka), {"failed"})
        assert failed["error"].startswith("internal error") and "secret" not in failed["error"]


def test_validation_errors_name_the_field(setup, bearer) -> None:  # type: ignore[no-untyped-def]
    make, (ka, _) = setup
    with make() as c:
        r = c.post("/v1/match", json={"lines": [LINE, {"description": "x", "annual_value_eur": -5}]}, headers=bearer(ka))
        assert r.status_code == 422
        err = r.json()["detail"][0]
        assert err["loc"] == ["body", "lines", 1, "annual_value_eur"] and err["field"] == "lines.1.annual_value_eur"
        r = c.post("/v1/boms", json={"lines": [{"descrption": "typo"}]}, headers=bearer(ka))
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "lines", 0, "descrption"]
        r = c.post("/v1/boms", files={"file": ("b.csv", b"description\nvis\n")}, data={"region": "Grand Est"},
                   headers=bearer(ka))
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "region"]
        r = c.post("/v1/match", json={"lines": [LINE], "region": "99"}, headers=bearer(ka))
        # not a région: refused by the schema (the known INSEE régions), naming the field
        assert r.status_code == 422 and r.json()["detail"][0]["field"] == "region"
        assert c.post("/v1/boms", content=b"x", headers={**bearer(ka), "content-type": "text/plain"}).status_code == 415


def test_keyless_mode_is_explicit_and_loopback_only(db, fake_matcher_cls) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError, match="loopback"):
        Settings(auth="none", host="0.0.0.0")
    with pytest.raises(ValidationError, match="loopback"):
        db.settings(auth="none", host="192.168.1.10")
    assert Settings().auth == "keys"  # keys by default
    with TestClient(create_app(db.settings(auth="none", host="::1"), matcher=fake_matcher_cls())) as c:
        r = c.post("/v1/match", json={"lines": [LINE]})
        assert r.status_code == 200 and r.json()["lines"][0]["status"] == "matched"


def test_stopped_service_hands_its_job_back_and_the_next_one_finishes_it(db, fake_matcher_cls, key_for, bearer) -> None:  # type: ignore[no-untyped-def]
    """Graceful stop mid-job (the matcher is stuck): the job goes back to the queue, the next
    service finishes it, and the old runner's late result is discarded. (Crashes: test_crash_recovery.py.)"""
    store = db.store()
    store.create_all()
    key = key_for(store, "alice")
    gate = threading.Event()
    stuck = fake_matcher_cls(gate=gate)
    try:
        with TestClient(create_app(db.settings(), matcher=stuck)) as c1:
            job = c1.post("/v1/boms", json={"lines": [LINE, LINE, LINE]}, headers=bearer(key)).json()
            assert stuck.started.wait(10)
            assert c1.get(f"/v1/boms/{job['id']}", headers=bearer(key)).json()["status"] == "running"
        j = store.get_job(job["id"])
        assert (j.status, j.attempts, j.worker_id) == ("queued", 0, None)
        with TestClient(create_app(db.settings(), matcher=fake_matcher_cls())) as c2:
            done = wait_for(c2, f"/v1/boms/{job['id']}", bearer(key), {"done", "failed"}, timeout=30)
            assert done["status"] == "done" and done["attempts"] == 1, done
            assert len(done["result"]["lines"]) == 3
            gate.set()  # the old runner wakes up: its late result must not overwrite anything
            time.sleep(0.5)
            again = c2.get(f"/v1/boms/{job['id']}", headers=bearer(key)).json()
            assert again["status"] == "done" and again["finished_at"] == done["finished_at"]
        audit = [a["action"] for a in store.list_audit(target=job["id"])]
        assert [a for a in audit if a != "read"] == ["upload", "job.released"] and "read" in audit
    finally:
        gate.set()
        store.dispose()


def test_exports_neutralise_formula_cells(setup, bearer) -> None:  # type: ignore[no-untyped-def]
    make, (ka, _) = setup
    evil = '=HYPERLINK("http://evil.example","clic")'
    with make() as c:
        job = c.post("/v1/boms", json={"lines": [{"description": evil}, {"description": "@SUM(A1:A2)"}]},
                     headers=bearer(ka)).json()
        wait_for(c, f"/v1/boms/{job['id']}", bearer(ka), {"done"})
        r = c.get(f"/v1/boms/{job['id']}/export?format=csv", headers=bearer(ka))
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
        descs = {row["description"] for row in rows}
        assert descs == {"'" + evil, "'@SUM(A1:A2)"}
        r = c.get(f"/v1/boms/{job['id']}/export?format=xlsx", headers=bearer(ka))
        from openpyxl import load_workbook

        ws = load_workbook(io.BytesIO(r.content)).active
        header = [cell.value for cell in ws[1]]
        col = header.index("description")
        cells = [row[col] for row in ws.iter_rows(min_row=2)]
        assert {cell.value for cell in cells} == {"'" + evil, "'@SUM(A1:A2)"}
        assert all(cell.data_type == "s" for cell in cells)  # text, never a formula
        r = c.get(f"/v1/boms/{job['id']}/export?format=json", headers=bearer(ka))
        assert json.loads(r.content)["lines"][0]["input"]["description"] == evil  # JSON keeps the data as is
        # a file name outside latin-1 still gives a valid download name (RFC 5987)
        r = c.post("/v1/boms", files={"file": ('部品表"; x=1.csv', "description\nvis M6\n".encode())}, headers=bearer(ka))
        assert r.status_code == 202, r.text
        wait_for(c, r.headers["location"], bearer(ka), {"done"})
        r = c.get(r.headers["location"] + "/export?format=csv", headers=bearer(ka))
        assert r.status_code == 200
        cd = r.headers["content-disposition"]
        assert cd.startswith('attachment; filename="') and "filename*=UTF-8''%E9%83%A8" in cd and cd.count('"') == 2
