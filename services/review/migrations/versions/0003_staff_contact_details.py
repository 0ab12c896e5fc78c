"""staff contact details: section (处室), email, im_id (for the notify service)

Revision ID: 0003
Revises: '0002'
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('staff') as batch:
        batch.add_column(sa.Column('email', sa.String(length=254), nullable=True))
        batch.add_column(sa.Column('section', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('im_id', sa.String(length=128), nullable=True))
        batch.create_index('ix_staff_section', ['section'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('staff') as batch:
        batch.drop_index('ix_staff_section')
        batch.drop_column('im_id')
        batch.drop_column('section')
        batch.drop_column('email')
