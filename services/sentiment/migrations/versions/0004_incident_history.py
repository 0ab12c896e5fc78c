"""incident history: one row per lifecycle event (detected, escalated, subsided, closed)

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'incident_history',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('incident_id', sa.String(length=64), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('event', sa.String(length=16), nullable=False),
        sa.Column('level', sa.String(length=4), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('negative_count', sa.Integer(), nullable=True),
        sa.Column('negative_ratio', sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_incident_history_incident_id', 'incident_history', ['incident_id'])


def downgrade() -> None:
    op.drop_index('ix_incident_history_incident_id', table_name='incident_history')
    op.drop_table('incident_history')
