"""The store functions the web pages added: pending uploads (mapping step) and key-id sessions.
SQLite always; PostgreSQL too when RELOCMATCH_TEST_POSTGRES_URL is set (CI sets it)."""

from __future__ import annotations

import os
import uuid

import pytest

from api.store import Store

PG = os.environ.get("RELOCMATCH_TEST_POSTGRES_URL")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request, tmp_path):
    if request.param == "sqlite":
        s = Store(f"sqlite:///{tmp_path / 's.sqlite3'}")
    else:
        if not PG:
            pytest.skip("RELOCMATCH_TEST_POSTGRES_URL not set: PostgreSQL tests need a server (CI sets it)")
        s = Store(PG, schema="webtest_" + uuid.uuid4().hex[:10])
    s.create_all()
    yield s
    if request.param != "sqlite":
        s.drop_schema()
    s.dispose()


def test_pending_upload_becomes_one_job_for_its_owner_only(store):
    _, alice = store.create_key("alice", org="AD")
    _, bob = store.create_key("bob", org="AD")
    uid = store.create_upload(alice, data=b"Designation\nvis\n", filename="b.csv", content_type="text/csv")
    assert store.pending_upload(uid, alice) == ("b.csv", "text/csv", b"Designation\nvis\n")
    assert store.pending_upload(uid, bob) is None  # same organisation, but not the uploader
    assert store.create_job_from_upload(bob, uid, lines=[]) is None
    job = store.create_job_from_upload(alice, uid, lines=[{"row": 2, "description": "vis"}], options={"region": "44"},
                                       layout={"columns": {"description": "Designation"}})
    assert (job.upload_id, job.filename, job.total, job.status, job.org) == (uid, "b.csv", 1, "queued", "AD")
    assert store.get_upload(job.id, alice) == ("b.csv", "text/csv", b"Designation\nvis\n")
    # used: no longer pending, cannot start a second job
    assert store.pending_upload(uid, alice) is None
    assert store.create_job_from_upload(alice, uid, lines=[]) is None
    assert len(store.list_jobs(owner=alice)) == 1


def test_get_principal_forgets_revoked_keys(store):
    _, p = store.create_key("alice", org="AD")
    assert store.get_principal(p.key_id) == p
    assert store.get_principal("0" * 16) is None
    store.revoke_key(p.key_id)
    assert store.get_principal(p.key_id) is None
