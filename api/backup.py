"""Backup and restore of the store (issue 14, item 10).

SQLite: the sqlite3 online backup API, safe while the service runs (a reader's consistent
snapshot, WAL included); the copy is one self-contained file (journal mode DELETE). A restore
checks the copy first (integrity, a relocmatch store, an Alembic revision this code knows) and
refuses to overwrite a store that holds data unless forced.

PostgreSQL: ``pg_dump`` / ``pg_restore`` do it better than this code could; ``pg_commands``
gives the exact command lines for a store (its schema included), which ``relocmatch db backup``
prints instead of failing.
"""

from __future__ import annotations

import shlex
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from api import migrate
from matching.errors import ConfigError


class BackupError(ConfigError):
    """A backup or restore that cannot be done as asked (what, where, and what to do instead)."""


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    revision: str | None  # None: a store made before migrations (= 0001_initial, unstamped)
    jobs: int
    size: int

    def describe(self) -> str:
        rev = self.revision or f"{migrate.BASELINE} (unstamped)"
        return f"{self.path}: revision {rev}, {self.jobs} job(s), {self.size} bytes"


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if not r[0].startswith("sqlite_")}


def inspect(path: Path) -> BackupInfo:
    """Check a SQLite store file (a backup, or a live store) and say what it holds; BackupError
    when it is not a sound relocmatch store of a revision this code knows."""
    if not path.is_file():
        raise BackupError(f"{path}: no such file")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise BackupError(f"{path}: cannot be opened as SQLite ({exc})") from None
    try:
        try:
            ok = conn.execute("PRAGMA integrity_check").fetchone()[0]
            tables = _tables(conn)
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{path}: not a SQLite database ({exc})") from None
        if ok != "ok":
            raise BackupError(f"{path}: damaged SQLite file (integrity_check: {ok})")
        if not tables & set(migrate._MARKER_TABLES):
            raise BackupError(f"{path}: not a relocmatch store (no {', '.join(migrate._MARKER_TABLES)} table)")
        revision = None
        if migrate.VERSION_TABLE in tables:
            revision = conn.execute(f"SELECT version_num FROM {migrate.VERSION_TABLE}").fetchone()
            revision = revision[0] if revision else None
        if revision is not None and revision not in migrate.revisions():
            raise BackupError(f"{path}: schema revision {revision}, which this version does not know "
                              f"(it knows {', '.join(migrate.revisions())}): made by a newer relocmatch")
        jobs = conn.execute("SELECT count(*) FROM jobs").fetchone()[0] if "jobs" in tables else 0
    finally:
        conn.close()
    return BackupInfo(path, revision, int(jobs), path.stat().st_size)


def _has_data(path: Path) -> bool:
    if not path.is_file() or path.stat().st_size == 0:
        return False
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        for t in _tables(conn) - {migrate.VERSION_TABLE}:
            if conn.execute(f'SELECT 1 FROM "{t}" LIMIT 1').fetchone() is not None:
                return True
        return False
    finally:
        conn.close()


def _copy(src: Path, dest: Path) -> None:
    s = sqlite3.connect(f"file:{src}?mode=ro", uri=True)
    d = sqlite3.connect(dest)
    try:
        s.backup(d)  # online backup API: a consistent snapshot, pages copied under a read lock
    finally:
        s.close()
        d.close()


def backup_sqlite(store_file: Path, dest: Path, *, force: bool = False) -> BackupInfo:
    """Copy the live SQLite store ``store_file`` to ``dest`` (refused if ``dest`` exists, unless
    ``force``); the copy is checked and its revision returned."""
    inspect(store_file)
    if dest.exists() and not force:
        raise BackupError(f"{dest}: exists already; choose another name or pass --force to replace it")
    if dest.resolve() == store_file.resolve():
        raise BackupError(f"{dest}: is the store itself")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".partial")
    tmp.unlink(missing_ok=True)
    _copy(store_file, tmp)
    c = sqlite3.connect(tmp)
    try:
        c.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    finally:
        c.close()
    info = inspect(tmp)
    tmp.replace(dest)
    return BackupInfo(dest, info.revision, info.jobs, dest.stat().st_size)


def restore_sqlite(backup: Path, store_file: Path, *, force: bool = False) -> BackupInfo:
    """Replace the SQLite store ``store_file`` by ``backup`` (checked first). Refused when the store
    holds data, unless ``force``. Stop the service first: its connections would see the swap."""
    info = inspect(backup)
    if backup.resolve() == store_file.resolve():
        raise BackupError(f"{backup}: is the store itself")
    if _has_data(store_file) and not force:
        raise BackupError(f"{store_file}: the store holds data; back it up first, then pass --force to "
                          "overwrite it (stop the service before restoring)")
    store_file.parent.mkdir(parents=True, exist_ok=True)
    _copy(backup, store_file)
    c = sqlite3.connect(store_file)
    try:
        c.execute("PRAGMA journal_mode=WAL")  # as the service opens it
    finally:
        c.close()
    return BackupInfo(store_file, info.revision, info.jobs, store_file.stat().st_size)


def libpq_url(url: str, *, hide_password: bool = True, database: str | None = None) -> str:
    """The libpq form (``postgresql://...``) of a SQLAlchemy PostgreSQL URL, for pg_dump/pg_restore."""
    u = sa.engine.make_url(url).set(drivername="postgresql")
    if database is not None:
        u = u.set(database=database)
    return u.render_as_string(hide_password=hide_password)


def pg_commands(url: str, schema: str | None, file: str, *, hide_password: bool = True,
                restore_url: str | None = None) -> tuple[list[str], list[str]]:
    """(pg_dump argv, pg_restore argv) backing up the store at ``url`` (its ``schema`` only, when it
    has one) to ``file`` (custom format), and restoring it into ``restore_url`` (default: the same
    database; it must not hold that schema's tables yet)."""
    dump = ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={file}"]
    if schema:
        dump.append(f"--schema={schema}")
    dump.append(libpq_url(url, hide_password=hide_password))
    target = libpq_url(restore_url or url, hide_password=hide_password)
    restore = ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", f"--dbname={target}", file]
    return dump, restore


def pg_instructions(url: str, schema: str | None, file: str, *, verb: str) -> str:
    """What to run instead of ``relocmatch db backup|restore`` on a PostgreSQL store."""
    dump, restore = pg_commands(url, schema, file)
    where = libpq_url(url) + (f", schema {schema}" if schema else "")
    return "\n".join([
        f"The store is PostgreSQL ({where}); `relocmatch db {verb}` copies SQLite stores only.",
        "Back it up with PostgreSQL's own tool (password from PGPASSWORD or ~/.pgpass):",
        f"  {shlex.join(dump)}",
        "Restore it into a database that does not hold these tables yet:",
        f"  {shlex.join(restore)}",
        "then check its schema revision: `relocmatch db current` (and `relocmatch db upgrade` if behind).",
        "See docs/api.md, \"Retention, erasure and backup\".",
    ])
