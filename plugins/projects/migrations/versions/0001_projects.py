"""projects, stages, links

Revision ID: projects_0001
Revises:
Create Date: 2026-11-26 21:13:21.589516

Generated with ``guanxi db revision --module projects`` and reviewed by hand; seeds the nine default
stages (项目立项 → 项目拓展), which administrators may rename, reorder or deactivate afterwards.
"""
import datetime as dt

from alembic import op
import sqlalchemy as sa
import core.db
from sqlalchemy.dialects import postgresql

revision = 'projects_0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('projects_number_counter',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last_value', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_projects_number_counter')),
    info={'owner': 'projects'}
    )
    op.create_table('projects_stage',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('name_zh', sa.String(length=100), nullable=False),
    sa.Column('name_en', sa.String(length=100), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_projects_stage')),
    sa.UniqueConstraint('key', name=op.f('uq_projects_stage_key')),
    info={'owner': 'projects'}
    )
    op.create_table('projects_project',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('importance', sa.String(length=20), nullable=False),
    sa.Column('type', sa.String(length=30), nullable=False),
    sa.Column('kickoff_date', sa.Date(), nullable=True),
    sa.Column('stage_id', sa.Integer(), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('custom', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('deleted_at', core.db.UTCDateTime(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_projects_project_department_id_department')),
    sa.ForeignKeyConstraint(['owner_id'], ['user_account.id'], name=op.f('fk_projects_project_owner_id_user_account')),
    sa.ForeignKeyConstraint(['stage_id'], ['projects_stage.id'], name=op.f('fk_projects_project_stage_id_projects_stage')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_projects_project')),
    sa.UniqueConstraint('number', name=op.f('uq_projects_project_number')),
    info={'owner': 'projects'}
    )
    with op.batch_alter_table('projects_project', schema=None) as batch_op:
        batch_op.create_index('ix_projects_project_department_id_id', ['department_id', 'id'], unique=False)
        batch_op.create_index('ix_projects_project_kickoff_date_id', ['kickoff_date', 'id'], unique=False)
        batch_op.create_index('ix_projects_project_owner_id_id', ['owner_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_projects_project_stage_id'), ['stage_id'], unique=False)
        batch_op.create_index('ix_projects_project_updated_at_id', ['updated_at', 'id'], unique=False)

    op.create_table('projects_project_customer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=50), nullable=True),
    sa.Column('note', sa.String(length=255), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_projects_project_customer_customer_id_customer')),
    sa.ForeignKeyConstraint(['project_id'], ['projects_project.id'], name=op.f('fk_projects_project_customer_project_id_projects_project')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_projects_project_customer')),
    sa.UniqueConstraint('project_id', 'customer_id', name=op.f('uq_projects_project_customer_project_id_customer_id')),
    info={'owner': 'projects'}
    )
    with op.batch_alter_table('projects_project_customer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_projects_project_customer_customer_id'), ['customer_id'], unique=False)

    op.create_table('projects_stage_history',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('from_stage_id', sa.Integer(), nullable=True),
    sa.Column('to_stage_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('changed_by_id', sa.Integer(), nullable=True),
    sa.Column('changed_at', core.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['changed_by_id'], ['user_account.id'], name=op.f('fk_projects_stage_history_changed_by_id_user_account')),
    sa.ForeignKeyConstraint(['from_stage_id'], ['projects_stage.id'], name=op.f('fk_projects_stage_history_from_stage_id_projects_stage')),
    sa.ForeignKeyConstraint(['project_id'], ['projects_project.id'], name=op.f('fk_projects_stage_history_project_id_projects_project')),
    sa.ForeignKeyConstraint(['to_stage_id'], ['projects_stage.id'], name=op.f('fk_projects_stage_history_to_stage_id_projects_stage')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_projects_stage_history')),
    info={'owner': 'projects'}
    )
    with op.batch_alter_table('projects_stage_history', schema=None) as batch_op:
        batch_op.create_index('ix_projects_stage_history_project_id_id', ['project_id', 'id'], unique=False)

    op.create_table('projects_project_contact',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=50), nullable=True),
    sa.Column('note', sa.String(length=255), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], name=op.f('fk_projects_project_contact_contact_id_contact')),
    sa.ForeignKeyConstraint(['project_id'], ['projects_project.id'], name=op.f('fk_projects_project_contact_project_id_projects_project')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_projects_project_contact')),
    sa.UniqueConstraint('project_id', 'contact_id', name=op.f('uq_projects_project_contact_project_id_contact_id')),
    info={'owner': 'projects'}
    )
    with op.batch_alter_table('projects_project_contact', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_projects_project_contact_contact_id'), ['contact_id'], unique=False)
    _seed_stages()


DEFAULT_STAGES = [  # a copy, not an import: a shipped migration must not change when the models do
    ("initiation", "项目立项", "Initiation"),
    ("tracking", "项目跟踪", "Tracking"),
    ("technical", "技术确认", "Technical confirmation"),
    ("commercial", "商务确认", "Commercial confirmation"),
    ("contract", "合同签订", "Contract signed"),
    ("delivery", "供货与回款", "Delivery & payment"),
    ("after_sales", "售后管理", "After-sales"),
    ("visits", "定期回访", "Regular follow-up visits"),
    ("expansion", "项目拓展", "Expansion"),
]


def _seed_stages():
    stage = sa.table("projects_stage", sa.column("key", sa.String), sa.column("name_zh", sa.String),
                     sa.column("name_en", sa.String), sa.column("position", sa.Integer),
                     sa.column("active", sa.Boolean), sa.column("created_at", core.db.UTCDateTime()),
                     sa.column("updated_at", core.db.UTCDateTime()))
    now = dt.datetime.now(dt.timezone.utc)
    op.bulk_insert(stage, [{"key": key, "name_zh": zh, "name_en": en, "position": (index + 1) * 10,
                            "active": True, "created_at": now, "updated_at": now}
                           for index, (key, zh, en) in enumerate(DEFAULT_STAGES)])



def downgrade():
    # Dropping a table drops its indexes (MariaDB refuses to drop an index a foreign key still needs).
    for table in ("projects_project_contact", "projects_stage_history", "projects_project_customer",
                  "projects_project", "projects_stage", "projects_number_counter"):
        op.drop_table(table)
