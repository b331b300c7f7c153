"""duplicate keys on customer/contact, saved list views

Revision ID: 0002_dedupe_views
Revises: ce9ff85cf651
Create Date: 2026-11-27

Adds the normalised, indexed ``name_key``/``phone_key``/``email_key`` columns of ``core.dedupe`` to customer
and contact (and fills them for existing rows), and the ``saved_view`` table of ``core.savedviews``.
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

import core.db

revision = "0002_dedupe_views"
down_revision = "ce9ff85cf651"
branch_labels = None
depends_on = None

KEY_COLUMNS = (("name_key", 200), ("phone_key", 40), ("email_key", 254))
BATCH = 1000


def upgrade():
    for table in ("customer", "contact"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, length in KEY_COLUMNS:
                batch_op.add_column(sa.Column(name, sa.String(length=length), nullable=True))
                batch_op.create_index(f"ix_{table}_{name}", [name], unique=False)
        _fill_keys(table)

    op.create_table(
        "saved_view",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("entity", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("query", sa.String(length=2000), nullable=False),
        sa.Column("columns", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                  nullable=False),
        sa.Column("role_id", sa.Integer(), nullable=True),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("created_at", core.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["department_id"], ["department.id"],
                                name=op.f("fk_saved_view_department_id_department"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["role_id"], ["role.id"], name=op.f("fk_saved_view_role_id_role"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"], name=op.f("fk_saved_view_user_id_user_account"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_view")),
        sa.UniqueConstraint("user_id", "entity", "name", name=op.f("uq_saved_view_user_id_entity_name")),
        info={"owner": "core"},
    )
    with op.batch_alter_table("saved_view", schema=None) as batch_op:
        batch_op.create_index("ix_saved_view_entity_user_id", ["entity", "user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_saved_view_role_id"), ["role_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_saved_view_department_id"), ["department_id"], unique=False)


def _fill_keys(table_name):
    """Existing rows get their keys (the same rules as the application, core.dedupe.keys)."""
    from core.dedupe.keys import KEY_SOURCES, first_key

    sources = KEY_SOURCES[table_name]
    source_columns = sorted({c for _n, cols in sources.values() for c in cols})
    table = sa.table(table_name, sa.column("id"), *[sa.column(c) for c in source_columns],
                     *[sa.column(k) for k in sources])
    bind = op.get_bind()
    last_id = 0
    while True:
        rows = bind.execute(sa.select(table).where(table.c.id > last_id).order_by(table.c.id).limit(BATCH)).all()
        if not rows:
            return
        for row in rows:
            values = {key: first_key(normaliser, [getattr(row, c) for c in cols])
                      for key, (normaliser, cols) in sources.items()}
            bind.execute(table.update().where(table.c.id == row.id).values(**values))
        last_id = rows[-1].id


def downgrade():
    op.drop_table("saved_view")
    for table in ("contact", "customer"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, _length in KEY_COLUMNS:
                batch_op.drop_index(f"ix_{table}_{name}")
                batch_op.drop_column(name)
