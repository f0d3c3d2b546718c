"""Reads through the advisor pages are audited like the API's (issue 14, item 9): a BOM's results
page, its export, an upload's preview; a refused read writes nothing. SQLite and PostgreSQL, real
app, FakeMatcher (this is about the log, not matching)."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.accounts import accounts_of
from api.main import create_app

PW = "a long enough password"


@pytest.fixture
def setup(db, fake_matcher_cls):  # type: ignore[no-untyped-def]
    store = db.store()
    store.create_all()
    alice, pa = store.create_key("alice", "org-a")
    bob, pb = store.create_key("bob", "org-b")
    store.dispose()
    app = create_app(db.settings(rate_limit_per_minute=0, password_time_cost=1, password_memory_kib=1024,
                                 signin_per_minute=0), matcher=fake_matcher_cls())
    with TestClient(app, base_url="http://127.0.0.1", raise_server_exceptions=False) as c:
        yield c, (alice, pa), (bob, pb)


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]


def _sign_in(c: TestClient, **form: str) -> None:
    c.cookies.clear()
    r = c.post("/signin", data={"csrf": _csrf(c.get("/signin").text), "next": "/boms", **form}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/boms", r.text


def _done_job(c: TestClient, token: str) -> str:
    h = {"Authorization": f"Bearer {token}"}
    job = c.post("/v1/boms", json={"lines": [{"description": "roulements à billes"}]}, headers=h).json()["id"]
    for _ in range(600):
        if c.get(f"/v1/boms/{job}?results=false", headers=h).json()["status"] == "done":
            return job
        time.sleep(0.05)
    raise AssertionError("job not done")


def _lines(c: TestClient, target: str) -> list[dict[str, Any]]:
    return [e for e in c.app.state.store.list_audit(target=target) if e["action"] in ("read", "export")]


def test_results_page_and_export_write_audit_lines_like_the_api(setup) -> None:  # type: ignore[no-untyped-def]
    c, (alice, pa), (bob, _) = setup
    job = _done_job(c, alice)
    _sign_in(c, key=bob)  # another organisation: not found, nothing read, no line
    assert c.get(f"/boms/{job}").status_code == 404
    assert c.get(f"/boms/{job}/export.csv").status_code == 404
    assert _lines(c, job) == []
    _sign_in(c, key=alice)
    assert c.get(f"/boms/{job}").status_code == 200
    assert c.get(f"/boms/{job}/export.xlsx").status_code == 200
    got = _lines(c, job)
    assert [(e["action"], e["actor"], e["org"], e["key_id"]) for e in got] == [
        ("read", f"key:{pa.key_id}", "org-a", pa.key_id), ("export", f"key:{pa.key_id}", "org-a", pa.key_id)]
    assert got[0]["detail"]["via"] == "page" and got[1]["detail"] == {"via": "page", "format": "xlsx"}


def test_an_account_reading_a_colleague_bom_is_logged_as_the_account(setup) -> None:  # type: ignore[no-untyped-def]
    c, (alice, _), _ = setup
    job = _done_job(c, alice)
    adv = accounts_of(c.app).create("adv@org-a.fr", PW, role="advisor", org="org-a")
    _sign_in(c, email="adv@org-a.fr", password=PW)
    assert c.get(f"/boms/{job}").status_code == 200
    (line,) = _lines(c, job)
    assert (line["action"], line["actor"], line["org"]) == ("read", f"user:{adv.id}", "org-a")


def test_an_upload_preview_is_a_read_of_the_upload(setup) -> None:  # type: ignore[no-untyped-def]
    c, (alice, pa), _ = setup
    _sign_in(c, key=alice)
    csrf = _csrf(c.get("/boms/new").text)
    r = c.post("/boms/new", data={"csrf": csrf, "region": "44"},
               files={"file": ("achats.csv", "Désignation;Quantité\nroulements à billes;4\n".encode(), "text/csv")},
               follow_redirects=False)
    assert r.status_code == 303, r.text
    pid = re.search(r"/boms/uploads/([0-9a-f]{32})", r.headers["location"]).group(1)  # type: ignore[union-attr]
    assert c.get(r.headers["location"]).status_code == 200
    (line,) = _lines(c, pid)
    assert (line["action"], line["actor"], line["detail"]) == ("read", f"key:{pa.key_id}", {"via": "page",
                                                                                             "upload": "preview"})
