"""`relocmatch db upgrade|current|backup|restore`: the service store's schema (Alembic revisions in
api/migrations), and its backup (api/backup.py).

The store is found like every command finds it (``api.store_url``): ``--database-url``, else
``RELOCMATCH_DATABASE_URL``, else ``var/relocmatch.sqlite3``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from matching.cli._common import user_errors
from matching.errors import ConfigError

app = typer.Typer(no_args_is_help=True)

DbUrl = Annotated[str | None, typer.Option("--database-url", help="SQLAlchemy URL (default $RELOCMATCH_DATABASE_URL, "
                                           "else sqlite:///var/relocmatch.sqlite3).")]


@app.command("upgrade")
def upgrade(database_url: DbUrl = None) -> None:
    """Create the store, or bring its schema to this version's revision (a store made before
    migrations is recognised and stamped 0001_initial first). Back it up before."""
    from api import migrate
    from api.store_url import open_store

    with user_errors():
        store = open_store(database_url)
        try:
            before, after = migrate.upgrade(store)
        finally:
            store.dispose()
        if before.up_to_date:
            print(f"already at {after.current} (head)")
        else:
            print(f"{before.describe()} -> now at {after.current}")


@app.command("current")
def current(database_url: DbUrl = None) -> None:
    """Print the store's schema revision and whether it is up to date (exit 1 when not)."""
    from api import migrate
    from api.store_url import open_store

    with user_errors():
        store = open_store(database_url)
        try:
            st = migrate.state(store)
        finally:
            store.dispose()
        print(f"{st.current or '-'}\t{st.describe()}")
        if not st.up_to_date:
            raise typer.Exit(1)


BackupFile = Annotated[str, typer.Argument(help="The backup file (SQLite); for PostgreSQL the command prints the "
                                           "pg_dump/pg_restore lines to use.")]
Schema = Annotated[str | None, typer.Option("--db-schema", help="PostgreSQL schema of the service tables "
                                            "(default $RELOCMATCH_DATABASE_SCHEMA).")]


def _sqlite_or_instructions(database_url: str | None, schema: str | None, file: str, verb: str) -> Path:
    """The store's SQLite file; for PostgreSQL print the pg_dump/pg_restore path and exit 1."""
    import sqlalchemy as sa

    from api.backup import pg_instructions
    from matching.cli._store import store_location

    loc = store_location(database_url, schema)
    f = loc.sqlite_file()
    if f is None:
        if sa.engine.make_url(loc.url).get_backend_name() == "postgresql":
            print(pg_instructions(loc.url, loc.schema, file, verb=verb))
            raise typer.Exit(1)
        raise ConfigError(f"db {verb}: store {loc.url!r} is neither a SQLite file nor PostgreSQL")
    return f


@app.command("backup")
def backup(file: BackupFile, database_url: DbUrl = None, db_schema: Schema = None,
           force: Annotated[bool, typer.Option("--force", help="Replace FILE if it exists.")] = False) -> None:
    """Copy the SQLite store to FILE with SQLite's online backup API (safe while the service runs);
    the copy is checked and its schema revision printed."""
    from api.backup import backup_sqlite

    with user_errors():
        f = _sqlite_or_instructions(database_url, db_schema, file, "backup")
        if not f.is_file():
            raise ConfigError(f"no service store at {f}; set RELOCMATCH_DATABASE_URL or pass --database-url")
        info = backup_sqlite(f, Path(file), force=force)
        print(f"backed up {f} -> {info.describe()}")


@app.command("restore")
def restore(file: BackupFile, database_url: DbUrl = None, db_schema: Schema = None,
            force: Annotated[bool, typer.Option("--force", help="Overwrite a store that holds data.")] = False) -> None:
    """Replace the SQLite store by the backup FILE, after checking it (a sound relocmatch store, a
    schema revision this version knows). Refuses a store holding data without --force. Stop the
    service first."""
    from api import migrate
    from api.backup import restore_sqlite

    with user_errors():
        f = _sqlite_or_instructions(database_url, db_schema, file, "restore")
        info = restore_sqlite(Path(file), f, force=force)
        print(f"restored {file} -> {info.describe()}")
        if info.revision != migrate.head():
            print(f"the store is behind this version ({migrate.head()}): run `relocmatch db upgrade` "
                  "(the service upgrades a SQLite store at start by default)")
