"""Thrive Circles for staff (§11, §6.1): weeks, circles with goal progress, members, re-running a week."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from thrive.db import write_transaction
from thrive.extensions import db
from thrive.models import Circle, CircleMembership, Learner, LearnerState
from thrive.services.admin.audit import record
from thrive.services.errors import NotFound, validate_week
from thrive.services.job_runs import JobOutcome
from thrive.services.weekly.circles import CircleSummary, list_circles
from thrive.timeutil import platform_week, utcnow


def weeks(limit: int = 52) -> list[str]:
    """Weeks that have circles, newest first, always including the current platform week."""
    found = list(db.session.scalars(select(Circle.week).distinct().order_by(Circle.week.desc()).limit(limit)))
    current = platform_week(utcnow())
    if current not in found:
        found.insert(0, current)
    return sorted(found, reverse=True)


def circles_of(week: str) -> list[CircleSummary]:
    """The circles of ``week`` (ladder then name order); ``ValidationError`` for a malformed week."""
    return list_circles(validate_week(week))


def goal_percent(summary: CircleSummary) -> int:
    """A circle's goal progress in percent (0–100; 0 without a target)."""
    if summary.goal_target <= 0:
        return 0
    return min(100, summary.points_together * 100 // summary.goal_target)


@dataclass(frozen=True)
class Member:
    learner_id: int
    username: str
    display_name: str
    tier_key: str
    points: int
    joined_at: object


def circle(circle_id: int) -> tuple[Circle, list[Member]]:
    """A circle and its members (by display name; staff view, with each member's points that week).

    Raises ``NotFound``.
    """
    row = db.session.get(Circle, circle_id)
    if row is None:
        raise NotFound(f"no circle {circle_id}")
    members = [Member(*r) for r in db.session.execute(
        select(Learner.id, Learner.username, Learner.display_name, LearnerState.tier_key, CircleMembership.points,
               CircleMembership.joined_at)
        .join(CircleMembership, CircleMembership.learner_id == Learner.id)
        .join(LearnerState, LearnerState.learner_id == Learner.id)
        .where(CircleMembership.circle_id == circle_id)
        .order_by(Learner.display_name, Learner.id))]
    return row, members


def rerun_assignment(actor: Learner, week: str) -> JobOutcome:
    """Re-run the circle assignment of ``week`` through the locked job service (§6.3), forced.

    Idempotent (§6.1): an assigned week only tops up eligible learners who have
    no circle yet. Returns the job outcome (``counts`` say what it did); one
    audit entry records it. Raises ``ValidationError`` for a malformed week.
    """
    from thrive import jobs

    week = validate_week(week)
    outcome = jobs.run("assign_circles", week, force=True)
    with write_transaction():
        record(actor, "circles.rerun", "week", week, None,
               {"status": outcome.status, "reason": outcome.reason, "counts": outcome.counts})
    return outcome
