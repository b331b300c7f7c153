"""orders, lines, shipments, reviews

Revision ID: orders_0001
Revises:
Create Date: 2026-11-27 01:00:00

Generated from the models (alembic autogenerate against core + quotes + contracts) and reviewed by hand.
Foreign keys to contracts_contract and quotes_quote: this lineage runs after theirs (orders REQUIRES contracts).
"""
from alembic import op
import sqlalchemy as sa
import core.db
from sqlalchemy.dialects import postgresql

revision = 'orders_0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('orders_order',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('contract_id', sa.Integer(), nullable=True),
    sa.Column('quote_id', sa.Integer(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('ordered_on', sa.Date(), nullable=False),
    sa.Column('subtotal', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('tax_total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('free_shipping', sa.Boolean(), nullable=False),
    sa.Column('remark', sa.Text(), nullable=True),
    sa.Column('external_ref', sa.String(length=64), nullable=True),
    sa.Column('exception_flag', sa.Boolean(), nullable=False),
    sa.Column('reminded_at', core.db.UTCDateTime(), nullable=True),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('custom', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('deleted_at', core.db.UTCDateTime(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], name=op.f('fk_orders_order_contact_id_contact')),
    sa.ForeignKeyConstraint(['contract_id'], ['contracts_contract.id'], name=op.f('fk_orders_order_contract_id_contracts_contract')),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_orders_order_customer_id_customer')),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_orders_order_department_id_department')),
    sa.ForeignKeyConstraint(['owner_id'], ['user_account.id'], name=op.f('fk_orders_order_owner_id_user_account')),
    sa.ForeignKeyConstraint(['quote_id'], ['quotes_quote.id'], name=op.f('fk_orders_order_quote_id_quotes_quote')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orders_order')),
    sa.UniqueConstraint('number', name=op.f('uq_orders_order_number')),
    sa.UniqueConstraint('quote_id', name=op.f('uq_orders_order_quote_id')),
    info={'owner': 'orders'}
    )
    with op.batch_alter_table('orders_order', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_orders_order_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_orders_order_contract_id'), ['contract_id'], unique=False)
        batch_op.create_index('ix_orders_order_customer_id_external_ref', ['customer_id', 'external_ref'], unique=False)
        batch_op.create_index('ix_orders_order_customer_id_id', ['customer_id', 'id'], unique=False)
        batch_op.create_index('ix_orders_order_department_id_id', ['department_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_orders_order_external_ref'), ['external_ref'], unique=False)
        batch_op.create_index('ix_orders_order_ordered_on_id', ['ordered_on', 'id'], unique=False)
        batch_op.create_index('ix_orders_order_owner_id_id', ['owner_id', 'id'], unique=False)
        batch_op.create_index('ix_orders_order_status_id', ['status', 'id'], unique=False)

    op.create_table('orders_order_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=True),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=18, scale=3), nullable=False),
    sa.Column('unit', sa.String(length=20), nullable=True),
    sa.Column('unit_price', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('discount_percent', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('tax_rate_percent', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('net', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('tax', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('gross', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('shipped_quantity', sa.Numeric(precision=18, scale=3), nullable=False),
    sa.Column('returned_quantity', sa.Numeric(precision=18, scale=3), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders_order.id'], name=op.f('fk_orders_order_line_order_id_orders_order')),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_orders_order_line_product_id_product')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orders_order_line')),
    info={'owner': 'orders'}
    )
    with op.batch_alter_table('orders_order_line', schema=None) as batch_op:
        batch_op.create_index('ix_orders_order_line_order_id_position', ['order_id', 'position'], unique=False)
        batch_op.create_index(batch_op.f('ix_orders_order_line_product_id'), ['product_id'], unique=False)

    op.create_table('orders_shipment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('shipped_on', sa.Date(), nullable=False),
    sa.Column('carrier', sa.String(length=100), nullable=True),
    sa.Column('tracking_number', sa.String(length=100), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('delivered_on', sa.Date(), nullable=True),
    sa.Column('returned_on', sa.Date(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_orders_shipment_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['order_id'], ['orders_order.id'], name=op.f('fk_orders_shipment_order_id_orders_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orders_shipment')),
    info={'owner': 'orders'}
    )
    with op.batch_alter_table('orders_shipment', schema=None) as batch_op:
        batch_op.create_index('ix_orders_shipment_order_id_id', ['order_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_orders_shipment_tracking_number'), ['tracking_number'], unique=False)

    op.create_table('orders_review',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_line_id', sa.Integer(), nullable=False),
    sa.Column('rating', sa.Integer(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('follow_up', sa.Text(), nullable=True),
    sa.Column('follow_up_status', sa.String(length=10), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_orders_review_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['order_line_id'], ['orders_order_line.id'], name=op.f('fk_orders_review_order_line_id_orders_order_line')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orders_review')),
    info={'owner': 'orders'}
    )
    with op.batch_alter_table('orders_review', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_orders_review_order_line_id'), ['order_line_id'], unique=False)

    op.create_table('orders_shipment_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shipment_id', sa.Integer(), nullable=False),
    sa.Column('order_line_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=18, scale=3), nullable=False),
    sa.ForeignKeyConstraint(['order_line_id'], ['orders_order_line.id'], name=op.f('fk_orders_shipment_line_order_line_id_orders_order_line')),
    sa.ForeignKeyConstraint(['shipment_id'], ['orders_shipment.id'], name=op.f('fk_orders_shipment_line_shipment_id_orders_shipment')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orders_shipment_line')),
    sa.UniqueConstraint('shipment_id', 'order_line_id', name=op.f('uq_orders_shipment_line_shipment_id_order_line_id')),
    info={'owner': 'orders'}
    )
    with op.batch_alter_table('orders_shipment_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_orders_shipment_line_order_line_id'), ['order_line_id'], unique=False)


def downgrade():
    # Tables only: their indexes go with them (MariaDB refuses to drop an index a foreign key still needs).
    op.drop_table('orders_shipment_line')
    op.drop_table('orders_review')
    op.drop_table('orders_shipment')
    op.drop_table('orders_order_line')
    op.drop_table('orders_order')
