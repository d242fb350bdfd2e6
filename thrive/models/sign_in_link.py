"""One-time sign-in links issued through the API (§13; issue 13): only a hash of the token is stored."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..timeutil import utcnow


class SignInLink(db.Model):
    """A single-use sign-in link for one learner.

    ``token_hash`` is the SHA-256 hex digest of the secret token in the URL (the
    token itself is never stored). ``expires_at`` and ``used_at`` are UTC
    instants; ``used_at`` is set once, when the link signs the learner in.
    ``next_path`` is the Thrive path to land on (None: the home page).
    ``api_key_id`` is the API key that asked for the link (None once the key is deleted).
    """

    __tablename__ = "sign_in_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    next_path: Mapped[str | None] = mapped_column(String(512), nullable=True)
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    __table_args__ = (Index("ix_sign_in_links_learner_expires", "learner_id", "expires_at"),)
