"""`relocmatch db upgrade|current`: the service store's schema (Alembic revisions in api/migrations).

The store is found like every command finds it (``api.store_url``): ``--database-url``, else
``RELOCMATCH_DATABASE_URL``, else ``var/relocmatch.sqlite3``.
"""

from __future__ import annotations

from typing import Annotated

import typer

from matching.cli._common import user_errors

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
