"""Community: an index on lower(username) for profile, follow and sign-in look-ups

Revision ID: community_0002
Revises: 0001_initial
Create Date: 2026-11-21 13:00:00

Profiles (``/u/<username>``), follows and sign-in find learners by username
case-insensitively (``lower(username) = lower(:name)``); without this
expression index that is a sequential scan of ``learners`` (≈60 ms at 100k
learners on PostgreSQL). Works on PostgreSQL and SQLite.
"""
from alembic import op
import sqlalchemy as sa


revision = "community_0002"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_learners_username_lower", "learners", [sa.text("lower(username)")], unique=False)


def downgrade():
    op.drop_index("ix_learners_username_lower", table_name="learners")
