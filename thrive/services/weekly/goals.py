"""Weekly goals (§6.2): creation, progress inside the award transaction, completion once.

A learner's goals for a platform ISO week (``"YYYY-Www"``) are copies of the
enabled goal templates (one :class:`WeeklyGoal` row per template). They are
created

- by the Monday job for every *active* learner (an award in the last
  ``THRIVE_CIRCLE_ELIGIBILITY_DAYS`` days before the week starts) with one
  set-based ``INSERT … SELECT`` of enabled templates × eligible learners
  (:func:`create_weekly_goals`), and
- lazily on first view for anybody else (:func:`ensure_goals`) — the same
  statement restricted to one learner, so both paths produce the same rows.

Progress (:func:`_on_award`, an award hook) happens inside the award
transaction, only from ledger entries whose ``week`` is the goal's week:

- ``activity_count``: +1 per non-capped award whose activity type is in the
  goal's list;
- ``streak_days``: the learner's current streak after each streak-counting
  award (capped at the target);
- ``new_quiz_topics``: distinct ``metadata.topic`` values of non-capped quiz
  awards this week that the learner never completed in an earlier week.

Reaching the target awards ``weekly_goal_completed`` with the goal's reward
exactly once (event key ``goal:<goal id>``, dated at the award that completed
it), sets ``completed_at`` and sends a ``weekly_goal_completed``
notification. Goals created after some of the week's awards are brought up to
date from the ledger (:func:`refresh_goals`) by folding those awards through
the very same progress function, so the result never depends on when the
goals were created.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import DateTime, Integer, String, and_, distinct, exists, func, literal, select, true
from sqlalchemy.orm import Session

from thrive.db import write_transaction
from thrive.extensions import db
from thrive.models import GoalTemplate, Learner, LearnerState, LedgerEntry, WeeklyGoal
from thrive.services.errors import EventKeyConflict, ThriveError, UnknownLearner, validate_week
from thrive.services.notifications import sending as notifications
from thrive.services.points.award import AwardContext, award, counts_for_streak, register_award_hook
from thrive.services.progression.streaks import StreakState, record_active_day
from thrive.timeutil import as_utc, platform_week, shift_week, utcnow, week_start_instant

log = logging.getLogger(__name__)

GOAL_KINDS = ("activity_count", "streak_days", "new_quiz_topics")
COMPLETION_ACTIVITY = "weekly_goal_completed"
#: Columns filled by the set-based creation statement (the rest take their defaults/NULL).
_INSERT_COLUMNS = ["learner_id", "week", "template_id", "title", "kind", "activity_types", "target", "progress",
                   "reward", "created_at"]


def goal_event_key(goal_id: int) -> str:
    """Event key of the ``weekly_goal_completed`` award for a goal (§4.3)."""
    return f"goal:{goal_id}"


def eligibility_days() -> int:
    """Days of look-back that make a learner active (``THRIVE_CIRCLE_ELIGIBILITY_DAYS``, default 28)."""
    return int(current_app.config.get("THRIVE_CIRCLE_ELIGIBILITY_DAYS", 28))


# ------------------------------------------------------------------ creation

def dialect_insert(session: Session):
    """The dialect's ``INSERT`` construct (both support ``ON CONFLICT DO NOTHING``)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


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


def goals_for(learner_id: int, week: str) -> list[WeeklyGoal]:
    """The learner's goals of ``week`` as stored (no creation), in template order."""
    q = (
        select(WeeklyGoal)
        .join(GoalTemplate, GoalTemplate.id == WeeklyGoal.template_id)
        .where(WeeklyGoal.learner_id == learner_id, WeeklyGoal.week == week)
        .order_by(GoalTemplate.position, GoalTemplate.id)
    )
    return list(db.session.scalars(q))


def goals_in_week(learner_id: int, week: str) -> list[WeeklyGoal]:
    """The learner's goals for platform ISO week ``week`` in creation order (none until the weekly job, §6.2)."""
    return list(db.session.scalars(
        select(WeeklyGoal).where(WeeklyGoal.learner_id == learner_id, WeeklyGoal.week == week)
        .order_by(WeeklyGoal.id)
    ))


# ------------------------------------------------------------------ progress

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
        for start in range(0, len(ids), 900):
            rows.update(tuple(r) for r in tx.session.execute(
                select(WeeklyGoal.learner_id, WeeklyGoal.week).distinct().where(
                    WeeklyGoal.learner_id.in_(ids[start:start + 900]), WeeklyGoal.completed_at.is_(None))
            ))
        asked, found = frozenset(ids), frozenset(rows)
        tx.memo["open_goals"] = (asked, found)
    return (entry.learner_id, entry.week) in found


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
    for i in range(0, len(ids), REFRESH_CHUNK):
        for goal_id, reached_at in _refresh_chunk(ids[i:i + REFRESH_CHUNK], week):
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


# ------------------------------------------------------------------ reading

@dataclass(frozen=True)
class GoalView:
    """One goal as the goals panel and the API show it (the learner's own data only).

    ``progress``/``target`` are counts (activities, streak days or topics);
    ``reward`` is in points; ``percent`` is 0–100; ``completed_at`` a UTC instant.
    """

    id: int
    title: str
    description: str | None
    kind: str
    progress: int
    target: int
    reward: int
    percent: int
    completed: bool
    completed_at: datetime | None
    topics: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "title": self.title, "kind": self.kind, "progress": self.progress,
            "target": self.target, "reward": self.reward, "completed": self.completed,
            "completed_at": self.completed_at.isoformat() if self.completed_at else None,
        }


def goal_views(goals: Iterable[WeeklyGoal], descriptions: dict[int, str | None] | None = None) -> list[GoalView]:
    """Views of stored goals (with each template's description; read when ``descriptions`` is not given)."""
    goals = list(goals)
    if descriptions is None:
        descriptions = dict(db.session.execute(
            select(GoalTemplate.id, GoalTemplate.description).where(
                GoalTemplate.id.in_(sorted({g.template_id for g in goals})))
        ).all())
    out = []
    for g in goals:
        target = max(g.target, 1)
        progress = min(g.progress, g.target)
        out.append(GoalView(
            id=g.id, title=g.title, description=descriptions.get(g.template_id), kind=g.kind, progress=progress,
            target=g.target, reward=g.reward, percent=int(progress * 100 / target),
            completed=g.completed_at is not None,
            completed_at=as_utc(g.completed_at) if g.completed_at else None,
            topics=tuple((g.data or {}).get("topics", [])),
        ))
    return out


def weekly_goal_views(learner: Learner | int, now: datetime | None = None) -> tuple[str, list[GoalView]]:
    """``(week, views)`` of the learner's goals for the current platform week, creating them lazily.

    One query when the week's goals exist (the usual page view): the templates
    with the learner's goal of each, in template order (as :func:`goals_for`).
    """
    now = as_utc(now) if now else utcnow()
    week = platform_week(now)
    learner_id = learner if isinstance(learner, int) else learner.id
    wg = WeeklyGoal
    rows = db.session.execute(
        select(GoalTemplate.id, GoalTemplate.enabled, GoalTemplate.description, wg)
        .outerjoin(wg, and_(wg.template_id == GoalTemplate.id, wg.learner_id == learner_id, wg.week == week))
        .where(GoalTemplate.enabled.is_(True) | wg.id.is_not(None))
        .order_by(GoalTemplate.position, GoalTemplate.id)
    ).all()
    if any(enabled and goal is None for _id, enabled, _d, goal in rows):  # a goal to create (§6.2)
        return week, goal_views(ensure_goals(learner, week, now=now))
    return week, goal_views([goal for *_rest, goal in rows], {tid: d for tid, _e, d, _g in rows})
