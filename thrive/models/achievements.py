"""Achievements (badges) and the learners holding them (§10)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..timeutil import utcnow

#: Machine criteria kinds (§10); ``criteria`` is ``{"kind": …, "target": n, …}``.
CRITERIA_KINDS = ("counter", "activity_count", "streak", "tier", "level", "points", "quests", "circle_goals")
#: ``counter`` criteria read these lifetime counters (§5.4).
COUNTERS = ("quizzes_completed", "projects_created", "comments_posted", "side_quests_completed")
ACHIEVEMENT_STATUSES = ("active", "retired")
#: Badge visibility on the profile: shown, featured (up to 3) or private.
VISIBILITIES = ("shown", "featured", "private")
MAX_FEATURED = 3


class Achievement(db.Model):
    """An admin-defined badge (§10).

    ``criteria`` holds the machine criteria (see :data:`CRITERIA_KINDS`),
    ``criteria_text`` the plain-language version. ``reward`` (25–100 points)
    is awarded through ``award()`` as ``achievement_earned``. ``secret`` ones
    show as "???" until earned; ``retired`` ones are no longer granted.
    """

    __tablename__ = "achievements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(80), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    criteria_text: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    criteria: Mapped[dict] = mapped_column(JSON, nullable=False)
    icon: Mapped[str] = mapped_column(String(16), nullable=False, default="🏅")
    colour: Mapped[str] = mapped_column(String(16), nullable=False, default="#1c7ed6")
    group: Mapped[str] = mapped_column(String(40), nullable=False, default="General")
    secret: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    reward: Mapped[int] = mapped_column(Integer, nullable=False, default=25)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="active")
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)


class LearnerAchievement(db.Model):
    """A badge held by a learner: at most one row per (learner, achievement), ever.

    ``granted_at`` is the instant the criteria became true (for a backfill,
    read from the ledger). ``source`` is ``award`` (granted in the award
    transaction) or ``backfill``. A revoked badge keeps its row
    (``revoked_at``, ``revoked_reason``) so it is never granted again
    automatically. ``visibility`` is ``shown``, ``featured`` or ``private``.
    """

    __tablename__ = "learner_achievements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), nullable=False)
    achievement_id: Mapped[int] = mapped_column(ForeignKey("achievements.id", ondelete="CASCADE"), nullable=False)
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    source: Mapped[str] = mapped_column(String(16), nullable=False, default="award")
    ledger_entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("ledger_entries.id", ondelete="SET NULL"), nullable=True)
    visibility: Mapped[str] = mapped_column(String(16), nullable=False, default="shown")
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    revoked_by: Mapped[int | None] = mapped_column(ForeignKey("learners.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)

    __table_args__ = (
        UniqueConstraint("learner_id", "achievement_id", name="uq_learner_achievements_once"),
        Index("ix_learner_achievements_achievement", "achievement_id"),
        Index("ix_learner_achievements_entry", "ledger_entry_id"),
    )
