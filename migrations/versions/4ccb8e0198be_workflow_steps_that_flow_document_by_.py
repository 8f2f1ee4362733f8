"""Workflow steps that flow document by document run as parts

Revision ID: 4ccb8e0198be
Revises: a56993b4c4aa
Create Date: 2026-12-02 02:39:26.821490

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '4ccb8e0198be'
down_revision = 'a56993b4c4aa'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('treatments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('part_of_id', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('container', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_index(batch_op.f('ix_treatments_part_of_id'), ['part_of_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_treatments_part_of_id_treatments'), 'treatments', ['part_of_id'], ['id'], ondelete='CASCADE')


def downgrade():
    with op.batch_alter_table('treatments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_treatments_part_of_id_treatments'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_treatments_part_of_id'))
        batch_op.drop_column('container')
        batch_op.drop_column('part_of_id')
