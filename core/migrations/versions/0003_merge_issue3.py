"""Join the four branches of the module-builder work (custom fields, duplicates and saved views, imports,
search) into one head again.

Revision ID: 0003_merge_issue3
Revises: 0002_customfields, 0002_dedupe_views, 0002_imports, 0002_search
"""
revision = "0003_merge_issue3"
down_revision = ("0002_customfields", "0002_dedupe_views", "0002_imports", "0002_search")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
