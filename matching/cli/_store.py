"""Where every command finds the service's store (issue 14, defect 4): one function.

``serve``, ``keys create``, ``observatory report``, ``ranker fit`` (and any later command
that reads or writes the store) resolve it the same way: an explicit option, else
``RELOCMATCH_DATABASE_URL``, else the default ``sqlite:///var/relocmatch.sqlite3`` (relative
to the working directory, as ``serve`` uses it); the PostgreSQL schema likewise from
``--db-schema`` or ``RELOCMATCH_DATABASE_SCHEMA``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matching.errors import ConfigError

# The service's own default (api.settings.Settings.database_url; a test keeps the two equal).
# Not read from Settings here: importing pydantic costs every `relocmatch` command ~0.3 s.
DEFAULT_DATABASE_URL: str = "sqlite:///var/relocmatch.sqlite3"
STORE_HELP = ("Service store URL (default $RELOCMATCH_DATABASE_URL, else sqlite:///var/relocmatch.sqlite3, "
              "the store `relocmatch serve` uses).")
SCHEMA_HELP = "PostgreSQL schema of the service tables (default $RELOCMATCH_DATABASE_SCHEMA)."


@dataclass(frozen=True)
class StoreLocation:
    url: str
    schema: str | None
    source: str  # "option" | "RELOCMATCH_DATABASE_URL" | "default": said in error messages

    def sqlite_file(self) -> Path | None:
        """The SQLite file this URL names (None for another database or an in-memory one)."""
        import sqlalchemy as sa

        u = sa.engine.make_url(self.url)
        if u.get_backend_name() != "sqlite" or u.database in (None, "", ":memory:"):
            return None
        return Path(u.database)


def store_location(url: str | None = None, schema: str | None = None,
                   environ: Mapping[str, str] | None = None) -> StoreLocation:
    """The service store an option, the environment or the default names (in that order)."""
    import sqlalchemy as sa

    env = os.environ if environ is None else environ
    if url:
        source = "option"
    elif env.get("RELOCMATCH_DATABASE_URL"):
        url, source = env["RELOCMATCH_DATABASE_URL"], "RELOCMATCH_DATABASE_URL"
    else:
        url, source = DEFAULT_DATABASE_URL, "default"
    try:
        sa.engine.make_url(url)
    except sa.exc.ArgumentError:
        raise ConfigError(f"service store {url!r} (from {source}): not a database URL, "
                          f"e.g. {DEFAULT_DATABASE_URL} or postgresql+psycopg://user@host/db") from None
    return StoreLocation(url, schema or env.get("RELOCMATCH_DATABASE_SCHEMA") or None, source)


@contextlib.contextmanager
def open_store(url: str | None = None, schema: str | None = None, *, create: bool = False) -> Iterator[Any]:
    """The service's ``api.store.Store``, disposed afterwards. ``create=False`` (commands that read)
    refuses a SQLite file that does not exist, naming where it looked, instead of creating an
    empty store there; ``create=True`` (``keys create``) creates the tables."""
    from api.store import Store

    loc = store_location(url, schema)
    f = loc.sqlite_file()
    if not create and f is not None and not f.is_file():
        how = {"option": "as given", "default": "the default; set RELOCMATCH_DATABASE_URL or pass the URL",
               "RELOCMATCH_DATABASE_URL": "from RELOCMATCH_DATABASE_URL"}[loc.source]
        raise ConfigError(f"no service store at {f} ({how}); run `relocmatch serve` or `relocmatch keys create` "
                          "from the service's folder first")
    store = Store(loc.url, schema=loc.schema)
    try:
        if create:
            store.create_all()
        yield store
    finally:
        store.dispose()
