"""Side quests and achievements (§10): quests, learner_quests, achievements, learner_achievements

Revision ID: quests_0004
Revises: 0003_feed_indexes
Create Date: 2026-12-02 07:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "quests_0004"
down_revision = "0003_feed_indexes"
branch_labels = None
depends_on = None


def _ts(name, nullable=True):
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade():
    op.create_table(
        "quests",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(64), nullable=False, unique=True),
        sa.Column("title", sa.String(120), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("topic", sa.String(64), nullable=True),
        sa.Column("difficulty", sa.String(16), nullable=False),
        sa.Column("reward", sa.Integer(), nullable=False),
        sa.Column("min_tier", sa.String(32), nullable=False),
        sa.Column("activity_type", sa.String(64), nullable=False),
        sa.Column("target", sa.Integer(), nullable=False),
        sa.Column("topic_filter", sa.String(64), nullable=True),
        _ts("available_from"),
        _ts("available_until"),
        sa.Column("repeat", sa.String(16), nullable=False),
        sa.Column("prerequisite_id", sa.Integer(), sa.ForeignKey("quests.id", ondelete="SET NULL"), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        _ts("published_at"),
        _ts("created_at", False),
        _ts("updated_at", False),
    )
    op.create_index("ix_quests_status_activity", "quests", ["status", "activity_type"])
    op.create_table(
        "learner_quests",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("learner_id", sa.Integer(), sa.ForeignKey("learners.id", ondelete="CASCADE"), nullable=False),
        sa.Column("quest_id", sa.Integer(), sa.ForeignKey("quests.id", ondelete="CASCADE"), nullable=False),
        sa.Column("period", sa.String(8), nullable=False),
        _ts("started_at", False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("target", sa.Integer(), nullable=False),
        _ts("completed_at"),
        sa.Column("ledger_entry_id", sa.Integer(), sa.ForeignKey("ledger_entries.id", ondelete="SET NULL"),
                  nullable=True),
        sa.UniqueConstraint("learner_id", "quest_id", "period", name="uq_learner_quests_period"),
    )
    op.create_index("ix_learner_quests_open", "learner_quests", ["learner_id", "completed_at"])
    op.create_table(
        "achievements",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("criteria_text", sa.String(200), nullable=False),
        sa.Column("criteria", sa.JSON(), nullable=False),
        sa.Column("icon", sa.String(16), nullable=False),
        sa.Column("colour", sa.String(16), nullable=False),
        sa.Column("group", sa.String(40), nullable=False),
        sa.Column("secret", sa.Boolean(), nullable=False),
        sa.Column("reward", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        _ts("created_at", False),
        _ts("updated_at", False),
    )
    op.create_table(
        "learner_achievements",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("learner_id", sa.Integer(), sa.ForeignKey("learners.id", ondelete="CASCADE"), nullable=False),
        sa.Column("achievement_id", sa.Integer(), sa.ForeignKey("achievements.id", ondelete="CASCADE"),
                  nullable=False),
        _ts("granted_at", False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("ledger_entry_id", sa.Integer(), sa.ForeignKey("ledger_entries.id", ondelete="SET NULL"),
                  nullable=True),
        sa.Column("visibility", sa.String(16), nullable=False),
        _ts("revoked_at"),
        sa.Column("revoked_reason", sa.Text(), nullable=True),
        sa.Column("revoked_by", sa.Integer(), sa.ForeignKey("learners.id", ondelete="SET NULL"), nullable=True),
        _ts("created_at", False),
        sa.UniqueConstraint("learner_id", "achievement_id", name="uq_learner_achievements_once"),
    )
    op.create_index("ix_learner_achievements_achievement", "learner_achievements", ["achievement_id"])
    op.create_index("ix_learner_achievements_entry", "learner_achievements", ["ledger_entry_id"])


def downgrade():
    op.drop_table("learner_achievements")
    op.drop_table("achievements")
    op.drop_table("learner_quests")
    op.drop_table("quests")
