"""A real crash: the process running a job is SIGKILLed mid-run; a new service on the same
database resumes the job and finishes it, or (out of attempts) marks it failed with the reason
(SQLite and PostgreSQL). FakeMatcher in the new app (mechanics test); the killed process runs
the real JobRunner with a matcher that blocks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.store import LOCAL_PRINCIPAL

CHILD = textwrap.dedent(
    """
    import sys, threading
    from api.jobs import JobRunner
    from api.store import Store

    store = Store(sys.argv[1], schema=sys.argv[2] or None)

    def run(lines, options, progress):
        progress(1, len(lines))           # one line done, heartbeat written
        threading.Event().wait()          # then hang until killed

    JobRunner(store, run, heartbeat_s=0.2, stale_after_s=1.0, poll_s=0.1).start()
    threading.Event().wait()
    """
)


@pytest.mark.parametrize("max_attempts", [2, 1])
def test_job_of_a_sigkilled_worker_is_resumed_or_failed_with_reason(db, fake_matcher_cls, key_for, bearer,  # type: ignore[no-untyped-def]
                                                                    max_attempts) -> None:
    store = db.store()
    store.create_all()
    key = key_for(store, "alice")
    owner = store.verify_key(key)
    lines = [{"row": i, "description": f"ligne {i}"} for i in range(1, 4)]
    job = store.create_job(owner, data=b"x", lines=lines, filename="b.csv")
    child = subprocess.Popen([sys.executable, "-c", CHILD, db.url, db.schema or ""], start_new_session=True)
    try:
        end = time.monotonic() + 60
        while True:
            j = store.get_job(job.id)
            if j.status == "running" and j.done == 1:
                break
            assert child.poll() is None, "worker process died on its own"
            assert time.monotonic() < end, f"the child never started the job: {j}"
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            os.kill(child.pid, signal.SIGKILL)
            child.wait(10)
    assert store.get_job(job.id).status == "running"  # what a crash leaves behind
    with TestClient(create_app(db.settings(job_stale_after_s=1.0, job_max_attempts=max_attempts),
                               matcher=fake_matcher_cls())) as c:
        end = time.monotonic() + 30
        while True:
            body = c.get(f"/v1/boms/{job.id}", headers=bearer(key)).json()
            if body["status"] in ("done", "failed") or time.monotonic() > end:
                break
            time.sleep(0.1)
    audit = [a for a in store.list_audit(target=job.id) if a["action"] in ("job.requeued", "job.failed")]
    assert len(audit) == 1
    if max_attempts == 2:  # resumed and finished by the new service
        assert body["status"] == "done", body
        assert body["attempts"] == 2 and body["error"] is None
        assert audit[0]["action"] == "job.requeued" and "re-queued" in audit[0]["detail"]["reason"]
        assert [ln["line"] for ln in body["result"]["lines"]] == [1, 2, 3]
    else:  # out of attempts: failed, with the reason, never left running
        assert body["status"] == "failed", body
        assert "interrupted: runner" in body["error"] and "gave up after 1 attempt" in body["error"]
        assert body["result"] is None and audit[0]["action"] == "job.failed"
    assert store.get_job(job.id, LOCAL_PRINCIPAL) is None  # still owned by alice only
    store.dispose()
