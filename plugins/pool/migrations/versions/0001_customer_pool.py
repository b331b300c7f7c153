"""customer pool

Revision ID: pool_0001
Revises:
Create Date: 2026-11-26 21:12:49.025658

Generated with ``guanxi db revision --module pool -m "customer pool"`` and reviewed by hand.
"""
from alembic import op
import sqlalchemy as sa
import core.db


revision = 'pool_0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('pool_pool',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('days_without_follow_up', sa.Integer(), nullable=True),
    sa.Column('days_without_deal', sa.Integer(), nullable=True),
    sa.Column('warn_days_before', sa.Integer(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_pool_pool_department_id_department')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pool_pool')),
    info={'owner': 'pool'}
    )
    with op.batch_alter_table('pool_pool', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pool_pool_department_id'), ['department_id'], unique=False)

    op.create_table('pool_claim',
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('claimed_at', core.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_pool_claim_customer_id_customer')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_pool_claim_user_id_user_account')),
    sa.PrimaryKeyConstraint('customer_id', name=op.f('pk_pool_claim')),
    info={'owner': 'pool'}
    )
    op.create_table('pool_membership',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('pool_id', sa.Integer(), nullable=False),
    sa.Column('entered_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('reason', sa.String(length=20), nullable=False),
    sa.Column('previous_owner_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_pool_membership_customer_id_customer')),
    sa.ForeignKeyConstraint(['pool_id'], ['pool_pool.id'], name=op.f('fk_pool_membership_pool_id_pool_pool')),
    sa.ForeignKeyConstraint(['previous_owner_id'], ['user_account.id'], name=op.f('fk_pool_membership_previous_owner_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pool_membership')),
    sa.UniqueConstraint('customer_id', name=op.f('uq_pool_membership_customer_id')),
    info={'owner': 'pool'}
    )
    with op.batch_alter_table('pool_membership', schema=None) as batch_op:
        batch_op.create_index('ix_pool_membership_pool_id_entered_at', ['pool_id', 'entered_at'], unique=False)

    op.create_table('pool_reminder',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('pool_id', sa.Integer(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('reason', sa.String(length=20), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('dismissed_at', core.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_pool_reminder_customer_id_customer')),
    sa.ForeignKeyConstraint(['owner_id'], ['user_account.id'], name=op.f('fk_pool_reminder_owner_id_user_account')),
    sa.ForeignKeyConstraint(['pool_id'], ['pool_pool.id'], name=op.f('fk_pool_reminder_pool_id_pool_pool')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pool_reminder')),
    sa.UniqueConstraint('customer_id', 'due_date', name='uq_pool_reminder_customer_id_due_date'),
    info={'owner': 'pool'}
    )
    with op.batch_alter_table('pool_reminder', schema=None) as batch_op:
        batch_op.create_index('ix_pool_reminder_owner_id_dismissed_at', ['owner_id', 'dismissed_at'], unique=False)


def downgrade():
    # Dropping a table drops its indexes (MariaDB refuses to drop an index a foreign key still needs).
    op.drop_table('pool_reminder')
    op.drop_table('pool_membership')
    op.drop_table('pool_claim')
    op.drop_table('pool_pool')
