"""Notifications, celebrations and cheers (§7, §8.1, §9)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..timeutil import utcnow

#: Notification types of §9.
NOTIFICATION_TYPES = (
    "tier_up",
    "level_up",
    "weekly_goal_completed",
    "circle_goal_completed",
    "streak_milestone",
    "streak_at_risk",
    "grace_day_used",
    "new_follower",
    "side_quest_available",
    "circle_assigned",
    "weekly_recap",
    "points_adjusted",  # a staff adjustment with a message to the learner (§11)
)


class Notification(db.Model):
    """An in-app notification (§9). ``dedupe_key`` (unique) makes creation idempotent."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), nullable=False)
    type: Mapped[str] = mapped_column(String(32), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    body: Mapped[str | None] = mapped_column(Text, nullable=True)
    link: Mapped[str | None] = mapped_column(String(255), nullable=True)
    data: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    dedupe_key: Mapped[str | None] = mapped_column(String(255), nullable=True, unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    __table_args__ = (Index("ix_notifications_learner_read", "learner_id", "read_at", "created_at"),)


class Celebration(db.Model):
    """Something to celebrate once with a modal and confetti (§7).

    ``kind``: ``tier_up``, ``level_up``, ``streak_milestone``, ``circle_goal``…
    ``shown_at`` is set when the learner has seen it, so it shows exactly once.
    """

    __tablename__ = "celebrations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    body: Mapped[str | None] = mapped_column(Text, nullable=True)
    data: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    dedupe_key: Mapped[str | None] = mapped_column(String(255), nullable=True, unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    shown_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    __table_args__ = (Index("ix_celebrations_learner_shown", "learner_id", "shown_at"),)


class Cheer(db.Model):
    """A learner cheering a feed item (§8.1).

    ``target_kind`` is ``"entry"`` (a ledger entry) or ``"tier_up"`` (a
    progression event); ``recipient_id`` is the learner cheered;
    ``points_awarded`` what the cheerer's ``reaction_given`` award gave.
    """

    __tablename__ = "cheers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cheerer_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), nullable=False)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), nullable=False)
    target_kind: Mapped[str] = mapped_column(String(16), nullable=False)
    target_id: Mapped[int] = mapped_column(Integer, nullable=False)
    points_awarded: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)

    __table_args__ = (
        UniqueConstraint("cheerer_id", "target_kind", "target_id", name="uq_cheers_once"),
        Index("ix_cheers_target", "target_kind", "target_id"),
        Index("ix_cheers_pair", "cheerer_id", "recipient_id", "created_at"),
    )
