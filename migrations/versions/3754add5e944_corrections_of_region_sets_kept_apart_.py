"""Corrections of region sets, kept apart from the machine's output

Revision ID: 3754add5e944
Revises: ff5f19f1ae4a
Create Date: 2026-12-01 19:07:47.777127

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3754add5e944'
down_revision = 'ff5f19f1ae4a'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('region_corrections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('region_set_id', sa.Integer(), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=True),
    sa.Column('page_id', sa.Integer(), nullable=False),
    sa.Column('x', sa.Integer(), nullable=False),
    sa.Column('y', sa.Integer(), nullable=False),
    sa.Column('w', sa.Integer(), nullable=False),
    sa.Column('h', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_region_corrections_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['page_id'], ['pages.id'], name=op.f('fk_region_corrections_page_id_pages'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_region_corrections_region_id_regions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['region_set_id'], ['region_sets.id'], name=op.f('fk_region_corrections_region_set_id_region_sets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_region_corrections')),
    sa.UniqueConstraint('region_id', name=op.f('uq_region_corrections_region_id'))
    )
    with op.batch_alter_table('region_corrections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_region_corrections_page_id'), ['page_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_region_corrections_region_set_id'), ['region_set_id'], unique=False)


def downgrade():
    with op.batch_alter_table('region_corrections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_region_corrections_region_set_id'))
        batch_op.drop_index(batch_op.f('ix_region_corrections_page_id'))

    op.drop_table('region_corrections')
