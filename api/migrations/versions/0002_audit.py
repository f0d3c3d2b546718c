"""Audit log: who (``actor``), their organisation, wider objects, indexes; admin keys.

- ``audit_log.actor`` (not null), backfilled from ``key_id``: ``system`` when none,
  ``local`` for the key-less user, ``cli`` for key.create / key.revoke (the key id there is the
  key concerned, created by the command line), else ``key:<id>``.
- ``audit_log.org``, backfilled from the key's organisation.
- ``audit_log.target`` widened to 300 characters ("org:<name>", "company:<name>").
- indexes on ``at`` (retention), ``actor``, ``org``, ``target`` (admin queries).
- ``api_keys.admin`` (false for every existing key).
Old lines keep their action names (``job.create``, ``upload.create``, ``job.delete``,
``feedback.create``); new ones say ``upload``, ``delete``, ``feedback`` (docs/api.md).

Revision ID: 0002_audit
Revises: 0001_initial
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_audit"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("api_keys", sa.Column("admin", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("audit_log", sa.Column("actor", sa.String(length=100), nullable=True))
    op.add_column("audit_log", sa.Column("org", sa.String(length=200), nullable=True))
    op.execute(
        "UPDATE audit_log SET actor = CASE"
        " WHEN key_id IS NULL THEN 'system'"
        " WHEN key_id = 'local' THEN 'local'"
        " WHEN action IN ('key.create', 'key.revoke') THEN 'cli'"
        " ELSE 'key:' || key_id END"
    )
    op.execute("UPDATE audit_log SET org = (SELECT api_keys.org FROM api_keys WHERE api_keys.id = audit_log.key_id)")
    # audit_log is referenced by no foreign key: recreating it on SQLite (batch mode) is safe
    with op.batch_alter_table("audit_log") as batch:
        batch.alter_column("actor", existing_type=sa.String(length=100), nullable=False)
        batch.alter_column("target", existing_type=sa.String(length=64), type_=sa.String(length=300),
                           existing_nullable=True)
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_actor", "audit_log", ["actor"])
    op.create_index("ix_audit_log_org", "audit_log", ["org"])
    op.create_index("ix_audit_log_target", "audit_log", ["target"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_target", table_name="audit_log")
    op.drop_index("ix_audit_log_org", table_name="audit_log")
    op.drop_index("ix_audit_log_actor", table_name="audit_log")
    op.drop_index("ix_audit_log_at", table_name="audit_log")
    with op.batch_alter_table("audit_log") as batch:
        batch.alter_column("target", existing_type=sa.String(length=300), type_=sa.String(length=64),
                           existing_nullable=True)
        batch.drop_column("org")
        batch.drop_column("actor")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("admin")
