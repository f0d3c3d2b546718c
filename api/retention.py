"""Retention and erasure of what the store keeps (issue 14, item 7).

Why a module of its own: a company's purchase list is confidential, and the store would
otherwise keep it for ever. Two operations, both over ``api.store.Store``, each ONE
transaction, each recorded in the audit log by counts only (never the data removed):

- ``purge``: remove what is older than the retention policy (``RetentionPolicy``, from the
  ``RELOCMATCH_RETENTION_*`` settings): finished jobs with their result and upload, uploads
  never confirmed into a job, feedback, audit lines, dead account sessions. Run by
  ``relocmatch purge`` and by the service's daily pass (``DailyPurge``). Idempotent: two
  service processes running it at once remove each row once (on PostgreSQL the second waits
  on an advisory lock and finds nothing left; SQLite serialises writers).
- ``erase``: remove everything stored about one organisation or one company on request
  (uploads, jobs, results, feedback, observatory lines and events, chosen sites), and blank
  the ``detail`` of the audit lines about the erased objects (who did what, when, stays).

A kind whose retention is 0 days is kept (not purged).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from api.accounts import account_sessions, accounts
from api.site_choices import obs_site_choices
from api.store import (
    Principal,
    Store,
    audit_log,
    feedback,
    job_results,
    jobs,
    obs_events,
    obs_tracked_lines,
    uploads,
    utcnow,
)

log = logging.getLogger("relocmatch.retention")

PURGE_KINDS: tuple[str, ...] = ("jobs", "results", "uploads", "pending_uploads", "feedback", "audit", "sessions")
ERASE_KINDS: tuple[str, ...] = ("jobs", "results", "uploads", "feedback", "observatory_lines", "observatory_events",
                                "site_choices", "audit_details_blanked")
_PG_PURGE_LOCK = 0x72657470  # "retp": one purge at a time per database
_RETENTION_FIELDS = ("retention_results_days", "retention_pending_upload_days", "retention_feedback_days",
                     "retention_audit_days", "session_idle_minutes")
_CHUNK = 500  # ids per IN (...) list


@dataclass(frozen=True)
class RetentionPolicy:
    """How long each kind is kept, in days (0: kept, never purged); sessions die when they expire."""

    results_days: float = 365.0  # finished jobs: their parsed lines, result and uploaded file
    pending_upload_days: float = 7.0  # uploads whose column mapping was never confirmed
    feedback_days: float = 730.0  # judgements on suppliers (the ranker learns from them)
    audit_days: float = 730.0  # the audit log's own retention
    session_idle_s: float = 3600.0  # an account session unused this long is dead (accounts' idle expiry)

    @classmethod
    def from_settings(cls, settings: Any) -> RetentionPolicy:
        return cls(results_days=settings.retention_results_days,
                   pending_upload_days=settings.retention_pending_upload_days,
                   feedback_days=settings.retention_feedback_days, audit_days=settings.retention_audit_days,
                   session_idle_s=settings.session_idle_minutes * 60.0)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> RetentionPolicy:
        """The policy the ``RELOCMATCH_RETENTION_*`` variables give (validated like the service's
        settings); other variables are not read, so an unrelated bad one never stops a purge."""
        import os

        from api.settings import Settings

        env = os.environ if environ is None else environ
        values = {f: env[f"RELOCMATCH_{f.upper()}"] for f in _RETENTION_FIELDS if env.get(f"RELOCMATCH_{f.upper()}")}
        return cls.from_settings(Settings(**values))  # type: ignore[arg-type]

    def describe(self) -> dict[str, str]:
        def d(days: float) -> str:
            return "kept" if days <= 0 else f"{days:g} days"

        return {"results": d(self.results_days), "pending_uploads": d(self.pending_upload_days),
                "feedback": d(self.feedback_days), "audit": d(self.audit_days),
                "sessions": f"once expired, revoked or idle {self.session_idle_s / 60:g} min"}


@dataclass(frozen=True)
class Report:
    """What a purge or an erasure removed (or would remove: ``dry_run``), per kind."""

    action: str  # "purge" | "erase"
    counts: dict[str, int]
    dry_run: bool
    at: datetime
    target: str | None = None  # erase: "org:<name>" | "company:<name>"
    policy: dict[str, str] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(v for k, v in self.counts.items() if k != "audit_details_blanked")

    def as_dict(self) -> dict[str, Any]:
        return {"action": self.action, "target": self.target, "dry_run": self.dry_run,
                "at": self.at.isoformat(timespec="seconds"), "removed": dict(self.counts),
                **({"policy": self.policy} if self.policy else {})}


def _cut(now: datetime, days: float) -> datetime | None:
    return None if days <= 0 else now - timedelta(days=days)


def _chunks(ids: list[Any]) -> Iterable[list[Any]]:
    for i in range(0, len(ids), _CHUNK):
        yield ids[i:i + _CHUNK]


def _lock(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":  # a second purge/erase waits, then finds nothing left to remove
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_PURGE_LOCK})


def _delete_jobs(conn: Connection, job_ids: list[str], dry_run: bool) -> dict[str, int]:
    """Jobs, their results and their uploads (an upload belongs to one job)."""
    n = {"jobs": 0, "results": 0, "uploads": 0}
    for part in _chunks(job_ids):
        up_ids = [u for u in conn.execute(sa.select(jobs.c.upload_id).where(
            jobs.c.id.in_(part), jobs.c.upload_id.is_not(None))).scalars()]
        if dry_run:
            n["results"] += conn.execute(sa.select(sa.func.count()).select_from(job_results).where(
                job_results.c.job_id.in_(part))).scalar_one()
            n["jobs"] += len(part)
            n["uploads"] += len(up_ids)
            continue
        n["results"] += conn.execute(job_results.delete().where(job_results.c.job_id.in_(part))).rowcount
        n["jobs"] += conn.execute(jobs.delete().where(jobs.c.id.in_(part))).rowcount
        if up_ids:
            n["uploads"] += conn.execute(uploads.delete().where(uploads.c.id.in_(up_ids))).rowcount
    return n


def _delete_where(conn: Connection, table: sa.Table, cond: Any, dry_run: bool) -> int:
    if dry_run:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table).where(cond)).scalar_one())
    return int(conn.execute(table.delete().where(cond)).rowcount)


def purge(store: Store, policy: RetentionPolicy | None = None, *, dry_run: bool = False,
          by: Principal | str | None = None, now: datetime | None = None, audit_when_empty: bool = True) -> Report:
    """Remove what the policy no longer keeps; one transaction. ``by`` is the audit actor (None:
    the system's daily pass). The audit line (counts and the policy) is not written for a dry run,
    nor, unless ``audit_when_empty``, when nothing was removed."""
    policy = policy or RetentionPolicy()
    now = now or utcnow()
    counts = dict.fromkeys(PURGE_KINDS, 0)
    with store._tx() as conn:
        _lock(conn)
        cut = _cut(now, policy.results_days)
        if cut is not None:  # finished (or never started) jobs; a running one is left to its runner
            ids = list(conn.execute(sa.select(jobs.c.id).where(
                jobs.c.status != "running", sa.func.coalesce(jobs.c.finished_at, jobs.c.created_at) < cut)).scalars())
            counts.update(_delete_jobs(conn, ids, dry_run))
        cut = _cut(now, policy.pending_upload_days)
        if cut is not None:
            counts["pending_uploads"] = _delete_where(conn, uploads, sa.and_(
                uploads.c.created_at < cut, ~sa.exists().where(jobs.c.upload_id == uploads.c.id)), dry_run)
        cut = _cut(now, policy.feedback_days)
        if cut is not None:
            counts["feedback"] = _delete_where(conn, feedback, feedback.c.created_at < cut, dry_run)
        cut = _cut(now, policy.audit_days)
        if cut is not None:
            counts["audit"] = _delete_where(conn, audit_log, audit_log.c.at < cut, dry_run)
        counts["sessions"] = _delete_where(conn, account_sessions, sa.or_(
            account_sessions.c.expires_at < now, account_sessions.c.revoked_at.is_not(None),
            account_sessions.c.last_seen_at < now - timedelta(seconds=policy.session_idle_s)), dry_run)
        report = Report("purge", counts, dry_run, now, policy=policy.describe())
        if not dry_run and (audit_when_empty or report.total):
            store._audit(conn, by, "purge", None, {"removed": counts, "policy": report.policy})
    return report


def _owners_named(conn: Connection, company: str) -> list[str]:
    """Company accounts (role company) whose name or email is exactly ``company`` (case aside)."""
    c = company.strip().lower()
    return list(conn.execute(sa.select(accounts.c.id).where(accounts.c.role == "company", sa.or_(
        sa.func.lower(accounts.c.name) == c, accounts.c.email == c))).scalars())


def erase(store: Store, *, org: str | None = None, company: str | None = None, by: Principal | str | None,
          dry_run: bool = False) -> Report:
    """Erase one organisation's (``org``) or one company's (``company``) data, in one transaction.

    - org: every upload, job, result, feedback, tracked observatory line (with its events) and
      chosen site recorded with that organisation;
    - company: the observatory lines of that company (any organisation) with their events and its
      chosen site, the jobs those lines were tracked from, and everything owned by company accounts
      named so (name or email, exactly), with the feedback on those jobs.
    Accounts and keys are kept (``relocmatch users disable``, ``keys revoke``). The audit lines about
    the erased objects keep who/what/when and lose their ``detail``; one ``erase`` line records who
    erased what, with counts only."""
    if (org is None) == (company is None):
        raise ValueError("erase: give exactly one of org or company")
    name = (org if org is not None else company or "").strip()
    if not name:
        raise ValueError("erase: the organisation or company name is empty")
    target = f"org:{name}" if org is not None else f"company:{name}"
    counts = dict.fromkeys(ERASE_KINDS, 0)
    with store._tx() as conn:
        _lock(conn)
        if org is not None:
            line_cond = obs_tracked_lines.c.org == name
            site_cond = obs_site_choices.c.org == name
            job_cond = jobs.c.org == name
            upload_cond = uploads.c.org == name
            fb_cond: Any = feedback.c.org == name
        else:
            owners = _owners_named(conn, name)
            line_cond = sa.or_(obs_tracked_lines.c.company == name, obs_tracked_lines.c.owner_key_id.in_(owners))
            site_cond = sa.or_(obs_site_choices.c.company == name, obs_site_choices.c.owner_key_id.in_(owners))
            tracked_jobs = sa.select(obs_tracked_lines.c.job_id).where(
                line_cond, obs_tracked_lines.c.job_id.is_not(None)).scalar_subquery()
            job_cond = sa.or_(jobs.c.id.in_(tracked_jobs), jobs.c.owner_key_id.in_(owners))
            upload_cond = uploads.c.owner_key_id.in_(owners)
            fb_cond = feedback.c.owner_key_id.in_(owners)
        line_keys = [(r.company, r.line) for r in conn.execute(
            sa.select(obs_tracked_lines.c.company, obs_tracked_lines.c.line).where(line_cond))]
        job_ids = list(conn.execute(sa.select(jobs.c.id).where(job_cond)).scalars())
        fb_ids = list(conn.execute(sa.select(feedback.c.id).where(
            sa.or_(fb_cond, feedback.c.job_id.in_(job_ids) if job_ids else sa.false()))).scalars())
        up_ids = list(conn.execute(sa.select(uploads.c.id).where(  # pending: a job's upload goes with its job
            upload_cond, ~sa.exists().where(jobs.c.upload_id == uploads.c.id))).scalars())
        objects = set(job_ids) | set(fb_ids) | set(up_ids) | {f"{c}#{n}" for c, n in line_keys}
        if company is not None:
            objects |= {name}
        # observatory: events, then lines (explicitly: not relying on ON DELETE CASCADE)
        for c, n in line_keys:
            ev = (obs_events.c.company == c) & (obs_events.c.line == n)
            counts["observatory_events"] += _delete_where(conn, obs_events, ev, dry_run)
        counts["observatory_lines"] = _delete_where(conn, obs_tracked_lines, line_cond, dry_run)
        counts["site_choices"] = _delete_where(conn, obs_site_choices, site_cond, dry_run)
        for part in _chunks(fb_ids):
            counts["feedback"] += _delete_where(conn, feedback, feedback.c.id.in_(part), dry_run)
        counts.update(_delete_jobs(conn, job_ids, dry_run))
        for part in _chunks(up_ids):
            counts["uploads"] += _delete_where(conn, uploads, uploads.c.id.in_(part), dry_run)
        for part in _chunks(sorted(objects)):
            counts["audit_details_blanked"] += _blank_audit(conn, part, dry_run)
        report = Report("erase", counts, dry_run, utcnow(), target=target)
        if not dry_run:
            store._audit(conn, by, "erase", target, {"removed": counts})
    return report


def _blank_audit(conn: Connection, targets: list[str], dry_run: bool) -> int:
    cond = sa.and_(audit_log.c.target.in_(targets), audit_log.c.detail.is_not(None), audit_log.c.action != "erase")
    if dry_run:
        return int(conn.execute(sa.select(sa.func.count()).select_from(audit_log).where(cond)).scalar_one())
    return int(conn.execute(audit_log.update().where(cond).values(detail=sa.null())).rowcount)


class DailyPurge:
    """The service's automatic pass: a daemon thread purging every ``interval_s`` (first after
    ``first_after_s``). A failed pass is logged and retried at the next interval."""

    def __init__(self, store: Store, policy: RetentionPolicy, *, interval_s: float, first_after_s: float) -> None:
        self.store = store
        self.policy = policy
        self.interval_s = interval_s
        self.first_after_s = first_after_s
        self.passes = 0
        self.last: Report | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="relocmatch-purge", daemon=True)

    def start(self) -> DailyPurge:
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def run_once(self) -> Report:
        report = purge(self.store, self.policy, by=None, audit_when_empty=False)
        self.passes += 1
        self.last = report
        log.info("retention pass: removed %s", {k: v for k, v in report.counts.items() if v} or "nothing")
        return report

    def _run(self) -> None:
        wait = self.first_after_s
        while not self._stop.wait(wait):
            try:
                self.run_once()
            except Exception:  # noqa: BLE001 - a pass must never kill the service; the next one retries
                log.exception("retention pass failed")
            wait = self.interval_s


def start_daily_purge(store: Store, settings: Any) -> DailyPurge | None:
    """The service's daily pass per its settings (None when ``purge_interval_hours`` is 0)."""
    if settings.purge_interval_hours <= 0:
        return None
    return DailyPurge(store, RetentionPolicy.from_settings(settings), interval_s=settings.purge_interval_hours * 3600.0,
                      first_after_s=settings.purge_first_after_s).start()
