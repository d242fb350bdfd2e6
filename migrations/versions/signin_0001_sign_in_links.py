"""Sign-in links: one-time, hashed sign-in tokens issued through the API (issue 13)

Revision ID: signin_0001
Revises: 0003_feed_indexes
Create Date: 2026-12-02 07:00:00

See thrive/models/sign_in_link.py and thrive/services/accounts/sign_in_links.py.
"""
from alembic import op
import sqlalchemy as sa


revision = "signin_0001"
down_revision = "0003_feed_indexes"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "sign_in_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("next_path", sa.String(length=512), nullable=True),
        sa.Column("api_key_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["learner_id"], ["learners.id"], name=op.f("fk_sign_in_links_learner_id_learners"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["api_key_id"], ["api_keys.id"], name=op.f("fk_sign_in_links_api_key_id_api_keys"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_sign_in_links_token_hash")),
    )
    op.create_index("ix_sign_in_links_learner_expires", "sign_in_links", ["learner_id", "expires_at"], unique=False)


def downgrade():
    op.drop_index("ix_sign_in_links_learner_expires", table_name="sign_in_links")
    op.drop_table("sign_in_links")
