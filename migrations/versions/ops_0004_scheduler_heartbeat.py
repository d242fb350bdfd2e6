"""Scheduler heartbeat table (read by /readyz, issue 12).

Revision ID: ops_0004
Revises: 0003_feed_indexes
"""
import sqlalchemy as sa
from alembic import op

revision = "ops_0004"
down_revision = "0003_feed_indexes"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "scheduler_heartbeats",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("beat_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade():
    op.drop_table("scheduler_heartbeats")
