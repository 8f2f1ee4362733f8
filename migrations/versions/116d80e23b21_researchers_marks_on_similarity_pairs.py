"""Researchers' marks on similarity pairs

Revision ID: 116d80e23b21
Revises: 3754add5e944
Create Date: 2026-12-01 19:12:05.189617

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '116d80e23b21'
down_revision = '3754add5e944'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('pair_marks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('treatment_id', sa.String(length=36), nullable=False),
    sa.Column('a', sa.String(length=300), nullable=False),
    sa.Column('b', sa.String(length=300), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('mark', sa.String(length=10), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['treatment_id'], ['treatments.id'], name=op.f('fk_pair_marks_treatment_id_treatments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_pair_marks_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pair_marks')),
    sa.UniqueConstraint('treatment_id', 'a', 'b', 'user_id', name=op.f('uq_pair_marks_treatment_id'))
    )
    with op.batch_alter_table('pair_marks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pair_marks_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('pair_marks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pair_marks_user_id'))

    op.drop_table('pair_marks')
