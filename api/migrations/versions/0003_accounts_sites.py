"""User accounts and their sessions (api/accounts.py), chosen sites of tracked relocations
(api/site_choices.py).

The tables are created from their SQLAlchemy definitions, with their indexes and foreign keys;
a store that already has them (made by ``create_all`` of this version) is left as it is.

Revision ID: 0003_accounts_sites
Revises: 0002_audit
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0003_accounts_sites"
down_revision = "0002_audit"
branch_labels = None
depends_on = None


def _tables():  # type: ignore[no-untyped-def]
    from api.accounts import account_sessions, accounts
    from api.site_choices import obs_site_choices

    return [accounts, account_sessions, obs_site_choices]


def upgrade() -> None:
    bind = op.get_bind()
    for table in _tables():
        table.create(bind=bind, checkfirst=True)


def downgrade() -> None:
    bind = op.get_bind()
    for table in reversed(_tables()):
        table.drop(bind=bind, checkfirst=True)
