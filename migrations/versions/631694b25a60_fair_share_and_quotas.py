"""Fair share and quotas: admitted treatments, pages counted, quotas per user

Revision ID: 631694b25a60
Revises: 16e03479dd61
Create Date: 2026-12-02 07:43:04.969029

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '631694b25a60'
down_revision = '16e03479dd61'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('pages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('bytes', sa.Integer(), nullable=True))

    with op.batch_alter_table('treatments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('admitted_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('pages', sa.Integer(), server_default='0', nullable=False))

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('page_quota', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('storage_quota_mb', sa.Integer(), nullable=True))

    # Work made before the fair share was already let through: it keeps its place.
    op.execute("UPDATE treatments SET admitted_at = requested_at WHERE NOT container")


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('storage_quota_mb')
        batch_op.drop_column('page_quota')

    with op.batch_alter_table('treatments', schema=None) as batch_op:
        batch_op.drop_column('pages')
        batch_op.drop_column('admitted_at')

    with op.batch_alter_table('pages', schema=None) as batch_op:
        batch_op.drop_column('bytes')
