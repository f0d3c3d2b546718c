"""Retention (purge), erasure on request, and their audit lines (api/retention.py), on SQLite and
the real PostgreSQL (``db`` fixture: a schema of its own per test, dropped after)."""

from __future__ import annotations

import json
import time
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api import retention
from api.accounts import Accounts, account_sessions
from api.main import create_app
from api.site_choices import obs_site_choices, record_choice
from api.store import (
    Store,
    audit_log,
    feedback,
    job_results,
    jobs,
    obs_add_event,
    obs_events,
    obs_tracked_lines,
    obs_upsert_lines,
    uploads,
    utcnow,
)
from matching.cli import app as cli
from matching.observatory import FollowUpEvent, TrackedLine

LINES = [{"row": 1, "description": "roulements à billes", "code": "84821010"}]
RESULT = {"lines": [{"line": {"row": 1}, "suppliers": [{"siret": "12345678900012"}]}]}
SITE = {"site_id": "s1", "name": "Friche", "site_type": "friche", "departement": "57", "region": "44",
        "surface_m2": 1000.0, "source": "cartofriches"}


def _store(db: Any) -> Store:
    store = db.store()
    store.create_all()  # SQLite: a new file; PostgreSQL: already there (idempotent)
    return store


def _done_job(store: Store, p: Any, filename: str = "bom.csv") -> str:
    job = store.create_job(p, data=f"secret purchase list of {p.org}".encode(), lines=LINES, filename=filename,
                           options={"top": 5})
    assert store.claim(job.id, "w")
    assert store.finish_job(job.id, "w", RESULT)
    return job.id


def _age(store: Store, table: sa.Table, cond: Any, days: float, *cols: str) -> None:
    """Move rows back in time (what a year of waiting would do)."""
    when = utcnow() - timedelta(days=days)
    with store.engine.begin() as conn:
        assert conn.execute(table.update().where(cond).values(**dict.fromkeys(cols, when))).rowcount >= 1


def _count(store: Store, table: sa.Table, cond: Any = sa.true()) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table).where(cond)).scalar_one())


def _fill_for_purge(store: Store) -> dict[str, Any]:
    _, p = store.create_key("alice", "org-a")
    old, new = _done_job(store, p), _done_job(store, p)
    _age(store, jobs, jobs.c.id == old, 400, "created_at", "finished_at")
    running = store.create_job(p, data=b"x", lines=LINES).id  # old but still running: left to its runner
    assert store.claim(running, "w")
    _age(store, jobs, jobs.c.id == running, 400, "created_at")
    old_pending = store.create_upload(p, data=b"pending", filename="old.csv")
    new_pending = store.create_upload(p, data=b"pending", filename="new.csv")
    _age(store, uploads, uploads.c.id == old_pending, 8, "created_at")
    old_fb = store.record_feedback(p, siret="12345678900012", label="relevant", job_id=new, line=1)
    new_fb = store.record_feedback(p, siret="12345678900012", label="contacted", job_id=new, line=1)
    assert old_fb is not None and new_fb is not None
    _age(store, feedback, feedback.c.id == old_fb.id, 800, "created_at")
    store.audit("cli:test", "old.thing", "x")
    _age(store, audit_log, audit_log.c.action == "old.thing", 800, "at")
    accts = Accounts(store, hasher=PasswordHasher(time_cost=1, memory_cost=1024))
    acc = accts.create("a@example.org", "a long password 1", role="advisor", org="org-a")
    now = utcnow()
    with store.engine.begin() as conn:
        for sid, exp, seen, revoked in (("expired", now - timedelta(hours=1), now - timedelta(hours=2), None),
                                        ("revoked", now + timedelta(hours=5), now, now),
                                        ("idle", now + timedelta(hours=5), now - timedelta(hours=3), None),
                                        ("live", now + timedelta(hours=5), now, None)):
            conn.execute(account_sessions.insert().values(id=sid, account_id=acc.id, created_at=now - timedelta(hours=2),
                                                          last_seen_at=seen, expires_at=exp, revoked_at=revoked))
    return {"p": p, "old": old, "new": new, "running": running, "old_pending": old_pending,
            "new_pending": new_pending, "old_fb": old_fb.id, "new_fb": new_fb.id}


EXPECTED = {"jobs": 1, "results": 1, "uploads": 1, "pending_uploads": 1, "feedback": 1, "audit": 1, "sessions": 3}


def test_purge_removes_exactly_what_the_policy_no_longer_keeps(db) -> None:  # type: ignore[no-untyped-def]
    store = _store(db)
    f = _fill_for_purge(store)
    dry = retention.purge(store, retention.RetentionPolicy(), dry_run=True, by="cli:test")
    assert dry.counts == EXPECTED and dry.dry_run
    assert store.get_job(f["old"]) is not None and _count(store, account_sessions) == 4  # a dry run removes nothing
    assert store.list_audit(action="purge") == []  # and writes no audit line

    report = retention.purge(store, retention.RetentionPolicy(), by="cli:test")
    assert report.counts == EXPECTED
    assert store.get_job(f["old"]) is None and store.get_result(f["old"]) is None
    assert store.get_upload(f["old"]) is None and _count(store, job_results, job_results.c.job_id == f["old"]) == 0
    assert store.get_result(f["new"]) == RESULT and store.get_upload(f["new"]) is not None  # recent: kept
    assert store.get_job(f["running"]) is not None  # running: never purged under its runner
    assert store.pending_upload(f["old_pending"], f["p"]) is None
    assert store.pending_upload(f["new_pending"], f["p"]) is not None
    assert [x.id for x in store.list_feedback()] == [f["new_fb"]]
    assert store.list_audit(action="old.thing") == []
    with store.engine.connect() as conn:
        assert list(conn.execute(sa.select(account_sessions.c.id)).scalars()) == ["live"]
    [line] = store.list_audit(action="purge")
    assert line["actor"] == "cli:test" and line["detail"]["removed"] == EXPECTED
    # idempotent: a second pass (another worker) finds nothing
    assert retention.purge(store, retention.RetentionPolicy(), audit_when_empty=False).total == 0
    assert len(store.list_audit(action="purge")) == 1
    store.dispose()


def test_zero_days_keeps_a_kind(db) -> None:  # type: ignore[no-untyped-def]
    store = _store(db)
    f = _fill_for_purge(store)
    policy = retention.RetentionPolicy(results_days=0, pending_upload_days=0, feedback_days=0, audit_days=0)
    report = retention.purge(store, policy)
    assert report.counts == {**dict.fromkeys(retention.PURGE_KINDS, 0), "sessions": 3}
    assert store.get_job(f["old"]) is not None and len(store.list_feedback()) == 2
    store.dispose()


def test_purge_command_finds_the_store_and_reads_the_retention_variables(db, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    store = _store(db)
    f = _fill_for_purge(store)
    monkeypatch.setenv("RELOCMATCH_DATABASE_URL", db.url)  # found the way every command finds it
    if db.schema:
        monkeypatch.setenv("RELOCMATCH_DATABASE_SCHEMA", db.schema)
    monkeypatch.setenv("RELOCMATCH_RETENTION_FEEDBACK_DAYS", "0")  # keep feedback
    r = CliRunner().invoke(cli, ["purge", "--dry-run", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["dry_run"] is True and out["removed"] == {**EXPECTED, "feedback": 0}
    assert out["policy"]["feedback"] == "kept" and out["policy"]["results"] == "365 days"
    assert store.get_job(f["old"]) is not None
    r = CliRunner().invoke(cli, ["purge"])
    assert r.exit_code == 0, r.output
    assert "removed 8 row(s)" in r.stdout and "pending_uploads" in r.stdout
    assert store.get_job(f["old"]) is None and len(store.list_feedback()) == 2
    assert store.list_audit(action="purge")[0]["actor"].startswith("cli")
    monkeypatch.setenv("RELOCMATCH_RETENTION_AUDIT_DAYS", "-1")
    r = CliRunner().invoke(cli, ["purge"])
    assert r.exit_code != 0 and "retention_audit_days" in r.output
    store.dispose()


def test_the_service_runs_a_purge_pass_and_zero_disables_it(db, fake_matcher_cls) -> None:  # type: ignore[no-untyped-def]
    store = _store(db)
    f = _fill_for_purge(store)
    app = create_app(db.settings(purge_interval_hours=1.0, purge_first_after_s=0.0), matcher=fake_matcher_cls())
    with TestClient(app):
        purger = app.state.purger
        for _ in range(200):
            if purger.passes:
                break
            time.sleep(0.05)
        assert purger.passes == 1 and purger.last.counts == EXPECTED
    assert store.get_job(f["old"]) is None and store.get_job(f["new"]) is not None
    [line] = store.list_audit(action="purge")
    assert line["actor"] == "system"
    off = create_app(db.settings(purge_interval_hours=0), matcher=fake_matcher_cls())
    with TestClient(off):
        assert off.state.purger is None
    store.dispose()


# -- erasure ------------------------------------------------------------------------------------
def _fill_org(store: Store, org: str, company: str) -> dict[str, Any]:
    token, p = store.create_key(f"key-{org}", org)
    job = _done_job(store, p, filename=f"{company}-achats.csv")
    pending = store.create_upload(p, data=b"pending", filename=f"{company}-pending.csv")
    fb = store.record_feedback(p, siret="12345678900012", label="relevant", job_id=job, line=1, comment="bon")
    assert fb is not None
    obs_upsert_lines(store, p, [TrackedLine(company=company, line=1, annual_value_eur=1000.0, origin_country="CN",
                                            code="84821010", best_tier="regional", description="roulements")],
                     job_id=job)
    obs_add_event(store, p, company, 1, FollowUpEvent(stage="proposed", on=date(2026, 11, 2), note="premier"))
    record_choice(store, p, company, SITE, on=date(2026, 11, 3))
    return {"token": token, "p": p, "job": job, "pending": pending, "fb": fb.id, "company": company}


def _org_rows(store: Store, org: str) -> dict[str, int]:
    return {"jobs": _count(store, jobs, jobs.c.org == org), "uploads": _count(store, uploads, uploads.c.org == org),
            "feedback": _count(store, feedback, feedback.c.org == org),
            "lines": _count(store, obs_tracked_lines, obs_tracked_lines.c.org == org),
            "sites": _count(store, obs_site_choices, obs_site_choices.c.org == org)}


def test_admin_erases_one_organisation_others_intact_audit_without_the_data(db, fake_matcher_cls) -> None:  # type: ignore[no-untyped-def]
    store = _store(db)
    a, b = _fill_org(store, "org-a", "ACME"), _fill_org(store, "org-b", "BETA")
    admin, padm = store.create_key("ops", None, admin=True)
    before_b = _org_rows(store, "org-b")
    assert before_b == {"jobs": 1, "uploads": 2, "feedback": 1, "lines": 1, "sites": 1}
    with TestClient(create_app(db.settings(), matcher=fake_matcher_cls())) as c:
        r = c.delete("/v1/admin/organisations/org-a/data", headers={"Authorization": f"Bearer {a['token']}"})
        assert r.status_code == 403  # not an admin: function-level authorisation
        assert c.delete("/v1/admin/organisations/org-a/data").status_code == 401
        assert _org_rows(store, "org-a")["jobs"] == 1
        h = {"Authorization": f"Bearer {admin}"}
        r = c.delete("/v1/admin/organisations/org-a/data", params={"dry_run": "true"}, headers=h)
        assert r.status_code == 200 and r.json()["dry_run"] is True and _org_rows(store, "org-a")["jobs"] == 1
        r = c.delete("/v1/admin/organisations/org-a/data", headers=h)
        assert r.status_code == 200, r.text
        body = r.json()
    assert body["target"] == "org:org-a" and body["dry_run"] is False
    assert {k: v for k, v in body["removed"].items() if k != "audit_details_blanked"} == {
        "jobs": 1, "results": 1, "uploads": 2, "feedback": 1, "observatory_lines": 1, "observatory_events": 1,
        "site_choices": 1}
    assert _org_rows(store, "org-a") == dict.fromkeys(before_b, 0)
    assert _count(store, obs_events, obs_events.c.company == "ACME") == 0
    assert store.get_result(a["job"]) is None and store.pending_upload(a["pending"], a["p"]) is None
    assert _org_rows(store, "org-b") == before_b  # the other organisation: untouched
    assert store.get_result(b["job"]) == RESULT and _count(store, obs_events, obs_events.c.company == "BETA") == 1
    # the audit log: who erased what and when, with counts only; the erased objects' lines keep
    # who/what/when but lose their detail (file names, SIRETs)
    [line] = store.list_audit(action="erase")
    assert (line["actor"], line["target"], line["key_id"]) == (f"key:{padm.key_id}", "org:org-a", padm.key_id)
    assert line["detail"] == {"removed": body["removed"]}
    about_a = [x for x in store.list_audit() if x["target"] in {a["job"], a["pending"], a["fb"], "ACME#1"}]
    assert about_a and all(x["detail"] is None for x in about_a)
    everything = json.dumps(store.list_audit(), default=str)
    assert "ACME-achats.csv" not in everything and "ACME-pending.csv" not in everything
    assert "BETA-achats.csv" in everything  # org-b's lines keep their detail
    store.dispose()


def test_erase_a_company_by_command_asks_first(db, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    store = _store(db)
    a, b = _fill_org(store, "org-a", "ACME"), _fill_org(store, "org-a", "BETA")  # one organisation, two companies
    monkeypatch.setenv("RELOCMATCH_DATABASE_URL", db.url)
    if db.schema:
        monkeypatch.setenv("RELOCMATCH_DATABASE_SCHEMA", db.schema)
    r = CliRunner().invoke(cli, ["erase", "--company", "ACME"], input="n\n")
    assert r.exit_code == 1 and "nothing erased" in r.stdout and "would remove" in r.stdout
    assert store.get_job(a["job"]) is not None
    r = CliRunner().invoke(cli, ["erase", "--company", "ACME", "--organisation", "org-a"])
    assert r.exit_code != 0 and "exactly one" in r.output
    r = CliRunner().invoke(cli, ["erase", "--company", "ACME", "--yes", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["target"] == "company:ACME" and out["removed"]["observatory_lines"] == 1
    assert out["removed"]["jobs"] == 1 and out["removed"]["feedback"] == 1 and out["removed"]["site_choices"] == 1
    assert store.get_job(a["job"]) is None  # the job ACME's lines were tracked from
    assert _count(store, obs_tracked_lines, obs_tracked_lines.c.company == "ACME") == 0
    assert store.get_result(b["job"]) == RESULT  # the other company of the same organisation: untouched
    assert _count(store, obs_tracked_lines, obs_tracked_lines.c.company == "BETA") == 1
    assert store.pending_upload(b["pending"], b["p"]) is not None
    [line] = store.list_audit(action="erase")
    assert line["actor"].startswith("cli") and line["target"] == "company:ACME"
    store.dispose()


def test_erase_a_company_account_takes_what_it_uploaded(db) -> None:  # type: ignore[no-untyped-def]
    store = _store(db)
    accts = Accounts(store, hasher=PasswordHasher(time_cost=1, memory_cost=1024))
    acc = accts.create("achats@acme.example", "a long password 1", role="company", org="agency", name="ACME")
    other = accts.create("achats@beta.example", "a long password 1", role="company", org="agency", name="BETA")
    mine, theirs = _done_job(store, acc.principal()), _done_job(store, other.principal())
    pending = store.create_upload(acc.principal(), data=b"p", filename="p.csv")
    report = retention.erase(store, company="acme", by="cli:test")  # the account's name, case aside
    assert report.counts["jobs"] == 1 and report.counts["uploads"] == 2
    assert store.get_job(mine) is None and store.pending_upload(pending, acc.principal()) is None
    assert store.get_result(theirs) == RESULT
    assert accts.get(acc.id) is not None  # the account itself stays (users disable)
    store.dispose()


def test_erase_routes_conform_to_their_openapi(db, fake_matcher_cls) -> None:  # type: ignore[no-untyped-def]
    """schemathesis on the erase routes with an admin key (all checks): no 5xx, every answer as
    documented, whatever name the path carries (NUL and controls included)."""
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_headers_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    store = _store(db)
    _fill_org(store, "org-a", "ACME")
    admin, _ = store.create_key("ops", None, admin=True)
    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
              response_schema_conformance]
    app = create_app(db.settings(rate_limit_per_minute=0), matcher=fake_matcher_cls())
    statuses: list[int] = []
    with TestClient(app):
        schema = schemathesis.openapi.from_asgi("/openapi.json", app).include(path_regex=r"^/v1/admin/")
        ops = [r.ok() for r in schema.get_all_operations()]
        assert len(ops) == 2
        for op in ops:
            @given(case=op.as_strategy())
            @settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
                      database=None)
            def run(case: Any) -> None:
                statuses.append(case.call_and_validate(headers={"Authorization": f"Bearer {admin}"},
                                                       checks=checks).status_code)

            run()
    assert statuses.count(200) >= 10 and all(s < 500 for s in statuses), statuses
    store.dispose()
