"""A treatment may retry the failed documents of another

Revision ID: a56993b4c4aa
Revises: 003e1eb143e2
Create Date: 2026-12-02 02:28:18.644093

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a56993b4c4aa'
down_revision = '003e1eb143e2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('treatments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retry_of_id', sa.String(length=36), nullable=True))
        batch_op.create_index(batch_op.f('ix_treatments_retry_of_id'), ['retry_of_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_treatments_retry_of_id_treatments'), 'treatments', ['retry_of_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('treatments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_treatments_retry_of_id_treatments'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_treatments_retry_of_id'))
        batch_op.drop_column('retry_of_id')
