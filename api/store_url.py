"""Where the store is: the one rule every command and the service follow.

``--database-url`` when a command is given one, else ``RELOCMATCH_DATABASE_URL``, else the
SQLite file ``var/relocmatch.sqlite3`` under the current directory (``Settings.database_url``'s
default); ``RELOCMATCH_DATABASE_SCHEMA`` names a PostgreSQL schema. Read from the environment
directly (not through ``Settings.from_env``) so that an unrelated bad variable never stops
``relocmatch db upgrade``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from api.store import Store


def default_database_url() -> str:
    from api.settings import Settings

    return str(Settings.model_fields["database_url"].default)


def store_location(database_url: str | None = None, environ: Mapping[str, str] | None = None) -> tuple[str, str | None]:
    """(SQLAlchemy URL, PostgreSQL schema or None) of the store."""
    env = os.environ if environ is None else environ
    url = database_url or env.get("RELOCMATCH_DATABASE_URL") or default_database_url()
    schema = env.get("RELOCMATCH_DATABASE_SCHEMA") or None
    return url, schema


def open_store(database_url: str | None = None) -> Store:
    """A ``Store`` on the store location (tables not touched: see ``api.migrate.ensure``)."""
    from api.store import Store

    url, schema = store_location(database_url)
    return Store(url, schema=schema)
