"""global search: the search_token inverted index

Revision ID: 0002_search
Revises: ce9ff85cf651
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = "0002_search"
down_revision = "ce9ff85cf651"
branch_labels = None
depends_on = None


# Binary (code-point) order, so prefix ranges work: "C" on PostgreSQL, utf8mb4_bin on MariaDB.
TokenType = (sa.String(40)
             .with_variant(sa.String(40, collation="C"), "postgresql")
             .with_variant(mysql.VARCHAR(40, charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb"))


def upgrade():
    op.create_table(
        "search_token",
        sa.Column("token", TokenType, nullable=False),
        sa.Column("entity", sa.String(length=40), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("token", "entity", "record_id", name="pk_search_token"),
        sqlite_with_rowid=False,
        info={"owner": "core"},
    )
    op.create_index("ix_search_token_record", "search_token", ["entity", "record_id"], unique=False)


def downgrade():
    op.drop_index("ix_search_token_record", table_name="search_token")
    op.drop_table("search_token")
