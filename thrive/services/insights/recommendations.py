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

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import case, func, select

from thrive.extensions import db
from thrive.models import LedgerEntry, WeeklyGoal
from thrive.services.points.registry import load_registry
from thrive.services.progression.state import effective_streak
from thrive.timeutil import as_utc, local_date, platform_week, utcnow

#: Days that count as "lately" for categories.
RECENT_DAYS = 7
#: Most "not done lately" suggestions shown.
MAX_FRESH = 3
#: Most weekly-goal suggestions shown (those closest to completion; the goals
#: panel lists them all).
MAX_GOALS = 2


@dataclass(frozen=True)
class Action:
    """How an activity type reads as a suggestion.

    ``title`` is imperative ("Complete a quiz"); ``done`` a past participle
    phrase that reads after "You haven't …" ("completed a quiz").
    """

    title: str
    done: str
    icon: str
    link: str | None = None


#: Activity types a learner can choose to do, as suggestions. System-awarded
#: types (daily_login, streak_bonus, weekly_goal_completed, achievements,
#: special events, admin adjustments, onboarding) are never suggested; side
#: quests are suggested only as the real quests that exist (:func:`_quest_recommendations`).
ACTIONS: dict[str, Action] = {
    "quiz_completed": Action("Complete a quiz", "completed a quiz", "🧠"),
    "project_created": Action("Start a new project", "started a project", "🛠️"),
    "project_updated": Action("Improve one of your projects", "updated a project", "✏️"),
    "project_published": Action("Publish a project", "published a project", "🚀"),
    "comment_posted": Action("Comment on someone's work", "commented", "💬"),
    "feedback_given": Action("Give feedback on a project", "given feedback", "🤝"),
    "reaction_given": Action("Cheer someone in the community feed", "cheered anyone", "👏", "/community"),
    "battle_participated": Action("Join a battle", "joined a battle", "⚔️"),
    "event_attended": Action("Attend a live event", "attended an event", "📅"),
    "scavenger_hunt_completed": Action("Try a scavenger hunt", "done a scavenger hunt", "🔎"),
    "weekly_challenge_completed": Action("Take on the weekly challenge", "done a weekly challenge", "🏆"),
    "profile_completed": Action("Complete your profile", "completed your profile", "🪪", "/settings"),
}


@dataclass(frozen=True)
class Recommendation:
    """One suggested action.

    ``key`` is stable (``goal:<id>``, ``streak``, ``quest:<id>``, ``try:<activity type>``);
    ``reason`` is ``"goal"``, ``"streak"``, ``"quest"`` or ``"lately"``; ``activity_type``
    is set for single-activity suggestions; ``link`` may be None (the action
    happens on the learning platform).
    """

    key: str
    title: str
    detail: str
    icon: str
    reason: str
    link: str | None = None
    activity_type: str | None = None


@dataclass(frozen=True)
class _Usage:
    last_date: date | None
    today: int
    this_week: int
    ever: int


#: Instants this far back cover the whole current platform week and local day in any time zone.
_RECENT_SPAN = timedelta(days=9)


def _usage_by_type(learner_id: int, today: date, week: str, now: datetime, registry) -> dict[str, _Usage]:
    """Per activity type: last local date done, uncapped counts today / this week / ever.

    Three narrow queries instead of one pass over the whole ledger, so heavy
    learners stay fast: the last date per type reads only the
    ``(learner_id, activity_type, local_date)`` index (a capped entry still
    counts as done); today/week counts read the last few days by
    ``occurred_at``; "ever" counts only types that have a ``max_ever`` cap.
    """
    last = dict(db.session.execute(
        select(LedgerEntry.activity_type, func.max(LedgerEntry.local_date))
        .where(LedgerEntry.learner_id == learner_id)
        .group_by(LedgerEntry.activity_type)
    ).all())
    recent = {r[0]: (int(r[1] or 0), int(r[2] or 0)) for r in db.session.execute(
        select(LedgerEntry.activity_type,
               func.sum(case((LedgerEntry.local_date == today, 1), else_=0)),
               func.sum(case((LedgerEntry.week == week, 1), else_=0)))
        .where(LedgerEntry.learner_id == learner_id, LedgerEntry.occurred_at >= now - _RECENT_SPAN,
               LedgerEntry.capped.is_(False))
        .group_by(LedgerEntry.activity_type)
    ).all()}
    ever_types = [t for t in ACTIONS if t in registry.rules and registry.rules[t].max_ever is not None]
    ever = dict(db.session.execute(
        select(LedgerEntry.activity_type, func.count(LedgerEntry.id))
        .where(LedgerEntry.learner_id == learner_id, LedgerEntry.activity_type.in_(ever_types),
               LedgerEntry.capped.is_(False))
        .group_by(LedgerEntry.activity_type)
    ).all()) if ever_types else {}
    return {t: _Usage(last.get(t), *recent.get(t, (0, 0)), int(ever.get(t, 0))) for t in set(last) | set(recent)}


def _recent_categories(learner_id: int, since: date, now: datetime) -> set[str]:
    """Categories in which the learner earned points on or after local date ``since`` (read by recent instants)."""
    return set(db.session.scalars(
        select(LedgerEntry.category).distinct()
        .where(LedgerEntry.learner_id == learner_id,
               LedgerEntry.occurred_at >= now - timedelta(days=RECENT_DAYS) - _RECENT_SPAN,
               LedgerEntry.local_date >= since, LedgerEntry.points > 0, LedgerEntry.category.is_not(None))
    ))


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
    if rule.max_ever is not None and u.ever >= rule.max_ever:
        return False
    return True


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


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
        reward = f"Worth +{goal.reward:,} points."
        if goal.kind == "streak_days":
            remaining = max(goal.target - streak_now, 0)
            if remaining == 0:
                continue
            when = "Come back tomorrow" if active_today else "Do any activity today"
            out.append(Recommendation(
                key=f"goal:{goal.id}", title=f"{goal.title}",
                detail=f"{when}: {_plural(remaining, 'more day')} to go. {reward}", icon="🔥", reason="goal"))
            continue
        remaining = max(goal.target - goal.progress, 0)
        if remaining == 0:
            continue
        types = [t for t in (goal.activity_types or []) if _available(t, usage, registry)]
        if goal.kind == "new_quiz_topics":
            detail = f"Complete a quiz on a topic you have not tried before: {remaining} to go. {reward}"
            icon, link, activity = "🧭", None, "quiz_completed"
        elif types:
            # Prefer what the learner has not done for the longest time.
            types.sort(key=lambda t: (usage[t].last_date if t in usage else date.min, t))
            first = ACTIONS[types[0]]
            others = len(types) - 1
            noun = "activity" if others == 1 else "activities"
            hint = first.title + (f" (or one of {others} other {noun} that count)" if others else "")
            detail = f"{remaining} more to go — {hint}. {reward}"
            icon, link, activity = first.icon, first.link, types[0]
        else:
            detail = f"{remaining} more to go. {reward}"
            icon, link, activity = "🎯", None, None
        out.append(Recommendation(key=f"goal:{goal.id}", title=f"Finish “{goal.title}”", detail=detail, icon=icon,
                                  reason="goal", link=link, activity_type=activity))
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
            key=f"quest:{card.quest.id}", title=f"Finish the side quest “{card.quest.title}”",
            detail=f"{left} more to go. Worth +{card.quest.reward:,} points.", icon="🗺️", reason="quest",
            link="/quests", activity_type=card.quest.activity_type)]
    if board.available:
        card = board.available[0]
        return [Recommendation(
            key=f"quest:{card.quest.id}", title=f"Start the side quest “{card.quest.title}”",
            detail=card.quest.description or f"Worth +{card.quest.reward:,} points.", icon="🗺️", reason="quest",
            link="/quests")]
    return []


def recommend(learner, now: datetime | None = None) -> list[Recommendation]:
    """Recommended actions for ``learner`` (a :class:`~thrive.models.Learner`) at ``now`` (UTC instant).

    Returns at most a handful of :class:`Recommendation`: unfinished weekly
    goals of the current platform week first, then the streak reminder, then
    up to :data:`MAX_FRESH` actions the learner has not done lately (§7).
    """
    now = as_utc(now) if now else utcnow()
    registry = load_registry()
    today = local_date(now, learner.timezone)
    week = platform_week(now)
    usage = _usage_by_type(learner.id, today, week, now, registry)
    state = learner.state
    streak = effective_streak(state, today) if state is not None else None
    streak_now = streak.current if streak else 0
    active_today = state is not None and state.last_active_date == today

    goals = db.session.scalars(
        select(WeeklyGoal)
        .where(WeeklyGoal.learner_id == learner.id, WeeklyGoal.week == week, WeeklyGoal.completed_at.is_(None))
        .order_by(WeeklyGoal.id)
    ).all()
    result = _goal_recommendations(goals, usage, registry, streak_now, active_today)

    if streak_now >= 1 and not active_today:
        result.append(Recommendation(
            key="streak", title=f"Keep your {streak_now}-day streak alive",
            detail="Any activity today counts.", icon="🔥", reason="streak"))

    result += _quest_recommendations(learner, now)

    recent = _recent_categories(learner.id, today - timedelta(days=RECENT_DAYS - 1), now)
    suggested = {r.activity_type for r in result if r.activity_type}
    candidates = []
    for activity_type, action in ACTIONS.items():
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
    candidates.sort(key=lambda c: (-c[0], list(ACTIONS).index(c[1])))
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
        action = ACTIONS[activity_type]
        rule = registry.rules[activity_type]
        if days_since is None:
            why = f"You haven't {action.done} yet."
        else:
            why = f"You haven't {action.done} for {_plural(days_since, 'day')}."
        if quiet_category and rule.category:
            why += f" No {rule.category} points in the last {RECENT_DAYS} days."
        result.append(Recommendation(key=f"try:{activity_type}", title=action.title, detail=why, icon=action.icon,
                                     reason="lately", link=action.link, activity_type=activity_type))
    return result
