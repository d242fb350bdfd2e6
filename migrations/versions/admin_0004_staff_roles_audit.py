"""Staff roles as data (learners.staff_role, learners.is_learner; is_admin folded in) and the audit log

Revision ID: admin_0004
Revises: 0003_feed_indexes
Create Date: 2026-12-02 06:50:00

§11: staff_role is NULL (learner), 'admin' or 'moderator'; existing
is_admin = true rows become staff_role = 'admin' and stop being learners
(is_learner = false). The is_admin column is dropped (the model keeps an
``is_admin`` property over staff_role). audit_entries is the append-only
log of staff actions (thrive/models/audit.py).
"""
import sqlalchemy as sa
from alembic import op

revision = "admin_0004"
down_revision = "0003_feed_indexes"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ALTER TABLE (no batch "move and copy"): a batch rebuild of learners on SQLite
    # would lose the expression index ix_learners_username_lower. SQLite ≥ 3.35 drops columns natively.
    op.add_column("learners", sa.Column("staff_role", sa.String(length=16), nullable=True))
    op.add_column("learners", sa.Column("is_learner", sa.Boolean(), nullable=False, server_default=sa.true()))
    op.execute("UPDATE learners SET staff_role = 'admin', is_learner = false WHERE is_admin")
    op.execute("ALTER TABLE learners DROP COLUMN is_admin")
    op.create_index("ix_learners_staff_role", "learners", ["staff_role"])

    op.create_table(
        "audit_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_username", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target_type", sa.String(length=32), nullable=True),
        sa.Column("target_id", sa.String(length=128), nullable=True),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["actor_id"], ["learners.id"], name=op.f("fk_audit_entries_actor_id_learners"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entries")),
    )
    op.create_index("ix_audit_entries_at", "audit_entries", ["at"])
    op.create_index("ix_audit_entries_actor_at", "audit_entries", ["actor_id", "at"])
    op.create_index("ix_audit_entries_action_at", "audit_entries", ["action", "at"])
    op.create_index("ix_audit_entries_target", "audit_entries", ["target_type", "target_id"])


def downgrade():
    op.drop_table("audit_entries")
    op.drop_index("ix_learners_staff_role", table_name="learners")
    op.add_column("learners", sa.Column("is_admin", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute("UPDATE learners SET is_admin = true WHERE staff_role = 'admin'")
    op.execute("ALTER TABLE learners DROP COLUMN is_learner")
    op.execute("ALTER TABLE learners DROP COLUMN staff_role")
