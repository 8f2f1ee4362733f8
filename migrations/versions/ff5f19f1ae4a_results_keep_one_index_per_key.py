"""Results keep one index per key: each unique index also serves lookups by its first column,
so storing a result updates one index fewer

Revision ID: ff5f19f1ae4a
Revises: 9fe792a12531
Create Date: 2026-12-01 16:03:23.040829

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'ff5f19f1ae4a'
down_revision = '9fe792a12531'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('regions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_regions_region_set_id'))

    with op.batch_alter_table('similarity_pairs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_similarity_pairs_treatment_id'))

    with op.batch_alter_table('vectorizations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vectorizations_treatment_id'))


def downgrade():
    with op.batch_alter_table('vectorizations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vectorizations_treatment_id'), ['treatment_id'], unique=False)

    with op.batch_alter_table('similarity_pairs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_similarity_pairs_treatment_id'), ['treatment_id'], unique=False)

    with op.batch_alter_table('regions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_regions_region_set_id'), ['region_set_id'], unique=False)
