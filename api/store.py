"""Persistence for the service: API keys, uploads, jobs, job results, feedback, audit.

SQLAlchemy 2 Core over SQLite (default; WAL, one file under var/) or PostgreSQL
(``RELOCMATCH_DATABASE_URL=postgresql+psycopg://...``). Every public method is a
short transaction of its own, safe to call from any thread.

Ownership: every upload, job and feedback row carries the ``owner_key_id`` of the
key that created it (``"local"`` in key-less mode) and its organisation. Methods
that take a ``owner`` only see that owner's rows: a job of another key is simply
"not found" (the API turns that into 404, never 403, so ids do not leak).

Jobs are durable: the job row, its upload bytes and its parsed lines are stored at
creation; a runner claims a job (``claim_next``), heartbeats while it works, and
writes the result and the ``done`` status in ONE transaction (``finish_job``), fenced
by its worker id so a runner that lost the job can never overwrite anything.
``recover_stale`` re-queues (or fails, with a reason) jobs whose runner died.

Public functions the web pages reuse: ``create_job``, ``get_job``, ``list_jobs``,
``get_result``, ``delete_job``, ``record_feedback``, ``list_feedback``,
``feedback_for_training``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

JobStatus = Literal["queued", "running", "done", "failed"]
FeedbackLabel = Literal["relevant", "not_relevant", "contacted", "contracted"]
FEEDBACK_LABELS: tuple[str, ...] = ("relevant", "not_relevant", "contacted", "contracted")
LOCAL_KEY_ID = "local"  # the owner of everything in key-less (--no-auth) mode
KEY_PREFIX = "rmk_"

metadata = sa.MetaData()

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),  # public part of the token, used for lookup
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("org", sa.String(200), nullable=True),
    sa.Column("salt", sa.LargeBinary(32), nullable=False),
    sa.Column("key_hash", sa.LargeBinary(32), nullable=False),  # sha256(salt || secret)
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    # may read the audit log and erase an organisation's data (revision 0002_audit)
    sa.Column("admin", sa.Boolean, nullable=False, default=False, server_default=sa.false()),
)

uploads = sa.Table(
    "uploads",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("owner_key_id", sa.String(32), nullable=False, index=True),
    sa.Column("org", sa.String(200), nullable=True),
    sa.Column("filename", sa.String(500), nullable=True),
    sa.Column("content_type", sa.String(200), nullable=True),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("owner_key_id", sa.String(32), nullable=False, index=True),
    sa.Column("org", sa.String(200), nullable=True, index=True),
    sa.Column("upload_id", sa.String(32), sa.ForeignKey("uploads.id", ondelete="CASCADE"), nullable=True),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("lines", sa.JSON, nullable=False),  # parsed BomLine dicts: the worker needs no re-parse
    sa.Column("options", sa.JSON, nullable=False),  # region, buyer, top
    sa.Column("layout", sa.JSON, nullable=True),  # detected layout, shown to the client
    sa.Column("total", sa.Integer, nullable=False),
    sa.Column("done", sa.Integer, nullable=False, default=0),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("worker_id", sa.String(100), nullable=True),
    sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("error", sa.Text, nullable=True),
)

job_results = sa.Table(
    "job_results",
    metadata,
    sa.Column("job_id", sa.String(32), sa.ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("result", sa.JSON, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

feedback = sa.Table(
    "feedback",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("owner_key_id", sa.String(32), nullable=False, index=True),
    sa.Column("org", sa.String(200), nullable=True),
    sa.Column("job_id", sa.String(32), nullable=True, index=True),  # kept when the job is deleted (audit)
    sa.Column("line", sa.Integer, nullable=True),
    sa.Column("line_text", sa.Text, nullable=True),
    sa.Column("siret", sa.String(14), nullable=False),
    sa.Column("label", sa.String(16), nullable=False),
    sa.Column("comment", sa.Text, nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

audit_log = sa.Table(  # who did what to which object, when (api/audit.py; docs/api.md "Audit log")
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("key_id", sa.String(32), nullable=True),  # the key acting (or created/revoked), if any
    # who: "key:<id>", "user:<id>", "local" (key-less mode), "cli:<os user>", "system" (runner, purge)
    sa.Column("actor", sa.String(100), nullable=False, index=True),
    sa.Column("org", sa.String(200), nullable=True, index=True),  # the actor's organisation
    sa.Column("action", sa.String(64), nullable=False),  # upload, read, export, delete, feedback, erase, purge, job.*, key.*
    sa.Column("target", sa.String(300), nullable=True, index=True),  # the object: a job id, "org:<name>", ...
    sa.Column("detail", sa.JSON, nullable=True),  # counts and labels, never uploaded content
)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _utc(dt: datetime | None) -> datetime | None:
    """SQLite hands datetimes back naive; they were written in UTC."""
    if dt is None:
        return None
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


def _new_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key id (``"local"`` in key-less mode), its name and organisation."""

    key_id: str
    name: str
    org: str | None = None
    role: str | None = None  # a signed-in account's role (admin/advisor/company, api/accounts.py); None for keys
    admin: bool = False  # reads the audit log, erases data (api_keys.admin)


LOCAL_PRINCIPAL = Principal(key_id=LOCAL_KEY_ID, name="local", org=None, admin=True)  # the operator, on loopback
SYSTEM_ACTOR = "system"  # the job runner's recoveries, the daily purge


def actor_of(who: Any) -> str:
    """The audit log's "who" string: a principal's ``actor`` attribute when it has one (accounts:
    ``user:<id>``), ``key:<id>`` for a key, ``local`` in key-less mode; a string is taken as is;
    None is the system."""
    if who is None:
        return SYSTEM_ACTOR
    if isinstance(who, str):
        return who
    actor = getattr(who, "actor", None)
    if isinstance(actor, str) and actor:
        return actor
    if getattr(who, "role", None) is not None:  # a signed-in account (api/accounts.py): its id, not a key's
        return f"user:{who.key_id}"
    return "local" if who.key_id == LOCAL_KEY_ID else f"key:{who.key_id}"


@dataclass(frozen=True)
class Job:
    id: str
    owner_key_id: str
    org: str | None
    status: str
    total: int
    done: int
    attempts: int
    options: dict[str, Any]
    layout: dict[str, Any] | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    heartbeat_at: datetime | None
    worker_id: str | None
    error: str | None
    upload_id: str | None
    filename: str | None = None
    lines: list[dict[str, Any]] = field(default_factory=list, repr=False)


@dataclass(frozen=True)
class Feedback:
    id: str
    owner_key_id: str
    org: str | None
    job_id: str | None
    line: int | None
    line_text: str | None
    siret: str
    label: str
    comment: str | None
    created_at: datetime


@dataclass(frozen=True)
class Recovery:
    job_id: str
    action: Literal["requeued", "failed"]
    reason: str


def hash_secret(salt: bytes, secret: str) -> bytes:
    """sha256(salt || secret). Keys are 32 random bytes, so a fast hash is enough:
    there is nothing to brute-force that a slow KDF would protect."""
    return hashlib.sha256(salt + secret.encode("utf-8")).digest()


class Store:
    """The service's database. Build once per process; share between threads."""

    def __init__(self, url: str, *, schema: str | None = None, echo: bool = False) -> None:
        self.url = url
        self.schema = schema
        self.engine: Engine = _make_engine(url, schema=schema, echo=echo)

    # -- lifecycle -------------------------------------------------------
    def create_all(self) -> None:
        """Make the schema current: create an empty store, stamp and upgrade an older one
        (``api.migrate.ensure``; the service start-up decides itself whether to upgrade)."""
        from api.migrate import ensure

        ensure(self, auto_upgrade=True)

    def create_pg_schema(self) -> None:
        """The PostgreSQL schema this store lives in, when one is configured."""
        if self.schema and self.engine.dialect.name == "postgresql":
            with self.engine.begin() as conn:
                conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"'))

    def drop_schema(self) -> None:
        """Tests only: drop everything this store created."""
        if self.schema and self.engine.dialect.name == "postgresql":
            with self.engine.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))
        else:
            with self.engine.begin() as conn:
                metadata.drop_all(conn)
                conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))

    def ping(self) -> bool:
        """True when the database answers a trivial query."""
        try:
            with self.engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
            return True
        except sa.exc.SQLAlchemyError:
            return False

    def dispose(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    # -- keys ------------------------------------------------------------
    def create_key(self, name: str, org: str | None = None, *, admin: bool = False,
                   by: str = "cli") -> tuple[str, Principal]:
        """Create an API key; returns the token (shown once, never stored) and its principal.
        ``by`` is the audit actor creating it (the CLI by default)."""
        if not name.strip():
            raise ValueError("a key needs a non-empty name")
        key_id = secrets.token_hex(8)
        secret = secrets.token_urlsafe(32)  # 32 random bytes
        salt = secrets.token_bytes(16)
        with self._tx() as conn:
            conn.execute(
                api_keys.insert().values(
                    id=key_id, name=name.strip(), org=(org or None), salt=salt,
                    key_hash=hash_secret(salt, secret), created_at=utcnow(), admin=admin,
                )
            )
            self._audit(conn, by, "key.create", key_id, {"name": name, "org": org, "admin": admin}, key_id=key_id,
                        org=org or None)
        return f"{KEY_PREFIX}{key_id}.{secret}", Principal(key_id=key_id, name=name.strip(), org=org or None,
                                                           admin=admin)

    def verify_key(self, token: str) -> Principal | None:
        """The principal of a presented token, or None (unknown, malformed, revoked, wrong secret)."""
        if not token.startswith(KEY_PREFIX) or "." not in token:
            return None
        key_id, _, secret = token[len(KEY_PREFIX):].partition(".")
        if not key_id or not secret or len(key_id) > 32:
            return None
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(api_keys).where(api_keys.c.id == key_id)).first()
        if row is None or row.revoked_at is not None:
            return None
        if not hmac.compare_digest(bytes(row.key_hash), hash_secret(bytes(row.salt), secret)):
            return None
        return Principal(key_id=row.id, name=row.name, org=row.org, admin=bool(row.admin))

    def get_principal(self, key_id: str) -> Principal | None:
        """The principal of a key id if the key exists and is not revoked (web sessions keep only
        the id, never the secret, and re-check it on every request)."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(api_keys).where(api_keys.c.id == key_id)).first()
        if row is None or row.revoked_at is not None:
            return None
        return Principal(key_id=row.id, name=row.name, org=row.org, admin=bool(row.admin))

    def revoke_key(self, key_id: str, *, by: str = "cli") -> bool:
        with self._tx() as conn:
            n = conn.execute(
                api_keys.update().where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None)).values(revoked_at=utcnow())
            ).rowcount
            if n:
                self._audit(conn, by, "key.revoke", key_id, None, key_id=key_id)
        return bool(n)

    # -- jobs ------------------------------------------------------------
    def create_job(
        self,
        owner: Principal,
        *,
        data: bytes,
        lines: list[dict[str, Any]],
        filename: str | None = None,
        content_type: str | None = None,
        layout: dict[str, Any] | None = None,
        options: dict[str, Any] | None = None,
    ) -> Job:
        """Store an upload (its bytes) and a queued job over its parsed ``lines``, in one transaction."""
        now = utcnow()
        upload_id, job_id = _new_id(), _new_id()
        with self._tx() as conn:
            conn.execute(
                uploads.insert().values(
                    id=upload_id, owner_key_id=owner.key_id, org=owner.org, filename=filename,
                    content_type=content_type, size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                    data=data, created_at=now,
                )
            )
            conn.execute(
                jobs.insert().values(
                    id=job_id, owner_key_id=owner.key_id, org=owner.org, upload_id=upload_id, status="queued",
                    lines=lines, options=options or {}, layout=layout, total=len(lines), done=0, attempts=0,
                    created_at=now,
                )
            )
            self._audit(conn, owner, "upload", job_id, {"filename": filename, "lines": len(lines)})
        job = self.get_job(job_id)
        assert job is not None
        return job

    # -- uploads waiting for confirmation (the web pages' mapping step) ----
    def create_upload(self, owner: Principal, *, data: bytes, filename: str | None = None,
                      content_type: str | None = None) -> str:
        """Store an upload that is not a job yet (the advisor checks the column mapping first)."""
        upload_id = _new_id()
        with self._tx() as conn:
            conn.execute(
                uploads.insert().values(
                    id=upload_id, owner_key_id=owner.key_id, org=owner.org, filename=filename,
                    content_type=content_type, size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                    data=data, created_at=utcnow(),
                )
            )
            self._audit(conn, owner, "upload", upload_id, {"filename": filename, "size": len(data), "pending": True})
        return upload_id

    def pending_upload(self, upload_id: str, owner: Principal) -> tuple[str | None, str | None, bytes] | None:
        """(filename, content_type, bytes) of ``owner``'s upload that no job uses yet, else None."""
        q = sa.select(uploads.c.filename, uploads.c.content_type, uploads.c.data).where(
            uploads.c.id == upload_id, uploads.c.owner_key_id == owner.key_id,
            ~sa.exists().where(jobs.c.upload_id == uploads.c.id),
        )
        with self.engine.connect() as conn:
            row = conn.execute(q).first()
        return (row.filename, row.content_type, bytes(row.data)) if row is not None else None

    def create_job_from_upload(self, owner: Principal, upload_id: str, *, lines: list[dict[str, Any]],
                               layout: dict[str, Any] | None = None, options: dict[str, Any] | None = None) -> Job | None:
        """Queue a job over a pending upload of ``owner`` (None if not theirs or already used)."""
        job_id = _new_id()
        with self._tx() as conn:
            row = conn.execute(
                sa.select(uploads.c.filename).where(
                    uploads.c.id == upload_id, uploads.c.owner_key_id == owner.key_id,
                    ~sa.exists().where(jobs.c.upload_id == uploads.c.id),
                )
            ).first()
            if row is None:
                return None
            conn.execute(
                jobs.insert().values(
                    id=job_id, owner_key_id=owner.key_id, org=owner.org, upload_id=upload_id, status="queued",
                    lines=lines, options=options or {}, layout=layout, total=len(lines), done=0, attempts=0,
                    created_at=utcnow(),
                )
            )
            self._audit(conn, owner, "upload", job_id, {"filename": row.filename, "lines": len(lines),
                                                          "upload": upload_id})
        return self.get_job(job_id)

    def get_job(self, job_id: str, owner: Principal | None = None, *, with_lines: bool = False) -> Job | None:
        """One job; with ``owner`` only if that key owns it (else None, as if it did not exist)."""
        cols = [c for c in jobs.c if with_lines or c.name != "lines"]
        q = sa.select(*cols, uploads.c.filename).select_from(jobs.outerjoin(uploads, jobs.c.upload_id == uploads.c.id))
        q = q.where(jobs.c.id == job_id)
        if owner is not None:
            q = q.where(jobs.c.owner_key_id == owner.key_id)
        with self.engine.connect() as conn:
            row = conn.execute(q).first()
        return _job(row) if row is not None else None

    def list_jobs(
        self, *, owner: Principal | None = None, org: str | None = None, status: str | None = None, limit: int = 100
    ) -> list[Job]:
        """Jobs newest first, of one key (``owner``) and/or one organisation (``org``)."""
        cols = [c for c in jobs.c if c.name != "lines"]
        q = sa.select(*cols, uploads.c.filename).select_from(jobs.outerjoin(uploads, jobs.c.upload_id == uploads.c.id))
        if owner is not None:
            q = q.where(jobs.c.owner_key_id == owner.key_id)
        if org is not None:
            q = q.where(jobs.c.org == org)
        if status is not None:
            q = q.where(jobs.c.status == status)
        q = q.order_by(jobs.c.created_at.desc(), jobs.c.id).limit(limit)
        with self.engine.connect() as conn:
            return [_job(r) for r in conn.execute(q)]

    def get_result(self, job_id: str, owner: Principal | None = None) -> dict[str, Any] | None:
        """The result-contract dict of a finished job (None if not done, unknown or not owned)."""
        q = sa.select(job_results.c.result).select_from(job_results.join(jobs, jobs.c.id == job_results.c.job_id))
        q = q.where(job_results.c.job_id == job_id, jobs.c.status == "done")
        if owner is not None:
            q = q.where(jobs.c.owner_key_id == owner.key_id)
        with self.engine.connect() as conn:
            return conn.execute(q).scalar_one_or_none()

    def get_upload(self, job_id: str, owner: Principal | None = None) -> tuple[str | None, str | None, bytes] | None:
        """(filename, content_type, bytes) of a job's upload."""
        q = sa.select(uploads.c.filename, uploads.c.content_type, uploads.c.data).select_from(
            jobs.join(uploads, jobs.c.upload_id == uploads.c.id)
        ).where(jobs.c.id == job_id)
        if owner is not None:
            q = q.where(jobs.c.owner_key_id == owner.key_id)
        with self.engine.connect() as conn:
            row = conn.execute(q).first()
        return (row.filename, row.content_type, bytes(row.data)) if row is not None else None

    def delete_job(self, job_id: str, owner: Principal) -> bool:
        """Delete a job, its result and its upload. A runner still working on it loses its fence."""
        with self._tx() as conn:
            row = conn.execute(
                sa.select(jobs.c.upload_id).where(jobs.c.id == job_id, jobs.c.owner_key_id == owner.key_id)
            ).first()
            if row is None:
                return False
            conn.execute(job_results.delete().where(job_results.c.job_id == job_id))
            conn.execute(jobs.delete().where(jobs.c.id == job_id))
            if row.upload_id:
                conn.execute(uploads.delete().where(uploads.c.id == row.upload_id))
            self._audit(conn, owner, "delete", job_id, None)
        return True

    # -- the runner's side ------------------------------------------------
    def queued_job_ids(self, limit: int = 100) -> list[str]:
        with self.engine.connect() as conn:
            q = sa.select(jobs.c.id).where(jobs.c.status == "queued").order_by(jobs.c.created_at).limit(limit)
            return list(conn.execute(q).scalars())

    def claim(self, job_id: str, worker_id: str) -> bool:
        """Atomically move a queued job to running for ``worker_id`` (False if someone else got it)."""
        now = utcnow()
        with self._tx() as conn:
            n = conn.execute(
                jobs.update()
                .where(jobs.c.id == job_id, jobs.c.status == "queued")
                .values(status="running", worker_id=worker_id, heartbeat_at=now, started_at=now, done=0,
                        attempts=jobs.c.attempts + 1)
            ).rowcount
        return n == 1

    def heartbeat(self, job_id: str, worker_id: str, *, done: int | None = None) -> bool:
        """Refresh a running job's heartbeat (and progress). False when the job is no longer ours."""
        values: dict[str, Any] = {"heartbeat_at": utcnow()}
        if done is not None:
            values["done"] = done
        with self._tx() as conn:
            n = conn.execute(
                jobs.update()
                .where(jobs.c.id == job_id, jobs.c.status == "running", jobs.c.worker_id == worker_id)
                .values(**values)
            ).rowcount
        return n == 1

    def finish_job(self, job_id: str, worker_id: str, result: dict[str, Any]) -> bool:
        """Write the result and mark the job done, in ONE transaction, only if still ours."""
        now = utcnow()
        with self._tx() as conn:
            n = conn.execute(
                jobs.update()
                .where(jobs.c.id == job_id, jobs.c.status == "running", jobs.c.worker_id == worker_id)
                .values(status="done", done=jobs.c.total, finished_at=now, heartbeat_at=now, error=None)
            ).rowcount
            if n != 1:
                return False  # deleted, recovered by another worker, ...: leave no trace
            conn.execute(job_results.delete().where(job_results.c.job_id == job_id))
            conn.execute(job_results.insert().values(job_id=job_id, result=result, created_at=now))
        return True

    def fail_job(self, job_id: str, worker_id: str | None, reason: str) -> bool:
        """Mark a job failed with a reason (fenced by ``worker_id`` when given)."""
        cond = [jobs.c.id == job_id, jobs.c.status.in_(("queued", "running"))]
        if worker_id is not None:
            cond.append(jobs.c.worker_id == worker_id)
        with self._tx() as conn:
            n = conn.execute(
                jobs.update().where(*cond).values(status="failed", finished_at=utcnow(), error=reason[:2000])
            ).rowcount
        return n == 1

    def release_job(self, job_id: str, worker_id: str, reason: str) -> bool:
        """Hand a running job back to the queue (graceful shutdown): not counted as an attempt."""
        with self._tx() as conn:
            n = conn.execute(
                jobs.update()
                .where(jobs.c.id == job_id, jobs.c.status == "running", jobs.c.worker_id == worker_id)
                .values(status="queued", worker_id=None, done=0, attempts=jobs.c.attempts - 1)
            ).rowcount
            if n:
                self._audit(conn, None, "job.released", job_id, {"reason": reason, "worker": worker_id})
        return n == 1

    def recover_stale(self, *, stale_after_s: float, max_attempts: int, alive_workers: Iterable[str] = ()) -> list[Recovery]:
        """Jobs left ``running`` by a dead runner (heartbeat older than ``stale_after_s``, runner not
        in ``alive_workers``): re-queue them, or mark them failed with a reason once they have used
        ``max_attempts``. Never leaves a job running forever."""
        alive = set(alive_workers)
        cutoff = utcnow() - timedelta(seconds=stale_after_s)
        out: list[Recovery] = []
        with self._tx() as conn:
            rows = conn.execute(
                sa.select(jobs.c.id, jobs.c.worker_id, jobs.c.heartbeat_at, jobs.c.attempts).where(
                    jobs.c.status == "running", sa.or_(jobs.c.heartbeat_at.is_(None), jobs.c.heartbeat_at < cutoff)
                )
            ).all()
            for r in rows:
                if r.worker_id in alive:
                    continue
                hb = _utc(r.heartbeat_at)
                when = hb.isoformat(timespec="seconds") if hb else "never"
                base = f"interrupted: runner {r.worker_id} stopped (last heartbeat {when})"
                guard = [jobs.c.id == r.id, jobs.c.status == "running", jobs.c.worker_id == r.worker_id]
                if r.attempts >= max_attempts:
                    reason = f"{base}; gave up after {r.attempts} attempt(s), please upload again"
                    n = conn.execute(
                        jobs.update().where(*guard).values(status="failed", finished_at=utcnow(), error=reason)
                    ).rowcount
                    action: Literal["requeued", "failed"] = "failed"
                else:
                    reason = f"{base}; re-queued (attempt {r.attempts + 1} of {max_attempts})"
                    n = conn.execute(
                        jobs.update().where(*guard).values(status="queued", worker_id=None, done=0, error=reason)
                    ).rowcount
                    action = "requeued"
                if n:
                    out.append(Recovery(r.id, action, reason))
                    self._audit(conn, None, f"job.{action}", r.id, {"reason": reason})
        return out

    # -- feedback --------------------------------------------------------
    def record_feedback(
        self,
        owner: Principal,
        *,
        siret: str,
        label: str,
        job_id: str | None = None,
        line: int | None = None,
        line_text: str | None = None,
        comment: str | None = None,
    ) -> Feedback | None:
        """Store one judgement on a proposed supplier (and audit it). When ``job_id`` is given it
        must be one of ``owner``'s jobs (else None); the line text is then taken from the job."""
        if label not in FEEDBACK_LABELS:
            raise ValueError(f"label must be one of {', '.join(FEEDBACK_LABELS)}, not {label!r}")
        if job_id is not None:
            job = self.get_job(job_id, owner, with_lines=True)
            if job is None:
                return None
            if line_text is None and line is not None:
                for ln in job.lines:
                    if ln.get("row") == line:
                        line_text = ln.get("description") or None
                        break
        fid = _new_id()
        now = utcnow()
        with self._tx() as conn:
            conn.execute(
                feedback.insert().values(
                    id=fid, owner_key_id=owner.key_id, org=owner.org, job_id=job_id, line=line,
                    line_text=line_text, siret=siret, label=label, comment=comment, created_at=now,
                )
            )
            self._audit(conn, owner, "feedback", fid, {"siret": siret, "label": label, "job_id": job_id})
        return Feedback(fid, owner.key_id, owner.org, job_id, line, line_text, siret, label, comment, now)

    def list_feedback(self, *, owner: Principal | None = None, job_id: str | None = None, limit: int = 1000) -> list[Feedback]:
        """Feedback newest first, of one key and/or one job."""
        q = sa.select(feedback)
        if owner is not None:
            q = q.where(feedback.c.owner_key_id == owner.key_id)
        if job_id is not None:
            q = q.where(feedback.c.job_id == job_id)
        q = q.order_by(feedback.c.created_at.desc(), feedback.c.id).limit(limit)
        with self.engine.connect() as conn:
            return [
                Feedback(r.id, r.owner_key_id, r.org, r.job_id, r.line, r.line_text, r.siret, r.label, r.comment,
                         _utc(r.created_at))  # type: ignore[arg-type]
                for r in conn.execute(q)
            ]

    def feedback_for_training(self) -> list[tuple[str, str, str]]:
        """(line text, siret, label) for every judgement that has a line text, oldest first:
        what the ranker can learn from."""
        q = (
            sa.select(feedback.c.line_text, feedback.c.siret, feedback.c.label)
            .where(feedback.c.line_text.is_not(None), feedback.c.line_text != "")
            .order_by(feedback.c.created_at, feedback.c.id)
        )
        with self.engine.connect() as conn:
            return [(r.line_text, r.siret, r.label) for r in conn.execute(q)]

    # -- audit -----------------------------------------------------------
    def _audit(self, conn: Connection, who: Principal | str | None, action: str, target: str | None, detail: Any,
               *, key_id: str | None = None, org: str | None = None) -> None:
        """One audit line in ``conn``'s transaction. ``who``: a principal, an actor string, None (system)."""
        if isinstance(who, Principal):
            key_id = key_id or (who.key_id if who.key_id != LOCAL_KEY_ID else None)
            org = org or who.org
        conn.execute(audit_log.insert().values(at=utcnow(), key_id=key_id, actor=actor_of(who), org=org,
                                               action=action, target=target, detail=detail))

    def audit(self, who: Principal | str | None, action: str, target: str | None = None, detail: Any = None,
              *, org: str | None = None) -> None:
        """Append one line to the audit log (``who``: a principal, an actor string, None = system)."""
        with self._tx() as conn:
            self._audit(conn, who, action, target, detail, org=org)

    def list_audit(self, *, target: str | None = None, actor: str | None = None, action: str | None = None,
                   org: str | None = None, since: datetime | None = None, until: datetime | None = None,
                   limit: int = 1000, newest_first: bool = False) -> list[dict[str, Any]]:
        """Audit lines matching every filter given, oldest first (or newest first)."""
        q = sa.select(audit_log)
        for col, value in ((audit_log.c.target, target), (audit_log.c.actor, actor), (audit_log.c.action, action),
                           (audit_log.c.org, org)):
            if value is not None:
                q = q.where(col == value)
        if since is not None:
            q = q.where(audit_log.c.at >= since)
        if until is not None:
            q = q.where(audit_log.c.at < until)
        q = q.order_by(audit_log.c.id.desc() if newest_first else audit_log.c.id).limit(limit)
        with self.engine.connect() as conn:
            return [{**r._mapping, "at": _utc(r.at)} for r in conn.execute(q)]


def _job(row: Any) -> Job:
    m = row._mapping
    return Job(
        id=m["id"], owner_key_id=m["owner_key_id"], org=m["org"], status=m["status"], total=m["total"],
        done=m["done"], attempts=m["attempts"], options=m["options"] or {}, layout=m["layout"],
        created_at=_utc(m["created_at"]),  # type: ignore[arg-type]
        started_at=_utc(m["started_at"]), finished_at=_utc(m["finished_at"]), heartbeat_at=_utc(m["heartbeat_at"]),
        worker_id=m["worker_id"], error=m["error"], upload_id=m["upload_id"], filename=m.get("filename"),
        lines=list(m["lines"]) if "lines" in m and m["lines"] is not None else [],
    )


def _make_engine(url: str, *, schema: str | None, echo: bool) -> Engine:
    sa_url = sa.engine.make_url(url)
    if sa_url.get_backend_name() == "sqlite":
        db = sa_url.database
        if db and db != ":memory:" and not db.startswith("file:"):
            from pathlib import Path

            Path(db).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, echo=echo, connect_args={"check_same_thread": False, "timeout": 30})

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    connect_args: dict[str, Any] = {}
    if schema:  # every statement, ORM or raw SQL, resolves in this schema only
        if not schema.replace("_", "").isalnum():
            raise ValueError(f"database schema {schema!r}: expected letters, digits and underscores")
        connect_args["options"] = f"-csearch_path={schema}"
    return sa.create_engine(url, echo=echo, pool_pre_ping=True, connect_args=connect_args)


# ---------------------------------------------------------------------------------------
# Relocation observatory (issue 8): tracked BOM lines and their dated follow-up events.
# Appended by the observatory area; the domain rules (allowed transitions, reasons,
# supplier/tier/value on contract) live in matching.observatory and are enforced here
# inside the write transaction, with the tracked line's row locked on PostgreSQL.
# Visibility: the local principal sees everything; a key with an organisation sees its
# organisation's rows; a key without one sees its own rows.

obs_tracked_lines = sa.Table(
    "obs_tracked_lines",
    metadata,
    sa.Column("company", sa.String(200), primary_key=True),
    sa.Column("line", sa.Integer, primary_key=True),
    sa.Column("owner_key_id", sa.String(32), nullable=False, index=True),
    sa.Column("org", sa.String(200), nullable=True, index=True),
    sa.Column("job_id", sa.String(32), nullable=True),
    sa.Column("description", sa.Text, nullable=False, default=""),
    sa.Column("code", sa.String(16), nullable=True),
    sa.Column("origin_country", sa.String(8), nullable=True),
    sa.Column("annual_value_eur", sa.Float, nullable=True),
    sa.Column("buyer_naf", sa.String(8), nullable=True),
    sa.Column("best_tier", sa.String(16), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

obs_events = sa.Table(
    "obs_followup_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("company", sa.String(200), nullable=False),
    sa.Column("line", sa.Integer, nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),  # 1, 2, ... per (company, line): the funnel order
    sa.Column("stage", sa.String(16), nullable=False),
    sa.Column("event_date", sa.Date, nullable=False),
    sa.Column("reason", sa.String(16), nullable=True),
    sa.Column("supplier_siret", sa.String(14), nullable=True),
    sa.Column("supplier_tier", sa.String(16), nullable=True),
    sa.Column("value_moved_eur", sa.Float, nullable=True),
    sa.Column("note", sa.Text, nullable=False, default=""),
    sa.Column("by_key_id", sa.String(32), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(["company", "line"], ["obs_tracked_lines.company", "obs_tracked_lines.line"], ondelete="CASCADE"),
    sa.UniqueConstraint("company", "line", "seq", name="uq_obs_event_seq"),
)


def _obs_visible(q: Any, owner: Principal | None) -> Any:
    if owner is None or owner.key_id == LOCAL_KEY_ID or owner.role == "admin":
        return q
    if owner.org and owner.role != "company":  # a company account sees its own lines only
        return q.where(obs_tracked_lines.c.org == owner.org)
    return q.where(obs_tracked_lines.c.owner_key_id == owner.key_id)


def _obs_line(r: Any) -> Any:
    from matching.observatory import TrackedLine

    return TrackedLine(
        company=r.company, line=r.line, annual_value_eur=r.annual_value_eur, origin_country=r.origin_country,
        code=r.code, buyer_naf=r.buyer_naf, best_tier=r.best_tier, description=r.description or "",
    )


def _obs_event(r: Any) -> Any:
    from matching.observatory import FollowUpEvent

    return FollowUpEvent(
        stage=r.stage, on=r.event_date, reason=r.reason, supplier_siret=r.supplier_siret, supplier_tier=r.supplier_tier,
        value_moved_eur=r.value_moved_eur, note=r.note or "",
    )


def obs_upsert_lines(store: Store, owner: Principal, lines: Iterable[Any], *, job_id: str | None = None) -> int:
    """Insert or update tracked lines (matching.observatory.TrackedLine). A line another
    organisation tracks is not touched (PermissionError: say which, never overwrite)."""
    now = utcnow()
    n = 0
    with store._tx() as conn:
        for ln in lines:
            key = (obs_tracked_lines.c.company == ln.company) & (obs_tracked_lines.c.line == ln.line)
            row = conn.execute(sa.select(obs_tracked_lines.c.owner_key_id, obs_tracked_lines.c.org).where(key)).first()
            values = dict(
                description=ln.description or "", code=ln.code, origin_country=ln.origin_country,
                annual_value_eur=ln.annual_value_eur, buyer_naf=ln.buyer_naf, best_tier=ln.best_tier, updated_at=now,
            )
            if row is None:
                conn.execute(obs_tracked_lines.insert().values(
                    company=ln.company, line=ln.line, owner_key_id=owner.key_id, org=owner.org, job_id=job_id,
                    created_at=now, **values))
            else:
                if owner.key_id != LOCAL_KEY_ID and not (
                    (owner.org and row.org == owner.org) or row.owner_key_id == owner.key_id
                ):
                    raise PermissionError(f"{ln.company} line {ln.line} is tracked by another organisation")
                conn.execute(obs_tracked_lines.update().where(key).values(**values))
            n += 1
        store._audit(conn, owner, "observatory.lines", job_id, {"lines": n})
    return n


def obs_track_job(store: Store, owner: Principal, job_id: str, *, company: str, buyer_naf: str | None = None) -> int | None:
    """Track every line of one of ``owner``'s finished jobs (its result gives each line's best
    tier). None when the job is not found or has no result yet."""
    from matching.observatory import tracked_lines_from_result

    result = store.get_result(job_id, owner)
    if result is None:
        return None
    return obs_upsert_lines(store, owner, tracked_lines_from_result(result, company=company, buyer_naf=buyer_naf),
                            job_id=job_id)


def obs_add_event(store: Store, owner: Principal, company: str, line: int, event: Any) -> Any | None:
    """Append one event to a line's follow-up, checking the transition against the stored
    history in the same transaction. Returns the new FollowUp; None when the line is not
    tracked (or not visible); raises matching.observatory.FollowUpError when not allowed."""
    from matching.observatory import FollowUp

    with store._tx() as conn:
        q = _obs_visible(sa.select(obs_tracked_lines.c.company).where(
            (obs_tracked_lines.c.company == company) & (obs_tracked_lines.c.line == line)), owner)
        if conn.execute(q.with_for_update()).first() is None:
            return None
        rows = conn.execute(sa.select(obs_events).where(
            (obs_events.c.company == company) & (obs_events.c.line == line)).order_by(obs_events.c.seq)).all()
        fu = FollowUp(company, line, tuple(_obs_event(r) for r in rows)).advance(event)
        conn.execute(obs_events.insert().values(
            company=company, line=line, seq=len(rows) + 1, stage=event.stage, event_date=event.on, reason=event.reason,
            supplier_siret=event.supplier_siret, supplier_tier=event.supplier_tier,
            value_moved_eur=event.value_moved_eur, note=event.note or "", by_key_id=owner.key_id, created_at=utcnow()))
        store._audit(conn, owner, "observatory.event", f"{company}#{line}", {"stage": event.stage})
    return fu


def obs_records(store: Store, owner: Principal | None = None, *, companies: Iterable[str] | None = None) -> tuple[list[Any], list[Any]]:
    """Every visible tracked line and follow-up (matching.observatory records), for indicators."""
    from matching.observatory import FollowUp

    q = _obs_visible(sa.select(obs_tracked_lines), owner)
    if companies is not None:
        q = q.where(obs_tracked_lines.c.company.in_(list(companies)))
    q = q.order_by(obs_tracked_lines.c.company, obs_tracked_lines.c.line)
    with store.engine.connect() as conn:
        lines = [_obs_line(r) for r in conn.execute(q)]
        keys = {(ln.company, ln.line) for ln in lines}
        evs: dict[tuple[str, int], list[Any]] = {}
        for r in conn.execute(sa.select(obs_events).order_by(obs_events.c.company, obs_events.c.line, obs_events.c.seq)):
            if (r.company, r.line) in keys:
                evs.setdefault((r.company, r.line), []).append(_obs_event(r))
    return lines, [FollowUp(c, n, tuple(e)) for (c, n), e in evs.items()]


def obs_followup(store: Store, owner: Principal | None, company: str, line: int) -> tuple[Any, Any] | None:
    """(TrackedLine, FollowUp) of one visible line, or None."""
    lines, fus = obs_records(store, owner, companies=[company])
    ln = next((x for x in lines if x.line == line), None)
    if ln is None:
        return None
    from matching.observatory import FollowUp

    return ln, next((f for f in fus if f.line == line), FollowUp(company, line))


# Accounts (issue 14): their tables join this metadata (api/accounts.py owns them and their rules).
from api import accounts as _accounts  # noqa: E402,F401
