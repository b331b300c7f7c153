"""contracts and their delivery plans

Revision ID: contracts_0001
Revises:
Create Date: 2026-11-27 00:50:00

Written to match ``plugins/contracts/models.py`` (checked against the models by tests/contract).
``opportunity_id`` / ``project_id`` carry no foreign key on purpose: those modules are optional.
"""
from alembic import op
import sqlalchemy as sa
import core.db
from sqlalchemy.dialects import postgresql

revision = 'contracts_0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('contracts_contract',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('quote_id', sa.Integer(), nullable=True),
    sa.Column('opportunity_id', sa.Integer(), nullable=True),
    sa.Column('project_id', sa.Integer(), nullable=True),
    sa.Column('previous_id', sa.Integer(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('signed_on', sa.Date(), nullable=True),
    sa.Column('starts_on', sa.Date(), nullable=True),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('renewal_on', sa.Date(), nullable=True),
    sa.Column('terms', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('custom', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('deleted_at', core.db.UTCDateTime(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], name=op.f('fk_contracts_contract_contact_id_contact')),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_contracts_contract_customer_id_customer')),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_contracts_contract_department_id_department')),
    sa.ForeignKeyConstraint(['owner_id'], ['user_account.id'], name=op.f('fk_contracts_contract_owner_id_user_account')),
    sa.ForeignKeyConstraint(['quote_id'], ['quotes_quote.id'], name=op.f('fk_contracts_contract_quote_id_quotes_quote')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contracts_contract')),
    sa.UniqueConstraint('number', name=op.f('uq_contracts_contract_number')),
    sa.UniqueConstraint('quote_id', name=op.f('uq_contracts_contract_quote_id')),
    info={'owner': 'contracts'}
    )
    with op.batch_alter_table('contracts_contract', schema=None) as batch_op:
        batch_op.create_index('ix_contracts_contract_amount_id', ['amount', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contracts_contract_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contracts_contract_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index('ix_contracts_contract_department_id_id', ['department_id', 'id'], unique=False)
        batch_op.create_index('ix_contracts_contract_ends_on_id', ['ends_on', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contracts_contract_opportunity_id'), ['opportunity_id'], unique=False)
        batch_op.create_index('ix_contracts_contract_owner_id_id', ['owner_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contracts_contract_previous_id'), ['previous_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contracts_contract_project_id'), ['project_id'], unique=False)
        batch_op.create_index('ix_contracts_contract_updated_at_id', ['updated_at', 'id'], unique=False)

    op.create_table('contracts_delivery_plan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('items', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('delivered_on', sa.Date(), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['contract_id'], ['contracts_contract.id'], name=op.f('fk_contracts_delivery_plan_contract_id_contracts_contract')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contracts_delivery_plan')),
    info={'owner': 'contracts'}
    )
    with op.batch_alter_table('contracts_delivery_plan', schema=None) as batch_op:
        batch_op.create_index('ix_contracts_delivery_plan_contract_id_position', ['contract_id', 'position'], unique=False)
        batch_op.create_index('ix_contracts_delivery_plan_status_due_on', ['status', 'due_on'], unique=False)


def downgrade():
    # Dropping a table drops its indexes (MariaDB refuses to drop an index a foreign key still needs).
    op.drop_table('contracts_delivery_plan')
    op.drop_table('contracts_contract')
