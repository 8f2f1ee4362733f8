"""Callbacks: a callback URL on work, an outbox of deliveries, a signing secret per user

Revision ID: 4b6a6b604f26
Revises: 87321d30727a
Create Date: 2026-12-02 02:03:58.176391

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '4b6a6b604f26'
down_revision = '87321d30727a'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('callback_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('treatment_id', sa.String(length=36), nullable=True),
    sa.Column('task_id', sa.String(length=36), nullable=True),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('webhook_id', sa.String(length=40), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('given_up_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_status', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('resent_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['resent_by_id'], ['users.id'], name=op.f('fk_callback_deliveries_resent_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_callback_deliveries_task_id_tasks'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['treatment_id'], ['treatments.id'], name=op.f('fk_callback_deliveries_treatment_id_treatments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_callback_deliveries'))
    )
    with op.batch_alter_table('callback_deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_callback_deliveries_due_at'), ['due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_callback_deliveries_task_id'), ['task_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_callback_deliveries_treatment_id'), ['treatment_id'], unique=False)

    with op.batch_alter_table('digitizations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('callback_url', sa.Text(), nullable=True))

    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('callback_url', sa.Text(), nullable=True))

    with op.batch_alter_table('treatments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('callback_url', sa.Text(), nullable=True))

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('webhook_secret', sa.String(length=64), server_default='', nullable=False))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('webhook_secret')

    with op.batch_alter_table('treatments', schema=None) as batch_op:
        batch_op.drop_column('callback_url')

    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_column('callback_url')

    with op.batch_alter_table('digitizations', schema=None) as batch_op:
        batch_op.drop_column('callback_url')

    with op.batch_alter_table('callback_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_callback_deliveries_treatment_id'))
        batch_op.drop_index(batch_op.f('ix_callback_deliveries_task_id'))
        batch_op.drop_index(batch_op.f('ix_callback_deliveries_due_at'))

    op.drop_table('callback_deliveries')
