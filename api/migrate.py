"""Schema revisions of the store, with Alembic, driven from Python (no alembic.ini for users).

The revisions live in ``api/migrations/versions`` (shipped in the wheel). A store is in one of
four states (``SchemaState``):

- empty (no table): ``metadata.create_all`` then stamped at head (Alembic's advice for a new
  database; the no-drift test proves the revisions build the same schema);
- legacy: tables but no ``alembic_version`` (created by ``create_all`` before migrations
  existed): stamped ``0001_initial`` (= that schema) and upgraded;
- behind: upgraded by ``relocmatch db upgrade``, or at service start when allowed
  (``RELOCMATCH_AUTO_MIGRATE``), else refused with a message naming the command;
- unknown revision (written by a newer relocmatch): refused, never touched.

Every change runs in ONE transaction under a lock, so two workers starting together do not
migrate twice: ``pg_advisory_xact_lock`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite (with
foreign keys off during the change, as SQLite's ALTER procedure requires, and checked before
commit). Developers add a revision with ``python -m api.migrate revision -m "what changed"``.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from matching.errors import ConfigError

if TYPE_CHECKING:
    from alembic.config import Config

    from api.store import Store

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
BASELINE = "0001_initial"  # the schema `create_all` made before migrations existed
VERSION_TABLE = "alembic_version"
_PG_LOCK_KEY = 0x72656C6D  # "relm": one advisory lock id for schema changes
_MARKER_TABLES = ("api_keys", "jobs", "uploads")  # any of these: the store has relocmatch tables


class StoreSchemaError(ConfigError):
    """The store's schema cannot be used by this version (behind, or from a newer version)."""


@dataclass(frozen=True)
class SchemaState:
    current: str | None  # the stored revision; None: no alembic_version table (or empty)
    head: str  # the revision this code needs
    has_tables: bool  # relocmatch tables exist
    known: bool  # ``current`` is one of this code's revisions (True when None)

    @property
    def empty(self) -> bool:
        return self.current is None and not self.has_tables

    @property
    def legacy(self) -> bool:
        return self.current is None and self.has_tables

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head

    @property
    def behind(self) -> bool:
        return self.known and not self.up_to_date and not self.empty

    def describe(self) -> str:
        if self.empty:
            return f"empty (no tables); this version needs {self.head}"
        if self.legacy:
            return f"created before migrations (= {BASELINE}, not stamped); this version needs {self.head}"
        if not self.known:
            return f"at {self.current}, a revision this version does not know (written by a newer relocmatch?)"
        if self.up_to_date:
            return f"at {self.current} (up to date)"
        return f"at {self.current}; this version needs {self.head}"


def alembic_config(connection: Any = None) -> Config:
    """The configuration of the shipped migrations, on ``connection``."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("file_template", "%%(rev)s")
    cfg.attributes["connection"] = connection
    return cfg


def _script() -> Any:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())


def head() -> str:
    """The newest revision of this code (an error if the revisions branched: merge them)."""
    from alembic.util import CommandError

    try:
        h = _script().get_current_head()
    except CommandError as exc:  # several heads after merging two branches' revisions
        raise ConfigError(f"{MIGRATIONS_DIR / 'versions'}: {exc}; make one revision follow the other") from None
    assert h is not None, "no revision in api/migrations/versions"
    return h


def revisions() -> list[str]:
    """Every revision, oldest first."""
    return [s.revision for s in reversed(list(_script().walk_revisions()))]


def _read_state(conn: sa.Connection) -> SchemaState:
    insp = sa.inspect(conn)
    has_version = insp.has_table(VERSION_TABLE)
    current = None
    if has_version:
        current = conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()
    has_tables = any(insp.has_table(t) for t in _MARKER_TABLES)
    h = head()
    return SchemaState(current=current, head=h, has_tables=has_tables,
                       known=current is None or current in set(revisions()))


def state(store: Store) -> SchemaState:
    """Where the store's schema stands."""
    with store.engine.connect() as conn:
        return _read_state(conn)


@contextmanager
def _schema_change(store: Store) -> Iterator[sa.Connection]:
    """One connection, one transaction, the schema lock held; committed on success."""
    engine = store.engine
    with engine.connect() as conn:
        sqlite = engine.dialect.name == "sqlite"
        if sqlite:
            # before any transaction: PRAGMA foreign_keys is a no-op inside one, and a table that
            # batch mode recreates would otherwise cascade-delete the rows referencing it
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.exec_driver_sql("BEGIN IMMEDIATE")  # the write lock: a second migrator waits
        elif engine.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
        try:
            yield conn
            if sqlite:
                bad = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
                if bad:
                    raise StoreSchemaError(f"migration left rows breaking foreign keys: {bad[:5]}")
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        finally:
            if sqlite:
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")


def _create_or_upgrade(store: Store, conn: sa.Connection, target: str) -> tuple[SchemaState, SchemaState]:
    from alembic import command

    from api.store import metadata

    before = _read_state(conn)
    if not before.known:
        raise StoreSchemaError(f"{_where(store)}: the store is {before.describe()}; refusing to touch it")
    cfg = alembic_config(conn)
    if before.empty:
        metadata.create_all(conn)
        command.stamp(cfg, "head")
    else:
        if before.legacy:
            command.stamp(cfg, BASELINE)
        command.upgrade(cfg, target)
    return before, _read_state(conn)


def upgrade(store: Store, target: str = "head") -> tuple[SchemaState, SchemaState]:
    """Bring the store to ``target`` (default: this code's head): (state before, state after)."""
    store.create_pg_schema()
    with _schema_change(store) as conn:
        return _create_or_upgrade(store, conn, target)


def ensure(store: Store, *, auto_upgrade: bool) -> SchemaState:
    """Make the store usable by this code: create an empty one, upgrade one that is behind when
    ``auto_upgrade``, else raise ``StoreSchemaError`` naming `relocmatch db upgrade`."""
    st = state(store)
    if st.up_to_date:
        return st
    if not st.known:
        raise StoreSchemaError(f"{_where(store)}: the store is {st.describe()}; upgrade relocmatch, "
                               "or restore a backup made by this version")
    if st.behind and not auto_upgrade:
        raise StoreSchemaError(
            f"{_where(store)}: the store is {st.describe()}. Back it up (copy the SQLite file, or pg_dump "
            "on PostgreSQL), then run `relocmatch db upgrade` (or set RELOCMATCH_AUTO_MIGRATE=always)")
    return upgrade(store)[1]


def _where(store: Store) -> str:
    url = sa.engine.make_url(store.url)
    return url.render_as_string(hide_password=True) + (f" (schema {store.schema})" if store.schema else "")


# -- developers: a new revision ------------------------------------------------------------
def new_revision(message: str, *, autogenerate: bool = True) -> Path:
    """Write ``api/migrations/versions/NNNN_<slug>.py`` after the head: autogenerated from the
    difference between the metadata and a scratch SQLite store upgraded to head. Read and edit
    it (SQLite batch operations, data moves), then run the no-drift test."""
    from alembic import command

    from api.store import Store

    slug = re.sub(r"[^a-z0-9]+", "_", message.lower()).strip("_")[:24] or "change"
    number = max(int(r.split("_", 1)[0]) for r in revisions()) + 1
    rev_id = f"{number:04d}_{slug}"
    with tempfile.TemporaryDirectory() as d:
        scratch = Store(f"sqlite:///{Path(d) / 'scratch.sqlite3'}")
        try:
            with _schema_change(scratch) as conn:
                cfg = alembic_config(conn)
                command.upgrade(cfg, "head")
                script = command.revision(cfg, message=message, autogenerate=autogenerate, rev_id=rev_id)
        finally:
            scratch.dispose()
    path = Path(script.path) if not isinstance(script, list) else Path(script[0].path)
    return path


def main(argv: list[str] | None = None) -> None:
    """``python -m api.migrate revision -m MESSAGE [--empty]``: the developer's entry point."""
    import argparse

    ap = argparse.ArgumentParser(prog="python -m api.migrate")
    sub = ap.add_subparsers(dest="cmd", required=True)
    rev = sub.add_parser("revision", help="write a new revision after the head")
    rev.add_argument("-m", "--message", required=True)
    rev.add_argument("--empty", action="store_true", help="no autogenerate: an empty revision to fill by hand")
    args = ap.parse_args(argv)
    print(new_revision(args.message, autogenerate=not args.empty))


if __name__ == "__main__":
    main()
