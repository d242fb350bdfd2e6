"""Feed moderation (§8.1, §11): learners' reports, hidden feed items and the moderation history."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..timeutil import utcnow

#: Kinds of feed item (as in :class:`~thrive.models.community.Cheer`): a ledger entry or a tier-up event.
FEED_ITEM_KINDS = ("entry", "tier_up")


class FeedReport(db.Model):
    """A learner's report of a feed item (§11 feed moderation).

    ``target_kind``/``target_id`` name the item (``"entry"`` → ledger entry,
    ``"tier_up"`` → progression event); ``subject_id`` is the learner the item
    belongs to. ``resolved_at``/``resolved_by_id``/``resolution`` (``"hidden"``
    or ``"dismissed"``) are set when a moderator handles it. One open report
    per reporter and item.
    """

    __tablename__ = "feed_reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), nullable=False)
    subject_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), nullable=False)
    target_kind: Mapped[str] = mapped_column(String(16), nullable=False)
    target_id: Mapped[int] = mapped_column(Integer, nullable=False)
    reason: Mapped[str] = mapped_column(String(32), nullable=False)
    details: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("learners.id", ondelete="SET NULL"),
                                                       nullable=True)
    resolution: Mapped[str | None] = mapped_column(String(16), nullable=True)

    __table_args__ = (
        UniqueConstraint("reporter_id", "target_kind", "target_id", name="uq_feed_reports_reporter_item"),
        Index("ix_feed_reports_open", "resolved_at", "created_at"),
        Index("ix_feed_reports_target", "target_kind", "target_id"),
    )


class HiddenFeedItem(db.Model):
    """A feed item a moderator hid: absent from every feed and panel, refuses cheers; its points stay.

    Unhiding deletes the row (the history lives in :class:`ModerationAction`).
    """

    __tablename__ = "hidden_feed_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    target_kind: Mapped[str] = mapped_column(String(16), nullable=False)
    target_id: Mapped[int] = mapped_column(Integer, nullable=False)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), nullable=False)
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("learners.id", ondelete="SET NULL"), nullable=True)
    hidden_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)

    __table_args__ = (
        UniqueConstraint("target_kind", "target_id", name="uq_hidden_feed_items_item"),
        Index("ix_hidden_feed_items_learner", "learner_id"),
    )


class ModerationAction(db.Model):
    """One moderation step concerning a learner (their moderation history, §11).

    ``action``: ``"hide"``, ``"unhide"``, ``"hide_all"`` (``count`` items) or
    ``"dismiss"`` (a report closed without hiding).
    """

    __tablename__ = "moderation_actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), nullable=False)
    moderator_id: Mapped[int | None] = mapped_column(ForeignKey("learners.id", ondelete="SET NULL"), nullable=True)
    action: Mapped[str] = mapped_column(String(16), nullable=False)
    target_kind: Mapped[str | None] = mapped_column(String(16), nullable=True)
    target_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    count: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)

    __table_args__ = (Index("ix_moderation_actions_learner", "learner_id", "created_at"),)
