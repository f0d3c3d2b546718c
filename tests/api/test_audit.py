"""Audit log: the routes and the store write who did what to which object; admins read it.
On SQLite and PostgreSQL, through the real app (FakeMatcher: this is about the log, not matching)."""

from __future__ import annotations

import time
import pytest
from fastapi.testclient import TestClient

from api.main import create_app

LINE = {"description": "roulements à billes", "code": "8482.10"}


@pytest.fixture
def client(db, fake_matcher_cls):  # type: ignore[no-untyped-def]
    store = db.store()
    store.create_all()
    alice, pa = store.create_key("alice", "org-a")
    bob, pb = store.create_key("bob", "org-b")
    admin, padm = store.create_key("ops", None, admin=True)
    store.dispose()
    with TestClient(create_app(db.settings(), matcher=fake_matcher_cls()), raise_server_exceptions=False) as c:
        yield c, {"alice": (alice, pa), "bob": (bob, pb), "admin": (admin, padm)}


def _h(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _done(c: TestClient, job_id: str, h: dict[str, str]) -> None:
    for _ in range(600):
        if c.get(f"/v1/boms/{job_id}?results=false", headers=h).json()["status"] == "done":
            return
        time.sleep(0.05)
    raise AssertionError("job not done")


def test_every_action_is_logged_with_who_what_when_and_only_admins_read_it(client) -> None:  # type: ignore[no-untyped-def]
    c, keys = client
    (ka, pa), (kb, _), (kadm, _) = keys["alice"], keys["bob"], keys["admin"]
    job = c.post("/v1/boms", json={"lines": [LINE]}, headers=_h(ka)).json()["id"]
    _done(c, job, _h(ka))  # status polls without results: not reads
    assert c.get(f"/v1/boms/{job}", headers=_h(ka)).status_code == 200  # the results: a read
    assert c.get(f"/v1/boms/{job}/export?format=csv", headers=_h(ka)).status_code == 200
    assert c.get(f"/v1/boms/{job}", headers=_h(kb)).status_code == 404  # not bob's: nothing read, no line
    fb = c.post("/v1/feedback", json={"siret": "12345678900000", "label": "relevant", "job_id": job, "line": 1},
                headers=_h(ka))
    assert fb.status_code == 201
    assert c.delete(f"/v1/boms/{job}", headers=_h(ka)).status_code == 204

    r = c.get("/v1/audit", headers=_h(kb))
    assert r.status_code == 403 and "admin" in r.json()["detail"]
    assert c.get("/v1/audit").status_code == 401
    r = c.get("/v1/audit", params={"actor": f"key:{pa.key_id}"}, headers=_h(kadm))
    assert r.status_code == 200, r.text
    entries = r.json()["entries"]
    assert [(e["action"], e["target"]) for e in reversed(entries)] == [
        ("upload", job), ("read", job), ("export", job), ("feedback", fb.json()["id"]), ("delete", job)]
    assert {(e["actor"], e["org"], e["key_id"]) for e in entries} == {(f"key:{pa.key_id}", "org-a", pa.key_id)}
    assert all(e["at"] for e in entries) and entries[0]["id"] > entries[-1]["id"]  # newest first
    # filters: action, object, organisation, time window
    r = c.get("/v1/audit", params={"action": "export"}, headers=_h(kadm)).json()["entries"]
    assert [(e["action"], e["target"]) for e in r] == [("export", job)]
    on_job = c.get("/v1/audit", params={"target": job}, headers=_h(kadm)).json()["entries"]
    assert {e["action"] for e in on_job} == {"upload", "read", "export", "delete"}
    org_b = c.get("/v1/audit", params={"org": "org-b"}, headers=_h(kadm)).json()["entries"]
    assert [e["action"] for e in org_b] == ["key.create"]  # bob only got his key
    assert c.get("/v1/audit", params={"since": "2999-01-01T00:00:00Z"}, headers=_h(kadm)).json()["entries"] == []
    assert c.get("/v1/audit", params={"limit": 0}, headers=_h(kadm)).status_code == 422
    # the admin's own reading of the log is not logged as data access, and keys were created by the CLI
    created = c.get("/v1/audit", params={"action": "key.create"}, headers=_h(kadm)).json()["entries"]
    assert len(created) == 3 and all(e["actor"] == "cli" for e in created)


def test_observatory_exports_and_reads_are_logged(client) -> None:  # type: ignore[no-untyped-def]
    c, keys = client
    (ka, pa), (kadm, _) = keys["alice"], keys["admin"]
    r = c.post("/v1/observatory/lines", json={"lines": [{"company": "ACME", "line": 3}]}, headers=_h(ka))
    assert r.status_code == 201, r.text
    assert c.get("/v1/observatory/followups/ACME/3", headers=_h(ka)).status_code == 200
    assert c.get("/v1/observatory/report.xlsx", headers=_h(ka)).status_code == 200
    got = c.get("/v1/audit", params={"actor": f"key:{pa.key_id}"}, headers=_h(kadm)).json()["entries"]
    assert [(e["action"], e["target"]) for e in reversed(got)] == [
        ("observatory.lines", None), ("read", "ACME#3"), ("export", "observatory:report")]


def test_store_actor_strings_plug_in_accounts(db) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import dataclass

    from api.store import LOCAL_PRINCIPAL, Principal, actor_of

    @dataclass(frozen=True)
    class Account(Principal):  # what an account principal may look like
        actor: str = ""

    assert actor_of(Account(key_id="u1", name="Ana", org="org-a", actor="user:42")) == "user:42"
    assert actor_of(Principal(key_id="abc", name="k")) == "key:abc"
    assert actor_of(LOCAL_PRINCIPAL) == "local" and actor_of(None) == "system"
    store = db.store()
    store.create_all()
    store.audit(Account(key_id="u1", name="Ana", org="org-a", actor="user:42"), "read", "job1")
    line = store.list_audit(target="job1")[0]
    assert (line["actor"], line["org"], line["action"]) == ("user:42", "org-a", "read")
    store.dispose()


