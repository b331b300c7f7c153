"""opportunities, stages, stage history; stock stages

Revision ID: opportunities_0001
Revises:
Create Date: 2026-11-26 21:20:00

Written after ``guanxi db revision --module opportunities``'s output and reviewed by hand. The stock stages
are seeded here (data as of this revision, copied on purpose: a migration never imports changing app code).
"""
from alembic import op
import sqlalchemy as sa
import core.db


revision = 'opportunities_0001'
down_revision = None
branch_labels = None
depends_on = None

STOCK_STAGES = [
    # key, label_zh, label_en, probability, position, kind
    ("initial_contact", "初步接洽", "Initial contact", 10, 10, "open"),
    ("needs_confirmed", "需求确认", "Needs confirmed", 30, 20, "open"),
    ("proposal", "方案报价", "Proposal / quote", 50, 30, "open"),
    ("negotiation", "谈判审核", "Negotiation", 70, 40, "open"),
    ("won", "赢单", "Won", 100, 50, "won"),
    ("lost", "输单", "Lost", 0, 60, "lost"),
]


def upgrade():
    stage = op.create_table('opportunities_stage',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('label_zh', sa.String(length=60), nullable=False),
    sa.Column('label_en', sa.String(length=60), nullable=False),
    sa.Column('probability', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_opportunities_stage')),
    sa.UniqueConstraint('key', name=op.f('uq_opportunities_stage_key')),
    info={'owner': 'opportunities'}
    )
    op.create_table('opportunities_opportunity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('stage_id', sa.Integer(), nullable=True),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('expected_close', sa.Date(), nullable=True),
    sa.Column('source', sa.String(length=50), nullable=True),
    sa.Column('competitors', sa.Text(), nullable=True),
    sa.Column('close_reason', sa.String(length=40), nullable=True),
    sa.Column('close_note', sa.Text(), nullable=True),
    sa.Column('closed_at', core.db.UTCDateTime(), nullable=True),
    sa.Column('lead_id', sa.Integer(), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('custom', sa.JSON().with_variant(sa.dialects.postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('deleted_at', core.db.UTCDateTime(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], name=op.f('fk_opportunities_opportunity_contact_id_contact')),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_opportunities_opportunity_customer_id_customer')),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_opportunities_opportunity_department_id_department')),
    sa.ForeignKeyConstraint(['owner_id'], ['user_account.id'], name=op.f('fk_opportunities_opportunity_owner_id_user_account')),
    sa.ForeignKeyConstraint(['stage_id'], ['opportunities_stage.id'], name=op.f('fk_opportunities_opportunity_stage_id_opportunities_stage')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_opportunities_opportunity')),
    info={'owner': 'opportunities'}
    )
    with op.batch_alter_table('opportunities_opportunity', schema=None) as batch_op:
        batch_op.create_index('ix_opportunities_opportunity_amount_id', ['amount', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_opportunities_opportunity_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_opportunities_opportunity_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index('ix_opportunities_opportunity_department_id_id', ['department_id', 'id'], unique=False)
        batch_op.create_index('ix_opportunities_opportunity_expected_close_id', ['expected_close', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_opportunities_opportunity_lead_id'), ['lead_id'], unique=False)
        batch_op.create_index('ix_opportunities_opportunity_owner_id_id', ['owner_id', 'id'], unique=False)
        batch_op.create_index('ix_opportunities_opportunity_stage_id_expected_close', ['stage_id', 'expected_close'], unique=False)

    op.create_table('opportunities_stage_history',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('opportunity_id', sa.Integer(), nullable=False),
    sa.Column('from_stage_id', sa.Integer(), nullable=True),
    sa.Column('to_stage_id', sa.Integer(), nullable=True),
    sa.Column('changed_by_id', sa.Integer(), nullable=True),
    sa.Column('changed_at', core.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['changed_by_id'], ['user_account.id'], name=op.f('fk_opportunities_stage_history_changed_by_id_user_account')),
    sa.ForeignKeyConstraint(['from_stage_id'], ['opportunities_stage.id'], name=op.f('fk_opportunities_stage_history_from_stage_id_opportunities_stage')),
    sa.ForeignKeyConstraint(['opportunity_id'], ['opportunities_opportunity.id'], name=op.f('fk_opportunities_stage_history_opportunity_id_opportunities_opportunity')),
    sa.ForeignKeyConstraint(['to_stage_id'], ['opportunities_stage.id'], name=op.f('fk_opportunities_stage_history_to_stage_id_opportunities_stage')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_opportunities_stage_history')),
    info={'owner': 'opportunities'}
    )
    with op.batch_alter_table('opportunities_stage_history', schema=None) as batch_op:
        batch_op.create_index('ix_opportunities_stage_history_opportunity_id_id', ['opportunity_id', 'id'], unique=False)

    op.bulk_insert(stage, [
        {"key": key, "label_zh": zh, "label_en": en, "probability": probability, "position": position,
         "kind": kind, "active": True}
        for key, zh, en, probability, position, kind in STOCK_STAGES
    ])


def downgrade():
    # Dropping the tables drops their indexes (MariaDB refuses to drop an index a foreign key still needs).
    op.drop_table('opportunities_stage_history')
    op.drop_table('opportunities_opportunity')
    op.drop_table('opportunities_stage')
