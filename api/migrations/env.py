"""Alembic environment: runs on the connection ``api.migrate`` hands over (one transaction, under
its lock). Users never need an alembic.ini; ``api.migrate`` builds the configuration."""

from __future__ import annotations

from alembic import context

from api.store import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - only api.migrate drives this environment
    raise RuntimeError("run migrations with `relocmatch db upgrade` (api.migrate), not the alembic command")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=True,  # SQLite cannot ALTER most things: autogenerate writes batch operations
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
