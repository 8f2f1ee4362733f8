"""Each user's language

Revision ID: 87321d30727a
Revises: 37eeeca26530
Create Date: 2026-12-01 23:11:48.596043

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '87321d30727a'
down_revision = '37eeeca26530'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('locale', sa.String(length=10), server_default='', nullable=False))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('locale')
