"""One index fewer on treatment events: the unique (treatment_id, dedupe_key) index serves
lookups by treatment, and each notification no longer updates a second one

Revision ID: 9fe792a12531
Revises: 4655dbda2ae5
Create Date: 2026-12-01 15:51:26.547273

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '9fe792a12531'
down_revision = '4655dbda2ae5'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('treatment_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_treatment_events_treatment_id'))


def downgrade():
    with op.batch_alter_table('treatment_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_treatment_events_treatment_id'), ['treatment_id'], unique=False)
