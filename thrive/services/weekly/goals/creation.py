"""Creating weekly goals (§6.2, §6.3): copies of the enabled goal templates for a platform ISO week.

Owns the one creation statement (``INSERT … SELECT`` of enabled templates ×
learners, ``ON CONFLICT DO NOTHING``) and its two callers: the Monday job for
every active learner (:func:`create_weekly_goals`) and lazy creation on first
view for anybody else (:func:`ensure_goals`, :func:`weekly_goal_views`). Goals
created after some of their week's awards are brought up to date through
:mod:`.refresh`.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache
from typing import Any

from flask import current_app
from sqlalchemy import DateTime, Integer, String, and_, bindparam, distinct, exists, func, literal, select, true
from sqlalchemy.orm import Session

from thrive.db import dialect_insert, write_transaction
from thrive.extensions import db
from thrive.models import GoalTemplate, Learner, LearnerState, LedgerEntry, WeeklyGoal
from thrive.services.errors import UnknownLearner, validate_week
from thrive.timeutil import as_utc, platform_week, shift_week, utcnow, week_start_instant

from .progress import COMPLETION_ACTIVITY
from .reads import GoalView, goal_views, goals_for
from .refresh import refresh_goals, refresh_learners

#: Columns filled by the set-based creation statement (the rest take their defaults/NULL).
_INSERT_COLUMNS = ["learner_id", "week", "template_id", "title", "kind", "activity_types", "target", "progress",
                   "reward", "created_at"]


def eligibility_days() -> int:
    """Days of look-back that make a learner active (``THRIVE_CIRCLE_ELIGIBILITY_DAYS``, default 28)."""
    return int(current_app.config.get("THRIVE_CIRCLE_ELIGIBILITY_DAYS", 28))


def _template_rows_select(week: str, now: datetime, learner_id_column):
    """``SELECT`` of (learner, enabled template) goal rows for ``week`` — the one creation shape."""
    return select(
        learner_id_column,
        literal(week, String(8)),
        GoalTemplate.id,
        GoalTemplate.title,
        GoalTemplate.kind,
        GoalTemplate.activity_types,
        GoalTemplate.target,
        literal(0, Integer),
        GoalTemplate.reward,
        literal(now, DateTime(timezone=True)),
    )


def _insert_goals(session: Session, select_stmt) -> int:
    insert = dialect_insert(session)
    stmt = insert(WeeklyGoal.__table__).from_select(_INSERT_COLUMNS, select_stmt).on_conflict_do_nothing(
        index_elements=["learner_id", "week", "template_id"]
    )
    return max(session.execute(stmt.execution_options(preserve_rowcount=True)).rowcount or 0, 0)


def _eligible_filter(since: datetime):
    return and_(Learner.is_active_account.is_(True), Learner.is_learner.is_(True),  # staff excluded (§11)
                LearnerState.last_award_at >= since)


def create_weekly_goals(week: str, *, now: datetime | None = None) -> dict[str, Any]:
    """Create ``week``'s goals for every active learner (the Monday job, §6.2, §6.3).

    Args:
        week: platform ISO week label ``"YYYY-Www"``.
        now: current UTC instant (stamped as ``created_at``); defaults to the clock.

    Active = an active account with an award (``last_award_at``) at or after
    the week's start minus ``THRIVE_CIRCLE_ELIGIBILITY_DAYS`` days. One
    ``INSERT … SELECT`` of enabled templates × active learners creates the
    rows; existing rows are left alone (``ON CONFLICT DO NOTHING``), so a
    re-run creates nothing. Learners who already earned awards in ``week``
    (e.g. between midnight and the job, or when the job is caught up
    mid-week) then get their goals brought up to date from the ledger.

    Returns counts ``{"week", "eligible", "created", "refreshed", "completed"}``.
    Raises :class:`ValidationError` for a malformed week.
    """
    validate_week(week)
    now = as_utc(now) if now else utcnow()
    since = week_start_instant(week) - timedelta(days=eligibility_days())
    eligible_select = (
        _template_rows_select(week, now, LearnerState.learner_id)
        .select_from(LearnerState)
        .join(Learner, Learner.id == LearnerState.learner_id)
        .join(GoalTemplate, true())
        .where(GoalTemplate.enabled.is_(True), _eligible_filter(since))
    )
    with write_transaction() as session:
        eligible = session.scalar(
            select(func.count()).select_from(LearnerState).join(Learner, Learner.id == LearnerState.learner_id)
            .where(_eligible_filter(since))
        ) or 0
        created = _insert_goals(session, eligible_select)
    to_refresh = _learners_with_open_goals_and_awards(week)
    completed = refresh_learners(to_refresh, week)
    refreshed = len(to_refresh)
    return {"week": week, "eligible": eligible, "created": created, "refreshed": refreshed, "completed": completed}


def _learners_with_open_goals_and_awards(week: str) -> list[int]:
    start, end = week_start_instant(week), week_start_instant(shift_week(week, 1))
    q = (
        select(distinct(LedgerEntry.learner_id))
        .where(LedgerEntry.occurred_at >= start, LedgerEntry.occurred_at < end, LedgerEntry.week == week,
               LedgerEntry.activity_type != COMPLETION_ACTIVITY)
        .where(exists().where(WeeklyGoal.learner_id == LedgerEntry.learner_id, WeeklyGoal.week == week,
                              WeeklyGoal.completed_at.is_(None)))
        .order_by(LedgerEntry.learner_id)
    )
    ids = list(db.session.scalars(q))
    db.session.commit()
    return ids


def ensure_goals(learner: Learner | int, week: str | None = None, *, now: datetime | None = None) -> list[WeeklyGoal]:
    """Return the learner's goals for ``week``, creating missing ones first (lazy creation, §6.2).

    Args:
        learner: a :class:`Learner` or its id.
        week: platform ISO week label; defaults to the week of ``now``.
        now: current UTC instant; defaults to the clock.

    Creates the same rows as :func:`create_weekly_goals` would (same
    statement, restricted to this learner, regardless of activity — viewing
    is taking part) and brings them up to date with the week's awards so far.
    Returns the goals ordered like their templates. Raises
    :class:`ValidationError` for a malformed week, :class:`UnknownLearner`.
    """
    learner_id = learner if isinstance(learner, int) else learner.id
    now = as_utc(now) if now else utcnow()
    week = validate_week(week) if week else platform_week(now)
    goals = goals_for(learner_id, week)
    enabled = set(db.session.scalars(select(GoalTemplate.id).where(GoalTemplate.enabled.is_(True))))
    if enabled - {g.template_id for g in goals}:
        with write_transaction() as session:
            if session.get(Learner, learner_id) is None:
                raise UnknownLearner(f"no learner with id {learner_id}")
            one = (
                _template_rows_select(week, now, literal(learner_id, Integer))
                .select_from(GoalTemplate)
                .where(GoalTemplate.enabled.is_(True))
            )
            created = _insert_goals(session, one)
        if created:
            refresh_goals(learner_id, week)
        goals = goals_for(learner_id, week)
    return goals


@cache
def _goal_views_statement():
    """The templates with the learner's goal of each (parameters ``learner_id``, ``week``), built once."""
    wg = WeeklyGoal
    return (
        select(GoalTemplate.id, GoalTemplate.enabled, GoalTemplate.description, wg)
        .outerjoin(wg, and_(wg.template_id == GoalTemplate.id, wg.learner_id == bindparam("learner_id"),
                            wg.week == bindparam("week")))
        .where(GoalTemplate.enabled.is_(True) | wg.id.is_not(None))
        .order_by(GoalTemplate.position, GoalTemplate.id)
    )


def weekly_goal_views(learner: Learner | int, now: datetime | None = None) -> tuple[str, list[GoalView]]:
    """``(week, views)`` of the learner's goals for the current platform week, creating them lazily.

    One query when the week's goals exist (the usual page view): the templates
    with the learner's goal of each, in template order (as :func:`goals_for`).
    """
    now = as_utc(now) if now else utcnow()
    week = platform_week(now)
    learner_id = learner if isinstance(learner, int) else learner.id
    rows = db.session.execute(_goal_views_statement(), {"learner_id": learner_id, "week": week}).all()
    if any(enabled and goal is None for _id, enabled, _d, goal in rows):  # a goal to create (§6.2)
        return week, goal_views(ensure_goals(learner, week, now=now))
    return week, goal_views([goal for *_rest, goal in rows], {tid: d for tid, _e, d, _g in rows})
