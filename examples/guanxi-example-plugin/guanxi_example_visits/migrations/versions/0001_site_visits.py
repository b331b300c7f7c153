"""site visits

Revision ID: visits_0001
Revises:
Create Date: 2026-11-26 18:07:49.755222

Generated with ``guanxi db revision --module visits -m "site visits"`` and reviewed by hand.
"""
from alembic import op
import sqlalchemy as sa
import core.db


revision = 'visits_0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('visits_site_visit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('purpose', sa.String(length=200), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('deleted_at', core.db.UTCDateTime(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_visits_site_visit_customer_id_customer')),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_visits_site_visit_department_id_department')),
    sa.ForeignKeyConstraint(['owner_id'], ['user_account.id'], name=op.f('fk_visits_site_visit_owner_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visits_site_visit')),
    info={'owner': 'visits'}
    )
    with op.batch_alter_table('visits_site_visit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visits_site_visit_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index('ix_visits_site_visit_date_id', ['date', 'id'], unique=False)
        batch_op.create_index('ix_visits_site_visit_department_id_id', ['department_id', 'id'], unique=False)
        batch_op.create_index('ix_visits_site_visit_owner_id_id', ['owner_id', 'id'], unique=False)


def downgrade():
    # Dropping the table drops its indexes (MariaDB refuses to drop an index a foreign key still needs).
    op.drop_table('visits_site_visit')
