"""Point rule versions (each ledger entry records the version that priced it) and feed moderation.

- ``point_rules.version`` (current version, 1 as seeded) and ``point_rule_versions``
  (every saved version, whole, with author and time, §4.2);
- ``ledger_entries.rule_version`` (nullable: entries written before versioning have none, §4.4);
- ``feed_reports``, ``hidden_feed_items``, ``moderation_actions`` (§8.1, §11).

Revision ID: economy_0004
Revises: 0003_feed_indexes
"""
import sqlalchemy as sa
from alembic import op

revision = "economy_0004"
down_revision = "0003_feed_indexes"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ALTER TABLE (no batch "move and copy": a SQLite rebuild reflects the learners table and
    # would trip over its expression index); SQLite ≥ 3.35 adds and drops columns natively.
    op.add_column("point_rules", sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
    op.add_column("ledger_entries", sa.Column("rule_version", sa.Integer(), nullable=True))
    op.create_table(
        "point_rule_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_type", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["activity_type"], ["point_rules.activity_type"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["author_id"], ["learners.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("activity_type", "version", name="uq_point_rule_versions_type_version"),
    )
    op.create_table(
        "feed_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reporter_id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("target_kind", sa.String(length=16), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("details", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by_id", sa.Integer(), nullable=True),
        sa.Column("resolution", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(["reporter_id"], ["learners.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["subject_id"], ["learners.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["resolved_by_id"], ["learners.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("reporter_id", "target_kind", "target_id", name="uq_feed_reports_reporter_item"),
    )
    op.create_index("ix_feed_reports_open", "feed_reports", ["resolved_at", "created_at"])
    op.create_index("ix_feed_reports_target", "feed_reports", ["target_kind", "target_id"])
    op.create_table(
        "hidden_feed_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("target_kind", sa.String(length=16), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("hidden_by_id", sa.Integer(), nullable=True),
        sa.Column("hidden_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["learner_id"], ["learners.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["hidden_by_id"], ["learners.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("target_kind", "target_id", name="uq_hidden_feed_items_item"),
    )
    op.create_index("ix_hidden_feed_items_learner", "hidden_feed_items", ["learner_id"])
    op.create_table(
        "moderation_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("moderator_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("target_kind", sa.String(length=16), nullable=True),
        sa.Column("target_id", sa.Integer(), nullable=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["learner_id"], ["learners.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["moderator_id"], ["learners.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_moderation_actions_learner", "moderation_actions", ["learner_id", "created_at"])


def downgrade():
    op.drop_index("ix_moderation_actions_learner", table_name="moderation_actions")
    op.drop_table("moderation_actions")
    op.drop_index("ix_hidden_feed_items_learner", table_name="hidden_feed_items")
    op.drop_table("hidden_feed_items")
    op.drop_index("ix_feed_reports_target", table_name="feed_reports")
    op.drop_index("ix_feed_reports_open", table_name="feed_reports")
    op.drop_table("feed_reports")
    op.drop_table("point_rule_versions")
    op.drop_column("ledger_entries", "rule_version")
    op.drop_column("point_rules", "version")
