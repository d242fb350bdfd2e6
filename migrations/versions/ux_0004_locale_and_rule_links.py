"""Learner experience: a learner's UI language and a "where to do it" link per point rule

Revision ID: ux_0004
Revises: 0003_feed_indexes
Create Date: 2026-12-02 07:00:00

``learners.locale`` (nullable: None = follow the browser's Accept-Language, §7)
and ``point_rules.where_url`` (nullable: where on the learning platform an
activity is done, set by an admin and shown on the onboarding card).
"""
from alembic import op
import sqlalchemy as sa


revision = "ux_0004"
down_revision = "0003_feed_indexes"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("learners") as batch:
        batch.add_column(sa.Column("locale", sa.String(length=16), nullable=True))
    with op.batch_alter_table("point_rules") as batch:
        batch.add_column(sa.Column("where_url", sa.String(length=500), nullable=True))


def downgrade():
    # Plain DROP COLUMN (SQLite ≥ 3.35): a batch rebuild of learners would lose its expression index.
    op.execute("ALTER TABLE point_rules DROP COLUMN where_url")
    op.execute("ALTER TABLE learners DROP COLUMN locale")
