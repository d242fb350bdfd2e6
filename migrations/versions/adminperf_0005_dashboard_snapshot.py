"""Admin dashboard snapshot (issue 8 item 2) and a partial index of staff who are not learners.

``admin_dashboard_snapshots`` holds the dashboard's figures computed by the
``admin_dashboard`` scheduler job (one row, replaced on every run), so no admin
request waits for the ledger aggregates. ``ix_learners_staff`` indexes the few
accounts with ``is_learner`` false: the ladder what-if and the dashboard leave
them out by id without scanning ``learners``.

Revision ID: adminperf_0005
Revises: admin_0004 (learners.is_learner)
"""
import sqlalchemy as sa
from alembic import op

revision = "adminperf_0005"
down_revision = "admin_0004"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "admin_dashboard_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_dashboard_snapshots")),
    )
    op.create_index("ix_learners_staff", "learners", ["id"],
                    postgresql_where=sa.text("is_learner IS false"), sqlite_where=sa.text("is_learner IS 0"))


def downgrade():
    op.drop_index("ix_learners_staff", table_name="learners")
    op.drop_table("admin_dashboard_snapshots")
