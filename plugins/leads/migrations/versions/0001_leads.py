"""leads

Revision ID: leads_0001
Revises:
Create Date: 2026-11-26 21:13:10.512452

Generated with ``guanxi db revision --module leads -m "leads"`` and reviewed by hand.
"""
from alembic import op
import sqlalchemy as sa
import core.db
from sqlalchemy.dialects import postgresql

revision = 'leads_0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('leads_round_robin',
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('last_user_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_leads_round_robin_department_id_department'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['last_user_id'], ['user_account.id'], name=op.f('fk_leads_round_robin_last_user_id_user_account')),
    sa.PrimaryKeyConstraint('department_id', name=op.f('pk_leads_round_robin')),
    info={'owner': 'leads'}
    )
    op.create_table('leads_web_form',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=30), nullable=False),
    sa.Column('thank_you', sa.Text(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_leads_web_form_department_id_department')),
    sa.ForeignKeyConstraint(['owner_id'], ['user_account.id'], name=op.f('fk_leads_web_form_owner_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_leads_web_form')),
    sa.UniqueConstraint('token', name=op.f('uq_leads_web_form_token')),
    info={'owner': 'leads'}
    )
    op.create_table('leads_web_form_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('form_id', sa.Integer(), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=False),
    sa.Column('at', core.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['form_id'], ['leads_web_form.id'], name=op.f('fk_leads_web_form_attempt_form_id_leads_web_form'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_leads_web_form_attempt')),
    info={'owner': 'leads'}
    )
    with op.batch_alter_table('leads_web_form_attempt', schema=None) as batch_op:
        batch_op.create_index('ix_leads_web_form_attempt_form_id_at', ['form_id', 'at'], unique=False)
        batch_op.create_index('ix_leads_web_form_attempt_ip_at', ['ip', 'at'], unique=False)

    op.create_table('leads_lead',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('company', sa.String(length=200), nullable=True),
    sa.Column('title', sa.String(length=100), nullable=True),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('mobile', sa.String(length=40), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('wechat', sa.String(length=64), nullable=True),
    sa.Column('address', sa.String(length=255), nullable=True),
    sa.Column('source', sa.String(length=30), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('rating', sa.String(length=10), nullable=True),
    sa.Column('qualification_notes', sa.Text(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('web_form_id', sa.Integer(), nullable=True),
    sa.Column('converted_customer_id', sa.Integer(), nullable=True),
    sa.Column('converted_contact_id', sa.Integer(), nullable=True),
    sa.Column('converted_opportunity_id', sa.Integer(), nullable=True),
    sa.Column('converted_at', core.db.UTCDateTime(), nullable=True),
    sa.Column('converted_by_id', sa.Integer(), nullable=True),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('custom', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('deleted_at', core.db.UTCDateTime(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['converted_by_id'], ['user_account.id'], name=op.f('fk_leads_lead_converted_by_id_user_account')),
    sa.ForeignKeyConstraint(['converted_contact_id'], ['contact.id'], name=op.f('fk_leads_lead_converted_contact_id_contact')),
    sa.ForeignKeyConstraint(['converted_customer_id'], ['customer.id'], name=op.f('fk_leads_lead_converted_customer_id_customer')),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_leads_lead_department_id_department')),
    sa.ForeignKeyConstraint(['owner_id'], ['user_account.id'], name=op.f('fk_leads_lead_owner_id_user_account')),
    sa.ForeignKeyConstraint(['web_form_id'], ['leads_web_form.id'], name=op.f('fk_leads_lead_web_form_id_leads_web_form')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_leads_lead')),
    info={'owner': 'leads'}
    )
    with op.batch_alter_table('leads_lead', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_leads_lead_converted_contact_id'), ['converted_contact_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_leads_lead_converted_customer_id'), ['converted_customer_id'], unique=False)
        batch_op.create_index('ix_leads_lead_created_at_id', ['created_at', 'id'], unique=False)
        batch_op.create_index('ix_leads_lead_department_id_id', ['department_id', 'id'], unique=False)
        batch_op.create_index('ix_leads_lead_owner_id_id', ['owner_id', 'id'], unique=False)
        batch_op.create_index('ix_leads_lead_status_id', ['status', 'id'], unique=False)



def downgrade():
    # Dropping the tables drops their indexes (MariaDB refuses to drop an index a foreign key still needs).
    op.drop_table('leads_lead')
    op.drop_table('leads_web_form_attempt')
    op.drop_table('leads_web_form')
    op.drop_table('leads_round_robin')
