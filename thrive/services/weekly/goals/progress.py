"""Weekly goal progress (§6.2): the one progress rule, and the award hook that applies it.

Owns what an award does to a learner's open goals of the award's week:
:func:`_advance` folds one ledger entry into a goal (``activity_count``,
``streak_days``, ``new_quiz_topics``), and :func:`_on_award` runs it inside
the award transaction and, when a goal reaches its target, awards
``weekly_goal_completed`` once (event key :func:`goal_event_key`) and marks
the goal completed with its notification. The ledger catch-up in
:mod:`.refresh` folds entries through the very same rule.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from more_itertools import chunked
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from thrive.models import Learner, LedgerEntry, WeeklyGoal
from thrive.services.errors import ThriveError
from thrive.services.notifications import sending as notifications
from thrive.services.points.award import AwardContext, counts_for_streak, register_award_hook
from thrive.services.points.caps import register_after_lock_read
from thrive.timeutil import as_utc

log = logging.getLogger(__name__)

GOAL_KINDS = ("activity_count", "streak_days", "new_quiz_topics")
COMPLETION_ACTIVITY = "weekly_goal_completed"


def goal_event_key(goal_id: int) -> str:
    """Event key of the ``weekly_goal_completed`` award for a goal (§4.3)."""
    return f"goal:{goal_id}"


@dataclass(frozen=True)
class _Award:
    """What goal progress needs to know about one ledger entry."""

    activity_type: str
    category: str | None
    points: int
    capped: bool
    meta: dict | None
    occurred_at: datetime
    week: str


def _entry_view(entry: LedgerEntry) -> _Award:
    return _Award(entry.activity_type, entry.category, entry.points, bool(entry.capped), entry.meta,
                  as_utc(entry.occurred_at), entry.week)


def _topic_of(item: _Award) -> str | None:
    topic = (item.meta or {}).get("topic")
    if isinstance(topic, str) and topic.strip():
        return topic
    return None


def _completed_topic_before(session: Session, learner_id: int, activity_types: list[str], topic: str,
                            week: str) -> bool:
    """True when the learner completed ``topic`` (non-capped) in a week before ``week``."""
    return session.scalar(
        select(LedgerEntry.id).where(
            LedgerEntry.learner_id == learner_id,
            LedgerEntry.activity_type.in_(activity_types),
            LedgerEntry.capped.is_(False),
            LedgerEntry.week < week,
            LedgerEntry.meta["topic"].as_string() == topic,
        ).limit(1)
    ) is not None


#: ``seen_before(activity_types, topic)`` → did the learner complete ``topic`` in an earlier week?
TopicCheck = Callable[[list[str], str], bool]


def _advance(goal: WeeklyGoal, item: _Award, current_streak: int, seen_before: TopicCheck) -> None:
    """Fold one award into ``goal``'s progress — the single progress rule of §6.2 (hook and refresh)."""
    if item.week != goal.week or item.activity_type == COMPLETION_ACTIVITY:
        return
    if goal.kind == "activity_count":
        if not item.capped and item.activity_type in (goal.activity_types or []):
            goal.progress = min(goal.progress + 1, goal.target)
    elif goal.kind == "streak_days":
        if counts_for_streak(item.category, item.points):
            goal.progress = min(current_streak, goal.target)
    elif goal.kind == "new_quiz_topics":
        types = goal.activity_types or ["quiz_completed"]
        topic = _topic_of(item)
        if item.capped or topic is None or item.activity_type not in types:
            return
        topics = list((goal.data or {}).get("topics", []))
        if topic in topics or seen_before(types, topic):
            return
        topics.append(topic)
        goal.data = {**(goal.data or {}), "topics": topics}
        goal.progress = min(len(topics), goal.target)


def _completion_payload(goal: WeeklyGoal) -> dict[str, Any]:
    """Arguments of the completion award — identical on every path, so a retry is a duplicate."""
    return dict(
        event_key=goal_event_key(goal.id),
        points=goal.reward,
        metadata={"goal_id": goal.id, "goal": goal.title, "week": goal.week},
        description=f"Weekly goal completed: {goal.title}",
    )


def _mark_completed(session: Session, goal: WeeklyGoal, at: datetime, prefs: dict | None) -> None:
    goal.completed_at = at
    goal.progress = goal.target
    notifications.notify(
        session, goal.learner_id, "weekly_goal_completed", f"Weekly goal complete: {goal.title}", prefs=prefs,
        body=f"+{goal.reward} points. Nicely done!", link="/",
        data={"goal_id": goal.id, "week": goal.week, "reward": goal.reward},
        dedupe_key=f"weekly_goal_completed:{goal.id}",
    )


def _prefs(session: Session, learner_id: int) -> dict | None:
    return session.scalar(select(Learner.notification_prefs).where(Learner.id == learner_id))


#: (learner_id, week) of open goals for a list of learners; built once (an award asks it on every transaction).
_OPEN_GOALS = select(WeeklyGoal.learner_id, WeeklyGoal.week).distinct().where(
    WeeklyGoal.learner_id.in_(bindparam("ids", expanding=True)), WeeklyGoal.completed_at.is_(None))


def _has_open_goals(tx, entry) -> bool:
    """Whether the learner has an open goal in the entry's week (memoised per transaction in ``tx.memo``).

    One query answers for every learner the transaction has locked (a whole batch) and every week;
    a learner locked later is looked up again.
    """
    if entry.activity_type == COMPLETION_ACTIVITY:
        return False
    asked, found = tx.memo.get("open_goals", (frozenset(), frozenset()))
    if entry.learner_id not in asked:
        ids = sorted(set(tx.locked) | {entry.learner_id} | asked)
        rows = set()
        for part in chunked(ids, 900):
            rows.update(tuple(r) for r in tx.session.execute(_OPEN_GOALS, {"ids": list(part)}))
        asked, found = frozenset(ids), frozenset(rows)
        tx.memo["open_goals"] = (asked, found)
    return (entry.learner_id, entry.week) in found


def _goals_unknown(tx, learner_id: int) -> bool:
    return learner_id not in tx.memo.get("open_goals", (frozenset(), frozenset()))[0]


def _take_open_weeks(tx, learner_id: int, weeks) -> None:
    asked, found = tx.memo.get("open_goals", (frozenset(), frozenset()))
    tx.memo["open_goals"] = (asked | {learner_id}, found | {(learner_id, w) for w in weeks or ()})


# PostgreSQL: the open-goal weeks ride in the award's post-lock cap statement (one round trip less per award).
register_after_lock_read(
    select(func.array_agg(WeeklyGoal.week.distinct())).where(
        WeeklyGoal.learner_id == bindparam("learner_id"), WeeklyGoal.completed_at.is_(None)
    ).scalar_subquery().label("open_goal_weeks"),
    _goals_unknown, _take_open_weeks,
)


@register_award_hook(applies=_has_open_goals)
def _on_award(ctx: AwardContext) -> None:
    """Award hook: advance the learner's open goals of the entry's week; complete those that reach the target."""
    entry = ctx.entry
    if entry.activity_type == COMPLETION_ACTIVITY:
        return
    goals = list(ctx.session.scalars(
        select(WeeklyGoal).where(WeeklyGoal.learner_id == ctx.learner_id, WeeklyGoal.week == entry.week,
                                 WeeklyGoal.completed_at.is_(None)).order_by(WeeklyGoal.id)
    ))
    if not goals:
        return
    item = _entry_view(entry)

    def seen_before(types: list[str], topic: str) -> bool:
        return _completed_topic_before(ctx.session, ctx.learner_id, types, topic, entry.week)

    prefs = None
    for goal in goals:
        _advance(goal, item, ctx.state.current_streak, seen_before)
        if goal.progress < goal.target:
            continue
        try:
            ctx.award(COMPLETION_ACTIVITY, occurred_at=item.occurred_at, **_completion_payload(goal))
        except ThriveError as exc:  # e.g. a reward outside the rule's range: keep the award, log the goal
            log.warning("weekly goal %s reached but its award was refused: %s", goal.id, exc)
            continue
        if prefs is None:
            prefs = _prefs(ctx.session, ctx.learner_id) or {}
        _mark_completed(ctx.session, goal, item.occurred_at, prefs)
