"""Weekly goal catch-up from the ledger (§6.2): goals created after some of their week's awards.

Owns :func:`refresh_learners` (and :func:`refresh_goals` for one learner):
it replays each learner's ledger entries of the week through the progress
rule of :mod:`.progress`, under the learners' state locks, and completes the
goals that reach their target with the payload the award hook would have
used — so the result never depends on when the goals were created.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from more_itertools import chunked
from sqlalchemy import select
from sqlalchemy.orm import Session

from thrive.db import write_transaction
from thrive.extensions import db
from thrive.models import LearnerState, LedgerEntry, WeeklyGoal
from thrive.services.errors import EventKeyConflict, ThriveError, validate_week
from thrive.services.points.award import award, counts_for_streak
from thrive.services.progression.streaks import StreakState, record_active_day
from thrive.timeutil import utcnow

from .progress import (
    COMPLETION_ACTIVITY,
    _advance,
    _Award,
    _completion_payload,
    _entry_view,
    _mark_completed,
    _prefs,
    _topic_of,
)

log = logging.getLogger(__name__)

#: Learners brought up to date per write transaction.
REFRESH_CHUNK = 500


def _streak_after_many(session: Session, learner_ids: list[int], wanted: set[int]) -> dict[int, int]:
    """Replay each learner's streak in ledger order; the current streak right after each wanted entry id."""
    out: dict[int, int] = {}
    if not learner_ids:
        return out
    q = (
        select(LedgerEntry.learner_id, LedgerEntry.id, LedgerEntry.category, LedgerEntry.points,
               LedgerEntry.local_date)
        .where(LedgerEntry.learner_id.in_(learner_ids), LedgerEntry.points > 0)
        .order_by(LedgerEntry.learner_id, LedgerEntry.id)
    )
    current, state = None, StreakState()
    for learner_id, entry_id, category, points, day in session.execute(q):
        if learner_id != current:
            current, state = learner_id, StreakState()
        if counts_for_streak(category, points):
            state = record_active_day(state, day)
        if entry_id in wanted:
            out[entry_id] = state.current
    return out


def _topics_before(session: Session, learner_ids: list[int], types: set[str], topics: set[str],
                   week: str) -> set[tuple[int, str, str]]:
    """(learner, activity type, topic) completed (non-capped) in weeks before ``week``, among ``topics``."""
    if not learner_ids or not topics:
        return set()
    topic = LedgerEntry.meta["topic"].as_string()
    q = (
        select(LedgerEntry.learner_id, LedgerEntry.activity_type, topic).distinct()
        .where(LedgerEntry.learner_id.in_(learner_ids), LedgerEntry.activity_type.in_(sorted(types)),
               LedgerEntry.capped.is_(False), LedgerEntry.week < week, topic.in_(sorted(topics)))
    )
    return {tuple(row) for row in session.execute(q)}


def refresh_goals(learner_id: int, week: str) -> int:
    """Bring one learner's open goals of ``week`` up to date from the ledger (see :func:`refresh_learners`)."""
    return refresh_learners([learner_id], week)


def refresh_learners(learner_ids: Iterable[int], week: str) -> int:
    """Bring the learners' open goals of ``week`` up to date from the ledger; return how many completed.

    Folds each learner's ledger entries of the week (in the order they were
    written) through the same progress rule as the award hook, under the
    learners' state locks (taken in id order, ``REFRESH_CHUNK`` learners per
    transaction, a few set-based queries per chunk) so no award interleaves.
    A goal that reaches its target gets its ``weekly_goal_completed`` award
    (dated at the entry that completed it — the payload the hook would have
    used, so a repeat is a duplicate), then ``completed_at`` and the notification.
    Raises :class:`ValidationError` for a malformed week.
    """
    validate_week(week)
    ids = sorted(set(learner_ids))
    completed = 0
    for chunk in chunked(ids, REFRESH_CHUNK):
        for goal_id, reached_at in _refresh_chunk(chunk, week):
            completed += _complete_outside_award(goal_id, reached_at)
    return completed


def _refresh_chunk(chunk: list[int], week: str) -> list[tuple[int, datetime]]:
    pending: list[tuple[int, datetime]] = []
    with write_transaction() as session:
        locked = list(session.scalars(
            select(LearnerState.learner_id).where(LearnerState.learner_id.in_(chunk))
            .order_by(LearnerState.learner_id).with_for_update()
        ))
        goals_by: dict[int, list[WeeklyGoal]] = defaultdict(list)
        for goal in session.scalars(
            select(WeeklyGoal).where(WeeklyGoal.learner_id.in_(locked), WeeklyGoal.week == week,
                                     WeeklyGoal.completed_at.is_(None))
            .order_by(WeeklyGoal.learner_id, WeeklyGoal.id)
        ):
            goals_by[goal.learner_id].append(goal)
        if not goals_by:
            return pending
        entries_by: dict[int, list[tuple[int, _Award]]] = defaultdict(list)
        for entry in session.scalars(
            select(LedgerEntry).where(LedgerEntry.learner_id.in_(sorted(goals_by)), LedgerEntry.week == week,
                                      LedgerEntry.activity_type != COMPLETION_ACTIVITY)
            .order_by(LedgerEntry.learner_id, LedgerEntry.id)
        ):
            entries_by[entry.learner_id].append((entry.id, _entry_view(entry)))

        def with_kind(kind: str) -> list[int]:
            return [lid for lid, goals in goals_by.items()
                    if entries_by.get(lid) and any(g.kind == kind for g in goals)]

        streak_ids = with_kind("streak_days")
        streaks = _streak_after_many(session, streak_ids, {
            entry_id for lid in streak_ids for entry_id, item in entries_by[lid]
            if counts_for_streak(item.category, item.points)})
        topic_ids = with_kind("new_quiz_topics")
        types = {t for lid in topic_ids for g in goals_by[lid] if g.kind == "new_quiz_topics"
                 for t in (g.activity_types or ["quiz_completed"])}
        topics = {t for lid in topic_ids for _id, item in entries_by[lid] for t in [_topic_of(item)] if t}
        before = _topics_before(session, topic_ids, types, topics, week)

        for learner_id, goals in goals_by.items():
            entries = entries_by.get(learner_id, [])

            def seen_before(activity_types: list[str], topic: str, learner_id: int = learner_id) -> bool:
                return any((learner_id, t, topic) in before for t in activity_types)

            for goal in goals:
                if goal.progress != 0 or goal.data is not None:
                    goal.progress, goal.data = 0, None
                for entry_id, item in entries:
                    _advance(goal, item, streaks.get(entry_id, 0), seen_before)
                    if goal.progress >= goal.target:
                        pending.append((goal.id, item.occurred_at))
                        break
    return pending


def _complete_outside_award(goal_id: int, reached_at: datetime) -> int:
    """Award and mark one goal that reached its target while it did not exist yet (idempotent)."""
    goal = db.session.get(WeeklyGoal, goal_id)
    if goal is None or goal.completed_at is not None:
        db.session.commit()
        return 0
    payload = _completion_payload(goal)
    learner_id = goal.learner_id
    db.session.commit()
    try:
        award(learner_id, COMPLETION_ACTIVITY, occurred_at=reached_at, now=max(utcnow(), reached_at), **payload)
    except EventKeyConflict:
        pass  # an award hook completed it first, dated at a later award
    except ThriveError as exc:
        log.warning("weekly goal %s reached but its award was refused: %s", goal_id, exc)
        return 0
    with write_transaction() as session:
        goal = session.get(WeeklyGoal, goal_id, with_for_update=True)
        if goal is None or goal.completed_at is not None:
            return 0
        _mark_completed(session, goal, reached_at, _prefs(session, learner_id))
    return 1
