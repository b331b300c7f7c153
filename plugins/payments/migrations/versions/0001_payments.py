"""payments: plans, payments, pre-receipts and their applications

Revision ID: payments_0001
Revises:
Create Date: 2026-11-27 00:50:00

Written for the "payments" lineage (version table ``alembic_version_payments``); runs after the contracts and
orders lineages (payments REQUIRES orders), whose tables it references.
"""
from alembic import op
import sqlalchemy as sa
import core.db
from sqlalchemy.dialects import postgresql

revision = 'payments_0001'
down_revision = None
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def _owned(table):
    """owner/department, timestamps, version (the mixins every scoped record has)."""
    return [
        sa.Column('owner_id', sa.Integer(), nullable=True),
        sa.Column('department_id', sa.Integer(), nullable=True),
        sa.Column('created_at', core.db.UTCDateTime(), nullable=False),
        sa.Column('updated_at', core.db.UTCDateTime(), nullable=False),
        sa.Column('deleted_at', core.db.UTCDateTime(), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=f'fk_{table}_department_id_department'),
        sa.ForeignKeyConstraint(['owner_id'], ['user_account.id'], name=f'fk_{table}_owner_id_user_account'),
        sa.PrimaryKeyConstraint('id', name=f'pk_{table}'),
    ]


def _indexes(table, *columns, scoped=True):
    with op.batch_alter_table(table, schema=None) as batch_op:
        if scoped:
            batch_op.create_index(f'ix_{table}_owner_id_id', ['owner_id', 'id'], unique=False)
            batch_op.create_index(f'ix_{table}_department_id_id', ['department_id', 'id'], unique=False)
        for column in columns:
            batch_op.create_index(f'ix_{table}_{column}', [column], unique=False)


def _fk(table, column, target):
    return sa.ForeignKeyConstraint([column], [f'{target}.id'], name=f'fk_{table}_{column}_{target}')


def upgrade():
    op.create_table('payments_plan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=True),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('instalment', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('received_amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    *_owned('payments_plan'),
    _fk('payments_plan', 'contract_id', 'contracts_contract'),
    _fk('payments_plan', 'order_id', 'orders_order'),
    _fk('payments_plan', 'customer_id', 'customer'),
    info={'owner': 'payments'}
    )
    _indexes('payments_plan', 'contract_id', 'order_id', 'customer_id')
    with op.batch_alter_table('payments_plan', schema=None) as batch_op:
        batch_op.create_index('ix_payments_plan_due_on_id', ['due_on', 'id'], unique=False)

    op.create_table('payments_prereceipt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('applied_amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('method', sa.String(length=20), nullable=False),
    sa.Column('reference', sa.String(length=100), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('custom', JSON, nullable=False),
    *_owned('payments_prereceipt'),
    _fk('payments_prereceipt', 'customer_id', 'customer'),
    info={'owner': 'payments'}
    )
    _indexes('payments_prereceipt', 'customer_id')

    op.create_table('payments_payment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=True),
    sa.Column('contract_id', sa.Integer(), nullable=True),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('method', sa.String(length=20), nullable=False),
    sa.Column('reference', sa.String(length=100), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('overpayment', sa.Boolean(), nullable=False),
    sa.Column('overpayment_reason', sa.String(length=500), nullable=True),
    sa.Column('prereceipt_id', sa.Integer(), nullable=True),
    sa.Column('custom', JSON, nullable=False),
    *_owned('payments_payment'),
    _fk('payments_payment', 'plan_id', 'payments_plan'),
    _fk('payments_payment', 'contract_id', 'contracts_contract'),
    _fk('payments_payment', 'order_id', 'orders_order'),
    _fk('payments_payment', 'customer_id', 'customer'),
    _fk('payments_payment', 'prereceipt_id', 'payments_prereceipt'),
    info={'owner': 'payments'}
    )
    _indexes('payments_payment', 'plan_id', 'contract_id', 'order_id', 'customer_id', 'prereceipt_id')
    with op.batch_alter_table('payments_payment', schema=None) as batch_op:
        batch_op.create_index('ix_payments_payment_received_on_id', ['received_on', 'id'], unique=False)

    op.create_table('payments_prereceipt_application',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('prereceipt_id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('payment_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('applied_on', sa.Date(), nullable=False),
    sa.Column('applied_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    # the conventional name would pass the 63 characters PostgreSQL allows
    sa.ForeignKeyConstraint(['prereceipt_id'], ['payments_prereceipt.id'],
                            name='fk_payments_prereceipt_application_prereceipt_id'),
    _fk('payments_prereceipt_application', 'plan_id', 'payments_plan'),
    _fk('payments_prereceipt_application', 'payment_id', 'payments_payment'),
    sa.ForeignKeyConstraint(['applied_by_id'], ['user_account.id'],
                            name='fk_payments_prereceipt_application_applied_by_id_user_account'),
    sa.PrimaryKeyConstraint('id', name='pk_payments_prereceipt_application'),
    info={'owner': 'payments'}
    )
    _indexes('payments_prereceipt_application', 'prereceipt_id', 'plan_id', 'payment_id', scoped=False)


def downgrade():
    # Dropping a table drops its indexes (MariaDB refuses to drop an index a foreign key still needs).
    for table in ("payments_prereceipt_application", "payments_payment", "payments_prereceipt", "payments_plan"):
        op.drop_table(table)
