"""The timeline: every change, who made it, to what, when, and how it ended

Revision ID: 16e03479dd61
Revises: c5f23076cf31
Create Date: 2026-12-02 05:08:40.203219

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '16e03479dd61'
down_revision = 'c5f23076cf31'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('timeline',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('actor_email', sa.String(length=254), nullable=False),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('object_kind', sa.String(length=30), nullable=False),
    sa.Column('object_id', sa.String(length=40), nullable=False),
    sa.Column('object_label', sa.String(length=300), nullable=False),
    sa.Column('outcome', sa.String(length=10), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('kept', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_timeline_actor_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_timeline'))
    )
    with op.batch_alter_table('timeline', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_timeline_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_timeline_actor_email'), ['actor_email'], unique=False)
        batch_op.create_index(batch_op.f('ix_timeline_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_timeline_at'), ['at'], unique=False)
        batch_op.create_index('ix_timeline_object', ['object_kind', 'object_id'], unique=False)


def downgrade():
    with op.batch_alter_table('timeline', schema=None) as batch_op:
        batch_op.drop_index('ix_timeline_object')
        batch_op.drop_index(batch_op.f('ix_timeline_at'))
        batch_op.drop_index(batch_op.f('ix_timeline_actor_id'))
        batch_op.drop_index(batch_op.f('ix_timeline_actor_email'))
        batch_op.drop_index(batch_op.f('ix_timeline_action'))

    op.drop_table('timeline')
