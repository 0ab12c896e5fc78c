"""collector credentials; each mention records the collector that sent it

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'collectors',
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('token_sha256', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('rotated_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('name'),
        sa.UniqueConstraint('token_sha256'),
    )
    with op.batch_alter_table('mentions') as batch:
        batch.add_column(sa.Column('collector', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('mentions') as batch:
        batch.drop_column('collector')
    op.drop_table('collectors')
