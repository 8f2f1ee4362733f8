"""Sessions that can be ended: a per-user session token in every session's id

Revision ID: 4655dbda2ae5
Revises: bb0dfa467d24
Create Date: 2026-12-01 13:29:22.309786

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '4655dbda2ae5'
down_revision = 'bb0dfa467d24'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_token', sa.String(length=32), server_default='', nullable=False))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_token')
