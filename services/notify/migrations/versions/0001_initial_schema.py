"""initial schema: deliveries (with the inbox), attempts, preferences, digests

Revision ID: 0001
Revises: None
"""
import sqlalchemy as sa
from alembic import op

from civicpulse.tables import create_platform_tables, drop_platform_tables

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'deliveries',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('dedupe_key', sa.String(length=255), nullable=False),
        sa.Column('event_id', sa.String(length=64), nullable=False),
        sa.Column('event_type', sa.String(length=64), nullable=False),
        sa.Column('correlation_id', sa.String(length=128), nullable=True),
        sa.Column('rule', sa.String(length=64), nullable=False),
        sa.Column('recipient', sa.String(length=128), nullable=False),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('address', sa.String(length=254), nullable=True),
        sa.Column('urgent', sa.Boolean(), nullable=False),
        sa.Column('subject', sa.String(length=300), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('link', sa.String(length=500), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('held_reason', sa.String(length=64), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('dedupe_key'),
    )
    op.create_index('ix_deliveries_event_id', 'deliveries', ['event_id'])
    op.create_index('ix_deliveries_correlation_id', 'deliveries', ['correlation_id'])
    op.create_index('ix_deliveries_due', 'deliveries', ['status', 'next_attempt_at'])
    op.create_index('ix_deliveries_inbox', 'deliveries', ['channel', 'recipient', 'read_at'])
    op.create_table(
        'attempts',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('delivery_id', sa.String(length=36), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('outcome', sa.String(length=16), nullable=False),
        sa.Column('error', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['delivery_id'], ['deliveries.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_attempts_delivery_id', 'attempts', ['delivery_id'])
    op.create_table(
        'preferences',
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('channels', sa.JSON(), nullable=False),
        sa.Column('quiet_start', sa.String(length=5), nullable=True),
        sa.Column('quiet_end', sa.String(length=5), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('name'),
    )
    op.create_table(
        'digests',
        sa.Column('day', sa.String(length=10), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('recipients', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('day'),
    )
    create_platform_tables(op)


def downgrade() -> None:
    drop_platform_tables(op)
    op.drop_table('digests')
    op.drop_table('preferences')
    op.drop_index('ix_attempts_delivery_id', table_name='attempts')
    op.drop_table('attempts')
    op.drop_index('ix_deliveries_inbox', table_name='deliveries')
    op.drop_index('ix_deliveries_due', table_name='deliveries')
    op.drop_index('ix_deliveries_correlation_id', table_name='deliveries')
    op.drop_index('ix_deliveries_event_id', table_name='deliveries')
    op.drop_table('deliveries')
