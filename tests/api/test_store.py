"""Store behaviour on SQLite and PostgreSQL: keys, ownership, fenced job writes, recovery, feedback."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from api.store import LOCAL_PRINCIPAL, Principal, Store, jobs


@pytest.fixture
def store(db) -> Store:  # type: ignore[no-untyped-def]
    s = db.store()
    s.create_all()
    yield s
    s.dispose()


def _job(store: Store, owner: Principal, n: int = 2):  # type: ignore[no-untyped-def]
    lines = [{"row": i + 1, "description": f"ligne {i + 1}"} for i in range(n)]
    return store.create_job(owner, data=b"raw bytes", lines=lines, filename="bom.csv", content_type="text/csv",
                            layout={"format": "csv"}, options={"top": 5})


def test_keys_are_hashed_and_verified(store: Store) -> None:
    token, p = store.create_key("acme", "Région Grand Est")
    assert token.startswith("rmk_")
    assert store.verify_key(token) == p
    assert store.verify_key(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert store.verify_key("rmk_nothing.here") is None
    assert store.verify_key("garbage") is None
    with store.engine.connect() as conn:
        raw = conn.execute(sa.text("SELECT salt, key_hash FROM api_keys")).all()
    secret = token.split(".", 1)[1]
    assert all(secret.encode() not in bytes(r.key_hash) for r in raw)  # only the hash is stored
    assert store.revoke_key(p.key_id)
    assert store.verify_key(token) is None


def test_jobs_are_owned(store: Store) -> None:
    _, a = store.create_key("a", "org1")
    _, b = store.create_key("b", "org1")
    job = _job(store, a)
    assert store.get_job(job.id, a) is not None
    assert store.get_job(job.id, b) is None
    assert store.get_upload(job.id, b) is None
    assert store.get_upload(job.id, a) == ("bom.csv", "text/csv", b"raw bytes")
    assert not store.delete_job(job.id, b)
    assert [j.id for j in store.list_jobs(owner=a)] == [job.id]
    assert store.list_jobs(owner=b) == []
    assert [j.id for j in store.list_jobs(org="org1")] == [job.id]


def test_result_is_written_with_done_in_one_fenced_transaction(store: Store) -> None:
    job = _job(store, LOCAL_PRINCIPAL)
    assert store.claim(job.id, "w1")
    assert not store.claim(job.id, "w2")  # already running
    assert store.heartbeat(job.id, "w1", done=1)
    assert not store.heartbeat(job.id, "w2", done=2)
    assert store.get_result(job.id) is None  # nothing visible while running
    assert not store.finish_job(job.id, "w2", {"lines": []})  # not the owner of the claim
    assert store.get_result(job.id) is None
    assert store.finish_job(job.id, "w1", {"lines": [{"line": 1}]})
    j = store.get_job(job.id)
    assert j is not None and j.status == "done" and j.done == j.total == 2
    assert store.get_result(job.id) == {"lines": [{"line": 1}]}


def test_finish_after_delete_leaves_nothing(store: Store) -> None:
    job = _job(store, LOCAL_PRINCIPAL)
    store.claim(job.id, "w1")
    assert store.delete_job(job.id, LOCAL_PRINCIPAL)
    assert not store.finish_job(job.id, "w1", {"lines": []})
    with store.engine.connect() as conn:
        for t in ("jobs", "job_results", "uploads"):
            assert conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar() == 0


def test_recover_requeues_then_fails_with_reason(store: Store) -> None:
    job = _job(store, LOCAL_PRINCIPAL)
    store.claim(job.id, "dead-worker")
    assert store.recover_stale(stale_after_s=60, max_attempts=2) == []  # heartbeat is fresh
    time.sleep(0.05)
    rec = store.recover_stale(stale_after_s=0.01, max_attempts=2)
    assert [(r.job_id, r.action) for r in rec] == [(job.id, "requeued")]
    j = store.get_job(job.id)
    assert j.status == "queued" and "dead-worker" in (j.error or "")
    store.claim(job.id, "dead-again")
    time.sleep(0.05)
    assert store.recover_stale(stale_after_s=0.01, max_attempts=2, alive_workers=["dead-again"]) == []
    rec = store.recover_stale(stale_after_s=0.01, max_attempts=2)
    assert [r.action for r in rec] == ["failed"]
    j = store.get_job(job.id)
    assert j.status == "failed" and "gave up after 2 attempt" in j.error
    assert [a["action"] for a in store.list_audit(target=job.id)] == ["upload", "job.requeued", "job.failed"]


def test_feedback_is_owned_audited_and_feeds_training(store: Store) -> None:
    _, a = store.create_key("a")
    _, b = store.create_key("b")
    job = _job(store, a)
    fb = store.record_feedback(a, siret="12345678901234", label="relevant", job_id=job.id, line=2, comment="ok")
    assert fb is not None and fb.line_text == "ligne 2"
    assert store.record_feedback(b, siret="12345678901234", label="relevant", job_id=job.id, line=2) is None
    store.record_feedback(b, siret="99999999999999", label="not_relevant", line_text="vis M6 inox")
    store.record_feedback(b, siret="99999999999998", label="contacted")  # no line text: not for training
    with pytest.raises(ValueError):
        store.record_feedback(a, siret="1", label="maybe")
    assert [f.id for f in store.list_feedback(owner=a)] == [fb.id]
    assert store.feedback_for_training() == [
        ("ligne 2", "12345678901234", "relevant"),
        ("vis M6 inox", "99999999999999", "not_relevant"),
    ]
    assert store.list_audit(target=fb.id)[0]["action"] == "feedback"


def test_upload_bytes_survive_in_the_database(store: Store, db) -> None:  # type: ignore[no-untyped-def]
    job = _job(store, LOCAL_PRINCIPAL)
    other = db.store()  # a second process would open its own engine
    try:
        assert other.get_upload(job.id) == ("bom.csv", "text/csv", b"raw bytes")
        assert other.get_job(job.id, with_lines=True).lines[1]["description"] == "ligne 2"
    finally:
        other.dispose()
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(jobs.c.status)).scalar() == "queued"
