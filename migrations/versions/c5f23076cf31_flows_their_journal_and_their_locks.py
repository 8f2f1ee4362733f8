"""Flows: their journal and their locks

Revision ID: c5f23076cf31
Revises: 4ccb8e0198be
Create Date: 2026-12-02 04:45:23.382388

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c5f23076cf31'
down_revision = '4ccb8e0198be'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('flows',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('mode', sa.String(length=5), nullable=False),
    sa.Column('force_fail', sa.Boolean(), nullable=False),
    sa.Column('task_id', sa.String(length=36), nullable=True),
    sa.Column('phase', sa.String(length=10), nullable=False),
    sa.Column('journal', sa.JSON(), nullable=False),
    sa.Column('state', sa.JSON(), nullable=False),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_flows_task_id_tasks'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_flows_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flows'))
    )
    with op.batch_alter_table('flows', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_flows_name'), ['name'], unique=False)
        batch_op.create_index(batch_op.f('ix_flows_phase'), ['phase'], unique=False)
        batch_op.create_index(batch_op.f('ix_flows_task_id'), ['task_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_flows_user_id'), ['user_id'], unique=False)

    op.create_table('flow_locks',
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('flow_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['flow_id'], ['flows.id'], name=op.f('fk_flow_locks_flow_id_flows'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_flow_locks'))
    )
    with op.batch_alter_table('flow_locks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_flow_locks_flow_id'), ['flow_id'], unique=False)


def downgrade():
    with op.batch_alter_table('flow_locks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_flow_locks_flow_id'))

    op.drop_table('flow_locks')
    with op.batch_alter_table('flows', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_flows_user_id'))
        batch_op.drop_index(batch_op.f('ix_flows_task_id'))
        batch_op.drop_index(batch_op.f('ix_flows_phase'))
        batch_op.drop_index(batch_op.f('ix_flows_name'))

    op.drop_table('flows')
