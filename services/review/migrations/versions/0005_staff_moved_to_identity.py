"""staff accounts moved to the identity service: review's `staff` table is retired

An empty table is dropped. A table holding accounts is renamed `retired_staff` and left alone,
so `civicpulse users import-from-review` can copy its accounts (and their token hashes) into
identity whenever the operator runs it; nothing in review reads it any more. Once imported, it
may be dropped by hand (`DROP TABLE retired_staff`). docs/operations.md, "Upgrading: staff
accounts move to identity".

Revision ID: 0005
Revises: '0004'
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if 'staff' not in sa.inspect(bind).get_table_names():
        return
    held = bind.execute(sa.text('SELECT count(*) FROM staff')).scalar_one()
    if held:
        op.rename_table('staff', 'retired_staff')
        return
    with op.batch_alter_table('staff') as batch:
        batch.drop_index('ix_staff_section')
    op.drop_table('staff')


def downgrade() -> None:
    if 'retired_staff' in sa.inspect(op.get_bind()).get_table_names():
        op.rename_table('retired_staff', 'staff')
        return
    op.create_table(
        'staff',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('role', sa.String(length=32), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('email', sa.String(length=254), nullable=True),
        sa.Column('section', sa.String(length=64), nullable=True),
        sa.Column('im_id', sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('name'),
        sa.UniqueConstraint('token_hash'),
    )
    with op.batch_alter_table('staff') as batch:
        batch.create_index('ix_staff_section', ['section'], unique=False)
