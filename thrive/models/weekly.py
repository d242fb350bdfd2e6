"""The weekly rhythm: Thrive Circles, weekly goals and job runs (§6)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..timeutil import utcnow


class Circle(db.Model):
    """One Thrive Circle for one platform ISO week (§6.1).

    ``name`` is "<Tier> Circle A"…; ``goal_target`` the shared weekly target
    in points; ``goal_completed_at`` when it was reached.
    """

    __tablename__ = "circles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    week: Mapped[str] = mapped_column(String(8), nullable=False)
    tier_key: Mapped[str] = mapped_column(String(32), nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    seq: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    goal_target: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    goal_completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)

    __table_args__ = (
        UniqueConstraint("week", "name", name="uq_circles_week_name"),
        Index("ix_circles_week_tier", "week", "tier_key"),
    )


class CircleMembership(db.Model):
    """A learner's place in a circle for a week; ``points`` = their points that week."""

    __tablename__ = "circle_memberships"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    circle_id: Mapped[int] = mapped_column(ForeignKey("circles.id", ondelete="CASCADE"), nullable=False)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), nullable=False)
    week: Mapped[str] = mapped_column(String(8), nullable=False)
    points: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    joined_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)

    __table_args__ = (
        UniqueConstraint("learner_id", "week", name="uq_circle_memberships_learner_week"),
        Index("ix_circle_memberships_circle", "circle_id"),
    )


class GoalTemplate(db.Model):
    """An admin-editable weekly goal template (§6.2).

    ``kind``: ``activity_count`` (count awards of ``activity_types``),
    ``streak_days`` (reach a streak of ``target`` days),
    ``new_quiz_topics`` (complete quizzes on ``target`` never-before topics).
    """

    __tablename__ = "goal_templates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    activity_types: Mapped[list | None] = mapped_column(JSON, nullable=True)
    target: Mapped[int] = mapped_column(Integer, nullable=False)
    reward: Mapped[int] = mapped_column(Integer, nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)


class WeeklyGoal(db.Model):
    """One learner's goal for one week, copied from a template (§6.2)."""

    __tablename__ = "weekly_goals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), nullable=False)
    week: Mapped[str] = mapped_column(String(8), nullable=False)
    template_id: Mapped[int] = mapped_column(ForeignKey("goal_templates.id", ondelete="CASCADE"), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    activity_types: Mapped[list | None] = mapped_column(JSON, nullable=True)
    target: Mapped[int] = mapped_column(Integer, nullable=False)
    progress: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    reward: Mapped[int] = mapped_column(Integer, nullable=False)
    data: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)

    __table_args__ = (
        UniqueConstraint("learner_id", "week", "template_id", name="uq_weekly_goals_learner_week_template"),
        Index("ix_weekly_goals_week", "week"),
    )


class JobRun(db.Model):
    """One run of a scheduler job for one period (§6.3); unique per (job, period)."""

    __tablename__ = "job_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job: Mapped[str] = mapped_column(String(64), nullable=False)
    period: Mapped[str] = mapped_column(String(64), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="running")
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    counts: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (
        UniqueConstraint("job", "period", name="uq_job_runs_job_period"),
        Index("ix_job_runs_started", "started_at"),
    )
