"""Thrive Circles: circle_weeks marker table and a unique (week, tier_key, seq) index on circles

Revision ID: circles_0002
Revises: 0001_initial
Create Date: 2026-11-21 12:00:00

See thrive/models/circle_week.py and docs/circles.md.
"""
from alembic import op
import sqlalchemy as sa


revision = "circles_0002"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "circle_weeks",
        sa.Column("week", sa.String(length=8), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("learners", sa.Integer(), nullable=False),
        sa.Column("circles", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("week", name=op.f("pk_circle_weeks")),
    )
    with op.batch_alter_table("circles", schema=None) as batch_op:
        batch_op.create_index("uq_circles_week_tier_seq", ["week", "tier_key", "seq"], unique=True)


def downgrade():
    with op.batch_alter_table("circles", schema=None) as batch_op:
        batch_op.drop_index("uq_circles_week_tier_seq")
    op.drop_table("circle_weeks")
