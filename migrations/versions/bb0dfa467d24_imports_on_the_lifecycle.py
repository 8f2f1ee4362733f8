"""Imports on the lifecycle: a digitization's copy has the columns of all work, a lease,
its pages to copy, the errors of its pages and a history

Revision ID: bb0dfa467d24
Revises: 79b3e6ca1e1d
Create Date: 2026-12-01 10:46:42.274693

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'bb0dfa467d24'
down_revision = '79b3e6ca1e1d'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('digitization_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('digitization_id', sa.Integer(), nullable=False),
    sa.Column('event', sa.String(length=30), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['digitization_id'], ['digitizations.id'], name=op.f('fk_digitization_events_digitization_id_digitizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_digitization_events'))
    )
    with op.batch_alter_table('digitization_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_digitization_events_digitization_id'), ['digitization_id'], unique=False)

    with op.batch_alter_table('digitizations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_pages', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('page_errors', sa.JSON(), nullable=False, server_default='{}'))
        batch_op.add_column(sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('message', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()))
        batch_op.add_column(sa.Column('started_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()))
        batch_op.create_index(batch_op.f('ix_digitizations_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_digitizations_updated_at'), ['updated_at'], unique=False)



def downgrade():
    with op.batch_alter_table('digitizations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_digitizations_updated_at'))
        batch_op.drop_index(batch_op.f('ix_digitizations_status'))
        batch_op.drop_column('updated_at')
        batch_op.drop_column('finished_at')
        batch_op.drop_column('started_at')
        batch_op.drop_column('requested_at')
        batch_op.drop_column('message')
        batch_op.drop_column('attempts')
        batch_op.drop_column('claimed_at')
        batch_op.drop_column('page_errors')
        batch_op.drop_column('source_pages')

    with op.batch_alter_table('digitization_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_digitization_events_digitization_id'))

    op.drop_table('digitization_events')
