"""search_token: primary key (entity, token, record_id) instead of (token, entity, record_id)

Every search names one entity and a token prefix; with the entity first the lookup is one contiguous range
of the clustered key. A primary key cannot be reordered in place on SQLite, so on every database the table
is rebuilt: the old one is renamed aside, the new one created, the tokens copied over in key order (no
reindex needed: tokens keep their meaning), the old one dropped.

Revision ID: 0004_search_token_key
Revises: 0003_merge_issue3
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = "0004_search_token_key"
down_revision = "0003_merge_issue3"
branch_labels = None
depends_on = None

# Binary (code-point) order, so prefix ranges work: "C" on PostgreSQL, utf8mb4_bin on MariaDB.
TokenType = (sa.String(40)
             .with_variant(sa.String(40, collation="C"), "postgresql")
             .with_variant(mysql.VARCHAR(40, charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb"))

OLD = "search_token_old"
NEW_KEY = ("entity", "token", "record_id")
OLD_KEY = ("token", "entity", "record_id")


def _rebuild(key):
    dialect = op.get_bind().dialect.name
    op.drop_index("ix_search_token_record", table_name="search_token")
    op.rename_table("search_token", OLD)
    if dialect == "postgresql":
        # the primary key's index keeps its name across a table rename; free the name for the new table
        op.execute(sa.text(f"ALTER INDEX pk_search_token RENAME TO pk_{OLD}"))
    op.create_table(
        "search_token",
        sa.Column("token", TokenType, nullable=False),
        sa.Column("entity", sa.String(length=40), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(*key, name="pk_search_token"),
        sqlite_with_rowid=False,
        info={"owner": "core"},
    )
    columns = ["token", "entity", "record_id"]
    old = sa.table(OLD, *(sa.column(name) for name in columns))
    new = sa.table("search_token", *(sa.column(name) for name in columns))
    ordered = [old.c[name] for name in key]
    op.get_bind().execute(sa.insert(new).from_select(columns, sa.select(*(old.c[n] for n in columns))
                                                     .order_by(*ordered)))
    op.drop_table(OLD)
    op.create_index("ix_search_token_record", "search_token", ["entity", "record_id"], unique=False)


def upgrade():
    _rebuild(NEW_KEY)


def downgrade():
    _rebuild(OLD_KEY)
