"""Completion emails as an outbox; the reaper's count of checks without news of a run;
moves of status kept in the history beside the notifications

Revision ID: 79b3e6ca1e1d
Revises: 88a8ad0a3d35
Create Date: 2026-12-01 10:26:30.751099

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '79b3e6ca1e1d'
down_revision = '88a8ad0a3d35'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('completion_emails',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('treatment_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['treatment_id'], ['treatments.id'], name=op.f('fk_completion_emails_treatment_id_treatments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_completion_emails')),
    sa.UniqueConstraint('treatment_id', name=op.f('uq_completion_emails_treatment_id'))
    )
    with op.batch_alter_table('completion_emails', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_completion_emails_due_at'), ['due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_completion_emails_sent_at'), ['sent_at'], unique=False)

    with op.batch_alter_table('treatments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lost_checks', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('lost_since', sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_column('emailed_at')

    with op.batch_alter_table('treatment_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=12), nullable=False, server_default='notification'))



def downgrade():
    with op.batch_alter_table('treatment_events', schema=None) as batch_op:
        batch_op.drop_column('kind')

    with op.batch_alter_table('treatments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('emailed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_column('lost_since')
        batch_op.drop_column('lost_checks')

    with op.batch_alter_table('completion_emails', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_completion_emails_sent_at'))
        batch_op.drop_index(batch_op.f('ix_completion_emails_due_at'))

    op.drop_table('completion_emails')
