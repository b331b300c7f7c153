"""quote to cash, core side: number_sequence (document numbers), mail_message + mail_attachment (outbox)

Revision ID: 0005_quote_to_cash_core
Revises: 0004_search_token_key
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql

import core.db

revision = "0005_quote_to_cash_core"
down_revision = "0004_search_token_key"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
BLOB = sa.LargeBinary().with_variant(mysql.LONGBLOB(), "mysql", "mariadb")


def upgrade():
    op.create_table(
        "number_sequence",
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", "year", name=op.f("pk_number_sequence")),
    )
    op.create_table(
        "mail_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("sender", sa.String(length=255), nullable=False),
        sa.Column("recipients", JSON, nullable=False),
        sa.Column("cc", JSON, nullable=False),
        sa.Column("reply_to", sa.String(length=255), nullable=True),
        sa.Column("subject", sa.String(length=500), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=True),
        sa.Column("related_entity", sa.String(length=40), nullable=True),
        sa.Column("related_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", core.db.UTCDateTime(), nullable=False),
        sa.Column("sent_at", core.db.UTCDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["created_by_id"], ["user_account.id"],
                                name=op.f("fk_mail_message_created_by_id_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_message")),
        sa.UniqueConstraint("message_id", name=op.f("uq_mail_message_message_id")),
    )
    op.create_index("ix_mail_message_related", "mail_message", ["related_entity", "related_id"], unique=False)
    op.create_index("ix_mail_message_status_id", "mail_message", ["status", "id"], unique=False)
    op.create_table(
        "mail_attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("mimetype", sa.String(length=100), nullable=False),
        sa.Column("content", BLOB, nullable=False),
        sa.ForeignKeyConstraint(["message_id"], ["mail_message.id"],
                                name=op.f("fk_mail_attachment_message_id_mail_message"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_attachment")),
    )
    op.create_index(op.f("ix_mail_attachment_message_id"), "mail_attachment", ["message_id"], unique=False)


def downgrade():
    op.drop_table("mail_attachment")  # with its index (MariaDB refuses to drop an index a foreign key needs)
    op.drop_index("ix_mail_message_status_id", table_name="mail_message")
    op.drop_index("ix_mail_message_related", table_name="mail_message")
    op.drop_table("mail_message")
    op.drop_table("number_sequence")
