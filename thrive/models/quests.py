"""Side quests and each learner's runs of them (§10)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..timeutil import utcnow

QUEST_DIFFICULTIES = ("beginner", "intermediate", "advanced")
#: Default reward (points) by difficulty (§4.2: side_quest_completed).
DEFAULT_QUEST_REWARDS = {"beginner": 50, "intermediate": 100, "advanced": 200}
QUEST_REPEATS = ("once", "weekly")
QUEST_STATUSES = ("draft", "published", "retired")


class Quest(db.Model):
    """An admin-defined side quest (§10).

    Learners at tier ``min_tier`` or above start it, then ``target`` non-capped
    awards of ``activity_type`` (with ``metadata.topic == topic_filter`` when
    set) that occur after the start complete it for ``reward`` points.
    ``available_from``/``available_until`` bound the active window (UTC
    instants; None = open-ended). ``repeat`` is ``once`` or ``weekly`` (one run
    per platform ISO week). ``prerequisite_id`` chains quests. Only
    ``published`` quests can be started or progress.
    """

    __tablename__ = "quests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    title: Mapped[str] = mapped_column(String(120), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    topic: Mapped[str | None] = mapped_column(String(64), nullable=True)
    difficulty: Mapped[str] = mapped_column(String(16), nullable=False, default="beginner")
    reward: Mapped[int] = mapped_column(Integer, nullable=False, default=50)
    min_tier: Mapped[str] = mapped_column(String(32), nullable=False, default="ember")
    activity_type: Mapped[str] = mapped_column(String(64), nullable=False)
    target: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    topic_filter: Mapped[str | None] = mapped_column(String(64), nullable=True)
    available_from: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    available_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    repeat: Mapped[str] = mapped_column(String(16), nullable=False, default="once")
    prerequisite_id: Mapped[int | None] = mapped_column(ForeignKey("quests.id", ondelete="SET NULL"), nullable=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="draft")
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)

    __table_args__ = (Index("ix_quests_status_activity", "status", "activity_type"),)


class LearnerQuest(db.Model):
    """One learner's run of a quest in one period (``"once"`` or a platform ISO week ``"YYYY-Www"``).

    ``progress`` counts matching awards that occurred at or after
    ``started_at``; ``target`` is copied from the quest at the start.
    ``completed_at`` is the instant of the award that completed it;
    ``ledger_entry_id`` the ``side_quest_completed`` award.
    """

    __tablename__ = "learner_quests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), nullable=False)
    quest_id: Mapped[int] = mapped_column(ForeignKey("quests.id", ondelete="CASCADE"), nullable=False)
    period: Mapped[str] = mapped_column(String(8), nullable=False)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    progress: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    target: Mapped[int] = mapped_column(Integer, nullable=False)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    ledger_entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("ledger_entries.id", ondelete="SET NULL"), nullable=True)

    __table_args__ = (
        UniqueConstraint("learner_id", "quest_id", "period", name="uq_learner_quests_period"),
        Index("ix_learner_quests_open", "learner_id", "completed_at"),
    )
