"""invoices: requests (开票申请) and invoice records (开票记录)

Revision ID: invoices_0001
Revises:
Create Date: 2026-11-27 00:41:05.036763

Generated with ``guanxi db revision --module invoices`` and reviewed by hand (astext_type spelled
``sa.Text()``). Foreign keys to contracts, orders and payments: those lineages run first (REQUIRES).
"""
from alembic import op
import sqlalchemy as sa
import core.db
from sqlalchemy.dialects import postgresql

revision = 'invoices_0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('invoices_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', core.db.UTCDateTime(), nullable=True),
    sa.Column('contract_id', sa.Integer(), nullable=True),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('payment_id', sa.Integer(), nullable=True),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('type', sa.String(length=10), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('tax_number', sa.String(length=18), nullable=True),
    sa.Column('bank', sa.String(length=200), nullable=True),
    sa.Column('bank_account', sa.String(length=60), nullable=True),
    sa.Column('address_phone', sa.String(length=255), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('custom', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('deleted_at', core.db.UTCDateTime(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['contract_id'], ['contracts_contract.id'], name=op.f('fk_invoices_request_contract_id_contracts_contract')),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_invoices_request_customer_id_customer')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user_account.id'], name=op.f('fk_invoices_request_decided_by_id_user_account')),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_invoices_request_department_id_department')),
    sa.ForeignKeyConstraint(['order_id'], ['orders_order.id'], name=op.f('fk_invoices_request_order_id_orders_order')),
    sa.ForeignKeyConstraint(['owner_id'], ['user_account.id'], name=op.f('fk_invoices_request_owner_id_user_account')),
    sa.ForeignKeyConstraint(['payment_id'], ['payments_payment.id'], name=op.f('fk_invoices_request_payment_id_payments_payment')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoices_request')),
    info={'owner': 'invoices'}
    )
    with op.batch_alter_table('invoices_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invoices_request_contract_id'), ['contract_id'], unique=False)
        batch_op.create_index('ix_invoices_request_customer_id_id', ['customer_id', 'id'], unique=False)
        batch_op.create_index('ix_invoices_request_department_id_id', ['department_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invoices_request_order_id'), ['order_id'], unique=False)
        batch_op.create_index('ix_invoices_request_owner_id_id', ['owner_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invoices_request_payment_id'), ['payment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invoices_request_status'), ['status'], unique=False)

    op.create_table('invoices_invoice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=True),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('tax_rate', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('tax_amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('void_reason', sa.Text(), nullable=True),
    sa.Column('voided_by_id', sa.Integer(), nullable=True),
    sa.Column('voided_at', core.db.UTCDateTime(), nullable=True),
    sa.Column('over_invoice', sa.Boolean(), nullable=False),
    sa.Column('over_invoice_reason', sa.Text(), nullable=True),
    sa.Column('contract_id', sa.Integer(), nullable=True),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('payment_id', sa.Integer(), nullable=True),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('type', sa.String(length=10), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('tax_number', sa.String(length=18), nullable=True),
    sa.Column('bank', sa.String(length=200), nullable=True),
    sa.Column('bank_account', sa.String(length=60), nullable=True),
    sa.Column('address_phone', sa.String(length=255), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('custom', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('deleted_at', core.db.UTCDateTime(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['contract_id'], ['contracts_contract.id'], name=op.f('fk_invoices_invoice_contract_id_contracts_contract')),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_invoices_invoice_customer_id_customer')),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_invoices_invoice_department_id_department')),
    sa.ForeignKeyConstraint(['order_id'], ['orders_order.id'], name=op.f('fk_invoices_invoice_order_id_orders_order')),
    sa.ForeignKeyConstraint(['owner_id'], ['user_account.id'], name=op.f('fk_invoices_invoice_owner_id_user_account')),
    sa.ForeignKeyConstraint(['payment_id'], ['payments_payment.id'], name=op.f('fk_invoices_invoice_payment_id_payments_payment')),
    sa.ForeignKeyConstraint(['request_id'], ['invoices_request.id'], name=op.f('fk_invoices_invoice_request_id_invoices_request')),
    sa.ForeignKeyConstraint(['voided_by_id'], ['user_account.id'], name=op.f('fk_invoices_invoice_voided_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoices_invoice')),
    sa.UniqueConstraint('type', 'number', name='uq_invoices_invoice_type_number'),
    info={'owner': 'invoices'}
    )
    with op.batch_alter_table('invoices_invoice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invoices_invoice_contract_id'), ['contract_id'], unique=False)
        batch_op.create_index('ix_invoices_invoice_customer_id_id', ['customer_id', 'id'], unique=False)
        batch_op.create_index('ix_invoices_invoice_department_id_id', ['department_id', 'id'], unique=False)
        batch_op.create_index('ix_invoices_invoice_issued_on_id', ['issued_on', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invoices_invoice_order_id'), ['order_id'], unique=False)
        batch_op.create_index('ix_invoices_invoice_owner_id_id', ['owner_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invoices_invoice_payment_id'), ['payment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invoices_invoice_request_id'), ['request_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invoices_invoice_status'), ['status'], unique=False)


def downgrade():
    # Dropping a table drops its indexes (MariaDB refuses to drop an index a foreign key still needs).
    op.drop_table('invoices_invoice')
    op.drop_table('invoices_request')
