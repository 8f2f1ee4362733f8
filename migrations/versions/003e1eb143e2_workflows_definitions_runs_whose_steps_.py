"""Workflows: definitions, runs whose steps are treatments, their history

Revision ID: 003e1eb143e2
Revises: 4b6a6b604f26
Create Date: 2026-12-02 02:17:36.398756

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '003e1eb143e2'
down_revision = '4b6a6b604f26'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('workflow_definitions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('visibility', sa.String(length=10), nullable=False),
    sa.Column('steps', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_workflow_definitions_owner_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_workflow_definitions'))
    )
    with op.batch_alter_table('workflow_definitions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_workflow_definitions_owner_id'), ['owner_id'], unique=False)

    op.create_table('workflow_definition_shares',
    sa.Column('definition_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['definition_id'], ['workflow_definitions.id'], name=op.f('fk_workflow_definition_shares_definition_id_workflow_definitions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_workflow_definition_shares_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('definition_id', 'user_id', name=op.f('pk_workflow_definition_shares'))
    )
    op.create_table('workflows',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('steps', sa.JSON(), nullable=False),
    sa.Column('document_set_id', sa.Integer(), nullable=True),
    sa.Column('document_set_title', sa.String(length=200), nullable=False),
    sa.Column('relaunch_of_id', sa.String(length=36), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('callback_url', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['document_set_id'], ['document_sets.id'], name=op.f('fk_workflows_document_set_id_document_sets'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_workflows_owner_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['relaunch_of_id'], ['workflows.id'], name=op.f('fk_workflows_relaunch_of_id_workflows'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_workflows'))
    )
    with op.batch_alter_table('workflows', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_workflows_document_set_id'), ['document_set_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_workflows_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_workflows_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_workflows_updated_at'), ['updated_at'], unique=False)

    op.create_table('workflow_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workflow_id', sa.String(length=36), nullable=False),
    sa.Column('event', sa.String(length=30), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['workflow_id'], ['workflows.id'], name=op.f('fk_workflow_events_workflow_id_workflows'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_workflow_events'))
    )
    with op.batch_alter_table('workflow_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_workflow_events_workflow_id'), ['workflow_id'], unique=False)

    with op.batch_alter_table('callback_deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('workflow_id', sa.String(length=36), nullable=True))
        batch_op.create_index(batch_op.f('ix_callback_deliveries_workflow_id'), ['workflow_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_callback_deliveries_workflow_id_workflows'), 'workflows', ['workflow_id'], ['id'], ondelete='CASCADE')

    with op.batch_alter_table('treatments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('workflow_id', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('workflow_step', sa.String(length=80), server_default='', nullable=False))
        batch_op.create_index(batch_op.f('ix_treatments_workflow_id'), ['workflow_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_treatments_workflow_id_workflows'), 'workflows', ['workflow_id'], ['id'], ondelete='CASCADE')


def downgrade():
    with op.batch_alter_table('treatments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_treatments_workflow_id_workflows'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_treatments_workflow_id'))
        batch_op.drop_column('workflow_step')
        batch_op.drop_column('workflow_id')

    with op.batch_alter_table('callback_deliveries', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_callback_deliveries_workflow_id_workflows'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_callback_deliveries_workflow_id'))
        batch_op.drop_column('workflow_id')

    with op.batch_alter_table('workflow_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_workflow_events_workflow_id'))

    op.drop_table('workflow_events')
    with op.batch_alter_table('workflows', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_workflows_updated_at'))
        batch_op.drop_index(batch_op.f('ix_workflows_status'))
        batch_op.drop_index(batch_op.f('ix_workflows_owner_id'))
        batch_op.drop_index(batch_op.f('ix_workflows_document_set_id'))

    op.drop_table('workflows')
    op.drop_table('workflow_definition_shares')
    with op.batch_alter_table('workflow_definitions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_workflow_definitions_owner_id'))

    op.drop_table('workflow_definitions')
