"""quotes, lines, conversions

Revision ID: quotes_0001
Revises:
Create Date: 2026-11-27 00:38:07.651879

Generated with ``guanxi db revision --module quotes`` and reviewed by hand. ``opportunity_id`` and
``project_id`` have no foreign key on purpose: those modules may be disabled (their tables absent).
"""
from alembic import op
import sqlalchemy as sa
import core.db
from sqlalchemy.dialects import postgresql

revision = 'quotes_0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('quotes_quote',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('superseded', sa.Boolean(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('opportunity_id', sa.Integer(), nullable=True),
    sa.Column('project_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('sent_at', core.db.UTCDateTime(), nullable=True),
    sa.Column('decided_at', core.db.UTCDateTime(), nullable=True),
    sa.Column('terms', sa.Text(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('subtotal', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('tax_total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('custom', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('deleted_at', core.db.UTCDateTime(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], name=op.f('fk_quotes_quote_contact_id_contact')),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_quotes_quote_customer_id_customer')),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_quotes_quote_department_id_department')),
    sa.ForeignKeyConstraint(['owner_id'], ['user_account.id'], name=op.f('fk_quotes_quote_owner_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quotes_quote')),
    sa.UniqueConstraint('number', 'revision', name=op.f('uq_quotes_quote_number_revision')),
    info={'owner': 'quotes'}
    )
    with op.batch_alter_table('quotes_quote', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quotes_quote_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_quotes_quote_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index('ix_quotes_quote_department_id_id', ['department_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_quotes_quote_opportunity_id'), ['opportunity_id'], unique=False)
        batch_op.create_index('ix_quotes_quote_owner_id_id', ['owner_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_quotes_quote_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_quotes_quote_project_id'), ['project_id'], unique=False)
        batch_op.create_index('ix_quotes_quote_status_valid_until', ['status', 'valid_until'], unique=False)
        batch_op.create_index('ix_quotes_quote_updated_at_id', ['updated_at', 'id'], unique=False)

    op.create_table('quotes_conversion',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('quote_id', sa.Integer(), nullable=False),
    sa.Column('target_entity', sa.String(length=40), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_quotes_conversion_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['quote_id'], ['quotes_quote.id'], name=op.f('fk_quotes_conversion_quote_id_quotes_quote')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quotes_conversion')),
    sa.UniqueConstraint('quote_id', 'target_entity', 'target_id', name=op.f('uq_quotes_conversion_quote_id_target_entity_target_id')),
    info={'owner': 'quotes'}
    )
    with op.batch_alter_table('quotes_conversion', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quotes_conversion_quote_id'), ['quote_id'], unique=False)

    op.create_table('quotes_quote_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('quote_id', sa.Integer(), nullable=False),
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
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_quotes_quote_line_department_id_department')),
    sa.ForeignKeyConstraint(['owner_id'], ['user_account.id'], name=op.f('fk_quotes_quote_line_owner_id_user_account')),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_quotes_quote_line_product_id_product')),
    sa.ForeignKeyConstraint(['quote_id'], ['quotes_quote.id'], name=op.f('fk_quotes_quote_line_quote_id_quotes_quote')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quotes_quote_line')),
    info={'owner': 'quotes'}
    )
    with op.batch_alter_table('quotes_quote_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quotes_quote_line_product_id'), ['product_id'], unique=False)
        batch_op.create_index('ix_quotes_quote_line_quote_id_position', ['quote_id', 'position'], unique=False)



def downgrade():
    # Dropping a table drops its indexes; dropping an index that backs a foreign key first fails on MariaDB.
    op.drop_table('quotes_quote_line')
    op.drop_table('quotes_conversion')
    op.drop_table('quotes_quote')
