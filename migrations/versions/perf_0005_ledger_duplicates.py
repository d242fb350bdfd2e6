"""Duplicate submissions per ledger entry (issue 8 item 6): a side table, the ledger stays append-only.

Revision ID: perf_0005
Revises: 0003_feed_indexes
"""
import sqlalchemy as sa
from alembic import op

revision = "perf_0005"
down_revision = "0003_feed_indexes"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "ledger_duplicates",
        sa.Column("ledger_entry_id", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["ledger_entry_id"], ["ledger_entries.id"],
                                name=op.f("fk_ledger_duplicates_ledger_entry_id_ledger_entries"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("ledger_entry_id", name=op.f("pk_ledger_duplicates")),
    )


def downgrade():
    op.drop_table("ledger_duplicates")
