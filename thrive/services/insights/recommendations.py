"""Recommended actions on "Your Thrive Circle" (§7).

Dynamic, never a fixed list. Built from three sources, in this order:

1. **what completes a weekly goal** — the learner's unfinished
   :class:`~thrive.models.WeeklyGoal` rows of the current platform week, with
   what is left to do;
2. **the streak** — a learner with a running streak and no streak-counting
   award today is reminded that any activity keeps it alive (§5.3);
2b. **side quests** — the quest in progress closest to completion, else one
   the learner can start now, linked to ``/quests`` (§10); nothing when no
   published quest is open to them (never a quest that does not exist);
3. **what the learner has not done lately** — the learner's own ledger,
   grouped by activity type: actions never done or not done for the longest
   time come first, with a boost for actions whose category earned nothing in
   the last :data:`RECENT_DAYS` days. Actions whose cap is already reached
   (day, week or ever) are skipped, since they would earn nothing.

Only the learner's own data is read; nothing here compares learners (§1.3).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache

from sqlalchemy import and_, bindparam, case, func, select

from thrive.db import read_rows
from thrive.extensions import db
from thrive.models import LedgerEntry, WeeklyGoal
from thrive.services.points.registry import load_registry
from thrive.services.progression.state import effective_streak
from thrive.services.weekly.goals.reads import GoalView
from thrive.timeutil import as_utc, local_date, platform_week, utcnow

#: Days that count as "lately" for categories.
RECENT_DAYS = 7
#: Most "not done lately" suggestions shown.
MAX_FRESH = 3
#: Most weekly-goal suggestions shown (those closest to completion; the goals
#: panel lists them all).
MAX_GOALS = 2


#: Activity types a learner can choose to do, as suggestions (their wording, icon and link live in
#: ``thrive/web/actions.py``). System-awarded types (daily_login, streak_bonus, weekly_goal_completed,
#: achievements, special events, admin adjustments, onboarding) are never suggested.
ACTIONS: tuple[str, ...] = (
    "quiz_completed", "project_created", "project_updated", "project_published", "comment_posted",
    "feedback_given", "reaction_given", "side_quest_completed", "battle_participated", "event_attended",
    "scavenger_hunt_completed", "weekly_challenge_completed", "profile_completed",
)


@dataclass(frozen=True)
class Recommendation:
    """One suggested action, as data (the web layer words it and links it, §7).

    ``key`` is stable (``goal:<id>``, ``streak``, ``try:<activity type>``);
    ``reason`` is ``"goal"``, ``"streak"`` or ``"lately"``; ``activity_type``
    is set for single-activity suggestions (only enabled rules whose caps are
    not reached). Goal suggestions carry ``goal_id``, ``goal_title``,
    ``goal_kind``, ``remaining`` (units left: activities or days), ``reward``
    (points) and ``others`` (how many other activity types also count).
    Streak suggestions carry ``streak`` (days) and ``active_today``.
    "Lately" suggestions carry ``days_since`` (None = never done) and
    ``quiet_category`` (a category with no points in :data:`RECENT_DAYS` days, or None).
    """

    key: str
    reason: str
    activity_type: str | None = None
    goal_id: int | None = None
    goal_title: str | None = None
    goal_kind: str | None = None
    remaining: int = 0
    reward: int = 0
    others: int = 0
    streak: int = 0
    active_today: bool = False
    days_since: int | None = None
    quiet_category: str | None = None
    recent_days: int = RECENT_DAYS
    #: Side quest suggestions (reason ``"quest"``): the quest, and whether the learner has started it.
    quest_id: int | None = None
    quest_title: str | None = None
    quest_started: bool = False


@dataclass(frozen=True)
class _Usage:
    last_date: date | None
    today: int
    this_week: int
    ever: int


#: Instants this far back cover the whole current platform week and local day in any time zone.
_RECENT_SPAN = timedelta(days=9)


@cache
def _usage_statement():
    """The statement of :func:`_usage_and_recent`, built once (building it cost more CPU than running it).

    Bound parameters: ``learner_id``, ``today`` (local date), ``week``, ``recent_since`` (local date),
    ``recent_at`` and ``points_at`` (UTC instants).
    """
    le = LedgerEntry
    uncapped = le.capped.is_(False)
    recent = and_(uncapped, le.occurred_at >= bindparam("recent_at"))
    return (
        select(le.activity_type, le.category, func.max(le.local_date),
               func.sum(case((and_(recent, le.local_date == bindparam("today")), 1), else_=0)),
               func.sum(case((and_(recent, le.week == bindparam("week")), 1), else_=0)),
               func.sum(case((uncapped, 1), else_=0)),
               func.max(case((and_(le.occurred_at >= bindparam("points_at"),
                                   le.local_date >= bindparam("recent_since"), le.points > 0), 1), else_=0)))
        .where(le.learner_id == bindparam("learner_id"))
        .group_by(le.activity_type, le.category)
    )


def _usage_and_recent(learner_id: int, today: date, week: str, now: datetime, registry
                      ) -> tuple[dict[str, _Usage], set[str]]:
    """``(usage per activity type, categories with points in the last RECENT_DAYS local days)`` — one query.

    Per activity type: the last local date done (a capped entry still counts as
    done), uncapped counts today / this week / ever (``ever`` only for types
    with a ``max_ever`` cap); grouped by (type, category) over the learner's own
    ledger, which the ``(learner_id, …)`` indexes serve.
    """
    ever_types = [t for t in ACTIONS if t in registry.rules and registry.rules[t].max_ever is not None]
    rows = read_rows(_usage_statement(), {
        "learner_id": learner_id, "today": today, "week": week,
        "recent_since": today - timedelta(days=RECENT_DAYS - 1),
        # today / this week only among recent instants (any time zone), as before
        "recent_at": now - _RECENT_SPAN,
        "points_at": now - timedelta(days=RECENT_DAYS) - _RECENT_SPAN,
    }).all()
    last: dict[str, date] = {}
    counts: dict[str, list[int]] = {}
    categories: set[str] = set()
    for activity_type, category, last_date, today_n, week_n, ever_n, recent_points in rows:
        if last_date is not None and (activity_type not in last or last_date > last[activity_type]):
            last[activity_type] = last_date
        c = counts.setdefault(activity_type, [0, 0, 0])
        c[0] += int(today_n or 0)
        c[1] += int(week_n or 0)
        c[2] += int(ever_n or 0) if activity_type in ever_types else 0
        if recent_points and category is not None:
            categories.add(category)
    usage = {t: _Usage(last.get(t), c[0], c[1], c[2]) for t, c in counts.items()}
    return usage, categories


def _available(activity_type: str, usage: dict[str, _Usage], registry) -> bool:
    """True when the rule exists, is enabled and no cap is reached yet (an award would earn points)."""
    rule = registry.rules.get(activity_type)
    if rule is None or not rule.enabled or activity_type not in ACTIONS:
        return False
    u = usage.get(activity_type, _Usage(None, 0, 0, 0))
    if rule.max_per_day is not None and u.today >= rule.max_per_day:
        return False
    if rule.max_per_week is not None and u.this_week >= rule.max_per_week:
        return False
    return rule.max_ever is None or u.ever < rule.max_ever


def _goal_remaining(goal, streak_now: int) -> int:
    if goal.kind == "streak_days":
        return max(goal.target - streak_now, 0)
    return max(goal.target - goal.progress, 0)


def _goal_recommendations(goals, usage, registry, streak_now: int, active_today: bool) -> list[Recommendation]:
    out: list[Recommendation] = []
    open_goals = [g for g in goals if _goal_remaining(g, streak_now) > 0]
    # Closest to completion first (smallest share left), then the larger reward.
    open_goals.sort(key=lambda g: (_goal_remaining(g, streak_now) / max(g.target, 1), -g.reward, g.id))
    for goal in open_goals[:MAX_GOALS]:
        common = dict(key=f"goal:{goal.id}", reason="goal", goal_id=goal.id, goal_title=goal.title,
                      goal_kind=goal.kind, reward=goal.reward)
        if goal.kind == "streak_days":
            remaining = max(goal.target - streak_now, 0)
            if remaining:
                out.append(Recommendation(**common, remaining=remaining, streak=streak_now,
                                          active_today=active_today))
            continue
        remaining = max(goal.target - goal.progress, 0)
        if remaining == 0:
            continue
        types = [t for t in (goal.activity_types or []) if _available(t, usage, registry)]
        if goal.kind == "new_quiz_topics":
            activity, others = ("quiz_completed" if _available("quiz_completed", usage, registry) else None), 0
        elif types:
            # Prefer what the learner has not done for the longest time.
            types.sort(key=lambda t: (usage[t].last_date if t in usage else date.min, t))
            activity, others = types[0], len(types) - 1
        else:
            activity, others = None, 0
        out.append(Recommendation(**common, remaining=remaining, activity_type=activity, others=others))
    return out


def _quest_recommendations(learner, now: datetime) -> list[Recommendation]:
    """At most one side quest suggestion: finish the closest one in progress, else start an available one (§10)."""
    from thrive.services.quests.board import quest_board
    from thrive.services.quests.catalog import published

    if not published().by_id:
        return []
    board = quest_board(learner, now)
    if board.in_progress:
        card = max(board.in_progress, key=lambda c: (c.progress / max(c.target, 1), -c.quest.id))
        left = max(card.target - card.progress, 0)
        return [Recommendation(
            key=f"quest:{card.quest.id}", reason="quest", activity_type=card.quest.activity_type,
            quest_id=card.quest.id, quest_title=card.quest.title, quest_started=True, remaining=left,
            reward=card.quest.reward)]
    if board.available:
        card = board.available[0]
        return [Recommendation(
            key=f"quest:{card.quest.id}", reason="quest", quest_id=card.quest.id, quest_title=card.quest.title,
            reward=card.quest.reward)]
    return []


@cache
def _open_goals_statement():
    """The learner's unfinished goals of a week (parameters ``learner_id``, ``week``), built once."""
    return (select(WeeklyGoal)
            .where(WeeklyGoal.learner_id == bindparam("learner_id"), WeeklyGoal.week == bindparam("week"),
                   WeeklyGoal.completed_at.is_(None))
            .order_by(WeeklyGoal.id))


def recommend(learner, now: datetime | None = None, *, goals: Sequence[GoalView] | None = None) -> list[Recommendation]:
    """Recommended actions for ``learner`` (a :class:`~thrive.models.Learner`) at ``now`` (UTC instant).

    ``goals``: the learner's weekly goals of ``now``'s platform week when the caller has
    read them already (the home page's goals panel), so they are not read twice;
    finished ones are left out here.

    Returns at most a handful of :class:`Recommendation`: unfinished weekly
    goals of the current platform week first, then the streak reminder, then
    up to :data:`MAX_FRESH` actions the learner has not done lately (§7).
    """
    now = as_utc(now) if now else utcnow()
    registry = load_registry()
    today = local_date(now, learner.timezone)
    week = platform_week(now)
    usage, recent = _usage_and_recent(learner.id, today, week, now, registry)
    state = learner.state
    streak = effective_streak(state, today) if state is not None else None
    streak_now = streak.current if streak else 0
    active_today = state is not None and state.last_active_date == today

    if goals is None:
        goals = db.session.scalars(_open_goals_statement(), {"learner_id": learner.id, "week": week}).all()
    else:
        goals = [g for g in goals if not g.completed]
    result = _goal_recommendations(goals, usage, registry, streak_now, active_today)

    if streak_now >= 1 and not active_today:
        result.append(Recommendation(key="streak", reason="streak", streak=streak_now))

    result += _quest_recommendations(learner, now)

    suggested = {r.activity_type for r in result if r.activity_type}
    candidates = []
    for activity_type in ACTIONS:
        if activity_type in suggested or not _available(activity_type, usage, registry):
            continue
        u = usage.get(activity_type)
        if u is not None and u.last_date is not None and u.last_date >= today - timedelta(days=1):
            continue  # done today or yesterday: not "lately neglected"
        days_since = (today - u.last_date).days if u and u.last_date else None
        category = registry.rules[activity_type].category
        quiet_category = category not in recent
        # Never done first, then the longest gap; a quiet category moves an action up.
        score = (10_000 if days_since is None else days_since) + (500 if quiet_category else 0)
        candidates.append((score, activity_type, days_since, quiet_category))
    candidates.sort(key=lambda c: (-c[0], ACTIONS.index(c[1])))
    picked, categories = [], set()
    for candidate in candidates:  # one suggestion per category keeps them varied
        category = registry.rules[candidate[1]].category
        if category in categories:
            continue
        categories.add(category)
        picked.append(candidate)
        if len(picked) == MAX_FRESH:
            break
    for _score, activity_type, days_since, quiet_category in picked:
        category = registry.rules[activity_type].category
        result.append(Recommendation(key=f"try:{activity_type}", reason="lately", activity_type=activity_type,
                                     days_since=days_since, quiet_category=category if quiet_category else None))
    return result
