"""Security: a per-learner session generation (sign-out ends every credential) an erasure marker; rules say whether API callers may award them.

``learners.session_generation`` is part of the id Flask-Login keeps in the
session and the remember cookie; bumping it (sign-out, "sign out of all
devices", password change, erasure) makes every earlier cookie worthless.
``learners.erased_at`` marks an account erased on request (§15, issue 10).

Revision ID: security_0004
Revises: 0003_feed_indexes
"""
import sqlalchemy as sa
from alembic import op

revision = "security_0004"
down_revision = "0003_feed_indexes"
branch_labels = None
depends_on = None

SYSTEM_ONLY = ("daily_login", "streak_bonus", "weekly_goal_completed", "circle_goal_completed",
               "side_quest_completed", "achievement_earned")


def upgrade():
    with op.batch_alter_table("learners") as batch_op:
        batch_op.add_column(sa.Column("session_generation", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("point_rules") as batch_op:
        batch_op.add_column(sa.Column("api_allowed", sa.Boolean(), nullable=False, server_default=sa.true()))
    rules = sa.table("point_rules", sa.column("activity_type", sa.String), sa.column("api_allowed", sa.Boolean))
    op.execute(rules.update().where(rules.c.activity_type.in_(SYSTEM_ONLY)).values(api_allowed=False))


def downgrade():
    # Plain ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35): a batch rebuild of learners would lose the
    # expression index on lower(username), as admin_0004 explains.
    op.execute("ALTER TABLE point_rules DROP COLUMN api_allowed")
    op.execute("ALTER TABLE learners DROP COLUMN erased_at")
    op.execute("ALTER TABLE learners DROP COLUMN session_generation")
