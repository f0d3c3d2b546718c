"""The schema ``Store.create_all`` made before migrations existed (main, 2026-12-03).

Frozen: later changes to ``api/store.py`` go in later revisions, never here. A store created
by that ``create_all`` has no alembic_version table; ``api.migrate`` stamps it with this
revision, then upgrades it.

Revision ID: 0001_initial
Revises:
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001_initial'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('api_keys',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('org', sa.String(length=200), nullable=True),
    sa.Column('salt', sa.LargeBinary(length=32), nullable=False),
    sa.Column('key_hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('key_id', sa.String(length=32), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('target', sa.String(length=64), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('feedback',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('owner_key_id', sa.String(length=32), nullable=False),
    sa.Column('org', sa.String(length=200), nullable=True),
    sa.Column('job_id', sa.String(length=32), nullable=True),
    sa.Column('line', sa.Integer(), nullable=True),
    sa.Column('line_text', sa.Text(), nullable=True),
    sa.Column('siret', sa.String(length=14), nullable=False),
    sa.Column('label', sa.String(length=16), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_feedback_job_id', 'feedback', ['job_id'])
    op.create_index('ix_feedback_owner_key_id', 'feedback', ['owner_key_id'])
    op.create_table('obs_tracked_lines',
    sa.Column('company', sa.String(length=200), nullable=False),
    sa.Column('line', sa.Integer(), nullable=False),
    sa.Column('owner_key_id', sa.String(length=32), nullable=False),
    sa.Column('org', sa.String(length=200), nullable=True),
    sa.Column('job_id', sa.String(length=32), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=True),
    sa.Column('origin_country', sa.String(length=8), nullable=True),
    sa.Column('annual_value_eur', sa.Float(), nullable=True),
    sa.Column('buyer_naf', sa.String(length=8), nullable=True),
    sa.Column('best_tier', sa.String(length=16), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('company', 'line')
    )
    op.create_index('ix_obs_tracked_lines_org', 'obs_tracked_lines', ['org'])
    op.create_index('ix_obs_tracked_lines_owner_key_id', 'obs_tracked_lines', ['owner_key_id'])
    op.create_table('uploads',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('owner_key_id', sa.String(length=32), nullable=False),
    sa.Column('org', sa.String(length=200), nullable=True),
    sa.Column('filename', sa.String(length=500), nullable=True),
    sa.Column('content_type', sa.String(length=200), nullable=True),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_uploads_owner_key_id', 'uploads', ['owner_key_id'])
    op.create_table('jobs',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('owner_key_id', sa.String(length=32), nullable=False),
    sa.Column('org', sa.String(length=200), nullable=True),
    sa.Column('upload_id', sa.String(length=32), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('lines', sa.JSON(), nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('layout', sa.JSON(), nullable=True),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('worker_id', sa.String(length=100), nullable=True),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['upload_id'], ['uploads.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_jobs_org', 'jobs', ['org'])
    op.create_index('ix_jobs_owner_key_id', 'jobs', ['owner_key_id'])
    op.create_index('ix_jobs_status', 'jobs', ['status'])
    op.create_table('obs_followup_events',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('company', sa.String(length=200), nullable=False),
    sa.Column('line', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=16), nullable=False),
    sa.Column('event_date', sa.Date(), nullable=False),
    sa.Column('reason', sa.String(length=16), nullable=True),
    sa.Column('supplier_siret', sa.String(length=14), nullable=True),
    sa.Column('supplier_tier', sa.String(length=16), nullable=True),
    sa.Column('value_moved_eur', sa.Float(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('by_key_id', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['company', 'line'], ['obs_tracked_lines.company', 'obs_tracked_lines.line'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('company', 'line', 'seq', name='uq_obs_event_seq')
    )
    op.create_table('job_results',
    sa.Column('job_id', sa.String(length=32), nullable=False),
    sa.Column('result', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('job_id')
    )


def downgrade() -> None:
    op.drop_table('job_results')
    op.drop_table('obs_followup_events')
    op.drop_index('ix_jobs_status', table_name='jobs')
    op.drop_index('ix_jobs_owner_key_id', table_name='jobs')
    op.drop_index('ix_jobs_org', table_name='jobs')
    op.drop_table('jobs')
    op.drop_index('ix_uploads_owner_key_id', table_name='uploads')
    op.drop_table('uploads')
    op.drop_index('ix_obs_tracked_lines_owner_key_id', table_name='obs_tracked_lines')
    op.drop_index('ix_obs_tracked_lines_org', table_name='obs_tracked_lines')
    op.drop_table('obs_tracked_lines')
    op.drop_index('ix_feedback_owner_key_id', table_name='feedback')
    op.drop_index('ix_feedback_job_id', table_name='feedback')
    op.drop_table('feedback')
    op.drop_table('audit_log')
    op.drop_table('api_keys')
